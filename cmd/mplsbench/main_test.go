// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlags checks that bad flags are refused before anything is measured.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sizes", "64,x"}, "not a number"},
		{[]string{"--reps", "-1"}, "must not be negative"},
		{[]string{"--sizes", "32"}, "want 64 to 1518"},
		{[]string{"--zero-loss", "50"}, "at most 20"},
		{[]string{"--scenarios", "nope"}, "nope"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		var out, errOut bytes.Buffer
		err := run(tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// TestUsage lists the scenarios and the report flag.
func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"--help"}, &out, &errOut); err == nil {
		t.Fatal("--help did not return flag.ErrHelp")
	}
	for _, s := range []string{"pe-push-1m", "-report", "-zero-loss"} {
		if !strings.Contains(errOut.String(), s) {
			t.Errorf("usage lacks %q:\n%s", s, errOut.String())
		}
	}
}

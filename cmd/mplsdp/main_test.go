// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("router-id: 198.51.100.1\nttl-mode: sideways\ninterfaces:\n  - {name: core0, role: core, mtu: 9}\nvrfs:\n  - {name: a, rd: 1:1, label: 5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"examples are valid", []string{"-check", "-config", "../../examples/pe1.yaml"}, 0, []string{"configuration is valid"}},
		{"every error with its line", []string{"-check", "-config", bad}, 1, []string{"bad.yaml:2", "ttl-mode", "bad.yaml:4", "mtu", "bad.yaml:6", "label"}},
		{"missing file", []string{"-check", "-config", filepath.Join(dir, "nope.yaml")}, 1, []string{"nope.yaml"}},
		{"bad flag", []string{"-frobnicate"}, 2, []string{"flag provided but not defined"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			all := out.String() + errb.String()
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

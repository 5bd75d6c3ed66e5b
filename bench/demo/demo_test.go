// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mplsdp/mplsdp/bench/topo"
)

// TestDemo is `make demo` inside `make test`: it builds mplsdp and mplsctl, runs three
// daemons from the example configurations on the reference network, and requires a
// report without problems.
func TestDemo(t *testing.T) {
	if ok, why := topo.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: builds binaries and runs three daemons")
	}
	bin := t.TempDir()
	for _, c := range []string{"mplsdp", "mplsctl"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, c), "../../cmd/"+c).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	var out bytes.Buffer
	err := run(options{mplsdp: filepath.Join(bin, "mplsdp"), mplsctl: filepath.Join(bin, "mplsctl"), examples: "../../examples"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A reaches A, B reaches B, A never reaches B.", "IP TTL at site 2 is 62", "3 dropped and counted by PE1 as label_spoof", "16002",
		"pings still answered: 3/3", "adopted the pinned program and maps; pings answered: 3/3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat("/run/mplsdp/pe1.sock"); err == nil {
		t.Error("PE1's API socket outlived the demo")
	}
}

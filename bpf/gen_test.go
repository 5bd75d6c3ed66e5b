// SPDX-License-Identifier: Apache-2.0

package bpf

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate fails when the C sources changed after the committed bpf2go
// output was generated (make generate records their hashes), so CI never tests a stale
// program, even on a machine without clang.
func TestGeneratedUpToDate(t *testing.T) {
	f, err := os.Open("sources.sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recorded := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line %q in sources.sha256", sc.Text())
		}
		recorded[name] = sum
	}
	names, _ := filepath.Glob("include/*.h")
	cs, _ := filepath.Glob("*.c")
	names = append(names, cs...)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); recorded[n] != got {
			t.Errorf("%s changed since the bpf2go output was generated: run make generate and commit its output", n)
		}
		delete(recorded, n)
	}
	for n := range recorded {
		t.Errorf("%s is recorded in sources.sha256 but no longer exists: run make generate", n)
	}
}

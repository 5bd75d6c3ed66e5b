// SPDX-License-Identifier: Apache-2.0

package bpf

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"
)

// TestVerifierAccepts loads both programs into the kernel: the verifier's verdict is
// the test. Skips without root or BPF.
func TestVerifierAccepts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: loading BPF programs needs root")
	}
	for name, load := range map[string]func() (*ebpf.CollectionSpec, error){"mplsdp": LoadMplsdp, "xsk": LoadXsk} {
		t.Run(name, func(t *testing.T) {
			spec, err := load()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range spec.Maps {
				m.Pinning = ebpf.PinNone
			}
			coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
			var ve *ebpf.VerifierError
			if errors.As(err, &ve) {
				t.Fatalf("verifier: %+v", ve)
			}
			if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, os.ErrPermission) {
				t.Skipf("skipped: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer coll.Close()
			for pn, p := range coll.Programs {
				t.Logf("%s: %s", pn, lastLine(p.VerifierLog))
			}
		})
	}
}

func lastLine(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

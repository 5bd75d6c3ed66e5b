// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"strings"
	"testing"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// TestSlotReuse: with 5 label slots and 4 labels, replacing every entry, round after
// round, keeps working (a replacement needs one spare slot; quarantined slots come back
// after a grace period when the free ones run out), a fifth label fits, a sixth is
// refused with a clear error.
func TestSlotReuse(t *testing.T) {
	e := load(t, Options{TestMode: true, MaxLabels: 5})
	cfg := &dataplane.Config{}
	cfg.Ports[1] = dataplane.Port{Name: "core0", Role: dataplane.RoleCore, MTU: 1500}
	lf := lfib.New()
	r := dataplane.NewRouter(lf, vrf.New(), cfg)
	entry := func(out lfib.Label) lfib.Entry {
		return lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 1}, Labels: [lfib.MaxPush]lfib.Label{out}, NLabels: 1}}}
	}
	for l := lfib.Label(100); l < 104; l++ {
		if err := lf.Set(l, entry(l+1000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Sync(r); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		for l := lfib.Label(100); l < 104; l++ {
			if err := lf.Set(l, entry(l+2000+lfib.Label(round))); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Sync(r); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for l := uint32(100); l < 104; l++ {
			e, ok := e.tables.labels.have[l]
			if !ok || e.val.Paths[0].Labels[0] != l+2000+uint32(round) {
				t.Fatalf("round %d: label %d holds %+v", round, l, e)
			}
		}
	}
	if err := lf.Set(104, entry(5000)); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(r); err != nil {
		t.Fatalf("a fifth label in 5 slots: %v", err)
	}
	if err := lf.Set(105, entry(6000)); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(r); err == nil || !strings.Contains(err.Error(), "slots in use") {
		t.Errorf("a sixth label in 5 slots: %v", err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bpf"
	"github.com/mplsdp/mplsdp/dataplane/vectors"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// TestMapsOnly: an engine loaded for a classifier syncs ports, bindings and the
// infrastructure ACL, leaves the forwarding tables empty and refuses to attach.
func TestMapsOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: loading BPF programs needs root")
	}
	e, err := xdp.Load(xdp.Options{MapsOnly: true})
	if err != nil {
		t.Skipf("skipped: cannot load the XDP program here: %v", err)
	}
	defer e.Close()
	f, err := vectors.Load("../../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Fixture.Router()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(r); err != nil {
		t.Fatal(err)
	}
	count := func(name string) int {
		m := e.Maps()[name]
		if m.Type() == ebpf.Array {
			// Arrays hold every key; an element of zeros is an empty one. Read them in
			// batches: one syscall per element would take seconds for a million.
			var n int
			var cursor ebpf.MapBatchCursor
			keys := make([]uint32, 4096)
			var vals any
			nonzero := func(i int) bool { return vals.([]uint64)[i] != 0 }
			switch m.ValueSize() {
			case 4:
				vals = make([]uint32, len(keys))
				nonzero = func(i int) bool { return vals.([]uint32)[i] != 0 }
			case 8:
				vals = make([]uint64, len(keys))
			default:
				t.Fatalf("map %s: value size %d", name, m.ValueSize())
			}
			for {
				got, err := m.BatchLookup(&cursor, keys, vals, nil)
				for i := range got {
					if nonzero(i) {
						n++
					}
				}
				if err != nil {
					if !errors.Is(err, ebpf.ErrKeyNotExist) {
						t.Fatal(err)
					}
					return n
				}
			}
		}
		var n int
		k, v := make([]byte, m.KeySize()), make([]byte, m.ValueSize())
		for it := m.Iterate(); it.Next(&k, &v); {
			n++
		}
		return n
	}
	for name, wantSome := range map[string]bool{
		bpf.MplsdpMapPorts: true, bpf.MplsdpMapBindings: true, bpf.MplsdpMapInfra4: true, bpf.MplsdpMapInfra6: true,
		bpf.MplsdpMapLabelIndex: false, bpf.MplsdpMapTunnelIndex: false, bpf.MplsdpMapRoutes4: false, bpf.MplsdpMapRoutes6: false,
	} {
		if n := count(name); (n > 0) != wantSome {
			t.Errorf("map %s holds %d entries; want some: %v", name, n, wantSome)
		}
	}
	if err := e.Attach(1); err == nil {
		t.Error("a MapsOnly engine attached its forwarding program")
	}
}

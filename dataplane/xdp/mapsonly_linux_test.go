// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"os"
	"testing"

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
		var n int
		var k, v []byte
		m := e.Maps()[name]
		k, v = make([]byte, m.KeySize()), make([]byte, m.ValueSize())
		for it := m.Iterate(); it.Next(&k, &v); {
			n++
		}
		return n
	}
	for name, wantSome := range map[string]bool{
		bpf.MplsdpMapPorts: true, bpf.MplsdpMapBindings: true, bpf.MplsdpMapInfra4: true, bpf.MplsdpMapInfra6: true,
		bpf.MplsdpMapLabels: false, bpf.MplsdpMapTunnels: false, bpf.MplsdpMapRoutes4: false, bpf.MplsdpMapRoutes6: false,
	} {
		if n := count(name); (n > 0) != wantSome {
			t.Errorf("map %s holds %d entries; want some: %v", name, n, wantSome)
		}
	}
	if err := e.Attach(1); err == nil {
		t.Error("a MapsOnly engine attached its forwarding program")
	}
}

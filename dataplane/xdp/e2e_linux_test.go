// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/vpnlab"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// start runs r on the XDP engine in n for the test, or skips it where XDP cannot load.
func start(t *testing.T, n *topo.Node, r *dataplane.Router) *xdp.Engine {
	e, err := vpnlab.StartXDP(n, r)
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, os.ErrPermission) {
		t.Skipf("skipped: cannot load the XDP program here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestEndToEnd runs the reference VPN network (bench/vpnlab) with all three routers on
// the XDP engine: real frames cross PE1, P and PE2 in the kernel.
func TestEndToEnd(t *testing.T) {
	if ok, why := topo.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	lab, err := vpnlab.Build(topo.New(t))
	if err != nil {
		t.Fatal(err)
	}
	e1 := start(t, lab.PE1, lab.PE1Router)
	eP := start(t, lab.P, lab.PRouter)
	e2 := start(t, lab.PE2, lab.PE2Router)
	rep, err := lab.Check(e1.Stats, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if err := rep.Problems(); err != nil {
		t.Error(err)
	}
	// Every router forwarded in XDP: P swapped and popped, both PEs pushed and popped.
	for name, e := range map[string]*xdp.Engine{"pe1": e1, "p": eP, "pe2": e2} {
		s, err := e.Stats()
		if err != nil {
			t.Fatal(err)
		}
		var tx uint64
		for _, ps := range s.Ports {
			tx += ps.TxPackets
		}
		if tx == 0 {
			t.Errorf("%s forwarded nothing in XDP", name)
		}
	}
}

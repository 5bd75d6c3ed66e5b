// SPDX-License-Identifier: Apache-2.0

package afxdp_test

import (
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/vpnlab"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/afxdp"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// startXDP runs r on the XDP engine in n for the test, or skips it where XDP cannot load.
func startXDP(t *testing.T, n *topo.Node, r *dataplane.Router) *xdp.Engine {
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

// TestEndToEnd runs the reference VPN network (bench/vpnlab) with PE1 on the AF_XDP
// engine and P and PE2 on the XDP engine: the same checks as the XDP engine's.
func TestEndToEnd(t *testing.T) {
	if ok, why := topo.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	lab, err := vpnlab.Build(topo.New(t))
	if err != nil {
		t.Fatal(err)
	}
	var e *afxdp.Engine
	err = lab.PE1.Do(func() error {
		var err error
		e, err = afxdp.Start(lab.PE1Router, afxdp.Options{})
		return err
	})
	if errors.Is(err, os.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) {
		t.Skipf("skipped: cannot start the AF_XDP engine here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	startXDP(t, lab.P, lab.PRouter)
	startXDP(t, lab.PE2, lab.PE2Router)

	rep, err := lab.Check(e.Stats, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if err := rep.Problems(); err != nil {
		t.Error(err)
	}
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// PE1's forwarding happened in userspace: its workers counted the frames they sent.
	if w := lab.PE1Router.Stats(); w.Ports[vpnlab.PortCore].TxPackets == 0 || w.Ports[vpnlab.PortA].TxPackets == 0 {
		t.Errorf("PE1's workers forwarded nothing: core tx %d, customer A tx %d", w.Ports[vpnlab.PortCore].TxPackets, w.Ports[vpnlab.PortA].TxPackets)
	}
	es, err := e.EngineStats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engine: %+v; PE1 core port: %+v", es, s.Ports[vpnlab.PortCore])
}

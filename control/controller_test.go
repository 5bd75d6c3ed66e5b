// SPDX-License-Identifier: Apache-2.0

package control

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// fakeKernel is a Resolver over fixed tables.
type fakeKernel struct {
	links map[string]int
	neigh map[netip.Addr]net.HardwareAddr
}

func (k *fakeKernel) Link(name string) (int, net.HardwareAddr, int, error) {
	i, ok := k.links[name]
	if !ok {
		return 0, nil, 0, fmt.Errorf("no such interface")
	}
	return i, net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}, 1500, nil
}

func (k *fakeKernel) Neighbor(_ string, ip netip.Addr) (net.HardwareAddr, error) {
	m, ok := k.neigh[ip]
	if !ok {
		return nil, errors.New("not in the neighbour table")
	}
	return m, nil
}

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
	mac1 = net.HardwareAddr{2, 0xa, 0, 0, 0, 1}
	mac2 = net.HardwareAddr{2, 0xa, 0, 0, 0, 2}
)

func kernel() *fakeKernel {
	return &fakeKernel{
		links: map[string]int{"core0": 10, "ce-a": 11, "trunk0": 12},
		neigh: map[netip.Addr]net.HardwareAddr{addr("198.51.100.9"): mac1, addr("192.0.2.2"): mac2},
	}
}

func peConfig() *Config {
	return &Config{
		RouterID: addr("198.51.100.1"),
		TTLMode:  dataplane.TTLPipe,
		Interfaces: []Interface{
			{Name: "core0", Role: dataplane.RoleCore},
			{Name: "ce-a", Role: dataplane.RoleCE, VRF: "a", Peers: []netip.Addr{addr("192.0.2.2")}},
			{Name: "trunk0", Role: dataplane.RoleCE, VLANs: map[uint16]string{100: "a", 200: "b"}},
		},
		VRFs: []VRF{
			{Name: "a", Label: 1000, Routes: []Route{
				{Prefix: pfx("192.0.2.0/25"), Via: addr("192.0.2.2"), Interface: "ce-a"},
				{Prefix: pfx("192.0.2.128/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2000},
			}},
			{Name: "b", Routes: []Route{
				{Prefix: pfx("192.0.2.0/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2001},
			}},
		},
		LSPs: []LSP{
			{FEC: pfx("203.0.113.2/32"), Push: []lfib.Label{3001}, Via: addr("198.51.100.9"), Interface: "core0"},
			{InLabel: 3001, Swap: []lfib.Label{3002}, Via: addr("198.51.100.9"), Interface: "core0"},
			{InLabel: 3002, Pop: true, Via: addr("198.51.100.9"), Interface: "core0"},
		},
		CorePrefixes: []netip.Prefix{pfx("198.51.100.0/24")},
	}
}

func labels(c *Controller) map[lfib.Label]lfib.Entry {
	m := map[lfib.Label]lfib.Entry{}
	c.Router().LFIB.Walk(func(l lfib.Label, e lfib.Entry) bool { m[l] = e; return true })
	return m
}

func TestApply(t *testing.T) {
	c := New(kernel())
	if err := c.Apply(peConfig()); err != nil {
		t.Fatal(err)
	}
	if u := c.Unresolved(); len(u) != 0 {
		t.Errorf("unresolved: %v", u)
	}
	snap := c.Router().VRFs.Load()
	a, _ := snap.VRFByName("a")
	b, _ := snap.VRFByName("b")
	ls := labels(c)
	if e := ls[1000]; e.Op != lfib.OpPopToVRF || e.VRF != uint32(a.ID) {
		t.Errorf("VRF a's label 1000: %+v", e)
	}
	var bLabel lfib.Label
	for l, e := range ls {
		if e.Op == lfib.OpPopToVRF && e.VRF == uint32(b.ID) {
			bLabel = l
		}
	}
	if !bLabel.Dynamic() {
		t.Errorf("VRF b got label %d, want one from the dynamic range", bLabel)
	}
	if e := ls[3001]; e.Op != lfib.OpSwap || e.Paths[0].Labels[0] != 3002 || e.Paths[0].Dst != lfib.MAC(mac1) {
		t.Errorf("swap 3001: %+v", e)
	}
	if e := ls[3002]; e.Op != lfib.OpPop {
		t.Errorf("pop 3002: %+v", e)
	}
	core, _ := c.PortID("core0")
	ceA, _ := c.PortID("ce-a")
	trunk, _ := c.PortID("trunk0")
	cfg := c.Router().Config()
	if p := cfg.Ports[core]; p.Role != dataplane.RoleCore || p.Ifindex != 10 || p.MTU != 1500 {
		t.Errorf("core0 port: %+v", p)
	}
	if id, ok := snap.ByBinding(trunk, 200); !ok || id != b.ID {
		t.Errorf("trunk0 VLAN 200 bound to %d, %v", id, ok)
	}
	if !snap.IsPeer(ceA, 0, addr("192.0.2.2")) {
		t.Error("CE peer not on the binding")
	}
	// Overlapping customers: the same prefix, different next hops.
	na, _ := snap.Lookup4(a.ID, [4]byte{192, 0, 2, 5})
	nb, _ := snap.Lookup4(b.ID, [4]byte{192, 0, 2, 5})
	if na.Remote() || na.Local.Port != ceA || !nb.Remote() || nb.VPNLabel != 2001 {
		t.Errorf("192.0.2.5: VRF a %v, VRF b %v", na, nb)
	}
	if !c.Router().Config().Infra.Lookup(addr("198.51.100.1")) {
		t.Error("router id not in the infrastructure ACL")
	}
}

func TestReloadAndAPIOwnership(t *testing.T) {
	k := kernel()
	c := New(k)
	if err := c.Apply(peConfig()); err != nil {
		t.Fatal(err)
	}
	coreBefore, _ := c.PortID("core0")
	trunkBefore, _ := c.PortID("trunk0")
	if err := c.AddRoutes([]RouteWithVRF{{VRF: "a", Route: Route{Prefix: pfx("203.0.113.128/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2002}}}); err != nil {
		t.Fatal(err)
	}

	// Reload: VRF b goes, ce-a goes, a route changes, label 3002 goes.
	cfg := peConfig()
	cfg.VRFs = cfg.VRFs[:1]
	cfg.VRFs[0].Routes = cfg.VRFs[0].Routes[1:]
	cfg.Interfaces = []Interface{cfg.Interfaces[0], {Name: "trunk0", Role: dataplane.RoleCE, VLANs: map[uint16]string{100: "a"}}}
	cfg.LSPs = cfg.LSPs[:2]
	if err := c.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	snap := c.Router().VRFs.Load()
	if _, ok := snap.VRFByName("b"); ok {
		t.Error("VRF b survived the reload")
	}
	a, _ := snap.VRFByName("a")
	if _, ok := snap.Route(a.ID, pfx("192.0.2.0/25")); ok {
		t.Error("a route removed from the configuration is still installed")
	}
	if nh, ok := snap.Route(a.ID, pfx("203.0.113.128/25")); !ok || nh.VPNLabel != 2002 {
		t.Error("the API's route did not survive the reload")
	}
	ls := labels(c)
	if _, ok := ls[3002]; ok {
		t.Error("label 3002 survived")
	}
	for l, e := range ls {
		if e.Op == lfib.OpPopToVRF && e.VRF != uint32(a.ID) {
			t.Errorf("label %d still points at a deleted VRF", l)
		}
	}
	if id, _ := c.PortID("core0"); id != coreBefore {
		t.Errorf("core0 moved from port %d to %d", coreBefore, id)
	}
	if id, _ := c.PortID("trunk0"); id != trunkBefore {
		t.Errorf("trunk0 moved from port %d to %d", trunkBefore, id)
	}
	if _, ok := c.PortID("ce-a"); ok {
		t.Error("ce-a still has a port")
	}

	// The API can only delete its own routes.
	if err := c.DeleteRoutes([]RouteKey{{"a", pfx("192.0.2.128/25")}}); err == nil {
		t.Error("the API deleted a configured route")
	}
	if err := c.DeleteRoutes([]RouteKey{{"a", pfx("203.0.113.128/25")}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Router().VRFs.Load().Route(a.ID, pfx("203.0.113.128/25")); ok {
		t.Error("deleted API route still installed")
	}
}

func TestUnresolvedNextHops(t *testing.T) {
	k := kernel()
	delete(k.neigh, addr("192.0.2.2"))
	c := New(k)
	if err := c.Apply(peConfig()); err != nil {
		t.Fatal(err)
	}
	u := strings.Join(c.Unresolved(), "; ")
	if !strings.Contains(u, "192.0.2.2") {
		t.Errorf("unresolved = %q, want the CE next hop", u)
	}
	a, _ := c.Router().VRFs.Load().VRFByName("a")
	if _, ok := c.Router().VRFs.Load().Route(a.ID, pfx("192.0.2.0/25")); ok {
		t.Error("a route without a next-hop MAC was installed")
	}
	k.neigh[addr("192.0.2.2")] = mac2
	if err := c.Apply(c.Config()); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Router().VRFs.Load().Route(a.ID, pfx("192.0.2.0/25")); !ok {
		t.Error("the route did not appear once its next hop resolved")
	}
}

func TestRouteLimitRefused(t *testing.T) {
	c := New(kernel())
	cfg := peConfig()
	cfg.VRFs[0].MaxRoutes = 2
	if err := c.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	err := c.AddRoutes([]RouteWithVRF{{VRF: "a", Route: Route{Prefix: pfx("203.0.113.0/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2003}}})
	if !errors.Is(err, vrf.ErrRouteLimit) {
		t.Fatalf("over max-routes: %v", err)
	}
	if len(c.APIRoutes()) != 0 {
		t.Error("a refused route is remembered")
	}
	a, _ := c.Router().VRFs.Load().VRFByName("a")
	if n4, _ := c.Router().VRFs.Load().RouteCount(a.ID); n4 != 2 {
		t.Errorf("VRF a has %d routes after the refusal, want 2", n4)
	}
	if err := c.AddRoutes([]RouteWithVRF{{VRF: "nope", Route: Route{Prefix: pfx("203.0.113.0/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2003}}}); err == nil {
		t.Error("route into an unknown VRF accepted")
	}
}

func TestSubscribe(t *testing.T) {
	c := New(kernel())
	ch, stop := c.Subscribe(4)
	defer stop()
	if err := c.Apply(peConfig()); err != nil {
		t.Fatal(err)
	}
	if err := c.AddRoutes([]RouteWithVRF{{VRF: "a", Route: Route{Prefix: pfx("203.0.113.128/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2002}}}); err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Generation != 1 || ev.Owner != OwnerConfig {
		t.Errorf("first event %+v", ev)
	}
	if ev := <-ch; ev.Generation != 2 || ev.Owner != OwnerAPI {
		t.Errorf("second event %+v", ev)
	}
	// A refused change sends nothing.
	if err := c.AddRoutes([]RouteWithVRF{{VRF: "zz"}}); err == nil {
		t.Fatal("bad route accepted")
	}
	select {
	case ev := <-ch:
		t.Errorf("event after a refused change: %+v", ev)
	default:
	}
}

func TestAPILSPs(t *testing.T) {
	c := New(kernel())
	if err := c.Apply(peConfig()); err != nil {
		t.Fatal(err)
	}
	good := LSP{InLabel: 5000, Swap: []lfib.Label{5001, 5002}, Via: addr("198.51.100.9"), Interface: "core0"}
	for _, bad := range []LSP{
		{InLabel: 3001, Swap: []lfib.Label{7}, Via: addr("198.51.100.9"), Interface: "core0"},  // configured in-label
		{InLabel: 1000, Pop: true, Via: addr("198.51.100.9"), Interface: "core0"},              // VRF a's label
		{InLabel: 15, Pop: true, Via: addr("198.51.100.9"), Interface: "core0"},                // reserved
		{InLabel: 5001, Pop: true, Swap: []lfib.Label{9}, Interface: "core0"},                  // both
		{InLabel: 5001, Swap: []lfib.Label{3}, Via: addr("198.51.100.9"), Interface: "core0"},  // implicit null out
		{InLabel: 5001, FEC: pfx("203.0.113.9/32"), Push: []lfib.Label{9}, Interface: "core0"}, // a push
	} {
		if err := c.AddLSPs([]LSP{good, bad}); err == nil {
			t.Errorf("AddLSPs accepted %+v", bad)
		}
	}
	if _, ok := labels(c)[5000]; ok {
		t.Fatal("a refused batch installed its good entry")
	}
	if err := c.AddLSPs([]LSP{good}); err != nil {
		t.Fatal(err)
	}
	if e := labels(c)[5000]; e.Op != lfib.OpSwap || len(e.Paths) != 1 || e.Paths[0].NLabels != 2 {
		t.Errorf("label 5000: %+v", e)
	}
	if err := c.Apply(c.Config()); err != nil { // a reload keeps it
		t.Fatal(err)
	}
	if _, ok := labels(c)[5000]; !ok {
		t.Error("a reload removed the API's label")
	}
	if err := c.DeleteLSPs([]lfib.Label{3001}); err == nil {
		t.Error("the API deleted a configured label")
	}
	if err := c.DeleteLSPs([]lfib.Label{5000}); err != nil {
		t.Fatal(err)
	}
	if _, ok := labels(c)[5000]; ok {
		t.Error("label 5000 still installed")
	}
}

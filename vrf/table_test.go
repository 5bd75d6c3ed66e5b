// SPDX-License-Identifier: Apache-2.0

package vrf

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mplsdp/mplsdp/lfib"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func local(port uint16) NextHop {
	return NextHop{Local: lfib.NextHop{Port: port, Dst: lfib.MAC{2, 0, 0, 0, 0, byte(port)}}}
}

func remote(tunnel uint32, label lfib.Label) NextHop {
	return NextHop{Tunnel: tunnel, VPNLabel: label}
}

// mustUpdate runs an Update that must succeed.
func mustUpdate(t testing.TB, tb *Table, fn func(tx *Txn) error) {
	t.Helper()
	if err := tb.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// setup makes a table with VRFs red (id 1) and blue (id 2).
func setup(t testing.TB) *Table {
	tb := New()
	mustUpdate(t, tb, func(tx *Txn) error {
		for _, name := range []string{"red", "blue"} {
			if _, err := tx.AddVRF(Config{Name: name}); err != nil {
				return err
			}
		}
		return nil
	})
	return tb
}

func TestGlobal(t *testing.T) {
	s := New().Load()
	c, ok := s.VRF(Global)
	if !ok || c.Name != GlobalName || c.ID != Global {
		t.Fatalf("VRF(Global) = %+v, %v", c, ok)
	}
	if c, ok := s.VRFByName("global"); !ok || c.ID != Global {
		t.Fatalf("VRFByName(global) = %+v, %v", c, ok)
	}
	if got := s.VRFs(); len(got) != 1 {
		t.Fatalf("VRFs() = %+v", got)
	}
}

func TestAddDeleteVRF(t *testing.T) {
	tb := setup(t)
	tests := []struct {
		name    string
		fn      func(tx *Txn) error
		errHas  string // "" = success
		wantIDs []ID   // VRF ids afterwards
	}{
		{"empty name", func(tx *Txn) error { _, err := tx.AddVRF(Config{}); return err }, "empty name", []ID{0, 1, 2}},
		{"duplicate name", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "red"}); return err }, `"red": name already used`, []ID{0, 1, 2}},
		{"global name", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "global"}); return err }, "already used", []ID{0, 1, 2}},
		{"id taken", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "x", ID: 2}); return err }, `id 2 already used by VRF "blue"`, []ID{0, 1, 2}},
		{"id too big", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "x", ID: MaxVRFs}); return err }, "out of range", []ID{0, 1, 2}},
		{"negative max-routes", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "x", MaxRoutes: -1}); return err }, "negative", []ID{0, 1, 2}},
		{"explicit id", func(tx *Txn) error { _, err := tx.AddVRF(Config{Name: "x", ID: 4095}); return err }, "", []ID{0, 1, 2, 4095}},
		{"lowest free", func(tx *Txn) error {
			id, err := tx.AddVRF(Config{Name: "y"})
			if err == nil && id != 3 {
				return fmt.Errorf("got id %d, want 3", id)
			}
			return err
		}, "", []ID{0, 1, 2, 3, 4095}},
		{"delete global", func(tx *Txn) error { return tx.DeleteVRF("global") }, "cannot be deleted", []ID{0, 1, 2, 3, 4095}},
		{"delete unknown", func(tx *Txn) error { return tx.DeleteVRF("nope") }, `"nope": no such VRF`, []ID{0, 1, 2, 3, 4095}},
		{"delete", func(tx *Txn) error { return tx.DeleteVRF("red") }, "", []ID{0, 2, 3, 4095}},
		{"reuse freed id", func(tx *Txn) error {
			id, err := tx.AddVRF(Config{Name: "red2"})
			if err == nil && id != 1 {
				return fmt.Errorf("got id %d, want 1", id)
			}
			return err
		}, "", []ID{0, 1, 2, 3, 4095}},
		{"delete and re-add in one update", func(tx *Txn) error {
			if err := tx.DeleteVRF("x"); err != nil {
				return err
			}
			_, err := tx.AddVRF(Config{Name: "x", ID: 4095})
			return err
		}, "", []ID{0, 1, 2, 3, 4095}},
		{"second op fails: all rolled back", func(tx *Txn) error {
			if _, err := tx.AddVRF(Config{Name: "z"}); err != nil {
				return err
			}
			_, _ = tx.AddVRF(Config{Name: "z"}) // error ignored: Update still fails
			return nil
		}, "already used", []ID{0, 1, 2, 3, 4095}},
	}
	for _, tt := range tests {
		before := tb.Load()
		err := tb.Update(tt.fn)
		switch {
		case tt.errHas == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.errHas)
		case tt.errHas != "" && tb.Load() != before:
			t.Errorf("%s: failed update published a snapshot", tt.name)
		}
		var ids []ID
		for _, c := range tb.Load().VRFs() {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, tt.wantIDs) {
			t.Errorf("%s: ids %v, want %v", tt.name, ids, tt.wantIDs)
		}
	}
}

func TestVRFConfigIsCopied(t *testing.T) {
	tb := New()
	rt, _ := ParseRT("65000:1")
	rd, _ := ParseRD("65000:1")
	imp := []RT{rt}
	mustUpdate(t, tb, func(tx *Txn) error {
		_, err := tx.AddVRF(Config{Name: "red", RD: rd, Import: imp, Export: imp, MaxRoutes: 10})
		return err
	})
	imp[0] = 0
	c, _ := tb.Load().VRFByName("red")
	c.Export[0] = 0
	c, _ = tb.Load().VRF(c.ID)
	if c.Import[0] != rt || c.Export[0] != rt || c.RD != rd || c.MaxRoutes != 10 {
		t.Fatalf("config changed through a slice: %+v", c)
	}
	mustUpdate(t, tb, func(tx *Txn) error { return tx.SetVRF(Config{Name: "red", RD: rd, MaxRoutes: 20}) })
	if c, _ := tb.Load().VRFByName("red"); c.MaxRoutes != 20 || len(c.Import) != 0 || c.ID != 1 {
		t.Fatalf("after SetVRF: %+v", c)
	}
	for _, c := range []Config{{Name: "nope"}, {Name: "red", ID: 7}, {Name: "red", MaxRoutes: -1}} {
		if err := tb.Update(func(tx *Txn) error { return tx.SetVRF(c) }); err == nil {
			t.Errorf("SetVRF(%+v) succeeded", c)
		}
	}
}

func TestBind(t *testing.T) {
	tb := setup(t)
	tests := []struct {
		name   string
		fn     func(tx *Txn) error
		errHas string
	}{
		{"untagged", func(tx *Txn) error { return tx.Bind(Binding{Port: 1, VRF: 1, Peers: []netip.Addr{addr("192.0.2.1")}}) }, ""},
		{"vlan", func(tx *Txn) error {
			return tx.Bind(Binding{Port: 1, VLAN: 10, VRF: 2, Peers: []netip.Addr{addr("192.0.2.1"), addr("fe80::1%eth0")}})
		}, ""},
		{"vlan max", func(tx *Txn) error { return tx.Bind(Binding{Port: 255, VLAN: 4094, VRF: 0}) }, ""},
		{"twice", func(tx *Txn) error { return tx.Bind(Binding{Port: 1, VLAN: 10, VRF: 1}) }, `already bound to VRF "blue"`},
		{"no vrf", func(tx *Txn) error { return tx.Bind(Binding{Port: 2, VRF: 9}) }, "no such VRF"},
		{"port range", func(tx *Txn) error { return tx.Bind(Binding{Port: MaxPorts, VRF: 1}) }, "port out of range"},
		{"vlan range", func(tx *Txn) error { return tx.Bind(Binding{Port: 2, VLAN: 4095, VRF: 1}) }, "VLAN out of range"},
		{"too many peers", func(tx *Txn) error {
			return tx.Bind(Binding{Port: 2, VRF: 1, Peers: make([]netip.Addr, MaxPeers+1)})
		}, "at most 4"},
		{"invalid peer", func(tx *Txn) error { return tx.Bind(Binding{Port: 2, VRF: 1, Peers: []netip.Addr{{}}}) }, "not a valid address"},
		{"unbind unknown", func(tx *Txn) error { return tx.Unbind(3, 0) }, "not bound"},
		{"unbind out of range", func(tx *Txn) error { return tx.Unbind(60000, 60000) }, "not bound"},
	}
	for _, tt := range tests {
		err := tb.Update(tt.fn)
		if (tt.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errHas)
		}
	}
	s := tb.Load()
	lookups := []struct {
		port, vlan uint16
		id         ID
		ok         bool
	}{
		{1, 0, 1, true}, {1, 10, 2, true}, {255, 4094, 0, true},
		{1, 11, 0, false}, {2, 0, 0, false}, {2, 10, 0, false}, {256, 0, 0, false}, {1, 4095, 0, false}, {1, 65535, 0, false}, {65535, 65535, 0, false},
	}
	for _, l := range lookups {
		if id, ok := s.ByBinding(l.port, l.vlan); id != l.id || ok != l.ok {
			t.Errorf("ByBinding(%d, %d) = %d, %v; want %d, %v", l.port, l.vlan, id, ok, l.id, l.ok)
		}
	}
	peers := []struct {
		port, vlan uint16
		a          netip.Addr
		want       bool
	}{
		{1, 0, addr("192.0.2.1"), true}, {1, 0, addr("192.0.2.2"), false}, {1, 10, addr("fe80::1"), true},
		{1, 10, addr("192.0.2.1"), true}, {255, 4094, addr("192.0.2.1"), false}, {7, 0, addr("192.0.2.1"), false},
	}
	for _, p := range peers {
		if got := s.IsPeer(p.port, p.vlan, p.a); got != p.want {
			t.Errorf("IsPeer(%d, %d, %s) = %v", p.port, p.vlan, p.a, got)
		}
	}
	want := []Binding{
		{Port: 1, VRF: 1, Peers: []netip.Addr{addr("192.0.2.1")}},
		{Port: 1, VLAN: 10, VRF: 2, Peers: []netip.Addr{addr("192.0.2.1"), addr("fe80::1")}},
		{Port: 255, VLAN: 4094, VRF: 0, Peers: []netip.Addr{}},
	}
	if got := s.Bindings(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Bindings() = %v, want %v", got, want)
	}

	// Deleting a VRF removes its bindings; unbinding frees the slot.
	mustUpdate(t, tb, func(tx *Txn) error {
		if err := tx.DeleteVRF("blue"); err != nil {
			return err
		}
		return tx.Unbind(255, 4094)
	})
	s2 := tb.Load()
	if got := s2.Bindings(); len(got) != 1 || got[0].VRF != 1 {
		t.Errorf("after delete: Bindings() = %v", got)
	}
	if _, ok := s2.ByBinding(1, 10); ok {
		t.Error("binding of a deleted VRF still found")
	}
	if _, ok := s.ByBinding(1, 10); !ok {
		t.Error("the old snapshot changed")
	}
	if s2.ports[1].vlans != nil || s2.ports[255].vlans != nil {
		t.Error("empty VLAN arrays kept")
	}
}

func TestRoutes(t *testing.T) {
	tb := setup(t)
	tests := []struct {
		name   string
		fn     func(tx *Txn) error
		errHas string
	}{
		{"add", func(tx *Txn) error { return tx.AddRoute(1, pfx("192.0.2.0/24"), local(1)) }, ""},
		{"masked", func(tx *Txn) error { return tx.AddRoute(1, pfx("198.51.100.7/24"), remote(5, 1000)) }, ""},
		{"v6", func(tx *Txn) error { return tx.AddRoute(1, pfx("2001:db8::/32"), local(2)) }, ""},
		{"replace", func(tx *Txn) error { return tx.AddRoute(1, pfx("192.0.2.0/24"), local(3)) }, ""},
		{"unknown vrf", func(tx *Txn) error { return tx.AddRoute(9, pfx("192.0.2.0/24"), local(3)) }, "route 192.0.2.0/24 in VRF id 9: no such VRF"},
		{"invalid prefix", func(tx *Txn) error { return tx.AddRoute(1, netip.Prefix{}, local(3)) }, `in VRF "red": invalid prefix`},
		{"bad label", func(tx *Txn) error { return tx.AddRoute(1, pfx("10.0.0.0/8"), remote(1, 3)) }, "VPN label"},
		{"big label", func(tx *Txn) error { return tx.AddRoute(1, pfx("10.0.0.0/8"), remote(1, 1<<20)) }, "VPN label"},
		{"local with label", func(tx *Txn) error {
			nh := local(1)
			nh.VPNLabel = 100
			return tx.AddRoute(1, pfx("10.0.0.0/8"), nh)
		}, "takes no VPN label"},
		{"bad port", func(tx *Txn) error { return tx.AddRoute(1, pfx("10.0.0.0/8"), local(MaxPorts)) }, "port 256"},
		{"delete missing", func(tx *Txn) error { return tx.DeleteRoute(1, pfx("10.0.0.0/8")) }, `delete route 10.0.0.0/8 in VRF "red": no such route`},
		{"delete other vrf", func(tx *Txn) error { return tx.DeleteRoute(2, pfx("192.0.2.0/24")) }, "no such route"},
		{"delete unknown vrf", func(tx *Txn) error { return tx.DeleteRoute(7, pfx("192.0.2.0/24")) }, "no such VRF"},
		{"delete invalid", func(tx *Txn) error { return tx.DeleteRoute(1, netip.Prefix{}) }, "invalid prefix"},
		{"delete masked", func(tx *Txn) error { return tx.DeleteRoute(1, pfx("198.51.100.9/24")) }, ""},
	}
	for _, tt := range tests {
		err := tb.Update(tt.fn)
		if (tt.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errHas)
		}
	}
	s := tb.Load()
	if v4, v6 := s.RouteCount(1); v4 != 1 || v6 != 1 {
		t.Errorf("RouteCount = %d, %d", v4, v6)
	}
	if nh, ok := s.Lookup4(1, [4]byte{192, 0, 2, 9}); !ok || nh != local(3) {
		t.Errorf("Lookup4 = %v, %v", nh, ok)
	}
	if nh, ok := s.Route(1, pfx("192.0.2.1/24")); !ok || nh != local(3) {
		t.Errorf("Route = %v, %v", nh, ok)
	}
	var got []string
	for p, nh := range s.Routes(1) {
		got = append(got, p.String()+" "+nh.String())
	}
	want := []string{"192.0.2.0/24 port 3 dst 02:00:00:00:00:03", "2001:db8::/32 port 2 dst 02:00:00:00:00:02"}
	if !slices.Equal(got, want) {
		t.Errorf("Routes = %q, want %q", got, want)
	}
	for range s.Routes(99) {
		t.Error("routes of an unknown VRF")
	}
}

func TestOverlappingCustomers(t *testing.T) {
	tb := setup(t)
	p := pfx("192.0.2.0/24")
	p6 := pfx("2001:db8:1::/48")
	mustUpdate(t, tb, func(tx *Txn) error {
		return errors.Join(
			tx.AddRoute(1, p, local(1)), tx.AddRoute(2, p, remote(7, 2000)),
			tx.AddRoute(1, p6, local(1)), tx.AddRoute(2, p6, remote(7, 2000)),
		)
	})
	s := tb.Load()
	if nh, _ := s.Lookup4(1, [4]byte{192, 0, 2, 1}); nh != local(1) {
		t.Errorf("red: %v", nh)
	}
	if nh, _ := s.Lookup4(2, [4]byte{192, 0, 2, 1}); nh != remote(7, 2000) || !nh.Remote() {
		t.Errorf("blue: %v", nh)
	}
	if _, ok := s.Lookup4(Global, [4]byte{192, 0, 2, 1}); ok {
		t.Error("global sees a VPN route")
	}
	if nh, _ := s.Lookup6(2, addr("2001:db8:1::5").As16()); nh != remote(7, 2000) {
		t.Errorf("blue v6: %v", nh)
	}
	if nh, _ := s.Lookup6(1, addr("2001:db8:1::5").As16()); nh != local(1) {
		t.Errorf("red v6: %v", nh)
	}
	for _, id := range []ID{3, 4095, 4096, 1 << 31} {
		if _, ok := s.Lookup4(id, [4]byte{192, 0, 2, 1}); ok {
			t.Errorf("Lookup4 in unknown VRF %d", id)
		}
		if _, ok := s.Lookup6(id, [16]byte{}); ok {
			t.Errorf("Lookup6 in unknown VRF %d", id)
		}
	}
}

func TestMaxRoutes(t *testing.T) {
	tb := New()
	var red ID
	mustUpdate(t, tb, func(tx *Txn) error {
		var err error
		red, err = tx.AddVRF(Config{Name: "red", MaxRoutes: 3})
		return errors.Join(err,
			tx.AddRoute(red, pfx("10.0.0.0/8"), local(1)),
			tx.AddRoute(red, pfx("2001:db8::/32"), local(1)))
	})
	before := tb.Load()

	// Over the limit: the whole update is rolled back, the refusal counted.
	err := tb.Update(func(tx *Txn) error {
		if err := tx.AddRoute(red, pfx("10.1.0.0/16"), local(1)); err != nil { // third: fits
			return err
		}
		return tx.AddRoute(red, pfx("10.2.0.0/16"), local(1)) // fourth: refused
	})
	if !errors.Is(err, ErrRouteLimit) || !strings.Contains(err.Error(), `VRF "red"`) || !strings.Contains(err.Error(), "10.2.0.0/16") {
		t.Fatalf("error %v, want ErrRouteLimit naming the VRF and prefix", err)
	}
	if tb.Load() != before {
		t.Fatal("a failed update published a snapshot")
	}
	if v4, v6 := tb.Load().RouteCount(red); v4 != 1 || v6 != 1 {
		t.Fatalf("RouteCount = %d, %d after rollback", v4, v6)
	}
	if _, ok := tb.Load().Route(red, pfx("10.1.0.0/16")); ok {
		t.Fatal("route of the rolled back update visible")
	}
	if n := tb.Refused(red); n != 1 {
		t.Fatalf("Refused = %d, want 1", n)
	}

	// Each refused route is counted, even when fn carries on.
	err = tb.Update(func(tx *Txn) error {
		for i := range 5 {
			_ = tx.AddRoute(red, netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(i), 0, 0}), 16), local(1))
		}
		return nil
	})
	if !errors.Is(err, ErrRouteLimit) || tb.Refused(red) != 5 {
		t.Fatalf("err %v, Refused %d; want 5", err, tb.Refused(red))
	}

	// Replacing an existing route at the limit is not a new route.
	mustUpdate(t, tb, func(tx *Txn) error {
		return errors.Join(tx.AddRoute(red, pfx("172.16.0.0/12"), local(1)), tx.AddRoute(red, pfx("10.0.0.0/8"), local(2)))
	})
	// Delete then add in one update stays within the limit.
	mustUpdate(t, tb, func(tx *Txn) error {
		return errors.Join(tx.DeleteRoute(red, pfx("10.0.0.0/8")), tx.AddRoute(red, pfx("10.9.0.0/16"), local(2)))
	})
	if tb.Refused(red) != 5 || tb.Refused(Global) != 0 || tb.Refused(MaxVRFs) != 0 {
		t.Fatal("counter moved without a refusal")
	}

	// Deleting the VRF resets the counter; refusals of a VRF re-created in the same update count anew.
	mustUpdate(t, tb, func(tx *Txn) error { return tx.DeleteVRF("red") })
	if tb.Refused(red) != 0 {
		t.Fatalf("Refused = %d after delete", tb.Refused(red))
	}
	mustUpdate(t, tb, func(tx *Txn) error {
		_, _ = tx.AddVRF(Config{Name: "red", ID: red, MaxRoutes: 1})
		return tx.AddRoute(red, pfx("10.0.0.0/8"), local(1))
	})
	_ = tb.Update(func(tx *Txn) error { return tx.AddRoute(red, pfx("10.1.0.0/16"), local(1)) })
	if tb.Refused(red) != 1 {
		t.Fatalf("Refused = %d, want 1", tb.Refused(red))
	}
	_ = tb.Update(func(tx *Txn) error {
		if err := tx.DeleteVRF("red"); err != nil {
			return err
		}
		_, _ = tx.AddVRF(Config{Name: "red", ID: red, MaxRoutes: 1})
		_ = tx.AddRoute(red, pfx("10.0.0.0/8"), local(1))
		_ = tx.AddRoute(red, pfx("10.1.0.0/16"), local(1)) // refused in the new VRF
		_ = tx.AddRoute(red, pfx("10.2.0.0/16"), local(1)) // refused in the new VRF
		return nil
	})
	// That update failed, so the old VRF and its counter stay.
	if tb.Refused(red) != 1 {
		t.Fatalf("Refused = %d after a rolled back re-create, want 1", tb.Refused(red))
	}
	mustUpdate(t, tb, func(tx *Txn) error {
		if err := tx.DeleteVRF("red"); err != nil {
			return err
		}
		_, err := tx.AddVRF(Config{Name: "red", ID: red, MaxRoutes: 1})
		return err
	})
	if tb.Refused(red) != 0 {
		t.Fatalf("Refused = %d after re-create, want 0", tb.Refused(red))
	}
}

func TestFailedUpdateKeepsSnapshot(t *testing.T) {
	tb := setup(t)
	mustUpdate(t, tb, func(tx *Txn) error {
		return errors.Join(tx.AddRoute(1, pfx("10.0.0.0/8"), local(1)), tx.Bind(Binding{Port: 3, VLAN: 7, VRF: 1}))
	})
	before := tb.Load()
	boom := errors.New("boom")
	var kept *Txn
	err := tb.Update(func(tx *Txn) error {
		kept = tx
		_, _ = tx.AddVRF(Config{Name: "green"})
		_ = tx.DeleteVRF("blue")
		_ = tx.Bind(Binding{Port: 3, VLAN: 8, VRF: 1})
		_ = tx.Unbind(3, 7)
		_ = tx.AddRoute(1, pfx("10.1.0.0/16"), local(2))
		_ = tx.DeleteRoute(1, pfx("10.0.0.0/8"))
		if _, ok := tx.Snapshot().VRFByName("green"); !ok {
			return errors.New("transaction does not see its own change")
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	s := tb.Load()
	if s != before {
		t.Fatal("snapshot replaced")
	}
	if _, ok := s.VRFByName("green"); ok {
		t.Error("green exists")
	}
	if _, ok := s.VRFByName("blue"); !ok {
		t.Error("blue gone")
	}
	if id, ok := s.ByBinding(3, 7); !ok || id != 1 {
		t.Error("binding 3/7 gone")
	}
	if _, ok := s.ByBinding(3, 8); ok {
		t.Error("binding 3/8 visible")
	}
	if nh, ok := s.Lookup4(1, [4]byte{10, 1, 2, 3}); !ok || nh != local(1) {
		t.Errorf("Lookup4 = %v, %v", nh, ok)
	}
	if kept.AddRoute(1, pfx("10.0.0.0/8"), local(1)) == nil {
		t.Error("a finished transaction accepted an operation")
	}
	// An empty update publishes nothing.
	mustUpdate(t, tb, func(*Txn) error { return nil })
	if tb.Load() != before {
		t.Error("empty update published a snapshot")
	}
}

// randPrefix returns a random prefix of the family of bits (32 or 128) with a length in lo..hi.
func randPrefix(r *rand.Rand, bits, lo, hi int) netip.Prefix {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	n := lo + r.IntN(hi-lo+1)
	if bits == 32 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(b[:4])), n).Masked()
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), n).Masked()
}

// randAddrNear returns an address inside a random prefix of ps, or a random one.
func randAddrNear(r *rand.Rand, ps []netip.Prefix, bits int) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if len(ps) > 0 && r.IntN(4) != 0 {
		p := ps[r.IntN(len(ps))]
		base := p.Addr().AsSlice()
		for i := range base {
			// keep the prefix bits, randomise the rest
			keep := min(max(p.Bits()-8*i, 0), 8)
			mask := byte(0xff << (8 - keep))
			b[i] = base[i]&mask | b[i]&^mask
		}
	}
	if bits == 32 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

func TestLPM(t *testing.T) {
	for _, fam := range []struct {
		name string
		bits int
	}{{"ipv4", 32}, {"ipv6", 128}} {
		t.Run(fam.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(fam.bits)))
			tb := setup(t)
			ref := map[netip.Prefix]NextHop{}
			// Default route and host routes included.
			ps := []netip.Prefix{netip.PrefixFrom(netip.IPv4Unspecified(), 0), pfx("192.0.2.1/32")}
			if fam.bits == 128 {
				ps = []netip.Prefix{netip.PrefixFrom(netip.IPv6Unspecified(), 0), pfx("2001:db8::1/128")}
			}
			for range 1500 {
				ps = append(ps, randPrefix(r, fam.bits, 0, fam.bits))
			}
			// Clusters of nested prefixes.
			for range 200 {
				p := randPrefix(r, fam.bits, 8, fam.bits)
				for n := p.Bits(); n <= fam.bits; n += 1 + r.IntN(4) {
					ps = append(ps, netip.PrefixFrom(p.Addr(), n).Masked())
				}
			}
			// Load half in one update, the rest one per update, then delete some.
			mustUpdate(t, tb, func(tx *Txn) error {
				for i, p := range ps[:len(ps)/2] {
					nh := remote(uint32(i+1), lfib.Label(100+i))
					ref[p] = nh
					if err := tx.AddRoute(1, p, nh); err != nil {
						return err
					}
				}
				return nil
			})
			for i, p := range ps[len(ps)/2:] {
				nh := local(uint16(i % MaxPorts))
				ref[p] = nh
				mustUpdate(t, tb, func(tx *Txn) error { return tx.AddRoute(1, p, nh) })
			}
			for i, p := range ps {
				if i%7 == 0 {
					if _, ok := ref[p]; ok {
						delete(ref, p)
						mustUpdate(t, tb, func(tx *Txn) error { return tx.DeleteRoute(1, p) })
					}
				}
			}
			s := tb.Load()
			v4, v6 := s.RouteCount(1)
			if v4+v6 != len(ref) {
				t.Fatalf("RouteCount %d+%d, want %d", v4, v6, len(ref))
			}
			var refList []netip.Prefix
			for p := range ref {
				refList = append(refList, p)
			}
			for range 5000 {
				a := randAddrNear(r, refList, fam.bits)
				want, wantOK, best := NextHop{}, false, -1
				for p, nh := range ref {
					if p.Bits() > best && p.Contains(a) {
						want, wantOK, best = nh, true, p.Bits()
					}
				}
				var got NextHop
				var ok bool
				if fam.bits == 32 {
					got, ok = s.Lookup4(1, a.As4())
				} else {
					got, ok = s.Lookup6(1, a.As16())
				}
				if got != want || ok != wantOK {
					t.Fatalf("lookup %s = %v, %v; want %v, %v (/%d)", a, got, ok, want, wantOK, best)
				}
				if _, ok := s.Lookup4(2, [4]byte{1, 2, 3, 4}); ok {
					t.Fatal("red's routes leak into blue")
				}
			}
		})
	}
}

// TestBulkCloneThenPublish checks that a transaction changing a published table in place
// (after cloning it) leaves the published snapshot alone.
func TestBulkCloneThenPublish(t *testing.T) {
	tb := setup(t)
	r := rand.New(rand.NewPCG(7, 7))
	var ps []netip.Prefix
	mustUpdate(t, tb, func(tx *Txn) error {
		for range 2000 {
			p := randPrefix(r, 32, 8, 32)
			ps = append(ps, p)
			if err := tx.AddRoute(1, p, local(1)); err != nil {
				return err
			}
		}
		return nil
	})
	old := tb.Load()
	oldCount, _ := old.RouteCount(1)
	mustUpdate(t, tb, func(tx *Txn) error {
		for _, p := range ps { // enough changes to clone the table and go in place
			if err := tx.AddRoute(1, p, local(2)); err != nil {
				return err
			}
		}
		if !tx.routes[1].owned {
			return errors.New("bulk change did not switch to an owned clone")
		}
		return tx.DeleteRoute(1, ps[0])
	})
	if n, _ := old.RouteCount(1); n != oldCount {
		t.Fatalf("old snapshot count %d, was %d", n, oldCount)
	}
	for _, p := range ps[1:] {
		if nh, _ := old.Route(1, p); nh != local(1) {
			t.Fatalf("old snapshot changed at %s: %v", p, nh)
		}
		if nh, _ := tb.Load().Route(1, p); nh != local(2) {
			t.Fatalf("new snapshot at %s: %v", p, nh)
		}
	}
}

var (
	sinkID   ID
	sinkOK   bool
	sinkNH   NextHop
	sinkBool bool
)

func TestLookupsDoNotAllocate(t *testing.T) {
	tb := setup(t)
	mustUpdate(t, tb, func(tx *Txn) error {
		return errors.Join(
			tx.AddRoute(1, pfx("192.0.2.0/24"), local(1)),
			tx.AddRoute(1, pfx("2001:db8::/32"), local(1)),
			tx.Bind(Binding{Port: 4, VLAN: 100, VRF: 1, Peers: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}}),
		)
	})
	s := tb.Load()
	a4, a6 := [4]byte{192, 0, 2, 5}, addr("2001:db8::5").As16()
	peer := addr("2001:db8::1")
	tests := []struct {
		name string
		fn   func()
	}{
		{"Load", func() { sinkOK = tb.Load() != nil }},
		{"ByBinding", func() { sinkID, sinkOK = s.ByBinding(4, 100) }},
		{"ByBindingMiss", func() { sinkID, sinkOK = s.ByBinding(4, 101) }},
		{"IsPeer", func() { sinkBool = s.IsPeer(4, 100, peer) }},
		{"Lookup4", func() { sinkNH, sinkOK = s.Lookup4(1, a4) }},
		{"Lookup4Miss", func() { sinkNH, sinkOK = s.Lookup4(1, [4]byte{10, 0, 0, 1}) }},
		{"Lookup6", func() { sinkNH, sinkOK = s.Lookup6(1, a6) }},
		{"Lookup6Miss", func() { sinkNH, sinkOK = s.Lookup6(1, [16]byte{0x20, 1}) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
}

// TestConcurrentReaders runs readers against a writer that keeps moving a set of prefixes
// between two next hops; every lookup must give one of the two, never a torn or empty value.
func TestConcurrentReaders(t *testing.T) {
	tb := setup(t)
	a, b := local(1), remote(9, 5000)
	var ps []netip.Prefix
	for i := range 64 {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16))
	}
	mustUpdate(t, tb, func(tx *Txn) error {
		for _, p := range ps {
			if err := tx.AddRoute(1, p, a); err != nil {
				return err
			}
			if err := tx.AddRoute(1, pfx("2001:db8::/32"), a); err != nil {
				return err
			}
		}
		return tx.Bind(Binding{Port: 1, VRF: 1})
	})
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for !stop.Load() {
				s := tb.Load()
				id, ok := s.ByBinding(1, 0)
				if !ok || id != 1 {
					errc <- fmt.Errorf("binding lost: %d %v", id, ok)
					return
				}
				for range 100 {
					nh, ok := s.Lookup4(id, [4]byte{10, byte(r.IntN(64)), byte(r.Uint32()), 1})
					if !ok || (nh != a && nh != b) {
						errc <- fmt.Errorf("Lookup4 = %v, %v", nh, ok)
						return
					}
					nh, ok = s.Lookup6(id, addr("2001:db8::1").As16())
					if !ok || (nh != a && nh != b) {
						errc <- fmt.Errorf("Lookup6 = %v, %v", nh, ok)
						return
					}
					if _, ok := s.Lookup4(id, [4]byte{11, 0, 0, 1}); ok {
						errc <- errors.New("lookup of a never-added route hit")
						return
					}
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 2000 {
		nh := a
		if i%2 == 1 {
			nh = b
		}
		err := tb.Update(func(tx *Txn) error {
			for range 1 + r.IntN(8) {
				if err := tx.AddRoute(1, ps[r.IntN(len(ps))], nh); err != nil {
					return err
				}
			}
			if i%50 == 0 { // a transient route, added and removed in one update, never seen
				p := pfx("11.0.0.0/8")
				if err := tx.AddRoute(1, p, nh); err != nil {
					return err
				}
				if err := tx.DeleteRoute(1, p); err != nil {
					return err
				}
			}
			if i%10 == 0 {
				return tx.AddRoute(1, pfx("2001:db8::/32"), nh)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 { // concurrent writers are serialised
			var wwg sync.WaitGroup
			for range 2 {
				wwg.Go(func() {
					_ = tb.Update(func(tx *Txn) error { return tx.AddRoute(1, ps[0], b) })
				})
			}
			wwg.Wait()
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

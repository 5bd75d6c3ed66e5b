// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

// pair builds two nodes a and b joined by a veth a/eth0 - b/eth0 with fixed MACs.
// With quiet, IPv6 is disabled first so that the link carries no router or
// neighbour solicitations.
func pair(t *testing.T, quiet bool) (tp *Topology, a, b *Node, ai, bi *Iface) {
	t.Helper()
	tp = New(t)
	var err error
	if a, err = tp.AddNode("a"); err != nil {
		t.Fatal(err)
	}
	if b, err = tp.AddNode("b"); err != nil {
		t.Fatal(err)
	}
	if quiet {
		for _, n := range []*Node{a, b} {
			if err := n.SetSysctl("net.ipv6.conf.default.disable_ipv6", "1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ai, bi, err = tp.Link(a, "eth0", b, "eth0", LinkOpts{AMAC: macA, BMAC: macB, MTU: 1500})
	if err != nil {
		t.Fatal(err)
	}
	return tp, a, b, ai, bi
}

func TestLink(t *testing.T) {
	_, a, b, ai, bi := pair(t, false)
	for _, c := range []struct {
		n   *Node
		ifc *Iface
		mac net.HardwareAddr
	}{{a, ai, macA}, {b, bi, macB}} {
		if c.ifc.Node != c.n || c.ifc.Name != "eth0" || !bytes.Equal(c.ifc.MAC, c.mac) {
			t.Errorf("%s: got iface %+v, want eth0 with MAC %v", c.n.Name, c.ifc, c.mac)
		}
		got, err := c.n.Iface("eth0")
		if err != nil {
			t.Fatal(err)
		}
		if got.Index != c.ifc.Index {
			t.Errorf("%s: ifindex %d, Link returned %d", c.n.Name, got.Index, c.ifc.Index)
		}
		// The interface exists inside the namespace, not in the caller's.
		var names []string
		err = c.n.Do(func() error {
			ifs, err := net.Interfaces()
			for _, i := range ifs {
				names = append(names, i.Name)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(names, ",") != "lo,eth0" {
			t.Errorf("%s: interfaces %v, want [lo eth0]", c.n.Name, names)
		}
	}
}

func TestPing(t *testing.T) {
	tests := []struct {
		name   string
		a, b   netip.Prefix
		absent netip.Addr
	}{
		{"ipv4", netip.MustParsePrefix("192.0.2.1/30"), netip.MustParsePrefix("192.0.2.2/30"), netip.MustParseAddr("192.0.2.5")},
		{"ipv6", netip.MustParsePrefix("2001:db8::1/64"), netip.MustParsePrefix("2001:db8::2/64"), netip.MustParseAddr("2001:db8::3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, a, b, _, _ := pair(t, false)
			if err := a.AddAddr("eth0", tt.a); err != nil {
				t.Fatal(err)
			}
			if err := b.AddAddr("eth0", tt.b); err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				from *Node
				to   netip.Addr
			}{{a, tt.b.Addr()}, {b, tt.a.Addr()}} {
				got, err := p.from.Ping(p.to, 3, 3*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if got != 3 {
					t.Errorf("%s ping %v: %d of 3 replies", p.from.Name, p.to, got)
				}
			}
			// An on-link address nobody answers for: the echoes time out.
			if err := a.AddRoute(netip.PrefixFrom(tt.absent, tt.absent.BitLen()), netip.Addr{}, "eth0"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := a.Ping(tt.absent, 2, 400*time.Millisecond)
			if err != nil || got != 0 {
				t.Errorf("ping absent %v: got %d, %v; want 0, nil", tt.absent, got, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("ping absent took %v, want about 400ms", d)
			}
		})
	}
}

// frame returns an Ethernet frame b -> a... of the given ethertype(s) and
// payload, padded to the 60-byte minimum.
func frame(dst, src net.HardwareAddr, rest ...[]byte) []byte {
	f := append(append([]byte{}, dst...), src...)
	for _, r := range rest {
		f = append(f, r...)
	}
	for len(f) < 60 {
		f = append(f, byte(len(f)))
	}
	return f
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func TestPacketConn(t *testing.T) {
	mplsLSE := []byte{0x00, 0x01, 0x01, 0x40} // label 16, TC 0, BoS, TTL 64
	tests := []struct {
		name  string
		frame []byte
	}{
		{"local experimental", frame(macB, macA, u16(0x88b5), []byte("hello"))},
		{"mpls", frame(macB, macA, u16(0x8847), mplsLSE, []byte{0x45})},
		{"802.1Q", frame(macB, macA, u16(0x8100), u16(100), u16(0x88b5), []byte("vlan"))},
		{"802.1ad QinQ", frame(macB, macA, u16(0x88a8), u16(200), u16(0x8100), u16(100), u16(0x88b5), []byte("qinq"))},
		{"broadcast", frame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA, u16(0x88b5), []byte("all"))},
	}
	_, a, b, _, _ := pair(t, true)
	if v, err := b.Sysctl("net.ipv6.conf.eth0.disable_ipv6"); err != nil || v != "1" {
		t.Errorf("sysctl net.ipv6.conf.eth0.disable_ipv6 = %q, %v; want 1", v, err)
	}
	pa, err := a.OpenPacket("eth0")
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	pb, err := b.OpenPacket("eth0")
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := pa.Send(tt.frame); err != nil {
				t.Fatal(err)
			}
			got, err := pb.RecvMatch(2*time.Second, func(f []byte) bool {
				return len(f) >= 14 && bytes.Equal(f[6:12], macA)
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.frame) {
				t.Errorf("received frame differs:\n got %x\nwant %x", got, tt.frame)
			}
			// The sender's own socket does not see its outgoing frame.
			if f, err := pa.Recv(100 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("sender Recv = %x, %v; want a timeout", f, err)
			}
		})
	}
	start := time.Now()
	if _, err := pb.Recv(200 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Recv on a quiet link: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("Recv timeout of 200ms took %v", d)
	}
}

func TestSetGRO(t *testing.T) {
	_, _, b, _, _ := pair(t, true)
	for _, on := range []bool{true, false, true} {
		t.Run(fmt.Sprint("gro=", on), func(t *testing.T) {
			if err := SetGRO(b, "eth0", on); err != nil {
				t.Fatal(err)
			}
			got, err := b.GRO("eth0")
			if err != nil {
				t.Fatal(err)
			}
			if got != on {
				t.Errorf("GRO read back %v, want %v", got, on)
			}
		})
	}
	if err := b.SetGRO("nosuch0", true); err == nil {
		t.Error("SetGRO on a missing interface succeeded")
	}
}

func TestConfig(t *testing.T) {
	_, a, _, _, _ := pair(t, false)
	mustOK := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustOK(a.AddAddr("eth0", netip.MustParsePrefix("192.0.2.1/30")))
	mustOK(a.AddAddr("eth0", netip.MustParsePrefix("2001:db8:1::1/64")))
	mustOK(a.AddRoute(netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("192.0.2.2"), "eth0"))
	mustOK(a.AddRoute(netip.MustParsePrefix("203.0.113.0/24"), netip.Addr{}, "eth0"))
	mustOK(a.AddRoute(netip.MustParsePrefix("2001:db8:2::/48"), netip.MustParseAddr("2001:db8:1::2"), ""))
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	mustOK(a.AddNeigh("eth0", netip.MustParseAddr("192.0.2.2"), mac))
	mustOK(a.AddNeigh("eth0", netip.MustParseAddr("2001:db8:1::2"), mac))

	routes, err := a.h.RouteList(nil, netlink.FAMILY_ALL)
	mustOK(err)
	var dsts []string
	for _, r := range routes {
		if r.Dst != nil {
			dsts = append(dsts, r.Dst.String())
		}
	}
	for _, want := range []string{"198.51.100.0/24", "203.0.113.0/24", "2001:db8:2::/48"} {
		if !strings.Contains(strings.Join(dsts, " "), want) {
			t.Errorf("route %s missing from %v", want, dsts)
		}
	}
	neighs, err := a.h.NeighList(0, netlink.FAMILY_ALL)
	mustOK(err)
	perm := 0
	for _, n := range neighs {
		if n.State == netlink.NUD_PERMANENT && bytes.Equal(n.HardwareAddr, mac) {
			perm++
		}
	}
	if perm != 2 {
		t.Errorf("%d permanent neighbours with %v, want 2: %+v", perm, mac, neighs)
	}

	mustOK(a.SetSysctl("net.ipv4.ip_forward", "1"))
	if v, err := a.Sysctl("net.ipv4.ip_forward"); err != nil || v != "1" {
		t.Errorf("ip_forward = %q, %v; want 1", v, err)
	}

	// Nothing outside the documentation ranges.
	bad := []error{
		a.AddAddr("eth0", netip.MustParsePrefix("10.0.0.1/24")),
		a.AddAddr("eth0", netip.MustParsePrefix("192.0.2.1/16")),
		a.AddRoute(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParseAddr("192.0.2.2"), ""),
		a.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.0.0.1"), ""),
		a.AddNeigh("eth0", netip.MustParseAddr("172.16.0.1"), mac),
		func() error { _, err := a.Ping(netip.MustParseAddr("8.8.8.8"), 1, time.Second); return err }(),
	}
	for i, err := range bad {
		if err == nil {
			t.Errorf("case %d: address outside the documentation ranges accepted", i)
		}
	}
}

func TestDo(t *testing.T) {
	_, a, _, _, _ := pair(t, true)
	before, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	var inside netns.NsHandle
	err = a.Do(func() (err error) {
		inside, err = netns.Get()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if !inside.Equal(a.ns) {
		t.Errorf("Do ran in %v, want node namespace %v", inside, a.ns)
	}
	after, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if !after.Equal(before) {
		t.Errorf("caller's namespace changed by Do")
	}
	want := errors.New("from fn")
	if err := a.Do(func() error { return want }); err != want {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		_ = a.Do(func() error { panic("boom") })
	}()
}

// leftovers returns the entries of NetnsDir that start with prefix.
func leftovers(t *testing.T, prefix string) []string {
	t.Helper()
	ents, err := os.ReadDir(NetnsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestClose(t *testing.T) {
	if ok, reason := Available(); !ok {
		t.Skip(reason)
	}
	tp, err := NewForRun("")
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close() // a no-op once the test's own Close has run
	var nodes []*Node
	for _, name := range []string{"ce1", "pe1", "p1"} {
		n, err := tp.AddNode(name)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	if _, _, err := tp.Link(nodes[0], "eth0", nodes[1], "eth0", LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.Link(nodes[1], "eth1", nodes[2], "eth0", LinkOpts{MTU: 9000}); err != nil {
		t.Fatal(err)
	}
	pc, err := nodes[1].OpenPacket("eth1")
	if err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, tp.Prefix()); len(got) != 3 {
		t.Fatalf("namespaces %v, want 3", got)
	}
	// Hold each namespace open past Close, to look inside afterwards.
	var held []netns.NsHandle
	for _, n := range nodes {
		h, err := netns.GetFromPath(n.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		held = append(held, h)
	}

	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tp.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := leftovers(t, tp.Prefix()); len(got) != 0 {
		t.Errorf("namespaces left after Close: %v", got)
	}
	for i, n := range nodes {
		if h, err := netns.GetFromName(n.Namespace); err == nil {
			h.Close()
			t.Errorf("namespace %s still present", n.Namespace)
		}
		nh, err := netlink.NewHandleAt(held[i])
		if err != nil {
			t.Fatal(err)
		}
		links, err := nh.LinkList()
		nh.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if l.Attrs().Name != "lo" {
				t.Errorf("%s: link %s left after Close", n.Name, l.Attrs().Name)
			}
		}
	}
	if err := pc.Send(make([]byte, 60)); err == nil {
		t.Error("Send on a PacketConn of a closed topology succeeded")
	}
	if _, err := tp.AddNode("late"); err == nil {
		t.Error("AddNode after Close succeeded")
	}
}

// TestCleanupOnFailure runs TestHelperFailing in a child process, where it
// builds a topology and then fails, panics or errors, and checks that the
// child's namespaces are gone afterwards.
func TestCleanupOnFailure(t *testing.T) {
	if ok, reason := Available(); !ok {
		t.Skip(reason)
	}
	for _, mode := range []string{"fatal", "error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperFailing$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "TOPO_HELPER="+mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("helper test passed, want a failure:\n%s", out)
			}
			prefix := ""
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if p, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "PREFIX="); ok {
					prefix = p
				}
			}
			if prefix == "" {
				t.Fatalf("helper printed no prefix:\n%s", out)
			}
			if mode == "panic" && !strings.Contains(string(out), "panic: deliberate") {
				t.Errorf("helper did not panic:\n%s", out)
			}
			if got := leftovers(t, prefix); len(got) != 0 {
				t.Errorf("namespaces left after a failed test: %v\n%s", got, out)
			}
		})
	}
}

func TestHelperFailing(t *testing.T) {
	mode := os.Getenv("TOPO_HELPER")
	if mode == "" {
		t.Skip("run by TestCleanupOnFailure")
	}
	tp, a, b, _, _ := pair(t, true)
	fmt.Printf("PREFIX=%s\n", tp.Prefix())
	if _, err := a.OpenPacket("eth0"); err != nil {
		t.Fatal(err)
	}
	if got := len(leftovers(t, tp.Prefix())); got != 2 {
		t.Fatalf("%d namespaces, want 2", got)
	}
	switch mode {
	case "fatal":
		t.Fatal("deliberate failure")
	case "error":
		t.Error("deliberate error")
	case "panic":
		_ = b
		panic("deliberate")
	}
}

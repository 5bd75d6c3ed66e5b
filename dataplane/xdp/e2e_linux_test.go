// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// The end-to-end network:
//
//	ceA1 ─┐                                   ┌─ ceA2
//	      pe1 ── core0 ── w0  p  e0 ── core0 ── pe2
//	ceB1 ─┘                                   └─ ceB2
//
// Customers A and B use the same addresses: site 1 is 192.0.2.0/26 (CE .10, PE .1),
// site 2 is 192.0.2.64/26 (CE .74, PE .65). PE1 pushes [16002, VPN label]; P swaps
// 16002 to explicit null; PE2 pops it and pops the VPN label into the customer's VRF.
// Back, PE2 pushes [16001, VPN label], P pops 16001 (PHP), PE1 pops the VPN label.
var (
	site1     = netip.MustParsePrefix("192.0.2.0/26")
	site2     = netip.MustParsePrefix("192.0.2.64/26")
	ce1Addr   = netip.MustParseAddr("192.0.2.10")
	ce2Addr   = netip.MustParseAddr("192.0.2.74")
	pe1CEAddr = netip.MustParseAddr("192.0.2.1")
	pe2CEAddr = netip.MustParseAddr("192.0.2.65")
)

func mac(node, ifc byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, node, ifc} }

// routerState builds the tables of one router.
type routerState struct {
	cfg  dataplane.Config
	lf   *lfib.Table
	vrfs *vrf.Table
}

func newRouterState(t *testing.T) *routerState {
	cfg, err := dataplane.NewInfra([]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"),
		netip.PrefixFrom(pe1CEAddr, 32), netip.PrefixFrom(pe2CEAddr, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return &routerState{cfg: dataplane.Config{Infra: cfg, TTLMode: dataplane.TTLPipe}, lf: lfib.New(), vrfs: vrf.New()}
}

func (rs *routerState) port(id uint16, ifc *topo.Iface, role dataplane.Role) {
	rs.cfg.Ports[id] = dataplane.Port{Name: ifc.Name, Role: role, MTU: 1500, MAC: lfib.MAC(ifc.MAC), Ifindex: uint32(ifc.Index)}
}

func (rs *routerState) router() *dataplane.Router {
	cfg := rs.cfg
	return dataplane.NewRouter(rs.lf, rs.vrfs, &cfg)
}

// pe sets up a PE: customers A (VRF 1) and B (VRF 2) on ports 1 and 2, core on port 0.
func (rs *routerState) pe(t *testing.T, core, a, b *topo.Iface, ceA, ceB net.HardwareAddr, coreNext net.HardwareAddr,
	transport lfib.Label, local, remote netip.Prefix, inA, inB, outA, outB lfib.Label) {
	rs.port(0, core, dataplane.RoleCore)
	rs.port(1, a, dataplane.RoleCE)
	rs.port(2, b, dataplane.RoleCE)
	var bt lfib.Batch
	bt.SetTunnel(1, lfib.Entry{Op: lfib.OpPush, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 0, Dst: lfib.MAC(coreNext)}, Labels: [lfib.MaxPush]lfib.Label{transport}, NLabels: 1}}})
	bt.SetLabel(inA, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 1})
	bt.SetLabel(inB, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 2})
	if err := rs.lf.Commit(&bt); err != nil {
		t.Fatal(err)
	}
	err := rs.vrfs.Update(func(tx *vrf.Txn) error {
		for i, c := range []struct {
			name string
			port uint16
			ce   net.HardwareAddr
			out  lfib.Label
		}{{"cust-a", 1, ceA, outA}, {"cust-b", 2, ceB, outB}} {
			id := vrf.ID(i + 1)
			if _, err := tx.AddVRF(vrf.Config{Name: c.name, ID: id}); err != nil {
				return err
			}
			if err := tx.Bind(vrf.Binding{Port: c.port, VRF: id}); err != nil {
				return err
			}
			if err := tx.AddRoute(id, local, vrf.NextHop{Local: lfib.NextHop{Port: c.port, Dst: lfib.MAC(c.ce)}}); err != nil {
				return err
			}
			if err := tx.AddRoute(id, remote, vrf.NextHop{Tunnel: 1, VPNLabel: c.out}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// start loads the program for one router, syncs its tables and attaches it to its
// ports, inside the router's namespace (devmap entries and attachment are per namespace).
func start(t *testing.T, n *topo.Node, r *dataplane.Router) *xdp.Engine {
	e, err := xdp.Load(xdp.Options{})
	if err != nil {
		t.Skipf("skipped: cannot load the XDP program here: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	err = n.Do(func() error {
		if err := e.Sync(r); err != nil {
			return err
		}
		for _, p := range r.Config().Ports {
			if p.Ifindex != 0 {
				if err := e.Attach(int(p.Ifindex)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	return e
}

func TestEndToEnd(t *testing.T) {
	if ok, why := topo.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	tp := topo.New(t)
	node := func(name string) *topo.Node {
		n, err := tp.AddNode(name)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ceA1, ceB1, pe1, p, pe2, ceA2, ceB2 := node("cea1"), node("ceb1"), node("pe1"), node("p"), node("pe2"), node("cea2"), node("ceb2")
	link := func(a *topo.Node, aIf string, aMAC net.HardwareAddr, b *topo.Node, bIf string, bMAC net.HardwareAddr) (*topo.Iface, *topo.Iface) {
		x, y, err := tp.Link(a, aIf, b, bIf, topo.LinkOpts{AMAC: aMAC, BMAC: bMAC})
		if err != nil {
			t.Fatal(err)
		}
		return x, y
	}
	ceA1If, pe1A := link(ceA1, "eth0", mac(1, 1), pe1, "a1", mac(3, 1))
	ceB1If, pe1B := link(ceB1, "eth0", mac(2, 1), pe1, "b1", mac(3, 2))
	pe1Core, pW := link(pe1, "core0", mac(3, 0), p, "w0", mac(4, 0))
	pE, pe2Core := link(p, "e0", mac(4, 1), pe2, "core0", mac(5, 0))
	pe2A, ceA2If := link(pe2, "a2", mac(5, 1), ceA2, "eth0", mac(6, 1))
	pe2B, ceB2If := link(pe2, "b2", mac(5, 2), ceB2, "eth0", mac(7, 1))

	// Hosts: CEs route the other site through their PE, whose kernel answers ARP for the
	// gateway address (the program passes ARP up). The PEs' kernels do not forward.
	for _, c := range []struct {
		n      *topo.Node
		addr   netip.Addr
		gw     netip.Addr
		remote netip.Prefix
	}{{ceA1, ce1Addr, pe1CEAddr, site2}, {ceB1, ce1Addr, pe1CEAddr, site2}, {ceA2, ce2Addr, pe2CEAddr, site1}, {ceB2, ce2Addr, pe2CEAddr, site1}} {
		if err := c.n.AddAddr("eth0", netip.PrefixFrom(c.addr, 26)); err != nil {
			t.Fatal(err)
		}
		if err := c.n.AddRoute(c.remote, c.gw, "eth0"); err != nil {
			t.Fatal(err)
		}
		// Frames redirected into a veth are dropped unless the receiving end has GRO on.
		if err := c.n.SetGRO("eth0", true); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []struct {
		n    *topo.Node
		ifc  string
		addr netip.Addr
	}{{pe1, "a1", pe1CEAddr}, {pe1, "b1", pe1CEAddr}, {pe2, "a2", pe2CEAddr}, {pe2, "b2", pe2CEAddr}} {
		if err := a.n.AddAddr(a.ifc, netip.PrefixFrom(a.addr, 26)); err != nil {
			t.Fatal(err)
		}
	}

	rs1 := newRouterState(t)
	rs1.pe(t, pe1Core, pe1A, pe1B, ceA1If.MAC, ceB1If.MAC, pW.MAC, 16002, site1, site2, 1001, 1002, 2001, 2002)
	rs2 := newRouterState(t)
	rs2.pe(t, pe2Core, pe2A, pe2B, ceA2If.MAC, ceB2If.MAC, pE.MAC, 16001, site2, site1, 2001, 2002, 1001, 1002)
	rsP := newRouterState(t)
	rsP.port(0, pW, dataplane.RoleCore)
	rsP.port(1, pE, dataplane.RoleCore)
	var bt lfib.Batch
	bt.SetLabel(16002, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 1, Dst: lfib.MAC(pe2Core.MAC)}, Labels: [lfib.MaxPush]lfib.Label{lfib.LabelIPv4ExplicitNull}, NLabels: 1}}})
	bt.SetLabel(16001, lfib.Entry{Op: lfib.OpPop, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 0, Dst: lfib.MAC(pe1Core.MAC)}}}})
	if err := rsP.lf.Commit(&bt); err != nil {
		t.Fatal(err)
	}

	e1 := start(t, pe1, rs1.router())
	eP := start(t, p, rsP.router())
	e2 := start(t, pe2, rs2.router())

	// Capture at both site-2 CEs while each site-1 CE pings the same address.
	capA, err := ceA2.OpenPacket("eth0")
	if err != nil {
		t.Fatal(err)
	}
	capB, err := ceB2.OpenPacket("eth0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		from      *topo.Node
		want, not *topo.PacketConn
	}{{"customer A", ceA1, capA, capB}, {"customer B", ceB1, capB, capA}} {
		got, err := c.from.Ping(ce2Addr, 3, 5*time.Second)
		if err != nil || got == 0 {
			t.Fatalf("%s: ping %v across the VPN: %d replies, %v", c.name, ce2Addr, got, err)
		}
		ttl, n := echoRequests(c.want)
		if n == 0 {
			t.Errorf("%s: its own site 2 saw none of its echo requests", c.name)
		}
		// Pipe mode: a customer sees one IP hop per PE and none for P.
		if ttl != 62 {
			t.Errorf("%s: echo request arrived with IP TTL %d, want 62 (64 - PE1 - PE2, no P hop)", c.name, ttl)
		}
		if _, leaked := echoRequests(c.not); leaked != 0 {
			t.Errorf("%s: %d echo requests leaked into the other customer's site", c.name, leaked)
		}
	}

	// A labelled frame from a CE is dropped at PE1 and counted as label_spoof.
	spoof, err := ceA1.OpenPacket("eth0")
	if err != nil {
		t.Fatal(err)
	}
	before := stats(t, e1).Ports[1].Drops[dataplane.ReasonLabelSpoof]
	frame := labelled(t, ceA1If.MAC, pe1A.MAC, 2001)
	for range 3 {
		if err := spoof.Send(frame); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for stats(t, e1).Ports[1].Drops[dataplane.ReasonLabelSpoof]-before < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := stats(t, e1).Ports[1].Drops[dataplane.ReasonLabelSpoof] - before; d != 3 {
		t.Errorf("PE1 counted %d label_spoof drops on the CE port, want 3", d)
	}
	if _, n := echoRequests(capA); n != 0 {
		t.Errorf("a spoofed labelled frame reached site 2")
	}

	// Every router forwarded: P swapped and popped, both PEs pushed.
	for name, e := range map[string]*xdp.Engine{"pe1": e1, "p": eP, "pe2": e2} {
		var tx uint64
		for _, ps := range stats(t, e).Ports {
			tx += ps.TxPackets
		}
		if tx == 0 {
			t.Errorf("%s forwarded nothing in XDP", name)
		}
	}
}

func stats(t *testing.T, e *xdp.Engine) *dataplane.Stats {
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// echoRequests drains a capture and returns the number of ICMP echo requests to ce2Addr
// in it and the IP TTL of the last one.
func echoRequests(pc *topo.PacketConn) (ttl uint8, n int) {
	for {
		b, err := pc.Recv(200 * time.Millisecond)
		if err != nil {
			return ttl, n
		}
		pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		icmp, _ := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
		if ip != nil && icmp != nil && icmp.TypeCode.Type() == layers.ICMPv4TypeEchoRequest && ip.DstIP.Equal(net.IP(ce2Addr.AsSlice())) {
			ttl, n = ip.TTL, n+1
		}
	}
}

// labelled is an MPLS frame as a misbehaving CE would send it to its PE.
func labelled(t *testing.T, src, dst net.HardwareAddr, label uint32) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(ce1Addr.AsSlice()), DstIP: net.IP(ce2Addr.AsSlice())}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeMPLSUnicast},
		&layers.MPLS{Label: label, TTL: 64, StackBottom: true}, ip, udp, gopacket.Payload(binary.BigEndian.AppendUint32(nil, 0xdeadbeef)))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

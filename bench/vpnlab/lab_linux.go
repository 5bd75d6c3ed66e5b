// SPDX-License-Identifier: Apache-2.0

// Package vpnlab builds the reference BGP/MPLS VPN network in namespaces and checks what
// an operator would check on it: each customer reaches its own remote site and never
// the other's, a customer's labelled frames are dropped, and P routers stay hidden.
//
//	ceA1 ─┐                                   ┌─ ceA2
//	      pe1 ── core0 ── w0  p  e0 ── core0 ── pe2
//	ceB1 ─┘                                   └─ ceB2
//
// Customers A and B use the same addresses: site 1 is 192.0.2.0/26 (CE .10, PE .1),
// site 2 is 192.0.2.64/26 (CE .74, PE .65). PE1 pushes [16002, VPN label]; P swaps
// 16002 to explicit null; PE2 pops it and pops the VPN label into the customer's VRF.
// Back, PE2 pushes [16001, VPN label], P pops 16001 (PHP), PE1 pops the VPN label.
// The caller starts an engine on each router (any engine: the lab only builds tables).
package vpnlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Addresses of the lab.
var (
	Site1     = netip.MustParsePrefix("192.0.2.0/26")
	Site2     = netip.MustParsePrefix("192.0.2.64/26")
	CE1Addr   = netip.MustParseAddr("192.0.2.10")
	CE2Addr   = netip.MustParseAddr("192.0.2.74")
	PE1CEAddr = netip.MustParseAddr("192.0.2.1")
	PE2CEAddr = netip.MustParseAddr("192.0.2.65")
)

// PE port numbers: core on 0, customer A on 1, customer B on 2. P: west 0, east 1.
const (
	PortCore = 0
	PortA    = 1
	PortB    = 2
)

// Lab is the built network and the routers' tables.
type Lab struct {
	Topo                                *topo.Topology
	CEA1, CEB1, PE1, P, PE2, CEA2, CEB2 *topo.Node
	// Routers are the three routers' state, ready for an engine.
	PE1Router, PRouter, PE2Router *dataplane.Router
	ceA1If, pe1A                  *topo.Iface
}

func mac(node, ifc byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, node, ifc} }

// Build creates the namespaces, links, host addresses and routes, and the routers'
// tables, in tp.
func Build(tp *topo.Topology) (*Lab, error) {
	l := &Lab{Topo: tp}
	var err error
	for _, n := range []struct {
		p    **topo.Node
		name string
	}{{&l.CEA1, "cea1"}, {&l.CEB1, "ceb1"}, {&l.PE1, "pe1"}, {&l.P, "p"}, {&l.PE2, "pe2"}, {&l.CEA2, "cea2"}, {&l.CEB2, "ceb2"}} {
		if *n.p, err = tp.AddNode(n.name); err != nil {
			return nil, err
		}
	}
	var links [6][2]*topo.Iface
	for i, k := range []struct {
		a    *topo.Node
		aIf  string
		aMAC net.HardwareAddr
		b    *topo.Node
		bIf  string
		bMAC net.HardwareAddr
	}{
		{l.CEA1, "eth0", mac(1, 1), l.PE1, "a1", mac(3, 1)},
		{l.CEB1, "eth0", mac(2, 1), l.PE1, "b1", mac(3, 2)},
		{l.PE1, "core0", mac(3, 0), l.P, "w0", mac(4, 0)},
		{l.P, "e0", mac(4, 1), l.PE2, "core0", mac(5, 0)},
		{l.PE2, "a2", mac(5, 1), l.CEA2, "eth0", mac(6, 1)},
		{l.PE2, "b2", mac(5, 2), l.CEB2, "eth0", mac(7, 1)},
	} {
		x, y, err := tp.Link(k.a, k.aIf, k.b, k.bIf, topo.LinkOpts{AMAC: k.aMAC, BMAC: k.bMAC})
		if err != nil {
			return nil, err
		}
		links[i] = [2]*topo.Iface{x, y}
	}
	ceA1If, pe1A := links[0][0], links[0][1]
	ceB1If, pe1B := links[1][0], links[1][1]
	pe1Core, pW := links[2][0], links[2][1]
	pE, pe2Core := links[3][0], links[3][1]
	pe2A, ceA2If := links[4][0], links[4][1]
	pe2B, ceB2If := links[5][0], links[5][1]
	l.ceA1If, l.pe1A = ceA1If, pe1A

	// Hosts: CEs route the other site through their PE, whose kernel answers ARP for
	// the gateway address (engines pass ARP up). The PEs' kernels do not forward.
	for _, c := range []struct {
		n      *topo.Node
		addr   netip.Addr
		gw     netip.Addr
		remote netip.Prefix
	}{{l.CEA1, CE1Addr, PE1CEAddr, Site2}, {l.CEB1, CE1Addr, PE1CEAddr, Site2}, {l.CEA2, CE2Addr, PE2CEAddr, Site1}, {l.CEB2, CE2Addr, PE2CEAddr, Site1}} {
		if err := c.n.AddAddr("eth0", netip.PrefixFrom(c.addr, 26)); err != nil {
			return nil, err
		}
		if err := c.n.AddRoute(c.remote, c.gw, "eth0"); err != nil {
			return nil, err
		}
		// Frames redirected into a veth are dropped unless the receiving end has GRO on.
		if err := c.n.SetGRO("eth0", true); err != nil {
			return nil, err
		}
	}
	for _, a := range []struct {
		n    *topo.Node
		ifc  string
		addr netip.Addr
	}{{l.PE1, "a1", PE1CEAddr}, {l.PE1, "b1", PE1CEAddr}, {l.PE2, "a2", PE2CEAddr}, {l.PE2, "b2", PE2CEAddr}} {
		if err := a.n.AddAddr(a.ifc, netip.PrefixFrom(a.addr, 26)); err != nil {
			return nil, err
		}
	}
	// The core ends receive redirects too when an engine without an XDP program of its
	// own on the peer (AF_XDP, say) sits on one side.
	for _, c := range []struct {
		n   *topo.Node
		ifc string
	}{{l.PE1, "core0"}, {l.P, "w0"}, {l.P, "e0"}, {l.PE2, "core0"}, {l.PE1, "a1"}, {l.PE1, "b1"}, {l.PE2, "a2"}, {l.PE2, "b2"}} {
		if err := c.n.SetGRO(c.ifc, true); err != nil {
			return nil, err
		}
	}

	if l.PE1Router, err = pe(pe1Core, pe1A, pe1B, ceA1If.MAC, ceB1If.MAC, pW.MAC, 16002, Site1, Site2, 1001, 1002, 2001, 2002); err != nil {
		return nil, fmt.Errorf("pe1: %w", err)
	}
	if l.PE2Router, err = pe(pe2Core, pe2A, pe2B, ceA2If.MAC, ceB2If.MAC, pE.MAC, 16001, Site2, Site1, 2001, 2002, 1001, 1002); err != nil {
		return nil, fmt.Errorf("pe2: %w", err)
	}
	cfg := baseConfig()
	port(cfg, 0, pW, dataplane.RoleCore)
	port(cfg, 1, pE, dataplane.RoleCore)
	lf := lfib.New()
	var bt lfib.Batch
	bt.SetLabel(16002, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 1, Dst: lfib.MAC(pe2Core.MAC)}, Labels: [lfib.MaxPush]lfib.Label{lfib.LabelIPv4ExplicitNull}, NLabels: 1}}})
	bt.SetLabel(16001, lfib.Entry{Op: lfib.OpPop, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: 0, Dst: lfib.MAC(pe1Core.MAC)}}}})
	if err := lf.Commit(&bt); err != nil {
		return nil, fmt.Errorf("p: %w", err)
	}
	l.PRouter = dataplane.NewRouter(lf, vrf.New(), cfg)
	return l, nil
}

func baseConfig() *dataplane.Config {
	infra, err := dataplane.NewInfra([]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"),
		netip.PrefixFrom(PE1CEAddr, 32), netip.PrefixFrom(PE2CEAddr, 32)})
	if err != nil {
		panic(err) // constant prefixes
	}
	return &dataplane.Config{Infra: infra, TTLMode: dataplane.TTLPipe}
}

func port(cfg *dataplane.Config, id uint16, ifc *topo.Iface, role dataplane.Role) {
	cfg.Ports[id] = dataplane.Port{Name: ifc.Name, Role: role, MTU: 1500, MAC: lfib.MAC(ifc.MAC), Ifindex: uint32(ifc.Index)}
}

// pe builds a PE: customers A (VRF 1) and B (VRF 2) on ports 1 and 2, core on port 0.
func pe(core, a, b *topo.Iface, ceA, ceB, coreNext net.HardwareAddr, transport lfib.Label, local, remote netip.Prefix,
	inA, inB, outA, outB lfib.Label) (*dataplane.Router, error) {
	cfg := baseConfig()
	port(cfg, PortCore, core, dataplane.RoleCore)
	port(cfg, PortA, a, dataplane.RoleCE)
	port(cfg, PortB, b, dataplane.RoleCE)
	lf := lfib.New()
	var bt lfib.Batch
	bt.SetTunnel(1, lfib.Entry{Op: lfib.OpPush, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: PortCore, Dst: lfib.MAC(coreNext)}, Labels: [lfib.MaxPush]lfib.Label{transport}, NLabels: 1}}})
	bt.SetLabel(inA, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 1})
	bt.SetLabel(inB, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 2})
	if err := lf.Commit(&bt); err != nil {
		return nil, err
	}
	vrfs := vrf.New()
	err := vrfs.Update(func(tx *vrf.Txn) error {
		for i, c := range []struct {
			name string
			port uint16
			ce   net.HardwareAddr
			out  lfib.Label
		}{{"cust-a", PortA, ceA, outA}, {"cust-b", PortB, ceB, outB}} {
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
		return nil, err
	}
	return dataplane.NewRouter(lf, vrfs, cfg), nil
}

// StatsFunc reads a router's counters from whatever engine runs it.
type StatsFunc func() (*dataplane.Stats, error)

// Report is what Check found.
type Report struct {
	// Per customer: echo replies received, echo requests seen at its own site 2 and at
	// the other customer's, and the IP TTL they arrived with.
	Customers []CustomerReport
	// SpoofSent labelled frames sent by CE-A1; SpoofDropped of them counted as
	// label_spoof on PE1's customer-A port; SpoofLeaked that reached site 2.
	SpoofSent, SpoofDropped, SpoofLeaked int
}

// CustomerReport is one customer's result.
type CustomerReport struct {
	Name               string
	Replies            int
	SeenOwn, SeenOther int
	TTL                uint8
}

// Check pings site 2 from both customers' site 1 while capturing at both site-2 CEs,
// then sends labelled frames from CE-A1, and reports. pe1 reads PE1's counters.
func (l *Lab) Check(pe1 StatsFunc, pings int) (*Report, error) {
	capA, err := l.CEA2.OpenPacket("eth0")
	if err != nil {
		return nil, err
	}
	defer capA.Close()
	capB, err := l.CEB2.OpenPacket("eth0")
	if err != nil {
		return nil, err
	}
	defer capB.Close()
	rep := &Report{}
	for _, c := range []struct {
		name      string
		from      *topo.Node
		own, othr *topo.PacketConn
	}{{"customer A", l.CEA1, capA, capB}, {"customer B", l.CEB1, capB, capA}} {
		got, err := c.from.Ping(CE2Addr, pings, 5*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s: ping: %w", c.name, err)
		}
		ttl, own := echoRequests(c.own)
		_, other := echoRequests(c.othr)
		rep.Customers = append(rep.Customers, CustomerReport{Name: c.name, Replies: got, SeenOwn: own, SeenOther: other, TTL: ttl})
	}

	spoof, err := l.CEA1.OpenPacket("eth0")
	if err != nil {
		return nil, err
	}
	defer spoof.Close()
	before, err := pe1()
	if err != nil {
		return nil, err
	}
	frame, err := labelled(l.ceA1If.MAC, l.pe1A.MAC, 2001)
	if err != nil {
		return nil, err
	}
	rep.SpoofSent = 3
	for range rep.SpoofSent {
		if err := spoof.Send(frame); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		after, err := pe1()
		if err != nil {
			return nil, err
		}
		rep.SpoofDropped = int(after.Ports[PortA].Drops[dataplane.ReasonLabelSpoof] - before.Ports[PortA].Drops[dataplane.ReasonLabelSpoof])
		if rep.SpoofDropped >= rep.SpoofSent || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, rep.SpoofLeaked = echoRequests(capA)
	return rep, nil
}

// Problems lists what in the report an operator would call broken: no reachability,
// a leak between customers, a visible P hop (pipe mode: IP TTL 64 arrives as 62), a
// labelled frame not dropped.
func (r *Report) Problems() error {
	var errs []error
	for _, c := range r.Customers {
		if c.Replies == 0 {
			errs = append(errs, fmt.Errorf("%s: no echo reply across the VPN", c.Name))
		}
		if c.SeenOwn == 0 {
			errs = append(errs, fmt.Errorf("%s: its own site 2 saw none of its echo requests", c.Name))
		}
		if c.SeenOther != 0 {
			errs = append(errs, fmt.Errorf("%s: %d echo requests leaked into the other customer's site", c.Name, c.SeenOther))
		}
		if c.SeenOwn != 0 && c.TTL != 62 {
			errs = append(errs, fmt.Errorf("%s: IP TTL %d at site 2, want 62 (64 - PE1 - PE2, no P hop)", c.Name, c.TTL))
		}
	}
	if r.SpoofDropped != r.SpoofSent {
		errs = append(errs, fmt.Errorf("PE1 counted %d of %d labelled frames from CE-A1 as label_spoof", r.SpoofDropped, r.SpoofSent))
	}
	if r.SpoofLeaked != 0 {
		errs = append(errs, fmt.Errorf("%d labelled frames from a CE reached site 2", r.SpoofLeaked))
	}
	return errors.Join(errs...)
}

// echoRequests drains a capture and returns the number of ICMP echo requests to CE2Addr
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
		if ip != nil && icmp != nil && icmp.TypeCode.Type() == layers.ICMPv4TypeEchoRequest && ip.DstIP.Equal(net.IP(CE2Addr.AsSlice())) {
			ttl, n = ip.TTL, n+1
		}
	}
}

// labelled is an MPLS frame as a misbehaving CE would send it to its PE.
func labelled(src, dst net.HardwareAddr, label uint32) ([]byte, error) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(CE1Addr.AsSlice()), DstIP: net.IP(CE2Addr.AsSlice())}
	udp := &layers.UDP{SrcPort: 1, DstPort: 2}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, err
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeMPLSUnicast},
		&layers.MPLS{Label: label, TTL: 64, StackBottom: true}, ip, udp, gopacket.Payload(binary.BigEndian.AppendUint32(nil, 0xdeadbeef)))
	return buf.Bytes(), err
}

// StartXDP runs router r on the XDP engine inside node n: loads the program (unpinned),
// syncs the maps and attaches to every port with an ifindex, all in n's namespace
// (devmap entries and attachments are per namespace). Close the engine when done.
func StartXDP(n *topo.Node, r *dataplane.Router) (*xdp.Engine, error) {
	e, err := xdp.Load(xdp.Options{})
	if err != nil {
		return nil, err
	}
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
		e.Close()
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return e, nil
}

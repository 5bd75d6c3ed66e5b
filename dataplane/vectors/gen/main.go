// SPDX-License-Identifier: Apache-2.0

// Command gen writes the engine-neutral packet vectors (testdata/vectors.json): a
// fixture modelled on a PE that is also a P router, and input frames with the verdicts
// and output frames that the rules of dataplane/doc.go give for them.
//
// Every frame is built with gopacket; expected outputs are built from what the rules say
// the result is, never by running pipeline code. The output is the same bytes on every run.
//
// Usage (from dataplane/vectors, see generate.go):
//
//	go run ./gen -o ../../testdata/vectors.json
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/dataplane/vectors"
)

// maxStackDepth is dataplane.MaxStackDepth as the vectors assume it.
const maxStackDepth = 8

const (
	pipe    = "pipe"
	uniform = "uniform"
)

var ttlModes = []string{pipe, uniform}

const (
	etIPv4 = layers.EthernetTypeIPv4
	etIPv6 = layers.EthernetTypeIPv6
	etMPLS = layers.EthernetTypeMPLSUnicast
	etMPLM = layers.EthernetTypeMPLSMulticast
	etARP  = layers.EthernetTypeARP
)

func main() {
	out := flag.String("o", "", "write the vectors file here (default: standard output)")
	flag.Parse()
	b, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func generate() (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	g := &gen{names: map[string]bool{}}
	g.f.Fixture = fixture()
	g.ceIngress()
	g.ceACL()
	g.ceForward()
	g.coreIngress()
	g.coreTransit()
	g.coreVPN()
	g.coreSpecial()
	g.noRole()
	return g.f.Marshal()
}

type gen struct {
	f     vectors.File
	names map[string]bool
}

func (g *gen) add(v vectors.Vector) {
	if g.names[v.Name] {
		panic("duplicate vector name " + v.Name)
	}
	g.names[v.Name] = true
	g.f.Vectors = append(g.f.Vectors, v)
}

func hexs(b []byte) string { return fmt.Sprintf("%x", b) }

func (g *gen) drop(name, mode, port string, in []byte, reason, note string) {
	g.add(vectors.Vector{Name: name, TTLMode: mode, Port: port, In: hexs(in), Verdict: "drop", Reason: reason, Note: note})
}

// kernel: the frame goes to the kernel unchanged.
func (g *gen) kernel(name, mode, port string, in []byte, note string) {
	g.add(vectors.Vector{Name: name, TTLMode: mode, Port: port, In: hexs(in), Verdict: "kernel", Out: hexs(in), Note: note})
}

func (g *gen) fwd(name, mode, port string, in []byte, to nh, out []byte, note string) {
	// Sanity of the expectation itself: the Ethernet rewrite and the egress MTU.
	hdr := 14
	if !bytes.Equal(out[0:6], hw(to.mac)) || !bytes.Equal(out[6:12], portMAC(to.port)) {
		panic(name + ": output MACs are not the next hop's")
	}
	if et := binary.BigEndian.Uint16(out[12:]); to.vlan != 0 {
		if et != 0x8100 || binary.BigEndian.Uint16(out[14:])&0xfff != to.vlan {
			panic(name + ": output VLAN is not the next hop's")
		}
		hdr = 18
	} else if et == 0x8100 {
		panic(name + ": output tagged for an untagged next hop")
	}
	if len(out)-hdr > portMTU(to.port) {
		panic(name + ": expected output above the egress MTU")
	}
	checkIPv4Checksums(name, out)
	g.add(vectors.Vector{Name: name, TTLMode: mode, Port: port, In: hexs(in), Verdict: "forward",
		OutPort: to.port, Out: hexs(out), Note: note})
}

// checkIPv4Checksums refuses expected outputs whose IPv4 checksum is 0x0000 or 0xffff,
// where an incremental update (RFC 1624) and a recomputation may legitimately differ.
func checkIPv4Checksums(name string, frame []byte) {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	for _, l := range p.Layers() {
		if ip, ok := l.(*layers.IPv4); ok && (ip.Checksum == 0 || ip.Checksum == 0xffff) {
			panic(name + ": IPv4 checksum 0x0000/0xffff; change the packet")
		}
	}
}

// lttl is the TTL a PE writes into labels it pushes (doc.go CE step 8).
func lttl(mode string, ipTTL uint8) uint8 {
	if mode == uniform {
		return ipTTL
	}
	return 255
}

// ifu is a when the mode is uniform, else b.
func ifu(mode string, a, b uint8) uint8 {
	if mode == uniform {
		return a
	}
	return b
}

// findFlow returns the first i in 0.. for which the flow hash sends mk(i) to path want of n.
func findFlow(want, n int, mk func(i uint16) []byte) uint16 {
	for i := uint16(0); i < 4096; i++ {
		if pick(mk(i), n) == want {
			return i
		}
	}
	panic("no flow found for the path")
}

// ---------------------------------------------------------------------------
// CE and global ports, steps 1-5: what never reaches the IP rules.

func (g *gen) ceIngress() {
	a4 := udp4("192.0.2.10", "192.0.2.70", 64)
	vpn := stack(0, 64, lVRFA)

	// Step 2: labels from a CE or global port.
	g.drop("ce.label_spoof.untagged_8847", "", "ce-a", fr(nCEA.in(etMPLS), vpn, a4.L()), "label_spoof", "CE 2")
	g.drop("ce.label_spoof.untagged_8848", "", "ce-b", fr(nCEB.in(etMPLM), vpn, a4.L()), "label_spoof", "CE 2: 0x8848")
	g.drop("ce.label_spoof.vlan100_8847", "", "trunk0", fr(nCEA2.in(etMPLS), vpn, a4.L()), "label_spoof", "CE 2 behind a tag")
	g.drop("ce.label_spoof.vlan200_8848", "", "trunk0", fr(nCEB2.in(etMPLM), vpn, a4.L()), "label_spoof", "CE 2 behind a tag")
	g.drop("ce.label_spoof.unbound_vlan300", "", "trunk0", fr(nTrk.inVLAN(300, etMPLS), vpn, a4.L()), "label_spoof",
		"CE 2 comes before the VRF (step 4)")
	g.drop("ce.label_spoof.stack_of_two", "", "ce-a", fr(nCEA.in(etMPLS), stack(0, 64, lSwap, lVRFA), a4.L()), "label_spoof", "CE 2")
	g.drop("global.label_spoof.8847", "", "inet0", fr(nUp.in(etMPLS), stack(0, 64, lGlobalV4Rem), a4.L()), "label_spoof", "CE 2 on a global port")

	// Step 3: ARP, neighbour discovery, other ethertypes.
	g.kernel("ce.arp.request.kernel", "", "ce-a", arpFrame(nCEA, 0, layers.ARPRequest, "192.0.2.1", "192.0.2.62"), "CE 3: ARP")
	g.kernel("ce.arp.reply.vlan100.kernel", "", "trunk0", arpFrame(nCEA2, nCEA2.vlan, layers.ARPReply, "192.0.2.129", "192.0.2.190"), "CE 3: ARP behind a tag")
	g.kernel("ce.arp.unbound_vlan300.kernel", "", "trunk0", arpFrame(nTrk, 300, layers.ARPRequest, "192.0.2.129", "192.0.2.190"),
		"CE 3 comes before the VRF (step 4)")
	g.kernel("global.arp.request.kernel", "", "inet0", arpFrame(nUp, 0, layers.ARPRequest, "203.0.113.1", "203.0.113.2"), "CE 3 on a global port")
	g.kernel("ce.nd.router_solicitation_133.kernel", "", "ce-a", ndFrame(nCEA, 0, 133), "CE 3: ICMPv6 133")
	g.kernel("ce.nd.router_advertisement_134.kernel", "", "ce-b", ndFrame(nCEB, 0, 134), "CE 3: ICMPv6 134")
	g.kernel("ce.nd.neighbor_solicitation_135.kernel", "", "ce-a", ndFrame(nCEA, 0, 135), "CE 3: ICMPv6 135")
	g.kernel("ce.nd.neighbor_advertisement_136.vlan200.kernel", "", "trunk0", ndFrame(nCEB2, nCEB2.vlan, 136), "CE 3: ICMPv6 136 behind a tag")
	g.kernel("ce.nd.redirect_137.kernel", "", "ce-a", ndFrame(nCEA, 0, 137), "CE 3: ICMPv6 137")
	g.kernel("ce.nd.neighbor_solicitation.unbound_vlan300.kernel", "", "trunk0", ndFrame(nTrk, 300, 135),
		"CE 3 comes before the VRF (step 4)")
	g.kernel("global.nd.neighbor_solicitation.kernel", "", "inet0", ndFrame(nUp, 0, 135), "CE 3 on a global port")
	g.drop("ce.icmpv6_type138_not_nd.no_route", "", "ce-a", ndFrame(nCEA, 0, 138), "no_route",
		"CE 3: type 138 is not ND; the IP rules apply and ff02::2 has no route in cust-a")
	g.kernel("ce.lldp.kernel", "", "ce-a", lldpFrame(nCEA), "CE 3: other ethertype")
	g.kernel("ce.lldp.vlan300.kernel", "", "trunk0", lldpFrameVLAN(nTrk, 300), "CE 3: other ethertype behind an unbound tag")
	inner := []sl{&layers.Dot1Q{VLANIdentifier: 5, Type: etIPv4}}
	g.kernel("ce.qinq_second_tag.kernel", "", "trunk0", fr(nCEA2.in(layers.EthernetTypeDot1Q), inner, a4.L()),
		"Frames: a second tag is not looked into, so the ethertype is 0x8100: CE 3 other ethertype")
	g.kernel("ce.ethertype_88a8.kernel", "", "ce-a", fr(nCEA.in(layers.EthernetTypeQinQ), inner, a4.L()),
		"CE 3: 0x88a8 is not 0x8100, other ethertype")

	// Step 4: VRF binding.
	g.drop("ce.no_vrf.unbound_vlan300", "", "trunk0", fr(nTrk.inVLAN(300, etIPv4), a4.L()), "no_vrf", "CE 4")
	g.drop("ce.no_vrf.untagged_on_trunk", "", "trunk0", fr(nTrk.in(etIPv4), a4.L()), "no_vrf", "CE 4: (trunk0, 0) not bound")
	g.drop("ce.no_vrf.tagged_on_untagged_port", "", "ce-a", fr(nCEA.inVLAN(100, etIPv4), a4.L()), "no_vrf", "CE 4: (ce-a, 100) not bound")
	g.drop("ce.no_vrf.ipv6.unbound_vlan300", "", "trunk0", fr(nTrk.inVLAN(300, etIPv6), udp6("2001:db8:1::10", "2001:db8:2::10", 64).L()), "no_vrf", "CE 4")
	truncated := fr(nTrk.inVLAN(300, etIPv4), a4.L())
	g.drop("ce.no_vrf.before_ip_check", "", "trunk0", cut(truncated, len(truncated)-8), "no_vrf",
		"CE 4 comes before the IP header check (step 5)")

	// Steps 1 and 5: malformed.
	full := fr(nCEA.in(etIPv4), a4.L())
	g.drop("ce.malformed.short_ethernet_13", "", "ce-a", cut(full, 13), "malformed", "CE 1")
	tagged := fr(nCEA2.in(etIPv4), a4.L())
	g.drop("ce.malformed.short_vlan_header_17", "", "trunk0", cut(tagged, 17), "malformed", "CE 1: 18 bytes needed with a tag")
	g.drop("ce.malformed.ipv4_empty", "", "ce-a", cut(full, 14), "malformed", "CE 5")
	g.drop("ce.malformed.ipv4_header_truncated", "", "ce-a", cut(full, 14+19), "malformed", "CE 5")
	g.drop("ce.malformed.ipv4_total_length_beyond_frame", "", "ce-a", cut(full, len(full)-1), "malformed", "CE 5: total length > bytes present")
	g.drop("ce.malformed.vlan100_ipv4_total_length_beyond_frame", "", "trunk0", cut(tagged, len(tagged)-4), "malformed", "CE 5")
	rest := full[14+20:]
	g.drop("ce.malformed.ipv4_ihl4", "", "ce-a", badIPv4(nCEA.in(etIPv4), a4, 4, uint16(20+len(rest)), rest), "malformed", "CE 5: IHL < 5")
	g.drop("ce.malformed.ipv4_total_length_below_ihl", "", "ce-a", badIPv4(nCEA.in(etIPv4), a4, 5, 19, rest), "malformed", "CE 5: total length < IHL*4")
	g.drop("ce.malformed.ipv4_ihl15_beyond_total_length", "", "ce-a", badIPv4(nCEA.in(etIPv4), a4, 15, 56, rest[:36]), "malformed",
		"CE 5: IHL*4 (60) > total length (56)")
	g.drop("ce.malformed.ipv4_ethertype_version6", "", "ce-a", fr(nCEA.in(etIPv4), udp6("2001:db8:1::10", "2001:db8:2::10", 64).L()), "malformed",
		"CE 5: version must be 4 under 0x0800")
	v6 := fr(nCEA.in(etIPv6), udp6("2001:db8:1::10", "2001:db8:2::10", 64).L())
	g.drop("ce.malformed.ipv6_header_truncated", "", "ce-a", cut(v6, 14+39), "malformed", "CE 5")
	g.drop("ce.malformed.ipv6_payload_length_beyond_frame", "", "ce-a", cut(v6, len(v6)-1), "malformed", "CE 5")
	g.drop("ce.malformed.ipv6_ethertype_version4", "", "ce-a", fr(nCEA.in(etIPv6), a4.L()), "malformed", "CE 5: version must be 6 under 0x86dd")
	g.drop("global.malformed.ipv4_truncated", "", "inet0", cut(fr(nUp.in(etIPv4), udp4("203.0.113.10", "203.0.113.20", 64).L()), 40), "malformed", "CE 5 on a global port")
}

// badIPv4 is a frame whose IPv4 header has the given IHL and total length over rest
// (20 header bytes are written whatever the IHL says).
func badIPv4(eth []sl, p ipPkt, ihl uint8, length uint16, rest []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: ihl, Length: length, Id: p.id, TTL: p.ttl, Protocol: p.proto,
		SrcIP: ip4(p.src), DstIP: ip4(p.dst)}
	return serialize(gopacket.SerializeOptions{ComputeChecksums: true}, cat(eth, []sl{ip, gopacket.Payload(rest)}))
}

func arpFrame(n nh, vlan uint16, op uint16, sender, target string) []byte {
	dst := hw("ff:ff:ff:ff:ff:ff")
	tha := hw("00:00:00:00:00:00")
	if op == layers.ARPReply {
		dst, tha = portMAC(n.port), portMAC(n.port)
	}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: etIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: op, SourceHwAddress: hw(n.mac), SourceProtAddress: ip4(sender), DstHwAddress: tha, DstProtAddress: ip4(target)}
	return frPad(ethHdr(dst, hw(n.mac), vlan, etARP), []sl{arp})
}

// ndFrame is an ICMPv6 message of type t from the neighbour's link-local address.
func ndFrame(n nh, vlan uint16, t uint8) []byte {
	src := "fe80::2"
	dst, dmac := "ff02::1:ff00:1", "33:33:ff:00:00:01"
	opt := layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: hw(n.mac)}}
	var body sl
	switch t {
	case 133:
		dst, dmac = "ff02::2", "33:33:00:00:00:02"
		body = &layers.ICMPv6RouterSolicitation{Options: opt}
	case 134:
		dst, dmac = "ff02::1", "33:33:00:00:00:01"
		body = &layers.ICMPv6RouterAdvertisement{HopLimit: 64, RouterLifetime: 1800, Options: opt}
	case 135:
		body = &layers.ICMPv6NeighborSolicitation{TargetAddress: ip6("fe80::1"), Options: opt}
	case 136:
		dst, dmac = "fe80::1", portMAC(n.port).String()
		body = &layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: ip6("fe80::2"),
			Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: hw(n.mac)}}}
	case 137:
		dst, dmac = "fe80::1", portMAC(n.port).String()
		body = &layers.ICMPv6Redirect{TargetAddress: ip6("fe80::3"), DestinationAddress: ip6("2001:db8:2::10")}
	default:
		dst, dmac = "ff02::2", "33:33:00:00:00:02"
		body = gopacket.Payload(payload(8))
	}
	ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 255, SrcIP: ip6(src), DstIP: ip6(dst)}
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(t, 0)}
	must(ic.SetNetworkLayerForChecksum(ip))
	return fr(ethHdr(hw(dmac), hw(n.mac), vlan, etIPv6), []sl{ip, ic, body})
}

func lldpFrame(n nh) []byte { return lldpFrameVLAN(n, n.vlan) }

func lldpFrameVLAN(n nh, vlan uint16) []byte {
	l := &layers.LinkLayerDiscovery{
		ChassisID: layers.LLDPChassisID{Subtype: layers.LLDPChassisIDSubTypeMACAddr, ID: hw(n.mac)},
		PortID:    layers.LLDPPortID{Subtype: layers.LLDPPortIDSubtypeIfaceName, ID: []byte("ge-0/0/0")},
		TTL:       120,
	}
	return frPad(ethHdr(hw("01:80:c2:00:00:0e"), hw(n.mac), vlan, layers.EthernetTypeLinkLayerDiscovery), []sl{l})
}

// ---------------------------------------------------------------------------
// CE and global ports, steps 6 and 7: infrastructure ACL, BGP exception, TTL.

func (g *gen) ceACL() {
	u := func(dst string, ttl uint8) ipPkt { return udp4("192.0.2.10", dst, ttl) }
	g.drop("ce.infra_acl.ipv4.router_addr", "", "ce-a", fr(nCEA.in(etIPv4), u("198.51.100.200", 64).L()), "infra_acl", "CE 6: router address outside the core prefixes")
	g.drop("ce.infra_acl.ipv4.router_loopback", "", "ce-a", fr(nCEA.in(etIPv4), u("198.51.100.1", 64).L()), "infra_acl", "CE 6: router address")
	g.drop("ce.infra_acl.ipv4.core_prefix", "", "ce-a", fr(nCEA.in(etIPv4), u("198.51.100.77", 64).L()), "infra_acl", "CE 6: core prefix")
	g.drop("ce.infra_acl.ipv4.core_prefix.cust_b", "", "ce-b", fr(nCEB.in(etIPv4), u("198.51.100.5", 64).L()), "infra_acl", "CE 6: core prefix")
	g.drop("ce.infra_acl.ipv4.core_prefix.vlan100", "", "trunk0", fr(nCEA2.in(etIPv4), udp4("192.0.2.130", "198.51.100.126", 64).L()), "infra_acl", "CE 6 behind a tag")
	g.drop("ce.infra_acl.ipv4.icmp_echo_to_router", "", "ce-a", fr(nCEA.in(etIPv4), icmp4("192.0.2.1", "198.51.100.1", 64).L()), "infra_acl", "CE 6: ping of the router, even from the peer")
	g.drop("ce.infra_acl.ipv6.router_addr", "", "ce-a", fr(nCEA.in(etIPv6), udp6("2001:db8:1::10", "2001:db8:fffe::1", 64).L()), "infra_acl", "CE 6: router address")
	g.drop("ce.infra_acl.ipv6.core_prefix", "", "ce-b", fr(nCEB.in(etIPv6), udp6("2001:db8:1::10", "2001:db8:ffff:1::5", 64).L()), "infra_acl", "CE 6: core prefix")
	g.drop("ce.infra_acl.before_ttl", "", "ce-a", fr(nCEA.in(etIPv4), u("198.51.100.1", 1).L()), "infra_acl", "CE 6 comes before the TTL check (step 7)")
	g.drop("global.infra_acl.ipv4.router_addr", "", "inet0", fr(nUp.in(etIPv4), udp4("203.0.113.10", "198.51.100.1", 64).L()), "infra_acl", "CE 6 on a global port")
	g.drop("global.infra_acl.ipv6.core_prefix", "", "inet0", fr(nUp.in(etIPv6), udp6("2001:db8:100::10", "2001:db8:ffff::5", 64).L()), "infra_acl", "CE 6 on a global port")

	// The BGP exception.
	bgp := func(n nh, p ipPkt) []byte { return frPad(n.in(p.et()), p.L()) }
	g.kernel("ce.bgp.peer_to_router.ttl1.kernel", "", "ce-a", bgp(nCEA, tcp4("192.0.2.1", "198.51.100.1", 50179, 179, 1)),
		"CE 6: TCP/179 from the binding's peer (eBGP TTL 1: step 6 comes before step 7)")
	g.kernel("ce.bgp.peer_to_router.kernel", "", "ce-a", bgp(nCEA, tcp4("192.0.2.1", "198.51.100.200", 50180, 179, 64)), "CE 6: TCP/179 from the peer")
	est := tcp4("192.0.2.1", "198.51.100.1", 179, 50179, 64)
	est.syn, est.payload = false, payload(19)
	g.kernel("ce.bgp.peer_source_port_179.kernel", "", "ce-a", bgp(nCEA, est), "CE 6: source port 179 from the peer")
	g.kernel("ce.bgp.peer_to_core_prefix.kernel", "", "ce-a", bgp(nCEA, tcp4("192.0.2.1", "198.51.100.77", 50181, 179, 1)), "CE 6: the exception covers core prefixes too")
	g.kernel("ce.bgp.peer_ipv6.kernel", "", "ce-a", bgp(nCEA, tcp6("2001:db8:1::1", "2001:db8:ffff::1", 50179, 179, 1)), "CE 6: IPv6 peer")
	g.kernel("ce.bgp.cust_b_peer_same_address.kernel", "", "ce-b", bgp(nCEB, tcp4("192.0.2.1", "198.51.100.1", 50179, 179, 1)), "CE 6: the other customer's peer (same address)")
	g.kernel("ce.bgp.vlan100_peer.kernel", "", "trunk0", bgp(nCEA2, tcp4("192.0.2.129", "198.51.100.1", 50179, 179, 1)), "CE 6: peer of (trunk0, 100)")
	g.kernel("ce.bgp.vlan200_peer_ipv6.kernel", "", "trunk0", bgp(nCEB2, tcp6("2001:db8:3::1", "2001:db8:fffe::1", 50179, 179, 1)), "CE 6: IPv6 peer of (trunk0, 200)")
	g.drop("ce.bgp.non_peer.infra_acl", "", "ce-a", bgp(nCEA, tcp4("192.0.2.10", "198.51.100.1", 50179, 179, 1)), "infra_acl", "CE 6: not a peer")
	g.drop("ce.bgp.non_peer_ipv6.infra_acl", "", "ce-a", bgp(nCEA, tcp6("2001:db8:1::10", "2001:db8:ffff::1", 50179, 179, 1)), "infra_acl", "CE 6: not a peer")
	g.drop("ce.bgp.peer_of_other_binding.infra_acl", "", "ce-a", bgp(nCEA, tcp4("192.0.2.129", "198.51.100.1", 50179, 179, 1)), "infra_acl",
		"CE 6: 192.0.2.129 is a peer of (trunk0, 100), not of ce-a")
	g.drop("ce.bgp.peer_on_other_vlan.infra_acl", "", "trunk0", bgp(nCEA3, tcp4("192.0.2.129", "198.51.100.1", 50179, 179, 1)), "infra_acl",
		"CE 6: (trunk0, 110) has only 192.0.2.193")
	g.drop("ce.bgp.peer_udp_179.infra_acl", "", "ce-a", frPad(nCEA.in(etIPv4), ipPkt{src: "192.0.2.1", dst: "198.51.100.1", ttl: 1,
		proto: layers.IPProtocolUDP, sport: 50179, dport: 179, id: 1, payload: payload(8)}.L()), "infra_acl", "CE 6: TCP only")
	g.drop("ce.bgp.peer_other_tcp_port.infra_acl", "", "ce-a", bgp(nCEA, tcp4("192.0.2.1", "198.51.100.1", 50179, 22, 64)), "infra_acl", "CE 6: port 22")
	frag := ipPkt{src: "192.0.2.1", dst: "198.51.100.1", ttl: 1, proto: layers.IPProtocolTCP, id: 0x77, fragOff: 3, payload: payload(40)}
	g.drop("ce.bgp.peer_non_first_fragment.infra_acl", "", "ce-a", fr(nCEA.in(etIPv4), frag.L()), "infra_acl", "CE 6: non-first fragments have no ports")
	first := tcp4("192.0.2.1", "198.51.100.1", 50179, 179, 1)
	first.syn, first.flags, first.payload = false, layers.IPv4MoreFragments, payload(24)
	g.kernel("ce.bgp.peer_first_fragment.kernel", "", "ce-a", fr(nCEA.in(etIPv4), first.L()), "CE 6: a first fragment (offset 0, MF) has its ports")
	g.drop("global.bgp.to_router.infra_acl", "", "inet0", bgp(nUp, tcp4("203.0.113.1", "198.51.100.1", 50179, 179, 1)), "infra_acl",
		"CE 6: a global port has no binding and so no peers")

	// Step 7.
	g.drop("ce.ttl_expired.ipv4_ttl1", "", "ce-a", fr(nCEA.in(etIPv4), u("192.0.2.130", 1).L()), "ttl_expired", "CE 7")
	g.drop("ce.ttl_expired.ipv4_ttl0", "", "ce-a", fr(nCEA.in(etIPv4), u("192.0.2.70", 0).L()), "ttl_expired", "CE 7")
	g.drop("ce.ttl_expired.ipv6_hop_limit1", "", "ce-a", fr(nCEA.in(etIPv6), udp6("2001:db8:1::10", "2001:db8:2::10", 1).L()), "ttl_expired", "CE 7")
	g.drop("ce.ttl_expired.vlan200_ipv4_ttl1", "", "trunk0", fr(nCEB2.in(etIPv4), udp4("192.0.2.130", "192.0.2.70", 1).L()), "ttl_expired", "CE 7")
	g.drop("ce.ttl_expired.before_route_lookup", "", "ce-a", fr(nCEA.in(etIPv4), u("203.0.113.5", 1).L()), "ttl_expired", "CE 7 comes before the lookup (step 8)")
	g.drop("global.ttl_expired.ipv4_ttl1", "", "inet0", fr(nUp.in(etIPv4), udp4("203.0.113.10", "203.0.113.20", 1).L()), "ttl_expired", "CE 7 on a global port")

	// Step 8: misses.
	g.drop("ce.no_route.ipv4", "", "ce-a", fr(nCEA.in(etIPv4), u("203.0.113.5", 64).L()), "no_route", "CE 8: miss in cust-a")
	g.drop("ce.no_route.ipv4.cust_b", "", "ce-b", fr(nCEB.in(etIPv4), u("203.0.113.5", 64).L()), "no_route", "CE 8: miss in cust-b")
	g.drop("ce.no_route.ipv6", "", "ce-a", fr(nCEA.in(etIPv6), udp6("2001:db8:1::10", "2001:db8:9::1", 64).L()), "no_route", "CE 8: miss")
	g.drop("ce.no_route.tunnel_not_installed", "", "ce-a", fr(nCEA.in(etIPv4), u("192.0.2.50", 64).L()), "no_route",
		"CE 8: 192.0.2.48/28 names tunnel 9, which is not in the LFIB")
	g.drop("global.no_route.customer_prefix", "", "inet0", fr(nUp.in(etIPv4), udp4("203.0.113.10", "192.0.2.10", 64).L()), "no_route",
		"CE 8: customer prefixes are not in the global table")
}

// ---------------------------------------------------------------------------
// CE and global ports, steps 8 and 9: forwarding.

func (g *gen) ceForward() {
	// Local next hops: TTL-1, new Ethernet header, VLAN as bound.
	p := udp4("192.0.2.10", "192.0.2.130", 64)
	g.fwd("ce.local.cust_a.ipv4.vlan_added", "", "ce-a", fr(nCEA.in(etIPv4), p.L()), nCEA2, fr(nCEA2.out(etIPv4), p.withTTL(63).L()), "CE 8 local")
	g.fwd("ce.local.cust_b.same_packet.ipv4.vlan_added", "", "ce-b", fr(nCEB.in(etIPv4), p.L()), nCEB2, fr(nCEB2.out(etIPv4), p.withTTL(63).L()),
		"CE 8 local: the same packet as ce.local.cust_a.ipv4.vlan_added, another customer")
	q := udp4("192.0.2.130", "192.0.2.10", 64)
	g.fwd("ce.local.cust_a.ipv4.vlan_removed", "", "trunk0", fr(nCEA2.in(etIPv4), q.L()), nCEA, fr(nCEA.out(etIPv4), q.withTTL(63).L()), "CE 8 local")
	g.fwd("ce.local.cust_b.same_packet.ipv4.vlan_removed", "", "trunk0", fr(nCEB2.in(etIPv4), q.L()), nCEB, fr(nCEB.out(etIPv4), q.withTTL(63).L()), "CE 8 local")
	r := udp4("192.0.2.130", "192.0.2.200", 64)
	g.fwd("ce.local.cust_a.ipv4.vlan_changed", "", "trunk0", fr(nCEA2.in(etIPv4), r.L()), nCEA3, fr(nCEA3.out(etIPv4), r.withTTL(63).L()), "CE 8 local: VLAN 100 -> 110")
	g.fwd("ce.local.cust_b.same_packet.ipv4.to_ce_b", "", "trunk0", fr(nCEB2.in(etIPv4), r.L()), nCEB, fr(nCEB.out(etIPv4), r.withTTL(63).L()), "CE 8 local")
	h := udp4("192.0.2.10", "192.0.2.20", 64)
	g.fwd("ce.local.cust_a.ipv4.same_port", "", "ce-a", fr(nCEA.in(etIPv4), h.L()), nCEA, fr(nCEA.out(etIPv4), h.withTTL(63).L()), "CE 8 local: back out the ingress port")
	v := udp6("2001:db8:1::10", "2001:db8:3::10", 64)
	g.fwd("ce.local.cust_a.ipv6.vlan_added", "", "ce-a", fr(nCEA.in(etIPv6), v.L()), nCEA2, fr(nCEA2.out(etIPv6), v.withTTL(63).L()), "CE 8 local")
	w := udp6("2001:db8:3::10", "2001:db8:1::10", 64)
	g.fwd("ce.local.cust_b.ipv6.vlan_removed", "", "trunk0", fr(nCEB2.in(etIPv6), w.L()), nCEB, fr(nCEB.out(etIPv6), w.withTTL(63).L()), "CE 8 local")
	ic := icmp4("192.0.2.10", "192.0.2.130", 64)
	g.fwd("ce.local.cust_a.icmp_echo", "", "ce-a", fr(nCEA.in(etIPv4), ic.L()), nCEA2, fr(nCEA2.out(etIPv4), ic.withTTL(63).L()), "CE 8 local")
	tc := tcp4("192.0.2.10", "192.0.2.130", 443, 50443, 64)
	tc.syn, tc.payload = false, payload(100)
	g.fwd("ce.local.cust_a.tcp", "", "ce-a", fr(nCEA.in(etIPv4), tc.L()), nCEA2, fr(nCEA2.out(etIPv4), tc.withTTL(63).L()), "CE 8 local")
	t2 := udp4("192.0.2.10", "192.0.2.130", 2)
	g.fwd("ce.local.cust_a.ttl2", "", "ce-a", fr(nCEA.in(etIPv4), t2.L()), nCEA2, fr(nCEA2.out(etIPv4), t2.withTTL(1).L()), "CE 7/8: TTL 2 passes, leaves with 1")
	tos := p
	tos.tos = 0xb8
	g.fwd("ce.local.cust_a.tos_kept", "", "ce-a", fr(nCEA.in(etIPv4), tos.L()), nCEA2, fr(nCEA2.out(etIPv4), tos.withTTL(63).L()), "CE 8 local")
	small := p
	small.payload = payload(4)
	g.fwd("ce.local.padding_removed.vlan_added", "", "ce-a", frPad(nCEA.in(etIPv4), small.L()), nCEA2, fr(nCEA2.out(etIPv4), small.withTTL(63).L()),
		"CE 5: a 60-byte padded frame; the padding is cut")
	smallq := q
	smallq.payload = payload(2)
	g.fwd("ce.local.padding_removed.vlan_removed", "", "trunk0", frPad(nCEA2.in(etIPv4), smallq.L()), nCEA, fr(nCEA.out(etIPv4), smallq.withTTL(63).L()),
		"CE 5: a 60-byte padded tagged frame; the padding is cut")
	small6 := v
	small6.payload = nil
	g.fwd("ce.local.cust_a.ipv6.empty_udp", "", "ce-a", frPad(nCEA.in(etIPv6), small6.L()), nCEA2, fr(nCEA2.out(etIPv6), small6.withTTL(63).L()), "CE 8 local")
	gl := udp4("203.0.113.10", "203.0.113.20", 64)
	g.fwd("global.local.ipv4", "", "inet0", fr(nUp.in(etIPv4), gl.L()), nUp, fr(nUp.out(etIPv4), gl.withTTL(63).L()), "CE 8 local in the global table")
	gl6 := udp6("2001:db8:100::10", "2001:db8:100::20", 64)
	g.fwd("global.local.ipv6", "", "inet0", fr(nUp.in(etIPv6), gl6.L()), nUp, fr(nUp.out(etIPv6), gl6.withTTL(63).L()), "CE 8 local in the global table")

	// Remote next hops: push [transport..., VPN].
	push := func(name string, mode string, n nh, in ipPkt, path nh, labels ...uint32) {
		out := in.withTTL(in.ttl - 1)
		tcv := in.tos >> 5
		g.fwd(name, mode, n.port, fr(n.in(in.et()), in.L()), path,
			fr(path.out(etMPLS), stack(tcv, lttl(mode, out.ttl), labels...), out.L()), "CE 8 remote")
	}
	a4 := udp4("192.0.2.10", "192.0.2.70", 64)
	a6 := udp6("2001:db8:1::10", "2001:db8:2::10", 64)
	for _, m := range ttlModes {
		push("ce.push.one_label.cust_a.ipv4."+m, m, nCEA, a4, nP1, 16001, vpnA.one)
		push("ce.push.one_label.cust_b.same_packet.ipv4."+m, m, nCEB, a4, nP1, 16001, vpnB.one)
		push("ce.push.one_label.cust_a.ipv6."+m, m, nCEA, a6, nP1, 16001, vpnA.one)
		push("ce.push.one_label.cust_b.same_packet.ipv6."+m, m, nCEB, a6, nP1, 16001, vpnB.one)
		push("ce.push.two_labels.cust_a.ipv4."+m, m, nCEA, udp4("192.0.2.10", "192.0.2.100", 64), nP2, 16003, 16103, vpnA.two)
		push("ce.push.two_labels.cust_b.ipv4."+m, m, nCEB, udp4("192.0.2.10", "192.0.2.100", 64), nP2, 16003, 16103, vpnB.two)
		push("ce.push.implicit_null.cust_a.ipv4."+m, m, nCEA, udp4("192.0.2.10", "192.0.2.116", 64), nPE2, vpnA.null)
		push("ce.push.implicit_null.cust_b.ipv4."+m, m, nCEB, udp4("192.0.2.10", "192.0.2.116", 64), nPE2, vpnB.null)
		push("ce.push.ttl2.cust_a.ipv4."+m, m, nCEA, udp4("192.0.2.10", "192.0.2.70", 2), nP1, 16001, vpnA.one)
	}
	push("ce.push.one_label.cust_b.vlan200", pipe, nCEB2, udp4("192.0.2.130", "192.0.2.70", 64), nP1, 16001, vpnB.one)
	push("ce.push.one_label.cust_a.vlan110", pipe, nCEA3, udp4("192.0.2.200", "192.0.2.70", 64), nP1, 16001, vpnA.one)
	push("ce.push.icmpv6_echo_is_not_nd", pipe, nCEA, icmp6("2001:db8:1::10", "2001:db8:2::10", 64), nP1, 16001, vpnA.one)
	push("ce.push.tcp_to_port_179_not_infra", pipe, nCEA, tcp4("192.0.2.1", "192.0.2.70", 50179, 179, 64), nP1, 16001, vpnA.one)
	ef := udp4("192.0.2.10", "192.0.2.100", 64)
	ef.tos = 0xb8
	push("ce.push.tc_from_precedence.ef_tos_b8", pipe, nCEA, ef, nP2, 16003, 16103, vpnA.two)
	nc := udp4("192.0.2.10", "192.0.2.70", 64)
	nc.tos = 0xe3
	push("ce.push.tc_from_precedence.tos_e3", pipe, nCEA, nc, nP1, 16001, vpnA.one)
	af := udp6("2001:db8:1::10", "2001:db8:2::10", 64)
	af.tos = 0x68
	push("ce.push.tc_from_precedence.ipv6_tclass_68", uniform, nCEA, af, nP1, 16001, vpnA.one)
	push("global.push.ipv4", pipe, nUp, udp4("203.0.113.10", "203.0.113.140", 64), nP1, 16001, lGlobalV4Rem)
	push("global.push.ipv6", pipe, nUp, udp6("2001:db8:100::10", "2001:db8:200::10", 64), nP1, 16001, lGlobalV6Rem)
	pad := a4
	pad.payload = payload(4)
	g.fwd("ce.push.padding_removed", pipe, "ce-a", frPad(nCEA.in(etIPv4), pad.L()), nP1,
		fr(nP1.out(etMPLS), stack(0, 255, 16001, vpnA.one), pad.withTTL(63).L()), "CE 5: padding cut before the push")

	// ECMP tunnel: the flow hash over the IP words picks the path.
	paths := tunnels[tunECMP]
	for _, fam := range []string{"ipv4", "ipv6"} {
		mk := func(i uint16) ipPkt {
			if fam == "ipv4" {
				x := udp4("192.0.2.10", "192.0.2.85", 64)
				x.dport = 5000 + i
				return x
			}
			x := udp6("2001:db8:1::10", "2001:db8:2:80::10", 64)
			x.dport = 5000 + i
			return x
		}
		for want := range paths {
			i := findFlow(want, len(paths), func(i uint16) []byte { x := mk(i); return fr(nCEA.in(x.et()), x.L()) })
			x := mk(i)
			pth := paths[want]
			n := nh{pth.Port, pth.VLAN, pth.MAC}
			push(fmt.Sprintf("ce.push.ecmp.%s.path%d", fam, want), pipe, nCEA, x, n, pth.Labels[0], vpnA.ecmp)
		}
	}

	// Step 9.
	big := func(l3 int) ipPkt {
		x := udp4("192.0.2.10", "192.0.2.121", 64)
		x.payload = payload(l3 - 28)
		return x
	}
	g.drop("ce.mtu_exceeded.push", "", "ce-a", fr(nCEA.in(etIPv4), big(196).L()), "mtu_exceeded",
		"CE 9: 196 bytes of IP fit core-small's MTU 200, with 2 labels pushed they do not")
	push("ce.mtu.push_exactly_mtu", pipe, nCEA, big(192), nPS, 16005, vpnA.small)
	g.drop("ce.mtu_exceeded.push.cust_b_vlan200", "", "trunk0", fr(nCEB2.in(etIPv4), big(193).L()), "mtu_exceeded", "CE 9: 193+8 > 200")
}

// ---------------------------------------------------------------------------
// Core ports: steps 1-3 and frames that are not labelled.

func (g *gen) coreIngress() {
	p := udp4("192.0.2.70", "192.0.2.10", 60)
	lab := fr(nP1.in(etMPLS), stack(0, 64, lSwap), p.L())

	g.kernel("core.kernel.ipv4_bgp", "", "core0", frPad(nP1.in(etIPv4), tcp4("198.51.100.2", "198.51.100.1", 50179, 179, 1).L()), "core 2")
	g.kernel("core.kernel.ipv4_to_customer_prefix", "", "core1", fr(nP2.in(etIPv4), p.L()), "core 2: IP on a core port is not routed")
	g.kernel("core.kernel.ipv4_ttl1", "", "core0", fr(nP1.in(etIPv4), udp4("198.51.100.2", "198.51.100.1", 1).L()), "core 2: untouched, even TTL 1")
	g.kernel("core.kernel.ipv6", "", "core0", fr(nP1.in(etIPv6), udp6("2001:db8:ffff::2", "2001:db8:ffff::1", 64).L()), "core 2")
	g.kernel("core.kernel.arp", "", "core0", arpFrame(nP1, 0, layers.ARPRequest, "198.51.100.2", "198.51.100.3"), "core 2")
	g.kernel("core.kernel.nd", "", "core1", ndFrame(nP2, 0, 135), "core 2")
	g.kernel("core.kernel.lldp", "", "core0", lldpFrame(nP1), "core 2")
	g.kernel("core.kernel.vlan_tagged_ipv4", "", "core0", fr(nP1.inVLAN(10, etIPv4), udp4("198.51.100.2", "198.51.100.1", 64).L()), "core 2 behind a tag")

	g.drop("core.malformed.short_ethernet_13", "", "core0", cut(lab, 13), "malformed", "core 1")
	g.drop("core.malformed.short_vlan_header_17", "", "core0", cut(fr(nP1.inVLAN(10, etMPLS), stack(0, 64, lSwap), p.L()), 17), "malformed", "core 1")
	g.drop("core.malformed.mpls_no_entry", "", "core0", cut(lab, 14), "malformed", "core 3: truncated")
	g.drop("core.malformed.mpls_partial_entry", "", "core0", cut(lab, 16), "malformed", "core 3: truncated")
	g.drop("core.malformed.stack_truncated_without_bos", "", "core0",
		fr(nP1.in(etMPLS), []sl{lse(lSwap, 0, false, 64), lse(vpnA.one, 0, false, 64), lse(vpnA.two, 0, false, 64)}), "malformed",
		"core 3: the frame ends before an S bit")
	g.drop("core.malformed.vlan_tagged_stack_truncated", "", "core1",
		cut(fr(nP2.inVLAN(10, etMPLS), stack(0, 64, lSwap, lVRFA), p.L()), 18+6), "malformed", "core 3: truncated")

	deep := func(n, bos int) []sl {
		var s []sl
		for i := 0; i < n; i++ {
			l := uint32(lSwap)
			if i > 0 {
				l = uint32(20000 + i)
			}
			s = append(s, lse(l, 0, i+1 == bos, 64))
		}
		return s
	}
	g.drop("core.stack_too_deep.nine_without_bos", "", "core0", fr(nP1.in(etMPLS), deep(10, 10), p.L()), "stack_too_deep",
		"core 3: 9 entries without S (bottom at 10)")
	g.drop("core.stack_too_deep.bos_at_9", "", "core0", fr(nP1.in(etMPLS), deep(9, 9), p.L()), "stack_too_deep",
		"core 3: no S within the first MaxStackDepth (8) entries")
	g.drop("core.stack_too_deep.eight_without_bos_then_end", "", "core0", fr(nP1.in(etMPLS), deep(8, 0)), "stack_too_deep",
		"core 3: 8 whole entries read, none with S")
	out8 := deep(8, 8)
	out8[0] = lse(2000, 0, false, 63)
	g.fwd("core.swap.stack_depth8", "", "core0", fr(nP1.in(etMPLS), deep(8, 8), p.L()), nP2, fr(nP2.out(etMPLS), out8, p.L()),
		"core 3/4: S on the 8th entry is within MaxStackDepth")
}

// ---------------------------------------------------------------------------
// Core ports: transit (swap, swap and push, PHP) and LFIB misses.

func (g *gen) coreTransit() {
	p := udp4("192.0.2.70", "192.0.2.10", 60)
	p6 := udp6("2001:db8:2::10", "2001:db8:1::10", 60)

	g.drop("core.no_label.99999", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lUnknown), p.L()), "no_label", "core 4: LFIB miss")
	g.drop("core.no_label.16", "", "core1", fr(nP2.in(etMPLS), stack(0, 64, 16, vpnA.one), p.L()), "no_label", "core 4: LFIB miss, first unreserved label")
	g.drop("core.no_label.dynamic_range", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 1048575), p.L()), "no_label", "core 4: LFIB miss")
	g.drop("core.ttl_expired.swap_ttl1", "", "core0", fr(nP1.in(etMPLS), stack(0, 1, lSwap), p.L()), "ttl_expired", "core 4: TTL <= 1")
	g.drop("core.ttl_expired.swap_ttl0", "", "core0", fr(nP1.in(etMPLS), stack(0, 0, lSwap), p.L()), "ttl_expired", "core 4: TTL <= 1")
	g.drop("core.ttl_expired.php_ttl1", "", "core0", fr(nP1.in(etMPLS), stack(0, 1, lPHP, vpnA.one), p.L()), "ttl_expired", "core 4: TTL <= 1")
	g.drop("core.ttl_expired.swap_and_push_ttl1", "", "core0", fr(nP1.in(etMPLS), stack(0, 1, lSwapPush), p.L()), "ttl_expired", "core 4: TTL <= 1")

	for _, m := range ttlModes {
		// swap: TTL-1, TC and S kept; the same in both modes.
		g.fwd("core.swap.bos."+m, m, "core0", fr(nP1.in(etMPLS), []sl{lse(lSwap, 3, true, 64)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2000, 3, true, 63)}, p.L()), "core 4 swap")
		g.fwd("core.swap.vpn_below."+m, m, "core0", fr(nP1.in(etMPLS), []sl{lse(lSwap, 1, false, 100), lse(vpnA.one, 1, true, 255)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2000, 1, false, 99), lse(vpnA.one, 1, true, 255)}, p.L()), "core 4 swap")
		// swap and push: the last path label replaces the top entry (incoming S, TTL-1);
		// the ones above it are pushed (S=0, pipe 255 / uniform TTL-1); TC kept on all.
		g.fwd("core.swap_and_push.vpn_below."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(lSwapPush, 2, false, 64), lse(vpnA.one, 2, true, 255)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2001, 2, false, ifu(m, 63, 255)), lse(2101, 2, false, 63), lse(vpnA.one, 2, true, 255)}, p.L()),
			"core 4 swap with two path labels")
		g.fwd("core.swap_and_push.bos."+m, m, "core1",
			fr(nP2.in(etMPLS), []sl{lse(lSwapPush, 0, true, 64)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2001, 0, false, ifu(m, 63, 255)), lse(2101, 0, true, 63)}, p.L()),
			"core 4 swap with two path labels, S=1 kept on the last")
		// PHP.
		g.fwd("core.php.not_bos."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(lPHP, 4, false, 64), lse(vpnA.one, 0, true, 255)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(vpnA.one, 0, true, ifu(m, 63, 255))}, p.L()), "core 4 pop, S=0: uniform writes the popped TTL-1")
		g.fwd("core.php.bos.ipv4."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(lPHP, 4, true, 50)}, p.L()), nP2,
			fr(nP2.out(etIPv4), p.withTTL(ifu(m, 49, 60)).L()), "core 4 pop, S=1, IPv4: uniform writes the popped TTL-1")
		g.fwd("core.php.bos.ipv6."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(lPHP, 0, true, 50)}, p6.L()), nP2,
			fr(nP2.out(etIPv6), p6.withTTL(ifu(m, 49, 60)).L()), "core 4 pop, S=1, IPv6")
	}
	g.fwd("core.swap.ethertype_8848", "", "core0", fr(nP1.in(etMPLM), stack(0, 64, lSwap), p.L()), nP2,
		fr(nP2.out(etMPLS), stack(0, 63, 2000), p.L()), "core 2/4: 0x8848 is accepted; the new Ethernet header has 0x8847")
	g.fwd("core.swap.ipv6_payload", "", "core1", fr(nP2.in(etMPLS), stack(5, 64, lSwap), p6.L()), nP2,
		fr(nP2.out(etMPLS), stack(5, 63, 2000), p6.L()), "core 4 swap")
	g.fwd("core.swap.vlan_tagged_ingress", "", "core0", fr(nP1.inVLAN(10, etMPLS), stack(0, 64, lSwap), p.L()), nP2,
		fr(nP2.out(etMPLS), stack(0, 63, 2000), p.L()), "core 1: the ingress VLAN is not used; tag removed")
	g.fwd("core.swap.vlan_tagged_next_hop", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lSwapVLAN, vpnA.one), p.L()), nP3,
		fr(nP3.out(etMPLS), []sl{lse(2005, 0, false, 63), lse(vpnA.one, 0, true, 64)}, p.L()), "Ethernet rewrite: tag of the next hop (VLAN 20)")
	g.fwd("core.swap.vlan_changed", "", "core0", fr(nP1.inVLAN(10, etMPLS), stack(0, 64, lSwapVLAN), p.L()), nP3,
		fr(nP3.out(etMPLS), stack(0, 63, 2005), p.L()), "core: VLAN 10 in, VLAN 20 out")
	g.fwd("core.swap.back_out_ingress_port", "", "core1", fr(nP2.in(etMPLS), stack(0, 64, lSwap), p.L()), nP2,
		fr(nP2.out(etMPLS), stack(0, 63, 2000), p.L()), "core 4 swap")

	// PHP details.
	small := p
	small.payload = payload(2)
	g.fwd("core.php.bos.padding_removed", pipe, "core0", frPad(nP1.in(etMPLS), stack(0, 64, lPHP), small.L()), nP2,
		fr(nP2.out(etIPv4), small.L()), "core 4 pop, S=1: the IP header is checked as on CE ports, padding cut")
	g.drop("core.php.bos.non_ip.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lPHP), []sl{gopacket.Payload(make([]byte, 46))}), "malformed",
		"core 4 pop, S=1: version nibble 0")
	full := fr(nP1.in(etMPLS), stack(0, 64, lPHP), p.L())
	g.drop("core.php.bos.ipv4_truncated.malformed", "", "core0", cut(full, len(full)-3), "malformed", "core 4 pop, S=1: IP checked")
	rest := fr(nP1.in(etIPv4), p.L())[14+20:]
	g.drop("core.php.bos.ipv4_ihl4.malformed", "", "core0", badIPv4(cat(nP1.in(etMPLS), stack(0, 64, lPHP)), p, 4, uint16(20+len(rest)), rest), "malformed",
		"core 4 pop, S=1: IHL < 5")
	full6 := fr(nP1.in(etMPLS), stack(0, 64, lPHP), p6.L())
	g.drop("core.php.bos.ipv6_truncated.malformed", "", "core0", cut(full6, 14+4+39), "malformed", "core 4 pop, S=1: IP checked")

	// ECMP: the flow hash over the received labels and the IP words.
	for _, c := range []struct {
		name  string
		label uint32
		paths []nh
		out   []uint32
	}{
		{"core.swap.ecmp", lSwapECMP, []nh{nP1, nP2}, []uint32{2004, 3004}},
		{"core.php.ecmp", lPopECMP, []nh{nP1, nP2}, nil},
	} {
		for want := range c.paths {
			mk := func(i uint16) ipPkt { x := udp4("192.0.2.70", "192.0.2.10", 60); x.dport = 5000 + i; return x }
			in := func(x ipPkt) []byte { return fr(nP1.in(etMPLS), stack(0, 64, c.label, vpnA.one), x.L()) }
			i := findFlow(want, len(c.paths), func(i uint16) []byte { return in(mk(i)) })
			x := mk(i)
			var out []sl
			if c.out != nil {
				out = []sl{lse(c.out[want], 0, false, 63)}
			}
			out = append(out, lse(vpnA.one, 0, true, 64))
			g.fwd(fmt.Sprintf("%s.path%d", c.name, want), pipe, "core0", in(x), c.paths[want],
				fr(c.paths[want].out(etMPLS), out, x.L()), "flow hash: labels and IP 5-tuple")
		}
	}
	// IPv6 under the ECMP swap.
	for want := range 2 {
		mk := func(i uint16) ipPkt { x := udp6("2001:db8:2::10", "2001:db8:1::10", 60); x.dport = 5000 + i; return x }
		in := func(x ipPkt) []byte { return fr(nP2.in(etMPLS), stack(0, 64, lSwapECMP), x.L()) }
		i := findFlow(want, 2, func(i uint16) []byte { return in(mk(i)) })
		x := mk(i)
		pth := []nh{nP1, nP2}[want]
		g.fwd(fmt.Sprintf("core.swap.ecmp.ipv6.path%d", want), pipe, "core1", in(x), pth,
			fr(pth.out(etMPLS), stack(0, 63, []uint32{2004, 3004}[want]), x.L()), "flow hash: label and IPv6 5-tuple")
	}

	// MTU after a swap with push.
	big := func(l3 int) ipPkt { x := udp4("192.0.2.70", "192.0.2.10", 60); x.payload = payload(l3 - 28); return x }
	g.drop("core.mtu_exceeded.swap_and_push", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lSwapSmall, vpnA.one), big(192).L()), "mtu_exceeded",
		"core 5: 200 bytes in, 204 out of core-small (MTU 200)")
	g.fwd("core.mtu.swap_and_push_exactly_mtu", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lSwapSmall, vpnA.one), big(188).L()), nPS,
		fr(nPS.out(etMPLS), []sl{lse(2006, 0, false, 255), lse(2106, 0, false, 63), lse(vpnA.one, 0, true, 64)}, big(188).L()),
		"core 5: exactly the MTU is allowed")
}

// ---------------------------------------------------------------------------
// Core ports: VPN labels (pop-to-vrf, pop-to-nexthop).

func (g *gen) coreVPN() {
	c := udp4("192.0.2.70", "192.0.2.10", 60)
	c6 := udp6("2001:db8:2::10", "2001:db8:1::10", 60)
	in := func(n nh, label uint32, tc, ttl uint8, p ipPkt) []byte {
		return fr(n.in(etMPLS), []sl{lse(label, tc, true, ttl)}, p.L())
	}
	// new IP TTL = (uniform: popped TTL; pipe: IP TTL) - 1
	for _, m := range ttlModes {
		g.fwd("core.pop_to_vrf.cust_a.ipv4."+m, m, "core0", in(nP1, lVRFA, 0, 40, c), nCEA,
			fr(nCEA.out(etIPv4), c.withTTL(ifu(m, 39, 59)).L()), "core 4 pop-to-VRF")
		g.fwd("core.pop_to_vrf.cust_b.same_packet.ipv4."+m, m, "core0", in(nP1, lVRFB, 0, 40, c), nCEB,
			fr(nCEB.out(etIPv4), c.withTTL(ifu(m, 39, 59)).L()), "core 4 pop-to-VRF: the same packet, cust-b's label, cust-b's CE")
		g.fwd("core.pop_to_vrf.cust_a.ipv6."+m, m, "core1", in(nP2, lVRFA, 0, 40, c6), nCEA,
			fr(nCEA.out(etIPv6), c6.withTTL(ifu(m, 39, 59)).L()), "core 4 pop-to-VRF")
		g.fwd("core.pop_to_nexthop.cust_a.no_lookup."+m, m, "core0", in(nP1, lCEA, 0, 40, udp4("192.0.2.70", "192.0.2.130", 60)), nCEA,
			fr(nCEA.out(etIPv4), udp4("192.0.2.70", "192.0.2.130", ifu(m, 39, 59)).L()),
			"core 4 pop-to-next-hop: out CE-A although cust-a would route 192.0.2.130 to trunk0")
		g.fwd("core.pop_to_nexthop.cust_b.ipv6."+m, m, "core0", in(nP1, lCEB, 0, 40, c6), nCEB,
			fr(nCEB.out(etIPv6), c6.withTTL(ifu(m, 39, 59)).L()), "core 4 pop-to-next-hop")
		g.drop("core.ttl_expired.pop_to_vrf_mpls_ttl1."+m, m, "core0", in(nP1, lVRFA, 0, 1, c), "ttl_expired", "core 4: TTL <= 1 before the operation")
		g.drop("core.ttl_expired.pop_to_nexthop_mpls_ttl1."+m, m, "core0", in(nP1, lCEA, 0, 1, c), "ttl_expired", "core 4: TTL <= 1 before the operation")
		// A remote route pushes again with the new IP TTL as the base; TC from the IP precedence.
		r := udp4("192.0.2.130", "192.0.2.70", 60)
		r.tos = 0x20
		g.fwd("core.pop_to_vrf.remote_push_again."+m, m, "core0", in(nP2, lVRFA, 6, 40, r), nP1,
			fr(nP1.out(etMPLS), stack(1, lttl(m, ifu(m, 39, 59)), 16001, vpnA.one), r.withTTL(ifu(m, 39, 59)).L()),
			"core 4 pop-to-VRF to a remote next hop: push again")
	}
	g.fwd("core.pop_to_vrf.cust_a.vlan_added", pipe, "core0", in(nP1, lVRFA, 0, 255, udp4("192.0.2.70", "192.0.2.130", 60)), nCEA2,
		fr(nCEA2.out(etIPv4), udp4("192.0.2.70", "192.0.2.130", 59).L()), "core 4 pop-to-VRF out a tagged CE")
	g.fwd("core.pop_to_vrf.cust_b.same_packet.vlan_added", pipe, "core0", in(nP1, lVRFB, 0, 255, udp4("192.0.2.70", "192.0.2.130", 60)), nCEB2,
		fr(nCEB2.out(etIPv4), udp4("192.0.2.70", "192.0.2.130", 59).L()), "core 4 pop-to-VRF out a tagged CE")
	v6t := udp6("2001:db8:2::10", "2001:db8:3::10", 60)
	g.fwd("core.pop_to_vrf.cust_b.ipv6.vlan_added", pipe, "core1", in(nP2, lVRFB, 0, 255, v6t), nCEB2,
		fr(nCEB2.out(etIPv6), v6t.withTTL(59).L()), "core 4 pop-to-VRF out a tagged CE")
	g.fwd("core.pop_to_vrf.cust_a.vlan110", pipe, "core0", in(nP1, lVRFA, 0, 255, udp4("192.0.2.70", "192.0.2.222", 60)), nCEA3,
		fr(nCEA3.out(etIPv4), udp4("192.0.2.70", "192.0.2.222", 59).L()), "core 4 pop-to-VRF out a tagged CE")
	g.fwd("core.pop_to_nexthop.cust_b.vlan_added", pipe, "core0", in(nP1, lCEB2, 0, 255, c), nCEB2,
		fr(nCEB2.out(etIPv4), c.withTTL(59).L()), "core 4 pop-to-next-hop out a tagged CE")
	g.drop("core.pop_to_vrf.ttl_expired.ip_ttl1.pipe", pipe, "core0", in(nP1, lVRFA, 0, 64, c.withTTL(1)), "ttl_expired",
		"core 4 pop-to-VRF, pipe: IP TTL 1 - 1 = 0")
	g.drop("core.pop_to_vrf.ttl_expired.ipv6_hop_limit1.pipe", pipe, "core0", in(nP1, lVRFB, 0, 64, c6.withTTL(1)), "ttl_expired",
		"core 4 pop-to-VRF, pipe: hop limit 1 - 1 = 0")
	g.drop("core.pop_to_nexthop.ttl_expired.ip_ttl1.pipe", pipe, "core0", in(nP1, lCEA, 0, 64, c.withTTL(1)), "ttl_expired",
		"core 4 pop-to-next-hop, pipe: IP TTL 1 - 1 = 0")
	g.fwd("core.pop_to_vrf.ip_ttl1.uniform_uses_label_ttl", uniform, "core0", in(nP1, lVRFA, 0, 10, c.withTTL(1)), nCEA,
		fr(nCEA.out(etIPv4), c.withTTL(9).L()), "core 4 pop-to-VRF, uniform: new IP TTL = popped TTL - 1, the IP TTL is not used")
	g.drop("core.pop_to_vrf.not_bos.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lVRFA, lVRFB), c.L()), "malformed",
		"core 4 pop-to-VRF: a VPN label with S=0")
	g.drop("core.pop_to_nexthop.not_bos.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lCEA, vpnA.one), c.L()), "malformed",
		"core 4 pop-to-next-hop: a VPN label with S=0")
	g.drop("core.pop_to_vrf.non_ip.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, lVRFA), []sl{gopacket.Payload(make([]byte, 46))}), "malformed",
		"core 4 pop-to-VRF: payload not IP")
	full := in(nP1, lVRFA, 0, 64, c)
	g.drop("core.pop_to_vrf.ipv4_truncated.malformed", "", "core0", cut(full, len(full)-1), "malformed", "core 4 pop-to-VRF: IP checked")
	g.drop("core.pop_to_nexthop.ipv6_truncated.malformed", "", "core0", cut(in(nP1, lCEB, 0, 64, c6), 14+4+30), "malformed", "core 4 pop-to-next-hop: IP checked")
	g.drop("core.pop_to_vrf.no_route", "", "core0", in(nP1, lVRFA, 0, 64, udp4("192.0.2.70", "203.0.113.5", 60)), "no_route", "core 4 pop-to-VRF: miss")
	g.drop("core.pop_to_vrf.no_route.core_prefix", "", "core0", in(nP1, lVRFB, 0, 64, udp4("192.0.2.70", "198.51.100.1", 60)), "no_route",
		"core 4 pop-to-VRF: no ACL step, and the router's address is not a cust-b route")
	small := c
	small.payload = payload(2)
	g.fwd("core.pop_to_vrf.padding_removed", pipe, "core0", frPad(nP1.in(etMPLS), stack(0, 64, lVRFA), small.L()), nCEA,
		fr(nCEA.out(etIPv4), small.withTTL(59).L()), "core 4 pop-to-VRF: padding cut")
	g.drop("core.pop_to_vrf.mtu_exceeded.remote", "", "core0",
		fr(nP1.in(etMPLS), stack(0, 64, lVRFA), func() ipPkt { x := c; x.dst = "192.0.2.124"; x.payload = payload(196 - 28); return x }().L()),
		"mtu_exceeded", "core 4 pop-to-VRF to a remote next hop, core 5: 196 + 8 > 200")

	// Remote ECMP after pop-to-VRF: the hash covers the received stack and the IP words.
	for want := range 2 {
		mk := func(i uint16) ipPkt { x := udp4("192.0.2.130", "192.0.2.85", 60); x.dport = 5000 + i; return x }
		inb := func(x ipPkt) []byte { return in(nP2, lVRFA, 0, 40, x) }
		i := findFlow(want, 2, func(i uint16) []byte { return inb(mk(i)) })
		x := mk(i)
		pth := tunnels[tunECMP][want]
		n := nh{pth.Port, pth.VLAN, pth.MAC}
		g.fwd(fmt.Sprintf("core.pop_to_vrf.remote_ecmp.path%d", want), pipe, "core1", inb(x), n,
			fr(n.out(etMPLS), stack(0, 255, pth.Labels[0], vpnA.ecmp), x.withTTL(59).L()),
			"flow hash of a received frame: VPN label and IP words")
	}
}

// ---------------------------------------------------------------------------
// Core ports: reserved labels.

func (g *gen) coreSpecial() {
	p := udp4("192.0.2.70", "192.0.2.10", 60)
	gi := udp4("203.0.113.140", "203.0.113.10", 64)
	gi6 := udp6("2001:db8:200::10", "2001:db8:100::10", 64)
	p6 := udp6("2001:db8:2::10", "2001:db8:1::10", 60)

	// Explicit null.
	for _, m := range ttlModes {
		g.fwd("core.explicit_null.ipv4.bos."+m, m, "core0", fr(nP1.in(etMPLS), []sl{lse(0, 0, true, 10)}, gi.L()), nUp,
			fr(nUp.out(etIPv4), gi.withTTL(ifu(m, 9, 63)).L()), "core 4 label 0, S=1: like pop-to-VRF into the global table")
		g.fwd("core.explicit_null.ipv6.bos."+m, m, "core0", fr(nP1.in(etMPLS), []sl{lse(2, 0, true, 10)}, gi6.L()), nUp,
			fr(nUp.out(etIPv6), gi6.withTTL(ifu(m, 9, 63)).L()), "core 4 label 2, S=1")
		g.fwd("core.explicit_null.ipv4.not_bos_then_swap."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(0, 0, false, 50), lse(lSwap, 0, true, 64)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2000, 0, true, ifu(m, 49, 63))}, p.L()),
			"core 4 label 0, S=0: uniform copies the popped TTL (50) into the next entry, which is then swapped")
		g.fwd("core.explicit_null.ipv6.not_bos_then_php."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(2, 0, false, 40), lse(lPHP, 0, true, 64)}, p6.withTTL(30).L()), nP2,
			fr(nP2.out(etIPv6), p6.withTTL(ifu(m, 39, 30)).L()),
			"core 4 label 2, S=0: uniform copies 40 into the PHP entry, whose pop then writes 40-1 into the IPv6 header")
		g.fwd("core.explicit_null.ipv4.not_bos_then_vpn."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(0, 0, false, 64), lse(lVRFA, 0, true, 255)}, p.L()), nCEA,
			fr(nCEA.out(etIPv4), p.withTTL(ifu(m, 63, 59)).L()),
			"core 4 label 0, S=0 then pop-to-VRF: uniform copied 64 into the VPN label")
	}
	g.drop("core.explicit_null.ipv4.payload_ipv6.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 0), gi6.L()), "malformed",
		"core 4 label 0, S=1: payload must be IPv4")
	g.drop("core.explicit_null.ipv6.payload_ipv4.malformed", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 2), gi.L()), "malformed",
		"core 4 label 2, S=1: payload must be IPv6")
	full := fr(nP1.in(etMPLS), stack(0, 64, 0), gi.L())
	g.drop("core.explicit_null.ipv4.truncated.malformed", "", "core0", cut(full, len(full)-2), "malformed", "core 4 label 0, S=1: IP checked")
	g.drop("core.explicit_null.ipv4.uniform_mpls_ttl1", uniform, "core0", fr(nP1.in(etMPLS), stack(0, 1, 0), gi.L()), "ttl_expired",
		"core 4 label 0, S=1, uniform: popped TTL 1 - 1 = 0")
	g.drop("core.explicit_null.ipv4.pipe_ip_ttl1", pipe, "core0", fr(nP1.in(etMPLS), stack(0, 64, 0), gi.withTTL(1).L()), "ttl_expired",
		"core 4 label 0, S=1, pipe: IP TTL 1 - 1 = 0")
	g.drop("core.explicit_null.ipv4.no_route", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 0), p.L()), "no_route",
		"core 4 label 0, S=1: 192.0.2.10 is not in the global table")
	g.drop("core.explicit_null.not_bos.no_label", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 0, lUnknown), p.L()), "no_label",
		"core 4 label 0, S=0, then an LFIB miss")
	gr := udp4("203.0.113.10", "203.0.113.140", 64)
	g.fwd("core.explicit_null.ipv4.remote", pipe, "core1", fr(nP2.in(etMPLS), stack(0, 64, 0), gr.L()), nP1,
		fr(nP1.out(etMPLS), stack(0, 255, 16001, lGlobalV4Rem), gr.withTTL(63).L()), "core 4 label 0, S=1 to a remote global route")

	// Entropy label indicator: find entropy labels that hash to either path.
	els := [2]uint32{}
	for want := range 2 {
		i := findFlow(want, 2, func(i uint16) []byte {
			return fr(nP1.in(etMPLS), []sl{lse(lSwapECMP, 0, false, 64), lse(7, 0, false, 64), lse(500000+uint32(i), 0, false, 0),
				lse(vpnA.one, 0, true, 255)}, p.L())
		})
		els[want] = 500000 + uint32(i)
	}
	for want, el := range els {
		pth := []nh{nP1, nP2}[want]
		g.fwd(fmt.Sprintf("core.eli.swap_ecmp_hash_uses_entropy_label.path%d", want), pipe, "core0",
			fr(nP1.in(etMPLS), []sl{lse(lSwapECMP, 0, false, 64), lse(7, 0, false, 64), lse(el, 0, false, 0), lse(vpnA.one, 0, true, 255)}, p.L()), pth,
			fr(pth.out(etMPLS), []sl{lse([]uint32{2004, 3004}[want], 0, false, 63), lse(7, 0, false, 64), lse(el, 0, false, 0), lse(vpnA.one, 0, true, 255)}, p.L()),
			"flow hash: an ELI that is not last makes the hash the entropy label alone (same IP packet, other path)")
		g.fwd(fmt.Sprintf("core.eli.popped_then_php_ecmp.path%d", want), pipe, "core0",
			fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 64), lse(el, 0, false, 0), lse(lPopECMP, 0, false, 64), lse(vpnA.one, 0, true, 255)}, p.L()), pth,
			fr(pth.out(etMPLS), []sl{lse(vpnA.one, 0, true, 255)}, p.L()),
			"core 4 label 7: ELI and entropy label popped; the PHP entry's path comes from the entropy label")
	}
	for _, m := range ttlModes {
		g.fwd("core.eli.popped_then_swap."+m, m, "core0",
			fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 30), lse(els[0], 0, false, 30), lse(lSwap, 0, true, 64)}, p.L()), nP2,
			fr(nP2.out(etMPLS), []sl{lse(2000, 0, true, ifu(m, 29, 63))}, p.L()),
			"core 4 label 7 like explicit null with S=0 (ELI and EL TTL both 30)")
	}
	g.fwd("core.eli.entropy_label_bos.ipv4.pipe", pipe, "core0", fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 64), lse(els[1], 0, true, 0)}, gi.L()), nUp,
		fr(nUp.out(etIPv4), gi.withTTL(63).L()), "core 4 label 7, entropy label S=1: like explicit null S=1, IPv4 from the payload")
	g.fwd("core.eli.entropy_label_bos.ipv6.pipe", pipe, "core0", fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 64), lse(els[0], 0, true, 0)}, gi6.L()), nUp,
		fr(nUp.out(etIPv6), gi6.withTTL(63).L()), "core 4 label 7, entropy label S=1: IPv6 from the payload")
	g.fwd("core.eli.entropy_label_bos.ipv4.uniform", uniform, "core0", fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 20), lse(els[1], 0, true, 20)}, gi.L()), nUp,
		fr(nUp.out(etIPv4), gi.withTTL(19).L()), "core 4 label 7, entropy label S=1, uniform (ELI and EL TTL both 20)")
	g.drop("core.eli.bos.malformed", "", "core0", fr(nP1.in(etMPLS), []sl{lse(7, 0, true, 64)}, p.L()), "malformed", "core 4 label 7 with S=1")
	g.drop("core.eli.entropy_label_bos.non_ip.malformed", "", "core0",
		fr(nP1.in(etMPLS), []sl{lse(7, 0, false, 64), lse(els[0], 0, true, 0)}, []sl{gopacket.Payload(make([]byte, 46))}), "malformed",
		"core 4 label 7, entropy label S=1, payload not IP")

	// Router alert.
	g.kernel("core.router_alert.kernel", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 1, vpnA.one), p.L()), "core 4 label 1")
	g.kernel("core.router_alert.bos.kernel", "", "core1", fr(nP2.in(etMPLS), stack(0, 64, 1), p.L()), "core 4 label 1")
	g.kernel("core.router_alert.ttl1.kernel", "", "core0", fr(nP1.in(etMPLS), stack(0, 1, 1, vpnA.one), p.L()), "core 4 label 1: untouched, no TTL check")

	// Reserved labels.
	for _, l := range []uint32{3, 4, 5, 6, 8, 9, 10, 11, 12, 14} {
		g.drop(fmt.Sprintf("core.reserved_label.%d", l), "", "core0", fr(nP1.in(etMPLS), stack(0, 64, l, vpnA.one), p.L()), "reserved_label",
			fmt.Sprintf("core 4 label %d", l))
	}
	ach := []sl{gopacket.Payload(append([]byte{0x10, 0x00, 0x00, 0x07}, payload(40)...))}
	g.drop("core.reserved_label.13_gal", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 13), ach), "reserved_label", "core 4 label 13 (GAL, then an ACH)")
	g.drop("core.reserved_label.13_gal_below_explicit_null", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 0, 13), ach), "reserved_label",
		"core 4 label 0, S=0, then label 13")
	g.drop("core.reserved_label.15_extension", "", "core0", fr(nP1.in(etMPLS), stack(0, 64, 15, 100, vpnA.one), p.L()), "reserved_label",
		"core 4 label 15 (extension, RFC 7274)")
	g.drop("core.reserved_label.3_bos", "", "core1", fr(nP2.in(etMPLS), stack(0, 64, 3), p.L()), "reserved_label", "core 4 label 3 (implicit null on the wire)")
}

// ---------------------------------------------------------------------------
// A port with no role.

func (g *gen) noRole() {
	p := udp4("192.0.2.10", "192.0.2.70", 64)
	g.kernel("none.ipv4.kernel", "", "mgmt0", fr(nMgmt.in(etIPv4), p.L()), "Ports: no role, kernel untouched")
	g.kernel("none.mpls.kernel", "", "mgmt0", fr(nMgmt.in(etMPLS), stack(0, 64, lSwap), p.L()), "Ports: no role, kernel untouched")
	g.kernel("none.ttl1.kernel", "", "mgmt0", fr(nMgmt.in(etIPv4), p.withTTL(1).L()), "Ports: no role, kernel untouched")
}

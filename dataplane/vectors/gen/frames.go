// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// sl is one layer of a frame under construction.
type sl = gopacket.SerializableLayer

// nh is a neighbour: a port, the VLAN the neighbour sits on (0 untagged) and its MAC.
// Frames it sends come in on port with its MAC as source; frames to it leave with the
// port's MAC as source and its MAC as destination (dataplane/doc.go "Ethernet rewrite").
type nh struct {
	port string
	vlan uint16
	mac  string
}

func hw(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		panic(fmt.Sprintf("bad MAC %q", s))
	}
	return m
}

func ip4(s string) net.IP {
	a := net.ParseIP(s).To4()
	if a == nil {
		panic("bad IPv4 address " + s)
	}
	return a
}

func ip6(s string) net.IP {
	a := net.ParseIP(s)
	if a == nil || a.To4() != nil {
		panic("bad IPv6 address " + s)
	}
	return a.To16()
}

// ethHdr is an Ethernet II header, with an 802.1Q tag (PCP 0, DEI 0) when vlan is not 0.
func ethHdr(dst, src net.HardwareAddr, vlan uint16, et layers.EthernetType) []sl {
	if vlan == 0 {
		return []sl{&layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: et}}
	}
	return []sl{
		&layers.Ethernet{DstMAC: dst, SrcMAC: src, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: vlan, Type: et},
	}
}

// in is the Ethernet header of a frame the neighbour sends to the router.
func (n nh) in(et layers.EthernetType) []sl {
	return ethHdr(portMAC(n.port), hw(n.mac), n.vlan, et)
}

// inVLAN is as in, on another VLAN than the neighbour's own.
func (n nh) inVLAN(vlan uint16, et layers.EthernetType) []sl {
	return ethHdr(portMAC(n.port), hw(n.mac), vlan, et)
}

// out is the Ethernet header of a frame the router sends to the neighbour.
func (n nh) out(et layers.EthernetType) []sl {
	return ethHdr(hw(n.mac), portMAC(n.port), n.vlan, et)
}

// lse is one label stack entry.
func lse(label uint32, tc uint8, s bool, ttl uint8) *layers.MPLS {
	return &layers.MPLS{Label: label, TrafficClass: tc, StackBottom: s, TTL: ttl}
}

// stack is labels (top first) with one TC and TTL, S set on the last.
func stack(tc, ttl uint8, labels ...uint32) []sl {
	out := make([]sl, len(labels))
	for i, l := range labels {
		out[i] = lse(l, tc, i == len(labels)-1, ttl)
	}
	return out
}

// ipPkt describes an IP packet; L builds fresh gopacket layers for it every time, so
// an expected output is the same description with the fields the rules change.
type ipPkt struct {
	v6      bool
	src     string
	dst     string
	ttl     uint8 // TTL or hop limit
	tos     uint8 // TOS or traffic class
	proto   layers.IPProtocol
	sport   uint16
	dport   uint16
	syn     bool
	id      uint16
	flags   layers.IPv4Flag
	fragOff uint16 // in 8-byte units; non-zero: no L4 header, payload only
	payload []byte
}

func (p ipPkt) withTTL(ttl uint8) ipPkt { p.ttl = ttl; return p }

func (p ipPkt) et() layers.EthernetType {
	if p.v6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

// L is the packet as layers: IP, then UDP/TCP/ICMP, then the payload.
func (p ipPkt) L() []sl {
	var out []sl
	var nl gopacket.NetworkLayer
	if p.v6 {
		ip := &layers.IPv6{Version: 6, TrafficClass: p.tos, NextHeader: p.proto, HopLimit: p.ttl,
			SrcIP: ip6(p.src), DstIP: ip6(p.dst)}
		nl, out = ip, append(out, ip)
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TOS: p.tos, Id: p.id, Flags: p.flags, FragOffset: p.fragOff,
			TTL: p.ttl, Protocol: p.proto, SrcIP: ip4(p.src), DstIP: ip4(p.dst)}
		nl, out = ip, append(out, ip)
	}
	if p.fragOff == 0 {
		switch p.proto {
		case layers.IPProtocolUDP:
			u := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
			must(u.SetNetworkLayerForChecksum(nl))
			out = append(out, u)
		case layers.IPProtocolTCP:
			t := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport),
				Seq: 0x6d706c73, SYN: p.syn, ACK: !p.syn, Window: 16384}
			if !p.syn {
				t.Ack = 0x64700001
				t.PSH = true
			}
			must(t.SetNetworkLayerForChecksum(nl))
			out = append(out, t)
		case layers.IPProtocolICMPv4:
			out = append(out, &layers.ICMPv4{
				TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 0x0707, Seq: 1})
		case layers.IPProtocolICMPv6:
			i := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
			must(i.SetNetworkLayerForChecksum(nl))
			out = append(out, i, &layers.ICMPv6Echo{Identifier: 0x0707, SeqNumber: 1})
		}
	}
	if len(p.payload) > 0 {
		out = append(out, gopacket.Payload(p.payload))
	}
	return out
}

// payload is n deterministic bytes.
func payload(n int) []byte {
	const text = "mplsdp packet vector payload 0123456789abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, n)
	for i := range b {
		b[i] = text[i%len(text)]
	}
	return b
}

func udp4(src, dst string, ttl uint8) ipPkt {
	return ipPkt{src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolUDP, sport: 40000, dport: 5000,
		id: 0x4d50, payload: payload(32)}
}

func udp6(src, dst string, ttl uint8) ipPkt {
	return ipPkt{v6: true, src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolUDP, sport: 40000, dport: 5000,
		payload: payload(32)}
}

func tcp4(src, dst string, sport, dport uint16, ttl uint8) ipPkt {
	return ipPkt{src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolTCP, sport: sport, dport: dport,
		syn: true, id: 0x4247}
}

func tcp6(src, dst string, sport, dport uint16, ttl uint8) ipPkt {
	return ipPkt{v6: true, src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolTCP, sport: sport, dport: dport,
		syn: true}
}

func icmp4(src, dst string, ttl uint8) ipPkt {
	return ipPkt{src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolICMPv4, id: 0x1c4d, payload: payload(24)}
}

func icmp6(src, dst string, ttl uint8) ipPkt {
	return ipPkt{v6: true, src: src, dst: dst, ttl: ttl, proto: layers.IPProtocolICMPv6, payload: payload(24)}
}

func cat(parts ...[]sl) []sl {
	var out []sl
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var serOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

func serialize(opts gopacket.SerializeOptions, ls []sl) []byte {
	buf := gopacket.NewSerializeBuffer()
	must(gopacket.SerializeLayers(buf, opts, ls...))
	return append([]byte(nil), buf.Bytes()...)
}

// fr serializes a frame (first layer Ethernet) without the padding to 60 bytes that
// layers.Ethernet adds: the pipeline sees and sends frames without FCS or minimum size.
func fr(parts ...[]sl) []byte {
	ls := cat(parts...)
	if _, ok := ls[0].(*layers.Ethernet); !ok {
		panic("frame does not start with Ethernet")
	}
	b := serialize(serOpts, ls)
	n := 14
	if len(ls) > 1 {
		n += len(serialize(serOpts, ls[1:]))
	}
	return b[:n]
}

// frPad serializes a frame with layers.Ethernet's padding to the 60-byte minimum, as a
// NIC delivers a short frame.
func frPad(parts ...[]sl) []byte { return serialize(serOpts, cat(parts...)) }

// cut is the first n bytes of frame b (a truncated frame).
func cut(b []byte, n int) []byte {
	if n > len(b) {
		panic("cut beyond the frame")
	}
	return append([]byte(nil), b[:n]...)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// fnv1a is the flow hash: FNV-1a over 32-bit words, then MurmurHash3's finaliser
// (dataplane/doc.go "Flow hash").
func fnv1a(words []uint32) uint32 {
	h := uint32(2166136261)
	for _, w := range words {
		h = (h ^ w) * 16777619
	}
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// flowWords reads the words the flow hash covers out of a received frame, following
// dataplane/doc.go "Flow hash" on the bytes (not on the description the frame was built from).
func flowWords(f []byte) []uint32 {
	et := binary.BigEndian.Uint16(f[12:])
	p := f[14:]
	if et == 0x8100 {
		et = binary.BigEndian.Uint16(f[16:])
		p = f[18:]
	}
	var words []uint32
	if et == 0x8847 || et == 0x8848 {
		var labels []uint32
		for {
			e := binary.BigEndian.Uint32(p)
			p = p[4:]
			labels = append(labels, e>>12)
			if e&0x100 != 0 {
				break
			}
		}
		for i, l := range labels {
			if l == 7 && i < len(labels)-1 {
				return []uint32{labels[i+1]}
			}
		}
		words = labels
	}
	if len(p) == 0 {
		return words
	}
	switch p[0] >> 4 {
	case 4:
		if len(p) < 20 {
			return words
		}
		words = append(words, binary.BigEndian.Uint32(p[12:]), binary.BigEndian.Uint32(p[16:]), uint32(p[9]))
		ihl := int(p[0]&0xf) * 4
		fragMF := binary.BigEndian.Uint16(p[6:]) & 0x3fff
		if (p[9] == 6 || p[9] == 17) && fragMF == 0 && ihl >= 20 && len(p) >= ihl+4 {
			words = append(words, binary.BigEndian.Uint32(p[ihl:]))
		}
	case 6:
		if len(p) < 40 {
			return words
		}
		for i := 8; i < 40; i += 4 {
			words = append(words, binary.BigEndian.Uint32(p[i:]))
		}
		words = append(words, uint32(p[6]))
		if (p[6] == 6 || p[6] == 17) && len(p) >= 44 {
			words = append(words, binary.BigEndian.Uint32(p[40:]))
		}
	}
	return words
}

// pick is the path index the flow hash gives a received frame among n paths.
func pick(frame []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return int(fnv1a(flowWords(frame)) % uint32(n))
}

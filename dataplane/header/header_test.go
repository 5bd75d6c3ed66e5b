// SPDX-License-Identifier: Apache-2.0

package header

import (
	"encoding/binary"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/lfib"
)

func ipv4Packet(t testing.TB, ttl uint8, tos uint8, payload int) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, TOS: tos, Protocol: layers.IPProtocolUDP,
		SrcIP: []byte{192, 0, 2, 1}, DstIP: []byte{198, 51, 100, 7}}
	udp := &layers.UDP{SrcPort: 1000, DstPort: 2000}
	udp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(make([]byte, payload))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseL2(t *testing.T) {
	eth := func(tags ...uint16) []byte {
		b := make([]byte, 12)
		for _, x := range tags {
			b = binary.BigEndian.AppendUint16(b, x)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  L2
		ok    bool
	}{
		{"empty", nil, L2{}, false},
		{"13 bytes", make([]byte, 13), L2{}, false},
		{"untagged ipv4", eth(0x0800), L2{EtherType: EtherTypeIPv4, Len: 14}, true},
		{"tagged mpls", eth(0x8100, 0xe064, 0x8847), L2{EtherType: EtherTypeMPLS, VLAN: 100, Tagged: true, Len: 18}, true},
		{"tag cut short", eth(0x8100, 0x0064), L2{}, false},
		{"double tag", eth(0x8100, 0x00c8, 0x8100, 0x0001), L2{EtherType: EtherTypeVLAN, VLAN: 200, Tagged: true, Len: 18}, true},
	} {
		got, ok := ParseL2(tc.frame)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: ParseL2 = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPutL2(t *testing.T) {
	dst, src := lfib.MAC{2, 0, 0, 0, 0, 1}, lfib.MAC{2, 0, 0, 0, 0, 2}
	for _, vlan := range []uint16{0, 1, 4094} {
		b := make([]byte, L2Len(vlan)+20)
		PutL2(b, dst, src, vlan, EtherTypeIPv4)
		l2, ok := ParseL2(b)
		if !ok || l2.VLAN != vlan || l2.Tagged != (vlan != 0) || l2.EtherType != EtherTypeIPv4 || l2.Len != L2Len(vlan) {
			t.Errorf("vlan %d: read back %+v", vlan, l2)
		}
		p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
		e, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if e == nil || e.DstMAC.String() != dst.String() || e.SrcMAC.String() != src.String() {
			t.Errorf("vlan %d: gopacket sees %v", vlan, p)
		}
	}
}

func TestIPv4(t *testing.T) {
	b := ipv4Packet(t, 64, 0xb8, 10)
	ip := IPv4(b)
	if !ip.Valid() || ip.TTL() != 64 || ip.TOS() != 0xb8 || ip.Protocol() != ProtoUDP || ip.HeaderLen() != 20 ||
		int(ip.TotalLen()) != len(b) || ip.Src() != [4]byte{192, 0, 2, 1} || ip.Dst() != [4]byte{198, 51, 100, 7} || ip.Fragment() {
		t.Fatalf("accessors wrong on %x", b)
	}
	if ip.ComputeChecksum() != ip.Checksum() {
		t.Fatalf("ComputeChecksum %04x, header has %04x", ip.ComputeChecksum(), ip.Checksum())
	}
	for ttl := 255; ttl >= 0; ttl-- {
		ip.SetTTL(uint8(ttl))
		if ip.TTL() != uint8(ttl) || ip.Checksum() != ip.ComputeChecksum() {
			t.Fatalf("SetTTL(%d): checksum %04x, want %04x", ttl, ip.Checksum(), ip.ComputeChecksum())
		}
	}
	for _, tc := range []struct {
		name string
		mut  func([]byte) []byte
	}{
		{"short", func(b []byte) []byte { return b[:19] }},
		{"version 6", func(b []byte) []byte { b[0] = 0x65; return b }},
		{"ihl 4", func(b []byte) []byte { b[0] = 0x44; return b }},
		{"ihl beyond total length", func(b []byte) []byte { b[0] = 0x4f; return b }},
		{"total length beyond buffer", func(b []byte) []byte { return b[:len(b)-1] }},
		{"total length below header", func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], 19); return b }},
	} {
		c := append([]byte(nil), b...)
		if IPv4(tc.mut(c)).Valid() {
			t.Errorf("%s: Valid", tc.name)
		}
	}
	binary.BigEndian.PutUint16(b[6:], 0x2000) // MF
	if !ip.Fragment() {
		t.Error("MF not seen as a fragment")
	}
}

// ChecksumUpdate must agree with a full recomputation for every old/new word, including
// the sums that wrap to 0x0000 and 0xffff (RFC 1624 section 3).
func TestChecksumUpdate(t *testing.T) {
	for _, tc := range []struct{ sum, old, new uint16 }{
		{0x0000, 0x1234, 0x1235}, {0xffff, 0x0001, 0x0000}, {0xdd2f, 0x5555, 0x3285}, {0x0001, 0xffff, 0x0000},
	} {
		// A two-word "header": [word, filler] whose filler makes the sum tc.sum.
		words := []uint16{tc.old, 0}
		words[1] = ^tc.sum - tc.old // may be off by the end-around carry; recompute below
		full := func(w []uint16) uint16 {
			s := uint32(0)
			for _, x := range w {
				s += uint32(x)
			}
			for s>>16 != 0 {
				s = s&0xffff + s>>16
			}
			return ^uint16(s)
		}
		before := full(words)
		words[0] = tc.new
		want := full(words)
		if got := ChecksumUpdate(before, tc.old, tc.new); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Errorf("ChecksumUpdate(%04x, %04x, %04x) = %04x, want %04x", before, tc.old, tc.new, got, want)
		}
	}
}

func TestIPv6(t *testing.T) {
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv6{Version: 6, TrafficClass: 0xa0, HopLimit: 9, NextHeader: layers.IPProtocolUDP,
		SrcIP: make([]byte, 16), DstIP: append(make([]byte, 15), 1)}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ip, gopacket.Payload(make([]byte, 8))); err != nil {
		t.Fatal(err)
	}
	b := IPv6(buf.Bytes())
	if !b.Valid() || b.TrafficClass() != 0xa0 || b.HopLimit() != 9 || b.NextHeader() != ProtoUDP || b.PayloadLen() != 8 || b.Dst()[15] != 1 {
		t.Fatalf("accessors wrong on %x", []byte(b))
	}
	b.SetHopLimit(8)
	if b.HopLimit() != 8 {
		t.Error("SetHopLimit")
	}
	if IPv6(b[:47]).Valid() || IPv6(b[:39]).Valid() {
		t.Error("truncated IPv6 valid")
	}
}

var sinkU32 uint32

func TestAllocs(t *testing.T) {
	v4 := IPv4(ipv4Packet(t, 64, 0, 0))
	frame := make([]byte, 64)
	if n := testing.AllocsPerRun(100, func() {
		l2, _ := ParseL2(frame)
		PutL2(frame, lfib.MAC{}, lfib.MAC{}, 5, EtherTypeMPLS)
		PutLSE(frame[18:], lfib.MakeLSE(16, 0, true, 1))
		v4.SetTTL(v4.TTL() - 1)
		sinkU32 = uint32(l2.Len) + uint32(LSE(frame[18:])) + uint32(v4.Src()[0])
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzViews feeds arbitrary bytes to every view: no panic, and a view that says Valid
// reads within the bytes it was given.
func FuzzViews(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 13))
	f.Add(ipv4Packet(f, 1, 0, 0))
	f.Add(ipv4Packet(f, 0, 0xff, 40))
	f.Add([]byte{0x4f, 0, 0, 20})
	f.Add(append(make([]byte, 12), 0x81, 0x00, 0x00, 0x64, 0x88, 0x47, 0, 0, 0x11, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l2, ok := ParseL2(b); ok && l2.Len > len(b) {
			t.Fatalf("L2 length %d beyond %d bytes", l2.Len, len(b))
		}
		if ip := IPv4(b); ip.Valid() {
			_ = ip.Src()
			_ = ip.Dst()
			_ = ip.Fragment()
			if int(ip.TotalLen()) > len(b) || ip.HeaderLen() > int(ip.TotalLen()) {
				t.Fatal("valid IPv4 with inconsistent lengths")
			}
			// SetTTL keeps a correct checksum correct (0x0000 and 0xffff are the same sum).
			correct := ip.Checksum() == ip.ComputeChecksum()
			ip.SetTTL(ip.TTL() - 1)
			if c, w := ip.Checksum(), ip.ComputeChecksum(); correct && c != w && c^w != 0xffff {
				t.Fatalf("checksum after SetTTL %04x, want %04x", c, w)
			}
		}
		if ip := IPv6(b); ip.Valid() {
			_ = ip.Src()
			_ = ip.Dst()
			ip.SetHopLimit(ip.HopLimit())
		}
		if len(b) >= LSELen {
			e := LSE(b)
			PutLSE(b, e)
			if LSE(b) != e {
				t.Fatal("LSE round trip")
			}
		}
	})
}

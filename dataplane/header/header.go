// SPDX-License-Identifier: Apache-2.0

// Package header has views over packet headers in a frame's bytes: accessors and in-place
// setters, no decoding into structs and no allocation. A view is valid only after the
// caller checked its length (each type says how); accessors then do no further checks.
package header

import (
	"encoding/binary"

	"github.com/mplsdp/mplsdp/lfib"
)

// Header lengths.
const (
	EthernetLen = 14
	VLANTagLen  = 4
	LSELen      = 4
	IPv4MinLen  = 20
	IPv6Len     = 40
)

// Ethertypes, host order.
const (
	EtherTypeIPv4      uint16 = 0x0800
	EtherTypeARP       uint16 = 0x0806
	EtherTypeVLAN      uint16 = 0x8100
	EtherTypeIPv6      uint16 = 0x86dd
	EtherTypeMPLS      uint16 = 0x8847
	EtherTypeMPLSMulti uint16 = 0x8848
)

// IP protocol numbers used by the pipeline.
const (
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// L2 is what ParseL2 found in front of the network header.
type L2 struct {
	EtherType uint16 // of the payload, behind the tag if there is one
	VLAN      uint16 // 0 when untagged
	Tagged    bool
	Len       int // bytes of Ethernet header and tag
}

// ParseL2 reads the Ethernet header and at most one 802.1Q tag. ok is false when the
// frame is too short for them.
func ParseL2(frame []byte) (l2 L2, ok bool) {
	if len(frame) < EthernetLen {
		return l2, false
	}
	l2.EtherType = binary.BigEndian.Uint16(frame[12:])
	l2.Len = EthernetLen
	if l2.EtherType == EtherTypeVLAN {
		if len(frame) < EthernetLen+VLANTagLen {
			return l2, false
		}
		l2.Tagged = true
		l2.VLAN = binary.BigEndian.Uint16(frame[14:]) & 0x0fff
		l2.EtherType = binary.BigEndian.Uint16(frame[16:])
		l2.Len += VLANTagLen
	}
	return l2, true
}

// L2Len is the length of the Ethernet header written for a VLAN (0: untagged).
func L2Len(vlan uint16) int {
	if vlan != 0 {
		return EthernetLen + VLANTagLen
	}
	return EthernetLen
}

// PutL2 writes an Ethernet header (and a tag with PCP 0 when vlan is not 0) at the start
// of b, which must hold L2Len(vlan) bytes.
func PutL2(b []byte, dst, src lfib.MAC, vlan, etherType uint16) {
	// Array stores rather than copy: the compiler emits plain moves, not a memmove call.
	*(*lfib.MAC)(b[0:6]) = dst
	*(*lfib.MAC)(b[6:12]) = src
	if vlan != 0 {
		binary.BigEndian.PutUint16(b[12:], EtherTypeVLAN)
		binary.BigEndian.PutUint16(b[14:], vlan&0x0fff)
		binary.BigEndian.PutUint16(b[16:], etherType)
		return
	}
	binary.BigEndian.PutUint16(b[12:], etherType)
}

// LSE reads the label stack entry at the start of b (len(b) >= LSELen).
func LSE(b []byte) lfib.LSE { return lfib.LSE(binary.BigEndian.Uint32(b)) }

// PutLSE writes a label stack entry at the start of b (len(b) >= LSELen).
func PutLSE(b []byte, e lfib.LSE) { binary.BigEndian.PutUint32(b, uint32(e)) }

// IPv4 is a view of an IPv4 header (RFC 791):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	|         Identification        |Flags|      Fragment Offset    |
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	|                       Source Address                          |
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Use it only after IPv4.Valid.
type IPv4 []byte

const (
	ipv4TotalLen = 2
	ipv4Flags    = 6
	ipv4TTL      = 8
	ipv4Checksum = 10
	ipv4Src      = 12
	ipv4Dst      = 16
)

// Valid checks the version, that the header is whole, and that the total length covers
// the header and fits in b.
func (b IPv4) Valid() bool {
	if len(b) < IPv4MinLen || b[0]>>4 != 4 {
		return false
	}
	hl := b.HeaderLen()
	tl := int(b.TotalLen())
	return hl >= IPv4MinLen && hl <= tl && tl <= len(b)
}

func (b IPv4) HeaderLen() int   { return int(b[0]&0x0f) * 4 }
func (b IPv4) TOS() uint8       { return b[1] }
func (b IPv4) TotalLen() uint16 { return binary.BigEndian.Uint16(b[ipv4TotalLen:]) }
func (b IPv4) TTL() uint8       { return b[ipv4TTL] }
func (b IPv4) Protocol() uint8  { return b[ipv4TTL+1] }
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipv4Checksum:]) }
func (b IPv4) Src() [4]byte     { return [4]byte(b[ipv4Src : ipv4Src+4]) }
func (b IPv4) Dst() [4]byte     { return [4]byte(b[ipv4Dst : ipv4Dst+4]) }

// Fragment reports whether the packet is a fragment (MF set or a fragment offset), so
// that it carries no transport ports or not all of them.
func (b IPv4) Fragment() bool { return binary.BigEndian.Uint16(b[ipv4Flags:])&0x3fff != 0 }

// FragmentOffset is the fragment offset in 8-byte units; 0 for the first fragment, which
// carries the transport header.
func (b IPv4) FragmentOffset() uint16 { return binary.BigEndian.Uint16(b[ipv4Flags:]) & 0x1fff }

// SetTTL writes the TTL and updates the checksum incrementally (RFC 1624 eqn. 3).
func (b IPv4) SetTTL(ttl uint8) {
	old := binary.BigEndian.Uint16(b[ipv4TTL:])
	b[ipv4TTL] = ttl
	b.SetChecksum(ChecksumUpdate(b.Checksum(), old, binary.BigEndian.Uint16(b[ipv4TTL:])))
}

func (b IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[ipv4Checksum:], c) }

// ComputeChecksum returns the header checksum computed from scratch.
func (b IPv4) ComputeChecksum() uint16 {
	var sum uint32
	hl := b.HeaderLen()
	for i := 0; i+1 < hl; i += 2 {
		if i != ipv4Checksum {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ChecksumUpdate returns an Internet checksum after one 16-bit word changed from old to
// new: HC' = ~(~HC + ~m + m') (RFC 1624 eqn. 3), which also gets 0xffff/0x0000 right.
func ChecksumUpdate(sum, old, new uint16) uint16 {
	s := uint32(^sum) + uint32(^old) + uint32(new)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return ^uint16(s)
}

// IPv6 is a view of an IPv6 fixed header (RFC 8200):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	|                   Source Address (16 bytes)                   |
//	|                Destination Address (16 bytes)                 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Use it only after IPv6.Valid.
type IPv6 []byte

// Valid checks the version and that the payload length fits in b.
func (b IPv6) Valid() bool {
	return len(b) >= IPv6Len && b[0]>>4 == 6 && IPv6Len+int(b.PayloadLen()) <= len(b)
}

func (b IPv6) TrafficClass() uint8 { return b[0]<<4 | b[1]>>4 }
func (b IPv6) PayloadLen() uint16  { return binary.BigEndian.Uint16(b[4:]) }
func (b IPv6) NextHeader() uint8   { return b[6] }
func (b IPv6) HopLimit() uint8     { return b[7] }
func (b IPv6) SetHopLimit(h uint8) { b[7] = h }
func (b IPv6) Src() [16]byte       { return [16]byte(b[8:24]) }
func (b IPv6) Dst() [16]byte       { return [16]byte(b[24:40]) }

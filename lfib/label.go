// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"fmt"
	"strconv"
)

// Label is a 20-bit MPLS label value (RFC 3032).
type Label uint32

// Special-purpose label values (RFC 3032, RFC 7274, IANA "Special-Purpose MPLS Label Values").
const (
	LabelIPv4ExplicitNull Label = 0  // RFC 3032: pop, then the payload is IPv4
	LabelRouterAlert      Label = 1  // RFC 3032: deliver to the control plane
	LabelIPv6ExplicitNull Label = 2  // RFC 3032: pop, then the payload is IPv6
	LabelImplicitNull     Label = 3  // RFC 3032: signalled only, never on the wire
	LabelEntropyIndicator Label = 7  // RFC 6790: the next label is an entropy label
	LabelGAL              Label = 13 // RFC 5586: generic associated channel follows
	LabelOAMAlert         Label = 14 // RFC 3429
	LabelExtension        Label = 15 // RFC 7274: the next label is an extended special-purpose label
	MinLabel              Label = 16 // first label that forwarding entries may use
	MaxLabel              Label = 1<<20 - 1
	MinDynamicLabel       Label = 100000 // labels below this are the static (configured) range
	MaxStaticLabel        Label = MinDynamicLabel - 1
	numLabels                   = 1 << 20
)

// Reserved reports whether l is a special-purpose value (0..15).
func (l Label) Reserved() bool { return l < MinLabel }

// Valid reports whether l fits in 20 bits.
func (l Label) Valid() bool { return l <= MaxLabel }

// Static reports whether l lies in the range for configured labels.
func (l Label) Static() bool { return l >= MinLabel && l <= MaxStaticLabel }

// Dynamic reports whether l lies in the range for allocated labels.
func (l Label) Dynamic() bool { return l >= MinDynamicLabel && l <= MaxLabel }

func (l Label) String() string {
	switch l {
	case LabelIPv4ExplicitNull:
		return "ipv4-explicit-null"
	case LabelRouterAlert:
		return "router-alert"
	case LabelIPv6ExplicitNull:
		return "ipv6-explicit-null"
	case LabelImplicitNull:
		return "implicit-null"
	case LabelEntropyIndicator:
		return "entropy-label-indicator"
	case LabelGAL:
		return "gal"
	case LabelOAMAlert:
		return "oam-alert"
	case LabelExtension:
		return "extension"
	}
	return strconv.FormatUint(uint64(l), 10)
}

// ParseLabel parses a decimal label value and checks it fits in 20 bits.
func ParseLabel(s string) (Label, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > uint64(MaxLabel) {
		return 0, fmt.Errorf("label %q: want an integer in 0..%d", s, MaxLabel)
	}
	return Label(v), nil
}

// LSE is one label stack entry as it appears on the wire (RFC 3032 section 2.1),
// held in host order:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                Label                  | TC  |S|       TTL     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type LSE uint32

// MakeLSE builds a label stack entry; bits beyond each field's width are dropped.
func MakeLSE(l Label, tc uint8, bos bool, ttl uint8) LSE {
	e := LSE(l&MaxLabel)<<12 | LSE(tc&7)<<9 | LSE(ttl)
	if bos {
		e |= 1 << 8
	}
	return e
}

func (e LSE) Label() Label { return Label(e >> 12) }
func (e LSE) TC() uint8    { return uint8(e>>9) & 7 }
func (e LSE) BoS() bool    { return e&(1<<8) != 0 }
func (e LSE) TTL() uint8   { return uint8(e) }

// WithTTL returns e with its TTL replaced.
func (e LSE) WithTTL(ttl uint8) LSE { return e&^0xff | LSE(ttl) }

// WithLabel returns e with its label replaced.
func (e LSE) WithLabel(l Label) LSE { return e&0xfff | LSE(l&MaxLabel)<<12 }

// WithBoS returns e with its bottom-of-stack bit set as given.
func (e LSE) WithBoS(bos bool) LSE {
	if bos {
		return e | 1<<8
	}
	return e &^ (1 << 8)
}

func (e LSE) String() string {
	s := 0
	if e.BoS() {
		s = 1
	}
	return fmt.Sprintf("%s/tc=%d/s=%d/ttl=%d", e.Label(), e.TC(), s, e.TTL())
}

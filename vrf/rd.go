// SPDX-License-Identifier: Apache-2.0

package vrf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RD is a route distinguisher (RFC 4364 section 4.2) in its 8-byte wire encoding, held in
// host order: a 2-byte type field, then a 6-byte value made of an administrator subfield
// and an assigned number subfield.
//
//	type 0: | 0x0000 | 2-byte ASN           | 4-byte assigned number |   "65000:110"
//	type 1: | 0x0001 | 4-byte IPv4 address  | 2-byte assigned number |   "192.0.2.1:5"
//	type 2: | 0x0002 | 4-byte ASN           | 2-byte assigned number |   "4200000000:7"
//
// The zero RD (type 0, 0:0) means "no RD"; the global table has it.
type RD uint64

// RD types (RFC 4364 section 4.2).
const (
	RDType0 = 0 // 2-byte ASN : 4-byte number
	RDType1 = 1 // IPv4 address : 2-byte number
	RDType2 = 2 // 4-byte ASN : 2-byte number
)

// ParseRD parses the textual forms "ASN:number" (type 0 when the ASN fits in 2 bytes,
// else type 2 with a 2-byte number), "IPv4:number" (type 1) and the asdot form
// "high.low:number" of an ASN (RFC 5396), which is encoded as the same ASN in asplain
// would be. Numbers are decimal.
func ParseRD(s string) (RD, error) {
	typ, admin, num, err := parseAdminNumber(s)
	if err != nil {
		return 0, fmt.Errorf("route distinguisher %q: %w", s, err)
	}
	return RD(uint64(typ)<<48 | encodeValue(typ, admin, num)), nil
}

// Type returns the RD's type field.
func (r RD) Type() uint16 { return uint16(r >> 48) }

// String formats r in the form ParseRD reads. An RD of an unknown type prints as
// "type:0xVALUE", which ParseRD does not accept.
func (r RD) String() string {
	typ := r.Type()
	if typ > RDType2 {
		return fmt.Sprintf("%d:%#012x", typ, uint64(r)&valueMask)
	}
	return formatValue(uint8(typ), uint64(r))
}

// MarshalText implements encoding.TextMarshaler, for configuration files.
func (r RD) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseRD.
func (r *RD) UnmarshalText(b []byte) error {
	v, err := ParseRD(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// RT is a route target: a BGP extended community (RFC 4360 section 4, RFC 5668) in its
// 8-byte wire encoding, held in host order: type byte (0x00 2-byte AS specific, 0x01 IPv4
// address specific, 0x02 4-byte AS specific), sub-type byte 0x02 (route target), then the
// 6-byte value laid out as for RD types 0, 1 and 2.
type RT uint64

// rtSubType is the extended-community sub-type of a route target.
const rtSubType = 0x02

// ParseRT parses a route target in the same textual forms as ParseRD.
func ParseRT(s string) (RT, error) {
	typ, admin, num, err := parseAdminNumber(s)
	if err != nil {
		return 0, fmt.Errorf("route target %q: %w", s, err)
	}
	return RT(uint64(typ)<<56 | rtSubType<<48 | encodeValue(typ, admin, num)), nil
}

// String formats t in the form ParseRT reads. An extended community that is not a route
// target of a known type prints as "0xHHHHHHHHHHHHHHHH", which ParseRT does not accept.
func (t RT) String() string {
	typ, sub := uint8(t>>56), uint8(t>>48)
	if typ > RDType2 || sub != rtSubType {
		return fmt.Sprintf("%#016x", uint64(t))
	}
	return formatValue(typ, uint64(t))
}

// MarshalText implements encoding.TextMarshaler, for configuration files.
func (t RT) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseRT.
func (t *RT) UnmarshalText(b []byte) error {
	v, err := ParseRT(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

const valueMask = 1<<48 - 1

// encodeValue lays out the 6-byte value of an RD or an RT.
func encodeValue(typ uint8, admin, num uint64) uint64 {
	if typ == RDType0 {
		return admin<<32 | num
	}
	return admin<<16 | num
}

// formatValue prints the 6-byte value (the low 48 bits of v) for a known type.
func formatValue(typ uint8, v uint64) string {
	v &= valueMask
	switch typ {
	case RDType0:
		return strconv.FormatUint(v>>32, 10) + ":" + strconv.FormatUint(v&0xffffffff, 10)
	case RDType1:
		a := uint32(v >> 16)
		ip := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		return ip.String() + ":" + strconv.FormatUint(v&0xffff, 10)
	default:
		return strconv.FormatUint(v>>16, 10) + ":" + strconv.FormatUint(v&0xffff, 10)
	}
}

const wantForms = "want ASN:number (2-byte ASN, 4-byte number), IPv4:number or 4-byte-ASN:number (2-byte number)"

// parseAdminNumber splits "admin:number" and picks the encoding type.
func parseAdminNumber(s string) (typ uint8, admin, num uint64, err error) {
	a, n, ok := strings.Cut(s, ":")
	if !ok || a == "" || n == "" {
		return 0, 0, 0, errors.New(wantForms)
	}
	num, err = strconv.ParseUint(n, 10, 32)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("assigned number %q: want a decimal integer in 0..4294967295", n)
	}
	switch dots := strings.Count(a, "."); {
	case dots == 3:
		ip, perr := netip.ParseAddr(a)
		if perr != nil || !ip.Is4() {
			return 0, 0, 0, fmt.Errorf("administrator %q: not an IPv4 address", a)
		}
		b := ip.As4()
		typ, admin = RDType1, uint64(b[0])<<24|uint64(b[1])<<16|uint64(b[2])<<8|uint64(b[3])
	case dots == 1: // asdot: high.low
		hi, lo, _ := strings.Cut(a, ".")
		h, herr := strconv.ParseUint(hi, 10, 16)
		l, lerr := strconv.ParseUint(lo, 10, 16)
		if herr != nil || lerr != nil {
			return 0, 0, 0, fmt.Errorf("administrator %q: asdot ASN wants two integers in 0..65535", a)
		}
		admin = h<<16 | l
		typ = RDType0 // like asplain: a 4-byte ASN below 65536 is a 2-byte ASN
		if admin > 0xffff {
			typ = RDType2
		}
	case dots == 0:
		admin, err = strconv.ParseUint(a, 10, 32)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("administrator %q: want an ASN in 0..4294967295 or an IPv4 address", a)
		}
		typ = RDType0
		if admin > 0xffff {
			typ = RDType2
		}
	default:
		return 0, 0, 0, fmt.Errorf("administrator %q: %s", a, wantForms)
	}
	if typ != RDType0 && num > 0xffff {
		kind := "4-byte ASN"
		if typ == RDType1 {
			kind = "IPv4"
		}
		return 0, 0, 0, fmt.Errorf("assigned number %d: with a %s administrator it must fit in 2 bytes (0..65535)", num, kind)
	}
	return typ, admin, num, nil
}

// SPDX-License-Identifier: Apache-2.0

package vrf

import (
	"strings"
	"testing"
)

func TestParseRD(t *testing.T) {
	tests := []struct {
		in   string
		want RD
		out  string // String(); "" = same as in
	}{
		{"65000:110", 65000<<32 | 110, ""},
		{"0:0", 0, ""},
		{"65535:4294967295", 65535<<32 | 4294967295, ""},
		{"192.0.2.1:5", 1<<48 | 0xc0000201<<16 | 5, ""},
		{"255.255.255.255:65535", 1<<48 | 0xffffffff<<16 | 0xffff, ""},
		{"4200000000:7", 2<<48 | 4200000000<<16 | 7, ""},
		{"65536:65535", 2<<48 | 65536<<16 | 65535, ""},
		{"4294967295:0", 2<<48 | 4294967295<<16, ""},
		{"1.10:5", 2<<48 | (1<<16|10)<<16 | 5, "65546:5"}, // asdot
	}
	for _, tt := range tests {
		got, err := ParseRD(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRD(%q) = %#x, %v; want %#x", tt.in, uint64(got), err, uint64(tt.want))
			continue
		}
		out := tt.out
		if out == "" {
			out = tt.in
		}
		if s := got.String(); s != out {
			t.Errorf("RD(%q).String() = %q, want %q", tt.in, s, out)
		}
		if back, err := ParseRD(got.String()); err != nil || back != got {
			t.Errorf("ParseRD(String(%q)) = %v, %v", tt.in, back, err)
		}
		var u RD
		if b, _ := got.MarshalText(); u.UnmarshalText(b) != nil || u != got {
			t.Errorf("text round trip of %q gave %v", tt.in, u)
		}
	}
}

func TestParseRT(t *testing.T) {
	tests := []struct {
		in   string
		want RT
	}{
		{"65000:110", 0x0002<<48 | 65000<<32 | 110},
		{"192.0.2.1:5", 0x0102<<48 | 0xc0000201<<16 | 5},
		{"4200000000:7", 0x0202<<48 | 4200000000<<16 | 7},
	}
	for _, tt := range tests {
		got, err := ParseRT(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRT(%q) = %#x, %v; want %#x", tt.in, uint64(got), err, uint64(tt.want))
			continue
		}
		if s := got.String(); s != tt.in {
			t.Errorf("RT(%q).String() = %q", tt.in, s)
		}
		var u RT
		if b, _ := got.MarshalText(); u.UnmarshalText(b) != nil || u != got {
			t.Errorf("text round trip of %q gave %v", tt.in, u)
		}
	}
}

func TestParseRDBad(t *testing.T) {
	tests := []struct{ in, errHas string }{
		{"", "want ASN:number"},
		{"65000", "want ASN:number"},
		{":5", "want ASN:number"},
		{"65000:", "want ASN:number"},
		{"65000:1:2", "assigned number"},
		{"65000:-1", "assigned number"},
		{"65000:4294967296", "assigned number"},
		{"65000:0x10", "assigned number"},
		{"4294967296:1", "administrator"},
		{"-1:1", "administrator"},
		{"as65000:1", "administrator"},
		{"192.0.2.256:1", "not an IPv4 address"},
		{"192.0.2.1:65536", "must fit in 2 bytes"},
		{"4200000000:65536", "must fit in 2 bytes"},
		{"1.2.3:1", "administrator"},
		{"1.65536:1", "asdot"},
		{"::1:5", "want ASN:number"},
		{"2001:db8::1:5", "assigned number"},
		{" 65000:1", "administrator"},
	}
	for _, tt := range tests {
		if v, err := ParseRD(tt.in); err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), "route distinguisher") {
			t.Errorf("ParseRD(%q) = %v, %v; want an error containing %q", tt.in, v, err, tt.errHas)
		}
		if v, err := ParseRT(tt.in); err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), "route target") {
			t.Errorf("ParseRT(%q) = %v, %v; want an error containing %q", tt.in, v, err, tt.errHas)
		}
	}
}

func TestRDUnknownTypeString(t *testing.T) {
	// Values of unknown types print without panicking and are not parsed back.
	for _, s := range []string{RD(7<<48 | 1).String(), RT(0x4002<<48 | 1).String(), RT(0x0003<<48 | 1).String()} {
		if _, err := ParseRD(s); err == nil {
			t.Errorf("ParseRD(%q) accepted an unknown-type rendering", s)
		}
	}
}

func FuzzParseRD(f *testing.F) {
	for _, s := range []string{"65000:1", "192.0.2.1:5", "4200000000:7", "1.2:3", "", ":", "1.2.3.4.5:6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rd, err := ParseRD(s)
		if err != nil {
			return
		}
		if back, err := ParseRD(rd.String()); err != nil || back != rd {
			t.Fatalf("%q -> %v -> %v, %v", s, rd, back, err)
		}
		rt, err := ParseRT(s)
		if err != nil {
			t.Fatalf("ParseRT(%q) failed where ParseRD worked: %v", s, err)
		}
		if back, err := ParseRT(rt.String()); err != nil || back != rt {
			t.Fatalf("%q -> %v -> %v, %v", s, rt, back, err)
		}
	})
}

// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestFrameSizes builds every scenario's frames at every size: each is the size less
// the FCS and decodes cleanly.
func TestFrameSizes(t *testing.T) {
	tb, err := NewTables(100, [6]byte{2, 0, 0, 0, 3, 0})
	if err != nil {
		t.Fatal(err)
	}
	src, dst := [6]byte{2, 0, 0, 0, 1, 0}, [6]byte{2, 0, 0, 0, 2, 0}
	for _, size := range FrameSizes {
		for _, s := range Scenarios {
			fs, err := s.Frames(tb, size, 8, src, dst)
			if err != nil {
				t.Fatalf("%s %d: %v", s.Name, size, err)
			}
			for _, f := range fs {
				if len(f) != size-FCSLen {
					t.Fatalf("%s %d: %d bytes", s.Name, size, len(f))
				}
				p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
				if p.ErrorLayer() != nil || p.Layer(layers.LayerTypeUDP) == nil {
					t.Fatalf("%s %d: %v", s.Name, size, p)
				}
			}
		}
	}
}

func TestSelect(t *testing.T) {
	for filter, want := range map[string]int{"": 10, "xdp": 5, "p-swap": 2, "pe-push*": 4, "pe-push-1m/afxdp,p-php/xdp": 2} {
		cs, err := Select(filter)
		if err != nil || len(cs) != want {
			t.Errorf("Select(%q) = %d cases, %v; want %d", filter, len(cs), err, want)
		}
	}
	if _, err := Select("nope"); err == nil {
		t.Error(`Select("nope") did not fail`)
	}
}

func TestSpread(t *testing.T) {
	if s := spreadOf([]float64{3, 1, 2}); s != (Spread{2, 1, 3}) {
		t.Errorf("spread %v", s)
	}
	r, ok := ratioSpread([]Sample{{Mpps: 1}, {Mpps: 2}}, []Sample{{Mpps: 2}, {Mpps: 2}})
	if !ok || r != (Spread{0.75, 0.5, 1}) {
		t.Errorf("ratios %v", r)
	}
}

// SPDX-License-Identifier: Apache-2.0

package dataplane_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/vectors"
)

const vectorsFile = "../testdata/vectors.json"

// TestVectors runs every packet vector through the Go pipeline: verdict, egress port,
// drop reason, output bytes and the counter the frame must land in.
func TestVectors(t *testing.T) {
	f := loadVectors(t)
	r, err := f.Fixture.Router()
	if err != nil {
		t.Fatal(err)
	}
	w := r.NewWorker()
	defer w.Close()
	buf := make([]byte, 4096)
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			cfg, err := f.Fixture.Config(v.TTLMode)
			if err != nil {
				t.Fatal(err)
			}
			r.SetConfig(cfg)
			in, err := hex.DecodeString(v.In)
			if err != nil {
				t.Fatal(err)
			}
			port, err := f.Fixture.PortID(v.Port)
			if err != nil {
				t.Fatal(err)
			}
			before := r.Stats()
			p := dataplane.Packet{Buf: buf, Off: dataplane.Headroom, Len: len(in), Port: port}
			copy(buf[p.Off:], in)
			w.Begin()
			got := w.Process(&p)
			w.End()
			after := r.Stats()

			want, err := f.Fixture.Verdict(v)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("verdict: got %v, want %v", got, want)
			}
			if v.Verdict != "drop" {
				out, err := hex.DecodeString(v.Out)
				if err != nil {
					t.Fatal(err)
				}
				if g := p.Frame(); !bytes.Equal(g, out) {
					t.Errorf("output frame differs\n-want\n%s\n+got\n%s", dump(out), dump(g))
				}
			}
			if err := vectors.CountedOnce(before, after, port, want, len(in), p.Len); err != nil {
				t.Error(err)
			}
		})
	}
}

// dump shows a frame decoded, for failure messages.
func dump(b []byte) string {
	return gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default).Dump() + hex.Dump(b)
}

func loadVectors(tb testing.TB) *vectors.File {
	tb.Helper()
	f, err := vectors.Load(vectorsFile)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

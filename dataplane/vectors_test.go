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

			want := expectVerdict(t, &f.Fixture, v)
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
			checkCounted(t, before, after, port, want, len(in), p.Len)
		})
	}
}

func expectVerdict(t *testing.T, f *vectors.Fixture, v vectors.Vector) dataplane.Verdict {
	t.Helper()
	a, err := dataplane.ParseAction(v.Verdict)
	if err != nil {
		t.Fatal(err)
	}
	want := dataplane.Verdict{Action: a}
	switch a {
	case dataplane.ActionDrop:
		if want.Reason, err = dataplane.ParseReason(v.Reason); err != nil {
			t.Fatal(err)
		}
	case dataplane.ActionForward:
		if want.Port, err = f.PortID(v.OutPort); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

func checkCounted(t *testing.T, before, after *dataplane.Stats, in uint16, v dataplane.Verdict, inLen, outLen int) {
	t.Helper()
	b, a := &before.Ports[in], &after.Ports[in]
	if a.RxPackets-b.RxPackets != 1 || a.RxBytes-b.RxBytes != uint64(inLen) {
		t.Errorf("rx counters moved by %d packets, %d bytes", a.RxPackets-b.RxPackets, a.RxBytes-b.RxBytes)
	}
	switch v.Action {
	case dataplane.ActionDrop:
		if d := a.Drops[v.Reason] - b.Drops[v.Reason]; d != 1 {
			t.Errorf("drops[%v] moved by %d", v.Reason, d)
		}
	case dataplane.ActionKernel:
		if d := a.Kernel - b.Kernel; d != 1 {
			t.Errorf("kernel counter moved by %d", d)
		}
	case dataplane.ActionForward:
		o, ob := &after.Ports[v.Port], &before.Ports[v.Port]
		if o.TxPackets-ob.TxPackets != 1 || o.TxBytes-ob.TxBytes != uint64(outLen) {
			t.Errorf("tx counters moved by %d packets, %d bytes", o.TxPackets-ob.TxPackets, o.TxBytes-ob.TxBytes)
		}
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

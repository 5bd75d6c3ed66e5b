// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/vectors"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// XDP return codes (include/uapi/linux/bpf.h).
const (
	xdpAborted  = 0
	xdpDrop     = 1
	xdpPass     = 2
	xdpTX       = 3
	xdpRedirect = 4
)

// loadTestEngine loads the program in test mode, or skips the test with the reason when
// this kernel or user cannot.
func loadTestEngine(tb testing.TB) *xdp.Engine {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipped: loading BPF programs needs root")
	}
	e, err := xdp.Load(xdp.Options{TestMode: true})
	if err != nil {
		tb.Skipf("skipped: cannot load the XDP program here: %v", err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// runXDP runs one frame through the program on port and reads the verdict back from the
// return code and the counters, as dataplane.Verdict.
func runXDP(tb testing.TB, e *xdp.Engine, port uint16, in []byte) (dataplane.Verdict, []byte) {
	tb.Helper()
	if err := e.SetTestPort(port); err != nil {
		tb.Fatal(err)
	}
	before, err := e.Stats()
	if err != nil {
		tb.Fatal(err)
	}
	opts := ebpf.RunOptions{Data: in, DataOut: make([]byte, len(in)+256)}
	ret, err := e.Program().Run(&opts)
	if err != nil {
		tb.Fatal(err)
	}
	after, err := e.Stats()
	if err != nil {
		tb.Fatal(err)
	}
	var v dataplane.Verdict
	switch ret {
	case xdpDrop:
		v.Action = dataplane.ActionDrop
		for r := range dataplane.NumReasons {
			if after.Ports[port].Drops[r] != before.Ports[port].Drops[r] {
				v.Reason = r
			}
		}
	case xdpPass:
		v.Action = dataplane.ActionKernel
	case xdpTX, xdpRedirect:
		v.Action = dataplane.ActionForward
		for p := range after.Ports {
			if after.Ports[p].TxPackets != before.Ports[p].TxPackets {
				v.Port = uint16(p)
			}
		}
	default:
		tb.Fatalf("XDP returned %d", ret)
	}
	if err := vectors.CountedOnce(before, after, port, v, len(in), len(opts.DataOut)); err != nil {
		tb.Error(err)
	}
	return v, opts.DataOut
}

// TestDifferential runs every packet vector through the XDP program (BPF_PROG_TEST_RUN)
// and through the Go pipeline: both must give the vector's verdict, output frame and
// counter, and so agree with each other.
func TestDifferential(t *testing.T) {
	e := loadTestEngine(t)
	f, err := vectors.Load("../../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
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
			if err := e.Sync(r); err != nil {
				t.Fatal(err)
			}
			in, _ := hex.DecodeString(v.In)
			if len(in) < 14 {
				// A NIC never hands XDP a frame shorter than an Ethernet header, and
				// BPF_PROG_TEST_RUN refuses one; the Go pipeline's own test covers it.
				t.Skip("skipped: frames under 14 bytes cannot reach an XDP program")
			}
			port, err := f.Fixture.PortID(v.Port)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.Fixture.Verdict(v)
			if err != nil {
				t.Fatal(err)
			}
			wantOut, _ := hex.DecodeString(v.Out)

			got, out := runXDP(t, e, port, in)
			if got != want {
				t.Errorf("XDP verdict %v, want %v", got, want)
			} else if want.Action != dataplane.ActionDrop && !bytes.Equal(out, wantOut) {
				t.Errorf("XDP output differs\n-want\n%s\n+got\n%s", dump(wantOut), dump(out))
			}

			p := dataplane.Packet{Buf: buf, Off: dataplane.Headroom, Len: len(in), Port: port}
			copy(buf[p.Off:], in)
			w.Begin()
			gv := w.Process(&p)
			w.End()
			if gv != got {
				t.Errorf("engines disagree: Go %v, XDP %v", gv, got)
			} else if gv.Action != dataplane.ActionDrop && !bytes.Equal(p.Frame(), out) {
				t.Errorf("engines' outputs differ\nGo\n%s\nXDP\n%s", dump(p.Frame()), dump(out))
			}
		})
	}
}

func dump(b []byte) string {
	return gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default).Dump() + hex.Dump(b)
}

// TestSwitchedBytes: a swapped frame adds its length to its label's bytes, a pushed one
// its IP length to its tunnel's.
func TestSwitchedBytes(t *testing.T) {
	e := loadTestEngine(t)
	r, _, err := benchrouter.Router(10)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(r); err != nil {
		t.Fatal(err)
	}
	swap, _ := benchrouter.UDP4([4]byte{198, 51, 100, 1}, benchrouter.LabelSwap)
	before, _, err := e.SwitchedBytes([]uint32{benchrouter.LabelSwap}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		runXDP(t, e, benchrouter.PortCore0, swap)
	}
	after, _, err := e.SwitchedBytes([]uint32{benchrouter.LabelSwap}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := after[benchrouter.LabelSwap] - before[benchrouter.LabelSwap]; d != uint64(3*len(swap)) {
		t.Errorf("label %d switched %d bytes, want %d", benchrouter.LabelSwap, d, 3*len(swap))
	}
}

// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// emptyProgram is the baseline: an XDP program that returns XDP_TX and does nothing else.
func emptyProgram(b *testing.B) *ebpf.Program {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.XDP,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 3), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		b.Skipf("skipped: cannot load an XDP program here: %v", err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// runOnce is the in-kernel time of one run of prog on frame. BPF_PROG_TEST_RUN does not
// restore the frame between repetitions, and every case here rewrites it, so each
// packet is its own run with the original frame; the kernel's per-run timing overhead
// is in both the program's and the baseline's figure.
func runOnce(b *testing.B, prog *ebpf.Program, frame []byte) time.Duration {
	_, d, err := prog.Benchmark(frame, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkXDP reports the program's in-kernel ns per packet for swap, PHP pop,
// pop-to-VRF and CE push (VRF of 1k and of 1M routes), each next to the empty program
// measured in the same loop, and the ratio between them.
func BenchmarkXDP(b *testing.B) {
	empty := emptyProgram(b)
	for _, routes := range []int{1000, 1_000_000} {
		r, dsts, err := benchrouter.Router(routes)
		if err != nil {
			b.Fatal(err)
		}
		e := loadTestEngine(b)
		start := time.Now()
		if err := e.Sync(r); err != nil {
			b.Fatal(err)
		}
		b.Logf("synced %d routes into the maps in %v", routes, time.Since(start).Round(time.Millisecond))

		type bcase struct {
			name   string
			port   uint16
			frames [][]byte
		}
		frame := func(dst [4]byte, labels ...uint32) []byte {
			f, err := benchrouter.UDP4(dst, labels...)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		var push [][]byte
		for _, d := range dsts {
			push = append(push, frame(d))
		}
		cases := []bcase{{fmt.Sprintf("push/routes=%d", routes), benchrouter.PortCE, push}}
		if routes == 1000 {
			cases = append([]bcase{
				{"swap", benchrouter.PortCore0, [][]byte{frame([4]byte{198, 51, 100, 1}, benchrouter.LabelSwap)}},
				{"php", benchrouter.PortCore0, [][]byte{frame([4]byte{198, 51, 100, 1}, benchrouter.LabelPHP)}},
				{"pop-to-vrf", benchrouter.PortCore0, [][]byte{frame(benchrouter.LocalDst, benchrouter.LabelPopToVRF)}},
			}, cases...)
		}
		for _, c := range cases {
			b.Run(c.name, func(b *testing.B) {
				if err := e.SetTestPort(c.port); err != nil {
					b.Fatal(err)
				}
				checkForwards(b, e, c.port, c.frames[0])
				var base, prog time.Duration
				for i := range b.N {
					f := c.frames[i%len(c.frames)]
					base += runOnce(b, empty, f)
					prog += runOnce(b, e.Program(), f)
				}
				b.ReportMetric(float64(prog.Nanoseconds())/float64(b.N), "ns/pkt")
				b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "empty-ns/pkt")
				b.ReportMetric(float64(prog)/float64(base), "x-empty")
			})
		}
		e.Close()
	}
}

// checkForwards makes sure a benchmark measures the forwarding path, not a drop.
func checkForwards(b *testing.B, e *xdp.Engine, port uint16, frame []byte) {
	ret, err := e.Program().Run(&ebpf.RunOptions{Data: frame, DataOut: make([]byte, len(frame)+256)})
	if err != nil {
		b.Fatal(err)
	}
	if ret != xdpRedirect {
		st, _ := e.Stats()
		b.Fatalf("frame on port %d not forwarded: XDP returned %d, drops %v", port, ret, st.Ports[port].Drops)
	}
}

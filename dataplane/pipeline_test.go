// SPDX-License-Identifier: Apache-2.0

package dataplane_test

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/header"
	"github.com/mplsdp/mplsdp/lfib"
)

const (
	pCore0 = benchrouter.PortCore0
	pCore1 = benchrouter.PortCore1
	pCE    = benchrouter.PortCE
)

func benchRouter(tb testing.TB, routes int) (*dataplane.Router, [][4]byte) {
	tb.Helper()
	r, dsts, err := benchrouter.Router(routes)
	if err != nil {
		tb.Fatal(err)
	}
	return r, dsts
}

func udp4(tb testing.TB, dst [4]byte, labels ...uint32) []byte {
	tb.Helper()
	f, err := benchrouter.UDP4(dst, labels...)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// benchFrames runs frames through a worker in batches of 64, restoring each frame
// before it is processed again (the copy is part of the figure: about 2 ns).
func benchFrames(b *testing.B, r *dataplane.Router, port uint16, frames [][]byte, want dataplane.Action) {
	w := r.NewWorker()
	defer w.Close()
	const batch = 64
	pkts := make([]dataplane.Packet, batch)
	verdicts := make([]dataplane.Verdict, batch)
	for i := range pkts {
		pkts[i].Buf = make([]byte, 2048)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		n := min(batch, b.N-i)
		for j := range pkts[:n] {
			f := frames[(i+j)%len(frames)]
			p := &pkts[j]
			p.Off, p.Len, p.Port = dataplane.Headroom, len(f), port
			copy(p.Buf[p.Off:], f)
		}
		w.Forward(pkts[:n], verdicts[:n])
		if verdicts[0].Action != want {
			b.Fatalf("verdict %v", verdicts[0])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

func BenchmarkSwap(b *testing.B) {
	r, _ := benchRouter(b, 0)
	benchFrames(b, r, pCore0, [][]byte{udp4(b, [4]byte{198, 51, 100, 1}, 100)}, dataplane.ActionForward)
}

// BenchmarkSwapChurn is BenchmarkSwap while the controller rewrites other labels at
// 100k updates/s (100 per millisecond), with 100k labels installed.
func BenchmarkSwapChurn(b *testing.B) {
	r, _ := benchRouter(b, 0)
	e := lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: pCore1}, Labels: [lfib.MaxPush]lfib.Label{500}, NLabels: 1}}}
	var bt lfib.Batch
	for l := lfib.Label(1000); l < 101000; l++ {
		bt.SetLabel(l, e)
	}
	if err := r.LFIB.Commit(&bt); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan int64)
	start := time.Now()
	go func() {
		// Every millisecond, as many changes as it takes to keep up with 100k/s.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		n, l := int64(0), lfib.Label(1000)
		for {
			select {
			case <-stop:
				done <- n
				return
			case <-tick.C:
			}
			bt.Reset()
			for due := time.Since(start).Microseconds()/10 - n; due > 0; due-- {
				l = 1000 + (l-1000+7919)%100000
				e.Paths[0].Labels[0] = l
				bt.SetLabel(l, e)
			}
			if err := r.LFIB.Commit(&bt); err != nil {
				panic(err)
			}
			n += int64(bt.Len())
		}
	}()
	benchFrames(b, r, pCore0, [][]byte{udp4(b, [4]byte{198, 51, 100, 1}, 100)}, dataplane.ActionForward)
	close(stop)
	b.ReportMetric(float64(<-done)/time.Since(start).Seconds(), "updates/s")
}

func BenchmarkPopPHP(b *testing.B) {
	r, _ := benchRouter(b, 0)
	benchFrames(b, r, pCore0, [][]byte{udp4(b, [4]byte{198, 51, 100, 1}, 101)}, dataplane.ActionForward)
}

func BenchmarkPopToVRF(b *testing.B) {
	r, _ := benchRouter(b, 1000)
	benchFrames(b, r, pCore0, [][]byte{udp4(b, [4]byte{192, 0, 2, 33}, 102)}, dataplane.ActionForward)
}

func benchPush(b *testing.B, routes int) {
	r, dsts := benchRouter(b, routes)
	frames := make([][]byte, len(dsts))
	for i, d := range dsts {
		frames[i] = udp4(b, d)
	}
	benchFrames(b, r, pCE, frames, dataplane.ActionForward)
}

func BenchmarkPushVRF1k(b *testing.B) { benchPush(b, 1000) }
func BenchmarkPushVRF1M(b *testing.B) { benchPush(b, 1_000_000) }

var sinkVerdict dataplane.Verdict

// TestProcessAllocs keeps the per-packet path allocation-free on every vector.
func TestProcessAllocs(t *testing.T) {
	f := loadVectors(t)
	r, err := f.Fixture.Router()
	if err != nil {
		t.Fatal(err)
	}
	w := r.NewWorker()
	defer w.Close()
	p := dataplane.Packet{Buf: make([]byte, 4096)}
	for _, v := range f.Vectors {
		in, _ := hex.DecodeString(v.In)
		port, _ := f.Fixture.PortID(v.Port)
		if n := testing.AllocsPerRun(20, func() {
			p.Off, p.Len, p.Port = dataplane.Headroom, len(in), port
			copy(p.Buf[p.Off:], in)
			w.Begin()
			sinkVerdict = w.Process(&p)
			w.End()
		}); n != 0 {
			t.Errorf("%s: %v allocations per packet", v.Name, n)
		}
	}
}

// FuzzPipeline: any bytes on any port get a verdict without a panic; a forward verdict
// leaves a well-formed frame inside the buffer on a configured port.
func FuzzPipeline(f *testing.F) {
	vf := loadVectors(f)
	r, err := vf.Fixture.Router()
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vf.Vectors {
		in, _ := hex.DecodeString(v.In)
		port, _ := vf.Fixture.PortID(v.Port)
		f.Add(uint8(port), false, in)
	}
	core, _ := vf.Fixture.PortID("core0")
	ce, _ := vf.Fixture.PortID("ce-a")
	mpls := func(n int, bos bool, ttl uint8, label uint32) []byte {
		b := append(make([]byte, 12), 0x88, 0x47)
		for i := range n {
			b = binary.BigEndian.AppendUint32(b, uint32(lfib.MakeLSE(lfib.Label(label), 0, bos && i == n-1, ttl)))
		}
		return append(b, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2)
	}
	for _, seed := range [][]byte{
		{}, make([]byte, 13), mpls(16, false, 64, 100), mpls(16, true, 64, 100), mpls(1, true, 0, 100),
		mpls(1, true, 1, 100), mpls(2, true, 64, 0), mpls(2, true, 64, 7), mpls(1, true, 64, 13), mpls(3, true, 64, 2),
	} {
		f.Add(uint8(core), false, seed)
		f.Add(uint8(ce), true, seed)
	}
	pipe, err := vf.Fixture.Config("pipe")
	if err != nil {
		f.Fatal(err)
	}
	uni, err := vf.Fixture.Config("uniform")
	if err != nil {
		f.Fatal(err)
	}
	// The fuzz function runs sequentially within a process, so one worker serves all.
	w := r.NewWorker()
	defer w.Close()
	f.Fuzz(func(t *testing.T, port uint8, uniform bool, frame []byte) {
		cfg := pipe
		if uniform {
			cfg = uni
		}
		r.SetConfig(cfg)
		buf := make([]byte, dataplane.Headroom+len(frame))
		copy(buf[dataplane.Headroom:], frame)
		p := dataplane.Packet{Buf: buf, Off: dataplane.Headroom, Len: len(frame), Port: uint16(port)}
		w.Begin()
		v := w.Process(&p)
		w.End()
		switch v.Action {
		case dataplane.ActionDrop:
			if v.Reason == dataplane.ReasonNone || v.Reason >= dataplane.NumReasons {
				t.Fatalf("drop without a reason: %v", v)
			}
		case dataplane.ActionKernel:
		case dataplane.ActionForward:
			if cfg.Ports[v.Port].Role == dataplane.RoleNone {
				t.Fatalf("forwarded to unconfigured port %d", v.Port)
			}
			if p.Off < 0 || p.Off+p.Len > len(buf) {
				t.Fatalf("frame [%d,%d) outside the buffer of %d", p.Off, p.Off+p.Len, len(buf))
			}
			checkWellFormed(t, p.Frame(), int(cfg.Ports[v.Port].MTU))
		default:
			t.Fatalf("unknown action %v", v)
		}
	})
}

// checkWellFormed checks a forwarded frame: a whole Ethernet header, then either a
// label stack ending in S=1 or a valid IP packet filling the frame with a correct
// IPv4 checksum, and no more than the MTU.
func checkWellFormed(t *testing.T, b []byte, mtu int) {
	t.Helper()
	l2, ok := header.ParseL2(b)
	if !ok {
		t.Fatalf("forwarded frame without an Ethernet header: %x", b)
	}
	l3 := b[l2.Len:]
	if len(l3) > mtu {
		t.Fatalf("forwarded %d bytes over MTU %d", len(l3), mtu)
	}
	switch l2.EtherType {
	case header.EtherTypeMPLS:
		for i := 0; ; i += header.LSELen {
			if i+header.LSELen > len(l3) {
				t.Fatalf("forwarded label stack without S=1: %x", b)
			}
			if header.LSE(l3[i:]).BoS() {
				break
			}
		}
	case header.EtherTypeIPv4:
		ip := header.IPv4(l3)
		if !ip.Valid() || int(ip.TotalLen()) != len(l3) {
			t.Fatalf("forwarded bad IPv4: %x", b)
		}
	case header.EtherTypeIPv6:
		ip := header.IPv6(l3)
		if !ip.Valid() || header.IPv6Len+int(ip.PayloadLen()) != len(l3) {
			t.Fatalf("forwarded bad IPv6: %x", b)
		}
	default:
		t.Fatalf("forwarded ethertype %04x", l2.EtherType)
	}
}

var sinkByte byte

// BenchmarkBaselineCopy is the harness alone: the frame restore that benchFrames does
// before each packet, and one read of the frame. Subtract it from the other figures for
// the pipeline's own cost.
func BenchmarkBaselineCopy(b *testing.B) {
	frame := udp4(b, [4]byte{198, 51, 100, 1}, 100)
	bufs := make([][]byte, 64)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	b.ReportAllocs()
	var x byte
	for i := 0; i < b.N; i++ {
		buf := bufs[i&63]
		copy(buf[dataplane.Headroom:], frame)
		x ^= buf[dataplane.Headroom+14]
	}
	sinkByte = x
}

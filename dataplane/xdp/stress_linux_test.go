// SPDX-License-Identifier: Apache-2.0

package xdp_test

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
)

// TestNoTornEntries rewrites one label's entry back and forth between two values, each
// with different outgoing labels, VLAN, next-hop MAC and port, while another goroutine
// runs frames through the program; every output must be exactly what one of the two
// entries gives (computed by the Go pipeline), never a mix.
func TestNoTornEntries(t *testing.T) {
	e := loadTestEngine(t)
	r, _, err := benchrouter.Router(0)
	if err != nil {
		t.Fatal(err)
	}
	entries := []lfib.Entry{
		{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: benchrouter.PortCore1, Dst: lfib.MAC{2, 0xa, 0xa, 0xa, 0xa, 0xa}},
			Labels: [lfib.MaxPush]lfib.Label{200}, NLabels: 1}}},
		{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: benchrouter.PortCore0, VLAN: 300, Dst: lfib.MAC{2, 0xb, 0xb, 0xb, 0xb, 0xb}},
			Labels: [lfib.MaxPush]lfib.Label{3000, 3001, 3002}, NLabels: 3}}},
	}
	in, err := benchrouter.UDP4([4]byte{198, 51, 100, 1}, benchrouter.LabelSwap)
	if err != nil {
		t.Fatal(err)
	}
	// The two valid outputs, from the Go pipeline.
	var want [2][]byte
	w := r.NewWorker()
	for i, ent := range entries {
		if err := r.LFIB.Set(benchrouter.LabelSwap, ent); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		p := dataplane.Packet{Buf: buf, Off: dataplane.Headroom, Len: len(in), Port: benchrouter.PortCore0}
		copy(buf[p.Off:], in)
		w.Begin()
		v := w.Process(&p)
		w.End()
		if v.Action != dataplane.ActionForward {
			t.Fatalf("entry %d: Go pipeline says %v", i, v)
		}
		want[i] = append([]byte(nil), p.Frame()...)
	}
	w.Close()
	if err := e.Sync(r); err != nil {
		t.Fatal(err)
	}
	if err := e.SetTestPort(benchrouter.PortCore0); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var runs, seen0, seen1 atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out := make([]byte, len(in)+256)
		for !stop.Load() {
			opts := ebpf.RunOptions{Data: in, DataOut: out}
			if _, err := e.Program().Run(&opts); err != nil {
				t.Error(err)
				return
			}
			switch {
			case bytes.Equal(opts.DataOut, want[0]):
				seen0.Add(1)
			case bytes.Equal(opts.DataOut, want[1]):
				seen1.Add(1)
			default:
				t.Errorf("torn or wrong output %x", opts.DataOut)
				stop.Store(true)
			}
			runs.Add(1)
		}
	}()
	deadline := time.Now().Add(time.Second)
	updates := 0
	for ; time.Now().Before(deadline) && updates < 200000 && !stop.Load(); updates++ {
		if err := r.LFIB.Set(benchrouter.LabelSwap, entries[updates%2]); err != nil {
			t.Fatal(err)
		}
		if err := e.Sync(r); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d map updates, %d runs: %d saw entry 0, %d entry 1", updates, runs.Load(), seen0.Load(), seen1.Load())
	if seen0.Load() == 0 || seen1.Load() == 0 {
		t.Errorf("the runs never saw one of the entries (%d, %d): the test did not overlap updates and runs", seen0.Load(), seen1.Load())
	}
}

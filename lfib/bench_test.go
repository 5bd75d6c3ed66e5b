// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const benchLabels = 1<<20 - int(MinLabel) // the whole unreserved label space

var sinkOp Op

// BenchmarkLookup is one label lookup with every label installed, random labels from a
// precomputed list, Enter/Exit once per 64 lookups as an engine does per batch: quiet,
// and while a writer commits 100k single-label updates per second (batches of 100 every
// millisecond). The two sub-benchmarks share one table so their ns/op compare directly.
func BenchmarkLookup(b *testing.B) {
	tab := New()
	fill(b, tab, benchLabels)
	ls := randomLabels(1<<16, benchLabels)
	b.Run("quiet", func(b *testing.B) {
		r := tab.NewReader()
		defer r.Close()
		b.ReportAllocs()
		lookups(b, r, ls, b.N)
	})
	b.Run("churn", func(b *testing.B) {
		r := tab.NewReader()
		defer r.Close()
		var stop atomic.Bool
		var updates atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			churn(tab, &stop, &updates)
		}()
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		lookups(b, r, ls, b.N)
		el := time.Since(start)
		b.StopTimer()
		stop.Store(true)
		wg.Wait()
		b.ReportMetric(float64(updates.Load())/el.Seconds(), "updates/s")
	})
}

func lookups(b *testing.B, r *Reader, ls []Label, n int) {
	var op Op
	for i := 0; i < n; i += 64 {
		r.Enter()
		for j := i; j < i+64 && j < n; j++ {
			e, _ := r.Lookup(ls[j&(len(ls)-1)])
			op ^= e.Op
		}
		r.Exit()
	}
	sinkOp = op
}

// churn commits label changes at 100k per second: every millisecond a batch of however
// many changes it takes to catch up with that rate (timers on a loaded box are late).
func churn(tab *Table, stop *atomic.Bool, updates *atomic.Int64) {
	var bt Batch
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	l := MinLabel
	for !stop.Load() {
		<-tick.C
		bt.Reset()
		for due := time.Since(start).Microseconds()/10 - updates.Load(); due > 0; due-- {
			l = MinLabel + (l+7919)%Label(benchLabels)
			bt.SetLabel(l, Entry{Op: OpSwap, Paths: []Path{{NextHop: nh2, Labels: [MaxPush]Label{l}, NLabels: 1}}})
		}
		if err := tab.Commit(&bt); err != nil {
			panic(err)
		}
		updates.Add(int64(bt.Len()))
	}
}

// BenchmarkCommit is the writer's cost of one single-label batch with one reader
// registered but idle.
func BenchmarkCommit(b *testing.B) {
	tab := New()
	fill(b, tab, 1<<16)
	r := tab.NewReader()
	defer r.Close()
	e := Entry{Op: OpSwap, Paths: []Path{{NextHop: nh2, Labels: [MaxPush]Label{99}, NLabels: 1}}}
	var bt Batch
	b.ReportAllocs()
	for i := range b.N {
		bt.Reset()
		bt.SetLabel(MinLabel+Label(i&0xffff), e)
		if err := tab.Commit(&bt); err != nil {
			b.Fatal(err)
		}
	}
}

// The alternative STYLE.md asks to measure: one atomic pointer per label to an immutable
// heap entry. Lookups cost about the same; the difference is what the garbage collector
// pays for a million pointers, measured here as the time of a forced collection.
type pointerTable struct{ slots []atomic.Pointer[Entry] }

func BenchmarkAltPointerLookup(b *testing.B) {
	pt := pointerTable{slots: make([]atomic.Pointer[Entry], numLabels)}
	for i := range benchLabels {
		l := MinLabel + Label(i)
		pt.slots[l].Store(&Entry{Op: OpSwap, Paths: []Path{{NextHop: nh1, Labels: [MaxPush]Label{l}, NLabels: 1}}})
	}
	ls := randomLabels(1<<16, benchLabels)
	b.ReportAllocs()
	b.ResetTimer()
	var op Op
	for i := range b.N {
		if e := pt.slots[ls[i&(len(ls)-1)]].Load(); e != nil {
			op ^= e.Op
		}
	}
	sinkOp = op
	b.StopTimer()
	b.ReportMetric(gcTime(), "gc-ns")
	runtime.KeepAlive(pt)
}

// BenchmarkGCWithTable reports a forced collection's time with this package's table of
// a million labels live, to set against BenchmarkAltPointerLookup's gc-ns.
func BenchmarkGCWithTable(b *testing.B) {
	tab := New()
	fill(b, tab, benchLabels)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
	}
	b.StopTimer()
	b.ReportMetric(gcTime(), "gc-ns")
	runtime.KeepAlive(tab)
}

func gcTime() float64 {
	runtime.GC()
	start := time.Now()
	for range 5 {
		runtime.GC()
	}
	return float64(time.Since(start).Nanoseconds()) / 5
}

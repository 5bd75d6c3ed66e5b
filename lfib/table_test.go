// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var nh1 = NextHop{Port: 1, Dst: MAC{2, 0, 0, 0, 0, 1}}
var nh2 = NextHop{Port: 2, VLAN: 100, Dst: MAC{2, 0, 0, 0, 0, 2}}

func mustPath(t testing.TB, nh NextHop, labels ...Label) Path {
	t.Helper()
	p, err := NewPath(nh, labels...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLSE(t *testing.T) {
	for _, tc := range []struct {
		l   Label
		tc  uint8
		bos bool
		ttl uint8
	}{{0, 0, false, 0}, {16, 7, true, 255}, {MaxLabel, 3, false, 1}, {1000, 5, true, 64}} {
		e := MakeLSE(tc.l, tc.tc, tc.bos, tc.ttl)
		if e.Label() != tc.l || e.TC() != tc.tc || e.BoS() != tc.bos || e.TTL() != tc.ttl {
			t.Errorf("MakeLSE(%d,%d,%v,%d) = %v", tc.l, tc.tc, tc.bos, tc.ttl, e)
		}
		if e2 := e.WithTTL(9).WithLabel(77).WithBoS(!tc.bos); e2.TTL() != 9 || e2.Label() != 77 || e2.BoS() == tc.bos || e2.TC() != tc.tc {
			t.Errorf("With* on %v gave %v", e, e2)
		}
	}
	if MakeLSE(MaxLabel+1, 8, false, 0).Label() != 0 {
		t.Error("label bits beyond 20 leaked")
	}
}

func TestParseLabel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Label
		ok   bool
	}{{"16", 16, true}, {"1048575", MaxLabel, true}, {"1048576", 0, false}, {"-1", 0, false}, {"x", 0, false}, {"", 0, false}} {
		got, err := ParseLabel(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLabel(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	swap := mustPath(t, nh1, 100)
	for _, tc := range []struct {
		name string
		e    Entry
		ok   bool
	}{
		{"swap", Entry{Op: OpSwap, Paths: []Path{swap}}, true},
		{"swap no label", Entry{Op: OpSwap, Paths: []Path{mustPath(t, nh1)}}, false},
		{"swap no path", Entry{Op: OpSwap}, false},
		{"swap to implicit null", Entry{Op: OpSwap, Paths: []Path{mustPath(t, nh1, LabelImplicitNull)}}, false},
		{"swap to explicit null", Entry{Op: OpSwap, Paths: []Path{mustPath(t, nh1, LabelIPv4ExplicitNull)}}, true},
		{"pop", Entry{Op: OpPop, Paths: []Path{mustPath(t, nh1)}}, true},
		{"pop with label", Entry{Op: OpPop, Paths: []Path{swap}}, false},
		{"pop-to-vrf", Entry{Op: OpPopToVRF, VRF: 3}, true},
		{"pop-to-vrf with path", Entry{Op: OpPopToVRF, VRF: 3, Paths: []Path{swap}}, false},
		{"too many paths", Entry{Op: OpPop, Paths: make([]Path, MaxPaths+1)}, false},
		{"bad vlan", Entry{Op: OpPop, Paths: []Path{{NextHop: NextHop{VLAN: 4095}}}}, false},
		{"bad label", Entry{Op: OpPush, Paths: []Path{{Labels: [MaxPush]Label{MaxLabel + 1}, NLabels: 1}}}, false},
		{"nlabels too big", Entry{Op: OpPush, Paths: []Path{{NLabels: MaxPush + 1}}}, false},
		{"unknown op", Entry{Op: 99}, false},
	} {
		if err := tc.e.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
	if _, err := NewPath(nh1, 1, 2, 3, 4, 5); err == nil {
		t.Error("NewPath accepted 5 labels")
	}
}

func TestCommit(t *testing.T) {
	tab := New()
	r := tab.NewReader()
	defer r.Close()
	swap := Entry{Op: OpSwap, Paths: []Path{mustPath(t, nh1, 200), mustPath(t, nh2, 201, 300)}}
	var b Batch
	b.SetLabel(100, swap)
	b.SetLabel(101, Entry{Op: OpPopToVRF, VRF: 7})
	b.SetTunnel(5, Entry{Op: OpPush, Paths: []Path{mustPath(t, nh1, 16)}})
	if err := tab.Commit(&b); err != nil {
		t.Fatal(err)
	}
	swap.Paths[0].Labels[0] = 999 // the table must hold its own copy
	r.Enter()
	e, ok := r.Lookup(100)
	if !ok || e.Op != OpSwap || len(e.Paths) != 2 || e.Paths[0].Labels[0] != 200 || e.Paths[1].Out()[1] != 300 || e.Paths[1].VLAN != 100 {
		t.Fatalf("Lookup(100) = %+v, %v", e, ok)
	}
	if e, ok := r.Lookup(101); !ok || e.Op != OpPopToVRF || e.VRF != 7 || len(e.Paths) != 0 {
		t.Fatalf("Lookup(101) = %+v, %v", e, ok)
	}
	if e, ok := r.Tunnel(5); !ok || e.Op != OpPush || e.Paths[0].Labels[0] != 16 {
		t.Fatalf("Tunnel(5) = %+v, %v", e, ok)
	}
	for _, l := range []Label{0, 16, 99, 102, MaxLabel, MaxLabel + 1, 1 << 31} {
		if _, ok := r.Lookup(l); ok {
			t.Errorf("Lookup(%d) found an entry", l)
		}
	}
	if _, ok := r.Tunnel(6); ok {
		t.Error("Tunnel(6) found")
	}
	r.Exit()
	if tab.Len() != 2 {
		t.Errorf("Len = %d", tab.Len())
	}

	// A bad batch changes nothing, even when its first operations are good.
	b.Reset()
	b.SetLabel(150, swap)
	b.DeleteLabel(101)
	b.DeleteLabel(101)
	if err := tab.Commit(&b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double delete: %v", err)
	}
	for _, bad := range []func(*Batch){
		func(b *Batch) { b.SetLabel(15, swap) },
		func(b *Batch) { b.SetLabel(MaxLabel+1, swap) },
		func(b *Batch) { b.SetLabel(150, Entry{Op: OpPush, Paths: swap.Paths}) },
		func(b *Batch) { b.SetTunnel(1, swap) },
		func(b *Batch) { b.SetTunnel(0, Entry{Op: OpPush, Paths: swap.Paths}) },
		func(b *Batch) { b.DeleteTunnel(9) },
	} {
		b.Reset()
		b.SetLabel(151, swap)
		bad(&b)
		if err := tab.Commit(&b); err == nil {
			t.Errorf("bad batch %+v accepted", b.ops[1])
		}
	}
	r.Enter()
	for _, l := range []Label{150, 151} {
		if _, ok := r.Lookup(l); ok {
			t.Errorf("label %d from a refused batch is visible", l)
		}
	}
	if _, ok := r.Lookup(101); !ok {
		t.Error("label 101 deleted by a refused batch")
	}
	r.Exit()

	// Replace and delete; freed path blocks are reused.
	b.Reset()
	b.SetLabel(100, Entry{Op: OpPop, Paths: []Path{mustPath(t, nh2)}})
	b.DeleteLabel(101)
	b.DeleteTunnel(5)
	b.SetLabel(102, swap)
	if err := tab.Commit(&b); err != nil {
		t.Fatal(err)
	}
	r.Enter()
	if e, ok := r.Lookup(100); !ok || e.Op != OpPop || e.Paths[0].Port != 2 {
		t.Errorf("replaced 100 = %+v", e)
	}
	if _, ok := r.Lookup(101); ok {
		t.Error("101 still there")
	}
	if _, ok := r.Tunnel(5); ok {
		t.Error("tunnel 5 still there")
	}
	r.Exit()
	n := 0
	tab.Walk(func(l Label, e Entry) bool { n++; return true })
	if n != 2 || tab.Len() != 2 {
		t.Errorf("Walk saw %d, Len %d, want 2", n, tab.Len())
	}
	for _, s := range tab.sides {
		if len(s.paths) > 5 {
			t.Errorf("path store grew to %d: freed blocks not reused", len(s.paths))
		}
	}
}

// A lookup outside Enter/Exit finds nothing rather than reading a side the writer owns.
func TestLookupOutsideSection(t *testing.T) {
	tab := New()
	if err := tab.Set(100, Entry{Op: OpPopToVRF, VRF: 1}); err != nil {
		t.Fatal(err)
	}
	r := tab.NewReader()
	defer r.Close()
	if _, ok := r.Lookup(100); ok {
		t.Error("Lookup outside Enter found an entry")
	}
}

// Readers must see every batch whole: each batch rewrites a block of labels to one
// generation number, and a reader finding two generations in one section has seen a
// torn batch.
func TestBatchAtomicUnderReaders(t *testing.T) {
	const block = 64
	tab := New()
	write := func(gen Label) {
		var b Batch
		for l := Label(1000); l < 1000+block; l++ {
			b.SetLabel(l, Entry{Op: OpSwap, Paths: []Path{{NextHop: nh1, Labels: [MaxPush]Label{gen + 16}, NLabels: 1}}})
		}
		if err := tab.Commit(&b); err != nil {
			t.Error(err)
		}
	}
	write(0)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sections atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := tab.NewReader()
			defer r.Close()
			for !stop.Load() {
				r.Enter()
				first, _ := r.Lookup(1000)
				want := first.Paths[0].Labels[0]
				for l := Label(1001); l < 1000+block; l++ {
					e, ok := r.Lookup(l)
					if !ok || e.Paths[0].Labels[0] != want {
						t.Errorf("torn batch: label %d has %v, label 1000 has %d", l, e.Paths, want)
						stop.Store(true)
						break
					}
				}
				r.Exit()
				sections.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	gen := Label(1)
	for ; time.Now().Before(deadline) && gen < 5000; gen++ {
		write(gen)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d batches, %d read sections", gen, sections.Load())
}

func TestAllocator(t *testing.T) {
	a := NewAllocator()
	l1, _ := a.Alloc()
	l2, _ := a.Alloc()
	if l1 != MinDynamicLabel || l2 != MinDynamicLabel+1 || !l1.Dynamic() || l1.Static() {
		t.Fatalf("got %d %d", l1, l2)
	}
	if err := a.Free(l1); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(l1); err == nil {
		t.Error("double free accepted")
	}
	if l3, _ := a.Alloc(); l3 != l1 {
		t.Errorf("freed label not reused: %d", l3)
	}
	a.next = MaxLabel
	if _, err := a.Alloc(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(); !errors.Is(err, ErrExhausted) {
		t.Errorf("exhaustion: %v", err)
	}
	if a.InUse() != 3 {
		t.Errorf("InUse = %d", a.InUse())
	}
}

var sinkEntry Entry

func TestLookupAllocs(t *testing.T) {
	tab := New()
	if err := tab.Set(100, Entry{Op: OpSwap, Paths: []Path{mustPath(t, nh1, 200)}}); err != nil {
		t.Fatal(err)
	}
	r := tab.NewReader()
	defer r.Close()
	if n := testing.AllocsPerRun(1000, func() {
		r.Enter()
		sinkEntry, _ = r.Lookup(100)
		sinkEntry, _ = r.Tunnel(3)
		r.Exit()
	}); n != 0 {
		t.Errorf("Enter/Lookup/Exit allocates %v times", n)
	}
}

// fill installs n swap labels from MinLabel up, in batches.
func fill(tb testing.TB, tab *Table, n int) {
	var b Batch
	for i := range n {
		l := MinLabel + Label(i)
		b.SetLabel(l, Entry{Op: OpSwap, Paths: []Path{{NextHop: nh1, Labels: [MaxPush]Label{l}, NLabels: 1}}})
		if b.Len() == 65536 || i == n-1 {
			if err := tab.Commit(&b); err != nil {
				tb.Fatal(err)
			}
			b.Reset()
		}
	}
}

func randomLabels(n, space int) []Label {
	rng := rand.New(rand.NewPCG(1, 2))
	ls := make([]Label, n)
	for i := range ls {
		ls[i] = MinLabel + Label(rng.IntN(space))
	}
	return ls
}

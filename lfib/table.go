// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MaxTunnel is the largest tunnel (FTN) id.
const MaxTunnel = 1<<20 - 1

// slot is an entry as stored: fixed-size and pointer-free, so a table of a million
// labels is one flat array the garbage collector never scans.
type slot struct {
	op     Op
	npaths uint8
	vrf    uint32
	first  uint32 // index of the first path in side.paths
}

// side is one complete copy of the table. Readers only ever see the active side, and the
// writer only ever changes the other one, so nothing in a side needs atomics.
type side struct {
	labels  []slot // indexed by label; grows to the highest label installed
	tunnels []slot // indexed by tunnel id
	paths   []Path
	free    [MaxPaths + 1][]uint32 // freed path blocks by size, for reuse
	nlabels int
	ntunnel int
}

// Table is the label forwarding table: incoming labels (ILM) and tunnels (FTN, the push
// entries that VRF routes to remote PEs point at).
//
// It is a left-right structure: two copies, readers on the active one, the writer
// changing the other, publishing it with one pointer store, waiting until no reader is
// still on the old copy, and then replaying the change there. Readers are wait-free and
// never see a half-written entry or a half-applied batch.
//
// Thread contract: any number of Readers, each used by one goroutine at a time. Writers
// (Commit, Set, Delete, NewReader, Close) are serialised by mu and may be called from any
// goroutine; a Commit waits for readers that are inside Enter/Exit, so a reader must never
// block between the two.
type Table struct {
	mu      sync.Mutex // serialises writers; held across a whole Commit
	active  atomic.Pointer[side]
	sides   [2]*side
	epoch   atomic.Uint64 // bumped at every publication; starts at 1
	readers []*Reader     // guarded by mu

	commits atomic.Uint64
	entries atomic.Int64 // labels installed, for metrics without the lock
}

// New returns an empty table.
func New() *Table {
	t := &Table{sides: [2]*side{{}, {}}}
	t.epoch.Store(1)
	t.active.Store(t.sides[0])
	return t
}

// Reader is one goroutine's handle for lock-free lookups. Call Enter before a batch of
// lookups and Exit after it; entries returned in between stay valid until Exit.
type Reader struct {
	seen atomic.Uint64 // 0 when outside, else the epoch read at Enter
	_    [56]byte      // keeps seen on its own cache line
	s    *side
	t    *Table
}

// NewReader registers a reader. Close it when the goroutine stops reading.
func (t *Table) NewReader() *Reader {
	r := &Reader{t: t}
	t.mu.Lock()
	t.readers = append(t.readers, r)
	t.mu.Unlock()
	return r
}

// Close unregisters r. Call it from the goroutine that uses r, outside Enter/Exit.
func (r *Reader) Close() {
	t := r.t
	t.mu.Lock()
	for i, x := range t.readers {
		if x == r {
			t.readers = append(t.readers[:i], t.readers[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	r.s = nil
	r.seen.Store(0)
}

// Enter starts a read-side section. The order (announce, then load) is what lets the
// writer know when an old side is free; see Commit.
func (r *Reader) Enter() {
	r.seen.Store(r.t.epoch.Load())
	r.s = r.t.active.Load()
}

// Exit ends the read-side section.
func (r *Reader) Exit() {
	r.s = nil
	r.seen.Store(0)
}

// Lookup returns the entry for an incoming label. The entry's Paths alias the table and
// must not be changed or kept past Exit.
func (r *Reader) Lookup(l Label) (Entry, bool) {
	s := r.s
	if s == nil || uint(l) >= uint(len(s.labels)) {
		return Entry{}, false
	}
	return s.entry(&s.labels[l])
}

// Tunnel returns the push entry of a tunnel, with the same rules as Lookup.
func (r *Reader) Tunnel(id uint32) (Entry, bool) {
	s := r.s
	if s == nil || uint(id) >= uint(len(s.tunnels)) {
		return Entry{}, false
	}
	return s.entry(&s.tunnels[id])
}

func (s *side) entry(sl *slot) (Entry, bool) {
	if sl.op == OpNone {
		return Entry{}, false
	}
	return Entry{Op: sl.op, VRF: sl.vrf, Paths: s.paths[sl.first : sl.first+uint32(sl.npaths) : sl.first+uint32(sl.npaths)]}, true
}

// Batch is a set of changes that Commit makes visible together, in order.
type Batch struct {
	ops []batchOp
}

type batchOp struct {
	tunnel bool
	key    uint32
	del    bool
	e      Entry
}

// SetLabel installs or replaces the entry for an incoming label.
func (b *Batch) SetLabel(l Label, e Entry) {
	b.ops = append(b.ops, batchOp{key: uint32(l), e: cloneEntry(e)})
}

// DeleteLabel removes an incoming label.
func (b *Batch) DeleteLabel(l Label) { b.ops = append(b.ops, batchOp{key: uint32(l), del: true}) }

// SetTunnel installs or replaces a tunnel's push entry.
func (b *Batch) SetTunnel(id uint32, e Entry) {
	b.ops = append(b.ops, batchOp{tunnel: true, key: id, e: cloneEntry(e)})
}

// DeleteTunnel removes a tunnel.
func (b *Batch) DeleteTunnel(id uint32) {
	b.ops = append(b.ops, batchOp{tunnel: true, key: id, del: true})
}

// Len is the number of changes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Reset empties the batch for reuse.
func (b *Batch) Reset() { b.ops = b.ops[:0] }

func cloneEntry(e Entry) Entry {
	e.Paths = append([]Path(nil), e.Paths...)
	return e
}

// ErrNotFound is returned for a delete of something not installed.
var ErrNotFound = errors.New("not installed")

// Commit validates the whole batch and applies it, or returns an error and changes nothing.
// Readers see either none or all of the batch.
func (t *Table) Commit(b *Batch) error {
	if len(b.ops) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.active.Load()
	if err := validate(cur, b); err != nil {
		return err
	}
	next := t.sides[0]
	if next == cur {
		next = t.sides[1]
	}
	next.apply(b)
	t.active.Store(next)
	t.waitReaders(t.epoch.Add(1))
	cur.apply(b)
	t.entries.Store(int64(next.nlabels))
	t.commits.Add(1)
	return nil
}

// waitReaders returns once no reader can still be using the side that was active before
// epoch e. A reader that announced an epoch below e may have loaded the old side; one
// that announced e or later, or is outside, cannot (Enter stores before it loads, the
// writer stores the new side before it bumps the epoch, and Go's atomics are
// sequentially consistent).
func (t *Table) waitReaders(e uint64) {
	for _, r := range t.readers {
		for spins := 0; ; spins++ {
			s := r.seen.Load()
			if s == 0 || s >= e {
				break
			}
			switch {
			case spins < 64:
				runtime.Gosched()
			default:
				time.Sleep(10 * time.Microsecond)
			}
		}
	}
}

// Set installs one label entry.
func (t *Table) Set(l Label, e Entry) error {
	var b Batch
	b.SetLabel(l, e)
	return t.Commit(&b)
}

// Delete removes one label entry.
func (t *Table) Delete(l Label) error {
	var b Batch
	b.DeleteLabel(l)
	return t.Commit(&b)
}

// Len is the number of installed labels.
func (t *Table) Len() int { return int(t.entries.Load()) }

// Commits is the number of batches published, for metrics.
func (t *Table) Commits() uint64 { return t.commits.Load() }

func validate(s *side, b *Batch) error {
	// Presence after the earlier operations of the same batch, for deletes.
	var pending map[uint64]bool
	present := func(op *batchOp) bool {
		k := uint64(op.key)
		if op.tunnel {
			k |= 1 << 32
		}
		if v, ok := pending[k]; ok {
			return v
		}
		tab := s.labels
		if op.tunnel {
			tab = s.tunnels
		}
		return uint(op.key) < uint(len(tab)) && tab[op.key].op != OpNone
	}
	for i := range b.ops {
		op := &b.ops[i]
		what := "label " + Label(op.key).String()
		if op.tunnel {
			what = fmt.Sprintf("tunnel %d", op.key)
			if op.key == 0 || op.key > MaxTunnel {
				return fmt.Errorf("%s: id out of range 1..%d", what, MaxTunnel)
			}
		} else if Label(op.key) < MinLabel || Label(op.key) > MaxLabel {
			return fmt.Errorf("%s: out of range %d..%d", what, MinLabel, MaxLabel)
		}
		if op.del {
			if !present(op) {
				return fmt.Errorf("delete %s: %w", what, ErrNotFound)
			}
		} else {
			if err := op.e.Validate(); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if op.tunnel != (op.e.Op == OpPush) {
				if op.tunnel {
					return fmt.Errorf("%s: a tunnel entry must push, not %s", what, op.e.Op)
				}
				return fmt.Errorf("%s: push entries belong to tunnels", what)
			}
		}
		if pending == nil {
			pending = make(map[uint64]bool)
		}
		k := uint64(op.key)
		if op.tunnel {
			k |= 1 << 32
		}
		pending[k] = !op.del
	}
	return nil
}

func (s *side) apply(b *Batch) {
	for i := range b.ops {
		op := &b.ops[i]
		tab := &s.labels
		count := &s.nlabels
		if op.tunnel {
			tab = &s.tunnels
			count = &s.ntunnel
		}
		if int(op.key) >= len(*tab) {
			if op.del {
				continue
			}
			*tab = grow(*tab, int(op.key)+1)
		}
		sl := &(*tab)[op.key]
		if sl.op != OpNone {
			s.free[sl.npaths] = append(s.free[sl.npaths], sl.first)
			*count--
		}
		if op.del {
			*sl = slot{}
			continue
		}
		n := len(op.e.Paths)
		var first uint32
		if f := s.free[n]; len(f) > 0 {
			first = f[len(f)-1]
			s.free[n] = f[:len(f)-1]
		} else {
			first = uint32(len(s.paths))
			s.paths = append(s.paths, make([]Path, n)...)
		}
		copy(s.paths[first:], op.e.Paths)
		*sl = slot{op: op.e.Op, npaths: uint8(n), vrf: op.e.VRF, first: first}
		*count++
	}
}

// grow extends a slot array to at least n, doubling so that a load of ascending labels
// stays linear.
func grow(tab []slot, n int) []slot {
	if n <= cap(tab) {
		return tab[:n]
	}
	c := max(2*cap(tab), n, 1024)
	c = min(c, max(n, numLabels))
	nt := make([]slot, n, c)
	copy(nt, tab)
	return nt
}

// Walk calls fn for every installed label in ascending order, outside any reader, with
// writers held off. fn must not call back into the table.
func (t *Table) Walk(fn func(l Label, e Entry) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.active.Load()
	for l := range s.labels {
		if e, ok := s.entry(&s.labels[l]); ok {
			e.Paths = append([]Path(nil), e.Paths...)
			if !fn(Label(l), e) {
				return
			}
		}
	}
}

// WalkTunnels is Walk for tunnels.
func (t *Table) WalkTunnels(fn func(id uint32, e Entry) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.active.Load()
	for id := range s.tunnels {
		if e, ok := s.entry(&s.tunnels[id]); ok {
			e.Paths = append([]Path(nil), e.Paths...)
			if !fn(uint32(id), e) {
				return
			}
		}
	}
}

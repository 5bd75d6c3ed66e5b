// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/bpf"
)

// The program reads ports and the LFIB through arrays instead of hash maps, to spare a
// hash lookup per packet. An array map's values are not replaced atomically by the bpf
// syscall, so these arrays are mmapped and every value the program reads while it
// changes is one aligned word that Go stores with a single atomic store: the port
// records (8 bytes) and the LFIB indexes (4 bytes). The LFIB entries themselves live in
// slot arrays written only while no index points at them (slotTable).

// mmapArray maps an mmapable array map's values into this process. Array values are
// laid out at a stride of the value size rounded up to 8.
type mmapArray struct {
	mem    []byte
	stride uintptr
	n      uint32
}

func mapArray(m *ebpf.Map) (*mmapArray, error) {
	if m.Flags()&unix.BPF_F_MMAPABLE == 0 {
		return nil, errors.New("map is not mmapable")
	}
	stride := (uintptr(m.ValueSize()) + 7) &^ 7
	size := int(stride) * int(m.MaxEntries())
	page := unix.Getpagesize()
	size = (size + page - 1) &^ (page - 1)
	mem, err := unix.Mmap(m.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return &mmapArray{mem: mem, stride: stride, n: m.MaxEntries()}, nil
}

func (a *mmapArray) word64(i uint32) *uint64 {
	return (*uint64)(unsafe.Pointer(&a.mem[uintptr(i)*a.stride]))
}
func (a *mmapArray) word32(i uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&a.mem[uintptr(i)*a.stride]))
}

func (a *mmapArray) unmap() error {
	if a == nil || a.mem == nil {
		return nil
	}
	err := unix.Munmap(a.mem)
	a.mem = nil
	return err
}

// portTable is an mmapped array of port records, by port number or ifindex.
type portTable struct {
	name string
	arr  *mmapArray
	have map[uint32]bpf.MplsdpPort
	str  func(uint32) string
}

func newPortTable(name string, m *ebpf.Map, str func(uint32) string) (*portTable, error) {
	if m.ValueSize() != uint32(unsafe.Sizeof(bpf.MplsdpPort{})) || unsafe.Sizeof(bpf.MplsdpPort{}) != 8 {
		return nil, fmt.Errorf("map %s: value size %d, want one 8-byte word", name, m.ValueSize())
	}
	arr, err := mapArray(m)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	return &portTable{name: name, arr: arr, have: make(map[uint32]bpf.MplsdpPort), str: str}, nil
}

func (t *portTable) store(k uint32, v bpf.MplsdpPort) {
	atomic.StoreUint64(t.arr.word64(k), *(*uint64)(unsafe.Pointer(&v)))
}

func (t *portTable) load() error {
	clear(t.have)
	for k := range t.arr.n {
		w := atomic.LoadUint64(t.arr.word64(k))
		if v := *(*bpf.MplsdpPort)(unsafe.Pointer(&w)); v.Present != 0 {
			t.have[k] = v
		}
	}
	return nil
}

type portDiff struct {
	t    *portTable
	seen map[uint32]struct{}
	keys []uint32
	vals []bpf.MplsdpPort
}

func (t *portTable) diff() *portDiff {
	return &portDiff{t: t, seen: make(map[uint32]struct{}, len(t.have))}
}

func (d *portDiff) want(k uint32, v bpf.MplsdpPort) error {
	if k >= d.t.arr.n {
		return fmt.Errorf("%s %s: beyond the map's %d entries", d.t.name, d.t.str(k), d.t.arr.n)
	}
	if _, dup := d.seen[k]; dup {
		return fmt.Errorf("%s %s: wanted twice", d.t.name, d.t.str(k))
	}
	d.seen[k] = struct{}{}
	v.Present = 1
	if old, ok := d.t.have[k]; !ok || old != v {
		d.keys, d.vals = append(d.keys, k), append(d.vals, v)
	}
	return nil
}

func (d *portDiff) put() error {
	for i, k := range d.keys {
		d.t.store(k, d.vals[i])
		d.t.have[k] = d.vals[i]
	}
	d.keys, d.vals = nil, nil
	return nil
}

func (d *portDiff) prune() error {
	for k := range d.t.have {
		if _, ok := d.seen[k]; !ok {
			d.t.store(k, bpf.MplsdpPort{})
			delete(d.t.have, k)
		}
	}
	return nil
}

// slotTable is an LFIB (labels or tunnels) as an mmapped index of slot+1 words and an
// array of entry slots. An entry goes into a free slot with the bpf syscall, then the
// index word is stored atomically: the program finds either the old slot or the new,
// each whole. A slot that loses its index word is quarantined, and only after an RCU
// grace period (by when every program run that might have read the old index word has
// ended) does it become free; the grace period is waited for only when the free slots
// run out, so that a Sync rarely waits.
type slotTable struct {
	name       string
	index      *mmapArray
	slots      *ebpf.Map
	have       map[uint32]slotEntry
	free       []uint32
	quarantine []uint32
	str        func(uint32) string
}

type slotEntry struct {
	slot uint32
	val  bpf.MplsdpLfibEntry
}

func newSlotTable(name string, index, slots *ebpf.Map, str func(uint32) string) (*slotTable, error) {
	if index.ValueSize() != 4 {
		return nil, fmt.Errorf("map %s: index value size %d, want 4", name, index.ValueSize())
	}
	arr, err := mapArray(index)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", name, err)
	}
	t := &slotTable{name: name, index: arr, slots: slots, have: make(map[uint32]slotEntry), str: str}
	t.resetFree(nil)
	return t, nil
}

// resetFree makes every slot not in used free, lowest first.
func (t *slotTable) resetFree(used map[uint32]bool) {
	n := t.slots.MaxEntries()
	t.free = make([]uint32, 0, n)
	for s := n; s > 0; s-- {
		if !used[s-1] {
			t.free = append(t.free, s-1)
		}
	}
	t.quarantine = nil
}

// load reads back what the maps hold (maps reused from pins).
func (t *slotTable) load() error {
	clear(t.have)
	used := map[uint32]bool{}
	for k := range t.index.n {
		w := atomic.LoadUint32(t.index.word32(k))
		if w == 0 {
			continue
		}
		var v bpf.MplsdpLfibEntry
		if err := t.slots.Lookup(w-1, &v); err != nil {
			return fmt.Errorf("read %s %s: %w", t.name, t.str(k), err)
		}
		t.have[k] = slotEntry{w - 1, v}
		used[w-1] = true
	}
	t.resetFree(used)
	return nil
}

type slotDiff struct {
	t    *slotTable
	seen map[uint32]struct{}
	keys []uint32
	vals []bpf.MplsdpLfibEntry
}

func (t *slotTable) diff() *slotDiff {
	return &slotDiff{t: t, seen: make(map[uint32]struct{}, len(t.have))}
}

func (d *slotDiff) want(k uint32, v bpf.MplsdpLfibEntry) error {
	if k >= d.t.index.n {
		return fmt.Errorf("%s %s: beyond the map's %d entries", d.t.name, d.t.str(k), d.t.index.n)
	}
	if _, dup := d.seen[k]; dup {
		return fmt.Errorf("%s %s: wanted twice", d.t.name, d.t.str(k))
	}
	d.seen[k] = struct{}{}
	if old, ok := d.t.have[k]; !ok || old.val != v {
		d.keys, d.vals = append(d.keys, k), append(d.vals, v)
	}
	return nil
}

func (d *slotDiff) put() error {
	t := d.t
	for i, k := range d.keys {
		if len(t.free) == 0 && len(t.quarantine) > 0 {
			// Quarantined slots pile up until they are needed; one grace period then
			// frees them all, so a Sync rarely waits.
			graceRCU()
			t.release()
		}
		if len(t.free) == 0 {
			return fmt.Errorf("%s %s: all %d slots in use", t.name, t.str(k), t.slots.MaxEntries())
		}
		s := t.free[len(t.free)-1]
		if err := t.slots.Update(s, d.vals[i], ebpf.UpdateAny); err != nil {
			return fmt.Errorf("%s %s: write slot %d: %w", t.name, t.str(k), s, err)
		}
		t.free = t.free[:len(t.free)-1]
		atomic.StoreUint32(t.index.word32(k), s+1)
		if old, ok := t.have[k]; ok {
			t.quarantine = append(t.quarantine, old.slot)
		}
		t.have[k] = slotEntry{s, d.vals[i]}
	}
	d.keys, d.vals = nil, nil
	return nil
}

func (d *slotDiff) prune() error {
	t := d.t
	for k, e := range t.have {
		if _, ok := d.seen[k]; !ok {
			atomic.StoreUint32(t.index.word32(k), 0)
			t.quarantine = append(t.quarantine, e.slot)
			delete(t.have, k)
		}
	}
	return nil
}

// release frees the quarantined slots; call it after a grace period.
func (t *slotTable) release() {
	t.free = append(t.free, t.quarantine...)
	t.quarantine = t.quarantine[:0]
}

// graceRCU waits until every XDP program run that started before it has ended. XDP
// programs run inside RCU read-side sections, and membarrier(MEMBARRIER_CMD_GLOBAL) is
// synchronize_rcu(). Where the kernel refuses it (nohz_full), a pause far longer than
// any program run stands in.
func graceRCU() {
	const membarrierCmdGlobal = 1
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdGlobal, 0, 0); errno != 0 {
		time.Sleep(50 * time.Millisecond)
	}
}

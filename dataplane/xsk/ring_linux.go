// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Desc must match struct xdp_desc exactly: the RX and TX rings are read and
// written as []Desc.
var _ [0]struct{} = [unsafe.Sizeof(Desc{}) - unsafe.Sizeof(unix.XDPDesc{})]struct{}{}

// ring is one mmap'd AF_XDP ring. producer, consumer and flags point into the
// mapping and are shared with the kernel; cachedProd and cachedCons are private
// copies so that the shared words are touched once per batch. Exactly one of
// descs (RX, TX) and addrs (fill, completion) is set.
//
// For a ring we produce (fill, TX) cachedProd is authoritative and cachedCons is
// a possibly stale copy of the kernel's consumer; for a ring we consume (RX,
// completion) the roles are swapped. Stale copies only under-estimate the space
// or entries available, so they are refreshed when they fall short.
type ring struct {
	producer *uint32
	consumer *uint32
	flags    *uint32
	descs    []Desc
	addrs    []uint64
	mask     uint32
	size     uint32

	cachedProd uint32
	cachedCons uint32

	mem  []byte // the mapping, for munmap
	refs int    // sockets using the ring (fill and completion rings can be shared); guarded by UMEM.mu
}

// mapRing maps the ring at page offset pgoff of fd with entries entries of
// entSize bytes, laid out as off describes.
func mapRing(fd int, pgoff int64, off unix.XDPRingOffset, entries int, entSize uintptr) (*ring, error) {
	length := int(off.Desc) + entries*int(entSize)
	mem, err := unix.Mmap(fd, pgoff, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	r := &ring{
		producer: (*uint32)(unsafe.Pointer(&mem[off.Producer])),
		consumer: (*uint32)(unsafe.Pointer(&mem[off.Consumer])),
		flags:    (*uint32)(unsafe.Pointer(&mem[off.Flags])),
		mask:     uint32(entries - 1),
		size:     uint32(entries),
		mem:      mem,
		refs:     1,
	}
	base := unsafe.Pointer(&mem[off.Desc])
	if entSize == unsafe.Sizeof(Desc{}) {
		r.descs = unsafe.Slice((*Desc)(base), entries)
	} else {
		r.addrs = unsafe.Slice((*uint64)(base), entries)
	}
	// A ring is new (both indices 0) when mapped, except a shared fill or
	// completion ring, which is never mapped twice.
	r.cachedProd = atomic.LoadUint32(r.producer)
	r.cachedCons = atomic.LoadUint32(r.consumer)
	return r, nil
}

func (r *ring) unmap() error {
	if r == nil || r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	*r = ring{}
	return err
}

// prodFree returns how many of want entries can be produced now, refreshing the
// cached consumer index (an acquire load) only when the cached one shows too
// little space.
func (r *ring) prodFree(want uint32) uint32 {
	free := r.size - (r.cachedProd - r.cachedCons)
	if free < want {
		r.cachedCons = atomic.LoadUint32(r.consumer)
		free = r.size - (r.cachedProd - r.cachedCons)
	}
	return min(free, want)
}

// prodSubmit publishes n produced entries with a release store of the producer.
func (r *ring) prodSubmit(n uint32) {
	r.cachedProd += n
	atomic.StoreUint32(r.producer, r.cachedProd)
}

// consAvail returns how many of want entries can be consumed now, refreshing the
// cached producer index (an acquire load, after which the entries may be read)
// only when the cached one shows too few.
func (r *ring) consAvail(want uint32) uint32 {
	avail := r.cachedProd - r.cachedCons
	if avail < want {
		r.cachedProd = atomic.LoadUint32(r.producer)
		avail = r.cachedProd - r.cachedCons
	}
	return min(avail, want)
}

// consRelease hands n consumed entries back with a release store of the consumer.
func (r *ring) consRelease(n uint32) {
	r.cachedCons += n
	atomic.StoreUint32(r.consumer, r.cachedCons)
}

func (r *ring) needWakeup() bool {
	return atomic.LoadUint32(r.flags)&unix.XDP_RING_NEED_WAKEUP != 0
}

// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// UMEM is the packet memory shared with the kernel: NumFrames chunks of FrameSize
// bytes in one page-aligned anonymous mapping. The kernel registration
// (XDP_UMEM_REG) is made by the first socket opened on it; later sockets share it.
//
// Thread contract: Frame, Data, Bytes and the size getters may be called from any
// goroutine (they only read immutable fields). Open and Socket.Close serialize on
// an internal mutex. Close must only be called after every socket on the UMEM is
// closed and no goroutine uses the memory any more.
type UMEM struct {
	mem       []byte
	frameSize int
	numFrames int
	headroom  int
	chunkMask uint64

	mu     sync.Mutex // guards socks and closed
	socks  []*Socket  // open sockets on this UMEM, in open order
	closed bool
	zc     bool // the mode of the current kernel registration (valid while len(socks) > 0)
	wakeup bool // XDP_USE_NEED_WAKEUP of the current kernel registration
}

// NewUMEM maps the memory for a UMEM. It needs no privileges; registering it with
// the kernel happens in the first Open.
func NewUMEM(c UMEMConfig) (*UMEM, error) {
	if c.NumFrames == 0 {
		c.NumFrames = DefaultNumFrames
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if !isPow2(c.NumFrames) {
		return nil, &SetupError{Op: "UMEM config", Ifindex: -1, Queue: -1, Err: fmt.Errorf("NumFrames %d is not a power of two", c.NumFrames)}
	}
	if c.FrameSize != 2048 && c.FrameSize != 4096 {
		return nil, &SetupError{Op: "UMEM config", Ifindex: -1, Queue: -1, Err: fmt.Errorf("FrameSize %d is neither 2048 nor 4096", c.FrameSize)}
	}
	if c.Headroom < 0 || c.Headroom >= c.FrameSize-PacketHeadroom {
		return nil, &SetupError{Op: "UMEM config", Ifindex: -1, Queue: -1, Err: fmt.Errorf("Headroom %d is outside [0, FrameSize-%d)", c.Headroom, PacketHeadroom)}
	}
	size := c.NumFrames * c.FrameSize
	if size/c.FrameSize != c.NumFrames || size > 1<<40 {
		return nil, &SetupError{Op: "UMEM config", Ifindex: -1, Queue: -1, Err: fmt.Errorf("%d frames of %d bytes is too much memory", c.NumFrames, c.FrameSize)}
	}
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, &SetupError{Op: fmt.Sprintf("mmap %d bytes of UMEM", size), Ifindex: -1, Queue: -1, Err: err}
	}
	return &UMEM{
		mem:       mem,
		frameSize: c.FrameSize,
		numFrames: c.NumFrames,
		headroom:  c.Headroom,
		chunkMask: ^uint64(c.FrameSize - 1),
	}, nil
}

// Frame returns the whole chunk containing addr, which may point anywhere inside
// it (a received descriptor's Addr points past the headroom). It panics if addr
// is outside the UMEM.
func (u *UMEM) Frame(addr uint64) []byte {
	start := addr & u.chunkMask
	end := start + uint64(u.frameSize)
	return u.mem[start:end:end]
}

// Data returns the packet bytes a descriptor points at: Bytes()[d.Addr:d.Addr+d.Len].
func (u *UMEM) Data(d Desc) []byte {
	end := d.Addr + uint64(d.Len)
	return u.mem[d.Addr:end:end]
}

// ChunkAddr returns the start of the chunk containing addr (what the completion
// ring hands back may point inside a chunk).
func (u *UMEM) ChunkAddr(addr uint64) uint64 { return addr & u.chunkMask }

// FrameAddr returns the address of chunk i, 0 <= i < NumFrames.
func (u *UMEM) FrameAddr(i int) uint64 { return uint64(i) * uint64(u.frameSize) }

// Bytes returns the whole UMEM.
func (u *UMEM) Bytes() []byte { return u.mem }

// FrameSize returns the chunk size in bytes.
func (u *UMEM) FrameSize() int { return u.frameSize }

// NumFrames returns the number of chunks.
func (u *UMEM) NumFrames() int { return u.numFrames }

// Headroom returns the configured XDP_UMEM_REG headroom.
func (u *UMEM) Headroom() int { return u.headroom }

// Close unmaps the memory. It fails while sockets on the UMEM are open, and is a
// no-op once done.
func (u *UMEM) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil
	}
	if n := len(u.socks); n > 0 {
		return &SetupError{Op: "close UMEM", Ifindex: -1, Queue: -1, Err: fmt.Errorf("%d sockets still open on it", n)}
	}
	u.closed = true
	err := unix.Munmap(u.mem)
	u.mem = nil
	if err != nil {
		return &SetupError{Op: "munmap UMEM", Ifindex: -1, Queue: -1, Err: err}
	}
	return nil
}

var errUMEMClosed = errors.New("UMEM is closed")

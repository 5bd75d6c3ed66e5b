// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket is an AF_XDP socket bound to one (interface, queue), with its RX and TX
// rings and the fill and completion rings it posts to and reaps from.
//
// Thread contract: a Socket is used by one goroutine at a time, with one
// relaxation: its methods fall in two sides that touch disjoint state, and one
// goroutine may run the RX side while another runs the TX side.
//
//   - RX side: Fill, Receive, FillNeedsWakeup, WakeRX, Wait.
//   - TX side: Transmit, Complete.
//   - Any goroutine, any time before Close: FD, ZeroCopy, NeedWakeup, Ifindex,
//     Queue, UMEM, SharesFillRing, Stats.
//   - Close must not run concurrently with any other method, and no method may be
//     called after it.
//
// Sockets on the same UMEM but different (interface, queue) pairs share nothing
// but the memory: each has its own four rings. Sockets on the same (interface,
// queue) and UMEM share one fill ring and one completion ring (the kernel allows
// nothing else, see SharesFillRing): their Fill/Complete calls must then be
// serialized by the caller, e.g. by one goroutine doing all of them.
type Socket struct {
	fd      int
	umem    *UMEM
	ifindex int
	queue   int
	zc      bool
	wakeup  bool
	shared  bool // fill and completion rings belong to an earlier socket on the same (ifindex, queue)

	// RX side.
	rx   *ring
	fill *ring
	pfd  [1]unix.PollFd

	// TX side.
	tx   *ring
	comp *ring

	txWakeupErrors atomic.Uint64

	closed bool // guarded by umem.mu
}

// Open creates an AF_XDP socket bound to (ifindex, queue) on u.
//
// The first socket on a UMEM (or the first after all earlier ones were closed)
// registers it with the kernel (XDP_UMEM_REG) and binds with the flags c asks
// for. A later socket binds with XDP_SHARED_UMEM to an open socket of the same
// UMEM: on another device or queue it gets its own fill and completion rings
// (Linux 5.10); on the same device and queue it shares the fill and completion
// rings of the socket already bound there, as the kernel requires.
//
// Closing a socket releases its (ifindex, queue) only when the kernel's deferred
// work has run; Open retries a bind failing with EBUSY for up to 200ms to cover that.
//
// Open undoes everything it did (unmaps, closes the fd) before returning an
// error, which is a *SetupError naming the failed step.
func Open(u *UMEM, ifindex, queue int, c SocketConfig) (*Socket, error) {
	fail := func(op string, err error) error {
		return &SetupError{Op: op, Ifindex: ifindex, Queue: queue, Err: err}
	}
	for _, p := range []*int{&c.RxSize, &c.TxSize, &c.FillSize, &c.CompSize} {
		if *p == 0 {
			*p = DefaultRingSize
		}
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"RxSize", c.RxSize}, {"TxSize", c.TxSize}, {"FillSize", c.FillSize}, {"CompSize", c.CompSize}} {
		if !isPow2(f.n) || f.n > 1<<24 {
			return nil, fail("socket config", fmt.Errorf("%s %d is not a power of two up to 1<<24", f.name, f.n))
		}
	}
	if c.Mode < ModeAuto || c.Mode > ModeZeroCopy {
		return nil, fail("socket config", fmt.Errorf("unknown mode %d", int(c.Mode)))
	}
	if ifindex < 0 || ifindex > math.MaxUint32 || queue < 0 || queue > math.MaxUint32 {
		return nil, fail("socket config", errors.New("ifindex or queue out of range"))
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return nil, fail("open", errUMEMClosed)
	}
	// peer is the socket to share the UMEM with: one on the same (ifindex, queue)
	// if any (the kernel then shares its buffer pool, fill and completion rings),
	// else any open one.
	var peer *Socket
	shared := false
	for _, o := range u.socks {
		if o.ifindex == ifindex && o.queue == queue {
			peer, shared = o, true
			break
		}
	}
	if peer == nil && len(u.socks) > 0 {
		peer = u.socks[0]
	}

	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fail("socket(AF_XDP)", err)
	}
	s := &Socket{fd: fd, umem: u, ifindex: ifindex, queue: queue, shared: shared}
	ok := false
	defer func() {
		if !ok {
			_ = s.release()
		}
	}()

	if peer == nil {
		reg := unix.XDPUmemReg{
			Addr:     uint64(uintptr(unsafe.Pointer(&u.mem[0]))),
			Len:      uint64(len(u.mem)),
			Size:     uint32(u.frameSize),
			Headroom: uint32(u.headroom),
		}
		if err := setsockopt(fd, unix.SOL_XDP, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg)); err != nil {
			return nil, fail("setsockopt XDP_UMEM_REG", err)
		}
	}
	type ringOpt struct {
		name string
		opt  int
		size int
	}
	opts := []ringOpt{{"XDP_RX_RING", unix.XDP_RX_RING, c.RxSize}, {"XDP_TX_RING", unix.XDP_TX_RING, c.TxSize}}
	if !shared {
		opts = append(opts,
			ringOpt{"XDP_UMEM_FILL_RING", unix.XDP_UMEM_FILL_RING, c.FillSize},
			ringOpt{"XDP_UMEM_COMPLETION_RING", unix.XDP_UMEM_COMPLETION_RING, c.CompSize})
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, o.opt, o.size); err != nil {
			return nil, fail(fmt.Sprintf("setsockopt %s %d", o.name, o.size), err)
		}
	}

	var off unix.XDPMmapOffsets
	if err := getsockopt(fd, unix.SOL_XDP, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off)); err != nil {
		return nil, fail("getsockopt XDP_MMAP_OFFSETS", err)
	}
	if s.rx, err = mapRing(fd, unix.XDP_PGOFF_RX_RING, off.Rx, c.RxSize, unsafe.Sizeof(Desc{})); err != nil {
		return nil, fail("mmap RX ring", err)
	}
	if s.tx, err = mapRing(fd, unix.XDP_PGOFF_TX_RING, off.Tx, c.TxSize, unsafe.Sizeof(Desc{})); err != nil {
		return nil, fail("mmap TX ring", err)
	}
	if shared {
		s.fill, s.comp = peer.fill, peer.comp
		s.fill.refs++
		s.comp.refs++
	} else {
		if s.fill, err = mapRing(fd, unix.XDP_UMEM_PGOFF_FILL_RING, off.Fr, c.FillSize, 8); err != nil {
			return nil, fail("mmap fill ring", err)
		}
		if s.comp, err = mapRing(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, off.Cr, c.CompSize, 8); err != nil {
			return nil, fail("mmap completion ring", err)
		}
	}

	if peer != nil {
		// A shared socket inherits the registration's mode; refuse a contradiction
		// before binding, which would occupy the queue until the kernel's deferred
		// release of the buffer pool.
		switch {
		case c.Mode == ModeZeroCopy && !u.zc:
			return nil, fail("check mode", errors.New("zero-copy requested, but the UMEM is registered in copy mode"))
		case c.Mode == ModeCopy && u.zc:
			return nil, fail("check mode", errors.New("copy mode requested, but the UMEM is registered in zero-copy mode"))
		}
	}

	sa := &unix.SockaddrXDP{Ifindex: uint32(ifindex), QueueID: uint32(queue)}
	if peer != nil {
		// The kernel refuses any other flag with XDP_SHARED_UMEM: mode and
		// need_wakeup come from the UMEM's registration.
		sa.Flags = unix.XDP_SHARED_UMEM
		sa.SharedUmemFD = uint32(peer.fd)
	} else {
		switch c.Mode {
		case ModeCopy:
			sa.Flags |= unix.XDP_COPY
		case ModeZeroCopy:
			sa.Flags |= unix.XDP_ZEROCOPY
		}
		if c.NeedWakeup {
			sa.Flags |= unix.XDP_USE_NEED_WAKEUP
		}
	}
	// A socket closed on this (ifindex, queue) holds it until the kernel releases
	// its buffer pool from a work queue: retry EBUSY for a moment.
	for try := 0; ; try++ {
		err = unix.Bind(fd, sa)
		if err != unix.EBUSY || try == bindBusyRetries {
			break
		}
		time.Sleep(bindBusyWait)
	}
	if err != nil {
		op := fmt.Sprintf("bind (mode %s, need_wakeup %t)", c.Mode, c.NeedWakeup)
		if peer != nil {
			op = fmt.Sprintf("bind XDP_SHARED_UMEM with fd %d (ifindex %d queue %d)", peer.fd, peer.ifindex, peer.queue)
		}
		return nil, fail(op, err)
	}
	xo, err := unix.GetsockoptInt(fd, unix.SOL_XDP, unix.XDP_OPTIONS)
	if err != nil {
		return nil, fail("getsockopt XDP_OPTIONS", err)
	}
	s.zc = xo&unix.XDP_OPTIONS_ZEROCOPY != 0
	if peer != nil {
		s.wakeup = u.wakeup
	} else {
		s.wakeup = c.NeedWakeup
	}
	switch {
	case c.Mode == ModeZeroCopy && !s.zc:
		return nil, fail("check mode", errors.New("zero-copy requested, but the UMEM is registered in copy mode"))
	case c.Mode == ModeCopy && s.zc:
		return nil, fail("check mode", errors.New("copy mode requested, but the UMEM is registered in zero-copy mode"))
	}
	if peer == nil {
		u.zc, u.wakeup = s.zc, s.wakeup
	}
	u.socks = append(u.socks, s)
	ok = true
	return s, nil
}

// Open retries a bind failing with EBUSY bindBusyRetries times, bindBusyWait apart.
const (
	bindBusyRetries = 40
	bindBusyWait    = 5 * time.Millisecond
)

// release unmaps the rings (a shared fill or completion ring only when its last
// user goes) and closes the fd. The caller holds umem.mu.
func (s *Socket) release() error {
	var errs []error
	for _, r := range []*ring{s.rx, s.tx} {
		if err := r.unmap(); err != nil {
			errs = append(errs, fmt.Errorf("munmap: %w", err))
		}
	}
	for _, r := range []*ring{s.fill, s.comp} {
		if r == nil {
			continue
		}
		if r.refs--; r.refs == 0 {
			if err := r.unmap(); err != nil {
				errs = append(errs, fmt.Errorf("munmap: %w", err))
			}
		}
	}
	s.rx, s.tx, s.fill, s.comp = nil, nil, nil, nil
	if err := unix.Close(s.fd); err != nil {
		errs = append(errs, fmt.Errorf("close fd %d: %w", s.fd, err))
	}
	s.fd = -1
	return errors.Join(errs...)
}

// Close unmaps the socket's rings and closes it. Closing the socket that
// registered the UMEM is fine while others on it stay open. Close is idempotent.
func (s *Socket) Close() error {
	u := s.umem
	u.mu.Lock()
	defer u.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	u.socks = slices.DeleteFunc(u.socks, func(o *Socket) bool { return o == s })
	if err := s.release(); err != nil {
		return &SetupError{Op: "close", Ifindex: s.ifindex, Queue: s.queue, Err: err}
	}
	return nil
}

// FD returns the socket's file descriptor, for an XSKMAP.
func (s *Socket) FD() int { return s.fd }

// ZeroCopy reports whether bind gave zero-copy mode (XDP_OPTIONS_ZEROCOPY).
func (s *Socket) ZeroCopy() bool { return s.zc }

// NeedWakeup reports whether the socket runs with XDP_USE_NEED_WAKEUP (for a
// socket sharing a UMEM: whether the registering socket asked for it).
func (s *Socket) NeedWakeup() bool { return s.wakeup }

// Ifindex returns the interface the socket is bound to.
func (s *Socket) Ifindex() int { return s.ifindex }

// Queue returns the queue the socket is bound to.
func (s *Socket) Queue() int { return s.queue }

// UMEM returns the UMEM the socket uses.
func (s *Socket) UMEM() *UMEM { return s.umem }

// SharesFillRing reports whether the socket uses the fill and completion rings of
// an earlier socket on the same (interface, queue) and UMEM.
func (s *Socket) SharesFillRing() bool { return s.shared }

// Fill posts frame addresses to the fill ring for the kernel to receive into and
// returns how many fit (a prefix of addrs). The kernel uses the chunk containing
// each address. RX side; does not allocate.
func (s *Socket) Fill(addrs []uint64) int {
	r := s.fill
	n := r.prodFree(uint32(min(len(addrs), int(r.size))))
	if n == 0 {
		return 0
	}
	p := r.cachedProd
	for i := range n {
		r.addrs[(p+i)&r.mask] = addrs[i]
	}
	r.prodSubmit(n)
	return int(n)
}

// Receive consumes up to len(descs) received descriptors into descs and returns
// how many. The frames now belong to the caller. RX side; does not allocate.
func (s *Socket) Receive(descs []Desc) int {
	r := s.rx
	n := r.consAvail(uint32(min(len(descs), int(r.size))))
	if n == 0 {
		return 0
	}
	c := r.cachedCons
	for i := range n {
		descs[i] = r.descs[(c+i)&r.mask]
	}
	r.consRelease(n)
	return int(n)
}

// Transmit posts descriptors to the TX ring, returns how many fit (a prefix of
// descs), and wakes the kernel when needed: always in copy mode or without
// need_wakeup, else when the TX ring's need_wakeup flag is set. The frames belong
// to the kernel until Complete returns their addresses. Transmit(nil) flushes
// entries left in the ring by an earlier call. TX side; does not allocate.
//
// In copy mode the kernel sends at most a budget of frames (32 by default) per
// wake-up and answers EAGAIN when more are left; Transmit wakes it again as long
// as it makes progress, a bounded number of times.
func (s *Socket) Transmit(descs []Desc) int {
	r := s.tx
	n := r.prodFree(uint32(min(len(descs), int(r.size))))
	if n > 0 {
		p := r.cachedProd
		for i := range n {
			r.descs[(p+i)&r.mask] = descs[i]
		}
		r.prodSubmit(n)
	}
	s.kickTX()
	return int(n)
}

// kickTX is Transmit's wake-up: sendto(fd, MSG_DONTWAIT) while the kernel has
// unconsumed TX entries and makes progress.
func (s *Socket) kickTX() {
	r := s.tx
	if s.zc && s.wakeup && !r.needWakeup() {
		return
	}
	for range r.size/32 + 2 {
		cons := atomic.LoadUint32(r.consumer)
		if cons == r.cachedProd {
			return
		}
		_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			if s.zc {
				return
			}
		case unix.EAGAIN, unix.EINTR:
			if s.zc || atomic.LoadUint32(r.consumer) == cons {
				return // the driver is busy or the completion ring is full: try again on the next call
			}
		default: // ENETDOWN, ENOBUFS, EBUSY, ...
			s.txWakeupErrors.Add(1)
			return
		}
	}
}

// Complete consumes up to len(addrs) completion ring entries, the addresses of
// frames the kernel has finished sending, and returns how many. The frames belong
// to the caller again. TX side; does not allocate.
//
// Identify a completed frame by its chunk (UMEM.ChunkAddr), not by the exact
// address: Linux 6.18 in copy mode hands back odd TX addresses with bit 0 cleared.
// In copy mode the kernel also returns the addresses of TX descriptors it rejected
// as invalid (counted in Stats.TxInvalidDescs).
func (s *Socket) Complete(addrs []uint64) int {
	r := s.comp
	n := r.consAvail(uint32(min(len(addrs), int(r.size))))
	if n == 0 {
		return 0
	}
	c := r.cachedCons
	for i := range n {
		addrs[i] = r.addrs[(c+i)&r.mask]
	}
	r.consRelease(n)
	return int(n)
}

// FillNeedsWakeup reports the fill ring's XDP_RING_NEED_WAKEUP flag: the driver
// waits for a wake-up (WakeRX or Wait) before it receives into newly filled
// frames. Only ever set with NeedWakeup in zero-copy mode. RX side.
func (s *Socket) FillNeedsWakeup() bool { return s.fill.needWakeup() }

// WakeRX wakes the driver's receive path (recvfrom with MSG_DONTWAIT), for use
// when FillNeedsWakeup reports true. RX side; does not allocate.
func (s *Socket) WakeRX() error {
	_, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(s.fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	switch errno {
	case 0, unix.EAGAIN, unix.EINTR, unix.EBUSY, unix.ENOBUFS:
		return nil
	}
	return errno
}

// Wait polls the socket for received descriptors for at most timeout (rounded up
// to milliseconds; <= 0 does not block), for an idle loop: call it only when
// Receive returned nothing. It also wakes the driver if the fill ring needs it.
// It blocks the OS thread, not just the goroutine. An interrupted poll returns
// (false, nil). RX side.
func (s *Socket) Wait(timeout time.Duration) (readable bool, err error) {
	ms := 0
	if timeout > 0 {
		ms = int(min((timeout+time.Millisecond-1)/time.Millisecond, math.MaxInt32))
	}
	s.pfd[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	n, err := unix.Poll(s.pfd[:], ms)
	if err == unix.EINTR {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("xsk: ifindex %d queue %d: poll: %w", s.ifindex, s.queue, err)
	}
	return n > 0 && s.pfd[0].Revents&unix.POLLIN != 0, nil
}

// Stats returns the socket's kernel counters (getsockopt XDP_STATISTICS).
func (s *Socket) Stats() (Stats, error) {
	var ks unix.XDPStatistics
	if err := getsockopt(s.fd, unix.SOL_XDP, unix.XDP_STATISTICS, unsafe.Pointer(&ks), unsafe.Sizeof(ks)); err != nil {
		return Stats{}, fmt.Errorf("xsk: ifindex %d queue %d: getsockopt XDP_STATISTICS: %w", s.ifindex, s.queue, err)
	}
	return Stats{
		RxDropped:            ks.Rx_dropped,
		RxInvalidDescs:       ks.Rx_invalid_descs,
		TxInvalidDescs:       ks.Tx_invalid_descs,
		RxRingFull:           ks.Rx_ring_full,
		RxFillRingEmptyDescs: ks.Rx_fill_ring_empty_descs,
		TxRingEmptyDescs:     ks.Tx_ring_empty_descs,
		TxWakeupErrors:       s.txWakeupErrors.Load(),
	}, nil
}

func setsockopt(fd, level, name int, p unsafe.Pointer, size uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), size, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// getsockopt reads an option of exactly size bytes; a shorter answer (an older
// kernel's layout) is an error, as the fields would not line up.
func getsockopt(fd, level, name int, p unsafe.Pointer, size uintptr) error {
	l := uint32(size)
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if errno != 0 {
		return errno
	}
	if uintptr(l) != size {
		return fmt.Errorf("kernel returned %d bytes, want %d", l, size)
	}
	return nil
}

// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"fmt"
)

// Defaults used for zero fields of UMEMConfig and SocketConfig.
const (
	DefaultNumFrames = 4096
	DefaultFrameSize = 2048
	DefaultRingSize  = 2048
)

// PacketHeadroom is the XDP_PACKET_HEADROOM the kernel reserves in front of every
// received packet, after UMEMConfig.Headroom: a received descriptor's Addr is
// chunk start + Headroom + PacketHeadroom.
const PacketHeadroom = 256

// UMEMConfig sizes a UMEM. Zero fields take their defaults.
type UMEMConfig struct {
	// NumFrames is the number of frames (chunks), a power of two. Default 4096.
	NumFrames int
	// FrameSize is the chunk size in bytes, 2048 or 4096. Default 2048.
	FrameSize int
	// Headroom is the number of bytes the kernel leaves free in front of every
	// received frame, in addition to PacketHeadroom (XDP_UMEM_REG headroom).
	// Default 0. Must be less than FrameSize - PacketHeadroom.
	Headroom int
}

// Mode selects copy or zero-copy operation when a socket is bound.
type Mode int

const (
	// ModeAuto lets the kernel try zero-copy and fall back to copy mode.
	ModeAuto Mode = iota
	// ModeCopy forces copy mode (XDP_COPY).
	ModeCopy
	// ModeZeroCopy forces zero-copy (XDP_ZEROCOPY); bind fails without driver support.
	ModeZeroCopy
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeCopy:
		return "copy"
	case ModeZeroCopy:
		return "zero-copy"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// SocketConfig sizes a socket's rings and chooses its bind flags. Zero sizes take
// DefaultRingSize.
//
// Mode and NeedWakeup apply to the socket that registers the UMEM. A socket that
// shares an already registered UMEM inherits both from it (the kernel refuses bind
// flags together with XDP_SHARED_UMEM); Open fails if an explicit ModeCopy or
// ModeZeroCopy contradicts what it got. Socket.ZeroCopy and Socket.NeedWakeup report
// what the socket actually runs with.
type SocketConfig struct {
	RxSize, TxSize, FillSize, CompSize int // ring sizes in entries, powers of two
	Mode                               Mode
	NeedWakeup                         bool // XDP_USE_NEED_WAKEUP
}

// Desc is a RX or TX descriptor, laid out as the kernel's struct xdp_desc. Addr is
// the UMEM offset of the first packet byte (not necessarily a chunk start), Len the
// packet length. Options must be zero on TX unless multi-buffer is in use.
type Desc struct {
	Addr    uint64
	Len     uint32
	Options uint32
}

// Stats are a socket's kernel counters (XDP_STATISTICS), plus the number of failed
// TX wake-ups (sendto errors other than EAGAIN).
type Stats struct {
	RxDropped            uint64 // packets dropped for reasons other than invalid descriptors
	RxInvalidDescs       uint64 // invalid descriptors on the fill ring
	TxInvalidDescs       uint64 // invalid descriptors on the TX ring (skipped, never completed)
	RxRingFull           uint64 // packets dropped because the RX ring was full
	RxFillRingEmptyDescs uint64 // times the kernel found the fill ring empty
	TxRingEmptyDescs     uint64 // times the kernel found the TX ring empty
	TxWakeupErrors       uint64 // TX kicks (sendto) that failed with an error other than EAGAIN
}

// SetupError reports which step of setting up a socket or UMEM failed. Err is
// usually a unix.Errno, so errors.Is(err, unix.ENODEV) works.
type SetupError struct {
	Op      string // the failed step, e.g. "bind", "setsockopt XDP_UMEM_REG"
	Ifindex int    // -1 for UMEM errors
	Queue   int    // -1 for UMEM errors
	Err     error
}

func (e *SetupError) Error() string {
	if e.Ifindex < 0 {
		return fmt.Sprintf("xsk: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("xsk: ifindex %d queue %d: %s: %v", e.Ifindex, e.Queue, e.Op, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }

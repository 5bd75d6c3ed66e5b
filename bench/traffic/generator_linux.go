// SPDX-License-Identifier: Apache-2.0

package traffic

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

// GeneratorConfig sizes a Generator; zero fields take the defaults.
type GeneratorConfig struct {
	// Frames is the number of UMEM frames, each holding a copy of the frame sent: the
	// most frames in flight. A power of two; default 4096.
	Frames int
	// Batch is the number of descriptors posted per Transmit; default 256.
	Batch int
	// MaxRun bounds one Start-Stop period: the generator stops sending by itself after
	// it, in case Stop never comes. Default 30 s.
	MaxRun time.Duration
}

// drainTimeout bounds Stop's wait for the kernel to hand back the frames in flight.
const drainTimeout = 200 * time.Millisecond

// Generator sends one frame, over and over, from an AF_XDP socket in copy mode bound
// to queue 0 of an interface: a TX-only loop that posts batches of descriptors to the
// TX ring and takes the frames back from the completion ring. It needs no XDP program
// on its own interface.
type Generator struct {
	umem     *xsk.UMEM
	sock     *xsk.Socket
	frameLen uint32
	batch    int
	maxRun   time.Duration
	stamp    bool // paced sends write a timestamp into each frame's last 8 bytes

	// Owned by the sending goroutine between Start and Stop, by the caller otherwise.
	free  []uint64 // chunk addresses not in the kernel's hands
	descs []xsk.Desc
	comp  []uint64

	sent    atomic.Uint64 // frames the kernel has completed
	stop    atomic.Bool
	done    chan struct{}
	running bool
}

// NewGenerator opens a generator of frame on interface ifname of n. The socket is
// created inside n's namespace; the generator may then be used from any goroutine.
func NewGenerator(n *topo.Node, ifname string, frame []byte, c GeneratorConfig) (g *Generator, err error) {
	if c.Frames == 0 {
		c.Frames = 4096
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.MaxRun <= 0 {
		c.MaxRun = 30 * time.Second
	}
	const frameSize = xsk.DefaultFrameSize
	if len(frame) < 14 || len(frame) > frameSize {
		return nil, fmt.Errorf("traffic: frame of %d bytes: want 14 to %d", len(frame), frameSize)
	}
	ifc, err := n.Iface(ifname)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	u, err := xsk.NewUMEM(xsk.UMEMConfig{NumFrames: c.Frames, FrameSize: frameSize})
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	g = &Generator{umem: u, frameLen: uint32(len(frame)), batch: c.Batch, maxRun: c.MaxRun}
	defer func() {
		if err != nil {
			err = errors.Join(err, g.Close())
			g = nil
		}
	}()
	err = n.Do(func() error {
		// The RX and fill rings are never used; the completion ring holds every frame,
		// so it never limits sending.
		var err error
		g.sock, err = xsk.Open(u, ifc.Index, 0, xsk.SocketConfig{
			RxSize: 64, FillSize: 64, TxSize: min(c.Frames, xsk.DefaultRingSize), CompSize: c.Frames,
			Mode: xsk.ModeCopy,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: generator on %s/%s: %w", n.Name, ifname, err)
	}
	g.free = make([]uint64, 0, c.Frames)
	for i := range c.Frames {
		a := u.FrameAddr(i)
		copy(u.Frame(a), frame)
		g.free = append(g.free, a)
	}
	g.descs = make([]xsk.Desc, c.Batch)
	g.comp = make([]uint64, c.Batch)
	return g, nil
}

// Start starts sending on a goroutine of its own, locked to an OS thread.
func (g *Generator) Start() {
	if g.running {
		return
	}
	g.running = true
	g.stop.Store(false)
	g.done = make(chan struct{})
	go g.run()
}

// Stop stops sending and waits until the kernel has handed back the frames in flight
// (at most drainTimeout), so that Sent counts every frame sent.
func (g *Generator) Stop() {
	if !g.running {
		return
	}
	g.stop.Store(true)
	<-g.done
	g.running = false
}

// Sent is the number of frames the kernel has taken from the generator and finished
// with (its completions): frames handed to the device, including any the device or
// its peer then dropped.
func (g *Generator) Sent() uint64 { return g.sent.Load() }

// Stats are the socket's kernel counters.
func (g *Generator) Stats() (xsk.Stats, error) { return g.sock.Stats() }

// Close stops the generator and releases the socket and the UMEM.
func (g *Generator) Close() error {
	g.Stop()
	var errs []error
	if g.sock != nil {
		errs = append(errs, g.sock.Close())
	}
	errs = append(errs, g.umem.Close())
	return errors.Join(errs...)
}

func (g *Generator) run() {
	defer close(g.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for end := time.Now().Add(g.maxRun); !g.stop.Load() && time.Now().Before(end); {
		g.reap()
		k := min(len(g.free), g.batch)
		if k == 0 {
			g.sock.Transmit(nil) // everything is in flight: kick the kernel
			continue
		}
		// Post from the tail of the free list, so what was posted is cut off it.
		top := len(g.free) - 1
		for i := range k {
			g.descs[i] = xsk.Desc{Addr: g.free[top-i], Len: g.frameLen}
		}
		g.free = g.free[:len(g.free)-g.sock.Transmit(g.descs[:k])]
	}
	deadline := time.Now().Add(drainTimeout)
	for len(g.free) < cap(g.free) && time.Now().Before(deadline) {
		if g.reap() == 0 {
			g.sock.Transmit(nil)
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// reap takes back the frames the kernel has completed and returns how many.
func (g *Generator) reap() int {
	n := g.sock.Complete(g.comp)
	for _, a := range g.comp[:n] {
		g.free = append(g.free, g.umem.ChunkAddr(a))
	}
	if n > 0 {
		g.sent.Add(uint64(n))
	}
	return n
}

// SPDX-License-Identifier: Apache-2.0

package afxdp

import (
	"sync"
	"sync/atomic"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

const (
	frameSize = 2048
	batchSize = 64
	// inboxCap bounds the frames one worker may hold for another's TX ring.
	inboxCap = 4 * batchSize
	// fillTarget is how many frames a worker keeps posted in its fill ring.
	fillTarget = 1024
)

// framePool holds the UMEM frames no socket owns, by chunk address. Workers take and
// return them a batch at a time, so the lock is taken once per batch, not per frame.
type framePool struct {
	mu   sync.Mutex
	free []uint64
}

func newFramePool(u *xsk.UMEM) *framePool {
	p := &framePool{free: make([]uint64, 0, u.NumFrames())}
	for i := u.NumFrames() - 1; i >= 0; i-- {
		p.free = append(p.free, uint64(i*u.FrameSize()))
	}
	return p
}

// take moves up to len(dst) frames into dst and returns how many.
func (p *framePool) take(dst []uint64) int {
	p.mu.Lock()
	n := min(len(dst), len(p.free))
	copy(dst, p.free[len(p.free)-n:])
	p.free = p.free[:len(p.free)-n]
	p.mu.Unlock()
	return n
}

// give returns frames to the pool.
func (p *framePool) give(src []uint64) {
	p.mu.Lock()
	p.free = append(p.free, src...)
	p.mu.Unlock()
}

// inbox carries descriptors from other workers to the one that owns a TX ring. The
// owner swaps the slices under the lock once per loop.
type inbox struct {
	mu    sync.Mutex
	descs []xsk.Desc
}

// worker runs one socket: receive a batch, run the pipeline on it in place in the UMEM,
// post forwards to the egress port's TX ring (its own, or another worker's through that
// worker's inbox), recycle completions and drops into the fill ring.
//
// Thread contract: everything but the inbox and the atomic counters belongs to the
// worker's goroutine.
type worker struct {
	e    *Engine
	sock *xsk.Socket
	port uint16
	dp   *dataplane.Worker
	bare map[uint16]uint16

	rx       []xsk.Desc
	pkts     []dataplane.Packet
	verdicts []dataplane.Verdict
	tx       []xsk.Desc   // for this worker's TX ring
	out      [][]xsk.Desc // for the other workers, by index; flushed once per batch
	idx      int          // this worker's index in Engine.workers
	free     []uint64     // frames this worker holds for its fill ring
	comp     []uint64
	in       inbox
	inTx     []xsk.Desc // the inbox's descriptors, swapped out

	kernelUnreachable atomic.Uint64
	txFull            atomic.Uint64
}

func newWorker(e *Engine, s *xsk.Socket, port uint16, bare map[uint16]uint16) *worker {
	w := &worker{
		e: e, sock: s, port: port, bare: bare,
		dp:       e.r.NewWorker(),
		rx:       make([]xsk.Desc, batchSize),
		pkts:     make([]dataplane.Packet, batchSize),
		verdicts: make([]dataplane.Verdict, batchSize),
		tx:       make([]xsk.Desc, 0, batchSize),
		free:     make([]uint64, 0, 4*fillTarget),
		comp:     make([]uint64, batchSize),
		inTx:     make([]xsk.Desc, 0, inboxCap),
	}
	w.in.descs = make([]xsk.Desc, 0, inboxCap)
	return w
}

func (w *worker) chunk(addr uint64) uint64 { return addr &^ (frameSize - 1) }

func (w *worker) run() {
	defer w.e.wg.Done()
	defer w.dp.Close()
	w.refill()
	for !w.e.stop.Load() {
		busy := w.receive()
		busy = w.drainInbox() || busy
		busy = w.complete() || busy
		w.refill()
		if !busy {
			if _, err := w.sock.Wait(idleWait); err != nil {
				return
			}
		}
	}
}

// receive processes one RX batch; it reports whether there was one.
func (w *worker) receive() bool {
	n := w.sock.Receive(w.rx)
	if n == 0 {
		return false
	}
	u := w.e.umem
	for i := range n {
		d := &w.rx[i]
		base := w.chunk(d.Addr)
		w.pkts[i] = dataplane.Packet{Buf: u.Frame(base), Off: int(d.Addr - base), Len: int(d.Len), Port: w.port}
	}
	if w.bare != nil {
		for i := range n {
			w.verdicts[i] = dataplane.Verdict{Action: dataplane.ActionForward, Port: w.bare[w.port]}
		}
	} else {
		w.dp.Forward(w.pkts[:n], w.verdicts[:n])
	}
	for i := range n {
		p, v := &w.pkts[i], w.verdicts[i]
		base := w.chunk(w.rx[i].Addr)
		switch v.Action {
		case dataplane.ActionForward:
			d := xsk.Desc{Addr: base + uint64(p.Off), Len: uint32(p.Len)}
			dst := w.e.byPort[v.Port]
			switch {
			case dst == w:
				w.tx = append(w.tx, d)
			case dst == nil:
				w.free = append(w.free, base)
				w.txFull.Add(1)
			default:
				w.out[dst.idx] = append(w.out[dst.idx], d)
			}
		case dataplane.ActionKernel:
			w.kernelUnreachable.Add(1)
			w.free = append(w.free, base)
		default:
			w.free = append(w.free, base)
		}
	}
	w.transmit(w.tx)
	w.tx = w.tx[:0]
	for i, ds := range w.out {
		if len(ds) == 0 {
			continue
		}
		dst := w.e.workers[i]
		dst.in.mu.Lock()
		room := min(len(ds), cap(dst.in.descs)-len(dst.in.descs))
		dst.in.descs = append(dst.in.descs, ds[:room]...)
		dst.in.mu.Unlock()
		for _, d := range ds[room:] {
			w.free = append(w.free, w.chunk(d.Addr))
			w.txFull.Add(1)
		}
		w.out[i] = ds[:0]
	}
	return true
}

// transmit posts descriptors to this worker's TX ring; what does not fit is dropped.
func (w *worker) transmit(ds []xsk.Desc) {
	if len(ds) == 0 {
		return
	}
	k := w.sock.Transmit(ds)
	for _, d := range ds[k:] {
		w.free = append(w.free, w.chunk(d.Addr))
		w.txFull.Add(1)
	}
}

// drainInbox transmits what other workers left for this worker's port.
func (w *worker) drainInbox() bool {
	w.in.mu.Lock()
	w.in.descs, w.inTx = w.inTx[:0], w.in.descs
	w.in.mu.Unlock()
	if len(w.inTx) == 0 {
		return false
	}
	w.transmit(w.inTx)
	return true
}

// complete takes back the frames the kernel finished sending.
func (w *worker) complete() bool {
	n := w.sock.Complete(w.comp)
	for _, a := range w.comp[:n] {
		w.free = append(w.free, w.chunk(a))
	}
	return n > 0
}

// refill posts the worker's free frames to its fill ring, first taking frames from
// the pool when it holds fewer than a batch, and returns a surplus to the pool, so that
// frames that left through another worker's port find their way back. The pool is
// touched at most once per call.
func (w *worker) refill() {
	if len(w.free) < batchSize {
		n := len(w.free)
		w.free = w.free[:fillTarget]
		w.free = w.free[:n+w.e.pool.take(w.free[n:])]
	}
	if len(w.free) > 0 {
		k := w.sock.Fill(w.free)
		w.free = w.free[:copy(w.free, w.free[k:])]
	}
	if len(w.free) > fillTarget {
		w.e.pool.give(w.free[fillTarget:])
		w.free = w.free[:fillTarget]
	}
}

// SPDX-License-Identifier: Apache-2.0

package afxdp

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

const (
	frameSize = 2048
	batchSize = 64
	// fillTarget is how many frames a worker keeps posted in its fill ring; the rest of
	// what it holds goes back to the pool, so a port that only transmits strands none.
	fillTarget = 1024
	// idleSpins is how many empty loops a worker makes before it sleeps in poll: waking
	// a sleeper costs the sender more than a short spin costs the receiver.
	idleSpins = 64
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

// worker runs one socket: receive a batch, run the pipeline on it in place in the UMEM,
// post forwards to the egress port's TX ring, recycle completions and drops into the
// fill ring.
//
// Thread contract: the RX side (fill ring, RX ring, free frames, pipeline worker)
// belongs to the worker's goroutine. The TX side (TX ring, completion ring) is shared:
// any worker forwarding to this port posts there, holding txMu, once per batch; an
// AF_XDP socket's two sides are independent (xsk.Socket's contract).
type worker struct {
	e    *Engine
	sock *xsk.Socket
	port uint16
	dp   *dataplane.Worker
	bare *worker // Options.Bare: every frame goes out this worker's port untouched

	rx       []xsk.Desc
	pkts     []dataplane.Packet
	verdicts []dataplane.Verdict
	out      [][]xsk.Desc // forwards, by egress worker index; flushed once per batch
	idx      int          // this worker's index in Engine.workers
	free     []uint64     // frames this worker holds for its fill ring
	inFill   int          // frames posted to the fill ring and not yet received
	dropped  int          // frames dropped this batch for want of TX room

	txMu   sync.Mutex // guards the TX and completion rings and comp
	comp   []uint64
	txDone []uint64 // completed frames, handed to the RX side under txMu

	kernelUnreachable atomic.Uint64
	txFull            atomic.Uint64
}

func newWorker(e *Engine, s *xsk.Socket, port uint16) *worker {
	return &worker{
		e: e, sock: s, port: port,
		dp:       e.r.NewWorker(),
		rx:       make([]xsk.Desc, batchSize),
		pkts:     make([]dataplane.Packet, batchSize),
		verdicts: make([]dataplane.Verdict, batchSize),
		free:     make([]uint64, 0, 4*fillTarget),
		comp:     make([]uint64, batchSize),
		txDone:   make([]uint64, 0, 4*fillTarget),
	}
}

func (w *worker) chunk(addr uint64) uint64 { return addr &^ (frameSize - 1) }

func (w *worker) run() {
	defer w.e.wg.Done()
	defer w.dp.Close()
	w.refill()
	idle := 0
	for !w.e.stop.Load() {
		busy := w.receive()
		busy = w.complete() || busy
		w.refill()
		switch {
		case busy:
			idle = 0
		case idle < idleSpins:
			idle++
			runtime.Gosched()
		default:
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
	w.inFill -= n
	u := w.e.umem
	for i := range n {
		d := &w.rx[i]
		base := w.chunk(d.Addr)
		w.pkts[i] = dataplane.Packet{Buf: u.Frame(base), Off: int(d.Addr - base), Len: int(d.Len), Port: w.port}
	}
	if w.bare != nil {
		for i := range n {
			w.verdicts[i] = dataplane.Verdict{Action: dataplane.ActionForward, Port: w.bare.port}
		}
	} else {
		w.dp.Forward(w.pkts[:n], w.verdicts[:n])
	}
	kernel := 0
	for i := range n {
		p, v := &w.pkts[i], w.verdicts[i]
		base := w.chunk(w.rx[i].Addr)
		switch v.Action {
		case dataplane.ActionForward:
			if dst := w.e.byPort[v.Port]; dst != nil {
				w.out[dst.idx] = append(w.out[dst.idx], xsk.Desc{Addr: base + uint64(p.Off), Len: uint32(p.Len)})
				continue
			}
			w.dropped++
		case dataplane.ActionKernel:
			kernel++
		}
		w.free = append(w.free, base)
	}
	for i, ds := range w.out {
		if len(ds) > 0 {
			w.e.workers[i].transmit(w, ds)
			w.out[i] = ds[:0]
		}
	}
	if kernel > 0 {
		w.kernelUnreachable.Add(uint64(kernel))
	}
	if w.dropped > 0 {
		w.txFull.Add(uint64(w.dropped))
		w.dropped = 0
	}
	return true
}

// transmit posts from's forwards to this worker's TX ring; frames that do not fit go
// back to from's free list.
func (w *worker) transmit(from *worker, ds []xsk.Desc) {
	w.txMu.Lock()
	k := w.sock.Transmit(ds)
	w.txMu.Unlock()
	for _, d := range ds[k:] {
		from.free = append(from.free, w.chunk(d.Addr))
		from.dropped++
	}
}

// complete takes back the frames the kernel finished sending on this port.
func (w *worker) complete() bool {
	w.txMu.Lock()
	n := w.sock.Complete(w.comp)
	w.txMu.Unlock()
	for _, a := range w.comp[:n] {
		w.free = append(w.free, w.chunk(a))
	}
	return n > 0
}

// refill keeps fillTarget frames posted for receiving, taking from the pool when short
// and giving the surplus back, so that frames that left through another worker's port
// find their way back. The pool is touched at most twice per call.
func (w *worker) refill() {
	want := fillTarget - w.inFill
	if want > 0 && len(w.free) < want {
		n := len(w.free)
		w.free = w.free[:n+w.e.pool.take(w.free[n:n+want-len(w.free)])]
	}
	if want > 0 && len(w.free) > 0 {
		k := w.sock.Fill(w.free[:min(want, len(w.free))])
		w.inFill += k
		w.free = w.free[:copy(w.free, w.free[k:])]
	}
	if len(w.free) > 2*batchSize {
		w.e.pool.give(w.free[batchSize:])
		w.free = w.free[:batchSize]
	}
}

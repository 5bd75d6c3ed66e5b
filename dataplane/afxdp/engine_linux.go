// SPDX-License-Identifier: Apache-2.0

package afxdp

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/mplsdp/mplsdp/bpf"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

// maxQueues is xsk.c's MAX_QUEUES: the XSKMAP key is port*maxQueues + queue.
const maxQueues = 64

// Options configure Start.
type Options struct {
	// SKBMode attaches the classifier in generic (SKB) mode instead of native mode.
	SKBMode bool
	// Mode is how the sockets bind (copy, zero-copy or whichever the driver gives).
	Mode xsk.Mode
	// Queues is the number of queues used per interface; 0 means 1.
	Queues int
	// FramesPerSocket sizes the shared UMEM; 0 means 4096.
	FramesPerSocket int
	// Bare skips the pipeline: every frame received on a port is sent out on the port
	// Bare names for it, untouched. It is the limit the pipeline is measured against.
	Bare map[uint16]uint16
}

// Engine is the userspace forwarding engine.
//
// Thread contract: Start, Sync, Stats and Close may be called from any goroutine; Sync
// and Stats may run concurrently with forwarding. Start and Sync must run in the network
// namespace of the router's interfaces (sockets and attachments are made there).
type Engine struct {
	r     *dataplane.Router
	maps  *xdp.Engine // ports, bindings, infrastructure ACL and counters the classifier reads
	coll  *ebpf.Collection
	links []link.Link
	umem  *xsk.UMEM
	socks []*xsk.Socket
	pool  *framePool

	workers []*worker
	byPort  [dataplane.MaxPorts]*worker // the worker that transmits on a port (its queue 0)
	stop    atomic.Bool
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Start loads the classifier, opens one AF_XDP socket per (port, queue) on a shared
// UMEM, attaches the classifier to every port with a role and an ifindex, and starts a
// forwarding goroutine per socket. On error everything already set up is undone.
func Start(r *dataplane.Router, opts Options) (e *Engine, err error) {
	if opts.Queues <= 0 {
		opts.Queues = 1
	}
	if opts.Queues > maxQueues {
		return nil, fmt.Errorf("afxdp: %d queues: at most %d", opts.Queues, maxQueues)
	}
	if opts.FramesPerSocket <= 0 {
		opts.FramesPerSocket = 4096
	}
	e = &Engine{r: r}
	built := e // the returns below set e to nil before this runs
	defer func() {
		if err != nil {
			built.teardown()
		}
	}()

	if e.maps, err = xdp.Load(xdp.Options{MapsOnly: true}); err != nil {
		return nil, fmt.Errorf("afxdp: %w", err)
	}
	if err = e.maps.Sync(r); err != nil {
		return nil, fmt.Errorf("afxdp: %w", err)
	}
	spec, err := bpf.LoadXsk()
	if err != nil {
		return nil, fmt.Errorf("afxdp: %w", err)
	}
	m := e.maps.Maps()
	e.coll, err = ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		"xsk_ports":    m[bpf.MplsdpMapIfindexPorts],
		"xsk_bindings": m[bpf.MplsdpMapBindings],
		"xsk_infra4":   m[bpf.MplsdpMapInfra4],
		"xsk_infra6":   m[bpf.MplsdpMapInfra6],
		"xsk_counters": m[bpf.MplsdpMapCounters],
	}})
	if err != nil {
		return nil, fmt.Errorf("afxdp: load the classifier: %w", err)
	}
	xsks := e.coll.Maps["xsks"]

	type portQ struct {
		port    uint16
		ifindex int
		queue   int
	}
	var pqs []portQ
	cfg := r.Config()
	for id, p := range cfg.Ports {
		if p.Role == dataplane.RoleNone || p.Ifindex == 0 {
			continue
		}
		for q := range opts.Queues {
			pqs = append(pqs, portQ{uint16(id), int(p.Ifindex), q})
		}
	}
	if len(pqs) == 0 {
		return nil, errors.New("afxdp: no port has both a role and an ifindex")
	}
	frames := 1 << bits.Len(uint(opts.FramesPerSocket*len(pqs)-1)) // a power of two, as the UMEM wants
	if e.umem, err = xsk.NewUMEM(xsk.UMEMConfig{NumFrames: frames, FrameSize: frameSize, Headroom: dataplane.Headroom}); err != nil {
		return nil, fmt.Errorf("afxdp: %w", err)
	}
	e.pool = newFramePool(e.umem)
	for _, pq := range pqs {
		s, err := xsk.Open(e.umem, pq.ifindex, pq.queue, xsk.SocketConfig{Mode: opts.Mode, NeedWakeup: true})
		if err != nil {
			return nil, fmt.Errorf("afxdp: port %d (ifindex %d) queue %d: %w", pq.port, pq.ifindex, pq.queue, err)
		}
		e.socks = append(e.socks, s)
		if err := xsks.Put(uint32(int(pq.port)*maxQueues+pq.queue), uint32(s.FD())); err != nil {
			return nil, fmt.Errorf("afxdp: port %d queue %d: register socket: %w", pq.port, pq.queue, err)
		}
		w := newWorker(e, s, pq.port)
		w.idx = len(e.workers)
		e.workers = append(e.workers, w)
		if pq.queue == 0 {
			e.byPort[pq.port] = w
		}
	}
	prog := e.coll.Programs["mplsdp_xsk"]
	flags := link.XDPDriverMode
	if opts.SKBMode {
		flags = link.XDPGenericMode
	}
	attached := map[int]bool{}
	for _, pq := range pqs {
		if attached[pq.ifindex] {
			continue
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: pq.ifindex, Flags: flags})
		if err != nil {
			return nil, fmt.Errorf("afxdp: attach the classifier to ifindex %d: %w", pq.ifindex, err)
		}
		e.links = append(e.links, l)
		attached[pq.ifindex] = true
	}
	for _, w := range e.workers {
		w.out = make([][]xsk.Desc, len(e.workers))
		for i := range w.out {
			w.out[i] = make([]xsk.Desc, 0, batchSize)
		}
		if out, ok := opts.Bare[w.port]; ok {
			if w.bare = e.byPort[out]; w.bare == nil {
				return nil, fmt.Errorf("afxdp: bare forwarding from port %d to port %d, which has no socket", w.port, out)
			}
		}
	}
	for _, w := range e.workers {
		e.wg.Add(1)
		go w.run()
	}
	return e, nil
}

// Sync writes the router's ports, bindings and infrastructure ACL into the classifier's
// maps; the Go pipeline reads the router's tables directly.
func (e *Engine) Sync() error { return e.maps.Sync(e.r) }

// Stats are the router's counters: the workers' (frames that reached userspace) plus
// the classifier's (frames it dropped or handed to the kernel). Workers publish once per
// batch, so a figure may lag by one batch.
func (e *Engine) Stats() (*dataplane.Stats, error) {
	s := e.r.Stats()
	k, err := e.maps.Stats()
	if err != nil {
		return nil, err
	}
	for i := range s.Ports {
		p, q := &s.Ports[i], &k.Ports[i]
		p.RxPackets += q.RxPackets
		p.RxBytes += q.RxBytes
		p.TxPackets += q.TxPackets
		p.TxBytes += q.TxBytes
		p.Kernel += q.Kernel
		for j := range p.Drops {
			p.Drops[j] += q.Drops[j]
		}
	}
	return s, nil
}

// EngineStats are the userspace engine's own losses, which no dataplane counter holds.
type EngineStats struct {
	// KernelUnreachable: frames the pipeline wanted handed to the kernel that the
	// classifier had sent to userspace, from where they cannot go up the stack.
	KernelUnreachable uint64
	// TxFull: frames dropped because the egress port's TX ring was full or the port
	// has no socket.
	TxFull uint64
	// Sockets are the kernel's statistics of every socket (XDP_STATISTICS), summed.
	Sockets xsk.Stats
}

// EngineStats sums the workers' and sockets' loss counters.
func (e *Engine) EngineStats() (EngineStats, error) {
	var s EngineStats
	for _, w := range e.workers {
		s.KernelUnreachable += w.kernelUnreachable.Load()
		s.TxFull += w.txFull.Load()
	}
	for _, sk := range e.socks {
		st, err := sk.Stats()
		if err != nil {
			return s, err
		}
		s.Sockets.RxDropped += st.RxDropped
		s.Sockets.RxInvalidDescs += st.RxInvalidDescs
		s.Sockets.TxInvalidDescs += st.TxInvalidDescs
		s.Sockets.RxRingFull += st.RxRingFull
		s.Sockets.RxFillRingEmptyDescs += st.RxFillRingEmptyDescs
		s.Sockets.TxRingEmptyDescs += st.TxRingEmptyDescs
	}
	return s, nil
}

// Close stops the workers, detaches the classifier and releases sockets, UMEM and maps.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.teardown() })
	return e.closeErr
}

func (e *Engine) teardown() error {
	e.stop.Store(true)
	e.wg.Wait()
	var errs []error
	for _, l := range e.links {
		errs = append(errs, l.Close())
	}
	for _, s := range e.socks {
		errs = append(errs, s.Close())
	}
	if e.umem != nil {
		errs = append(errs, e.umem.Close())
	}
	if e.coll != nil {
		e.coll.Close()
	}
	if e.maps != nil {
		errs = append(errs, e.maps.Close())
	}
	return errors.Join(errs...)
}

// idleWait bounds an idle worker's sleep in poll (which counts in milliseconds), so
// that it sees the stop flag.
const idleWait = time.Millisecond

// SPDX-License-Identifier: Apache-2.0

package dataplane

import (
	"fmt"
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gaissmai/bart"

	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Limits of the pipeline.
const (
	MaxPorts      = vrf.MaxPorts // port numbers 0..MaxPorts-1
	MaxStackDepth = 8            // label stack entries read and processed per frame
	// Headroom is the space an engine must leave in front of every frame: the deepest
	// push (a swap to MaxPush labels, or MaxPush transport labels and a VPN label) plus
	// an added VLAN tag, rounded up.
	Headroom = 64
)

// Role is what a port faces; see DESIGN.md "Ports".
type Role uint8

const (
	RoleNone   Role = iota // not forwarded: everything goes to the kernel
	RoleCore               // P and PE routers: labelled frames
	RoleCE                 // a customer's router: IP into a VRF
	RoleGlobal             // plain IP in the global table
)

var roleNames = [...]string{"none", "core", "ce", "global"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// ParseRole is the inverse of Role.String.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if n == s {
			return Role(i), nil
		}
	}
	return 0, fmt.Errorf("unknown port role %q (want core, ce or global)", s)
}

// TTLMode is how IP and MPLS TTLs relate (RFC 3443).
type TTLMode uint8

const (
	TTLPipe    TTLMode = iota // labels start at 255: the core is invisible to traceroute
	TTLUniform                // labels carry the IP TTL
)

func (m TTLMode) String() string {
	if m == TTLUniform {
		return "uniform"
	}
	return "pipe"
}

// ParseTTLMode is the inverse of TTLMode.String.
func ParseTTLMode(s string) (TTLMode, error) {
	switch s {
	case "pipe", "":
		return TTLPipe, nil
	case "uniform":
		return TTLUniform, nil
	}
	return 0, fmt.Errorf("unknown ttl mode %q (want pipe or uniform)", s)
}

// Port is one interface as the pipeline sees it. The source MAC of every frame sent on
// the port is MAC.
type Port struct {
	Name    string
	Role    Role
	MTU     uint16 // largest L3 packet sent, Ethernet header and tag not counted
	MAC     lfib.MAC
	Ifindex uint32 // the Linux interface, for engines that attach to one; 0 if none
}

// Config is the router-wide state that is not a table. It is published whole and never
// changed afterwards.
type Config struct {
	Ports          [MaxPorts]Port
	TTLMode        TTLMode
	PuntTTLExpired bool       // hand CE packets with TTL <= 1 to the kernel (for ICMP time exceeded)
	Infra          *bart.Lite // router addresses and core prefixes; nil is empty
}

// NewInfra builds the infrastructure ACL set.
func NewInfra(prefixes []netip.Prefix) (*bart.Lite, error) {
	l := new(bart.Lite)
	for _, p := range prefixes {
		if !p.IsValid() {
			return nil, fmt.Errorf("infrastructure prefix %v is not valid", p)
		}
		l.Insert(p.Masked())
	}
	return l, nil
}

// Router ties together the tables and configuration that workers read, and the
// counters they keep.
//
// Thread contract: SetConfig and the tables' own writers may run concurrently with
// workers; NewWorker, Worker.Close and Stats may be called from any goroutine.
type Router struct {
	LFIB *lfib.Table
	VRFs *vrf.Table

	config atomic.Pointer[Config]

	mu      sync.Mutex // guards workers and retired
	workers []*Worker
	retired Stats // counters of closed workers
}

// NewRouter returns a router over the given tables with cfg (nil: no ports).
func NewRouter(lf *lfib.Table, vrfs *vrf.Table, cfg *Config) *Router {
	r := &Router{LFIB: lf, VRFs: vrfs}
	if cfg == nil {
		cfg = &Config{}
	}
	r.config.Store(cfg)
	return r
}

// SetConfig publishes a new configuration; workers pick it up at their next batch.
func (r *Router) SetConfig(c *Config) { r.config.Store(c) }

// Config returns the configuration in force.
func (r *Router) Config() *Config { return r.config.Load() }

// NewWorker returns a worker for one goroutine.
func (r *Router) NewWorker() *Worker {
	w := &Worker{r: r, lf: r.LFIB.NewReader(), ctr: new(counters)}
	r.mu.Lock()
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	return w
}

// Close retires the worker; its counts stay in the router's totals. Call it from the
// goroutine that used the worker, outside Begin/End.
func (w *Worker) Close() {
	r := w.r
	w.lf.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.workers {
		if x == w {
			r.workers = append(r.workers[:i], r.workers[i+1:]...)
			break
		}
	}
	w.ctr.addTo(&r.retired)
}

// PortStats are one port's counters.
type PortStats struct {
	RxPackets, RxBytes uint64
	TxPackets, TxBytes uint64
	Kernel             uint64 // frames received here and handed to the kernel
	Drops              [NumReasons]uint64
}

// Stats are the router's counters, by port number.
type Stats struct {
	Ports [MaxPorts]PortStats
}

// Stats sums the counters of all workers, live and closed.
func (r *Router) Stats() *Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.retired
	for _, w := range r.workers {
		w.ctr.addTo(&s)
	}
	return &s
}

// counters belong to one worker. Per packet it adds to plain per-batch counts; at the
// end of a batch it folds the ports it touched into the published counters with a load
// and a store each (it is their only writer), so Stats may read them from another
// goroutine. An atomic store per packet would cost more than the lookup: on amd64 it is
// a full barrier.
type counters struct {
	ports [MaxPorts]portCounters
	batch [MaxPorts]portBatch
	dirty [MaxPorts / 64]uint64
}

type portCounters struct {
	rxPackets, rxBytes, txPackets, txBytes, kernel atomic.Uint64
	drops                                          [NumReasons]atomic.Uint64
}

type portBatch struct {
	rxPackets, rxBytes, txPackets, txBytes, kernel uint64
	drops                                          [NumReasons]uint64
}

func (c *counters) touch(port uint16) *portBatch {
	c.dirty[port>>6] |= 1 << (port & 63)
	return &c.batch[port]
}

func add(c *atomic.Uint64, n uint64) {
	if n != 0 {
		c.Store(c.Load() + n)
	}
}

// flush publishes the batch's counts.
func (c *counters) flush() {
	for i, word := range c.dirty {
		for word != 0 {
			port := i*64 + bits.TrailingZeros64(word)
			word &= word - 1
			b, p := &c.batch[port], &c.ports[port]
			add(&p.rxPackets, b.rxPackets)
			add(&p.rxBytes, b.rxBytes)
			add(&p.txPackets, b.txPackets)
			add(&p.txBytes, b.txBytes)
			add(&p.kernel, b.kernel)
			for j, n := range b.drops {
				add(&p.drops[j], n)
			}
			*b = portBatch{}
		}
		c.dirty[i] = 0
	}
}

func (c *counters) addTo(s *Stats) {
	for i := range c.ports {
		p, q := &c.ports[i], &s.Ports[i]
		q.RxPackets += p.rxPackets.Load()
		q.RxBytes += p.rxBytes.Load()
		q.TxPackets += p.txPackets.Load()
		q.TxBytes += p.txBytes.Load()
		q.Kernel += p.kernel.Load()
		for j := range p.drops {
			q.Drops[j] += p.drops[j].Load()
		}
	}
}

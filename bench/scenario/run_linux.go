// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/bench/traffic"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/afxdp"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// Available reports whether Run can work here (root, namespaces, AF_XDP); when it
// cannot, the reason says why.
func Available() (ok bool, reason string) {
	if os.Geteuid() != 0 {
		return false, "needs root (network namespaces, XDP, AF_XDP)"
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Sprintf("AF_XDP unavailable: %v", err)
	}
	unix.Close(fd)
	return true, ""
}

// Run measures the selected cases and their baselines on a network it builds in
// namespaces of its own and removes before it returns, also on error or when ctx is
// cancelled (then the report holds what was measured so far, with ctx's error).
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.fill()
	if err := opts.check(); err != nil {
		return nil, err
	}
	cases, err := Select(opts.Filter)
	if err != nil {
		return nil, err
	}
	if ok, why := Available(); !ok {
		return nil, errors.New("scenario: " + why)
	}
	start := time.Now()
	rep := &Report{
		Machine: machine(), Started: start, Setup: map[string]string{},
		Method: Method{Sizes: opts.Sizes, Reps: opts.Reps, Warmup: opts.Warmup.String(), Window: opts.Window.String(),
			Drain: opts.Drain.String(), Flows: opts.Flows, Notes: methodNotes},
	}
	n, err := newTestNet(opts)
	if err != nil {
		return nil, err
	}
	opts.Log("network %s{gen,dut,sink} up in %v", n.tp.Prefix(), time.Since(start).Round(time.Millisecond))
	rep.Method.Threaded = opts.Threaded && n.threaded
	if opts.Latency {
		rep.Method.Latency = fmt.Sprintf(latencyNotes, 100*opts.LatencyFraction, traffic.PaceBurst, opts.LatencyWindow, opts.LatencyWarmup)
	}
	if opts.ZeroLossIters > 0 {
		rep.Method.ZeroLoss = fmt.Sprintf(zeroLossNotes, traffic.PaceBurst, opts.ZeroLossIters, opts.ZeroLossWindow, opts.ZeroLossWarmup, ZeroLossPct)
	}
	if len(n.notes) > 0 {
		rep.Method.Notes += " " + strings.Join(n.notes, " ")
	}
	r := &runner{n: n, opts: opts, rep: rep, tables: map[int]*Tables{}, base: map[baseKey][]Sample{}, baseLat: map[baseKey]*Latency{}}
	err = r.run(ctx, cases)
	r.baselineRows()
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	if cerr := n.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("scenario: remove the network: %w", cerr))
	}
	return rep, err
}

type baseKey struct {
	b        Baseline
	size     int
	threaded bool
}

type runner struct {
	n      *testNet
	opts   Options
	rep    *Report
	tables map[int]*Tables
	base   map[baseKey][]Sample // every baseline measurement, pooled for the baseline rows
	// baseLat is each baseline's latency, measured the first time it is paired.
	baseLat map[baseKey]*Latency
}

// tablesFor builds (once) the tables with routes routes.
func (r *runner) tablesFor(routes int) (*Tables, error) {
	if t, ok := r.tables[routes]; ok {
		return t, nil
	}
	t0 := time.Now()
	t, err := NewTables(routes, [6]byte(r.n.sk.MAC))
	if err != nil {
		return nil, err
	}
	d := time.Since(t0).Round(time.Millisecond)
	r.rep.Setup[fmt.Sprintf("build %d routes", routes)] = d.String()
	r.opts.Log("built the tables of %d routes in %v", routes, d)
	r.tables[routes] = t
	return t, nil
}

func (r *runner) run(ctx context.Context, cases []Case) error {
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.runCase(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// upper brings a forwarder up in the dut for one measurement.
type upper func() (*dut, error)

// runCase measures one case at every size. A failure of the case's setup or of a
// measurement is written into its rows; only a cancelled ctx or a broken network stop
// the run.
func (r *runner) runCase(ctx context.Context, c Case) error {
	sc := c.Scenario
	fail := func(err error) {
		for _, size := range r.opts.Sizes {
			r.rep.Rows = append(r.rep.Rows, Row{Scenario: sc.Name, Engine: string(c.Engine), FrameSize: size, Flows: r.opts.Flows, Routes: sc.Routes, Error: err.Error()})
		}
		r.opts.Log("%s: %v", c, err)
	}
	t, err := r.tablesFor(sc.Routes)
	if err != nil {
		fail(err)
		return nil
	}
	// The XDP engine forwards in the receive path itself: its own NAPI thread gives it a
	// core of its own. The AF_XDP engine's workers need the second core: its classifier
	// runs best in the sender's softirq. The baselines run in the mode of their case.
	threaded := r.opts.Threaded && r.n.threaded && c.Engine == EngineXDP
	if err := r.n.setNAPI(threaded); err != nil {
		fail(err)
		return nil
	}
	in, out := r.n.ports()
	router := t.Router(sc.InRole, sc.OutRole, in, out)
	var scen upper
	switch c.Engine {
	case EngineXDP:
		e, err := r.loadXDP(router, sc.Routes)
		if err != nil {
			fail(err)
			return nil
		}
		defer e.Close()
		scen = r.upXDP(e)
	case EngineAFXDP:
		scen = r.upAFXDP(router, afxdp.Options{})
	}
	// The bare forwarder takes IPv4 from in0 as from a CE port (the classifier hands a
	// core port's IPv4 to the kernel), and sends it out0 untouched.
	bareRouter := t.Router(dataplane.RoleCE, dataplane.RoleCore, in, out)
	ups := map[Baseline]upper{
		BaselineKernel:      r.n.upKernel,
		BaselineXDPRedirect: r.n.upRedirect,
		BaselineBareAFXDP:   r.upAFXDP(bareRouter, afxdp.Options{Bare: map[uint16]uint16{PortIn: PortOut, PortOut: PortIn}}),
	}
	scenRight := func(cc traffic.ClassCounts) uint64 { return cc.IPv4 }
	if sc.OutLabel != 0 {
		i := slices.Index(SinkLabels, sc.OutLabel)
		scenRight = func(cc traffic.ClassCounts) uint64 { return cc.Labels[i] }
	}
	baseRight := func(cc traffic.ClassCounts) uint64 { return cc.IPv4 }

	for _, size := range r.opts.Sizes {
		row := Row{Scenario: sc.Name, Engine: string(c.Engine), FrameSize: size, Flows: r.opts.Flows, Routes: sc.Routes, ThreadedNAPI: threaded, Ratios: map[string]Spread{}}
		frames, err := sc.Frames(t, size, r.opts.Flows, r.n.srcMAC(), r.n.dstMAC())
		if err != nil {
			return err
		}
		baseFrames, err := IPv4Frames(size, r.opts.Flows, r.n.srcMAC(), r.n.dstMAC())
		if err != nil {
			return err
		}
		bases := c.Engine.Baselines()
		paired := map[Baseline][]Sample{}
		for rep := range r.opts.Reps {
			// The scenario and its baselines back to back; who goes first alternates.
			order := append([]Baseline{""}, bases...)
			if rep%2 == 1 {
				slices.Reverse(order)
			}
			got := map[Baseline]Sample{}
			var errs []error
			for _, b := range order {
				var s Sample
				var err error
				what := string(b)
				if b == "" {
					what = c.String()
					s, err = r.n.measure(ctx, frames, scenRight, scen)
				} else {
					s, err = r.n.measure(ctx, baseFrames, baseRight, ups[b])
				}
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				s.Rep = rep
				r.opts.Log("%-22s %4dB rep %d: %7.3f Mpps (offered %.3f), loss %5.1f%%%s", what, size, rep+1, s.Mpps, s.SentMpps, s.LossPct, errSuffix(err))
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", what, err))
					continue
				}
				got[b] = s
			}
			if len(errs) > 0 {
				row.Error = errors.Join(errs...).Error()
				continue // a repetition counts only whole: its ratios are paired
			}
			row.Samples = append(row.Samples, got[""])
			for _, b := range bases {
				paired[b] = append(paired[b], got[b])
				k := baseKey{b, size, threaded}
				r.base[k] = append(r.base[k], got[b])
			}
		}
		for _, b := range bases {
			if s, ok := ratioSpread(row.Samples, paired[b]); ok {
				row.Ratios[b.Ratio()] = s
			}
		}
		row.finish()
		if err := r.paced(ctx, c, size, frames, scenRight, scen, &row); err != nil {
			return err
		}
		if r.opts.Latency && len(row.Samples) > 0 {
			for _, b := range bases {
				k := baseKey{b, size, threaded}
				if _, done := r.baseLat[k]; done || len(paired[b]) == 0 {
					continue
				}
				var mpps []float64
				for _, s := range paired[b] {
					mpps = append(mpps, s.Mpps)
				}
				if r.baseLat[k], err = r.latency(ctx, string(b), size, baseFrames, baseRight, ups[b], spreadOf(mpps).Median); err != nil {
					return err
				}
			}
		}
		r.rep.Rows = append(r.rep.Rows, row)
	}
	return nil
}

// ZeroLossPct is the most loss, in percent of the frames sent, a step of the zero-loss
// search passes with: RFC 2544's zero, with room for a frame or two in flight when the
// sink is read.
const ZeroLossPct = 0.001

// paced runs the paced measurements of case c at size, the zero-loss search and the
// latency, into row, with the forwarder up once for both (an AF_XDP engine takes a
// second to start). Only a cancelled ctx is an error.
func (r *runner) paced(ctx context.Context, c Case, size int, frames [][]byte, right func(traffic.ClassCounts) uint64, up upper, row *Row) (err error) {
	if len(row.Samples) == 0 || (r.opts.ZeroLossIters == 0 && !r.opts.Latency) {
		return nil
	}
	d, err := up()
	if err != nil {
		r.opts.Log("%-22s %4dB zero-loss and latency: %v", c, size, err)
		return nil
	}
	defer func() {
		if err := d.down(); err != nil {
			r.opts.Log("%-22s %4dB zero-loss and latency: %v", c, size, err)
		}
	}()
	kept := func() (*dut, error) { return &dut{down: func() error { return nil }}, nil }
	if r.opts.ZeroLossIters > 0 {
		if row.ZeroLoss, err = r.zeroLoss(ctx, c, size, frames, right, kept, *row); err != nil {
			return err
		}
	}
	if r.opts.Latency {
		if row.Latency, err = r.latency(ctx, c.String(), size, frames, right, kept, row.Mpps.Median); err != nil {
			return err
		}
	}
	return nil
}

// zeroLoss searches the highest offered rate case c forwards at size without loss:
// a binary search between 0 and the full-speed offered rate, starting at the maximum
// received rate, with the forwarder kept up by the caller (kept brings nothing up).
// Only a cancelled ctx is an error; a failed step counts as a loss.
func (r *runner) zeroLoss(ctx context.Context, c Case, size int, frames [][]byte, right func(traffic.ClassCounts) uint64, kept upper, row Row) (*ZeroLoss, error) {
	zl := &ZeroLoss{}
	lo, hi := 0.0, max(row.OfferedMpps, row.Mpps.Median)
	rate := row.Mpps.Median
	for step := range r.opts.ZeroLossIters {
		s, err := r.n.measureAt(ctx, frames, right, kept, rate*1e6, r.opts.ZeroLossWarmup, r.opts.ZeroLossWindow)
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		try := ZeroLossTry{TargetMpps: rate, OfferedMpps: s.SentMpps, Mpps: s.Mpps, LossPct: s.LossPct}
		if err != nil {
			try.LossPct = 100
		}
		zl.Tries = append(zl.Tries, try)
		pass := err == nil && s.LossPct <= ZeroLossPct
		r.opts.Log("%-22s %4dB zero-loss step %d: at %7.3f Mpps offered %.3f, received %.3f, loss %.4f%%%s",
			c, size, step+1, rate, s.SentMpps, s.Mpps, s.LossPct, errSuffix(err))
		if pass {
			zl.Mpps = max(zl.Mpps, s.Mpps)
			lo = rate
		} else {
			hi = rate
		}
		if hi-lo < hi/100 {
			break // as close as the rates can be told apart
		}
		rate = (lo + hi) / 2
	}
	return zl, nil
}

// latency measures the one-way latency of what up brings up, the generator paced at
// LatencyFraction of mpps (a maximum received rate). Only a cancelled ctx is an error;
// a failed measurement is logged and gives no latency.
func (r *runner) latency(ctx context.Context, what string, size int, frames [][]byte, right func(traffic.ClassCounts) uint64, up upper, mpps float64) (*Latency, error) {
	rate := r.opts.LatencyFraction * mpps
	if rate <= 0 {
		return nil, nil
	}
	r.n.timing = true
	s, err := r.n.measureAt(ctx, frames, right, up, rate*1e6, r.opts.LatencyWarmup, r.opts.LatencyWindow)
	r.n.timing = false
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil || s.lat == nil {
		r.opts.Log("%-22s %4dB latency at %.3f Mpps: %v", what, size, rate, err)
		return nil, nil
	}
	l := s.lat
	l.TargetMpps, l.OfferedMpps, l.LossPct = rate, s.SentMpps, s.LossPct
	r.opts.Log("%-22s %4dB latency at %7.3f Mpps (offered %.3f, loss %.3f%%): mean %.1f µs, max %.1f µs over %d frames",
		what, size, rate, s.SentMpps, s.LossPct, l.MeanUs, l.MaxUs, l.Frames)
	return l, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// baselineRows adds one row per baseline and size, pooling every measurement of it.
func (r *runner) baselineRows() {
	for _, b := range Baselines {
		for _, threaded := range []bool{true, false} {
			for _, size := range r.opts.Sizes {
				ss := r.base[baseKey{b, size, threaded}]
				if len(ss) == 0 {
					continue
				}
				row := Row{Scenario: string(b), Engine: b.Engine(), Baseline: true, FrameSize: size, Flows: r.opts.Flows, ThreadedNAPI: threaded, Samples: ss,
					Latency: r.baseLat[baseKey{b, size, threaded}]}
				row.finish()
				r.rep.Rows = append(r.rep.Rows, row)
			}
		}
	}
}

// loadXDP loads the XDP engine and syncs router into its maps (the slow step of a
// large VRF), inside the dut (devmap entries name the dut's interfaces).
func (r *runner) loadXDP(router *dataplane.Router, routes int) (*xdp.Engine, error) {
	t0 := time.Now()
	e, err := xdp.Load(xdp.Options{})
	if err != nil {
		return nil, err
	}
	if err := r.n.dut.Do(func() error { return e.Sync(router) }); err != nil {
		e.Close()
		return nil, err
	}
	d := time.Since(t0).Round(time.Millisecond)
	r.rep.Setup[fmt.Sprintf("xdp load+sync %d routes", routes)] = d.String()
	r.opts.Log("xdp engine loaded and synced (%d routes) in %v", routes, d)
	return e, nil
}

// upXDP attaches the loaded XDP engine to both dut ports for a measurement.
func (r *runner) upXDP(e *xdp.Engine) upper {
	return func() (*dut, error) {
		idx := []int{r.n.in0.Index, r.n.out0.Index}
		err := r.n.dut.Do(func() error {
			for _, i := range idx {
				if err := e.Attach(i); err != nil {
					return err
				}
			}
			return nil
		})
		detach := func() error {
			return r.n.dut.Do(func() error {
				var errs []error
				for _, i := range e.Attached() {
					errs = append(errs, e.Detach(i))
				}
				return errors.Join(errs...)
			})
		}
		if err != nil {
			return nil, errors.Join(err, detach())
		}
		s0, err := e.Stats()
		if err != nil {
			return nil, errors.Join(err, detach())
		}
		return &dut{down: detach, drops: func() (map[string]uint64, error) {
			s1, err := e.Stats()
			if err != nil {
				return nil, err
			}
			return dropsBetween(s0, s1), nil
		}}, nil
	}
}

// upAFXDP starts the AF_XDP engine on router with opts for a measurement.
func (r *runner) upAFXDP(router *dataplane.Router, opts afxdp.Options) upper {
	return func() (*dut, error) {
		var e *afxdp.Engine
		err := r.n.dut.Do(func() error {
			var err error
			e, err = afxdp.Start(router, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		s0, err0 := e.Stats()
		es0, err1 := e.EngineStats()
		if err := errors.Join(err0, err1); err != nil {
			return nil, errors.Join(err, e.Close())
		}
		return &dut{down: e.Close, drops: func() (map[string]uint64, error) {
			s1, err0 := e.Stats()
			es1, err1 := e.EngineStats()
			if err := errors.Join(err0, err1); err != nil {
				return nil, err
			}
			d := dropsBetween(s0, s1)
			add := func(k string, v uint64) {
				if v != 0 {
					d[k] += v
				}
			}
			add("tx_ring_full", es1.TxFull-es0.TxFull)
			add("xsk_rx_dropped", es1.Sockets.RxDropped-es0.Sockets.RxDropped)
			add("xsk_rx_ring_full", es1.Sockets.RxRingFull-es0.Sockets.RxRingFull)
			return d, nil
		}}, nil
	}
}

// dropsBetween are the drops counted between two readings, by reason, all ports.
func dropsBetween(a, b *dataplane.Stats) map[string]uint64 {
	d := map[string]uint64{}
	for p := range b.Ports {
		for reason := range b.Ports[p].Drops {
			if v := b.Ports[p].Drops[reason] - a.Ports[p].Drops[reason]; v != 0 {
				d[dataplane.Reason(reason).String()] += v
			}
		}
	}
	return d
}

// machine describes this host.
func machine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// SPDX-License-Identifier: Apache-2.0

package afxdp_test

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/traffic"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/afxdp"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Ports of the forwarding benchmark's router, and the label it swaps to.
const (
	benchPortIn  = 0
	benchPortOut = 1
	benchLabel   = 200 // benchrouter.LabelSwap is swapped to this
	benchRounds  = 3   // measurements of each kind; the median is reported
)

// benchTiming is how long one measurement sends: a warm-up, then the window the rate is
// measured over, then a pause for the last frames to arrive before the sink is read.
type benchTiming struct{ warmup, window, drain time.Duration }

// timing sizes the measurement from -benchtime: a duration is the window (at most
// 5 s); a count (the CI's -benchtime=1x) or -short gives short windows, since the
// benchmark is sized by time, not by b.N.
func timing() benchTiming {
	t := benchTiming{warmup: 200 * time.Millisecond, window: time.Second, drain: 50 * time.Millisecond}
	short := testing.Short()
	if f := flag.Lookup("test.benchtime"); f != nil {
		s := f.Value.String()
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			t.window = min(d, 5*time.Second)
		} else if strings.HasSuffix(s, "x") {
			short = true
		}
	}
	if short {
		t.warmup, t.window = 50*time.Millisecond, 200*time.Millisecond
	}
	return t
}

// benchNet is gen ─veth─ dut ─veth─ sink with the traffic running over it.
type benchNet struct {
	dut    *topo.Node
	router *dataplane.Router
	gen    *traffic.Generator
	sink   *traffic.Sink // counts label benchLabel (slot 0) and benchrouter.LabelSwap (slot 1)
}

// newBenchNet builds the network and the DUT's router: a P router with two core ports
// that swaps benchrouter.LabelSwap to benchLabel towards the sink. The generator sends a
// 110-byte UDP/IPv4 frame under benchrouter.LabelSwap to the DUT's in0.
func newBenchNet(b *testing.B) *benchNet {
	tp := topo.New(b)
	nodes := map[string]*topo.Node{}
	for _, name := range []string{"gen", "dut", "sink"} {
		n, err := tp.AddNode(name)
		if err != nil {
			b.Fatal(err)
		}
		// No IPv6: nothing but the generator's frames on the links.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err := n.SetSysctl(k, "1"); err != nil {
				b.Fatal(err)
			}
		}
		nodes[name] = n
	}
	mac := func(node, ifc byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, node, ifc} }
	genIf, in0, err := tp.Link(nodes["gen"], "eth0", nodes["dut"], "in0", topo.LinkOpts{AMAC: mac(1, 0), BMAC: mac(2, 0)})
	if err != nil {
		b.Fatal(err)
	}
	out0, sinkIf, err := tp.Link(nodes["dut"], "out0", nodes["sink"], "eth0", topo.LinkOpts{AMAC: mac(2, 1), BMAC: mac(3, 0)})
	if err != nil {
		b.Fatal(err)
	}
	// Both receiving ends have XDP programs (the engine's classifier, the sink), which
	// is what a veth needs to take redirected frames; GRO on as well, in case.
	for _, e := range []*topo.Iface{in0, sinkIf} {
		if err := e.Node.SetGRO(e.Name, true); err != nil {
			b.Fatal(err)
		}
	}

	cfg := &dataplane.Config{TTLMode: dataplane.TTLPipe}
	for id, ifc := range map[uint16]*topo.Iface{benchPortIn: in0, benchPortOut: out0} {
		cfg.Ports[id] = dataplane.Port{Name: ifc.Name, Role: dataplane.RoleCore, MTU: 1500, MAC: lfib.MAC(ifc.MAC), Ifindex: uint32(ifc.Index)}
	}
	lf := lfib.New()
	var bt lfib.Batch
	bt.SetLabel(benchrouter.LabelSwap, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{
		NextHop: lfib.NextHop{Port: benchPortOut, Dst: lfib.MAC(sinkIf.MAC)},
		Labels:  [lfib.MaxPush]lfib.Label{benchLabel}, NLabels: 1,
	}}})
	if err := lf.Commit(&bt); err != nil {
		b.Fatal(err)
	}
	bn := &benchNet{dut: nodes["dut"], router: dataplane.NewRouter(lf, vrf.New(), cfg)}

	bn.sink, err = traffic.AttachSink(nodes["sink"], "eth0", benchLabel, benchrouter.LabelSwap)
	if err != nil {
		b.Skipf("skipped: cannot attach an XDP program here: %v", err)
	}
	b.Cleanup(func() { bn.sink.Close() })

	frame, err := benchrouter.UDP4(netip.MustParseAddr("198.51.100.1").As4(), benchrouter.LabelSwap)
	if err != nil {
		b.Fatal(err)
	}
	copy(frame[0:6], in0.MAC)
	copy(frame[6:12], genIf.MAC)
	bn.gen, err = traffic.NewGenerator(nodes["gen"], "eth0", frame, traffic.GeneratorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := bn.gen.Close(); err != nil {
			b.Error(err)
		}
	})
	return bn
}

// benchRun is one measurement.
type benchRun struct {
	bare          bool
	pps, sentPPS  float64 // at the sink and at the generator, over the window
	sent, recv    uint64  // over the whole burst, warm-up and drain included
	wrong         uint64  // frames at the sink with the other kind's label
	windowPkts    uint64  // received in the window
	window        time.Duration
	mallocs, byts uint64 // allocated in the window by the whole process
	engine        afxdp.EngineStats
	drops         uint64 // the router's drops (pipeline only)
}

func (r benchRun) loss() float64 {
	if r.sent == 0 {
		return 0
	}
	return 100 * (float64(r.sent) - float64(r.recv)) / float64(r.sent)
}

func (r benchRun) String() string {
	kind := "pipeline"
	if r.bare {
		kind = "bare"
	}
	s := r.engine.Sockets
	return fmt.Sprintf("%-8s %9.0f pkts/s (sent %9.0f pkts/s), burst sent %d received %d loss %.2f%%; engine: tx full %d, rx ring full %d, rx dropped %d, fill ring empty %d; router drops %d; %d allocs in the window",
		kind, r.pps, r.sentPPS, r.sent, r.recv, r.loss(), r.engine.TxFull, s.RxRingFull, s.RxDropped, s.RxFillRingEmptyDescs, r.drops, r.mallocs)
}

// counts reads the sink: the frames of this run's kind and those of the other kind.
func (bn *benchNet) counts(b *testing.B, bare bool) (right, wrong uint64) {
	c, err := bn.sink.Counts()
	if err != nil {
		b.Fatal(err)
	}
	if bare {
		return c.Labels[1], c.Labels[0]
	}
	return c.Labels[0], c.Labels[1]
}

// measure starts the engine (bare or with the pipeline), sends for tm, stops and
// closes the engine.
func (bn *benchNet) measure(b *testing.B, bare bool, tm benchTiming) benchRun {
	opts := afxdp.Options{}
	if bare {
		opts.Bare = map[uint16]uint16{benchPortIn: benchPortOut, benchPortOut: benchPortIn}
	}
	var e *afxdp.Engine
	err := bn.dut.Do(func() error {
		var err error
		e, err = afxdp.Start(bn.router, opts)
		return err
	})
	if errors.Is(err, os.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) {
		b.Skipf("skipped: cannot start the AF_XDP engine here: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			b.Error(err)
		}
	}()
	drops := func() (n uint64) {
		for _, d := range bn.router.Stats().Ports[benchPortIn].Drops {
			n += d
		}
		return n
	}

	r := benchRun{bare: bare}
	d0 := drops()
	s0 := bn.gen.Sent()
	c0, w0 := bn.counts(b, bare)
	bn.gen.Start()
	time.Sleep(tm.warmup)

	var m1, m2 runtime.MemStats
	s1 := bn.gen.Sent()
	c1, _ := bn.counts(b, bare)
	t1 := time.Now()
	runtime.ReadMemStats(&m1)
	time.Sleep(tm.window)
	runtime.ReadMemStats(&m2)
	t2 := time.Now()
	c2, _ := bn.counts(b, bare)
	s2 := bn.gen.Sent()

	bn.gen.Stop()
	time.Sleep(tm.drain)
	c3, w3 := bn.counts(b, bare)
	if r.engine, err = e.EngineStats(); err != nil {
		b.Fatal(err)
	}

	r.window = t2.Sub(t1)
	r.windowPkts = c2 - c1
	r.pps = float64(c2-c1) / r.window.Seconds()
	r.sentPPS = float64(s2-s1) / r.window.Seconds()
	r.sent, r.recv, r.wrong = bn.gen.Sent()-s0, c3-c0, w3-w0
	r.mallocs, r.byts = m2.Mallocs-m1.Mallocs, m2.TotalAlloc-m1.TotalAlloc
	r.drops = drops() - d0
	b.Log(r)
	if r.recv == 0 {
		b.Fatalf("no frame reached the sink: %v", r)
	}
	if r.wrong != 0 {
		b.Fatalf("%d frames reached the sink with the wrong label (bare %v): %v", r.wrong, bare, r)
	}
	return r
}

func median(runs []benchRun, f func(benchRun) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkForwarding measures the AF_XDP engine's forwarding rate on veths, as an
// operator would: packets per second through gen ─veth─ dut ─veth─ sink, with the
// DUT swapping label 100 to 200 (a P router), next to the same engine forwarding the
// same frames untouched without the pipeline (Options.Bare), in alternating rounds of
// the same run; the medians are reported. The generator is an AF_XDP socket in copy
// mode that offers more than the DUT can take; the sink an XDP program that counts and
// drops, so neither is the limit. See bench/traffic.
//
// Metrics: pkts/s and bare-pkts/s (at the sink, over the window), x-bare (their
// ratio), loss-% and bare-loss-% (frames sent but not received, over all bursts),
// sent-pkts/s and bare-sent-pkts/s (the offered load). The benchmark is sized by time
// (-benchtime, see timing), not by b.N, so one op is one packet through the pipeline:
// ns/op, B/op and allocs/op are per forwarded packet, over the pipeline windows, and
// count the whole process (engine workers, generator, the benchmark itself);
// allocs/Mpkt is the same figure unrounded.
func BenchmarkForwarding(b *testing.B) {
	b.ReportAllocs()
	if ok, why := topo.Available(); !ok {
		b.Skip("skipped: " + why)
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Skipf("skipped: AF_XDP unavailable: socket(AF_XDP): %v", err)
	}
	unix.Close(fd)
	tm := timing()
	bn := newBenchNet(b)

	var bare, pipe []benchRun
	for i := range benchRounds {
		for _, isBare := range []bool{i%2 == 0, i%2 != 0} { // alternate which goes first
			r := bn.measure(b, isBare, tm)
			if isBare {
				bare = append(bare, r)
			} else {
				pipe = append(pipe, r)
			}
		}
	}

	pps := func(r benchRun) float64 { return r.pps }
	sentPPS := func(r benchRun) float64 { return r.sentPPS }
	totalLoss := func(runs []benchRun) float64 {
		var t benchRun
		for _, r := range runs {
			t.sent += r.sent
			t.recv += r.recv
		}
		return t.loss()
	}
	p, bp := median(pipe, pps), median(bare, pps)
	var pkts, mallocs, byts uint64
	for _, r := range pipe {
		pkts += r.windowPkts
		mallocs += r.mallocs
		byts += r.byts
	}
	b.ReportMetric(p, "pkts/s")
	b.ReportMetric(bp, "bare-pkts/s")
	b.ReportMetric(p/bp, "x-bare")
	b.ReportMetric(totalLoss(pipe), "loss-%")
	b.ReportMetric(totalLoss(bare), "bare-loss-%")
	b.ReportMetric(median(pipe, sentPPS), "sent-pkts/s")
	b.ReportMetric(median(bare, sentPPS), "bare-sent-pkts/s")
	b.ReportMetric(1e9/p, "ns/op")
	b.ReportMetric(float64(mallocs)/float64(pkts), "allocs/op")
	b.ReportMetric(float64(byts)/float64(pkts), "B/op")
	b.ReportMetric(1e6*float64(mallocs)/float64(pkts), "allocs/Mpkt")
}

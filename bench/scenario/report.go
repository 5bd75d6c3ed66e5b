// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Options configure Run; zero fields take Defaults' values.
type Options struct {
	// Filter selects the cases (see Select); empty is every case.
	Filter string
	// Sizes are the frame sizes, FCS included (RFC 2544: 64, 128, 512, 1518).
	Sizes []int
	// Reps is how many times each measurement is repeated.
	Reps int
	// Warmup, Window and Drain time one measurement: the generator sends for Warmup
	// before the rate is taken over Window, then stops; the sink is read for the loss
	// Drain later.
	Warmup, Window, Drain time.Duration
	// Flows is the number of distinct 5-tuples sent (at most 4096, the generator's
	// frames).
	Flows int
	// Threaded runs the DUT's veth receive (NAPI) in a kernel thread for the XDP cases
	// and their baselines, so that the scheduler can put the router on the core the
	// generator does not use (see the package documentation).
	Threaded bool
	// ZeroLossIters is the number of steps of the zero-loss throughput search of each
	// case and size (RFC 2544's binary search on the offered rate, the generator
	// paced); 0 is no search (unlike the other fields, zero is not replaced by the
	// default).
	ZeroLossIters int
	// ZeroLossWarmup and ZeroLossWindow time each step of the search.
	ZeroLossWarmup, ZeroLossWindow time.Duration
	// Latency measures the one-way latency of each case and size (and of each
	// baseline, once per size and NAPI mode): the generator paced at LatencyFraction
	// of the maximum received rate, each frame stamped, the sink timing it.
	Latency bool
	// LatencyFraction is the share of the maximum received rate the latency is
	// measured at: low, so that the figure is the path's delay, not a queue's.
	LatencyFraction float64
	// LatencyWarmup and LatencyWindow time the latency measurement; only frames
	// received in the window are timed.
	LatencyWarmup, LatencyWindow time.Duration
	// Log, when set, gets one line per step (setup, each measurement).
	Log func(format string, args ...any)
}

// Defaults are the full run's options.
func Defaults() Options {
	return Options{
		Sizes: slices.Clone(FrameSizes), Reps: 5,
		Warmup: 200 * time.Millisecond, Window: time.Second, Drain: 50 * time.Millisecond,
		Flows: 1024, Threaded: true,
		ZeroLossIters: 6, ZeroLossWarmup: 100 * time.Millisecond, ZeroLossWindow: 300 * time.Millisecond,
		Latency: true, LatencyFraction: 0.1, LatencyWarmup: 50 * time.Millisecond, LatencyWindow: 300 * time.Millisecond,
	}
}

// Quick are the options of a quick run: every case with its baselines, sizes 64 and 512,
// one repetition of short windows, a zero-loss search of 3 steps.
func Quick() Options {
	o := Defaults()
	o.Sizes = []int{64, 512}
	o.Reps = 1
	o.Warmup, o.Window, o.Drain = 100*time.Millisecond, 300*time.Millisecond, 30*time.Millisecond
	o.ZeroLossIters, o.ZeroLossWarmup, o.ZeroLossWindow = 3, 50*time.Millisecond, 200*time.Millisecond
	o.LatencyWindow = 200 * time.Millisecond
	return o
}

func (o *Options) fill() {
	d := Defaults()
	if len(o.Sizes) == 0 {
		o.Sizes = d.Sizes
	}
	if o.Reps <= 0 {
		o.Reps = d.Reps
	}
	if o.Warmup <= 0 {
		o.Warmup = d.Warmup
	}
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.Drain <= 0 {
		o.Drain = d.Drain
	}
	if o.Flows <= 0 {
		o.Flows = d.Flows
	}
	if o.ZeroLossWarmup <= 0 {
		o.ZeroLossWarmup = d.ZeroLossWarmup
	}
	if o.ZeroLossWindow <= 0 {
		o.ZeroLossWindow = d.ZeroLossWindow
	}
	if o.LatencyFraction <= 0 || o.LatencyFraction > 1 {
		o.LatencyFraction = d.LatencyFraction
	}
	if o.LatencyWarmup <= 0 {
		o.LatencyWarmup = d.LatencyWarmup
	}
	if o.LatencyWindow <= 0 {
		o.LatencyWindow = d.LatencyWindow
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

// check validates o after fill.
func (o *Options) check() error {
	for _, s := range o.Sizes {
		if s < 64 || s > 1518 {
			return fmt.Errorf("scenario: frame size %d: want 64 to 1518", s)
		}
	}
	if o.Flows > 4096 {
		return fmt.Errorf("scenario: %d flows: at most 4096", o.Flows)
	}
	if o.ZeroLossIters > 20 {
		return fmt.Errorf("scenario: %d zero-loss steps: at most 20", o.ZeroLossIters)
	}
	if o.Window > 30*time.Second || o.Warmup > 10*time.Second {
		return fmt.Errorf("scenario: window %v, warm-up %v: at most 30 s and 10 s", o.Window, o.Warmup)
	}
	return nil
}

// Sample is one measurement.
type Sample struct {
	Rep      int     `json:"rep"`
	Mpps     float64 `json:"mpps"`         // right frames at the sink per second over the window, millions
	SentMpps float64 `json:"offered_mpps"` // frames the generator sent per second over the window, millions
	LossPct  float64 `json:"loss_pct"`     // of the frames sent in the whole burst, those not received right
	Sent     uint64  `json:"sent"`         // the whole burst (warm-up, window, drain)
	Received uint64  `json:"received"`     // right frames at the sink, the whole burst
	Wrong    uint64  `json:"wrong"`        // frames at the sink that are not the expected ones
	// Drops are the DUT's own counts of frames it dropped, by reason, over the burst.
	Drops map[string]uint64 `json:"drops,omitempty"`

	lat *Latency // a timed measurement's latency
}

// Spread is a median and the range around it.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func spreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Row is one line of the report: a case, or a baseline, at one frame size.
type Row struct {
	Scenario  string `json:"scenario"` // a scenario's name, or a baseline's
	Engine    string `json:"engine"`
	Baseline  bool   `json:"baseline"`
	FrameSize int    `json:"frame_size"` // bytes, FCS included
	Flows     int    `json:"flows"`
	Routes    int    `json:"routes,omitempty"`
	// ThreadedNAPI: the dut's receive ran in a NAPI thread (XDP cases and their
	// baselines), not in the generator's softirq.
	ThreadedNAPI bool `json:"threaded_napi"`
	// Mpps is the received rate, millions of frames per second: the median and range
	// over the repetitions.
	Mpps Spread `json:"mpps"`
	// Gbps is the median rate in Ethernet bits (frame size, FCS included), Gbit/s.
	Gbps        float64 `json:"gbps"`
	OfferedMpps float64 `json:"offered_mpps"` // median
	LossPct     Spread  `json:"loss_pct"`
	// Ratios to the baselines, by name (x-kernel, x-xdp-ceiling, x-bare-afxdp): each
	// taken per repetition against the baseline measured back to back with it, then
	// the median and range of those.
	Ratios map[string]Spread `json:"ratios,omitempty"`
	// ZeroLoss is the zero-loss throughput (RFC 2544 binary search on a paced offered
	// rate), when it was searched.
	ZeroLoss *ZeroLoss `json:"zero_loss,omitempty"`
	// Latency is the one-way latency at a low paced rate, when it was measured.
	Latency *Latency `json:"latency,omitempty"`
	Samples []Sample `json:"samples"`
	Error   string   `json:"error,omitempty"`
}

// ZeroLoss is the result of a zero-loss throughput search.
type ZeroLoss struct {
	// Mpps is the highest rate received with at most ZeroLossPct loss, millions of
	// frames per second; 0 when even the lowest rate tried lost frames.
	Mpps float64 `json:"mpps"`
	// Tries are the rates tried (offered, Mpps) and their loss, in order.
	Tries []ZeroLossTry `json:"tries"`
}

// ZeroLossTry is one step of the search.
type ZeroLossTry struct {
	TargetMpps  float64 `json:"target_mpps"`
	OfferedMpps float64 `json:"offered_mpps"`
	Mpps        float64 `json:"mpps"`
	LossPct     float64 `json:"loss_pct"`
}

// Latency is a one-way latency measurement: the generator paced at a low rate, each
// frame stamped with CLOCK_MONOTONIC right before its batch is handed to the kernel,
// the sink (XDP) timing it on arrival with the same clock.
type Latency struct {
	TargetMpps  float64 `json:"target_mpps"`  // the paced rate asked for
	OfferedMpps float64 `json:"offered_mpps"` // sent, over the window
	Frames      uint64  `json:"frames"`       // frames timed at the sink, over the window
	MeanUs      float64 `json:"mean_us"`      // mean one-way delay, µs
	MaxUs       float64 `json:"max_us"`       // largest one-way delay, µs
	LossPct     float64 `json:"loss_pct"`
}

// Machine describes the host the figures come from.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go"`
}

// Method records how the figures were taken.
type Method struct {
	Sizes    []int  `json:"frame_sizes"`
	Reps     int    `json:"reps"`
	Warmup   string `json:"warmup"`
	Window   string `json:"window"`
	Drain    string `json:"drain"`
	Flows    int    `json:"flows"`
	Threaded bool   `json:"threaded_napi"`
	// Latency describes the latency measurement; empty when there was none.
	Latency string `json:"latency,omitempty"`
	// ZeroLoss describes the zero-loss search; empty when there was none.
	ZeroLoss string `json:"zero_loss,omitempty"`
	Notes    string `json:"notes"`
}

// Report is a run's result.
type Report struct {
	Machine Machine   `json:"machine"`
	Method  Method    `json:"method"`
	Started time.Time `json:"started"`
	Elapsed string    `json:"elapsed"`
	Rows    []Row     `json:"rows"`
	// Setup are durations of the slow steps (building 1M routes, syncing them), by name.
	Setup map[string]string `json:"setup,omitempty"`
}

// methodNotes is what every report says about how it measured.
const methodNotes = "The headline is the maximum received rate under overload (RFC 2544's frame sizes and counting, RFC 5695 for MPLS): " +
	"an AF_XDP generator sends at full speed on gen ─veth─ dut ─veth─ sink, the sink (XDP) counts the frames that come out as expected. " +
	"Frame sizes count the FCS, which a veth does not carry (frames are 4 bytes shorter on the veth). " +
	"Each scenario runs back to back with its baselines in every repetition (order alternating); ratios are per repetition, then the median."

// zeroLossNotes is what a report with a zero-loss search says about it.
const zeroLossNotes = "Beside the headline, the zero-loss throughput: RFC 2544's binary search on the offered rate (the generator paced by a token bucket, bursts of %d frames), " +
	"%d steps of %v windows (%v warm-up) per case and size, the case alone, unpaired; the first step offers the maximum received rate, a step passes with at most %g%% of the frames lost. " +
	"On a shared 2-core VM this figure is unstable (a veth's small queue and idle-CPU wake-up delays lose frames at low rates), so the paired max-received ratio is the headline."

// latencyNotes is what a report with latencies says about them.
const latencyNotes = "Latency: one-way, per case and size (and per baseline, once per size and NAPI mode), the generator paced at %g%% of the maximum received rate " +
	"(bursts of at most %d frames) for a %v window after %v of warm-up; each frame carries in its last 8 bytes the CLOCK_MONOTONIC time taken right before its burst is handed to the AF_XDP socket, " +
	"and the sink (XDP) subtracts it from bpf_ktime_get_ns on arrival: mean and max over the frames received in the window. " +
	"It includes the generator's kernel transmit path and both veths, not only the router."

// rowsOf builds the scenario row for one case and size from paired samples, and
// records the baselines' samples.
func ratioSpread(scen []Sample, base []Sample) (Spread, bool) {
	var r []float64
	for i := range min(len(scen), len(base)) {
		if base[i].Mpps > 0 {
			r = append(r, scen[i].Mpps/base[i].Mpps)
		}
	}
	if len(r) == 0 {
		return Spread{}, false
	}
	return spreadOf(r), true
}

// finish fills a row's summary fields from its samples.
func (r *Row) finish() {
	var mpps, sent, loss []float64
	for _, s := range r.Samples {
		mpps = append(mpps, s.Mpps)
		sent = append(sent, s.SentMpps)
		loss = append(loss, s.LossPct)
	}
	r.Mpps = spreadOf(mpps)
	r.OfferedMpps = spreadOf(sent).Median
	r.LossPct = spreadOf(loss)
	r.Gbps = r.Mpps.Median * float64(r.FrameSize) * 8 / 1e3
}

// ratioNames are the ratio columns, in order.
var ratioNames = []string{BaselineKernel.Ratio(), BaselineXDPRedirect.Ratio(), BaselineBareAFXDP.Ratio()}

// WriteTable prints the report for a terminal.
func (rep *Report) WriteTable(w io.Writer) error {
	m := rep.Machine
	fmt.Fprintf(w, "mplsbench: %s, %d cores, Linux %s, %s; %d rep(s) of %s windows, %d flows; %s\n\n",
		m.CPU, m.Cores, m.Kernel, m.GoVersion, rep.Method.Reps, rep.Method.Window, rep.Method.Flows, rep.Elapsed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"scenario", "engine", "napi", "size", "Mpps", "min..max", "Gbit/s", "offered", "loss %", "0-loss", "lat µs mean/max"}
	head = append(head, ratioNames...)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rep.Rows {
		name := r.Scenario
		if r.Baseline {
			name = "[" + name + "]"
		}
		napi := "softirq"
		if r.ThreadedNAPI {
			napi = "thread"
		}
		cols := []string{name, r.Engine, napi, fmt.Sprint(r.FrameSize)}
		if r.Error != "" && len(r.Samples) == 0 {
			cols = append(cols, "error")
			for range 6 + len(ratioNames) {
				cols = append(cols, "")
			}
		} else {
			zl := ""
			if r.ZeroLoss != nil {
				zl = fmt.Sprintf("%.3f", r.ZeroLoss.Mpps)
			}
			cols = append(cols,
				fmt.Sprintf("%.3f", r.Mpps.Median),
				fmt.Sprintf("%.3f..%.3f", r.Mpps.Min, r.Mpps.Max),
				fmt.Sprintf("%.2f", r.Gbps),
				fmt.Sprintf("%.3f", r.OfferedMpps),
				fmt.Sprintf("%.1f", r.LossPct.Median), zl, r.Latency.short())
			for _, n := range ratioNames {
				s, ok := r.Ratios[n]
				switch {
				case !ok:
					cols = append(cols, "")
				case rep.Method.Reps > 1:
					cols = append(cols, fmt.Sprintf("%.2f (%.2f..%.2f)", s.Median, s.Min, s.Max))
				default:
					cols = append(cols, fmt.Sprintf("%.2f", s.Median))
				}
			}
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		if r.Error != "" {
			fmt.Fprintf(w, "error: %s/%s size %d: %s\n", r.Scenario, r.Engine, r.FrameSize, r.Error)
		}
	}
	fmt.Fprintln(w, "\nMpps: frames received as expected at the sink, median over the repetitions; offered: sent by the generator;")
	fmt.Fprintln(w, "loss: sent but not received as expected; [baselines] pooled over every pairing; x-*: paired ratios to the baselines;")
	fmt.Fprintln(w, "0-loss: the highest paced rate received with no loss (binary search, the case alone), Mpps;")
	fmt.Fprintln(w, "lat: one-way latency at a low paced rate (generator stamp to sink), mean/max in µs;")
	fmt.Fprintln(w, "napi: the dut's receive in a NAPI thread (a core of its own) or in the generator's softirq (its core).")
	return nil
}

// short is the latency as a table shows it: mean/max in µs; empty when none was
// measured or no frame was timed.
func (l *Latency) short() string {
	if l == nil || l.Frames == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f/%.1f", l.MeanUs, l.MaxUs)
}

// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot sizes: small PNGs (tens of kB) that read well in a Markdown page.
const (
	plotW = 6 * vg.Inch
	plotH = 3.6 * vg.Inch
)

// Targets are the goals, as ratios of an engine to a baseline.
var Targets = []Target{
	{Scenario: "pe-push-1k", Engine: EngineXDP, Ratio: BaselineKernel.Ratio(), Min: 3},
	{Scenario: "pe-push-1k", Engine: EngineXDP, Ratio: BaselineXDPRedirect.Ratio(), Min: 0.85},
	{Scenario: "*", Engine: EngineAFXDP, Ratio: BaselineBareAFXDP.Ratio(), Min: 0.8},
}

// Target is a paired ratio a case should reach: at least Min.
type Target struct {
	Scenario string // a scenario's name, or * for every scenario
	Engine   Engine
	Ratio    string
	Min      float64
}

func (t Target) String() string {
	return fmt.Sprintf("%s/%s %s >= %.2f", t.Scenario, t.Engine, t.Ratio, t.Min)
}

// WriteMarkdown writes the report into dir (created if missing) as report.md with
// PNG plots beside it: per scenario the received rate against the frame size (one line
// per engine, its baselines dashed) and the paired ratios, and the loss of every case.
// command is the command line shown in the report.
func (rep *Report) WriteMarkdown(dir, command string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var plots []string
	for _, sc := range rep.scenarios() {
		for _, mk := range []struct {
			file string
			fn   func(string) (*plot.Plot, error)
		}{
			{"rate-" + sc + ".png", rep.ratePlot},
			{"ratio-" + sc + ".png", rep.ratioPlot},
		} {
			p, err := mk.fn(sc)
			if err != nil {
				return fmt.Errorf("scenario: plot %s: %w", mk.file, err)
			}
			if p == nil {
				continue
			}
			if err := p.Save(plotW, plotH, filepath.Join(dir, mk.file)); err != nil {
				return fmt.Errorf("scenario: plot %s: %w", mk.file, err)
			}
			plots = append(plots, mk.file)
		}
	}
	if p, err := rep.lossPlot(); err != nil {
		return fmt.Errorf("scenario: plot loss.png: %w", err)
	} else if p != nil {
		if err := p.Save(plotW, plotH+vg.Inch, filepath.Join(dir, "loss.png")); err != nil {
			return fmt.Errorf("scenario: plot loss.png: %w", err)
		}
		plots = append(plots, "loss.png")
	}
	if p, err := rep.latencyPlot(); err != nil {
		return fmt.Errorf("scenario: plot latency.png: %w", err)
	} else if p != nil {
		if err := p.Save(plotW, plotH, filepath.Join(dir, "latency.png")); err != nil {
			return fmt.Errorf("scenario: plot latency.png: %w", err)
		}
		plots = append(plots, "latency.png")
	}
	var b bytes.Buffer
	rep.markdown(&b, command, plots)
	return os.WriteFile(filepath.Join(dir, "report.md"), b.Bytes(), 0o644)
}

// scenarios are the names of the scenarios with rows, in the order measured.
func (rep *Report) scenarios() []string {
	var s []string
	for _, r := range rep.Rows {
		if !r.Baseline && !slices.Contains(s, r.Scenario) {
			s = append(s, r.Scenario)
		}
	}
	return s
}

// rows are the measured rows of scenario (or baseline) name on engine with napi mode,
// by frame size.
func (rep *Report) rows(name, engine string, baseline bool, threaded bool) []Row {
	var rs []Row
	for _, r := range rep.Rows {
		if r.Scenario == name && r.Engine == engine && r.Baseline == baseline && r.ThreadedNAPI == threaded && len(r.Samples) > 0 {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b Row) int { return a.FrameSize - b.FrameSize })
	return rs
}

// line is one series of a plot.
type line struct {
	name   string
	xy     plotter.XYs
	dashed bool
}

// sizeAxis sets a plot's x axis to the frame sizes, on a log scale.
func (rep *Report) sizeAxis(p *plot.Plot) {
	p.X.Label.Text = "frame size, bytes (FCS included)"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, s := range rep.sizes() {
		ticks = append(ticks, plot.Tick{Value: float64(s), Label: fmt.Sprint(s)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
}

func (rep *Report) sizes() []int {
	var s []int
	for _, r := range rep.Rows {
		if !slices.Contains(s, r.FrameSize) {
			s = append(s, r.FrameSize)
		}
	}
	slices.Sort(s)
	return s
}

// addLines draws lines on p, each in its own colour and glyph; dashed ones dashed.
func addLines(p *plot.Plot, lines []line) error {
	for i, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		ln, pts, err := plotter.NewLinePoints(l.xy)
		if err != nil {
			return err
		}
		ln.Color = plotutil.Color(i)
		ln.Width = vg.Points(1.5)
		if l.dashed {
			ln.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		pts.Color = ln.Color
		pts.Shape = plotutil.Shape(i)
		p.Add(ln, pts)
		p.Legend.Add(l.name, ln, pts)
	}
	return nil
}

func napiName(threaded bool) string {
	if threaded {
		return "napi thread"
	}
	return "softirq"
}

// ratePlot: received Mpps against the frame size, one line per engine, the
// baselines each was paired with dashed.
func (rep *Report) ratePlot(sc string) (*plot.Plot, error) {
	var lines []line
	type bk struct {
		b        Baseline
		threaded bool
	}
	var bases []bk
	for _, e := range Engines {
		for _, threaded := range []bool{true, false} {
			rs := rep.rows(sc, string(e), false, threaded)
			if len(rs) == 0 {
				continue
			}
			l := line{name: fmt.Sprintf("%s (%s)", e, napiName(threaded))}
			for _, r := range rs {
				l.xy = append(l.xy, plotter.XY{X: float64(r.FrameSize), Y: r.Mpps.Median})
			}
			lines = append(lines, l)
			for _, b := range e.Baselines() {
				if k := (bk{b, threaded}); !slices.Contains(bases, k) {
					bases = append(bases, k)
				}
			}
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	for _, k := range bases {
		l := line{name: fmt.Sprintf("[%s] (%s)", k.b, napiName(k.threaded)), dashed: true}
		for _, r := range rep.rows(string(k.b), k.b.Engine(), true, k.threaded) {
			l.xy = append(l.xy, plotter.XY{X: float64(r.FrameSize), Y: r.Mpps.Median})
		}
		lines = append(lines, l)
	}
	p := plot.New()
	p.Title.Text = sc + ": received rate (median)"
	p.Y.Label.Text = "Mpps"
	p.Y.Min = 0
	rep.sizeAxis(p)
	return p, addLines(p, lines)
}

// ratioPlot: the paired ratios of each engine to its baselines against the frame
// size, with the targets that apply as thin grey lines.
func (rep *Report) ratioPlot(sc string) (*plot.Plot, error) {
	var lines []line
	for _, e := range Engines {
		for _, threaded := range []bool{true, false} {
			rs := rep.rows(sc, string(e), false, threaded)
			for _, b := range e.Baselines() {
				l := line{name: fmt.Sprintf("%s %s", e, b.Ratio()), dashed: b == BaselineKernel}
				for _, r := range rs {
					if x, ok := r.Ratios[b.Ratio()]; ok {
						l.xy = append(l.xy, plotter.XY{X: float64(r.FrameSize), Y: x.Median})
					}
				}
				if len(l.xy) > 0 {
					lines = append(lines, l)
				}
			}
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = sc + ": paired ratio to the baselines (median)"
	p.Y.Label.Text = "ratio (1 = as fast as the baseline)"
	p.Y.Min = 0
	rep.sizeAxis(p)
	for _, t := range Targets {
		if t.Scenario != sc && t.Scenario != "*" {
			continue
		}
		f := plotter.NewFunction(func(float64) float64 { return t.Min })
		f.Color = color.Gray{Y: 150}
		f.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		p.Add(f)
		p.Legend.Add(fmt.Sprintf("target %s %s >= %.2f", t.Engine, t.Ratio, t.Min), f)
	}
	return p, addLines(p, lines)
}

// lossPlot: the median loss of every case and baseline against the frame size.
func (rep *Report) lossPlot() (*plot.Plot, error) {
	type key struct {
		name, engine string
		base, thr    bool
	}
	var keys []key
	for _, r := range rep.Rows {
		k := key{r.Scenario, r.Engine, r.Baseline, r.ThreadedNAPI}
		if len(r.Samples) > 0 && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	var lines []line
	for _, k := range keys {
		name := k.name + "/" + k.engine
		if k.base {
			name = fmt.Sprintf("[%s] (%s)", k.name, napiName(k.thr))
		}
		l := line{name: name, dashed: k.base}
		for _, r := range rep.rows(k.name, k.engine, k.base, k.thr) {
			l.xy = append(l.xy, plotter.XY{X: float64(r.FrameSize), Y: r.LossPct.Median})
		}
		lines = append(lines, l)
	}
	p := plot.New()
	p.Title.Text = "loss under overload (median): sent but not received as expected"
	p.Y.Label.Text = "loss, % of the frames sent"
	p.Y.Min, p.Y.Max = 0, 100
	rep.sizeAxis(p)
	p.Legend.Top = false
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(6.5)
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Legend.Padding = vg.Points(0)
	p.Legend.YOffs = vg.Points(2)
	return p, addLines(p, lines)
}

// latencyPlot: the one-way latency of every scenario and baseline at the smallest
// frame size with latencies, one bar per engine (the mean; the max, which on a shared
// VM is a scheduling hiccup an order of magnitude above, would flatten the bars, and is
// in the table); a baseline is drawn in the group of each engine it is paired with, in that
// engine's NAPI mode. Nil when no row has a latency.
func (rep *Report) latencyPlot() (*plot.Plot, error) {
	size := 0
	for _, r := range rep.Rows {
		if r.Latency != nil && r.Latency.Frames > 0 && (size == 0 || r.FrameSize < size) {
			size = r.FrameSize
		}
	}
	if size == 0 {
		return nil, nil
	}
	cats := rep.scenarios()
	for _, b := range Baselines {
		cats = append(cats, "["+string(b)+"]")
	}
	var engines []Engine
	threaded := map[Engine]bool{}
	for _, r := range rep.Rows {
		e := Engine(r.Engine)
		if !r.Baseline && !slices.Contains(engines, e) {
			engines = append(engines, e)
			threaded[e] = r.ThreadedNAPI
		}
	}
	lat := func(cat string, e Engine) *Latency {
		for _, r := range rep.Rows {
			if r.FrameSize != size || r.Latency == nil || r.Latency.Frames == 0 {
				continue
			}
			if !r.Baseline && r.Scenario == cat && Engine(r.Engine) == e {
				return r.Latency
			}
			if r.Baseline && "["+r.Scenario+"]" == cat && slices.Contains(e.Baselines(), Baseline(r.Scenario)) && r.ThreadedNAPI == threaded[e] {
				return r.Latency
			}
		}
		return nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("one-way latency at a low paced rate, %d-byte frames (mean)", size)
	p.Y.Label.Text = "mean latency, µs"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	w := vg.Points(14)
	for i, e := range engines {
		means := make(plotter.Values, len(cats))
		for j, c := range cats {
			if l := lat(c, e); l != nil {
				means[j] = l.MeanUs
			}
		}
		bars, err := plotter.NewBarChart(means, w)
		if err != nil {
			return nil, err
		}
		bars.Offset = w * vg.Length(float64(i)-float64(len(engines)-1)/2)
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(string(e), bars)
	}
	p.NominalX(cats...)
	p.Y.Max *= 1.3 // room for the legend
	p.X.Tick.Label.Rotation = 0.35
	p.X.Tick.Label.XAlign = -0.9
	p.X.Tick.Label.Font.Size = vg.Points(7)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}

// markdown writes report.md's text.
func (rep *Report) markdown(b *bytes.Buffer, command string, plots []string) {
	m, me := rep.Machine, rep.Method
	fmt.Fprintf(b, "# mplsbench report\n\n")
	fmt.Fprintf(b, "Started %s, took %s.\n\n", rep.Started.UTC().Format("2006-01-02 15:04 MST"), rep.Elapsed)
	if command != "" {
		fmt.Fprintf(b, "```\n%s\n```\n\n", command)
	}
	fmt.Fprintf(b, "## Machine\n\n| | |\n|---|---|\n| CPU | %s |\n| cores | %d |\n| kernel | Linux %s |\n| Go | %s |\n\n",
		m.CPU, m.Cores, m.Kernel, m.GoVersion)
	fmt.Fprintf(b, "## Method\n\n%s\n\n", me.Notes)
	fmt.Fprintf(b, "Frame sizes %s bytes; %d repetition(s); warm-up %s, window %s, drain %s; %d flows; threaded NAPI %v.",
		joinInts(me.Sizes), me.Reps, me.Warmup, me.Window, me.Drain, me.Flows, me.Threaded)
	if me.ZeroLoss != "" {
		fmt.Fprintf(b, "\n\n%s", me.ZeroLoss)
	}
	if me.Latency != "" {
		fmt.Fprintf(b, "\n\n%s", me.Latency)
	}
	fmt.Fprintf(b, "\n\n")
	if len(rep.Setup) > 0 {
		keys := make([]string, 0, len(rep.Setup))
		for k := range rep.Setup {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(b, "Setup:")
		for i, k := range keys {
			sep := ","
			if i == len(keys)-1 {
				sep = "."
			}
			fmt.Fprintf(b, " %s %s%s", k, rep.Setup[k], sep)
		}
		fmt.Fprintf(b, "\n\n")
	}
	rep.targetsMarkdown(b)
	fmt.Fprintf(b, "## Results\n\n")
	rep.tableMarkdown(b)
	if len(plots) > 0 {
		fmt.Fprintf(b, "\n## Plots\n\n")
		for _, p := range plots {
			fmt.Fprintf(b, "![%s](%s)\n\n", strings.TrimSuffix(p, ".png"), p)
		}
	}
	var errs []string
	for _, r := range rep.Rows {
		if r.Error != "" {
			errs = append(errs, fmt.Sprintf("- %s/%s %d B: %s", r.Scenario, r.Engine, r.FrameSize, r.Error))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(b, "## Errors\n\n%s\n", strings.Join(errs, "\n"))
	}
}

// TargetResult is how one case and size did against a target.
type TargetResult struct {
	Target
	Scenario  string
	FrameSize int
	Got       Spread
	Met       bool
}

// CheckTargets evaluates Targets on the report's rows (each size of each matching case).
func (rep *Report) CheckTargets() []TargetResult {
	var res []TargetResult
	for _, t := range Targets {
		for _, r := range rep.Rows {
			if r.Baseline || r.Engine != string(t.Engine) || (t.Scenario != "*" && t.Scenario != r.Scenario) {
				continue
			}
			x, ok := r.Ratios[t.Ratio]
			if !ok {
				continue
			}
			res = append(res, TargetResult{Target: t, Scenario: r.Scenario, FrameSize: r.FrameSize, Got: x, Met: x.Median >= t.Min})
		}
	}
	return res
}

func (rep *Report) targetsMarkdown(b *bytes.Buffer) {
	res := rep.CheckTargets()
	if len(res) == 0 {
		return
	}
	fmt.Fprintf(b, "## Targets\n\n| case | size | ratio | target | median (min..max) | met |\n|---|--:|---|--:|--:|---|\n")
	for _, t := range res {
		met := "no"
		if t.Met {
			met = "yes"
		}
		fmt.Fprintf(b, "| %s/%s | %d | %s | >= %.2f | %.2f (%.2f..%.2f) | %s |\n",
			t.Scenario, t.Engine, t.FrameSize, t.Ratio, t.Min, t.Got.Median, t.Got.Min, t.Got.Max, met)
	}
	fmt.Fprintf(b, "\n")
}

// tableMarkdown writes every row as a Markdown table.
func (rep *Report) tableMarkdown(b *bytes.Buffer) {
	head := []string{"scenario", "engine", "napi", "size", "Mpps", "min..max", "Gbit/s", "offered", "loss %", "zero-loss Mpps", "lat µs mean/max", "timed"}
	head = append(head, ratioNames...)
	fmt.Fprintf(b, "| %s |\n|", strings.Join(head, " | "))
	for i := range head {
		if i < 3 {
			fmt.Fprintf(b, "---|")
		} else {
			fmt.Fprintf(b, "--:|")
		}
	}
	fmt.Fprintf(b, "\n")
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
		if len(r.Samples) == 0 {
			cols = append(cols, "error")
			for range len(head) - len(cols) {
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
				fmt.Sprintf("%.1f", r.LossPct.Median), zl, r.Latency.short(), "")
			if r.Latency != nil {
				cols[len(cols)-1] = fmt.Sprint(r.Latency.Frames)
			}
			for _, n := range ratioNames {
				s, ok := r.Ratios[n]
				switch {
				case !ok:
					cols = append(cols, "")
				case len(r.Samples) > 1:
					cols = append(cols, fmt.Sprintf("%.2f (%.2f..%.2f)", s.Median, s.Min, s.Max))
				default:
					cols = append(cols, fmt.Sprintf("%.2f", s.Median))
				}
			}
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cols, " | "))
	}
	fmt.Fprintf(b, "\nMpps: frames received as expected at the sink per second, median over the repetitions; offered: sent by the generator; "+
		"loss: sent but not received as expected, under overload; zero-loss: the highest paced rate forwarded without loss (binary search); "+
		"lat: one-way latency at a low paced rate (generator stamp to sink), mean/max in µs, over the frames timed; "+
		"[baselines] pooled over every pairing; x-*: ratios to the baseline measured back to back, per repetition, then the median (min..max); "+
		"napi: the dut's receive in a NAPI thread (a core of its own) or in the generator's softirq (its core).\n")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// syntheticReport is a report of every case and baseline at every size, with made-up
// but plausible figures, as Run would build it.
func syntheticReport() *Report {
	rep := &Report{
		Machine: Machine{CPU: "Test CPU", Cores: 2, Kernel: "6.18", GoVersion: "go1.26"},
		Method:  Method{Sizes: FrameSizes, Reps: 3, Warmup: "200ms", Window: "1s", Drain: "50ms", Flows: 1024, Threaded: true, Notes: methodNotes},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: "1m0s",
		Setup: map[string]string{"build 1000 routes": "10ms"},
	}
	rate := func(base float64, size int) float64 { return base * 64 / float64(size+64) * 2 }
	samples := func(mpps float64) []Sample {
		return []Sample{{Rep: 0, Mpps: mpps * 0.98, LossPct: 40}, {Rep: 1, Mpps: mpps, LossPct: 42}, {Rep: 2, Mpps: mpps * 1.01, LossPct: 41}}
	}
	for i, s := range Scenarios {
		for _, e := range Engines {
			threaded := e == EngineXDP
			for _, size := range FrameSizes {
				base := 1.5 - 0.1*float64(i)
				if e == EngineAFXDP {
					base = 0.8
				}
				r := Row{Scenario: s.Name, Engine: string(e), FrameSize: size, Flows: 1024, ThreadedNAPI: threaded,
					Samples: samples(rate(base, size)), Ratios: map[string]Spread{}}
				for j, b := range e.Baselines() {
					x := 3.2 - float64(j)*2.3
					r.Ratios[b.Ratio()] = Spread{Median: x, Min: x * 0.9, Max: x * 1.1}
				}
				r.ZeroLoss = &ZeroLoss{Mpps: rate(base, size) / 2}
				r.Latency = &Latency{TargetMpps: rate(base, size) / 10, Frames: 30000, MeanUs: 8 + float64(i) + 10*float64(len(e)-3), MaxUs: 60 + float64(size)/100}
				r.finish()
				rep.Rows = append(rep.Rows, r)
			}
		}
	}
	for _, b := range Baselines {
		for _, threaded := range []bool{true, false} {
			for _, size := range FrameSizes {
				r := Row{Scenario: string(b), Engine: b.Engine(), Baseline: true, FrameSize: size, ThreadedNAPI: threaded, Samples: samples(rate(1, size)),
					Latency: &Latency{Frames: 20000, MeanUs: 6, MaxUs: 40}}
				r.finish()
				rep.Rows = append(rep.Rows, r)
			}
		}
	}
	rep.Rows = append(rep.Rows, Row{Scenario: "p-swap", Engine: "afxdp", FrameSize: 9000, Error: "synthetic failure"})
	return rep
}

// TestWriteMarkdown renders a synthetic report: report.md links every plot, and every
// plot is a PNG that decodes and is small.
func TestWriteMarkdown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	// MPLSBENCH_TEST_REPORT keeps the report where it says, to look at the plots.
	if d := os.Getenv("MPLSBENCH_TEST_REPORT"); d != "" {
		dir = d
	}
	rep := syntheticReport()
	if err := rep.WriteMarkdown(dir, "mplsbench --report "+dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"loss.png", "latency.png"}
	for _, s := range Scenarios {
		want = append(want, "rate-"+s.Name+".png", "ratio-"+s.Name+".png")
	}
	for _, f := range want {
		if !strings.Contains(string(md), "]("+f+")") {
			t.Errorf("report.md does not link %s", f)
		}
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(fh)
		st, _ := fh.Stat()
		fh.Close()
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 || st.Size() > 200<<10 {
			t.Errorf("%s: %v, %d bytes", f, b, st.Size())
		}
	}
	for _, s := range []string{"Test CPU", "## Targets", "| p-swap | xdp | thread | 64 |", "synthetic failure", "pe-push-1k/xdp | 64 | x-kernel | >= 3.00 | 3.20", "| 8.0/60.6 | 30000 |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("report.md:\n%s", md)
	}
}

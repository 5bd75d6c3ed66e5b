// SPDX-License-Identifier: Apache-2.0

package scenario_test

import (
	"context"
	"testing"
	"time"

	"github.com/mplsdp/mplsdp/bench/scenario"
)

// TestQuickSwap runs one case of each engine end to end, each with its baselines, in
// short windows, and checks the rows: rates above zero, every ratio present.
func TestQuickSwap(t *testing.T) {
	if ok, why := scenario.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	opts := scenario.Quick()
	opts.Filter = "p-swap"
	opts.Sizes = []int{64}
	opts.Warmup, opts.Window, opts.Drain = 50*time.Millisecond, 150*time.Millisecond, 20*time.Millisecond
	opts.LatencyWarmup, opts.LatencyWindow = 20*time.Millisecond, 100*time.Millisecond
	opts.Flows = 64
	opts.Log = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	rep, err := scenario.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"xdp": {"x-kernel", "x-xdp-ceiling"}, "afxdp": {"x-kernel", "x-bare-afxdp"}}
	var cases, bases int
	for _, r := range rep.Rows {
		t.Logf("%s/%s %dB: %.3f Mpps, loss %.1f%%, ratios %v", r.Scenario, r.Engine, r.FrameSize, r.Mpps.Median, r.LossPct.Median, r.Ratios)
		if r.Error != "" {
			t.Errorf("%s/%s: %s", r.Scenario, r.Engine, r.Error)
			continue
		}
		if r.Mpps.Median <= 0 || len(r.Samples) != 1 {
			t.Errorf("%s/%s: %.3f Mpps from %d samples", r.Scenario, r.Engine, r.Mpps.Median, len(r.Samples))
		}
		if r.Baseline {
			bases++
			continue
		}
		cases++
		// The one-way latency of every case: frames timed, a mean above zero and
		// below the max.
		if l := r.Latency; l == nil || l.Frames == 0 || l.MeanUs <= 0 || l.MaxUs < l.MeanUs {
			t.Errorf("%s/%s: latency %+v, want frames timed and 0 < mean <= max", r.Scenario, r.Engine, l)
		} else {
			t.Logf("%s/%s %dB: latency mean %.1f µs, max %.1f µs over %d frames at %.3f Mpps", r.Scenario, r.Engine, r.FrameSize, l.MeanUs, l.MaxUs, l.Frames, l.TargetMpps)
		}
		for _, name := range want[r.Engine] {
			if x, ok := r.Ratios[name]; !ok || x.Median <= 0 {
				t.Errorf("%s/%s: ratio %s missing or zero (%v)", r.Scenario, r.Engine, name, r.Ratios)
			}
		}
	}
	if cases != 2 || bases < 3 {
		t.Errorf("%d case rows and %d baseline rows, want 2 and at least 3", cases, bases)
	}
}

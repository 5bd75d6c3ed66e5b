// SPDX-License-Identifier: Apache-2.0

package traffic_test

import (
	"os"
	"testing"
	"time"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/traffic"
)

// TestStartAt paces a generator at 100k frames per second for 200 ms: it sends close to
// the rate asked for, not at full speed.
func TestStartAt(t *testing.T) {
	skipUnlessXSK(t)
	tp := topo.New(t)
	var nodes [2]*topo.Node
	for i, name := range []string{"gen", "sink"} {
		n, err := tp.AddNode(name)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
	}
	if _, _, err := tp.Link(nodes[0], "eth0", nodes[1], "eth0", topo.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	g, err := traffic.NewGenerator(nodes[0], "eth0", frame(t, 100), traffic.GeneratorConfig{Frames: 1024})
	if err != nil {
		if os.IsPermission(err) {
			t.Skipf("skipped: %v", err)
		}
		t.Fatal(err)
	}
	defer g.Close()
	const pps, d = 100e3, 200 * time.Millisecond
	t0 := time.Now()
	g.StartAt(pps)
	time.Sleep(d)
	g.Stop()
	el := time.Since(t0).Seconds()
	got := float64(g.Sent()) / el
	t.Logf("asked %.0f pps, sent %d in %.3f s: %.0f pps", pps, g.Sent(), el, got)
	// Only what pacing promises on any machine: frames go out, and never faster than
	// asked (plus one burst). A busy machine sends fewer, so there is no lower bound.
	if g.Sent() == 0 {
		t.Error("a paced generator sent nothing")
	}
	if limit := pps*el + 64; float64(g.Sent()) > limit {
		t.Errorf("sent %d frames in %.3f s at %.0f pps: more than %.0f", g.Sent(), el, float64(pps), limit)
	}
}

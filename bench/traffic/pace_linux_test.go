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
	if got < 0.8*pps || got > 1.2*pps {
		t.Errorf("sent %.0f pps, want about %.0f", got, float64(pps))
	}
}

// SPDX-License-Identifier: Apache-2.0

package traffic_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/bench/benchrouter"
	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/traffic"
)

func skipUnlessXSK(t *testing.T) {
	t.Helper()
	if ok, why := topo.Available(); !ok {
		t.Skip("skipped: " + why)
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("skipped: AF_XDP unavailable: %v", err)
	}
	unix.Close(fd)
}

func frame(t *testing.T, labels ...uint32) []byte {
	t.Helper()
	f, err := benchrouter.UDP4(netip.MustParseAddr("198.51.100.1").As4(), labels...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGeneratorSink sends from a generator straight into a sink over one veth: the
// sink sees only the generator's frames, never more than were sent, and tells labels
// apart.
func TestGeneratorSink(t *testing.T) {
	skipUnlessXSK(t)
	tp := topo.New(t)
	var nodes [2]*topo.Node
	for i, name := range []string{"gen", "sink"} {
		n, err := tp.AddNode(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err := n.SetSysctl(k, "1"); err != nil {
				t.Fatal(err)
			}
		}
		nodes[i] = n
	}
	if _, _, err := tp.Link(nodes[0], "eth0", nodes[1], "eth0", topo.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	s, err := traffic.AttachSink(nodes[1], "eth0", 200, 100)
	if err != nil {
		t.Skipf("skipped: cannot attach an XDP program here: %v", err)
	}
	defer s.Close()
	g, err := traffic.NewGenerator(nodes[0], "eth0", frame(t, 100), traffic.GeneratorConfig{Frames: 1024})
	if err != nil {
		if os.IsPermission(err) {
			t.Skipf("skipped: %v", err)
		}
		t.Fatal(err)
	}
	defer g.Close()
	g.Start()
	time.Sleep(100 * time.Millisecond)
	g.Stop()
	time.Sleep(20 * time.Millisecond)
	c, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	sent := g.Sent()
	t.Logf("sent %d, sink %+v (%.0f pkts/s)", sent, c, float64(c.Labels[1])/0.1)
	if sent == 0 || c.Labels[1] == 0 || c.Labels[1] > sent || c.Labels[0] != 0 || c.Frames != c.Labels[1] {
		t.Errorf("sent %d frames labelled 100; the sink counted %+v (want all frames labelled 100, none 200)", sent, c)
	}
}

// TestSinkProgram runs the sink's program on frames (BPF_PROG_TEST_RUN).
func TestSinkProgram(t *testing.T) {
	skipUnlessXSK(t)
	tp := topo.New(t)
	a, err := tp.AddNode("a")
	if err != nil {
		t.Fatal(err)
	}
	// No IPv6 on the link: its neighbour and multicast chatter would reach the sink too.
	if err := a.SetSysctl("net.ipv6.conf.default.disable_ipv6", "1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.Link(a, "x0", a, "x1", topo.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	s, err := traffic.AttachSink(a, "x1", 200, 100, 1048575)
	if err != nil {
		t.Skipf("skipped: cannot attach an XDP program here: %v", err)
	}
	defer s.Close()
	frames := [][]byte{
		frame(t, 100), frame(t, 200, 100), frame(t, 200), frame(t, 1048575), frame(t, 101), frame(t, 300),
		frame(t), frame(t, 100)[:17], {},
	}
	for _, f := range frames {
		if len(f) < 14 {
			f = make([]byte, 14) // the least BPF_PROG_TEST_RUN takes for XDP
		}
		ret, err := s.Program().Run(&ebpf.RunOptions{Data: f})
		if err != nil {
			t.Fatal(err)
		}
		if ret != 1 {
			t.Errorf("XDP returned %d, want XDP_DROP", ret)
		}
	}
	c, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c.Frames != uint64(len(frames)) || c.Labels[0] != 2 || c.Labels[1] != 1 || c.Labels[2] != 1 {
		t.Errorf("counts %+v, want %d frames, labels 200: 2, 100: 1, 1048575: 1", c, len(frames))
	}
}

// TestClassSinkLatency runs the class sink's timed program on frames that carry a
// timestamp in their last 8 bytes (BPF_PROG_TEST_RUN): one 1 µs old is timed at about
// 1 µs, one of zero, one in the future and one too short are not timed.
func TestClassSinkLatency(t *testing.T) {
	skipUnlessXSK(t)
	tp := topo.New(t)
	a, err := tp.AddNode("a")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetSysctl("net.ipv6.conf.default.disable_ipv6", "1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.Link(a, "x0", a, "x1", topo.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	s, err := traffic.AttachClassSink(a, "x1", 100)
	if err != nil {
		t.Skipf("skipped: cannot attach an XDP program here: %v", err)
	}
	defer s.Close()
	if err := s.StartTiming(); err != nil {
		t.Fatal(err)
	}
	now := func() uint64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		return uint64(ts.Nano())
	}
	stamped := func(ts uint64, labels ...uint32) []byte {
		f := frame(t, labels...)
		binary.NativeEndian.PutUint64(f[len(f)-8:], ts)
		return f
	}
	run := func(f []byte) {
		t.Helper()
		ret, err := s.TimedProgram().Run(&ebpf.RunOptions{Data: f})
		if err != nil {
			t.Fatal(err)
		}
		if ret != 1 {
			t.Errorf("XDP returned %d, want XDP_DROP", ret)
		}
	}
	run(stamped(now()-1000, 100))
	run(stamped(0, 100))
	run(stamped(now()+uint64(time.Hour), 100))
	run(make([]byte, 20))
	l, err := s.Latency()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("latency %+v, mean %v", l, l.Mean())
	// The program runs a little after the timestamp was taken: 1 µs and then some.
	if l.Frames != 1 || l.Mean() < time.Microsecond || l.Mean() > time.Millisecond || l.Max != l.Sum {
		t.Errorf("latency %+v, want 1 frame timed at about 1 µs", l)
	}
	c, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c.Frames != 4 || c.Labels[0] != 3 {
		t.Errorf("counts %+v, want 4 frames, 3 labelled 100", c)
	}
	if err := s.StopTiming(); err != nil {
		t.Fatal(err)
	}
	run(stamped(now()-1000, 100)) // the timed program, run by hand: still times
	if err := s.StartTiming(); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Latency(); err != nil || l.Frames != 0 {
		t.Errorf("after StartTiming: %+v, %v; want cleared counters", l, err)
	}
}

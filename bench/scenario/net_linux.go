// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/traffic"
	"github.com/mplsdp/mplsdp/lfib"
)

// Addresses of the kernel baseline: the dut's two subnets, the sink's address as the
// next hop (a static neighbour: no ARP on the wire), and the destinations it routes.
var (
	dutIn     = netip.MustParsePrefix("192.0.2.1/24")
	dutOut    = netip.MustParsePrefix("198.51.100.1/24")
	sinkAddr  = netip.MustParseAddr("198.51.100.2")
	remoteNet = netip.MustParsePrefix("203.0.113.0/24")
)

// testNet is gen ─veth─ dut ─veth─ sink in namespaces of its own, with the generator on
// gen's eth0, the class sink on sink's eth0, and the baselines' pieces in the dut.
type testNet struct {
	opts Options
	tp   *topo.Topology

	gen, dut, sink       *topo.Node
	genIf, in0, out0, sk *topo.Iface
	g                    *traffic.Generator
	s                    *traffic.ClassSink
	redirect             *ebpf.Program // the XDP ceiling: in0 -> out0 through devmap
	devmap               *ebpf.Map
	threaded             bool // NAPI threads can be switched on
	napiThread           bool // in0's NAPI runs in a thread now
	timing               bool // measureAt stamps the frames and times them at the sink
	notes                []string
}

func mac(node, ifc byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, node, ifc} }

// newTestNet builds the network. On error everything built is removed.
func newTestNet(opts Options) (n *testNet, err error) {
	tp, err := topo.NewForRun("")
	if err != nil {
		return nil, err
	}
	n = &testNet{opts: opts, tp: tp}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.close())
			n = nil
		}
	}()
	nodes := make([]*topo.Node, 3)
	for i, name := range []string{"gen", "dut", "sink"} {
		if nodes[i], err = tp.AddNode(name); err != nil {
			return nil, err
		}
		// No IPv6: nothing but the generator's frames on the links.
		for _, k := range []string{"net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"} {
			if err := nodes[i].SetSysctl(k, "1"); err != nil {
				return nil, err
			}
		}
	}
	n.gen, n.dut, n.sink = nodes[0], nodes[1], nodes[2]
	if n.genIf, n.in0, err = tp.Link(n.gen, "eth0", n.dut, "in0", topo.LinkOpts{AMAC: mac(1, 0), BMAC: mac(2, 0), MTU: MTU}); err != nil {
		return nil, err
	}
	if n.out0, n.sk, err = tp.Link(n.dut, "out0", n.sink, "eth0", topo.LinkOpts{AMAC: mac(2, 1), BMAC: mac(3, 0), MTU: MTU}); err != nil {
		return nil, err
	}
	// GRO on the receiving ends gives them the NAPI receive path even with no XDP
	// program attached (the kernel baseline's in0), which is also what lets a veth take
	// frames redirected into its peer.
	for _, e := range []*topo.Iface{n.in0, n.sk} {
		if err := e.Node.SetGRO(e.Name, true); err != nil {
			return nil, err
		}
	}
	// The kernel baseline: forwarding stays off until it is measured.
	for k, v := range map[string]string{
		"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0",
		"net.ipv4.conf.in0.rp_filter": "0", "net.ipv4.conf.out0.rp_filter": "0",
	} {
		if err := n.dut.SetSysctl(k, v); err != nil {
			return nil, err
		}
	}
	if err := n.dut.AddAddr("in0", dutIn); err != nil {
		return nil, err
	}
	if err := n.dut.AddAddr("out0", dutOut); err != nil {
		return nil, err
	}
	if err := n.dut.AddNeigh("out0", sinkAddr, n.sk.MAC); err != nil {
		return nil, err
	}
	if err := n.dut.AddRoute(remoteNet, sinkAddr, "out0"); err != nil {
		return nil, err
	}

	if n.s, err = traffic.AttachClassSink(n.sink, "eth0", SinkLabels...); err != nil {
		return nil, err
	}
	if err := n.loadRedirect(); err != nil {
		return nil, err
	}
	f, err := IPv4Frames(64, 1, n.srcMAC(), n.dstMAC())
	if err != nil {
		return nil, err
	}
	n.g, err = traffic.NewGenerator(n.gen, "eth0", f[0], traffic.GeneratorConfig{MaxRun: opts.Warmup + opts.Window + 2*time.Second})
	if err != nil {
		return nil, err
	}
	if opts.Threaded {
		// Probe once; each case then sets the mode it runs in (setNAPI).
		if err := setThreaded(n.dut, "in0", false); err != nil {
			n.notes = append(n.notes, fmt.Sprintf("threaded NAPI unavailable (%v): the DUT's receive runs on the generator's core.", err))
		} else {
			n.threaded = true
		}
	}
	return n, nil
}

func (n *testNet) srcMAC() [6]byte { return [6]byte(n.genIf.MAC) }
func (n *testNet) dstMAC() [6]byte { return [6]byte(n.in0.MAC) }

// ports describes the dut's interfaces for a router.
func (n *testNet) ports() (in, out PortDesc) {
	return PortDesc{Name: "in0", MAC: lfib.MAC(n.in0.MAC), Ifindex: uint32(n.in0.Index)},
		PortDesc{Name: "out0", MAC: lfib.MAC(n.out0.MAC), Ifindex: uint32(n.out0.Index)}
}

// loadRedirect loads the XDP ceiling: every frame into the devmap's only slot, out0.
//
//	return bpf_redirect_map(&devmap, 0, XDP_ABORTED)
func (n *testNet) loadRedirect() error {
	var err error
	n.devmap, err = ebpf.NewMap(&ebpf.MapSpec{Name: "bench_tx", Type: ebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return fmt.Errorf("scenario: redirect baseline: devmap: %w", err)
	}
	// A devmap entry names an interface of the namespace of the thread that writes it.
	err = n.dut.Do(func() error { return n.devmap.Put(uint32(0), uint32(n.out0.Index)) })
	if err != nil {
		return fmt.Errorf("scenario: redirect baseline: devmap entry for out0: %w", err)
	}
	n.redirect, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "bench_redirect", Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{
			asm.LoadMapPtr(asm.R1, n.devmap.FD()),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnRedirectMap.Call(),
			asm.Return(),
		},
	})
	if err != nil {
		return fmt.Errorf("scenario: redirect baseline: load: %w", err)
	}
	return nil
}

// setNAPI runs in0's receive in a NAPI thread of its own (on) or in the softirq of
// the sender (off). Only the DUT's receive: the sink's runs where the DUT sends from, so
// that it costs the DUT what a NIC's transmit would, not a third busy thread.
func (n *testNet) setNAPI(on bool) error {
	on = on && n.threaded
	if on == n.napiThread {
		return nil
	}
	if err := setThreaded(n.dut, "in0", on); err != nil {
		return err
	}
	n.napiThread = on
	return nil
}

// close removes everything newTestNet built; the namespaces go last.
func (n *testNet) close() error {
	var errs []error
	if n.g != nil {
		errs = append(errs, n.g.Close())
	}
	if n.s != nil {
		errs = append(errs, n.s.Close())
	}
	if n.redirect != nil {
		errs = append(errs, n.redirect.Close())
	}
	if n.devmap != nil {
		errs = append(errs, n.devmap.Close())
	}
	errs = append(errs, n.tp.Close())
	return errors.Join(errs...)
}

// dut is one forwarder brought up in the dut namespace for a measurement.
type dut struct {
	down  func() error
	drops func() (map[string]uint64, error) // cumulative since up; nil: none counted
}

// measure sends frames through the dut that up brings up, and counts at the sink the
// frames right says are the expected ones.
func (n *testNet) measure(ctx context.Context, frames [][]byte, right func(traffic.ClassCounts) uint64, up func() (*dut, error)) (s Sample, err error) {
	return n.measureAt(ctx, frames, right, up, 0, n.opts.Warmup, n.opts.Window)
}

// measureAt is measure with the generator paced at pps frames per second (0: full
// speed) and the given warm-up and window.
func (n *testNet) measureAt(ctx context.Context, frames [][]byte, right func(traffic.ClassCounts) uint64, up func() (*dut, error), pps float64, warmup, window time.Duration) (s Sample, err error) {
	if err := n.g.SetFrames(frames); err != nil {
		return s, err
	}
	if n.timing {
		if err := n.g.SetTimestamps(true); err != nil {
			return s, err
		}
		// Deferred first, so run last: after the generator has stopped.
		defer func() {
			if terr := n.g.SetTimestamps(false); terr != nil && err == nil {
				err = terr
			}
		}()
	}
	d, err := up()
	if err != nil {
		return s, err
	}
	defer func() {
		if derr := d.down(); derr != nil && err == nil {
			err = derr
		}
	}()
	c0, err := n.s.Counts()
	if err != nil {
		return s, err
	}
	s0 := n.g.Sent()
	n.g.StartAt(pps)
	stopped := false
	defer func() {
		if !stopped {
			n.g.Stop()
		}
	}()
	if err := sleep(ctx, warmup); err != nil {
		return s, err
	}
	if n.timing {
		// Only the frames received in the window are timed.
		if err := n.s.StartTiming(); err != nil {
			return s, err
		}
		defer func() {
			if terr := n.s.StopTiming(); terr != nil && err == nil {
				err = terr
			}
		}()
	}
	c1, err1 := n.s.Counts()
	s1, t1 := n.g.Sent(), time.Now()
	if err := sleep(ctx, window); err != nil {
		return s, err
	}
	c2, err2 := n.s.Counts()
	s2, t2 := n.g.Sent(), time.Now()
	if n.timing {
		if err := n.s.StopTiming(); err != nil {
			return s, err
		}
		l, err := n.s.Latency()
		if err != nil {
			return s, err
		}
		s.lat = &Latency{Frames: l.Frames, MeanUs: float64(l.Mean()) / 1e3, MaxUs: float64(l.Max) / 1e3}
	}
	n.g.Stop()
	stopped = true
	if err := sleep(ctx, n.opts.Drain); err != nil {
		return s, err
	}
	c3, err3 := n.s.Counts()
	if err := errors.Join(err1, err2, err3); err != nil {
		return s, err
	}
	win := t2.Sub(t1).Seconds()
	s.Mpps = float64(right(c2)-right(c1)) / win / 1e6
	s.SentMpps = float64(s2-s1) / win / 1e6
	s.Sent = n.g.Sent() - s0
	burst := c3.Sub(c0)
	s.Received = right(burst)
	// The sink's counters are per-CPU and read one after another while the last frames
	// may still arrive, so the class count can run ahead of the total by a frame or two:
	// that is not a wrong frame (and must not wrap around).
	if burst.Frames > s.Received {
		s.Wrong = burst.Frames - s.Received
	}
	if s.Sent > 0 {
		s.LossPct = 100 * (float64(s.Sent) - float64(s.Received)) / float64(s.Sent)
	}
	if d.drops != nil {
		if s.Drops, err = d.drops(); err != nil {
			return s, err
		}
	}
	switch {
	case s.Sent == 0:
		return s, errors.New("the generator sent nothing")
	case s.Received == 0:
		return s, fmt.Errorf("no expected frame reached the sink (sent %d, at the sink %+v, DUT drops %v)", s.Sent, burst, s.Drops)
	case s.Wrong > s.Received/100:
		return s, fmt.Errorf("%d unexpected frames at the sink for %d expected (%+v, DUT drops %v)", s.Wrong, s.Received, burst, s.Drops)
	}
	return s, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// upKernel turns the dut's IPv4 forwarding on for the measurement.
func (n *testNet) upKernel() (*dut, error) {
	if err := n.dut.SetSysctl("net.ipv4.ip_forward", "1"); err != nil {
		return nil, err
	}
	return &dut{down: func() error { return n.dut.SetSysctl("net.ipv4.ip_forward", "0") }}, nil
}

// upRedirect attaches the XDP ceiling to in0.
func (n *testNet) upRedirect() (*dut, error) {
	var l link.Link
	err := n.dut.Do(func() error {
		var err error
		l, err = link.AttachXDP(link.XDPOptions{Program: n.redirect, Interface: n.in0.Index, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("scenario: attach the redirect baseline: %w", err)
	}
	return &dut{down: l.Close}, nil
}

// setThreaded switches the NAPI of an interface of n to a kernel thread of its own
// (/sys/class/net/IF/threaded), so the scheduler may run it on another core than the
// thread that queued the frames. sysfs shows the interfaces of the namespace it was
// mounted in, so this mounts one, as `ip netns exec` does: on a thread of its own, in
// a private mount namespace, a thread that then exits and is never reused.
func setThreaded(n *topo.Node, ifname string, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("unshare mount namespace: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("make mounts private: %w", err)
			}
			ns, err := netns.GetFromPath(n.Path())
			if err != nil {
				return err
			}
			defer ns.Close()
			if err := netns.Set(ns); err != nil {
				return err
			}
			// Mounted over /sys only in this thread's mount namespace.
			if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
				return fmt.Errorf("mount sysfs: %w", err)
			}
			p := filepath.Join("/sys/class/net", ifname, "threaded")
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if got := strings.TrimSpace(string(b)); got != v && !(on && got == "enabled") {
				return fmt.Errorf("%s reads %q after writing %s", p, got, v)
			}
			return nil
		}()
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("scenario: %s/%s: threaded NAPI: %w", n.Name, ifname, err)
	}
	return nil
}

// SPDX-License-Identifier: Apache-2.0

// Command demo is `make demo`: it builds the reference VPN network in network
// namespaces (bench/vpnlab: CE-A1, CE-B1 - PE1 - P - PE2 - CE-A2, CE-B2, customers A and B
// on the same addresses), starts one mplsdp daemon per router from the example
// configurations in examples/, sends traffic and prints what an operator would check.
// Everything it creates is removed on exit, on error and on Ctrl-C.
//
//	go run ./bench/demo -mplsdp ./bin/mplsdp -examples ./examples
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mplsdp/mplsdp/bench/topo"
	"github.com/mplsdp/mplsdp/bench/vpnlab"
	"github.com/mplsdp/mplsdp/dataplane"
)

func main() {
	var o options
	flag.StringVar(&o.mplsdp, "mplsdp", "bin/mplsdp", "the mplsdp binary")
	flag.StringVar(&o.mplsctl, "mplsctl", "bin/mplsctl", "the mplsctl binary")
	flag.StringVar(&o.examples, "examples", "examples", "directory with pe1.yaml, p.yaml, pe2.yaml")
	flag.DurationVar(&o.keep, "keep", 0, "keep the network up this long after the report (to try mplsctl and metrics by hand)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	mplsdp, mplsctl, examples string
	keep                      time.Duration
}

// router is one daemon of the demo.
type router struct {
	name string
	node *topo.Node
	cmd  *exec.Cmd
	log  string
}

func run(o options, w io.Writer) error {
	mplsdp, mplsctl, examples, keep := &o.mplsdp, &o.mplsctl, &o.examples, &o.keep
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, XDP)")
	}
	if ok, why := topo.Available(); !ok {
		return errors.New(why)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tp, err := topo.NewForRun("")
	if err != nil {
		return err
	}
	defer tp.Close()
	fmt.Fprintf(w, "building the network (namespaces %s*)\n", tp.Prefix())
	lab, err := vpnlab.Build(tp)
	if err != nil {
		return err
	}
	logDir, err := os.MkdirTemp("", "mplsdp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(logDir)
	var routers []*router
	defer func() {
		for _, r := range routers {
			if r.cmd.Process != nil {
				r.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // best effort; Wait below
				done := make(chan struct{})
				go func() { r.cmd.Wait(); close(done) }() //nolint:errcheck // exiting
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					r.cmd.Process.Kill() //nolint:errcheck // it would not stop
				}
			}
		}
	}()
	start := func(r *router) error {
		out, err := os.OpenFile(r.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer out.Close()
		// nsenter joins the network namespace only: the daemons share the host's mount
		// namespace, so what they pin in /sys/fs/bpf outlives them (ip netns exec would
		// give each a private /sys).
		r.cmd = exec.Command("nsenter", "--net="+r.node.Path(), *mplsdp, "-config", filepath.Join(*examples, r.name+".yaml"))
		r.cmd.Stdout, r.cmd.Stderr = out, out
		if err := r.cmd.Start(); err != nil {
			return fmt.Errorf("start mplsdp for %s: %w", r.name, err)
		}
		return nil
	}
	for _, r := range []*router{{name: "pe1", node: lab.PE1}, {name: "p", node: lab.P}, {name: "pe2", node: lab.PE2}} {
		r.log = filepath.Join(logDir, r.name+".log")
		if err := start(r); err != nil {
			return err
		}
		routers = append(routers, r)
	}
	fmt.Fprintln(w, "started mplsdp on pe1, p and pe2; waiting for them to forward")
	for _, r := range routers {
		if err := waitMetrics(ctx, r, 10*time.Second); err != nil {
			return fmt.Errorf("%s: %w (log follows)\n%s", r.name, err, tail(r.log))
		}
	}

	rep, err := lab.Check(func() (*dataplane.Stats, error) { return scrapeStats(routers[0]) }, 3)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "report")
	for _, c := range rep.Customers {
		fmt.Fprintf(w, "  %s: %d/3 pings to %s answered; its site 2 saw %d echo requests, the other customer's %d\n",
			c.Name, c.Replies, vpnlab.CE2Addr, c.SeenOwn, c.SeenOther)
	}
	for _, c := range rep.Customers {
		fmt.Fprintf(w, "  %s: IP TTL at site 2 is %d: sent with 64, two PE hops, no P router (pipe mode)\n", c.Name, c.TTL)
	}
	fmt.Fprintf(w, "  labelled frames from CE-A1: %d sent, %d dropped and counted by PE1 as label_spoof, %d leaked\n",
		rep.SpoofSent, rep.SpoofDropped, rep.SpoofLeaked)
	problems := rep.Problems()
	if problems != nil {
		fmt.Fprintln(w, "  PROBLEMS:", problems)
	} else {
		fmt.Fprintln(w, "  A reaches A, B reaches B, A never reaches B.")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "PE1's forwarding table (mplsctl show mpls forwarding-table):")
	show := exec.Command("nsenter", "--net="+lab.PE1.Path(), *mplsctl, "--socket", "/run/mplsdp/pe1.sock", "show", "mpls", "forwarding-table")
	show.Stdout, show.Stderr = w, w
	if err := show.Run(); err != nil {
		fmt.Fprintln(w, "  (mplsctl:", err, ")")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "How PE1 handles customer A's packet to site 2 (mplsctl trace):")
	trace := exec.Command(*mplsctl, "--socket", "/run/mplsdp/pe1.sock", "trace", "interface", "a1",
		"src", vpnlab.CE1Addr.String(), "dst", vpnlab.CE2Addr.String(), "proto", "icmp")
	trace.Stdout, trace.Stderr = w, w
	if err := trace.Run(); err != nil {
		fmt.Fprintln(w, "  (mplsctl:", err, ")")
	}
	// Hitless restart: PE1's daemon dies without cleaning up; the pinned program keeps
	// forwarding; a new daemon adopts program, maps and links.
	fmt.Fprintln(w)
	pe1 := routers[0]
	pe1.cmd.Process.Kill() //nolint:errcheck // it is running
	pe1.cmd.Wait()         //nolint:errcheck // killed
	got, err := lab.CEA1.Ping(vpnlab.CE2Addr, 3, 5*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hitless restart: PE1's daemon killed with SIGKILL; customer A's pings still answered: %d/3\n", got)
	if got == 0 {
		problems = errors.Join(problems, errors.New("forwarding stopped with PE1's daemon"))
	}
	if err := start(pe1); err != nil {
		return err
	}
	if err := waitMetrics(ctx, pe1, 10*time.Second); err != nil {
		return fmt.Errorf("pe1 restart: %w (log follows)\n%s", err, tail(pe1.log))
	}
	got, err = lab.CEA1.Ping(vpnlab.CE2Addr, 3, 5*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hitless restart: a new PE1 daemon adopted the pinned program and maps; pings answered: %d/3\n", got)
	if got == 0 {
		problems = errors.Join(problems, errors.New("no forwarding after PE1's daemon restarted"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "try it yourself while it runs:")
	fmt.Fprintf(w, "  ip netns exec %s curl -s 127.0.0.1:9469/metrics | grep ^mplsdp_   # Prometheus\n", lab.PE1.Namespace)
	fmt.Fprintf(w, "  %s --socket /run/mplsdp/pe1.sock show vrf                           # the API socket is a file: no namespace needed\n", *mplsctl)
	fmt.Fprintf(w, "  ip netns exec %s ping %s                                      # customer A, site 1 -> 2\n", lab.CEA1.Namespace, vpnlab.CE2Addr)
	if *keep > 0 {
		fmt.Fprintf(w, "keeping the network for %v (Ctrl-C ends it)\n", *keep)
		select {
		case <-ctx.Done():
		case <-time.After(*keep):
		}
	}
	fmt.Fprintln(w, "cleaning up")
	return problems
}

// waitMetrics waits until a daemon serves metrics, which it does once it forwards.
func waitMetrics(ctx context.Context, r *router, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if _, err := scrapeStats(r); err == nil {
			return nil
		}
		if r.cmd.ProcessState != nil || time.Now().After(deadline) {
			return errors.New("mplsdp did not come up")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scrapeStats reads a daemon's counters from its /metrics inside its namespace: what
// Prometheus would see.
func scrapeStats(r *router) (*dataplane.Stats, error) {
	var body string
	err := r.node.Do(func() error {
		// The socket is made here, on the namespace's thread: an http.Client would dial
		// from another goroutine, outside the namespace.
		c, err := net.DialTimeout("tcp", "127.0.0.1:9469", time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second)) //nolint:errcheck // a fresh conn
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("metrics: %s", resp.Status)
		}
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	s := &dataplane.Stats{}
	drops, ok := mfs["mplsdp_drops_total"]
	if !ok {
		return nil, errors.New("no mplsdp_drops_total")
	}
	for _, m := range drops.GetMetric() {
		var ifc, reason string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "interface":
				ifc = l.GetValue()
			case "reason":
				reason = l.GetValue()
			}
		}
		rs, err := dataplane.ParseReason(reason)
		if err != nil {
			continue
		}
		if ifc == "a1" { // PE1's customer-A port, port 1 in the lab
			s.Ports[vpnlab.PortA].Drops[rs] = uint64(m.GetCounter().GetValue())
		}
	}
	return s, nil
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

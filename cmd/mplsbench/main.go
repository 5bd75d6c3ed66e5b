// SPDX-License-Identifier: Apache-2.0

// Command mplsbench measures mplsdp's forwarding rate the way routers are compared
// (RFC 2544, RFC 5695): each scenario (P swap, PHP, PE push from a VRF of 1k and of 1M
// routes, PE pop-to-VRF) on the XDP and the AF_XDP engine, on a network of namespaces
// it builds and removes itself, next to baselines measured in the same run (the
// kernel's IPv4 forwarding, an XDP redirect, the bare AF_XDP forwarder). See
// bench/scenario for the method.
//
// Usage:
//
//	mplsbench [--quick] [--json] [--report DIR] [--zero-loss N] [--scenarios LIST] [--sizes 64,128,512,1518] [--reps N] [--duration D]
//
// With --report DIR it also writes DIR/report.md, with PNG plots beside it. Beside each
// maximum received rate it reports the zero-loss throughput (--zero-loss steps of a
// binary search on a paced rate). It needs root and a kernel with XDP and AF_XDP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mplsdp/mplsdp/bench/scenario"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mplsbench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mplsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "every scenario and baseline once, sizes 64 and 512, 300 ms windows")
	asJSON := fs.Bool("json", false, "print the report as JSON (rows and the machine) instead of a table")
	filter := fs.String("scenarios", "", "comma-separated scenarios, engines or scenario/engine to run (a trailing * matches a prefix); default all")
	sizes := fs.String("sizes", "", "comma-separated frame sizes in bytes, FCS included (default 64,128,512,1518; quick 64,512)")
	reps := fs.Int("reps", 0, "repetitions of each measurement (default 5; quick 1)")
	window := fs.Duration("duration", 0, "measurement window of each measurement (default 1s; quick 300ms)")
	flows := fs.Int("flows", 0, "distinct 5-tuples sent, at most 4096 (default 1024)")
	threaded := fs.Bool("threaded", true, "run the veths' receive in NAPI kernel threads, so the router gets its own core")
	report := fs.String("report", "", "also write a Markdown report with PNG plots into this directory (report.md)")
	zeroLoss := fs.Int("zero-loss", -1, "iterations of the zero-loss throughput search per case and size, 0 for none (default 6; quick 3)")
	latency := fs.Bool("latency", true, "measure each case's one-way latency at 10% of its maximum received rate (frames stamped by the generator, timed by the sink)")
	verbose := fs.Bool("v", false, "log every measurement on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mplsbench [flags]\n\nScenarios:\n")
		for _, s := range scenario.Scenarios {
			fmt.Fprintf(stderr, "  %-14s %s\n", s.Name, s.What)
		}
		fmt.Fprintf(stderr, "Engines: xdp, afxdp. Baselines: kernel-ipv4, xdp-redirect, bare-afxdp.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	opts := scenario.Defaults()
	if *quick {
		opts = scenario.Quick()
	}
	opts.Filter = *filter
	opts.Threaded = *threaded
	opts.Latency = *latency
	if *sizes != "" {
		opts.Sizes = nil
		for s := range strings.SplitSeq(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("--sizes: %q is not a number", s)
			}
			opts.Sizes = append(opts.Sizes, n)
		}
	}
	if *zeroLoss >= 0 {
		opts.ZeroLossIters = *zeroLoss
	}
	if *reps < 0 || *flows < 0 || *window < 0 {
		return errors.New("--reps, --flows and --duration must not be negative")
	}
	if *reps > 0 {
		opts.Reps = *reps
	}
	if *window > 0 {
		opts.Window = *window
	}
	if *flows > 0 {
		opts.Flows = *flows
	}
	if *report != "" {
		// Fail now, not after the measurements, when the report cannot be written.
		if err := os.MkdirAll(*report, 0o755); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	// A cancelled run still removes its namespaces; a second signal kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	start := time.Now()
	if *verbose {
		opts.Log = func(format string, a ...any) {
			fmt.Fprintf(stderr, "%6.1fs "+format+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
		}
	}
	rep, err := scenario.Run(ctx, opts)
	if rep != nil {
		var perr error
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			perr = enc.Encode(rep)
		} else {
			perr = rep.WriteTable(stdout)
		}
		err = errors.Join(err, perr)
		if *report != "" {
			cmd := strings.Join(append([]string{"mplsbench"}, args...), " ")
			if rerr := rep.WriteMarkdown(*report, cmd); rerr != nil {
				err = errors.Join(err, rerr)
			} else {
				fmt.Fprintf(stderr, "mplsbench: report in %s\n", filepath.Join(*report, "report.md"))
			}
		}
	}
	if err == nil {
		for _, r := range rep.Rows {
			if r.Error != "" {
				return errors.New("some measurements failed (see the rows' errors)")
			}
		}
	}
	return err
}

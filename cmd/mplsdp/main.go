// SPDX-License-Identifier: Apache-2.0

// Command mplsdp is the router daemon: it reads a YAML configuration, programs the
// forwarding tables, runs an engine (XDP in the kernel, or AF_XDP in userspace),
// serves Prometheus metrics, and follows SIGHUP (reload) and SIGTERM (clean exit).
//
//	mplsdp -config /etc/mplsdp/mplsdp.yaml
//	mplsdp -config pe1.yaml -check
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mplsdp/mplsdp/control"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mplsdp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "/etc/mplsdp/mplsdp.yaml", "configuration file (YAML)")
	check := fs.Bool("check", false, "validate the configuration, print every error, and exit")
	debug := fs.Bool("debug", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := control.LoadConfig(*configPath)
	if *check {
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: configuration is valid\n", *configPath)
		return 0
	}
	log, lerr := newLogger(*debug)
	if lerr != nil {
		fmt.Fprintln(stderr, lerr)
		return 1
	}
	defer log.Sync() //nolint:errcheck // nothing to do if stderr is gone
	if err != nil {
		log.Error("configuration refused", zap.String("file", *configPath), zap.Error(err))
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	d := &daemon{log: log, configPath: *configPath}
	if err := d.start(cfg); err != nil {
		log.Error("start failed", zap.Error(err))
		d.shutdown()
		return 1
	}
	if err := d.loop(ctx, hup); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped", zap.Error(err))
		d.shutdown()
		return 1
	}
	d.shutdown()
	return 0
}

func newLogger(debug bool) (*zap.Logger, error) {
	c := zap.NewProductionConfig()
	c.EncoderConfig.TimeKey = "time"
	c.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	c.DisableStacktrace = true
	if debug {
		c.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
	}
	return c.Build()
}

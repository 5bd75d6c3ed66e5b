// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/control/api"
	"github.com/mplsdp/mplsdp/control/metrics"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/afxdp"
	"github.com/mplsdp/mplsdp/dataplane/xdp"
)

// engine is what the daemon needs of a forwarding engine.
type engine interface {
	// Sync brings the engine in step with the router's tables and ports.
	Sync() error
	Stats() (*dataplane.Stats, error)
	Close() error
}

// daemon is one running mplsdp. Its methods run on the main goroutine only.
type daemon struct {
	log        *zap.Logger
	configPath string
	ctrl       *control.Controller
	eng        engine
	engineName string
	httpSrv    *http.Server
	apiSrv     *grpc.Server
	unresolved []string
}

// Controller and Stats make the daemon the API's backend.
func (d *daemon) Controller() *control.Controller { return d.ctrl }

// Stats are the running engine's counters.
func (d *daemon) Stats() (*dataplane.Stats, error) {
	if d.eng == nil {
		return nil, errors.New("no engine running")
	}
	return d.eng.Stats()
}

// SwitchedBytes are the bytes switched by label and pushed by tunnel, where the engine
// keeps them (the XDP engine does).
func (d *daemon) SwitchedBytes(labels, tunnels []uint32) (map[uint32]uint64, map[uint32]uint64, error) {
	x, ok := d.eng.(*xdpEngine)
	if !ok {
		return nil, nil, errors.New("the running engine keeps no per-label counters")
	}
	return x.e.SwitchedBytes(labels, tunnels)
}

// resolveInterval is how often entries waiting for a neighbour are retried.
const resolveInterval = 2 * time.Second

func (d *daemon) start(cfg *control.Config) error {
	d.ctrl = control.New(control.Kernel{})
	if err := d.apply(cfg, "start"); err != nil {
		return err
	}
	var err error
	switch cfg.Engine {
	case "afxdp":
		d.eng, err = startAFXDP(d.ctrl.Router())
	default:
		d.eng, err = startXDP(d.ctrl.Router(), cfg.BPF.PinPath, d.log)
	}
	if err != nil {
		return err
	}
	d.engineName = cfg.Engine
	d.log.Info("forwarding", zap.String("engine", cfg.Engine), zap.Int("interfaces", len(cfg.Interfaces)), zap.Int("vrfs", len(cfg.VRFs)))
	if cfg.Metrics.Listen != "" {
		if err := d.serveMetrics(cfg.Metrics.Listen); err != nil {
			return err
		}
	}
	if cfg.API.Socket != "" {
		ln, err := api.ListenUnix(cfg.API.Socket)
		if err != nil {
			return err
		}
		d.apiSrv = api.NewServer(d)
		go func() {
			if err := d.apiSrv.Serve(ln); err != nil {
				d.log.Error("api server", zap.Error(err))
			}
		}()
		d.log.Info("api", zap.String("socket", cfg.API.Socket))
	}
	return nil
}

// apply gives the controller a configuration and logs the outcome, once per event.
func (d *daemon) apply(cfg *control.Config, why string) error {
	start := time.Now()
	if err := d.ctrl.Apply(cfg); err != nil {
		return fmt.Errorf("apply configuration (%s): %w", why, err)
	}
	if d.eng != nil {
		if err := d.eng.Sync(); err != nil {
			return fmt.Errorf("engine sync (%s): %w", why, err)
		}
	}
	took := time.Since(start)
	metrics.UpdateLatency.Observe(took.Seconds())
	u := d.ctrl.Unresolved()
	if !slices.Equal(u, d.unresolved) {
		for _, s := range u {
			if !slices.Contains(d.unresolved, s) {
				d.log.Warn("not installed", zap.String("entry", s))
			}
		}
		if len(u) == 0 && len(d.unresolved) != 0 {
			d.log.Info("every configured entry is installed")
		}
		d.unresolved = u
	}
	if why != "retry" && why != "neighbour" {
		d.log.Info("configuration applied", zap.String("reason", why), zap.Duration("took", took), zap.Int("lfib_entries", d.ctrl.Router().LFIB.Len()))
	}
	return nil
}

func (d *daemon) loop(ctx context.Context, hup <-chan os.Signal) error {
	tick := time.NewTicker(resolveInterval)
	defer tick.Stop()
	// Neighbour changes (a next hop's MAC learnt or changed) trigger a re-apply, at
	// most once per neighbourDebounce; the ticker retries what is still unresolved.
	neigh := make(chan netlink.NeighUpdate, 64)
	done := make(chan struct{})
	defer close(done)
	if err := netlink.NeighSubscribe(neigh, done); err != nil {
		d.log.Warn("no neighbour notifications; next-hop MACs are re-read every tick only", zap.Error(err))
		neigh = nil
	}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			d.log.Info("stopping", zap.String("reason", "signal"))
			return nil
		case <-hup:
			d.reload()
		case _, ok := <-neigh:
			if !ok {
				neigh = nil
				continue
			}
			if debounce == nil {
				debounce = time.After(neighbourDebounce)
			}
		case <-debounce:
			debounce = nil
			if err := d.apply(d.ctrl.Config(), "neighbour"); err != nil {
				d.log.Error("re-apply after a neighbour change failed", zap.Error(err))
			}
		case <-tick.C:
			if len(d.unresolved) > 0 {
				if err := d.apply(d.ctrl.Config(), "retry"); err != nil {
					d.log.Error("retry failed", zap.Error(err))
				}
			}
		}
	}
}

// neighbourDebounce groups a burst of neighbour-table changes into one re-apply.
const neighbourDebounce = 200 * time.Millisecond

// reload reads the configuration file again; a bad one is refused and the running
// configuration stays.
func (d *daemon) reload() {
	cfg, err := control.LoadConfig(d.configPath)
	if err != nil {
		d.log.Error("reload refused: configuration invalid, the running one stays", zap.String("file", d.configPath), zap.Error(err))
		return
	}
	if cfg.Engine != d.engineName {
		d.log.Error("reload refused: the engine cannot change while running, restart mplsdp", zap.String("running", d.engineName), zap.String("wanted", cfg.Engine))
		return
	}
	if err := d.apply(cfg, "reload"); err != nil {
		d.log.Error("reload failed", zap.Error(err))
	}
}

func (d *daemon) serveMetrics(addr string) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.UpdateLatency, metrics.New(d.ctrl, d.eng.Stats))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	d.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := d.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server", zap.Error(err))
		}
	}()
	d.log.Info("metrics", zap.String("listen", ln.Addr().String()))
	return nil
}

func (d *daemon) shutdown() {
	if d.apiSrv != nil {
		d.apiSrv.Stop() // Watch streams would hold a graceful stop forever
	}
	if d.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		d.httpSrv.Shutdown(ctx) //nolint:errcheck // exiting
		cancel()
	}
	if d.eng != nil {
		if err := d.eng.Close(); err != nil {
			d.log.Error("engine close", zap.Error(err))
		}
		d.log.Info("detached")
	}
}

// xdpEngine attaches the XDP program to every port with an ifindex and keeps the maps
// in step. With a pin path, maps, program and links stay pinned, so a daemon killed
// without a chance to clean up leaves forwarding running, and the next one adopts it.
type xdpEngine struct {
	e   *xdp.Engine
	r   *dataplane.Router
	log *zap.Logger
}

func startXDP(r *dataplane.Router, pinPath string, log *zap.Logger) (*xdpEngine, error) {
	if pinPath != "" {
		if err := ensureBPFFS(pinPath); err != nil {
			return nil, err
		}
	}
	e, err := xdp.Load(xdp.Options{PinPath: pinPath})
	if err != nil {
		return nil, err
	}
	x := &xdpEngine{e: e, r: r, log: log}
	if err := x.Sync(); err != nil {
		e.Close()
		return nil, err
	}
	return x, nil
}

func (x *xdpEngine) Sync() error {
	if err := x.e.Sync(x.r); err != nil {
		return err
	}
	attached := x.e.Attached()
	want := map[int]bool{}
	for _, p := range x.r.Config().Ports {
		if p.Ifindex == 0 || p.Role == dataplane.RoleNone {
			continue
		}
		want[int(p.Ifindex)] = true
		if !slices.Contains(attached, int(p.Ifindex)) {
			if err := x.e.Attach(int(p.Ifindex)); err != nil {
				return fmt.Errorf("attach %s: %w", p.Name, err)
			}
			x.log.Info("attached", zap.String("interface", p.Name), zap.Uint32("ifindex", p.Ifindex))
		}
	}
	for _, i := range attached {
		if !want[i] {
			if err := x.e.Detach(i); err != nil {
				return err
			}
			x.log.Info("detached", zap.Int("ifindex", i))
		}
	}
	return nil
}

func (x *xdpEngine) Stats() (*dataplane.Stats, error) { return x.e.Stats() }
func (x *xdpEngine) Close() error                     { return x.e.Close() }

// afxdpEngine runs the userspace engine; its sockets are opened for the ports present
// at start.
type afxdpEngine struct{ e *afxdp.Engine }

func startAFXDP(r *dataplane.Router) (*afxdpEngine, error) {
	e, err := afxdp.Start(r, afxdp.Options{})
	if err != nil {
		return nil, err
	}
	return &afxdpEngine{e}, nil
}

func (a *afxdpEngine) Sync() error                      { return a.e.Sync() }
func (a *afxdpEngine) Stats() (*dataplane.Stats, error) { return a.e.Stats() }
func (a *afxdpEngine) Close() error                     { return a.e.Close() }

// ensureBPFFS mounts a bpf filesystem on /sys/fs/bpf when the pin path is under it and
// none is mounted there, as systemd does on most distributions.
func ensureBPFFS(pinPath string) error {
	const root = "/sys/fs/bpf"
	const bpfFSMagic = 0xcafe4a11
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err == nil && st.Type == bpfFSMagic {
		return nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("bpffs: %w", err)
	}
	if err := unix.Mount("bpf", root, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("mount bpffs on %s (for pin path %s): %w", root, pinPath, err)
	}
	return nil
}

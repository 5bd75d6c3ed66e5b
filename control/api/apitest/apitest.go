// SPDX-License-Identifier: Apache-2.0

// Package apitest runs the controller API over a fake kernel for tests: a Controller
// with a PE's configuration, served on a unix socket in a test's temporary directory.
package apitest

import (
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/control/api"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Kernel is a control.Resolver over fixed tables: an interface's MAC is
// 02:00:00:00:00:<ifindex>, its MTU 1500.
type Kernel struct {
	Links     map[string]int
	Neighbors map[netip.Addr]net.HardwareAddr
}

// Link implements control.Resolver.
func (k *Kernel) Link(name string) (int, net.HardwareAddr, int, error) {
	i, ok := k.Links[name]
	if !ok {
		return 0, nil, 0, errors.New("no such interface")
	}
	return i, net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}, 1500, nil
}

// Neighbor implements control.Resolver.
func (k *Kernel) Neighbor(_ string, ip netip.Addr) (net.HardwareAddr, error) {
	m, ok := k.Neighbors[ip]
	if !ok {
		return nil, errors.New("not in the neighbour table")
	}
	return m, nil
}

// Addresses of the fixture.
var (
	CoreMAC = net.HardwareAddr{2, 0xa, 0, 0, 0, 1} // 198.51.100.9, the P router on core0
	CEMAC   = net.HardwareAddr{2, 0xa, 0, 0, 0, 2} // 192.0.2.2, customer a's CE on ce-a
)

// NewKernel returns the kernel the fixture's configuration resolves in: every
// interface exists; the neighbour 192.0.2.99 does not.
func NewKernel() *Kernel {
	return &Kernel{
		Links: map[string]int{"core0": 10, "ce-a": 11, "trunk0": 12},
		Neighbors: map[netip.Addr]net.HardwareAddr{
			netip.MustParseAddr("198.51.100.9"): CoreMAC,
			netip.MustParseAddr("192.0.2.2"):    CEMAC,
		},
	}
}

// Config is a PE: customer a (RD 65000:1, label 1000) on ce-a and trunk0 VLAN 100, customer b
// (max-routes 2, dynamic label) on trunk0 VLAN 200, an LSP to the PE 203.0.113.2 and
// a transit swap and pop. One route of a is unresolved (no neighbour 192.0.2.99).
func Config() *control.Config {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	return &control.Config{
		RouterID: addr("198.51.100.1"),
		TTLMode:  dataplane.TTLPipe,
		Interfaces: []control.Interface{
			{Name: "core0", Role: dataplane.RoleCore},
			{Name: "ce-a", Role: dataplane.RoleCE, VRF: "a", Peers: []netip.Addr{addr("192.0.2.2")}},
			{Name: "trunk0", Role: dataplane.RoleCE, VLANs: map[uint16]string{100: "a", 200: "b"}},
		},
		VRFs: []control.VRF{
			{Name: "a", Label: 1000, RD: mustRD("65000:1"), Import: []vrf.RT{mustRT("65000:1")}, Export: []vrf.RT{mustRT("65000:1"), mustRT("65000:100")}, Routes: []control.Route{
				{Prefix: pfx("192.0.2.0/25"), Via: addr("192.0.2.2"), Interface: "ce-a"},
				{Prefix: pfx("192.0.2.128/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2000},
				{Prefix: pfx("198.18.0.0/24"), Via: addr("192.0.2.99"), Interface: "ce-a"},
			}},
			{Name: "b", MaxRoutes: 2, Routes: []control.Route{
				{Prefix: pfx("192.0.2.0/25"), RemotePE: addr("203.0.113.2"), VPNLabel: 2001},
			}},
		},
		LSPs: []control.LSP{
			{FEC: pfx("203.0.113.2/32"), Push: []lfib.Label{3001}, Via: addr("198.51.100.9"), Interface: "core0"},
			{InLabel: 3001, Swap: []lfib.Label{3002}, Via: addr("198.51.100.9"), Interface: "core0"},
			{InLabel: 3002, Pop: true, Via: addr("198.51.100.9"), Interface: "core0"},
		},
		CorePrefixes: []netip.Prefix{pfx("198.51.100.0/24")},
	}
}

func mustRD(s string) vrf.RD {
	rd, err := vrf.ParseRD(s)
	if err != nil {
		panic(err)
	}
	return rd
}

func mustRT(s string) vrf.RT {
	rt, err := vrf.ParseRT(s)
	if err != nil {
		panic(err)
	}
	return rt
}

// Backend is an api.Backend with counters set by the test.
type Backend struct {
	C *control.Controller

	mu    sync.Mutex
	stats *dataplane.Stats
}

// Controller implements api.Backend.
func (b *Backend) Controller() *control.Controller { return b.C }

// Stats implements api.Backend: the counters from SetStats, or an error before.
func (b *Backend) Stats() (*dataplane.Stats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stats == nil {
		return nil, errors.New("no engine running")
	}
	s := *b.stats
	return &s, nil
}

// SetStats sets the counters Stats returns.
func (b *Backend) SetStats(s *dataplane.Stats) {
	b.mu.Lock()
	b.stats = s
	b.mu.Unlock()
}

// Server is a running API server.
type Server struct {
	Backend *Backend
	Socket  string
}

// Start applies Config to a new Controller and serves the API for it on a unix socket
// in t's temporary directory until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	c := control.New(NewKernel())
	if err := c.Apply(Config()); err != nil {
		t.Fatalf("apply: %v", err)
	}
	b := &Backend{C: c}
	sock := filepath.Join(t.TempDir(), "run", "api.sock")
	ln, err := api.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(b)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("serve: %v", err)
		}
	})
	return &Server{Backend: b, Socket: sock}
}

// Dial returns a client of the server, closed when t ends.
func (s *Server) Dial(t testing.TB) api.RouterClient {
	t.Helper()
	conn, err := grpc.NewClient("unix:"+s.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return api.NewRouterClient(conn)
}

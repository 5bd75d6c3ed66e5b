// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Engine is a forwarding engine of mplsdp under test.
type Engine string

// The engines.
const (
	EngineXDP   Engine = "xdp"
	EngineAFXDP Engine = "afxdp"
)

// Engines lists every engine, in the order rows are measured.
var Engines = []Engine{EngineXDP, EngineAFXDP}

// Baseline is a forwarder that is not mplsdp, measured on the same veths in the same run.
type Baseline string

// The baselines.
const (
	// BaselineKernel is the Linux kernel's own IPv4 forwarding (ip_forward=1, a route
	// toward the sink, a static neighbour): what a user has without mplsdp.
	BaselineKernel Baseline = "kernel-ipv4"
	// BaselineXDPRedirect is an XDP program that only redirects every frame from the
	// ingress veth to the egress veth through a devmap: the ceiling of XDP here.
	BaselineXDPRedirect Baseline = "xdp-redirect"
	// BaselineBareAFXDP is the AF_XDP engine with no pipeline (afxdp Options.Bare): the
	// ceiling of forwarding through AF_XDP sockets here.
	BaselineBareAFXDP Baseline = "bare-afxdp"
)

// Baselines lists every baseline.
var Baselines = []Baseline{BaselineKernel, BaselineXDPRedirect, BaselineBareAFXDP}

// Ratio is the name of the ratio of a scenario's rate to the baseline's.
func (b Baseline) Ratio() string {
	switch b {
	case BaselineKernel:
		return "x-kernel"
	case BaselineXDPRedirect:
		return "x-xdp-ceiling"
	case BaselineBareAFXDP:
		return "x-bare-afxdp"
	}
	return "x-" + string(b)
}

// Engine is the engine a baseline's row is listed under.
func (b Baseline) Engine() string {
	switch b {
	case BaselineKernel:
		return "kernel"
	case BaselineXDPRedirect:
		return "xdp"
	}
	return "afxdp"
}

// Baselines are what an engine's rows are paired with: the kernel for both, and the
// ceiling of the engine's own kind of forwarding.
func (e Engine) Baselines() []Baseline {
	if e == EngineXDP {
		return []Baseline{BaselineKernel, BaselineXDPRedirect}
	}
	return []Baseline{BaselineKernel, BaselineBareAFXDP}
}

// Labels the scenario routers hold (the layout of bench/benchrouter, on two ports).
const (
	LabelSwap     = 100  // swapped to LabelSwapped
	LabelSwapped  = 200  // out of a swap
	LabelPHP      = 101  // popped (penultimate hop), exposing LabelVPN
	LabelPopToVRF = 102  // popped into VRF 1
	LabelVPN      = 1000 // the VPN label under LabelPHP
	LabelTunnel   = 300  // the transport label a push puts on top
)

// Ports of the router under test: In faces the generator, Out the sink.
const (
	PortIn  = 0
	PortOut = 1
)

// MTU of every veth and port: a 1518-byte frame with two labels pushed still fits.
const MTU = 1600

// dstKind is where a scenario's frames are addressed.
type dstKind uint8

const (
	dstRemote dstKind = iota // 203.0.113.0/24, beyond the router (core traffic, the kernel's route)
	dstRoutes                // spread over the VRF's routes
	dstLocal                 // 192.0.2.0/24, the CE's own subnet in the VRF
)

// Scenario is one row of the benchmark: a kind of forwarding done by the router under
// test, with the frames that exercise it and the frames expected out.
type Scenario struct {
	Name   string
	What   string // one line, for the operator
	Routes int    // routes in the VRF (besides the CE's subnet)
	// Roles of the router's ingress and egress ports.
	InRole, OutRole dataplane.Role
	// Labels on the frames sent (top first); none for IPv4.
	Labels []uint32
	dst    dstKind
	// OutLabel is the top label expected on the frames out; 0 means IPv4 frames.
	OutLabel uint32
}

// Scenarios are every scenario, in the order they are measured.
var Scenarios = []Scenario{
	{Name: "p-swap", What: "P router: label 100 swapped to 200", Routes: 1000,
		InRole: dataplane.RoleCore, OutRole: dataplane.RoleCore, Labels: []uint32{LabelSwap}, dst: dstRemote, OutLabel: LabelSwapped},
	{Name: "p-php", What: "P router, penultimate hop: transport label 101 popped, VPN label 1000 out", Routes: 1000,
		InRole: dataplane.RoleCore, OutRole: dataplane.RoleCore, Labels: []uint32{LabelPHP, LabelVPN}, dst: dstRemote, OutLabel: LabelVPN},
	{Name: "pe-push-1k", What: "PE ingress: IPv4 in a VRF of 1k routes, VPN and transport labels pushed", Routes: 1000,
		InRole: dataplane.RoleCE, OutRole: dataplane.RoleCore, dst: dstRoutes, OutLabel: LabelTunnel},
	{Name: "pe-push-1m", What: "PE ingress: IPv4 in a VRF of 1M routes, VPN and transport labels pushed", Routes: 1_000_000,
		InRole: dataplane.RoleCE, OutRole: dataplane.RoleCore, dst: dstRoutes, OutLabel: LabelTunnel},
	{Name: "pe-pop-to-vrf", What: "PE egress: VPN label 102 popped, IPv4 looked up in the VRF, out to the CE", Routes: 1000,
		InRole: dataplane.RoleCore, OutRole: dataplane.RoleCE, Labels: []uint32{LabelPopToVRF}, dst: dstLocal},
}

// SinkLabels are the labels the sink tells apart: every scenario's OutLabel.
var SinkLabels = []uint32{LabelSwapped, LabelVPN, LabelTunnel}

// Case is a scenario on an engine: one row per frame size.
type Case struct {
	Scenario Scenario
	Engine   Engine
}

func (c Case) String() string { return c.Scenario.Name + "/" + string(c.Engine) }

// Select returns the cases whose scenario name, engine or "scenario/engine" matches one
// of filter (comma-separated terms, each a name or a prefix ending in '*'); an empty
// filter selects every case.
func Select(filter string) ([]Case, error) {
	var terms []string
	for t := range strings.SplitSeq(filter, ",") {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	match := func(t, s string) bool {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			return strings.HasPrefix(s, p)
		}
		return t == s
	}
	var out []Case
	used := make([]bool, len(terms))
	for _, s := range Scenarios {
		for _, e := range Engines {
			c := Case{s, e}
			ok := len(terms) == 0
			for i, t := range terms {
				if match(t, s.Name) || match(t, string(e)) || match(t, c.String()) {
					ok, used[i] = true, true
				}
			}
			if ok {
				out = append(out, c)
			}
		}
	}
	for i, u := range used {
		if !u {
			var names []string
			for _, s := range Scenarios {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("scenario: %q matches no scenario (have %s; engines %s, %s; or scenario/engine)",
				terms[i], strings.Join(names, ", "), EngineXDP, EngineAFXDP)
		}
	}
	return out, nil
}

// Tables are the label table and VRF table of a scenario router: the labels above, a
// tunnel (LabelTunnel out PortOut), and VRF 1, bound to both ports, holding the CE's
// subnet 192.0.2.0/24 (out PortOut) and Routes random IPv4 routes (/16 to /32, fixed
// seed) to a remote PE through the tunnel. Every next hop is the sink's MAC. Building
// them is the slow part of a 1M-route run: build once and make each scenario's router
// over them (Router).
type Tables struct {
	LFIB   *lfib.Table
	VRFs   *vrf.Table
	Routes int
	// Addrs are addresses inside the random routes, one per route in the order they
	// were added (so spread over the table), none in a documentation range.
	Addrs [][4]byte
}

// NewTables builds the tables with routes random routes, next hops toward sinkMAC.
func NewTables(routes int, sinkMAC lfib.MAC) (*Tables, error) {
	lf := lfib.New()
	toOut := lfib.NextHop{Port: PortOut, Dst: sinkMAC}
	var b lfib.Batch
	b.SetLabel(LabelSwap, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: toOut, Labels: [lfib.MaxPush]lfib.Label{LabelSwapped}, NLabels: 1}}})
	b.SetLabel(LabelPHP, lfib.Entry{Op: lfib.OpPop, Paths: []lfib.Path{{NextHop: toOut}}})
	b.SetLabel(LabelPopToVRF, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 1})
	b.SetTunnel(1, lfib.Entry{Op: lfib.OpPush, Paths: []lfib.Path{{NextHop: toOut, Labels: [lfib.MaxPush]lfib.Label{LabelTunnel}, NLabels: 1}}})
	if err := lf.Commit(&b); err != nil {
		return nil, fmt.Errorf("scenario: labels: %w", err)
	}
	t := &Tables{LFIB: lf, VRFs: vrf.New(), Routes: routes, Addrs: make([][4]byte, 0, routes)}
	rng := rand.New(rand.NewPCG(7, 7))
	doc := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	err := t.VRFs.Update(func(tx *vrf.Txn) error {
		if _, err := tx.AddVRF(vrf.Config{Name: "bench", ID: 1}); err != nil {
			return err
		}
		for _, p := range []uint16{PortIn, PortOut} {
			if err := tx.Bind(vrf.Binding{Port: p, VRF: 1}); err != nil {
				return err
			}
		}
		if err := tx.AddRoute(1, doc[0], vrf.NextHop{Local: toOut}); err != nil {
			return err
		}
		seen := make(map[netip.Prefix]bool, routes)
		for len(seen) < routes {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], rng.Uint32()|0x0100_0000)
			p := netip.PrefixFrom(netip.AddrFrom4(a), 16+rng.IntN(17)).Masked()
			if seen[p] || slices.ContainsFunc(doc, func(d netip.Prefix) bool { return d.Overlaps(p) }) {
				continue
			}
			seen[p] = true
			if err := tx.AddRoute(1, p, vrf.NextHop{Tunnel: 1, VPNLabel: lfib.Label(16 + len(seen)%1000)}); err != nil {
				return err
			}
			t.Addrs = append(t.Addrs, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scenario: VRF of %d routes: %w", routes, err)
	}
	return t, nil
}

// PortDesc is an interface of the router under test.
type PortDesc struct {
	Name    string
	MAC     lfib.MAC
	Ifindex uint32
}

// Router is a router over t with in and out in the given roles (pipe TTL mode).
func (t *Tables) Router(inRole, outRole dataplane.Role, in, out PortDesc) *dataplane.Router {
	cfg := &dataplane.Config{TTLMode: dataplane.TTLPipe}
	for i, p := range []struct {
		d    PortDesc
		role dataplane.Role
	}{{in, inRole}, {out, outRole}} {
		cfg.Ports[i] = dataplane.Port{Name: p.d.Name, Role: p.role, MTU: MTU, MAC: p.d.MAC, Ifindex: p.d.Ifindex}
	}
	return dataplane.NewRouter(t.LFIB, t.VRFs, cfg)
}

// Addresses of the test network (documentation ranges).
var (
	genIP    = [4]byte{192, 0, 2, 10}    // the generator, on the dut's in0 subnet
	remoteIP = [4]byte{198, 51, 100, 10} // a customer site behind the core
)

// Frames are a scenario's frames of one size, flows of them, from src to dst MAC.
func (s Scenario) Frames(t *Tables, size, flows int, src, dst [6]byte) ([][]byte, error) {
	spec := FrameSpec{Src: src[:], Dst: dst[:], Labels: s.Labels, SrcIP: remoteIP, DstPort: 5000, Size: size}
	var d func(int) [4]byte
	switch s.dst {
	case dstRemote:
		d = func(i int) [4]byte { return [4]byte{203, 0, 113, byte(1 + i%254)} }
	case dstLocal:
		d = func(i int) [4]byte { return [4]byte{192, 0, 2, byte(20 + i%200)} }
	case dstRoutes:
		spec.SrcIP = genIP
		if len(t.Addrs) == 0 {
			return nil, fmt.Errorf("scenario %s: the VRF has no routes", s.Name)
		}
		d = func(i int) [4]byte { return t.Addrs[i*len(t.Addrs)/max(flows, 1)%len(t.Addrs)] }
	}
	return Flows(spec, flows, d)
}

// IPv4Frames are the baselines' frames: UDP/IPv4 to 203.0.113.0/24, which the dut's
// kernel routes toward the sink.
func IPv4Frames(size, flows int, src, dst [6]byte) ([][]byte, error) {
	spec := FrameSpec{Src: src[:], Dst: dst[:], SrcIP: genIP, DstPort: 5000, Size: size}
	return Flows(spec, flows, func(i int) [4]byte { return [4]byte{203, 0, 113, byte(1 + i%254)} })
}

// SPDX-License-Identifier: Apache-2.0

package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Backend is what the API serves: the daemon implements it.
type Backend interface {
	// Controller owns the tables.
	Controller() *control.Controller
	// Stats are the running engine's counters; an error when no engine runs.
	Stats() (*dataplane.Stats, error)
}

// NewServer returns a gRPC server with the Router service over b. Serve it on a
// listener from ListenUnix. Watch streams last until their clients go: stop the server
// with Stop, or with GracefulStop bounded by a timeout and then Stop.
func NewServer(b Backend) *grpc.Server {
	s := grpc.NewServer(grpc.MaxRecvMsgSize(maxMsg))
	RegisterRouterServer(s, &server{b: b})
	return s
}

// maxMsg bounds a request: a batch of about a million routes.
const maxMsg = 256 << 20

// ListenUnix listens on the unix socket at path, mode 0600: it creates the parent
// directory (0755) if missing and removes a stale socket left by a daemon that is gone.
// A socket that still accepts connections is another daemon's: that is an error, as is
// anything at path that is not a socket.
func ListenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("api socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("api socket %s: exists and is not a socket", path)
		}
		if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			conn.Close()
			return nil, fmt.Errorf("api socket %s: in use (is another mplsdp running?)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("api socket: removing the stale one: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("api socket: %w", err)
	}
	return ln, nil
}

// server implements RouterServer.
//
// Thread contract: every method may run concurrently; the Controller serialises
// changes. mu makes this server's changes one at a time, so that a change can tell its
// own Event (the only OwnerAPI one while it runs) from a configuration reload's.
type server struct {
	UnimplementedRouterServer
	b  Backend
	mu sync.Mutex // held across every change (routes and labels)

	traceMu sync.Mutex // one trace at a time; guards tracer
	tracer  *dataplane.Router
}

func (s *server) ctl() *control.Controller { return s.b.Controller() }

// watchBuffer is how many events a Watch client may fall behind before it misses some.
const watchBuffer = 256

func (s *server) ListVRFs(context.Context, *ListVRFsRequest) (*ListVRFsResponse, error) {
	r := s.ctl().Router()
	snap := r.VRFs.Load()
	ports := &r.Config().Ports
	labels := vrfLabels(r.LFIB)
	ifcs := map[vrf.ID][]string{}
	for _, b := range snap.Bindings() {
		ifcs[b.VRF] = append(ifcs[b.VRF], bindingName(ports, b.Port, b.VLAN))
	}
	resp := &ListVRFsResponse{}
	for _, v := range snap.VRFs() {
		if v.ID == vrf.Global {
			continue
		}
		v4, v6 := snap.RouteCount(v.ID)
		out := &VRF{
			Name:          v.Name,
			Id:            uint32(v.ID),
			MaxRoutes:     uint32(max(v.MaxRoutes, 0)),
			Ipv4Routes:    uint32(v4),
			Ipv6Routes:    uint32(v6),
			RefusedRoutes: r.VRFs.Refused(v.ID),
			VpnLabel:      uint32(labels[v.ID]),
			Interfaces:    ifcs[v.ID],
		}
		if v.RD != 0 {
			out.Rd = v.RD.String()
		}
		for _, rt := range v.Import {
			out.Import = append(out.Import, rt.String())
		}
		for _, rt := range v.Export {
			out.Export = append(out.Export, rt.String())
		}
		resp.Vrfs = append(resp.Vrfs, out)
	}
	return resp, nil
}

// vrfLabels maps VRF ids to their pop-to-VRF label (the lowest, if several).
func vrfLabels(lf *lfib.Table) map[vrf.ID]lfib.Label {
	m := map[vrf.ID]lfib.Label{}
	lf.Walk(func(l lfib.Label, e lfib.Entry) bool {
		if _, ok := m[vrf.ID(e.VRF)]; e.Op == lfib.OpPopToVRF && !ok {
			m[vrf.ID(e.VRF)] = l
		}
		return true
	})
	return m
}

func portName(ports *[dataplane.MaxPorts]dataplane.Port, port uint16) string {
	if int(port) < len(ports) && ports[port].Name != "" {
		return ports[port].Name
	}
	return "port" + strconv.Itoa(int(port))
}

func bindingName(ports *[dataplane.MaxPorts]dataplane.Port, port, vlan uint16) string {
	if vlan == 0 {
		return portName(ports, port)
	}
	return portName(ports, port) + "." + strconv.Itoa(int(vlan))
}

func (s *server) ListRoutes(_ context.Context, req *ListRoutesRequest) (*ListRoutesResponse, error) {
	c := s.ctl()
	cfg := c.Config()
	r := c.Router()
	snap := r.VRFs.Load()
	ports := &r.Config().Ports
	v, ok := snap.VRFByName(req.GetVrf())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no VRF %q", req.GetVrf())
	}
	installed := map[netip.Prefix]vrf.NextHop{}
	for p, nh := range snap.Routes(v.ID) {
		installed[p] = nh
	}
	type row struct {
		prefix netip.Prefix
		owner  Owner
		route  *control.Route // nil: installed by neither (not from this controller)
	}
	var rows []row
	fromConfig := map[netip.Prefix]bool{}
	if cfg != nil {
		for _, cv := range cfg.VRFs {
			if cv.Name != v.Name {
				continue
			}
			for i := range cv.Routes {
				rows = append(rows, row{cv.Routes[i].Prefix, Owner_OWNER_CONFIG, &cv.Routes[i]})
				fromConfig[cv.Routes[i].Prefix] = true
			}
		}
	}
	fromAPI := map[netip.Prefix]bool{}
	for _, ar := range c.APIRoutes() {
		if ar.VRF == v.Name {
			rows = append(rows, row{ar.Route.Prefix, Owner_OWNER_API, &ar.Route})
			fromAPI[ar.Route.Prefix] = true
		}
	}
	for p := range installed {
		if !fromConfig[p] && !fromAPI[p] {
			rows = append(rows, row{p, Owner_OWNER_UNSPECIFIED, nil})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(comparePrefix(a.prefix, b.prefix), cmp.Compare(a.owner, b.owner))
	})
	resp := &ListRoutesResponse{}
	for _, rw := range rows {
		out := &Route{Vrf: v.Name, Prefix: rw.prefix.String(), Owner: rw.owner}
		if rt := rw.route; rt != nil {
			if rt.Remote() {
				out.RemotePe, out.VpnLabel = rt.RemotePE.String(), uint32(rt.VPNLabel)
			} else {
				out.Via, out.Interface, out.Vlan = addrString(rt.Via), rt.Interface, uint32(rt.VLAN)
				if rt.MAC != nil {
					out.Mac = rt.MAC.String()
				}
			}
		}
		nh, ok := installed[rw.prefix]
		// The configuration's route wins over the API's for the same prefix.
		out.Installed = ok && (rw.owner != Owner_OWNER_API || !fromConfig[rw.prefix])
		if out.Installed {
			if nh.Remote() {
				out.Tunnel, out.VpnLabel = nh.Tunnel, uint32(nh.VPNLabel)
			} else {
				out.Interface, out.Vlan, out.Mac = portName(ports, nh.Local.Port), uint32(nh.Local.VLAN), nh.Local.Dst.String()
			}
		}
		resp.Routes = append(resp.Routes, out)
	}
	return resp, nil
}

// comparePrefix orders IPv4 before IPv6, then by address, then shorter first.
func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(
		cmp.Compare(a.Addr().BitLen(), b.Addr().BitLen()),
		a.Addr().Compare(b.Addr()),
		cmp.Compare(a.Bits(), b.Bits()),
	)
}

func addrString(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return ""
}

func (s *server) AddRoutes(_ context.Context, req *AddRoutesRequest) (*ChangeResponse, error) {
	c := s.ctl()
	cfg := c.Config()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "no configuration applied yet")
	}
	if len(req.GetRoutes()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty batch: no routes to add")
	}
	routes := make([]control.RouteWithVRF, 0, len(req.GetRoutes()))
	seen := make(map[control.RouteKey]bool, len(req.GetRoutes()))
	for i, r := range req.GetRoutes() {
		rw, err := routeFromProto(cfg, r)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: %v; nothing changed", batchItem(i, len(req.GetRoutes()), r.GetVrf(), r.GetPrefix()), err)
		}
		k := control.RouteKey{VRF: rw.VRF, Prefix: rw.Route.Prefix}
		if seen[k] {
			return nil, status.Errorf(codes.InvalidArgument, "%s: twice in the batch; nothing changed", batchItem(i, len(req.GetRoutes()), r.GetVrf(), r.GetPrefix()))
		}
		seen[k] = true
		routes = append(routes, rw)
	}
	return s.change(func() error { return c.AddRoutes(routes) })
}

func batchItem(i, n int, vrfName, prefix string) string {
	return fmt.Sprintf("route %d of %d (%s in VRF %q)", i+1, n, prefix, vrfName)
}

// routeFromProto checks r against cfg and converts it.
func routeFromProto(cfg *control.Config, r *Route) (control.RouteWithVRF, error) {
	var out control.RouteWithVRF
	if !slices.ContainsFunc(cfg.VRFs, func(v control.VRF) bool { return v.Name == r.GetVrf() }) {
		return out, fmt.Errorf("no VRF %q", r.GetVrf())
	}
	out.VRF = r.GetVrf()
	p, err := parsePrefix(r.GetPrefix())
	if err != nil {
		return out, err
	}
	out.Route.Prefix = p
	local := r.GetVia() != "" || r.GetInterface() != "" || r.GetVlan() != 0 || r.GetMac() != ""
	remote := r.GetRemotePe() != "" || r.GetVpnLabel() != 0
	switch {
	case local && remote:
		return out, errors.New("both a local next hop (via, interface) and a remote one (remote-pe, vpn-label): give one")
	case remote:
		if out.Route.RemotePE, err = netip.ParseAddr(r.GetRemotePe()); err != nil {
			return out, fmt.Errorf("remote PE: %v", err)
		}
		l := lfib.Label(r.GetVpnLabel())
		if l.Reserved() || !l.Valid() {
			return out, fmt.Errorf("VPN label %d out of range %d..%d", r.GetVpnLabel(), lfib.MinLabel, lfib.MaxLabel)
		}
		out.Route.VPNLabel = l
	case local:
		if out.Route.Via, err = netip.ParseAddr(r.GetVia()); err != nil {
			return out, fmt.Errorf("next hop (via): %v", err)
		}
		if !slices.ContainsFunc(cfg.Interfaces, func(i control.Interface) bool { return i.Name == r.GetInterface() }) {
			if r.GetInterface() == "" {
				return out, errors.New("no interface for the next hop")
			}
			return out, fmt.Errorf("no interface %q in the configuration", r.GetInterface())
		}
		out.Route.Interface = r.GetInterface()
		if r.GetVlan() > lfib.VLANMax {
			return out, fmt.Errorf("VLAN %d out of range 0..%d", r.GetVlan(), lfib.VLANMax)
		}
		out.Route.VLAN = uint16(r.GetVlan())
		if r.GetMac() != "" {
			m, err := net.ParseMAC(r.GetMac())
			if err != nil || len(m) != 6 {
				return out, fmt.Errorf("MAC %q: want an Ethernet address like 02:00:00:00:00:01", r.GetMac())
			}
			out.Route.MAC = m
		}
	default:
		return out, errors.New("no next hop: give via and interface, or remote-pe and vpn-label")
	}
	return out, nil
}

// parsePrefix parses a canonical prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("prefix: %v", err)
	}
	if p != p.Masked() {
		return p, fmt.Errorf("prefix %s has host bits set (did you mean %s?)", p, p.Masked())
	}
	return p, nil
}

func (s *server) DeleteRoutes(_ context.Context, req *DeleteRoutesRequest) (*ChangeResponse, error) {
	c := s.ctl()
	cfg := c.Config()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "no configuration applied yet")
	}
	n := len(req.GetRoutes())
	if n == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty batch: no routes to delete")
	}
	api := map[control.RouteKey]bool{}
	for _, r := range c.APIRoutes() {
		api[control.RouteKey{VRF: r.VRF, Prefix: r.Route.Prefix}] = true
	}
	conf := map[control.RouteKey]bool{}
	for _, v := range cfg.VRFs {
		for _, r := range v.Routes {
			conf[control.RouteKey{VRF: v.Name, Prefix: r.Prefix}] = true
		}
	}
	keys := make([]control.RouteKey, 0, n)
	seen := make(map[control.RouteKey]bool, n)
	for i, r := range req.GetRoutes() {
		item := batchItem(i, n, r.GetVrf(), r.GetPrefix())
		p, err := parsePrefix(r.GetPrefix())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: %v; nothing changed", item, err)
		}
		k := control.RouteKey{VRF: r.GetVrf(), Prefix: p}
		switch {
		case seen[k]:
			return nil, status.Errorf(codes.InvalidArgument, "%s: twice in the batch; nothing changed", item)
		case api[k]:
		case conf[k]:
			return nil, status.Errorf(codes.FailedPrecondition, "%s: the route belongs to the configuration (remove it from the configuration file); nothing changed", item)
		default:
			return nil, status.Errorf(codes.NotFound, "%s: no such route from the API; nothing changed", item)
		}
		seen[k] = true
		keys = append(keys, k)
	}
	return s.change(func() error { return c.DeleteRoutes(keys) })
}

// change runs fn, a change of the Controller's, and reports when it reached the tables.
func (s *server) change(fn func() error) (*ChangeResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ctl()
	events, stop := c.Subscribe(watchBuffer)
	defer stop()
	if err := fn(); err != nil {
		// What the Controller refuses after validation depends on the tables' state
		// (a VRF's max-routes, a reload in between): nothing changed.
		return nil, status.Errorf(codes.FailedPrecondition, "%v; nothing changed", err)
	}
	resp := &ChangeResponse{Took: durationpb.New(c.LastUpdate()), Unresolved: c.Unresolved()}
drain:
	for {
		select {
		case ev := <-events:
			if ev.Owner == control.OwnerAPI {
				resp.Generation, resp.Took = ev.Generation, durationpb.New(ev.Took)
			}
		default:
			break drain
		}
	}
	return resp, nil
}

func (s *server) ListLabels(context.Context, *ListLabelsRequest) (*ListLabelsResponse, error) {
	c := s.ctl()
	r := c.Router()
	snap := r.VRFs.Load()
	v := newLFIBView(c, c.Config(), r.LFIB, &r.Config().Ports, snap)
	resp := &ListLabelsResponse{}
	r.LFIB.Walk(func(l lfib.Label, e lfib.Entry) bool {
		resp.Labels = append(resp.Labels, v.labelEntry(l, e, snap))
		return true
	})
	for _, id := range v.tunnels {
		out := &Tunnel{Id: id, Fec: v.fec(id)}
		for _, p := range v.tunnelEntries[id].Paths {
			out.Paths = append(out.Paths, v.tunnelPath(id, p))
		}
		resp.Tunnels = append(resp.Tunnels, out)
	}
	s.fillBytes(resp)
	return resp, nil
}

// SwitchedBytes is what a Backend offers when its engine counts bytes per label and
// tunnel (the XDP engine does).
type SwitchedBytes interface {
	SwitchedBytes(labels, tunnels []uint32) (byLabel, byTunnel map[uint32]uint64, err error)
}

// fillBytes adds the byte counters to a listing when the backend has them; without
// them the fields stay unset (mplsctl prints "-").
func (s *server) fillBytes(resp *ListLabelsResponse) {
	sb, ok := s.b.(SwitchedBytes)
	if !ok {
		return
	}
	labels := make([]uint32, len(resp.Labels))
	for i, l := range resp.Labels {
		labels[i] = l.GetLabel()
	}
	tunnels := make([]uint32, len(resp.Tunnels))
	for i, t := range resp.Tunnels {
		tunnels[i] = t.GetId()
	}
	byLabel, byTunnel, err := sb.SwitchedBytes(labels, tunnels)
	if err != nil {
		return
	}
	for _, l := range resp.Labels {
		if n, ok := byLabel[l.GetLabel()]; ok {
			l.Bytes = &n
		}
	}
	for _, t := range resp.Tunnels {
		if n, ok := byTunnel[t.GetId()]; ok {
			t.Bytes = &n
		}
	}
}

// lfibView is what the configuration and the API's entries add to the LFIB's: owners,
// next hops' addresses and tunnels' FECs.
type lfibView struct {
	ports         *[dataplane.MaxPorts]dataplane.Port
	byLabel       map[lfib.Label][]control.LSP // the LSPs behind an incoming label's entry
	byFEC         map[netip.Prefix][]control.LSP
	configLabels  map[lfib.Label]bool
	apiLabels     map[lfib.Label]bool
	tunnels       []uint32 // installed tunnels, by id
	tunnelEntries map[uint32]lfib.Entry
	fecs          map[uint32]netip.Prefix
}

// newLFIBView reads the tunnels of lf and the configuration cfg (nil: none) in force.
func newLFIBView(c *control.Controller, cfg *control.Config, lf *lfib.Table, ports *[dataplane.MaxPorts]dataplane.Port, snap *vrf.Snapshot) *lfibView {
	if cfg == nil {
		cfg = &control.Config{}
	}
	v := &lfibView{
		ports:         ports,
		byLabel:       map[lfib.Label][]control.LSP{},
		byFEC:         map[netip.Prefix][]control.LSP{},
		configLabels:  map[lfib.Label]bool{},
		apiLabels:     map[lfib.Label]bool{},
		tunnelEntries: map[uint32]lfib.Entry{},
	}
	for _, l := range cfg.LSPs {
		if l.FEC.IsValid() {
			v.byFEC[l.FEC] = append(v.byFEC[l.FEC], l)
		} else {
			v.byLabel[l.InLabel] = append(v.byLabel[l.InLabel], l)
			v.configLabels[l.InLabel] = true
		}
	}
	for _, l := range c.APILSPs() {
		if !v.configLabels[l.InLabel] { // the configuration's entry wins
			v.byLabel[l.InLabel] = append(v.byLabel[l.InLabel], l)
			v.apiLabels[l.InLabel] = true
		}
	}
	lf.WalkTunnels(func(id uint32, e lfib.Entry) bool {
		v.tunnels = append(v.tunnels, id)
		v.tunnelEntries[id] = e
		return true
	})
	v.fecs = tunnelFECs(cfg, c.APIRoutes(), snap, v.byFEC, v.tunnelEntries, ports)
	return v
}

// labelEntry converts the entry of incoming label l.
func (v *lfibView) labelEntry(l lfib.Label, e lfib.Entry, snap *vrf.Snapshot) *LabelEntry {
	out := &LabelEntry{Label: uint32(l), Operation: e.Op.String()}
	switch {
	case e.Op == lfib.OpPopToVRF || v.configLabels[l]:
		out.Owner = Owner_OWNER_CONFIG
	case v.apiLabels[l]:
		out.Owner = Owner_OWNER_API
	}
	if e.Op == lfib.OpPopToVRF {
		out.Vrf = vrfName(snap, vrf.ID(e.VRF))
	}
	for _, p := range e.Paths {
		out.Paths = append(out.Paths, v.path(p, v.byLabel[l], func(x control.LSP) []lfib.Label {
			if x.Pop {
				return nil
			}
			return x.Swap
		}))
	}
	return out
}

// vrfName is the name of VRF id, or "vrfN" for one the snapshot does not have.
func vrfName(snap *vrf.Snapshot, id vrf.ID) string {
	if v, ok := snap.VRF(id); ok {
		return v.Name
	}
	return "vrf" + strconv.Itoa(int(id))
}

// fec is the FEC of tunnel id, "" if unknown.
func (v *lfibView) fec(id uint32) string {
	if fec, ok := v.fecs[id]; ok {
		return fec.String()
	}
	return ""
}

// tunnelPath converts a path of tunnel id.
func (v *lfibView) tunnelPath(id uint32, p lfib.Path) *Path {
	var lsps []control.LSP
	if fec, ok := v.fecs[id]; ok {
		lsps = v.byFEC[fec]
	}
	return v.path(p, lsps, func(x control.LSP) []lfib.Label { return x.Push })
}

// path converts p; its address (via) is that of the LSP among lsps with p's interface
// and outgoing labels (want).
func (v *lfibView) path(p lfib.Path, lsps []control.LSP, want func(control.LSP) []lfib.Label) *Path {
	out := &Path{
		Interface: portName(v.ports, p.Port),
		Port:      uint32(p.Port),
		Vlan:      uint32(p.VLAN),
		Mac:       p.Dst.String(),
	}
	for _, l := range p.Out() {
		out.Labels = append(out.Labels, uint32(l))
	}
	for _, l := range lsps {
		if l.Interface == out.Interface && slices.Equal(want(l), p.Out()) {
			out.Via = addrString(l.Via)
			break
		}
	}
	return out
}

// tunnelFECs finds the FEC of each tunnel: the Controller keeps the mapping to itself.
// A remote route installed with tunnel T leads to the longest configured FEC covering
// its remote PE, as the Controller resolves it; a tunnel no route uses gets the one FEC
// whose LSPs have exactly its paths (outgoing interface and labels), if only one has.
func tunnelFECs(cfg *control.Config, api []control.RouteWithVRF, snap *vrf.Snapshot, byFEC map[netip.Prefix][]control.LSP,
	tunnels map[uint32]lfib.Entry, ports *[dataplane.MaxPorts]dataplane.Port) map[uint32]netip.Prefix {
	out := map[uint32]netip.Prefix{}
	taken := map[netip.Prefix]bool{}
	learn := func(vname string, r control.Route) {
		if !r.Remote() {
			return
		}
		v, ok := snap.VRFByName(vname)
		if !ok {
			return
		}
		nh, ok := snap.Route(v.ID, r.Prefix)
		if !ok || !nh.Remote() || nh.VPNLabel != r.VPNLabel {
			return
		}
		if _, ok := out[nh.Tunnel]; ok {
			return
		}
		var best netip.Prefix
		for fec := range byFEC {
			if fec.Contains(r.RemotePE) && (!best.IsValid() || fec.Bits() > best.Bits()) {
				best = fec
			}
		}
		if best.IsValid() {
			out[nh.Tunnel] = best
			taken[best] = true
		}
	}
	for _, v := range cfg.VRFs {
		for _, r := range v.Routes {
			learn(v.Name, r)
		}
	}
	for _, r := range api {
		learn(r.VRF, r.Route)
	}
	for id, e := range tunnels {
		if _, ok := out[id]; ok {
			continue
		}
		var match []netip.Prefix
		for fec, lsps := range byFEC {
			if !taken[fec] && pathsMatch(e.Paths, lsps, ports) {
				match = append(match, fec)
			}
		}
		if len(match) == 1 {
			out[id] = match[0]
		}
	}
	return out
}

func pathsMatch(paths []lfib.Path, lsps []control.LSP, ports *[dataplane.MaxPorts]dataplane.Port) bool {
	if len(paths) != len(lsps) {
		return false
	}
	for _, p := range paths {
		if !slices.ContainsFunc(lsps, func(l control.LSP) bool {
			return l.Interface == portName(ports, p.Port) && slices.Equal(l.Push, p.Out())
		}) {
			return false
		}
	}
	return true
}

func (s *server) ListInterfaces(context.Context, *ListInterfacesRequest) (*ListInterfacesResponse, error) {
	r := s.ctl().Router()
	cfg := r.Config()
	snap := r.VRFs.Load()
	bindings := map[uint16][]*Binding{}
	for _, b := range snap.Bindings() {
		out := &Binding{Vlan: uint32(b.VLAN)}
		if v, ok := snap.VRF(b.VRF); ok {
			out.Vrf = v.Name
		}
		for _, p := range b.Peers {
			out.Peers = append(out.Peers, p.String())
		}
		bindings[b.Port] = append(bindings[b.Port], out)
	}
	resp := &ListInterfacesResponse{}
	stats, err := s.b.Stats()
	if err != nil {
		resp.StatsError = err.Error()
	}
	for id := range cfg.Ports {
		p := &cfg.Ports[id]
		if p.Name == "" {
			continue
		}
		out := &Interface{
			Name:     p.Name,
			Port:     uint32(id),
			Role:     p.Role.String(),
			Ifindex:  p.Ifindex,
			Mtu:      uint32(p.MTU),
			Mac:      p.MAC.String(),
			Bindings: bindings[uint16(id)],
		}
		if stats != nil {
			st := &stats.Ports[id]
			out.RxPackets, out.RxBytes = st.RxPackets, st.RxBytes
			out.TxPackets, out.TxBytes = st.TxPackets, st.TxBytes
			out.KernelPackets = st.Kernel
			for _, n := range st.Drops {
				out.Drops += n
			}
		}
		resp.Interfaces = append(resp.Interfaces, out)
	}
	return resp, nil
}

func (s *server) Drops(context.Context, *DropsRequest) (*DropsResponse, error) {
	stats, err := s.b.Stats()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "no counters: %v", err)
	}
	ports := &s.ctl().Router().Config().Ports
	resp := &DropsResponse{}
	for id := range stats.Ports {
		for reason, n := range stats.Ports[id].Drops {
			if n == 0 {
				continue
			}
			name := ports[id].Name
			resp.Drops = append(resp.Drops, &Drop{
				Interface: name,
				Port:      uint32(id),
				Reason:    dataplane.Reason(reason).String(),
				Packets:   n,
			})
		}
	}
	return resp, nil
}

func (s *server) Unresolved(context.Context, *UnresolvedRequest) (*UnresolvedResponse, error) {
	return &UnresolvedResponse{Items: s.ctl().Unresolved()}, nil
}

func (s *server) Watch(_ *WatchRequest, stream grpc.ServerStreamingServer[Event]) error {
	events, stop := s.ctl().Subscribe(watchBuffer)
	defer stop()
	// The header tells the client that it is subscribed.
	if err := stream.SendHeader(nil); err != nil {
		return err
	}
	var last uint64
	for {
		select {
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			out := &Event{Generation: ev.Generation, Owner: ownerToProto(ev.Owner), Took: durationpb.New(ev.Took)}
			if last != 0 && ev.Generation > last+1 {
				out.Missed = ev.Generation - last - 1
			}
			last = ev.Generation
			if err := stream.Send(out); err != nil {
				return err
			}
		}
	}
}

func ownerToProto(o control.Owner) Owner {
	switch o {
	case control.OwnerConfig:
		return Owner_OWNER_CONFIG
	case control.OwnerAPI:
		return Owner_OWNER_API
	}
	return Owner_OWNER_UNSPECIFIED
}

// Name is the owner as mplsctl prints it: "config", "api" or "-".
func (o Owner) Name() string {
	switch o {
	case Owner_OWNER_CONFIG:
		return string(control.OwnerConfig)
	case Owner_OWNER_API:
		return string(control.OwnerAPI)
	}
	return "-"
}

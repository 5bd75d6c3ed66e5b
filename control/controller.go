// SPDX-License-Identifier: Apache-2.0

package control

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Resolver finds what the configuration leaves to the kernel: an interface's index,
// MAC and MTU, and a next hop's MAC from the neighbour table.
type Resolver interface {
	Link(name string) (ifindex int, mac net.HardwareAddr, mtu int, err error)
	Neighbor(ifname string, ip netip.Addr) (net.HardwareAddr, error)
}

// Owner says who installed an entry, so that one source never removes another's: a
// configuration reload keeps what the API added.
type Owner string

const (
	OwnerConfig Owner = "config"
	OwnerAPI    Owner = "api"
)

// RouteKey names a VRF route.
type RouteKey struct {
	VRF    string
	Prefix netip.Prefix
}

// Controller turns desired state (the configuration, and routes from the API) into
// the forwarding tables: lfib, vrf and the dataplane configuration of its Router.
//
// Thread contract: every method may be called from any goroutine; changes run one at a
// time (mu). The tables it writes are read lock-free by the engines.
type Controller struct {
	mu     sync.Mutex // serialises every change; guards the fields below
	res    Resolver
	router *dataplane.Router
	alloc  *lfib.Allocator

	cfg       *Config
	ports     map[string]uint16 // interface name -> port number, stable across reloads
	vrfLabels map[string]lfib.Label
	tunnels   map[netip.Prefix]uint32 // FEC -> tunnel id, stable across reloads
	apiRoutes map[RouteKey]Route
	apiLSPs   map[lfib.Label]LSP // incoming-label entries the API installed
	// Unresolved lists what could not be installed at the last change (a next hop
	// without a MAC in the neighbour table, an interface that does not exist).
	unresolved []string

	lastUpdate time.Duration
	gen        uint64
	subs       map[chan Event]struct{}
}

// Event tells subscribers that the tables changed.
type Event struct {
	Generation uint64 // counts changes since start
	Owner      Owner  // who made the change
	Took       time.Duration
}

// Subscribe returns a channel that receives an Event after every change that reached
// the tables, and a function to stop. A subscriber that falls behind by more than buf
// events misses some (it can list the tables again); changes never wait for it.
func (c *Controller) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, max(buf, 1))
	c.mu.Lock()
	if c.subs == nil {
		c.subs = make(map[chan Event]struct{})
	}
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		if _, ok := c.subs[ch]; ok {
			delete(c.subs, ch)
			close(ch)
		}
		c.mu.Unlock()
	}
}

// notify is called with mu held.
func (c *Controller) notify(o Owner) {
	c.gen++
	ev := Event{Generation: c.gen, Owner: o, Took: c.lastUpdate}
	for ch := range c.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// New returns a controller with empty tables.
func New(res Resolver) *Controller {
	return &Controller{
		res:       res,
		router:    dataplane.NewRouter(lfib.New(), vrf.New(), nil),
		alloc:     lfib.NewAllocator(),
		ports:     make(map[string]uint16),
		vrfLabels: make(map[string]lfib.Label),
		tunnels:   make(map[netip.Prefix]uint32),
		apiRoutes: make(map[RouteKey]Route),
		apiLSPs:   make(map[lfib.Label]LSP),
	}
}

// Router is the state the engines forward with.
func (c *Controller) Router() *dataplane.Router { return c.router }

// Config is the configuration in force (nil before the first Apply).
func (c *Controller) Config() *Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// Unresolved lists what the last change could not install, and why.
func (c *Controller) Unresolved() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.unresolved)
}

// LastUpdate is how long the last change took to reach the tables.
func (c *Controller) LastUpdate() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastUpdate
}

// PortID returns the port number of an interface.
func (c *Controller) PortID(name string) (uint16, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ports[name]
	return id, ok
}

// Apply makes cfg the configuration: the tables change by the difference to the
// previous one, make-before-break, and entries the API installed stay. When cfg cannot
// be applied (a VRF over its route limit, say) the previous state stays and the error
// says why.
func (c *Controller) Apply(cfg *Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.reconcile(cfg, c.apiRoutes, c.apiLSPs); err != nil {
		return err
	}
	c.notify(OwnerConfig)
	return nil
}

// AddRoutes installs VRF routes for owner (OwnerAPI), all or none. A route the
// configuration also has keeps the configuration's next hop until the configuration
// drops it.
func (c *Controller) AddRoutes(routes []RouteWithVRF) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return errors.New("no configuration applied yet")
	}
	next := make(map[RouteKey]Route, len(c.apiRoutes)+len(routes))
	for k, r := range c.apiRoutes {
		next[k] = r
	}
	for _, r := range routes {
		if !r.Route.Prefix.IsValid() || r.Route.Prefix != r.Route.Prefix.Masked() {
			return fmt.Errorf("route %v: not a canonical prefix", r.Route.Prefix)
		}
		if !slices.ContainsFunc(c.cfg.VRFs, func(v VRF) bool { return v.Name == r.VRF }) {
			return fmt.Errorf("route %v: no VRF %q", r.Route.Prefix, r.VRF)
		}
		next[RouteKey{r.VRF, r.Route.Prefix}] = r.Route
	}
	if err := c.reconcile(c.cfg, next, c.apiLSPs); err != nil {
		return err
	}
	c.apiRoutes = next
	c.notify(OwnerAPI)
	return nil
}

// AddLSPs installs incoming-label entries (swap, swap-and-push or pop) for the API, all
// or none. A label the configuration uses (an LSP's in-label or a VRF's label) is
// refused.
func (c *Controller) AddLSPs(lsps []LSP) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return errors.New("no configuration applied yet")
	}
	next := make(map[lfib.Label]LSP, len(c.apiLSPs)+len(lsps))
	for k, l := range c.apiLSPs {
		next[k] = l
	}
	for _, l := range lsps {
		if err := checkAPILSP(l); err != nil {
			return err
		}
		if c.configUsesLabel(l.InLabel) {
			return fmt.Errorf("in-label %d: the configuration uses it", l.InLabel)
		}
		next[l.InLabel] = l
	}
	if err := c.reconcile(c.cfg, c.apiRoutes, next); err != nil {
		return err
	}
	c.apiLSPs = next
	c.notify(OwnerAPI)
	return nil
}

// DeleteLSPs removes incoming-label entries the API installed, all or none.
func (c *Controller) DeleteLSPs(labels []lfib.Label) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return errors.New("no configuration applied yet")
	}
	next := make(map[lfib.Label]LSP, len(c.apiLSPs))
	for k, l := range c.apiLSPs {
		next[k] = l
	}
	for _, l := range labels {
		if _, ok := next[l]; !ok {
			return fmt.Errorf("in-label %d: not installed by the API", l)
		}
		delete(next, l)
	}
	if err := c.reconcile(c.cfg, c.apiRoutes, next); err != nil {
		return err
	}
	c.apiLSPs = next
	c.notify(OwnerAPI)
	return nil
}

// APILSPs lists the incoming-label entries the API installed, by label.
func (c *Controller) APILSPs() []LSP {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]LSP, 0, len(c.apiLSPs))
	for _, l := range c.apiLSPs {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InLabel < out[j].InLabel })
	return out
}

func checkAPILSP(l LSP) error {
	if l.FEC.IsValid() || len(l.Push) > 0 {
		return fmt.Errorf("in-label %d: the API installs incoming-label entries (swap or pop), not FEC pushes", l.InLabel)
	}
	if l.InLabel < lfib.MinLabel || l.InLabel > lfib.MaxLabel {
		return fmt.Errorf("in-label %d: out of range %d..%d", l.InLabel, lfib.MinLabel, lfib.MaxLabel)
	}
	if l.Pop == (len(l.Swap) > 0) {
		return fmt.Errorf("in-label %d: want exactly one of swap labels and pop", l.InLabel)
	}
	if len(l.Swap) > lfib.MaxPush {
		return fmt.Errorf("in-label %d: %d swap labels, at most %d", l.InLabel, len(l.Swap), lfib.MaxPush)
	}
	for _, o := range l.Swap {
		if !o.Valid() || (o.Reserved() && o != lfib.LabelIPv4ExplicitNull && o != lfib.LabelIPv6ExplicitNull) {
			return fmt.Errorf("in-label %d: outgoing label %s not allowed", l.InLabel, o)
		}
	}
	if l.Interface == "" || (!l.Via.IsValid() && l.MAC == nil) {
		return fmt.Errorf("in-label %d: needs an interface and a next hop (via or mac)", l.InLabel)
	}
	return nil
}

// configUsesLabel: an in-label or VRF label of the configuration in force, or a label
// allocated to a VRF. Called with mu held.
func (c *Controller) configUsesLabel(l lfib.Label) bool {
	for _, x := range c.cfg.LSPs {
		if !x.FEC.IsValid() && x.InLabel == l {
			return true
		}
	}
	for _, v := range c.vrfLabels {
		if v == l {
			return true
		}
	}
	return false
}

// DeleteRoutes removes routes the API installed, all or none.
func (c *Controller) DeleteRoutes(keys []RouteKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return errors.New("no configuration applied yet")
	}
	next := make(map[RouteKey]Route, len(c.apiRoutes))
	for k, r := range c.apiRoutes {
		next[k] = r
	}
	for _, k := range keys {
		if _, ok := next[k]; !ok {
			return fmt.Errorf("route %s in VRF %q: not installed by the API", k.Prefix, k.VRF)
		}
		delete(next, k)
	}
	if err := c.reconcile(c.cfg, next, c.apiLSPs); err != nil {
		return err
	}
	c.apiRoutes = next
	c.notify(OwnerAPI)
	return nil
}

// RouteWithVRF is a route and the VRF it goes into.
type RouteWithVRF struct {
	VRF   string
	Route Route
}

// APIRoutes lists the routes the API installed.
func (c *Controller) APIRoutes() []RouteWithVRF {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]RouteWithVRF, 0, len(c.apiRoutes))
	for k, r := range c.apiRoutes {
		out = append(out, RouteWithVRF{k.VRF, r})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].VRF != out[j].VRF {
			return out[i].VRF < out[j].VRF
		}
		return out[i].Route.Prefix.String() < out[j].Route.Prefix.String()
	})
	return out
}

// desired is the complete content the tables must have.
type desired struct {
	cfg       dataplane.Config
	labels    map[lfib.Label]lfib.Entry
	tunnels   map[uint32]lfib.Entry
	vrfs      []vrf.Config
	vrfLabels map[string]lfib.Label // per-VRF VPN label (pop-to-VRF), by VRF name
	allocated []lfib.Label          // labels allocated for this change, freed if it fails
	bindings  []binding
	routes    map[string]map[netip.Prefix]vrf.NextHop // by VRF name
}

// binding is a vrf.Binding with the VRF by name (ids are the vrf table's).
type binding struct {
	port, vlan uint16
	vrf        string
	peers      []netip.Addr
}

// reconcile computes what cfg and apiRoutes want and applies the difference. Called
// with mu held. Nothing changes when it fails before the tables are touched; a failure
// while applying (which validation should make impossible) leaves the tables
// consistent but mixed, and the next change repairs them.
func (c *Controller) reconcile(cfg *Config, apiRoutes map[RouteKey]Route, apiLSPs map[lfib.Label]LSP) error {
	start := time.Now()
	d, unresolved, err := c.want(cfg, apiRoutes, apiLSPs)
	if err != nil {
		return err
	}
	if err := c.commit(d); err != nil {
		for _, l := range d.allocated {
			c.alloc.Free(l) //nolint:errcheck // allocated just now
		}
		return err
	}
	c.cfg = cfg
	c.unresolved = unresolved
	c.lastUpdate = time.Since(start)
	return nil
}

// want builds the desired tables. Port numbers, VRF labels and tunnel ids are assigned
// here and kept for names that stay.
func (c *Controller) want(cfg *Config, apiRoutes map[RouteKey]Route, apiLSPs map[lfib.Label]LSP) (*desired, []string, error) {
	d := &desired{
		cfg:     dataplane.Config{TTLMode: cfg.TTLMode, PuntTTLExpired: cfg.PuntTTLExpired},
		labels:  make(map[lfib.Label]lfib.Entry),
		tunnels: make(map[uint32]lfib.Entry),
		routes:  make(map[string]map[netip.Prefix]vrf.NextHop),
	}
	var unresolved []string
	note := func(format string, a ...any) { unresolved = append(unresolved, fmt.Sprintf(format, a...)) }

	// Ports. Numbers stay with names; a vanished interface frees its number.
	used := make(map[uint16]bool)
	keep := make(map[string]uint16)
	for _, ifc := range cfg.Interfaces {
		if id, ok := c.ports[ifc.Name]; ok {
			keep[ifc.Name] = id
			used[id] = true
		}
	}
	next := uint16(0)
	for _, ifc := range cfg.Interfaces {
		if _, ok := keep[ifc.Name]; ok {
			continue
		}
		for used[next] {
			next++
		}
		if int(next) >= dataplane.MaxPorts {
			return nil, nil, fmt.Errorf("more than %d interfaces", dataplane.MaxPorts)
		}
		keep[ifc.Name] = next
		used[next] = true
	}
	ifcs := make(map[string]Interface)
	for _, ifc := range cfg.Interfaces {
		id := keep[ifc.Name]
		ifcs[ifc.Name] = ifc
		p := dataplane.Port{Name: ifc.Name, Role: ifc.Role, MTU: uint16(ifc.MTU)}
		ifindex, mac, mtu, err := c.res.Link(ifc.Name)
		if err != nil {
			note("interface %s: %v", ifc.Name, err)
		} else {
			p.Ifindex, p.MAC = uint32(ifindex), lfib.MAC(mac)
			if p.MTU == 0 {
				p.MTU = uint16(min(mtu, 65535))
			}
		}
		if p.MTU == 0 {
			p.MTU = 1500
		}
		d.cfg.Ports[id] = p
	}

	// Infrastructure ACL.
	infra := []netip.Prefix{}
	if cfg.RouterID.IsValid() {
		infra = append(infra, netip.PrefixFrom(cfg.RouterID, cfg.RouterID.BitLen()))
	}
	for _, a := range cfg.RouterAddrs {
		infra = append(infra, netip.PrefixFrom(a, a.BitLen()))
	}
	infra = append(infra, cfg.CorePrefixes...)
	var err error
	if d.cfg.Infra, err = dataplane.NewInfra(infra); err != nil {
		return nil, nil, err
	}

	// Next hops.
	adj := func(ifname string, via netip.Addr, mac net.HardwareAddr, vlan uint16) (lfib.NextHop, bool) {
		id, ok := keep[ifname]
		if !ok {
			note("next hop %s: no interface %s", via, ifname)
			return lfib.NextHop{}, false
		}
		if mac == nil {
			if mac, err = c.res.Neighbor(ifname, via); err != nil {
				note("next hop %s on %s: %v", via, ifname, err)
				return lfib.NextHop{}, false
			}
		}
		return lfib.NextHop{Port: id, VLAN: vlan, Dst: lfib.MAC(mac)}, true
	}

	// LSPs: tunnels for FECs (ids stay with FECs), label entries for the rest.
	tunnelIDs := make(map[netip.Prefix]uint32)
	usedT := make(map[uint32]bool)
	for _, l := range cfg.LSPs {
		if l.FEC.IsValid() {
			if id, ok := c.tunnels[l.FEC]; ok {
				tunnelIDs[l.FEC] = id
				usedT[id] = true
			}
		}
	}
	nextT := uint32(1)
	for _, l := range cfg.LSPs {
		if !l.FEC.IsValid() {
			continue
		}
		if _, ok := tunnelIDs[l.FEC]; !ok {
			for usedT[nextT] {
				nextT++
			}
			tunnelIDs[l.FEC] = nextT
			usedT[nextT] = true
		}
	}
	lsps := cfg.LSPs
	for label, l := range apiLSPs {
		if slices.ContainsFunc(cfg.LSPs, func(x LSP) bool { return !x.FEC.IsValid() && x.InLabel == label }) {
			note("api in-label %d: the configuration now uses it", label)
			continue
		}
		lsps = append(slices.Clip(lsps), l)
	}
	for _, l := range lsps {
		nh, ok := adj(l.Interface, l.Via, l.MAC, 0)
		if !ok {
			continue
		}
		switch {
		case l.FEC.IsValid():
			p, err := lfib.NewPath(nh, l.Push...)
			if err != nil {
				return nil, nil, fmt.Errorf("lsp fec %s: %w", l.FEC, err)
			}
			id := tunnelIDs[l.FEC]
			e := d.tunnels[id]
			e.Op = lfib.OpPush
			e.Paths = append(e.Paths, p) // several LSPs to one FEC: ECMP
			d.tunnels[id] = e
		case l.Pop:
			e := d.labels[l.InLabel]
			e.Op = lfib.OpPop
			e.Paths = append(e.Paths, lfib.Path{NextHop: nh})
			d.labels[l.InLabel] = e
		default:
			p, err := lfib.NewPath(nh, l.Swap...)
			if err != nil {
				return nil, nil, fmt.Errorf("lsp in-label %d: %w", l.InLabel, err)
			}
			e := d.labels[l.InLabel]
			e.Op = lfib.OpSwap
			e.Paths = append(e.Paths, p)
			d.labels[l.InLabel] = e
		}
	}

	// VRFs: ids stay with names (the vrf table assigns them); VPN labels are the
	// configured ones, or the one allocated before, or a new one.
	d.vrfLabels = make(map[string]lfib.Label)
	for _, v := range cfg.VRFs {
		d.vrfs = append(d.vrfs, vrf.Config{Name: v.Name, RD: v.RD, Import: v.Import, Export: v.Export, MaxRoutes: v.MaxRoutes})
		d.routes[v.Name] = make(map[netip.Prefix]vrf.NextHop)
		l := v.Label
		if l == 0 {
			if old, ok := c.vrfLabels[v.Name]; ok && old.Dynamic() {
				l = old
			} else {
				if l, err = c.alloc.Alloc(); err != nil {
					return nil, nil, fmt.Errorf("vrf %s: %w", v.Name, err)
				}
				d.allocated = append(d.allocated, l)
			}
		}
		d.vrfLabels[v.Name] = l
	}
	d.routes[vrf.GlobalName] = make(map[netip.Prefix]vrf.NextHop)
	for _, ifc := range cfg.Interfaces {
		if ifc.Role != dataplane.RoleCE {
			continue
		}
		id := keep[ifc.Name]
		if ifc.VRF != "" {
			d.bindings = append(d.bindings, binding{port: id, vrf: ifc.VRF, peers: ifc.Peers})
		}
		for vlan, name := range ifc.VLANs {
			d.bindings = append(d.bindings, binding{port: id, vlan: vlan, vrf: name, peers: ifc.Peers})
		}
	}
	// resolveRoute turns a route into a next hop.
	resolveRoute := func(vname string, r Route) (vrf.NextHop, bool) {
		if r.Remote() {
			fec, ok := longestFEC(tunnelIDs, r.RemotePE)
			if !ok {
				note("vrf %s route %s: no LSP reaches remote PE %s", vname, r.Prefix, r.RemotePE)
				return vrf.NextHop{}, false
			}
			if _, ok := d.tunnels[tunnelIDs[fec]]; !ok {
				note("vrf %s route %s: the LSP to %s is not resolved", vname, r.Prefix, fec)
				return vrf.NextHop{}, false
			}
			return vrf.NextHop{Tunnel: tunnelIDs[fec], VPNLabel: r.VPNLabel}, true
		}
		nh, ok := adj(r.Interface, r.Via, r.MAC, r.VLAN)
		return vrf.NextHop{Local: nh}, ok
	}
	for _, v := range cfg.VRFs {
		for _, r := range v.Routes {
			if nh, ok := resolveRoute(v.Name, r); ok {
				d.routes[v.Name][r.Prefix] = nh
			}
		}
	}
	for k, r := range apiRoutes {
		rs, ok := d.routes[k.VRF]
		if !ok {
			note("api route %s: VRF %s no longer configured", k.Prefix, k.VRF)
			continue
		}
		if _, dup := rs[k.Prefix]; dup {
			continue // the configuration's route wins while it has one
		}
		if nh, ok := resolveRoute(k.VRF, r); ok {
			rs[k.Prefix] = nh
		}
	}
	return d, unresolved, nil
}

// longestFEC is the longest FEC covering a.
func longestFEC(fecs map[netip.Prefix]uint32, a netip.Addr) (netip.Prefix, bool) {
	var best netip.Prefix
	found := false
	for p := range fecs {
		if p.Contains(a) && (!found || p.Bits() > best.Bits()) {
			best, found = p, true
		}
	}
	return best, found
}

// commit writes d into the tables, make-before-break: new VRFs (so that their ids
// exist), new and changed label entries and tunnels, then bindings and routes (one
// atomic vrf update), the dataplane configuration, the removal of label entries and
// tunnels nothing points at any more, and last the removal of VRFs.
func (c *Controller) commit(d *desired) error {
	lf := c.router.LFIB

	var makeB, breakB lfib.Batch
	curLabels := map[lfib.Label]lfib.Entry{}
	lf.Walk(func(l lfib.Label, e lfib.Entry) bool { curLabels[l] = e; return true })
	curTunnels := map[uint32]lfib.Entry{}
	lf.WalkTunnels(func(id uint32, e lfib.Entry) bool { curTunnels[id] = e; return true })

	// The VRF ids are needed in pop-to-VRF entries: add the VRFs first (empty of
	// routes if new), so that ids exist before labels point at them.
	snap := c.router.VRFs.Load()
	err := c.router.VRFs.Update(func(tx *vrf.Txn) error {
		for _, v := range d.vrfs {
			if _, ok := snap.VRFByName(v.Name); ok {
				if err := tx.SetVRF(v); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.AddVRF(v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	snap = c.router.VRFs.Load()
	for name, l := range d.vrfLabels {
		v, _ := snap.VRFByName(name)
		d.labels[l] = lfib.Entry{Op: lfib.OpPopToVRF, VRF: uint32(v.ID)}
	}

	for l, e := range d.labels {
		if old, ok := curLabels[l]; !ok || !entryEqual(old, e) {
			makeB.SetLabel(l, e)
		}
	}
	for id, e := range d.tunnels {
		if old, ok := curTunnels[id]; !ok || !entryEqual(old, e) {
			makeB.SetTunnel(id, e)
		}
	}
	for l := range curLabels {
		if _, ok := d.labels[l]; !ok {
			breakB.DeleteLabel(l)
		}
	}
	for id := range curTunnels {
		if _, ok := d.tunnels[id]; !ok {
			breakB.DeleteTunnel(id)
		}
	}
	if err := lf.Commit(&makeB); err != nil {
		return fmt.Errorf("label table: %w", err)
	}

	// Routes and bindings, one atomic update.
	err = c.router.VRFs.Update(func(tx *vrf.Txn) error {
		s := tx.Snapshot()
		for _, b := range s.Bindings() {
			if err := tx.Unbind(b.Port, b.VLAN); err != nil {
				return err
			}
		}
		for _, b := range d.bindings {
			v, ok := s.VRFByName(b.vrf)
			if !ok {
				return fmt.Errorf("binding of port %d VLAN %d: no VRF %q", b.port, b.vlan, b.vrf)
			}
			if err := tx.Bind(vrf.Binding{Port: b.port, VLAN: b.vlan, VRF: v.ID, Peers: b.peers}); err != nil {
				return err
			}
		}
		for _, v := range s.VRFs() {
			want, keepVRF := d.routes[v.Name]
			if v.ID == vrf.Global {
				want, keepVRF = d.routes[vrf.GlobalName], true
			}
			for p := range s.Routes(v.ID) {
				if _, ok := want[p]; !ok {
					if err := tx.DeleteRoute(v.ID, p); err != nil {
						return err
					}
				}
			}
			if !keepVRF {
				continue // deleted after the labels that point at it
			}
			for p, nh := range want {
				if old, ok := s.Route(v.ID, p); ok && old == nh {
					continue
				}
				if err := tx.AddRoute(v.ID, p, nh); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		// Undo the labels this change added but nothing will use.
		return err
	}
	cfgCopy := d.cfg
	c.router.SetConfig(&cfgCopy)
	if breakB.Len() > 0 {
		if err := lf.Commit(&breakB); err != nil {
			return fmt.Errorf("label table: %w", err)
		}
	}
	// VRFs go last: a pop-to-VRF label must never outlive its VRF, or a new VRF could
	// take the freed id while the old label still points at it.
	err = c.router.VRFs.Update(func(tx *vrf.Txn) error {
		for _, v := range tx.Snapshot().VRFs() {
			if _, ok := d.routes[v.Name]; !ok && v.ID != vrf.Global {
				if err := tx.DeleteVRF(v.Name); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ports = map[string]uint16{}
	for id, p := range d.cfg.Ports {
		if p.Name != "" {
			c.ports[p.Name] = uint16(id)
		}
	}
	// Labels allocated earlier for VRFs that are gone or now have a configured label.
	for name, l := range c.vrfLabels {
		if d.vrfLabels[name] != l && l.Dynamic() {
			c.alloc.Free(l) //nolint:errcheck // ours
		}
	}
	c.vrfLabels = d.vrfLabels
	return nil
}

func entryEqual(a, b lfib.Entry) bool {
	return a.Op == b.Op && a.VRF == b.VRF && slices.Equal(a.Paths, b.Paths)
}

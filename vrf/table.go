// SPDX-License-Identifier: Apache-2.0

package vrf

import (
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gaissmai/bart"

	"github.com/mplsdp/mplsdp/lfib"
)

// ID is a VRF's number: dense and small, 0..MaxVRFs-1. It is what an LFIB pop-to-vrf
// entry carries and what indexes the per-VRF tables.
type ID uint32

// Global is the global (default) table: always present, named "global", not deletable.
const Global ID = 0

// Limits.
const (
	MaxVRFs  = 4096 // VRF ids are 0..MaxVRFs-1
	MaxPorts = 256  // dataplane port numbers are 0..MaxPorts-1
	MaxPeers = 4    // CE neighbour addresses of one binding
	MaxVLAN  = 4094 // largest 802.1Q VLAN id of a binding; 0 is untagged
)

// GlobalName is the name of the global table.
const GlobalName = "global"

// vlanSlots is the size of a port's VLAN array: every 12-bit VLAN id has a slot.
const vlanSlots = 4096

// ErrRouteLimit is wrapped by the error AddRoute returns when a VRF is at its max-routes.
var ErrRouteLimit = errors.New("route limit reached")

// NextHop is where a route sends a packet: a CE on this router (Tunnel == 0, Local is
// the adjacency) or a remote PE (Tunnel is the transport tunnel, an LFIB push entry, and
// VPNLabel goes under the tunnel's labels with S=1). It is a value type without pointers.
type NextHop struct {
	Local    lfib.NextHop // a CE on this router: valid when Tunnel == 0
	Tunnel   uint32       // a remote PE: id of the transport tunnel (an LFIB push entry); 0 = local
	VPNLabel lfib.Label   // a remote PE: the VPN label, pushed with S=1 under the tunnel's labels
}

// Remote reports whether n leads to a remote PE through a tunnel.
func (n NextHop) Remote() bool { return n.Tunnel != 0 }

func (n NextHop) String() string {
	if n.Remote() {
		return "tunnel " + strconv.FormatUint(uint64(n.Tunnel), 10) + " label " + n.VPNLabel.String()
	}
	s := "port " + strconv.FormatUint(uint64(n.Local.Port), 10)
	if n.Local.VLAN != 0 {
		s += " vlan " + strconv.FormatUint(uint64(n.Local.VLAN), 10)
	}
	return s + " dst " + n.Local.Dst.String()
}

// validate checks n as a route's next hop.
func (n NextHop) validate() error {
	if n.Remote() {
		if n.VPNLabel.Reserved() || !n.VPNLabel.Valid() {
			return fmt.Errorf("next hop %s: VPN label must be in %d..%d", n, lfib.MinLabel, lfib.MaxLabel)
		}
		return nil
	}
	if n.VPNLabel != 0 {
		return fmt.Errorf("next hop %s: a local next hop (tunnel 0) takes no VPN label", n)
	}
	if n.Local.Port >= MaxPorts {
		return fmt.Errorf("next hop %s: port %d out of range 0..%d", n, n.Local.Port, MaxPorts-1)
	}
	if n.Local.VLAN > MaxVLAN {
		return fmt.Errorf("next hop %s: VLAN %d out of range 0..%d", n, n.Local.VLAN, MaxVLAN)
	}
	return nil
}

// Config describes a VRF.
type Config struct {
	Name      string
	ID        ID // 0 in AddVRF means "allocate the lowest free id"; otherwise it must be free
	RD        RD
	Import    []RT
	Export    []RT
	MaxRoutes int // 0 = unlimited; counts IPv4 and IPv6 routes together
}

func (c Config) clone() Config {
	c.Import = slices.Clone(c.Import)
	c.Export = slices.Clone(c.Export)
	return c
}

// Binding attaches a (port, VLAN) to a VRF: frames arriving there are routed in that VRF.
type Binding struct {
	Port  uint16
	VLAN  uint16 // 0 untagged, else 1..MaxVLAN
	VRF   ID
	Peers []netip.Addr // CE neighbour addresses (the infrastructure ACL lets their BGP in); at most MaxPeers
}

// binding is a Binding as the snapshot holds it: fixed size, immutable once published.
type binding struct {
	vrf    ID
	port   uint16
	vlan   uint16
	npeers uint8
	peers  [MaxPeers]netip.Addr
}

func (b *binding) export() Binding {
	return Binding{Port: b.port, VLAN: b.vlan, VRF: b.vrf, Peers: slices.Clone(b.peers[:b.npeers])}
}

// port holds the bindings of one dataplane port.
type port struct {
	untagged *binding
	vlans    *[vlanSlots]*binding // nil until the port has a VLAN binding
	nvlans   int                  // non-nil entries of vlans
}

// lpm is the longest-prefix table of one VRF (IPv4 and IPv6). bart.Fast is chosen over
// bart.Table for its lookup speed; see the package documentation for the numbers.
type lpm = bart.Fast[NextHop]

// vrfState is one VRF in a snapshot. Immutable once published.
type vrfState struct {
	cfg Config
	rt  *lpm // never nil
}

// Snapshot is the complete VRF state at one instant. It is immutable once published:
// any number of goroutines may call its methods concurrently, without locks. The lookup
// methods (ByBinding, IsPeer, Lookup4, Lookup6) do not allocate.
type Snapshot struct {
	vrfs  []*vrfState // by ID; nil = free
	names map[string]ID
	ports [MaxPorts]port
}

// Table is the VRF registry.
//
// Thread contract: any number of readers call Load, once per batch of packets, and read
// the returned Snapshot without locks or allocations. Writers call Update, from any
// goroutine; the Table runs them one at a time (mu), each building a new Snapshot that
// is published with one atomic pointer store. Refused may be called from anywhere.
type Table struct {
	mu      sync.Mutex // serialises Update; held for the whole of fn
	cur     atomic.Pointer[Snapshot]
	refused [MaxVRFs]atomic.Uint64 // routes refused by max-routes, by VRF id
}

// New returns a Table holding only the global VRF.
func New() *Table {
	t := new(Table)
	t.cur.Store(&Snapshot{
		vrfs:  []*vrfState{{cfg: Config{Name: GlobalName, ID: Global}, rt: new(lpm)}},
		names: map[string]ID{GlobalName: Global},
	})
	return t
}

// Load returns the current snapshot: one atomic load.
func (t *Table) Load() *Snapshot { return t.cur.Load() }

// Refused returns how many routes max-routes has refused for VRF id since it was created.
// A refused route is counted even when the Update that tried it is rolled back.
func (t *Table) Refused(id ID) uint64 {
	if id >= MaxVRFs {
		return 0
	}
	return t.refused[id].Load()
}

// Update runs fn on a transaction and then publishes all of its changes at once, with
// one atomic pointer store. When fn returns an error, or any operation of the
// transaction failed (even if fn went on and returned nil), nothing is published, the
// state stays as it was, and Update returns fn's error or else the first failure.
// Updates from several goroutines run one at a time. The Txn must not be used after fn
// returns, nor by another goroutine.
func (t *Table) Update(fn func(tx *Txn) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.cur.Load()
	tx := &Txn{t: t, old: old, s: new(Snapshot)}
	*tx.s = *old
	defer func() { tx.done = true }()
	if err := fn(tx); err != nil {
		return err
	}
	if tx.err != nil {
		return tx.err
	}
	if !tx.dirty {
		return nil
	}
	for id := range tx.reset {
		t.refused[id].Store(tx.refusedNew[id])
	}
	t.cur.Store(tx.s)
	return nil
}

// Txn is one Update's transaction. It belongs to the goroutine running fn and is valid
// only until fn returns. Its operations change a private copy of the state; nothing is
// visible to readers until Update publishes it.
type Txn struct {
	t     *Table
	old   *Snapshot // the published state the transaction started from
	s     *Snapshot // the working state: private, shares unchanged parts with old
	err   error     // first failed operation
	done  bool
	dirty bool

	vrfsCopied  bool           // s.vrfs is private
	namesCopied bool           // s.names is private
	vlansCopied [MaxPorts]bool // s.ports[i].vlans is private
	routes      map[ID]*txnRoutes

	reset      map[ID]bool   // ids deleted in this transaction: their refused counters restart at commit
	refusedNew map[ID]uint64 // refusals for ids in reset, counted after the deletion
}

// txnRoutes is a VRF whose state the transaction has copied to change its routes.
type txnRoutes struct {
	st    *vrfState // private copy, also in s.vrfs
	owned bool      // st.rt was created or cloned in this transaction: change it in place
	ops   int       // copy-on-write changes made to st.rt while not owned
}

var errDone = errors.New("vrf: transaction used after its Update returned")

// fail records the first failed operation and returns err.
func (tx *Txn) fail(err error) error {
	if tx.err == nil {
		tx.err = err
	}
	return err
}

func (s *Snapshot) vrf(id ID) *vrfState {
	if uint64(id) < uint64(len(s.vrfs)) {
		return s.vrfs[id]
	}
	return nil
}

func (tx *Txn) setVRF(id ID, st *vrfState) {
	if !tx.vrfsCopied {
		n := max(len(tx.s.vrfs), int(id)+1)
		v := make([]*vrfState, n, max(n, 8))
		copy(v, tx.s.vrfs)
		tx.s.vrfs = v
		tx.vrfsCopied = true
	}
	for int(id) >= len(tx.s.vrfs) {
		tx.s.vrfs = append(tx.s.vrfs, nil)
	}
	tx.s.vrfs[id] = st
	if st == nil { // trim trailing free ids
		n := len(tx.s.vrfs)
		for n > 1 && tx.s.vrfs[n-1] == nil {
			n--
		}
		clear(tx.s.vrfs[n:])
		tx.s.vrfs = tx.s.vrfs[:n]
	}
	tx.dirty = true
}

func (tx *Txn) copyNames() {
	if !tx.namesCopied {
		m := make(map[string]ID, len(tx.s.names)+1)
		for k, v := range tx.s.names {
			m[k] = v
		}
		tx.s.names = m
		tx.namesCopied = true
	}
}

// AddVRF creates a VRF and returns its id. The name must be non-empty and unused; c.ID 0
// picks the lowest free id, any other id must be free and below MaxVRFs; MaxRoutes must
// not be negative. The VRF starts without routes or bindings.
func (tx *Txn) AddVRF(c Config) (ID, error) {
	if tx.done {
		return 0, errDone
	}
	switch {
	case c.Name == "":
		return 0, tx.fail(errors.New("add VRF: empty name"))
	case c.MaxRoutes < 0:
		return 0, tx.fail(fmt.Errorf("add VRF %q: max-routes %d is negative", c.Name, c.MaxRoutes))
	case c.ID >= MaxVRFs:
		return 0, tx.fail(fmt.Errorf("add VRF %q: id %d out of range 1..%d", c.Name, c.ID, MaxVRFs-1))
	}
	if id, ok := tx.s.names[c.Name]; ok {
		return 0, tx.fail(fmt.Errorf("add VRF %q: name already used by VRF id %d", c.Name, id))
	}
	if c.ID == Global {
		for c.ID = 1; c.ID < MaxVRFs && tx.s.vrf(c.ID) != nil; c.ID++ {
		}
		if c.ID == MaxVRFs {
			return 0, tx.fail(fmt.Errorf("add VRF %q: all %d VRF ids are in use", c.Name, MaxVRFs-1))
		}
	} else if other := tx.s.vrf(c.ID); other != nil {
		return 0, tx.fail(fmt.Errorf("add VRF %q: id %d already used by VRF %q", c.Name, c.ID, other.cfg.Name))
	}
	st := &vrfState{cfg: c.clone(), rt: new(lpm)}
	tx.setVRF(c.ID, st)
	tx.copyNames()
	tx.s.names[c.Name] = c.ID
	if tx.routes == nil {
		tx.routes = make(map[ID]*txnRoutes)
	}
	tx.routes[c.ID] = &txnRoutes{st: st, owned: true}
	return c.ID, nil
}

// SetVRF changes the RD, route targets and max-routes of the existing VRF named c.Name,
// keeping its routes and bindings. c.ID must be 0 or the VRF's id. Lowering max-routes
// below the current count keeps the routes there and refuses new ones.
func (tx *Txn) SetVRF(c Config) error {
	if tx.done {
		return errDone
	}
	id, ok := tx.s.names[c.Name]
	switch {
	case !ok:
		return tx.fail(fmt.Errorf("set VRF %q: no such VRF", c.Name))
	case c.ID != 0 && c.ID != id:
		return tx.fail(fmt.Errorf("set VRF %q: id %d given, but its id is %d (ids cannot change)", c.Name, c.ID, id))
	case c.MaxRoutes < 0:
		return tx.fail(fmt.Errorf("set VRF %q: max-routes %d is negative", c.Name, c.MaxRoutes))
	}
	m := tx.routesOf(id)
	c.ID = id
	m.st.cfg = c.clone()
	return nil
}

// DeleteVRF removes the VRF, its routes and its bindings. The global VRF cannot be
// deleted. The VRF's refused-route counter restarts from zero.
func (tx *Txn) DeleteVRF(name string) error {
	if tx.done {
		return errDone
	}
	id, ok := tx.s.names[name]
	switch {
	case !ok:
		return tx.fail(fmt.Errorf("delete VRF %q: no such VRF", name))
	case id == Global:
		return tx.fail(fmt.Errorf("delete VRF %q: the global table cannot be deleted", name))
	}
	tx.setVRF(id, nil)
	tx.copyNames()
	delete(tx.s.names, name)
	delete(tx.routes, id)
	if tx.reset == nil {
		tx.reset = make(map[ID]bool)
		tx.refusedNew = make(map[ID]uint64)
	}
	tx.reset[id] = true
	delete(tx.refusedNew, id)
	for i := range tx.s.ports {
		p := &tx.s.ports[i]
		if p.untagged != nil && p.untagged.vrf == id {
			p.untagged = nil
		}
		if p.vlans == nil {
			continue
		}
		for v, b := range p.vlans {
			if b != nil && b.vrf == id {
				tx.clearVLAN(uint16(i), uint16(v))
			}
		}
	}
	return nil
}

// copyVLANs makes port pn's VLAN array private to the transaction.
func (tx *Txn) copyVLANs(pn uint16) *port {
	p := &tx.s.ports[pn]
	if !tx.vlansCopied[pn] {
		a := new([vlanSlots]*binding)
		if p.vlans != nil {
			*a = *p.vlans
		}
		p.vlans = a
		tx.vlansCopied[pn] = true
	}
	return p
}

func (tx *Txn) clearVLAN(pn, vlan uint16) {
	p := tx.copyVLANs(pn)
	p.vlans[vlan] = nil
	p.nvlans--
	if p.nvlans == 0 {
		p.vlans = nil
		tx.vlansCopied[pn] = false
	}
	tx.dirty = true
}

// Bind attaches (b.Port, b.VLAN) to VRF b.VRF. The VRF must exist, the port be below
// MaxPorts, the VLAN at most MaxVLAN, and the (port, VLAN) not bound yet (Unbind first to
// move it). Peers must be valid addresses, at most MaxPeers; zones are dropped.
func (tx *Txn) Bind(b Binding) error {
	if tx.done {
		return errDone
	}
	where := fmt.Sprintf("bind port %d vlan %d to VRF id %d", b.Port, b.VLAN, b.VRF)
	st := tx.s.vrf(b.VRF)
	switch {
	case st == nil:
		return tx.fail(fmt.Errorf("%s: no such VRF", where))
	case b.Port >= MaxPorts:
		return tx.fail(fmt.Errorf("%s: port out of range 0..%d", where, MaxPorts-1))
	case b.VLAN > MaxVLAN:
		return tx.fail(fmt.Errorf("%s: VLAN out of range 0..%d", where, MaxVLAN))
	case len(b.Peers) > MaxPeers:
		return tx.fail(fmt.Errorf("%s: %d peers, at most %d", where, len(b.Peers), MaxPeers))
	}
	if cur := tx.s.binding(b.Port, b.VLAN); cur != nil {
		return tx.fail(fmt.Errorf("%s: already bound to VRF %q", where, tx.s.vrfs[cur.vrf].cfg.Name))
	}
	nb := &binding{vrf: b.VRF, port: b.Port, vlan: b.VLAN, npeers: uint8(len(b.Peers))}
	for i, a := range b.Peers {
		if !a.IsValid() {
			return tx.fail(fmt.Errorf("%s (VRF %q): peer %d is not a valid address", where, st.cfg.Name, i))
		}
		nb.peers[i] = a.WithZone("")
	}
	if b.VLAN == 0 {
		tx.s.ports[b.Port].untagged = nb
	} else {
		p := tx.copyVLANs(b.Port)
		p.vlans[b.VLAN] = nb
		p.nvlans++
	}
	tx.dirty = true
	return nil
}

// Unbind removes the binding of (port, vlan).
func (tx *Txn) Unbind(pn, vlan uint16) error {
	if tx.done {
		return errDone
	}
	if tx.s.binding(pn, vlan) == nil {
		return tx.fail(fmt.Errorf("unbind port %d vlan %d: not bound", pn, vlan))
	}
	if vlan == 0 {
		tx.s.ports[pn].untagged = nil
		tx.dirty = true
	} else {
		tx.clearVLAN(pn, vlan)
	}
	return nil
}

// routesOf returns the transaction's private copy of VRF id, making it if needed. The
// VRF must exist.
func (tx *Txn) routesOf(id ID) *txnRoutes {
	if m := tx.routes[id]; m != nil {
		return m
	}
	cp := *tx.s.vrfs[id]
	m := &txnRoutes{st: &cp}
	if tx.routes == nil {
		tx.routes = make(map[ID]*txnRoutes)
	}
	tx.routes[id] = m
	tx.setVRF(id, &cp)
	return m
}

// cloneAfter returns how many copy-on-write changes a transaction makes to a published
// table of size routes before it clones the table once and changes the clone in place.
// Measured with bart.Fast: a copy-on-write change copies one path of the trie (about
// 2 us with 1k routes, 7 us with 1M), a clone copies every node (about 55 ns per route
// with 1k, 125 ns with 1M), so they break even near size/50. Switching there (the
// ski-rental rule) costs at most about twice the better choice made in hindsight: a bulk
// load stays O(n), and a small change to a big table stays a few microseconds.
func cloneAfter(size int) int { return 16 + size/50 }

// write prepares m.st.rt for one change and reports whether to change it in place.
func (m *txnRoutes) write() (inPlace bool) {
	if !m.owned {
		m.ops++
		if m.ops <= cloneAfter(m.st.rt.Size()) {
			return false
		}
		m.st.rt = m.st.rt.Clone()
		m.owned = true
	}
	return true
}

func (tx *Txn) routeErr(id ID, op string, p netip.Prefix) string {
	if st := tx.s.vrf(id); st != nil {
		return fmt.Sprintf("%s route %s in VRF %q", op, p, st.cfg.Name)
	}
	return fmt.Sprintf("%s route %s in VRF id %d", op, p, id)
}

// AddRoute adds a route to VRF id, replacing one for the same prefix. p is masked first.
// When the VRF is at its max-routes and p is new, the route is refused: the error wraps
// ErrRouteLimit and the refusal is counted (see Table.Refused).
func (tx *Txn) AddRoute(id ID, p netip.Prefix, nh NextHop) error {
	if tx.done {
		return errDone
	}
	if !p.IsValid() {
		return tx.fail(fmt.Errorf("%s: invalid prefix", tx.routeErr(id, "add", p)))
	}
	p = p.Masked()
	if tx.s.vrf(id) == nil {
		return tx.fail(fmt.Errorf("%s: no such VRF", tx.routeErr(id, "add", p)))
	}
	if err := nh.validate(); err != nil {
		return tx.fail(fmt.Errorf("%s: %w", tx.routeErr(id, "add", p), err))
	}
	m := tx.routesOf(id)
	if lim := m.st.cfg.MaxRoutes; lim > 0 && m.st.rt.Size() >= lim {
		if _, exists := m.st.rt.Get(p); !exists {
			if tx.reset[id] {
				tx.refusedNew[id]++
			} else {
				tx.t.refused[id].Add(1)
			}
			return tx.fail(fmt.Errorf("%s: %w (max-routes %d)", tx.routeErr(id, "add", p), ErrRouteLimit, lim))
		}
	}
	if m.write() {
		m.st.rt.Insert(p, nh)
	} else {
		m.st.rt = m.st.rt.InsertPersist(p, nh)
	}
	return nil
}

// DeleteRoute removes the route for exactly p (masked) from VRF id.
func (tx *Txn) DeleteRoute(id ID, p netip.Prefix) error {
	if tx.done {
		return errDone
	}
	if !p.IsValid() {
		return tx.fail(fmt.Errorf("%s: invalid prefix", tx.routeErr(id, "delete", p)))
	}
	p = p.Masked()
	st := tx.s.vrf(id)
	if st == nil {
		return tx.fail(fmt.Errorf("%s: no such VRF", tx.routeErr(id, "delete", p)))
	}
	if _, ok := st.rt.Get(p); !ok {
		return tx.fail(fmt.Errorf("%s: no such route", tx.routeErr(id, "delete", p)))
	}
	m := tx.routesOf(id)
	if m.write() {
		m.st.rt.Delete(p)
	} else {
		m.st.rt = m.st.rt.DeletePersist(p)
	}
	return nil
}

// Snapshot returns the transaction's working state, for reading inside fn. It must not
// be kept after fn returns, as later operations of the transaction change it.
func (tx *Txn) Snapshot() *Snapshot { return tx.s }

func (s *Snapshot) binding(pn, vlan uint16) *binding {
	if pn >= MaxPorts {
		return nil
	}
	p := &s.ports[pn]
	if vlan == 0 {
		return p.untagged
	}
	if p.vlans == nil || vlan >= vlanSlots {
		return nil
	}
	return p.vlans[vlan]
}

// ByBinding returns the VRF bound to (port, vlan); vlan 0 is untagged.
func (s *Snapshot) ByBinding(port, vlan uint16) (ID, bool) {
	if b := s.binding(port, vlan); b != nil {
		return b.vrf, true
	}
	return 0, false
}

// IsPeer reports whether a is one of the CE neighbour addresses of the binding of
// (port, vlan).
func (s *Snapshot) IsPeer(port, vlan uint16, a netip.Addr) bool {
	b := s.binding(port, vlan)
	if b == nil {
		return false
	}
	for i := range min(int(b.npeers), MaxPeers) {
		if b.peers[i] == a {
			return true
		}
	}
	return false
}

// Binding returns the binding of (port, vlan).
func (s *Snapshot) Binding(port, vlan uint16) (Binding, bool) {
	if b := s.binding(port, vlan); b != nil {
		return b.export(), true
	}
	return Binding{}, false
}

// Lookup4 returns the next hop of the longest prefix covering dst in VRF id.
func (s *Snapshot) Lookup4(id ID, dst [4]byte) (NextHop, bool) {
	if v := s.vrf(id); v != nil {
		return v.rt.Lookup(netip.AddrFrom4(dst))
	}
	return NextHop{}, false
}

// Lookup6 returns the next hop of the longest prefix covering dst in VRF id.
func (s *Snapshot) Lookup6(id ID, dst [16]byte) (NextHop, bool) {
	if v := s.vrf(id); v != nil {
		return v.rt.Lookup(netip.AddrFrom16(dst))
	}
	return NextHop{}, false
}

// Route returns the route for exactly p (masked) in VRF id.
func (s *Snapshot) Route(id ID, p netip.Prefix) (NextHop, bool) {
	if v := s.vrf(id); v != nil && p.IsValid() {
		return v.rt.Get(p.Masked())
	}
	return NextHop{}, false
}

// VRF returns the configuration of VRF id. The slices in it are copies.
func (s *Snapshot) VRF(id ID) (Config, bool) {
	if v := s.vrf(id); v != nil {
		return v.cfg.clone(), true
	}
	return Config{}, false
}

// VRFByName returns the configuration of the VRF called name.
func (s *Snapshot) VRFByName(name string) (Config, bool) {
	if id, ok := s.names[name]; ok {
		return s.VRF(id)
	}
	return Config{}, false
}

// VRFs returns every VRF's configuration, sorted by id.
func (s *Snapshot) VRFs() []Config {
	out := make([]Config, 0, len(s.names))
	for _, v := range s.vrfs {
		if v != nil {
			out = append(out, v.cfg.clone())
		}
	}
	return out
}

// Routes iterates over the routes of VRF id, IPv4 then IPv6, each in prefix order. For
// listings; not for the packet path.
func (s *Snapshot) Routes(id ID) iter.Seq2[netip.Prefix, NextHop] {
	v := s.vrf(id)
	return func(yield func(netip.Prefix, NextHop) bool) {
		if v == nil {
			return
		}
		for p, nh := range v.rt.AllSorted4() {
			if !yield(p, nh) {
				return
			}
		}
		for p, nh := range v.rt.AllSorted6() {
			if !yield(p, nh) {
				return
			}
		}
	}
}

// RouteCount returns how many IPv4 and IPv6 routes VRF id has.
func (s *Snapshot) RouteCount(id ID) (v4, v6 int) {
	if v := s.vrf(id); v != nil {
		return v.rt.Size4(), v.rt.Size6()
	}
	return 0, 0
}

// Bindings returns every binding, sorted by port then VLAN.
func (s *Snapshot) Bindings() []Binding {
	var out []Binding
	for i := range s.ports {
		p := &s.ports[i]
		if p.untagged != nil {
			out = append(out, p.untagged.export())
		}
		if p.vlans == nil {
			continue
		}
		for _, b := range p.vlans {
			if b != nil {
				out = append(out, b.export())
			}
		}
	}
	return out
}

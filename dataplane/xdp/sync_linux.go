// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bpf"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// The C structs are sized by constants that must match the Go limits; these fail to
// compile when one side changes alone.
var (
	_ [lfib.MaxPaths]bpf.MplsdpPath = bpf.MplsdpLfibEntry{}.Paths
	_ [lfib.MaxPush]uint32          = bpf.MplsdpPath{}.Labels
	_ [vrf.MaxPeers][16]uint8       = bpf.MplsdpBinding{}.Peers
	_ [dataplane.NumReasons]uint64  = bpf.MplsdpPortCounters{}.Drops
)

// tables are the engine's maps with their shadows.
type tables struct {
	ports    *portTable             // by port number (test mode reads it)
	ifports  *portTable             // by ifindex
	tx       *table[uint32, uint32] // nil in test mode
	infra4   *table[bpf.MplsdpInfra4Key, uint8]
	infra6   *table[bpf.MplsdpInfra6Key, uint8]
	labels   *slotTable
	tunnels  *slotTable
	bindings *table[bpf.MplsdpBindingKey, bpf.MplsdpBinding]
	routes4  *table[bpf.MplsdpRoute4Key, bpf.MplsdpNexthop]
	routes6  *table[bpf.MplsdpRoute6Key, bpf.MplsdpNexthop]
}

func u32str(k uint32) string { return strconv.FormatUint(uint64(k), 10) }

func newTables(m map[string]*ebpf.Map, testMode bool) (*tables, error) {
	t := &tables{
		infra4:   newTable[bpf.MplsdpInfra4Key, uint8](bpf.MplsdpMapInfra4, m[bpf.MplsdpMapInfra4], false, infra4String),
		infra6:   newTable[bpf.MplsdpInfra6Key, uint8](bpf.MplsdpMapInfra6, m[bpf.MplsdpMapInfra6], false, infra6String),
		bindings: newTable[bpf.MplsdpBindingKey, bpf.MplsdpBinding](bpf.MplsdpMapBindings, m[bpf.MplsdpMapBindings], true, bindingString),
		routes4:  newTable[bpf.MplsdpRoute4Key, bpf.MplsdpNexthop](bpf.MplsdpMapRoutes4, m[bpf.MplsdpMapRoutes4], false, route4String),
		routes6:  newTable[bpf.MplsdpRoute6Key, bpf.MplsdpNexthop](bpf.MplsdpMapRoutes6, m[bpf.MplsdpMapRoutes6], false, route6String),
	}
	if !testMode {
		t.tx = newTable[uint32, uint32](bpf.MplsdpMapTxPorts, m[bpf.MplsdpMapTxPorts], false, func(k uint32) string { return "port " + u32str(k) })
	}
	var err error
	if t.ports, err = newPortTable(bpf.MplsdpMapPorts, m[bpf.MplsdpMapPorts], func(k uint32) string { return "port " + u32str(k) }); err != nil {
		return nil, err
	}
	if t.ifports, err = newPortTable(bpf.MplsdpMapIfindexPorts, m[bpf.MplsdpMapIfindexPorts], func(k uint32) string { return "ifindex " + u32str(k) }); err != nil {
		t.close()
		return nil, err
	}
	if t.labels, err = newSlotTable("labels", m[bpf.MplsdpMapLabelIndex], m[bpf.MplsdpMapLabelSlots], func(k uint32) string { return "label " + u32str(k) }); err != nil {
		t.close()
		return nil, err
	}
	if t.tunnels, err = newSlotTable("tunnels", m[bpf.MplsdpMapTunnelIndex], m[bpf.MplsdpMapTunnelSlots], func(k uint32) string { return "tunnel " + u32str(k) }); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// close unmaps the mmapped arrays.
func (t *tables) close() error {
	var errs []error
	for _, a := range []**mmapArray{portArr(t.ports), portArr(t.ifports), slotArr(t.labels), slotArr(t.tunnels)} {
		if a != nil && *a != nil {
			errs = append(errs, (*a).unmap())
		}
	}
	return errors.Join(errs...)
}

func portArr(p *portTable) **mmapArray {
	if p == nil {
		return nil
	}
	return &p.arr
}

func slotArr(s *slotTable) **mmapArray {
	if s == nil {
		return nil
	}
	return &s.index
}

// load fills every shadow from its map.
func (t *tables) load() error {
	loaders := []func() error{
		t.ports.load, t.ifports.load, t.infra4.load, t.infra6.load,
		t.labels.load, t.tunnels.load, t.bindings.load, t.routes4.load, t.routes6.load,
	}
	if t.tx != nil {
		loaders = append(loaders, t.tx.load)
	}
	for _, f := range loaders {
		if err := f(); err != nil {
			return err
		}
	}
	// Slots no index points at are free from now on; a program run that read one
	// before the previous owner of these maps let go of it must have ended first.
	graceRCU()
	return nil
}

// Sync makes the maps equal to r's state: r.Config(), r.LFIB and r.VRFs.Load(). See the
// package documentation for what is written in which order. It may be called from any
// goroutine; calls run one at a time. On error the maps hold a mix of old and new
// elements, each whole and the order still make-before-break; calling Sync again
// finishes the job.
func (e *Engine) Sync(r *dataplane.Router) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	t := e.tables

	cfg := r.Config()
	ports, ifports := t.ports.diff(), t.ifports.diff()
	infra4, infra6 := t.infra4.diff(), t.infra6.diff()
	var tx *diff[uint32, uint32]
	if t.tx != nil {
		tx = t.tx.diff()
	}
	if err := wantConfig(cfg, ports, ifports, tx, infra4, infra6); err != nil {
		return err
	}

	labels, tunnels := t.labels.diff(), t.tunnels.diff()
	if !e.mapsOnly {
		if err := wantLFIB(cfg, r.LFIB, labels, tunnels); err != nil {
			return err
		}
	}

	snap := r.VRFs.Load()
	bindings := t.bindings.diff()
	for _, b := range snap.Bindings() {
		k, v, err := bindingEntry(b)
		if err != nil {
			return err
		}
		if err := bindings.want(k, v); err != nil {
			return err
		}
	}
	routes4, routes6 := t.routes4.diff(), t.routes6.diff()
	for _, c := range snap.VRFs() {
		if e.mapsOnly {
			break
		}
		for p, nh := range snap.Routes(c.ID) {
			v, err := nexthop(cfg, nh)
			if err != nil {
				return fmt.Errorf("vrf %d route %s: %w", c.ID, p, err)
			}
			if p.Addr().Is4() {
				err = routes4.want(route4Key(c.ID, p), v)
			} else {
				err = routes6.want(route6Key(c.ID, p), v)
			}
			if err != nil {
				return err
			}
		}
	}

	steps := []func() error{
		// Make: what is pointed at before what points at it.
		ports.put, nilSafe(tx, (*diff[uint32, uint32]).put),
		tunnels.put, labels.put,
		infra4.put, infra6.put, bindings.put, routes4.put, routes6.put,
		ifports.put,
		// Break: what points before what is pointed at.
		ifports.prune, routes4.prune, routes6.prune, bindings.prune,
		labels.prune, tunnels.prune,
		infra4.prune, infra6.prune,
		nilSafe(tx, (*diff[uint32, uint32]).prune), ports.prune,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("xdp sync: %w", err)
		}
	}
	return nil
}

func nilSafe[K, V comparable](d *diff[K, V], f func(*diff[K, V]) error) func() error {
	return func() error {
		if d == nil {
			return nil
		}
		return f(d)
	}
}

// wantConfig adds the configured ports (any that is not the zero Port), with the
// router-wide TTL settings in each, and the infrastructure prefixes.
func wantConfig(cfg *dataplane.Config, ports, ifports *portDiff, tx *diff[uint32, uint32],
	infra4 *diff[bpf.MplsdpInfra4Key, uint8], infra6 *diff[bpf.MplsdpInfra6Key, uint8]) error {
	for i := range cfg.Ports {
		p := &cfg.Ports[i]
		if *p == (dataplane.Port{}) {
			continue // not configured
		}
		// A port without a role is written too (role none): the program counts its
		// frames before handing them to the kernel.
		n := uint32(i)
		v := bpf.MplsdpPort{Port: n, Role: uint8(p.Role), TtlMode: uint8(cfg.TTLMode)}
		if cfg.PuntTTLExpired {
			v.PuntTtlExpired = 1
		}
		if err := ports.want(n, v); err != nil {
			return err
		}
		if p.Ifindex == 0 {
			continue
		}
		if err := ifports.want(p.Ifindex, v); err != nil {
			return fmt.Errorf("port %d (%s): %w", i, p.Name, err)
		}
		if tx != nil {
			if err := tx.want(n, p.Ifindex); err != nil {
				return err
			}
		}
	}
	if cfg.Infra == nil {
		return nil
	}
	for p := range cfg.Infra.All4() {
		if err := infra4.want(bpf.MplsdpInfra4Key{Prefixlen: uint32(p.Bits()), Addr: p.Masked().Addr().As4()}, 1); err != nil {
			return err
		}
	}
	for p := range cfg.Infra.All6() {
		if err := infra6.want(bpf.MplsdpInfra6Key{Prefixlen: uint32(p.Bits()), Addr: p.Masked().Addr().As16()}, 1); err != nil {
			return err
		}
	}
	return nil
}

// wantLFIB adds every label and tunnel entry. The lfib holds off its writers during a
// walk, so each walk is one consistent state.
func wantLFIB(cfg *dataplane.Config, lf *lfib.Table, labels, tunnels *slotDiff) error {
	var err error
	lf.WalkTunnels(func(id uint32, e lfib.Entry) bool {
		var v bpf.MplsdpLfibEntry
		if v, err = lfibEntry(cfg, e); err != nil {
			err = fmt.Errorf("tunnel %d: %w", id, err)
			return false
		}
		err = tunnels.want(id, v)
		return err == nil
	})
	if err != nil {
		return err
	}
	lf.Walk(func(l lfib.Label, e lfib.Entry) bool {
		var v bpf.MplsdpLfibEntry
		if v, err = lfibEntry(cfg, e); err != nil {
			err = fmt.Errorf("label %d: %w", l, err)
			return false
		}
		err = labels.want(uint32(l), v)
		return err == nil
	})
	return err
}

// egress returns the source MAC and MTU of frames sent out port n, which the program
// finds in each path and next hop rather than in a lookup per packet.
func egress(cfg *dataplane.Config, n uint16) ([6]uint8, uint16, error) {
	if int(n) >= len(cfg.Ports) {
		return [6]uint8{}, 0, fmt.Errorf("port %d out of range 0..%d", n, len(cfg.Ports)-1)
	}
	p := &cfg.Ports[n]
	return p.MAC, p.MTU, nil
}

// lfibEntry converts an LFIB entry to the program's layout, with each path's egress
// port's MAC and MTU from cfg.
func lfibEntry(cfg *dataplane.Config, e lfib.Entry) (bpf.MplsdpLfibEntry, error) {
	v := bpf.MplsdpLfibEntry{Op: uint8(e.Op), Vrf: e.VRF}
	if len(e.Paths) > lfib.MaxPaths {
		return v, fmt.Errorf("%d paths: at most %d", len(e.Paths), lfib.MaxPaths)
	}
	v.Npaths = uint8(len(e.Paths))
	for i := range e.Paths {
		p := &e.Paths[i]
		if p.NLabels > lfib.MaxPush {
			return v, fmt.Errorf("path %d: %d labels: at most %d", i, p.NLabels, lfib.MaxPush)
		}
		q := &v.Paths[i]
		var err error
		if q.Src, q.Mtu, err = egress(cfg, p.Port); err != nil {
			return v, fmt.Errorf("path %d: %w", i, err)
		}
		q.Port, q.Vlan, q.Dst, q.Nlabels = p.Port, p.VLAN, p.Dst, p.NLabels
		for j, l := range p.Out() {
			q.Labels[j] = uint32(l)
		}
	}
	return v, nil
}

// bindingEntry converts a VRF binding; peers are stored as 16 bytes, IPv4 as
// ::ffff:a.b.c.d.
func bindingEntry(b vrf.Binding) (bpf.MplsdpBindingKey, bpf.MplsdpBinding, error) {
	k := bpf.MplsdpBindingKey{Port: b.Port, Vlan: b.VLAN}
	v := bpf.MplsdpBinding{Vrf: uint32(b.VRF)}
	if len(b.Peers) > vrf.MaxPeers {
		return k, v, fmt.Errorf("binding %s: %d peers: at most %d", bindingString(k), len(b.Peers), vrf.MaxPeers)
	}
	v.Npeers = uint32(len(b.Peers))
	for i, a := range b.Peers {
		v.Peers[i] = a.Unmap().As16() // As16 of an IPv4 address is its IPv4-mapped form
	}
	return k, v, nil
}

// nexthop converts a route's next hop; a local one gets its port's MAC and MTU from
// cfg (a remote one uses its tunnel path's).
func nexthop(cfg *dataplane.Config, nh vrf.NextHop) (bpf.MplsdpNexthop, error) {
	v := bpf.MplsdpNexthop{Tunnel: nh.Tunnel, VpnLabel: uint32(nh.VPNLabel)}
	if nh.Remote() {
		return v, nil
	}
	var err error
	if v.Src, v.Mtu, err = egress(cfg, nh.Local.Port); err != nil {
		return v, err
	}
	v.Port, v.Vlan, v.Dst = nh.Local.Port, nh.Local.VLAN, nh.Local.Dst
	return v, nil
}

// vrfKey returns id as the key field holds it: big-endian in memory, so that the trie
// matches the VRF's bits before the address's.
func vrfKey(id vrf.ID) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	return binary.NativeEndian.Uint32(b[:])
}

func vrfFromKey(k uint32) vrf.ID {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], k)
	return vrf.ID(binary.BigEndian.Uint32(b[:]))
}

func route4Key(id vrf.ID, p netip.Prefix) bpf.MplsdpRoute4Key {
	return bpf.MplsdpRoute4Key{Prefixlen: 32 + uint32(p.Bits()), Vrf: vrfKey(id), Addr: p.Masked().Addr().As4()}
}

func route6Key(id vrf.ID, p netip.Prefix) bpf.MplsdpRoute6Key {
	return bpf.MplsdpRoute6Key{Prefixlen: 32 + uint32(p.Bits()), Vrf: vrfKey(id), Addr: p.Masked().Addr().As16()}
}

func route4String(k bpf.MplsdpRoute4Key) string {
	return fmt.Sprintf("vrf %d %s/%d", vrfFromKey(k.Vrf), netip.AddrFrom4(k.Addr), int(k.Prefixlen)-32)
}

func route6String(k bpf.MplsdpRoute6Key) string {
	return fmt.Sprintf("vrf %d %s/%d", vrfFromKey(k.Vrf), netip.AddrFrom16(k.Addr), int(k.Prefixlen)-32)
}

func infra4String(k bpf.MplsdpInfra4Key) string {
	return fmt.Sprintf("%s/%d", netip.AddrFrom4(k.Addr), k.Prefixlen)
}

func infra6String(k bpf.MplsdpInfra6Key) string {
	return fmt.Sprintf("%s/%d", netip.AddrFrom16(k.Addr), k.Prefixlen)
}

func bindingString(k bpf.MplsdpBindingKey) string {
	return fmt.Sprintf("port %d vlan %d", k.Port, k.Vlan)
}

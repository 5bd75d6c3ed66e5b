// SPDX-License-Identifier: Apache-2.0

package vectors

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// PortID returns the number of the port called name.
func (f *Fixture) PortID(name string) (uint16, error) {
	for _, p := range f.Ports {
		if p.Name == name {
			return p.ID, nil
		}
	}
	return 0, fmt.Errorf("no port %q in the fixture", name)
}

func parseMAC(s string) (lfib.MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return lfib.MAC{}, fmt.Errorf("bad MAC %q", s)
	}
	return lfib.MAC(hw), nil
}

// Config builds the router configuration; ttlMode overrides the fixture's when not empty.
func (f *Fixture) Config(ttlMode string) (*dataplane.Config, error) {
	if ttlMode == "" {
		ttlMode = f.TTLMode
	}
	mode, err := dataplane.ParseTTLMode(ttlMode)
	if err != nil {
		return nil, err
	}
	c := &dataplane.Config{TTLMode: mode}
	for _, p := range f.Ports {
		if int(p.ID) >= dataplane.MaxPorts {
			return nil, fmt.Errorf("port %s: id %d out of range", p.Name, p.ID)
		}
		role, err := dataplane.ParseRole(p.Role)
		if err != nil {
			return nil, fmt.Errorf("port %s: %w", p.Name, err)
		}
		mac, err := parseMAC(p.MAC)
		if err != nil {
			return nil, fmt.Errorf("port %s: %w", p.Name, err)
		}
		if p.MTU <= 0 || p.MTU > 65535 {
			return nil, fmt.Errorf("port %s: MTU %d out of range", p.Name, p.MTU)
		}
		c.Ports[p.ID] = dataplane.Port{Name: p.Name, Role: role, MTU: uint16(p.MTU), MAC: mac}
	}
	var infra []netip.Prefix
	for _, s := range append(append([]string(nil), f.RouterAddrs...), f.CorePrefixes...) {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return nil, fmt.Errorf("infrastructure address %q: %w", s, err)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		infra = append(infra, pfx)
	}
	if c.Infra, err = dataplane.NewInfra(infra); err != nil {
		return nil, err
	}
	return c, nil
}

func (f *Fixture) nextHop(n NextHop) (lfib.NextHop, error) {
	id, err := f.PortID(n.Port)
	if err != nil {
		return lfib.NextHop{}, err
	}
	mac, err := parseMAC(n.MAC)
	if err != nil {
		return lfib.NextHop{}, err
	}
	return lfib.NextHop{Port: id, VLAN: n.VLAN, Dst: mac}, nil
}

func (f *Fixture) paths(ps []Path) ([]lfib.Path, error) {
	out := make([]lfib.Path, 0, len(ps))
	for _, p := range ps {
		nh, err := f.nextHop(p.NextHop)
		if err != nil {
			return nil, err
		}
		ls := make([]lfib.Label, len(p.Labels))
		for i, l := range p.Labels {
			ls[i] = lfib.Label(l)
		}
		lp, err := lfib.NewPath(nh, ls...)
		if err != nil {
			return nil, err
		}
		out = append(out, lp)
	}
	return out, nil
}

var ops = map[string]lfib.Op{
	"swap": lfib.OpSwap, "pop": lfib.OpPop, "pop-to-vrf": lfib.OpPopToVRF, "pop-to-nexthop": lfib.OpPopToNextHop,
}

// Router builds the tables and configuration the fixture describes.
func (f *Fixture) Router() (*dataplane.Router, error) {
	cfg, err := f.Config("")
	if err != nil {
		return nil, err
	}
	lf := lfib.New()
	var b lfib.Batch
	for _, t := range f.Tunnels {
		ps, err := f.paths(t.Paths)
		if err != nil {
			return nil, fmt.Errorf("tunnel %d: %w", t.ID, err)
		}
		b.SetTunnel(t.ID, lfib.Entry{Op: lfib.OpPush, Paths: ps})
	}
	vrfs := vrf.New()
	err = vrfs.Update(func(tx *vrf.Txn) error {
		for _, v := range f.VRFs {
			rd, err := vrf.ParseRD(v.RD)
			if err != nil {
				return fmt.Errorf("vrf %s: %w", v.Name, err)
			}
			if _, err := tx.AddVRF(vrf.Config{Name: v.Name, ID: vrf.ID(v.ID), RD: rd, MaxRoutes: v.MaxRoutes}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	snap := vrfs.Load()
	vrfID := func(name string) (vrf.ID, error) {
		c, ok := snap.VRFByName(name)
		if !ok {
			return 0, fmt.Errorf("no VRF %q", name)
		}
		return c.ID, nil
	}
	for _, l := range f.Labels {
		op, ok := ops[l.Op]
		if !ok {
			return nil, fmt.Errorf("label %d: unknown op %q", l.In, l.Op)
		}
		e := lfib.Entry{Op: op}
		if op == lfib.OpPopToVRF {
			id, err := vrfID(l.VRF)
			if err != nil {
				return nil, fmt.Errorf("label %d: %w", l.In, err)
			}
			e.VRF = uint32(id)
		}
		if e.Paths, err = f.paths(l.Paths); err != nil {
			return nil, fmt.Errorf("label %d: %w", l.In, err)
		}
		b.SetLabel(lfib.Label(l.In), e)
	}
	if err := lf.Commit(&b); err != nil {
		return nil, err
	}
	err = vrfs.Update(func(tx *vrf.Txn) error {
		for _, bd := range f.Bindings {
			port, err := f.PortID(bd.Port)
			if err != nil {
				return err
			}
			id, err := vrfID(bd.VRF)
			if err != nil {
				return err
			}
			var peers []netip.Addr
			for _, s := range bd.Peers {
				a, err := netip.ParseAddr(s)
				if err != nil {
					return fmt.Errorf("binding %s/%d: peer: %w", bd.Port, bd.VLAN, err)
				}
				peers = append(peers, a)
			}
			if err := tx.Bind(vrf.Binding{Port: port, VLAN: bd.VLAN, VRF: id, Peers: peers}); err != nil {
				return err
			}
		}
		for _, r := range f.Routes {
			id := vrf.Global
			if r.VRF != "" && r.VRF != "global" {
				if id, err = vrfID(r.VRF); err != nil {
					return err
				}
			}
			pfx, err := netip.ParsePrefix(r.Prefix)
			if err != nil {
				return fmt.Errorf("route %s: %w", r.Prefix, err)
			}
			var nh vrf.NextHop
			switch {
			case r.Local != nil && r.Remote == nil:
				if nh.Local, err = f.nextHop(*r.Local); err != nil {
					return fmt.Errorf("route %s: %w", r.Prefix, err)
				}
			case r.Remote != nil && r.Local == nil:
				nh.Tunnel, nh.VPNLabel = r.Remote.Tunnel, lfib.Label(r.Remote.VPNLabel)
			default:
				return fmt.Errorf("route %s: want exactly one of local and remote", r.Prefix)
			}
			if err := tx.AddRoute(id, pfx, nh); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dataplane.NewRouter(lf, vrfs, cfg), nil
}

// SPDX-License-Identifier: Apache-2.0

package main

import (
	"net"

	"github.com/mplsdp/mplsdp/dataplane/vectors"
)

// The router: a PE for two overlapping customers (cust-a, cust-b) that is also a P
// router for transit LSPs, with an Internet uplink in the global table.
//
//	core0 ---- P1 (02:00:00:00:01:01), and PE2 (02:00:00:00:01:04) directly connected
//	core1 ---- P2 (02:00:00:00:01:02), and P3 on VLAN 20 (02:00:00:00:01:20)
//	core-small (MTU 200) ---- PS (02:00:00:00:01:07)
//	ce-a ----- CE-A  (cust-a site 1, untagged)
//	ce-b ----- CE-B  (cust-b site 1, untagged)
//	trunk0 --- VLAN 100 CE-A2 (cust-a site 2), VLAN 110 CE-A3 (cust-a site 3),
//	           VLAN 200 CE-B2 (cust-b site 2), VLAN 300 not bound
//	inet0 ---- upstream (global table)
//	mgmt0 ---- management switch (no role)
var ports = []vectors.Port{
	{ID: 1, Name: "core0", Role: "core", MAC: "02:00:00:00:00:01", MTU: 1500},
	{ID: 2, Name: "core1", Role: "core", MAC: "02:00:00:00:00:02", MTU: 1500},
	{ID: 3, Name: "ce-a", Role: "ce", MAC: "02:00:00:00:00:03", MTU: 1500},
	{ID: 4, Name: "ce-b", Role: "ce", MAC: "02:00:00:00:00:04", MTU: 1500},
	{ID: 5, Name: "trunk0", Role: "ce", MAC: "02:00:00:00:00:05", MTU: 1500},
	{ID: 6, Name: "inet0", Role: "global", MAC: "02:00:00:00:00:06", MTU: 1500},
	{ID: 7, Name: "core-small", Role: "core", MAC: "02:00:00:00:00:07", MTU: 200},
	{ID: 8, Name: "mgmt0", Role: "none", MAC: "02:00:00:00:00:08", MTU: 1500},
}

func portMAC(name string) net.HardwareAddr {
	for _, p := range ports {
		if p.Name == name {
			return hw(p.MAC)
		}
	}
	panic("no port " + name)
}

func portMTU(name string) int {
	for _, p := range ports {
		if p.Name == name {
			return p.MTU
		}
	}
	panic("no port " + name)
}

// Neighbours.
var (
	nP1   = nh{"core0", 0, "02:00:00:00:01:01"}
	nP2   = nh{"core1", 0, "02:00:00:00:01:02"}
	nP3   = nh{"core1", 20, "02:00:00:00:01:20"}
	nPE2  = nh{"core0", 0, "02:00:00:00:01:04"}
	nPS   = nh{"core-small", 0, "02:00:00:00:01:07"}
	nCEA  = nh{"ce-a", 0, "02:00:00:00:02:01"}
	nCEB  = nh{"ce-b", 0, "02:00:00:00:02:02"}
	nCEA2 = nh{"trunk0", 100, "02:00:00:00:02:11"}
	nCEA3 = nh{"trunk0", 110, "02:00:00:00:02:12"}
	nCEB2 = nh{"trunk0", 200, "02:00:00:00:02:21"}
	nTrk  = nh{"trunk0", 0, "02:00:00:00:02:31"} // a switch behind trunk0 sending on other VLANs
	nUp   = nh{"inet0", 0, "02:00:00:00:03:01"}
	nMgmt = nh{"mgmt0", 0, "02:00:00:00:04:01"}
)

func (n nh) hop() *vectors.NextHop { return &vectors.NextHop{Port: n.port, VLAN: n.vlan, MAC: n.mac} }

func (n nh) path(labels ...uint32) vectors.Path {
	return vectors.Path{NextHop: *n.hop(), Labels: labels}
}

// Tunnels (FTN entries towards remote PEs).
const (
	tunOne     = 1 // one path, one transport label
	tunECMP    = 2 // two paths (core0, core1), one label each
	tunTwo     = 3 // one path, two transport labels
	tunNull    = 4 // PE2 directly connected: implicit null, no transport label
	tunSmall   = 5 // out core-small (MTU 200)
	tunMissing = 9 // named by a route, not installed
)

var tunnels = map[uint32][]vectors.Path{
	tunOne:   {nP1.path(16001)},
	tunECMP:  {nP1.path(16002), nP2.path(17002)},
	tunTwo:   {nP2.path(16003, 16103)},
	tunNull:  {nPE2.path()},
	tunSmall: {nPS.path(16005)},
}

// Incoming labels.
const (
	lSwap        = 1000 // swap -> 2000 out core1 (P2)
	lSwapPush    = 1001 // swap -> [2001 2101] out core1 (P2)
	lPHP         = 1002 // pop out core1 (P2)
	lPopECMP     = 1003 // pop, paths core0 (P1) / core1 (P2)
	lSwapECMP    = 1004 // swap -> 2004 core0 (P1) / 3004 core1 (P2)
	lSwapVLAN    = 1005 // swap -> 2005 out core1 VLAN 20 (P3)
	lSwapSmall   = 1006 // swap -> [2006 2106] out core-small (MTU 200)
	lVRFA        = 5001 // pop-to-vrf cust-a
	lVRFB        = 5002 // pop-to-vrf cust-b
	lCEA         = 5011 // pop-to-nexthop CE-A
	lCEB         = 5012 // pop-to-nexthop CE-B
	lCEB2        = 5021 // pop-to-nexthop CE-B2 (trunk0 VLAN 200)
	lUnknown     = 99999
	lGlobalV4Rem = 3001 // remote PE's label for the global 203.0.113.128/25
	lGlobalV6Rem = 3002 // remote PE's label for the global 2001:db8:200::/48
)

// Remote VPN labels (allocated by the remote PEs), per VRF.
type vpnLabels struct {
	one, ecmp, two, null, small, missing uint32
}

var (
	vpnA = vpnLabels{one: 24001, ecmp: 24002, two: 24003, null: 24004, small: 24005, missing: 24009}
	vpnB = vpnLabels{one: 25001, ecmp: 25002, two: 25003, null: 25004, small: 25005, missing: 25009}
)

func fixture() vectors.Fixture {
	f := vectors.Fixture{
		TTLMode:       "pipe",
		MaxStackDepth: maxStackDepth,
		RouterAddrs:   []string{"198.51.100.1/32", "198.51.100.200/32", "2001:db8:ffff::1/128", "2001:db8:fffe::1/128"},
		CorePrefixes:  []string{"198.51.100.0/25", "2001:db8:ffff::/48"},
		Ports:         ports,
		VRFs: []vectors.VRF{
			{Name: "cust-a", ID: 1, RD: "65000:1", MaxRoutes: 1000},
			{Name: "cust-b", ID: 2, RD: "65000:2", MaxRoutes: 1000},
		},
		Bindings: []vectors.Binding{
			{Port: "ce-a", VRF: "cust-a", Peers: []string{"192.0.2.1", "2001:db8:1::1"}},
			{Port: "ce-b", VRF: "cust-b", Peers: []string{"192.0.2.1", "2001:db8:1::1"}},
			{Port: "trunk0", VLAN: 100, VRF: "cust-a", Peers: []string{"192.0.2.129", "2001:db8:3::1"}},
			{Port: "trunk0", VLAN: 110, VRF: "cust-a", Peers: []string{"192.0.2.193"}},
			{Port: "trunk0", VLAN: 200, VRF: "cust-b", Peers: []string{"192.0.2.129", "2001:db8:3::1"}},
		},
	}
	for _, c := range []struct {
		vrf              string
		site1, site2, s3 nh
		vpn              vpnLabels
	}{
		{vrf: "cust-a", site1: nCEA, site2: nCEA2, s3: nCEA3, vpn: vpnA},
		{vrf: "cust-b", site1: nCEB, site2: nCEB2, s3: nCEB, vpn: vpnB},
	} {
		rem := func(p string, label, tun uint32) vectors.Route {
			return vectors.Route{VRF: c.vrf, Prefix: p, Remote: &vectors.Remote{VPNLabel: label, Tunnel: tun}}
		}
		loc := func(p string, n nh) vectors.Route {
			return vectors.Route{VRF: c.vrf, Prefix: p, Local: n.hop()}
		}
		f.Routes = append(f.Routes,
			loc("192.0.2.0/26", c.site1),
			rem("192.0.2.48/28", c.vpn.missing, tunMissing),
			rem("192.0.2.64/26", c.vpn.one, tunOne),
			rem("192.0.2.80/28", c.vpn.ecmp, tunECMP),
			rem("192.0.2.96/28", c.vpn.two, tunTwo),
			rem("192.0.2.112/28", c.vpn.null, tunNull),
			rem("192.0.2.120/29", c.vpn.small, tunSmall),
			loc("192.0.2.128/26", c.site2),
			loc("192.0.2.192/26", c.s3),
			loc("2001:db8:1::/48", c.site1),
			rem("2001:db8:2::/48", c.vpn.one, tunOne),
			rem("2001:db8:2:80::/64", c.vpn.ecmp, tunECMP),
			loc("2001:db8:3::/48", c.site2),
		)
	}
	f.Routes = append(f.Routes,
		vectors.Route{VRF: "global", Prefix: "203.0.113.0/25", Local: nUp.hop()},
		vectors.Route{VRF: "global", Prefix: "203.0.113.128/25", Remote: &vectors.Remote{VPNLabel: lGlobalV4Rem, Tunnel: tunOne}},
		vectors.Route{VRF: "global", Prefix: "2001:db8:100::/48", Local: nUp.hop()},
		vectors.Route{VRF: "global", Prefix: "2001:db8:200::/48", Remote: &vectors.Remote{VPNLabel: lGlobalV6Rem, Tunnel: tunOne}},
	)
	for _, id := range []uint32{tunOne, tunECMP, tunTwo, tunNull, tunSmall} {
		f.Tunnels = append(f.Tunnels, vectors.Tunnel{ID: id, Paths: tunnels[id]})
	}
	f.Labels = []vectors.LabelEntry{
		{In: lSwap, Op: "swap", Paths: []vectors.Path{nP2.path(2000)}},
		{In: lSwapPush, Op: "swap", Paths: []vectors.Path{nP2.path(2001, 2101)}},
		{In: lPHP, Op: "pop", Paths: []vectors.Path{nP2.path()}},
		{In: lPopECMP, Op: "pop", Paths: []vectors.Path{nP1.path(), nP2.path()}},
		{In: lSwapECMP, Op: "swap", Paths: []vectors.Path{nP1.path(2004), nP2.path(3004)}},
		{In: lSwapVLAN, Op: "swap", Paths: []vectors.Path{nP3.path(2005)}},
		{In: lSwapSmall, Op: "swap", Paths: []vectors.Path{nPS.path(2006, 2106)}},
		{In: lVRFA, Op: "pop-to-vrf", VRF: "cust-a"},
		{In: lVRFB, Op: "pop-to-vrf", VRF: "cust-b"},
		{In: lCEA, Op: "pop-to-nexthop", Paths: []vectors.Path{nCEA.path()}},
		{In: lCEB, Op: "pop-to-nexthop", Paths: []vectors.Path{nCEB.path()}},
		{In: lCEB2, Op: "pop-to-nexthop", Paths: []vectors.Path{nCEB2.path()}},
	}
	return f
}

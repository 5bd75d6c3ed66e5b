// SPDX-License-Identifier: Apache-2.0

package control

import (
	"net"
	"net/netip"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Config is the router's configuration as the operator writes it (the YAML file), after
// parsing and validation: names resolved to types, references checked. It holds no
// kernel state (ifindexes, neighbour MACs): the Controller resolves those.
type Config struct {
	RouterID       netip.Addr
	TTLMode        dataplane.TTLMode
	PuntTTLExpired bool
	Engine         string // "xdp" or "afxdp"
	Interfaces     []Interface
	VRFs           []VRF
	LSPs           []LSP
	// Infrastructure ACL: the router's own addresses and the core's prefixes, hidden
	// from customers. RouterID is always included.
	RouterAddrs  []netip.Addr
	CorePrefixes []netip.Prefix
	API          API
	Metrics      Metrics
	BPF          BPF
}

// Interface is one port of the router.
type Interface struct {
	Name  string
	Role  dataplane.Role
	VRF   string            // role ce: the VRF of untagged frames ("" with VLANs only)
	VLANs map[uint16]string // role ce: VLAN id -> VRF
	MTU   int               // 0: the interface's own MTU
	// Peers are the CE neighbours allowed to reach BGP on the router through this
	// interface (all its VLANs).
	Peers []netip.Addr
}

// VRF is a customer's VPN on this PE.
type VRF struct {
	Name      string
	RD        vrf.RD
	Import    []vrf.RT
	Export    []vrf.RT
	MaxRoutes int
	Label     lfib.Label // per-VRF VPN label (pop-to-VRF); 0: allocated from the dynamic range
	Routes    []Route
}

// Route is a static VRF route: to a CE on this router (Via on Interface), or to a
// remote PE (RemotePE with the VPN label it advertised), reached through the LSP whose
// FEC covers RemotePE.
type Route struct {
	Prefix    netip.Prefix
	Via       netip.Addr // local next hop
	Interface string     // local next hop's interface
	VLAN      uint16     // local next hop's VLAN on that interface (0: untagged)
	MAC       net.HardwareAddr
	RemotePE  netip.Addr
	VPNLabel  lfib.Label
}

// Remote reports whether the route leads to another PE.
func (r *Route) Remote() bool { return r.RemotePE.IsValid() }

// LSP is a static label-switched path entry: exactly one of
//   - FEC with Push: ingress (FTN), push labels toward a remote PE's address;
//   - InLabel with Swap: transit swap (more than one label swaps and pushes);
//   - InLabel with Pop: penultimate-hop pop.
type LSP struct {
	FEC       netip.Prefix
	Push      []lfib.Label
	InLabel   lfib.Label
	Swap      []lfib.Label
	Pop       bool
	Via       netip.Addr
	Interface string
	MAC       net.HardwareAddr // the next hop's MAC; nil: resolved from the kernel's neighbour table
}

// API is the controller API's listener.
type API struct {
	Socket string // unix socket path, 0600; default /run/mplsdp/api.sock
}

// Metrics is the Prometheus listener.
type Metrics struct {
	Listen string // host:port; "" disables; default 127.0.0.1:9469
}

// BPF is where the XDP engine pins its program and maps.
type BPF struct {
	PinPath string // default /sys/fs/bpf/mplsdp
}

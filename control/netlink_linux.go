// SPDX-License-Identifier: Apache-2.0

package control

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Kernel resolves interfaces and neighbours through netlink, in the network namespace
// of the calling thread.
type Kernel struct{}

// Link returns an interface's index, MAC and MTU.
func (Kernel) Link(name string) (int, net.HardwareAddr, int, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("interface %s: %w", name, err)
	}
	a := l.Attrs()
	return a.Index, a.HardwareAddr, a.MTU, nil
}

// usable neighbour states: the kernel has a MAC it believes or was told.
const usableNeigh = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE |
	netlink.NUD_PERMANENT | netlink.NUD_NOARP

// Neighbor returns the MAC the kernel's neighbour table has for ip on ifname.
func (Kernel) Neighbor(ifname string, ip netip.Addr) (net.HardwareAddr, error) {
	l, err := netlink.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	family := netlink.FAMILY_V4
	if ip.Is6() && !ip.Is4In6() {
		family = netlink.FAMILY_V6
	}
	ns, err := netlink.NeighList(l.Attrs().Index, family)
	if err != nil {
		return nil, fmt.Errorf("neighbours of %s: %w", ifname, err)
	}
	for _, n := range ns {
		a, ok := netip.AddrFromSlice(n.IP)
		if ok && a.Unmap() == ip.Unmap() && n.State&usableNeigh != 0 && len(n.HardwareAddr) == 6 {
			return n.HardwareAddr, nil
		}
	}
	return nil, fmt.Errorf("%s has no usable neighbour entry on %s yet", ip, ifname)
}

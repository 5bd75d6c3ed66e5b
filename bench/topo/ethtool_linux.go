// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtoolValue is struct ethtool_value of <linux/ethtool.h>.
type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreqData is struct ifreq with ifr_data set, padded to cover the union on
// every architecture.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24]byte
}

// ethtool issues the SIOCETHTOOL command cmd with an ethtool_value on ifname,
// from a socket created inside n's namespace, and returns the value's data.
// It needs no ethtool binary.
func (n *Node) ethtool(ifname string, cmd, data uint32) (uint32, error) {
	if len(ifname) >= unix.IFNAMSIZ {
		return 0, fmt.Errorf("topo: interface name %q too long", ifname)
	}
	v := ethtoolValue{cmd: cmd, data: data}
	err := n.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		var ifr ifreqData
		copy(ifr.name[:], ifname)
		ifr.data = unsafe.Pointer(&v)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		if errno != 0 {
			return errno
		}
		return nil
	})
	return v.data, err
}

// SetGRO turns generic receive offload on or off on an interface of n, like
// `ethtool -K IF gro on|off`. On a veth, GRO on also turns on the NAPI receive
// path, which is what lets the veth accept frames that XDP redirects into its
// peer when no XDP program is attached to the receiving end.
func (n *Node) SetGRO(ifname string, on bool) error {
	var v uint32
	if on {
		v = 1
	}
	if _, err := n.ethtool(ifname, unix.ETHTOOL_SGRO, v); err != nil {
		return fmt.Errorf("topo: %s/%s: set gro %v: %w", n.Name, ifname, on, err)
	}
	return nil
}

// GRO reports whether generic receive offload is on for an interface of n, as
// the kernel has it in the device's active features.
func (n *Node) GRO(ifname string) (bool, error) {
	v, err := n.ethtool(ifname, unix.ETHTOOL_GGRO, 0)
	if err != nil {
		return false, fmt.Errorf("topo: %s/%s: get gro: %w", n.Name, ifname, err)
	}
	return v != 0, nil
}

// SetGRO is n.SetGRO(ifname, on).
func SetGRO(n *Node, ifname string, on bool) error { return n.SetGRO(ifname, on) }

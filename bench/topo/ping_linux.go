// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// maxPings bounds Ping's count.
const maxPings = 1000

// Ping sends count ICMP (or ICMPv6) echo requests from n to dst, one after the
// other, each waiting up to timeout/count for its reply, and returns how many
// were answered. err reports only a failure to ping at all, not lost replies.
// It uses a raw ICMP socket created inside n's namespace.
func (n *Node) Ping(dst netip.Addr, count int, timeout time.Duration) (received int, err error) {
	dst = dst.Unmap()
	if err := checkAddr(dst, true); err != nil && !dst.IsLoopback() {
		return 0, err
	}
	if count < 1 || count > maxPings {
		return 0, fmt.Errorf("topo: ping count %d: want 1 to %d", count, maxPings)
	}
	if timeout <= 0 {
		return 0, fmt.Errorf("topo: ping timeout %v: want > 0", timeout)
	}
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if dst.Is6() {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	var fd int
	err = n.Do(func() (err error) {
		fd, err = unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("topo: %s: ping socket: %w", n.Name, err)
	}
	f := os.NewFile(uintptr(fd), "ping:"+n.Namespace)
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}

	var sa unix.Sockaddr
	if dst.Is4() {
		sa = &unix.SockaddrInet4{Addr: dst.As4()}
	} else {
		sa6 := &unix.SockaddrInet6{Addr: dst.As16()}
		if dst.IsLinkLocalUnicast() {
			if z := dst.Zone(); z != "" {
				ifc, err := n.Iface(z)
				if err != nil {
					return 0, err
				}
				sa6.ZoneId = uint32(ifc.Index)
			}
		}
		sa = sa6
	}

	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	per := timeout / time.Duration(count)
	buf := make([]byte, 1500)
	answered := make(map[uint16]bool, count)
	for seq := 1; seq <= count; seq++ {
		req := echoRequest(dst.Is6(), id, uint16(seq))
		var serr error
		if err := f.SetWriteDeadline(time.Now().Add(per)); err != nil {
			return received, err
		}
		err := rc.Write(func(fd uintptr) bool {
			serr = unix.Sendto(int(fd), req, 0, sa)
			return serr != unix.EAGAIN && serr != unix.EINTR
		})
		if err == nil {
			err = serr
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			// An unreachable destination is a lost ping, not a failure.
			if errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH) {
				time.Sleep(per)
				continue
			}
			return received, fmt.Errorf("topo: %s: ping %v: %w", n.Name, dst, err)
		}
		if err := f.SetReadDeadline(time.Now().Add(per)); err != nil {
			return received, err
		}
		for {
			var nr int
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				nr, _, rerr = unix.Recvfrom(int(fd), buf, 0)
				return rerr != unix.EAGAIN && rerr != unix.EINTR
			})
			if err == nil {
				err = rerr
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				// ICMP errors (unreachable) reported on the socket.
				break
			}
			// A late reply to an earlier echo counts too.
			if rs, ok := echoReplySeq(buf[:nr], dst.Is6(), id); ok && rs >= 1 && int(rs) <= seq && !answered[rs] {
				answered[rs] = true
				received++
				if int(rs) == seq {
					break
				}
			}
		}
	}
	return received, nil
}

// echoRequest builds an ICMP or ICMPv6 echo request with a small payload. The
// kernel computes the ICMPv6 checksum of a raw socket itself.
func echoRequest(v6 bool, id, seq uint16) []byte {
	m := make([]byte, 8, 8+16)
	m[0] = 8 // echo request
	if v6 {
		m[0] = 128
	}
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	m = append(m, "mplsdp topo ping"...)
	if !v6 {
		binary.BigEndian.PutUint16(m[2:], checksum(m))
	}
	return m
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// echoReplySeq returns the sequence number of p if it is an echo reply with
// identifier id. A raw IPv4 socket delivers the IP header in front; a raw IPv6
// socket does not.
func echoReplySeq(p []byte, v6 bool, id uint16) (seq uint16, ok bool) {
	want := byte(0) // echo reply
	if v6 {
		want = 129
	} else {
		if len(p) < 20 || p[0]>>4 != 4 {
			return 0, false
		}
		p = p[int(p[0]&0x0f)*4:]
	}
	if len(p) < 8 || p[0] != want || p[1] != 0 || binary.BigEndian.Uint16(p[4:]) != id {
		return 0, false
	}
	return binary.BigEndian.Uint16(p[6:]), true
}

// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// vlanRoom is headroom in front of a received frame, so that an 802.1Q
	// tag the kernel took out of it can be put back without a copy.
	vlanRoom = 4
	// maxFrame bounds a received frame. GRO can hand a packet socket frames
	// far larger than the MTU; larger ones are reported as truncated.
	maxFrame = 64 << 10
	// sendTimeout bounds a Send on a full socket buffer.
	sendTimeout = 5 * time.Second
	// sizeofTpacketAuxdata is sizeof(struct tpacket_auxdata).
	sizeofTpacketAuxdata = 20
)

// PacketConn is an AF_PACKET raw socket bound to one interface of a node: it
// sends whole Ethernet frames and receives every frame arriving on the
// interface, not those the interface sends.
//
// Send and Recv may be called concurrently with each other and with Close;
// concurrent Recv calls are serialised.
type PacketConn struct {
	Node    *Node
	Ifname  string
	Ifindex int

	f  *os.File
	rc syscall.RawConn

	rmu sync.Mutex // guards buf and oob
	buf []byte
	oob []byte

	closeOnce sync.Once
	closeErr  error
}

func htons(v uint16) uint16 {
	return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v))
}

// OpenPacket opens a raw packet socket on an interface of n. The socket is
// created inside n's namespace and stays there, so the PacketConn may be used
// from any goroutine. The topology's Close closes it too.
func (n *Node) OpenPacket(ifname string) (*PacketConn, error) {
	ifc, err := n.Iface(ifname)
	if err != nil {
		return nil, err
	}
	var fd int
	err = n.Do(func() error {
		// Protocol 0 until bound: a socket opened with ETH_P_ALL would
		// queue frames from every interface until bind narrows it.
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("socket: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			unix.Close(fd)
			return fmt.Errorf("PACKET_AUXDATA: %w", err)
		}
		// Best effort (Linux 4.20+): Recv filters outgoing frames anyway.
		_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
		sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("topo: %s/%s: packet socket: %w", n.Name, ifname, err)
	}
	f := os.NewFile(uintptr(fd), "packet:"+n.Namespace+"/"+ifname)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	pc := &PacketConn{
		Node: n, Ifname: ifname, Ifindex: ifc.Index,
		f: f, rc: rc,
		buf: make([]byte, vlanRoom+maxFrame),
		oob: make([]byte, unix.CmsgSpace(sizeofTpacketAuxdata)),
	}
	tp := n.tp
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.closed {
		f.Close()
		return nil, errors.New("topo: topology is closed")
	}
	tp.conns[pc] = struct{}{}
	return pc, nil
}

// Send transmits one Ethernet frame (destination MAC first, no FCS) out of the
// interface.
func (pc *PacketConn) Send(frame []byte) error {
	if err := pc.f.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return err
	}
	if _, err := pc.f.Write(frame); err != nil {
		return fmt.Errorf("topo: %s/%s: send: %w", pc.Node.Name, pc.Ifname, err)
	}
	return nil
}

// Recv returns the next frame received on the interface, waiting at most
// timeout. When nothing arrived in time the error satisfies
// errors.Is(err, os.ErrDeadlineExceeded). Frames the interface sent are
// skipped. An 802.1Q/802.1ad tag that the kernel moved out of the frame on
// receive is put back, so the frame is returned as it was on the wire.
func (pc *PacketConn) Recv(timeout time.Duration) ([]byte, error) {
	return pc.RecvMatch(timeout, nil)
}

// RecvMatch is Recv, skipping frames for which match (if not nil) returns
// false; the whole call, skipped frames included, is bounded by timeout.
func (pc *PacketConn) RecvMatch(timeout time.Duration, match func([]byte) bool) ([]byte, error) {
	pc.rmu.Lock()
	defer pc.rmu.Unlock()
	if err := pc.f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	for {
		frame, err := pc.recv()
		if err != nil {
			return nil, fmt.Errorf("topo: %s/%s: recv: %w", pc.Node.Name, pc.Ifname, err)
		}
		if frame != nil && (match == nil || match(frame)) {
			return append([]byte(nil), frame...), nil
		}
	}
}

// recv reads one frame into pc.buf and returns it, or nil for a frame to skip.
func (pc *PacketConn) recv() ([]byte, error) {
	var (
		n, oobn int
		from    unix.Sockaddr
		rerr    error
	)
	err := pc.rc.Read(func(fd uintptr) bool {
		n, oobn, _, from, rerr = unix.Recvmsg(int(fd), pc.buf[vlanRoom:], pc.oob, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN && rerr != unix.EINTR
	})
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	if sll, ok := from.(*unix.SockaddrLinklayer); ok && sll.Pkttype == unix.PACKET_OUTGOING {
		return nil, nil
	}
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes truncated to %d", n, maxFrame)
	}
	frame := pc.buf[vlanRoom : vlanRoom+n]
	tpid, tci, ok := vlanAux(pc.oob[:oobn])
	if ok && n >= 12 {
		// Move the MAC addresses into the headroom, tag after them.
		copy(pc.buf[:12], frame[:12])
		frame = pc.buf[:vlanRoom+n]
		binary.BigEndian.PutUint16(frame[12:], tpid)
		binary.BigEndian.PutUint16(frame[14:], tci)
	}
	return frame, nil
}

// vlanAux returns the VLAN tag that the kernel reports in PACKET_AUXDATA as
// taken out of the frame (by rx VLAN offload or skb_vlan_untag), if any.
func vlanAux(oob []byte) (tpid, tci uint16, ok bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, 0, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < sizeofTpacketAuxdata {
			continue
		}
		// struct tpacket_auxdata: status, len, snaplen (u32); mac, net,
		// vlan_tci, vlan_tpid (u16).
		status := binary.NativeEndian.Uint32(m.Data[0:])
		if status&unix.TP_STATUS_VLAN_VALID == 0 {
			return 0, 0, false
		}
		tci = binary.NativeEndian.Uint16(m.Data[16:])
		tpid = 0x8100
		if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = binary.NativeEndian.Uint16(m.Data[18:])
		}
		return tpid, tci, true
	}
	return 0, 0, false
}

// Close closes the socket. It may be called more than once.
func (pc *PacketConn) Close() error {
	tp := pc.Node.tp
	tp.mu.Lock()
	delete(tp.conns, pc)
	tp.mu.Unlock()
	return pc.close()
}

func (pc *PacketConn) close() error {
	pc.closeOnce.Do(func() { pc.closeErr = pc.f.Close() })
	return pc.closeErr
}

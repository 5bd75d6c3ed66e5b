// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testEtherType marks the frames the tests send (IEEE local experimental 1).
const testEtherType = 0x88b5

// env is a veth pair xa/xb in a private network namespace. xa runs an XDP program
// redirecting every frame to xsks[rx_queue_index]; pkt is an AF_PACKET socket bound
// to xb, to inject frames towards xa and to read what comes out of xb.
type env struct {
	ifA, ifB int
	xsks     *ebpf.Map
	pkt      int
}

// skipUnlessXSK skips the test without root or AF_XDP.
func skipUnlessXSK(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root (AF_XDP, BPF, network namespaces)")
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("skipped: AF_XDP unavailable: socket(AF_XDP): %v", err)
	}
	unix.Close(fd)
}

// withEnv runs fn on a goroutine locked to a thread inside a new network namespace
// (mtxsk<pid><random>) holding a fresh env. Sockets must be created inside fn: they
// keep the namespace they were created in. The thread returns to its namespace
// afterwards (or stays locked, so Go discards it); the namespace and everything
// in env are removed in t.Cleanup, also when fn fails.
func withEnv(t *testing.T, fn func(e *env)) {
	t.Helper()
	skipUnlessXSK(t)
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current netns: %v", err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original netns: %v (thread left locked)", err)
			return
		}
		orig.Close()
		runtime.UnlockOSThread()
	}()
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("mtxsk%d%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	ns, err := netns.NewNamed(name)
	if errors.Is(err, unix.EPERM) {
		t.Skipf("skipped: cannot create a network namespace: %v", err)
	}
	if err != nil {
		t.Fatalf("create netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("delete netns %s: %v", name, err)
		}
	})

	e := &env{pkt: -1}
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "xa"}, PeerName: "xb"}); err != nil {
		t.Fatalf("create veth xa/xb: %v", err)
	}
	for _, n := range []string{"xa", "xb"} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", n, err)
		}
		if n == "xa" {
			e.ifA = l.Attrs().Index
		} else {
			e.ifB = l.Attrs().Index
		}
	}

	e.xsks, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: 64})
	if errors.Is(err, unix.EPERM) {
		t.Skipf("skipped: cannot create BPF maps: %v", err)
	}
	if err != nil {
		t.Fatalf("create XSKMAP: %v", err)
	}
	t.Cleanup(func() { e.xsks.Close() })
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "xsk_redirect",
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 16, asm.Word), // r2 = ctx->rx_queue_index
			asm.LoadMapPtr(asm.R1, e.xsks.FD()),       // r1 = &xsks
			asm.Mov.Imm(asm.R3, 2),                    // r3 = XDP_PASS if no socket at that index
			asm.FnRedirectMap.Call(),
			asm.Return(),
		},
		License: "GPL",
	})
	if err != nil {
		t.Fatalf("load XDP program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: e.ifA, Flags: link.XDPDriverMode})
	if err != nil {
		t.Fatalf("attach XDP to xa (native mode): %v", err)
	}
	t.Cleanup(func() { l.Close() })

	e.pkt, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Fatalf("socket(AF_PACKET): %v", err)
	}
	t.Cleanup(func() { unix.Close(e.pkt) })
	if err := unix.Bind(e.pkt, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: e.ifB}); err != nil {
		t.Fatalf("bind AF_PACKET to xb: %v", err)
	}
	fn(e)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// register puts s in the XSKMAP at its queue index.
func (e *env) register(t *testing.T, s *Socket) {
	t.Helper()
	if err := e.xsks.Update(uint32(s.Queue()), uint32(s.FD()), ebpf.UpdateAny); err != nil {
		t.Fatalf("XSKMAP[%d] = fd %d: %v", s.Queue(), s.FD(), err)
	}
}

// testFrame builds a broadcast frame of n bytes (n >= 24) with testEtherType,
// carrying id and a pattern derived from it.
func testFrame(id uint16, n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01})
	binary.BigEndian.PutUint16(f[12:], testEtherType)
	copy(f[14:], "xsktest!")
	binary.BigEndian.PutUint16(f[22:], id)
	for i := 24; i < n; i++ {
		f[i] = byte(int(id) + i)
	}
	return f
}

// frameID returns the id of a test frame.
func frameID(f []byte) (uint16, bool) {
	if len(f) < 24 || binary.BigEndian.Uint16(f[12:]) != testEtherType || !bytes.Equal(f[14:22], []byte("xsktest!")) {
		return 0, false
	}
	return binary.BigEndian.Uint16(f[22:]), true
}

// inject sends frame out of xb, towards xa.
func (e *env) inject(t *testing.T, frame []byte) {
	t.Helper()
	if _, err := unix.Write(e.pkt, frame); err != nil {
		t.Fatalf("inject on xb: %v", err)
	}
}

// readB returns the next frame arriving at xb that match accepts, or nil after timeout.
func (e *env) readB(t *testing.T, match func([]byte) bool, timeout time.Duration) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(timeout)
	for i := 0; i < 10000 && time.Now().Before(deadline); i++ {
		pfd := []unix.PollFd{{Fd: int32(e.pkt), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 20); err != nil && err != unix.EINTR {
			t.Fatalf("poll AF_PACKET: %v", err)
		} else if n == 0 {
			continue
		}
		n, from, err := unix.Recvfrom(e.pkt, buf, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("recvfrom AF_PACKET: %v", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // sent by xb, not received
		}
		if match(buf[:n]) {
			return bytes.Clone(buf[:n])
		}
	}
	return nil
}

// receive collects want descriptors from s whose frames match accepts, within
// timeout; other frames (e.g. IPv6 noise) go straight back to the fill ring.
func receive(t *testing.T, s *Socket, want int, match func([]byte) bool, timeout time.Duration) []Desc {
	t.Helper()
	var got []Desc
	descs := make([]Desc, 64)
	deadline := time.Now().Add(timeout)
	for i := 0; i < 10000 && len(got) < want && time.Now().Before(deadline); i++ {
		n := s.Receive(descs)
		if n == 0 {
			if _, err := s.Wait(10 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, d := range descs[:n] {
			if match(s.UMEM().Data(d)) {
				got = append(got, d)
			} else if s.Fill([]uint64{d.Addr}) != 1 {
				t.Fatal("fill ring full while recycling a frame")
			}
		}
	}
	return got
}

func isTestFrame(f []byte) bool { _, ok := frameID(f); return ok }

// complete collects want completion addresses from s within timeout.
func complete(t *testing.T, s *Socket, want int, timeout time.Duration) []uint64 {
	t.Helper()
	var got []uint64
	addrs := make([]uint64, 64)
	deadline := time.Now().Add(timeout)
	for i := 0; i < 10000 && len(got) < want && time.Now().Before(deadline); i++ {
		n := s.Complete(addrs)
		if n == 0 {
			s.Transmit(nil) // flush anything the kernel left in the TX ring
			time.Sleep(time.Millisecond)
			continue
		}
		got = append(got, addrs[:n]...)
	}
	return got
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

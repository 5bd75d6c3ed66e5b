// SPDX-License-Identifier: Apache-2.0

package xsk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestDescLayout(t *testing.T) {
	var d Desc
	var k unix.XDPDesc
	if unsafe.Sizeof(d) != unsafe.Sizeof(k) || unsafe.Offsetof(d.Len) != unsafe.Offsetof(k.Len) || unsafe.Offsetof(d.Options) != unsafe.Offsetof(k.Options) {
		t.Fatalf("Desc layout differs from struct xdp_desc")
	}
}

func TestUMEM(t *testing.T) {
	for _, c := range []UMEMConfig{
		{NumFrames: 3},
		{FrameSize: 1024},
		{Headroom: -1},
		{Headroom: 2048 - PacketHeadroom},
	} {
		if u, err := NewUMEM(c); err == nil {
			u.Close()
			t.Errorf("NewUMEM(%+v) succeeded", c)
		} else if !strings.Contains(err.Error(), "UMEM config") {
			t.Errorf("NewUMEM(%+v): unclear error %q", c, err)
		}
	}
	u, err := NewUMEM(UMEMConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if u.NumFrames() != 4096 || u.FrameSize() != 2048 || u.Headroom() != 0 || len(u.Bytes()) != 4096*2048 {
		t.Errorf("defaults: %d frames of %d bytes, headroom %d, %d bytes", u.NumFrames(), u.FrameSize(), u.Headroom(), len(u.Bytes()))
	}
	if uintptr(unsafe.Pointer(&u.Bytes()[0]))%uintptr(unix.Getpagesize()) != 0 {
		t.Error("UMEM is not page-aligned")
	}
	f := u.Frame(3*2048 + 300)
	if len(f) != 2048 || cap(f) != 2048 || &f[0] != &u.Bytes()[3*2048] {
		t.Error("Frame does not return the containing chunk")
	}
	if u.FrameAddr(3) != 3*2048 || u.ChunkAddr(3*2048+300) != 3*2048 {
		t.Error("FrameAddr/ChunkAddr")
	}
	if d := u.Data(Desc{Addr: 2048 + 256, Len: 60}); len(d) != 60 || &d[0] != &u.Bytes()[2048+256] {
		t.Error("Data")
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Open(u, 1, 0, SocketConfig{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Open on a closed UMEM: %v", err)
	}
}

func newUMEM(t *testing.T, c UMEMConfig) *UMEM {
	t.Helper()
	u, err := NewUMEM(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := u.Close(); err != nil {
			t.Errorf("UMEM.Close: %v", err)
		}
	})
	return u
}

func open(t *testing.T, u *UMEM, ifindex, queue int, c SocketConfig) *Socket {
	t.Helper()
	s, err := Open(u, ifindex, queue, c)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Socket.Close: %v", err)
		}
	})
	return s
}

// TestReceiveTransmit: frames injected at xb arrive in RX with the right bytes, over
// several wraps of small rings; frames sent with Transmit leave through xb and come
// back from Complete. The TX batch is bigger than the kernel's copy-mode budget (32
// per wake-up).
func TestReceiveTransmit(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    SocketConfig
	}{
		{"copy", SocketConfig{RxSize: 16, FillSize: 16, TxSize: 64, CompSize: 64, Mode: ModeCopy}},
		{"auto-needwakeup", SocketConfig{RxSize: 16, FillSize: 16, TxSize: 64, CompSize: 64, NeedWakeup: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withEnv(t, func(e *env) {
				const headroom = 64
				u := newUMEM(t, UMEMConfig{NumFrames: 256, Headroom: headroom})
				s := open(t, u, e.ifA, 0, tc.c)
				t.Logf("zero-copy %t, need_wakeup %t; flags: fill %t, TX %t", s.ZeroCopy(), s.NeedWakeup(), s.FillNeedsWakeup(), s.tx.needWakeup())
				if s.SharesFillRing() {
					t.Error("the first socket shares a fill ring")
				}
				e.register(t, s)

				// RX: frames 0..15 cycle through the fill ring.
				fill := make([]uint64, 16)
				for i := range fill {
					fill[i] = u.FrameAddr(i)
				}
				if n := s.Fill(fill); n != 16 {
					t.Fatalf("Fill = %d, want 16", n)
				}
				if n := s.Fill(fill[:1]); n != 0 {
					t.Errorf("Fill into a full ring = %d, want 0", n)
				}
				id := uint16(0)
				for round := range 5 {
					want := map[uint16][]byte{}
					for range 8 {
						f := testFrame(id, 60+int(id))
						want[id] = f
						e.inject(t, f)
						id++
					}
					got := receive(t, s, 8, isTestFrame, 2*time.Second)
					if len(got) != 8 {
						t.Fatalf("round %d: received %d test frames, want 8", round, len(got))
					}
					for _, d := range got {
						if off := d.Addr - u.ChunkAddr(d.Addr); off != headroom+PacketHeadroom {
							t.Errorf("frame at offset %d in its chunk, want headroom %d + %d", off, headroom, PacketHeadroom)
						}
						chunk := u.Frame(d.Addr)
						off := d.Addr - u.ChunkAddr(d.Addr)
						b := chunk[off : off+uint64(d.Len)]
						fid, _ := frameID(b)
						if !bytes.Equal(b, want[fid]) {
							t.Errorf("frame %d: got %x, want %x", fid, b, want[fid])
						}
						delete(want, fid)
						if s.Fill([]uint64{d.Addr}) != 1 {
							t.Fatal("refill failed")
						}
					}
					if len(want) != 0 {
						t.Errorf("round %d: frames %v missing", round, want)
					}
				}

				// TX: 40 frames from chunks 64.., each at an odd offset inside its chunk.
				const ntx = 40
				descs := make([]Desc, ntx)
				sent := map[uint16][]byte{}
				for i := range descs {
					f := testFrame(uint16(1000+i), 60+i)
					d := Desc{Addr: u.FrameAddr(64+i) + 100 + uint64(i), Len: uint32(len(f))}
					copy(u.Data(d), f)
					descs[i] = d
					sent[uint16(1000+i)] = f
				}
				if n := s.Transmit(descs); n != ntx {
					t.Fatalf("Transmit = %d, want %d", n, ntx)
				}
				for range ntx {
					f := e.readB(t, isTestFrame, 2*time.Second)
					if f == nil {
						t.Fatalf("%d frames still missing at xb", len(sent))
					}
					fid, _ := frameID(f)
					if w, ok := sent[fid]; !ok || !bytes.Equal(f, w) {
						t.Errorf("xb got unexpected frame %x", f)
					}
					delete(sent, fid)
				}
				addrs := complete(t, s, ntx, 2*time.Second)
				// Compare chunks: 6.18 copy mode clears bit 0 of completed addresses.
				var wantAddrs []uint64
				for _, d := range descs {
					wantAddrs = append(wantAddrs, u.ChunkAddr(d.Addr))
				}
				for i := range addrs {
					addrs[i] = u.ChunkAddr(addrs[i])
				}
				slices.Sort(addrs)
				if !slices.Equal(addrs, wantAddrs) {
					t.Errorf("completed %v, want %v", addrs, wantAddrs)
				}
				st, err := s.Stats()
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("stats %+v", st)
				if st.TxInvalidDescs != 0 || st.RxInvalidDescs != 0 || st.TxWakeupErrors != 0 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// TestSharedUMEMForward: socket a on xa registers the UMEM, socket b on xb shares it
// with its own fill and completion rings. A frame injected at xb arrives on a; the
// forwarder pushes an MPLS label in place (a pointer move into the headroom) and
// posts the same descriptor to b's TX ring: no copy. b sends it out of xb, so it
// arrives at xa again and a receives it, rewritten, in another frame; b's completion
// ring hands back the forwarded address.
func TestSharedUMEMForward(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 64})
		a := open(t, u, e.ifA, 0, SocketConfig{Mode: ModeCopy})
		b := open(t, u, e.ifB, 0, SocketConfig{})
		if a.SharesFillRing() || b.SharesFillRing() {
			t.Fatal("sockets on different devices share a fill ring")
		}
		if b.ZeroCopy() != a.ZeroCopy() {
			t.Errorf("b inherited zero-copy %t, a has %t", b.ZeroCopy(), a.ZeroCopy())
		}
		e.register(t, a)
		// a receives into frames 0..31; frames 32..63 go to b's own fill ring, which
		// stays unused as xb has no XDP program, but must accept them.
		for i := range 32 {
			if a.Fill([]uint64{u.FrameAddr(i)}) != 1 || b.Fill([]uint64{u.FrameAddr(32 + i)}) != 1 {
				t.Fatal("Fill failed")
			}
		}

		orig := testFrame(7, 80)
		e.inject(t, orig)
		got := receive(t, a, 1, isTestFrame, 2*time.Second)
		if len(got) != 1 {
			t.Fatal("frame did not arrive on a")
		}
		d := got[0]
		mem := u.Bytes()
		// Push label 1000, TC 0, BoS, TTL 64 between the MAC addresses and the payload.
		copy(mem[d.Addr-4:], mem[d.Addr:d.Addr+12])
		fwd := Desc{Addr: d.Addr - 4, Len: d.Len + 4}
		binary.BigEndian.PutUint16(mem[fwd.Addr+12:], 0x8847)
		binary.BigEndian.PutUint32(mem[fwd.Addr+14:], 1000<<12|1<<8|64)
		want := slices.Concat(orig[:12], []byte{0x88, 0x47}, binary.BigEndian.AppendUint32(nil, 1000<<12|1<<8|64), orig[14:])
		if !bytes.Equal(u.Data(fwd), want) {
			t.Fatalf("in-place push: got %x, want %x", u.Data(fwd), want)
		}
		if n := b.Transmit([]Desc{fwd}); n != 1 {
			t.Fatalf("b.Transmit = %d", n)
		}
		isMPLS := func(f []byte) bool { return len(f) > 14 && binary.BigEndian.Uint16(f[12:]) == 0x8847 }
		back := receive(t, a, 1, isMPLS, 2*time.Second)
		if len(back) != 1 {
			t.Fatal("forwarded frame did not come back to a")
		}
		if g := u.Data(back[0]); !bytes.Equal(g, want) {
			t.Errorf("forwarded frame: got %x, want %x", g, want)
		}
		if u.ChunkAddr(back[0].Addr) == u.ChunkAddr(fwd.Addr) {
			t.Error("a received the forwarded frame into the chunk still owned by b's TX")
		}
		if c := complete(t, b, 1, 2*time.Second); len(c) != 1 || u.ChunkAddr(c[0]) != u.ChunkAddr(fwd.Addr) {
			t.Errorf("b completed %v, want [%d]", c, fwd.Addr)
		}
		if n := a.Complete(make([]uint64, 4)); n != 0 {
			t.Errorf("a's completion ring has %d entries for b's TX", n)
		}
	})
}

// TestSameQueueShare: a second socket on the same device, queue and UMEM shares the
// first one's fill and completion rings, which stay usable after the first closes.
func TestSameQueueShare(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 64})
		a, err := Open(u, e.ifA, 0, SocketConfig{})
		if err != nil {
			t.Fatal(err)
		}
		c := open(t, u, e.ifA, 0, SocketConfig{})
		if !c.SharesFillRing() {
			t.Fatal("second socket on the same queue does not share the fill ring")
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		e.register(t, c)
		for i := range 16 {
			if c.Fill([]uint64{u.FrameAddr(i)}) != 1 {
				t.Fatal("Fill through the shared ring failed")
			}
		}
		f := testFrame(9, 64)
		e.inject(t, f)
		got := receive(t, c, 1, isTestFrame, 2*time.Second)
		if len(got) != 1 || !bytes.Equal(u.Data(got[0]), f) {
			t.Fatalf("second socket received %v", got)
		}
	})
}

// TestStats: frames arriving with an empty fill ring are dropped and counted; an
// invalid TX descriptor is counted, not completed.
func TestStats(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 64})
		s := open(t, u, e.ifA, 0, SocketConfig{})
		e.register(t, s)
		for i := range 3 {
			e.inject(t, testFrame(uint16(i), 60))
		}
		if n := s.Transmit([]Desc{{Addr: uint64(len(u.Bytes())) + 4096, Len: 60}}); n != 1 {
			t.Fatalf("Transmit = %d", n)
		}
		var st Stats
		deadline := time.Now().Add(2 * time.Second)
		for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
			var err error
			if st, err = s.Stats(); err != nil {
				t.Fatal(err)
			}
			if st.RxDropped+st.RxFillRingEmptyDescs >= 3 && st.TxInvalidDescs >= 1 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("stats %+v", st)
		if st.RxDropped+st.RxFillRingEmptyDescs < 3 {
			t.Errorf("drops on an empty fill ring not counted: %+v", st)
		}
		if st.TxInvalidDescs != 1 {
			t.Errorf("TxInvalidDescs = %d, want 1", st.TxInvalidDescs)
		}
		// Copy mode hands invalid descriptors back on the completion ring.
		if c := make([]uint64, 4); s.Complete(c) != 0 && c[0] != uint64(len(u.Bytes()))+4096 {
			t.Errorf("completed %v, not the invalid descriptor", c)
		}
	})
}

// TestOpenErrors: failures name the step, the ifindex and queue, wrap the errno,
// and leave no file descriptor behind, both for the socket registering the UMEM
// and for one sharing it.
func TestOpenErrors(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 64})
		const bad = 999999
		check := func(name string, c SocketConfig, ifindex int, errno error, text string) {
			t.Helper()
			before := openFDs(t)
			s, err := Open(u, ifindex, 0, c)
			if err == nil {
				s.Close()
				t.Errorf("%s: Open succeeded", name)
				return
			}
			t.Logf("%s: %v", name, err)
			var se *SetupError
			if !errors.As(err, &se) || se.Ifindex != ifindex || !strings.Contains(err.Error(), text) {
				t.Errorf("%s: unclear error %q", name, err)
			}
			if errno != nil && !errors.Is(err, errno) {
				t.Errorf("%s: error %q does not wrap %v", name, err, errno)
			}
			if after := openFDs(t); after != before {
				t.Errorf("%s: %d fds open before, %d after", name, before, after)
			}
		}
		check("bad ring size", SocketConfig{RxSize: 100}, e.ifA, nil, "RxSize 100")
		check("bad ifindex, registering", SocketConfig{}, bad, unix.ENODEV, "ifindex 999999 queue 0: bind")
		s, err := Open(u, e.ifA, 0, SocketConfig{Mode: ModeZeroCopy})
		if err == nil {
			t.Logf("xa supports zero-copy")
			s.Close()
		} else {
			t.Logf("zero-copy on veth: %v", err)
			if !strings.Contains(err.Error(), "bind (mode zero-copy") {
				t.Errorf("unclear zero-copy error %q", err)
			}
		}
		a := open(t, u, e.ifA, 0, SocketConfig{Mode: ModeCopy})
		check("bad ifindex, sharing", SocketConfig{}, bad, unix.ENODEV, "bind XDP_SHARED_UMEM")
		check("zero-copy on a copy-mode UMEM", SocketConfig{Mode: ModeZeroCopy}, e.ifB, nil, "zero-copy requested")
		// The failed attempts left the UMEM and a usable.
		b := open(t, u, e.ifB, 0, SocketConfig{})
		if b.ZeroCopy() || a.ZeroCopy() {
			t.Error("copy-mode UMEM gave zero-copy")
		}
	})
}

// TestClose: Close is idempotent; a UMEM refuses to close under open sockets.
func TestClose(t *testing.T) {
	withEnv(t, func(e *env) {
		u, err := NewUMEM(UMEMConfig{NumFrames: 64})
		if err != nil {
			t.Fatal(err)
		}
		before := openFDs(t)
		s, err := Open(u, e.ifA, 0, SocketConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := u.Close(); err == nil {
			t.Error("UMEM.Close with an open socket succeeded")
		}
		for i := range 2 {
			if err := s.Close(); err != nil {
				t.Errorf("Close #%d: %v", i+1, err)
			}
		}
		if after := openFDs(t); after != before {
			t.Errorf("%d fds open before, %d after Close", before, after)
		}
		// The queue is free again (after the kernel's deferred release).
		s2, err := Open(u, e.ifA, 0, SocketConfig{})
		if err != nil {
			t.Fatalf("reopen on the same queue: %v", err)
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := u.Close(); err != nil {
				t.Errorf("UMEM.Close #%d: %v", i+1, err)
			}
		}
	})
}

var (
	sinkN int
	sinkB bool
)

// TestHotPathAllocs: Fill, Receive, Transmit, Complete and the wake-up helpers do
// not allocate.
func TestHotPathAllocs(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 512})
		s := open(t, u, e.ifA, 0, SocketConfig{NeedWakeup: true})
		e.register(t, s)
		addrs := make([]uint64, 8)
		descs := make([]Desc, 8)
		f := testFrame(1, 60)
		tx := []Desc{{Addr: u.FrameAddr(300), Len: uint32(len(f))}}
		copy(u.Data(tx[0]), f)
		next := 0
		for _, c := range []struct {
			name string
			fn   func()
		}{
			{"Fill", func() { addrs[0] = u.FrameAddr(next % 256); next++; sinkN = s.Fill(addrs[:1]) }},
			{"Receive", func() { sinkN = s.Receive(descs) }},
			{"Transmit", func() { sinkN = s.Transmit(tx) }},
			{"Complete", func() { sinkN = s.Complete(addrs) }},
			{"FillNeedsWakeup", func() { sinkB = s.FillNeedsWakeup() }},
			{"WakeRX", func() { sinkB = s.WakeRX() == nil }},
		} {
			if a := testing.AllocsPerRun(100, c.fn); a != 0 {
				t.Errorf("%s: %.1f allocations per call", c.name, a)
			}
		}
	})
}

// TestConcurrentSides: one goroutine on the RX side and one on the TX side of the
// same socket, as the thread contract allows (run with -race).
func TestConcurrentSides(t *testing.T) {
	withEnv(t, func(e *env) {
		u := newUMEM(t, UMEMConfig{NumFrames: 256})
		s := open(t, u, e.ifA, 0, SocketConfig{RxSize: 64, FillSize: 64, TxSize: 64, CompSize: 64})
		e.register(t, s)
		for i := range 64 {
			s.Fill([]uint64{u.FrameAddr(i)})
		}
		const nrx, ntx = 100, 300
		var received atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // RX side
			defer wg.Done()
			descs := make([]Desc, 16)
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := s.Receive(descs)
				for _, d := range descs[:n] {
					if isTestFrame(u.Data(d)) {
						received.Add(1)
					}
					s.Fill([]uint64{d.Addr})
				}
				if n == 0 {
					s.Wait(5 * time.Millisecond)
				}
			}
		}()
		var completed atomic.Int64
		go func() { // TX side: frames 128..191 in flight, recycled through Complete
			defer wg.Done()
			free := make([]uint64, 0, 64)
			for i := range 64 {
				free = append(free, u.FrameAddr(128+i))
			}
			comp := make([]uint64, 16)
			sent := 0
			deadline := time.Now().Add(5 * time.Second)
			for i := 0; i < 100000 && completed.Load() < ntx && time.Now().Before(deadline); i++ {
				if sent < ntx && len(free) > 0 {
					d := Desc{Addr: free[len(free)-1], Len: 60}
					copy(u.Data(d), testFrame(uint16(sent), 60))
					if s.Transmit([]Desc{d}) == 1 {
						free = free[:len(free)-1]
						sent++
					}
				}
				n := s.Complete(comp)
				free = append(free, comp[:n]...)
				completed.Add(int64(n))
				if n == 0 && (sent == ntx || len(free) == 0) {
					s.Transmit(nil)
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; i < nrx && time.Now().Before(deadline); {
			if int(received.Load()) < i-32 { // keep the fill ring ahead of the sender
				time.Sleep(time.Millisecond)
				continue
			}
			e.inject(t, testFrame(uint16(i), 60))
			i++
		}
		for time.Now().Before(deadline) && (received.Load() < nrx || completed.Load() < ntx) {
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if received.Load() != nrx || completed.Load() != ntx {
			t.Errorf("received %d of %d, completed %d of %d", received.Load(), nrx, completed.Load(), ntx)
		}
	})
}

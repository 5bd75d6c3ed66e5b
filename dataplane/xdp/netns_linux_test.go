// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNetns runs fn with the calling goroutine locked to its thread and that thread in a
// new network namespace with a fresh name (mplsxdp<pid><random>). The thread returns to
// its namespace afterwards; if that fails it stays locked, so Go discards it. The
// namespace is deleted in t.Cleanup, also when fn fails.
func inNetns(t *testing.T, fn func()) {
	t.Helper()
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
	name := fmt.Sprintf("mplsxdp%d%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	ns, err := netns.NewNamed(name)
	if errors.Is(err, syscall.EPERM) {
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
	fn()
}

// veth creates a veth pair in the current namespace, both ends up, and returns the
// ifindex of the first.
func veth(t *testing.T, a, b string) int {
	t.Helper()
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b}); err != nil {
		t.Fatalf("create veth %s/%s: %v", a, b, err)
	}
	var idx int
	for _, n := range []string{a, b} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", n, err)
		}
		if n == a {
			idx = l.Attrs().Index
		}
	}
	return idx
}

// xdpProg returns the id of the XDP program attached to the interface name, 0 if none.
func xdpProg(t *testing.T, name string) uint32 {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if x := l.Attrs().Xdp; x != nil && x.Attached {
		return x.ProgId
	}
	return 0
}

func progID(t *testing.T, p *ebpf.Program) uint32 {
	t.Helper()
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := info.ID()
	if !ok {
		t.Fatal("program id unavailable")
	}
	return uint32(id)
}

func TestAttachDetachVeth(t *testing.T) {
	e := load(t, Options{})
	inNetns(t, func() {
		idx := veth(t, "xdp0", "xdp1")
		if err := e.Attach(idx); err != nil {
			t.Fatalf("Attach: %v", err)
		}
		if got, want := xdpProg(t, "xdp0"), progID(t, e.Program()); got != want {
			t.Errorf("xdp0 runs program %d, want %d", got, want)
		}
		if got := e.Attached(); !slices.Equal(got, []int{idx}) {
			t.Errorf("Attached() = %v, want [%d]", got, idx)
		}
		if err := e.Attach(idx); err == nil {
			t.Error("second Attach of one interface succeeded")
		}
		if err := e.Detach(idx); err != nil {
			t.Fatalf("Detach: %v", err)
		}
		if got := xdpProg(t, "xdp0"); got != 0 {
			t.Errorf("xdp0 still runs program %d after Detach", got)
		}
		if err := e.Detach(idx); err == nil {
			t.Error("Detach of a detached interface succeeded")
		}
	})
}

// TestPinnedLinkTakeover: a pinned link survives Release, is found by Adopt, and a
// newly loaded program replaces the old one in it without a detach.
func TestPinnedLinkTakeover(t *testing.T) {
	skipUnlessBPF(t)
	dir := bpffsDir(t)
	inNetns(t, func() {
		idx := veth(t, "xdp0", "xdp1")
		e, err := Load(Options{PinPath: dir})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if err := e.Attach(idx); err != nil {
			e.Close()
			t.Fatalf("Attach: %v", err)
		}
		first := progID(t, e.Program())
		if err := e.Release(); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if got := xdpProg(t, "xdp0"); got != first {
			t.Fatalf("after Release xdp0 runs program %d, want %d", got, first)
		}

		a, err := Adopt(dir)
		if err != nil {
			t.Fatalf("Adopt: %v", err)
		}
		if got := a.Attached(); !slices.Equal(got, []int{idx}) {
			t.Errorf("adopted Attached() = %v, want [%d]", got, idx)
		}
		if got := progID(t, a.Program()); got != first {
			t.Errorf("adopted program %d, want %d", got, first)
		}
		if err := a.Release(); err != nil {
			t.Fatalf("Release: %v", err)
		}

		l, err := Load(Options{PinPath: dir})
		if err != nil {
			t.Fatalf("Load over pins: %v", err)
		}
		if err := l.Attach(idx); err != nil {
			l.Close()
			t.Fatalf("Attach over pinned link: %v", err)
		}
		second := progID(t, l.Program())
		if second == first {
			t.Error("Load over pins did not load a new program")
		}
		if got := xdpProg(t, "xdp0"); got != second {
			t.Errorf("after takeover xdp0 runs program %d, want %d", got, second)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := xdpProg(t, "xdp0"); got != 0 {
			t.Errorf("after Close xdp0 runs program %d", got)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pin directory left after Close: %v", err)
		}
	})
}

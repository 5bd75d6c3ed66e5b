// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetnsDir is where named network namespaces are bind-mounted, as by `ip netns`.
const NetnsDir = "/run/netns"

// maxDumpRetries bounds the retries of a netlink dump that the kernel
// interrupted because the table changed under it.
const maxDumpRetries = 10

// Topology is one run's set of namespaces and veth pairs.
//
// Its methods, and those of its nodes, may be called from any goroutine;
// Close must not run concurrently with them.
type Topology struct {
	prefix string

	mu     sync.Mutex // guards the fields below
	nodes  []*Node
	conns  map[*PacketConn]struct{}
	closed bool
}

// Node is one network namespace of a Topology.
type Node struct {
	// Name is the name given to AddNode; Namespace is the full namespace
	// name, the topology's prefix followed by Name.
	Name, Namespace string

	tp *Topology
	ns netns.NsHandle

	mu sync.Mutex // serialises use of h
	h  *netlink.Handle
}

// Iface is one end of a veth pair, as seen inside its node's namespace.
type Iface struct {
	Node  *Node
	Name  string
	Index int // ifindex inside Node's namespace
	MAC   net.HardwareAddr
}

// LinkOpts are the optional settings of a veth pair. Zero values leave the
// kernel's choice: random MACs, MTU 1500.
type LinkOpts struct {
	AMAC, BMAC net.HardwareAddr
	MTU        int
}

// New returns an empty topology whose namespaces and veths are removed when the
// test and its subtests end, also when the test fails or panics. It skips the
// test when not run as root or when network namespaces are unavailable.
func New(t testing.TB) *Topology {
	t.Helper()
	if reason := unavailable(); reason != "" {
		t.Skip("topo: " + reason)
	}
	tp, err := NewForRun("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tp.Close(); err != nil {
			t.Errorf("topo: cleanup: %v", err)
		}
	})
	return tp
}

// Available reports whether this process can build topologies; when it cannot,
// the reason says why (not root, no network namespaces).
func Available() (ok bool, reason string) {
	reason = unavailable()
	return reason == "", reason
}

var unavailable = sync.OnceValue(func() string {
	if os.Geteuid() != 0 {
		return "needs root to create network namespaces"
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Sprintf("network namespaces unavailable: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is left locked so that it exits with this goroutine
		// instead of going back to the scheduler inside the probe namespace.
		runtime.LockOSThread()
		errc <- unix.Unshare(unix.CLONE_NEWNET)
	}()
	if err := <-errc; err != nil {
		return fmt.Sprintf("network namespaces unavailable: unshare: %v", err)
	}
	return ""
})

// RandomPrefix returns a fresh run prefix: "mt", 6 random base32 characters
// and "-", 9 characters in all.
func RandomPrefix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	out := []byte("mt")
	for _, c := range b {
		out = append(out, alphabet[c&31])
	}
	return string(append(out, '-'))
}

// NewForRun returns an empty topology for a user outside `go test`, such as the
// demo; the caller must Close it. Every namespace is named prefix+node name; an
// empty prefix means a fresh RandomPrefix.
func NewForRun(prefix string) (*Topology, error) {
	if prefix == "" {
		prefix = RandomPrefix()
	}
	if err := checkName(prefix); err != nil {
		return nil, fmt.Errorf("topo: prefix: %w", err)
	}
	if reason := unavailable(); reason != "" {
		return nil, errors.New("topo: " + reason)
	}
	return &Topology{prefix: prefix, conns: make(map[*PacketConn]struct{})}, nil
}

// Prefix returns the run prefix of every namespace of tp.
func (tp *Topology) Prefix() string { return tp.prefix }

// Nodes returns tp's nodes in the order they were added.
func (tp *Topology) Nodes() []*Node {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]*Node(nil), tp.nodes...)
}

func checkName(s string) error {
	if s == "" || len(s) > 200 {
		return fmt.Errorf("name %q: want 1 to 200 characters", s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("name %q: only letters, digits, '-', '_' and '.' allowed", s)
		}
	}
	if s == "." || s == ".." {
		return fmt.Errorf("name %q not allowed", s)
	}
	return nil
}

// AddNode creates the namespace prefix+name with its loopback up.
func (tp *Topology) AddNode(name string) (*Node, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("topo: node: %w", err)
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.closed {
		return nil, errors.New("topo: topology is closed")
	}
	for _, n := range tp.nodes {
		if n.Name == name {
			return nil, fmt.Errorf("topo: node %q exists", name)
		}
	}
	full := tp.prefix + name
	ns, err := newNamedNS(full)
	if err != nil {
		return nil, fmt.Errorf("topo: node %q: %w", name, err)
	}
	n := &Node{Name: name, Namespace: full, tp: tp, ns: ns}
	// Registered before anything else can fail, so that Close removes it.
	tp.nodes = append(tp.nodes, n)
	n.h, err = netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("topo: node %q: netlink: %w", name, err)
	}
	lo, err := n.h.LinkByName("lo")
	if err == nil {
		err = n.h.LinkSetUp(lo)
	}
	if err != nil {
		return nil, fmt.Errorf("topo: node %q: loopback up: %w", name, err)
	}
	return n, nil
}

// newNamedNS creates a network namespace and bind-mounts it at NetnsDir/name.
// The namespace is entered on a dedicated thread that is never unlocked, so it
// exits with its goroutine and no other goroutine ever runs inside the new
// namespace by accident.
func newNamedNS(name string) (netns.NsHandle, error) {
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return netns.None(), err
	}
	path := filepath.Join(NetnsDir, name)
	type result struct {
		ns  netns.NsHandle
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			c <- result{netns.None(), err}
			return
		}
		f.Close()
		fail := func(err error) {
			_ = unix.Unmount(path, unix.MNT_DETACH)
			_ = os.Remove(path)
			c <- result{netns.None(), err}
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			fail(fmt.Errorf("unshare: %w", err))
			return
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			fail(fmt.Errorf("bind mount %s: %w", path, err))
			return
		}
		ns, err := netns.GetFromPath(path)
		if err != nil {
			fail(err)
			return
		}
		c <- result{ns, nil}
	}()
	r := <-c
	return r.ns, r.err
}

// Close closes every PacketConn of tp, deletes every veth and namespace, and
// returns the errors met on the way. It may be called more than once.
func (tp *Topology) Close() error {
	tp.mu.Lock()
	if tp.closed {
		tp.mu.Unlock()
		return nil
	}
	tp.closed = true
	nodes := tp.nodes
	tp.nodes = nil
	conns := tp.conns
	tp.conns = nil
	tp.mu.Unlock()

	var errs []error
	for pc := range conns {
		if err := pc.close(); err != nil {
			errs = append(errs, err)
		}
	}
	// Deleting the veths explicitly, rather than leaving them to the
	// (asynchronous) destruction of the namespace, means they are gone when
	// Close returns, even if some file descriptor still pins a namespace.
	for _, n := range nodes {
		if err := n.deleteLinks(); err != nil {
			errs = append(errs, fmt.Errorf("node %q: %w", n.Name, err))
		}
	}
	for _, n := range nodes {
		if n.h != nil {
			n.h.Close()
		}
		_ = n.ns.Close()
		if err := netns.DeleteNamed(n.Namespace); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("node %q: delete namespace: %w", n.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("topo: close: %w", err)
	}
	return nil
}

// deleteLinks deletes every link of n but its loopback. Deleting one veth end
// deletes its peer in the other node too.
func (n *Node) deleteLinks() error {
	if n.h == nil {
		return nil
	}
	links, err := n.linkList()
	if err != nil {
		return err
	}
	var errs []error
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback != 0 {
			continue
		}
		if err := n.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("delete %s: %w", l.Attrs().Name, err))
		}
	}
	return errors.Join(errs...)
}

func (n *Node) linkList() ([]netlink.Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for range maxDumpRetries {
		links, err := n.h.LinkList()
		if errors.Is(err, netlink.ErrDumpInterrupted) {
			continue
		}
		return links, err
	}
	return nil, errors.New("link dump interrupted too often")
}

// Path returns the file the namespace is mounted at, usable with
// `ip netns exec` or `nsenter --net=PATH`.
func (n *Node) Path() string { return filepath.Join(NetnsDir, n.Namespace) }

// Link creates a veth pair with end aIf in a and end bIf in b (a and b may be
// the same node), sets both up and returns them. Interface names are at most 15
// characters; they live only inside the namespaces, so they need no run prefix.
func (tp *Topology) Link(a *Node, aIf string, b *Node, bIf string, opts LinkOpts) (*Iface, *Iface, error) {
	for _, name := range [...]string{aIf, bIf} {
		if name == "" || len(name) >= unix.IFNAMSIZ || strings.ContainsAny(name, "/: \t\n") {
			return nil, nil, fmt.Errorf("topo: bad interface name %q", name)
		}
	}
	if a.tp != tp || b.tp != tp {
		return nil, nil, errors.New("topo: node of another topology")
	}
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: aIf, MTU: opts.MTU, HardwareAddr: opts.AMAC},
		PeerName:         bIf,
		PeerHardwareAddr: opts.BMAC,
		PeerNamespace:    netlink.NsFd(b.ns),
	}
	a.mu.Lock()
	err := a.h.LinkAdd(veth)
	a.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("topo: veth %s/%s - %s/%s: %w", a.Name, aIf, b.Name, bIf, err)
	}
	ai, err := a.up(aIf)
	if err != nil {
		return nil, nil, err
	}
	bi, err := b.up(bIf)
	if err != nil {
		return nil, nil, err
	}
	// Until the kernel's link watcher has seen the carrier, a device
	// transmits through noop_qdisc, which drops everything: the first
	// packets of a test would vanish.
	for _, e := range [...]*Iface{ai, bi} {
		if err := e.Node.waitOperUp(e.Name, linkUpTimeout); err != nil {
			return nil, nil, err
		}
	}
	return ai, bi, nil
}

// linkUpTimeout bounds the wait for a new veth pair to be operationally up.
const linkUpTimeout = 5 * time.Second

// waitOperUp waits until an interface of n is operationally up.
func (n *Node) waitOperUp(ifname string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n.mu.Lock()
		l, err := n.h.LinkByName(ifname)
		n.mu.Unlock()
		if err != nil {
			return fmt.Errorf("topo: %s/%s: %w", n.Name, ifname, err)
		}
		if l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topo: %s/%s: not operationally up after %v (state %v)", n.Name, ifname, timeout, l.Attrs().OperState)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (n *Node) up(ifname string) (*Iface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, err := n.h.LinkByName(ifname)
	if err == nil {
		err = n.h.LinkSetUp(l)
	}
	if err != nil {
		return nil, fmt.Errorf("topo: %s/%s up: %w", n.Name, ifname, err)
	}
	return &Iface{Node: n, Name: ifname, Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}, nil
}

// Iface looks up an interface of n by name.
func (n *Node) Iface(ifname string) (*Iface, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, err := n.h.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("topo: %s/%s: %w", n.Name, ifname, err)
	}
	return &Iface{Node: n, Name: ifname, Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}, nil
}

// SetUp sets an interface of n administratively up or down.
func (n *Node) SetUp(ifname string, up bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, err := n.h.LinkByName(ifname)
	if err == nil {
		if up {
			err = n.h.LinkSetUp(l)
		} else {
			err = n.h.LinkSetDown(l)
		}
	}
	if err != nil {
		return fmt.Errorf("topo: %s/%s set up=%v: %w", n.Name, ifname, up, err)
	}
	return nil
}

// AddAddr adds prefix (an address and its prefix length, e.g. 192.0.2.1/30) to
// an interface of n. IPv6 addresses skip duplicate address detection, so they
// are usable at once instead of after a second or two of being tentative.
func (n *Node) AddAddr(ifname string, prefix netip.Prefix) error {
	if err := checkPrefix(prefix.Masked(), false); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	l, err := n.h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("topo: %s/%s: %w", n.Name, ifname, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{
		IP:   prefix.Addr().AsSlice(),
		Mask: net.CIDRMask(prefix.Bits(), prefix.Addr().BitLen()),
	}}
	if prefix.Addr().Is6() {
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := n.h.AddrAdd(l, addr); err != nil {
		return fmt.Errorf("topo: %s/%s add %v: %w", n.Name, ifname, prefix, err)
	}
	if prefix.Addr().Is6() {
		return n.waitIPv6Ready(l, prefix.Addr(), addrReadyTimeout)
	}
	return nil
}

// addrReadyTimeout bounds the wait for a new IPv6 address to become usable.
const addrReadyTimeout = 5 * time.Second

// waitIPv6Ready waits until the new IPv6 address a on l is usable. Even with
// IFA_F_NODAD, the kernel finishes adding an address in a work item a moment
// after the netlink request returns: only then does it join the address's
// solicited-node multicast group and insert its local route. A neighbour
// solicitation arriving before the join is dropped silently, which costs the
// first ping a one-second retransmission.
// n.mu is held.
func (n *Node) waitIPv6Ready(l netlink.Link, a netip.Addr, timeout time.Duration) error {
	a16 := a.As16()
	group := fmt.Sprintf("ff0200000000000000000001ff%x", a16[13:])
	ifindex := strconv.Itoa(l.Attrs().Index)
	deadline := time.Now().Add(timeout)
	for {
		joined := false
		err := n.Do(func() error {
			// /proc/net is /proc/self/net, the namespace of the main
			// thread; this thread's namespace is under thread-self.
			b, err := os.ReadFile("/proc/thread-self/net/igmp6")
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) >= 3 && f[0] == ifindex && f[2] == group {
					joined = true
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("topo: %s/%s: %w", n.Name, l.Attrs().Name, err)
		}
		if joined {
			routes, err := n.h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{
				Table: unix.RT_TABLE_LOCAL,
				Dst:   &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(128, 128)},
			}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_DST)
			if err == nil && len(routes) > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topo: %s/%s: %v not ready after %v", n.Name, l.Attrs().Name, a, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// AddRoute adds a route to dst inside n. via may be the zero Addr for a route
// straight out of ifname; ifname may be empty when via is given. dst must be a
// documentation prefix or a default route (which still reaches only the
// namespaces' own links).
func (n *Node) AddRoute(dst netip.Prefix, via netip.Addr, ifname string) error {
	if err := checkPrefix(dst, true); err != nil {
		return err
	}
	if dst.Masked() != dst {
		return fmt.Errorf("topo: route destination %v has host bits set", dst)
	}
	r := &netlink.Route{Dst: &net.IPNet{
		IP:   dst.Addr().AsSlice(),
		Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen()),
	}}
	if via.IsValid() {
		if err := checkAddr(via, true); err != nil {
			return err
		}
		if via.Is4() != dst.Addr().Is4() {
			return fmt.Errorf("topo: route %v via %v: address families differ", dst, via)
		}
		r.Gw = via.AsSlice()
	} else if ifname == "" {
		return fmt.Errorf("topo: route %v: need a next hop or an interface", dst)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ifname != "" {
		l, err := n.h.LinkByName(ifname)
		if err != nil {
			return fmt.Errorf("topo: %s/%s: %w", n.Name, ifname, err)
		}
		r.LinkIndex = l.Attrs().Index
	}
	if err := n.h.RouteAdd(r); err != nil {
		return fmt.Errorf("topo: %s: route %v via %v dev %q: %w", n.Name, dst, via, ifname, err)
	}
	return nil
}

// AddNeigh adds a permanent neighbour (ARP or NDP) entry for ip on an
// interface of n.
func (n *Node) AddNeigh(ifname string, ip netip.Addr, mac net.HardwareAddr) error {
	if err := checkAddr(ip, true); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	l, err := n.h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("topo: %s/%s: %w", n.Name, ifname, err)
	}
	family := netlink.FAMILY_V4
	if ip.Is6() {
		family = netlink.FAMILY_V6
	}
	err = n.h.NeighSet(&netlink.Neigh{
		LinkIndex:    l.Attrs().Index,
		Family:       family,
		State:        netlink.NUD_PERMANENT,
		IP:           ip.AsSlice(),
		HardwareAddr: mac,
	})
	if err != nil {
		return fmt.Errorf("topo: %s/%s: neighbour %v lladdr %v: %w", n.Name, ifname, ip, mac, err)
	}
	return nil
}

// sysctlPath maps "net.ipv4.ip_forward" to /proc/sys/net/ipv4/ip_forward. A key
// containing '/' is taken as a path below /proc/sys as it is, for names with
// dots in them ("net/ipv4/conf/eth0.10/rp_filter").
func sysctlPath(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") {
		return "", fmt.Errorf("topo: bad sysctl key %q", key)
	}
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return filepath.Join("/proc/sys", filepath.Clean("/"+key)), nil
}

// SetSysctl writes value to the sysctl key (e.g. "net.ipv4.ip_forward") inside
// n's namespace. Note that net.ipv6.conf.all.* applies to existing interfaces
// only; set net.ipv6.conf.default.* too, before creating links, to cover later
// ones.
func (n *Node) SetSysctl(key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	err = n.Do(func() error { return os.WriteFile(path, []byte(value), 0o644) })
	if err != nil {
		return fmt.Errorf("topo: %s: sysctl %s=%s: %w", n.Name, key, value, err)
	}
	return nil
}

// Sysctl reads the sysctl key inside n's namespace, without the trailing
// newline.
func (n *Node) Sysctl(key string) (string, error) {
	path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	var b []byte
	err = n.Do(func() (err error) {
		b, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("topo: %s: sysctl %s: %w", n.Name, key, err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// Do runs fn on an OS thread inside n's namespace and returns its error. fn
// runs on a goroutine of its own, locked to its thread; the caller's thread is
// never switched. Afterwards the thread is switched back and unlocked; if that
// fails, the thread stays locked and so exits with the goroutine rather than
// serving other goroutines in the wrong namespace. A panic in fn is re-raised in
// the caller. Goroutines that fn starts do not run in n's namespace.
func (n *Node) Do(fn func() error) error {
	type result struct {
		err      error
		panicked bool
		p        any
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			c <- result{err: fmt.Errorf("topo: current namespace: %w", err)}
			return
		}
		defer orig.Close()
		if err := netns.Set(n.ns); err != nil {
			// Whether or not setns half-happened, keep the thread locked:
			// it exits with this goroutine.
			c <- result{err: fmt.Errorf("topo: enter %s: %w", n.Namespace, err)}
			return
		}
		r := result{panicked: true}
		defer func() {
			if r.panicked {
				r.p = recover()
			}
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
			c <- r
		}()
		r.err = fn()
		r.panicked = false
	}()
	r := <-c
	if r.panicked {
		panic(r.p)
	}
	return r.err
}

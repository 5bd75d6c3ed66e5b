// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/mplsdp/mplsdp/bpf"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/dataplane/vectors"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// skipUnlessBPF skips the test, saying why, when BPF maps cannot be created here (not
// root, no BPF, a locked-down kernel), as cilium/ebpf's testutils do.
func skipUnlessBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root for BPF")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		t.Skipf("skipped: BPF unavailable: %v", err)
	}
	m.Close()
}

// load loads an engine and closes it when the test ends.
func load(t *testing.T, opts Options) *Engine {
	t.Helper()
	skipUnlessBPF(t)
	e, err := Load(opts)
	if errors.Is(err, ebpf.ErrNotSupported) {
		t.Skipf("skipped: kernel lacks a feature: %v", err)
	}
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// fixtureRouter builds the router of testdata/vectors.json, with made-up ifindexes
// 100+port on its ports (the devmap is not written in test mode, so they need not exist).
func fixtureRouter(t *testing.T) *dataplane.Router {
	t.Helper()
	f, err := vectors.Load("../../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Fixture.Router()
	if err != nil {
		t.Fatal(err)
	}
	cfg := *r.Config()
	for i := range cfg.Ports {
		if cfg.Ports[i].Name != "" {
			cfg.Ports[i].Ifindex = uint32(100 + i)
		}
	}
	r.SetConfig(&cfg)
	return r
}

// dump reads a whole map.
func dump[K, V comparable](t *testing.T, m *ebpf.Map) map[K]V {
	t.Helper()
	out := make(map[K]V)
	var (
		k K
		v V
	)
	it := m.Iterate()
	for it.Next(&k, &v) {
		out[k] = v
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate %s: %v", m, err)
	}
	return out
}

// contents is every map the engine writes, read back from the kernel.
type contents struct {
	ports    map[uint32]bpf.MplsdpPort
	ifports  map[uint32]bpf.MplsdpPort
	infra4   map[bpf.MplsdpInfra4Key]uint8
	infra6   map[bpf.MplsdpInfra6Key]uint8
	labels   map[uint32]bpf.MplsdpLfibEntry
	tunnels  map[uint32]bpf.MplsdpLfibEntry
	bindings map[bpf.MplsdpBindingKey]bpf.MplsdpBinding
	routes4  map[bpf.MplsdpRoute4Key]bpf.MplsdpNexthop
	routes6  map[bpf.MplsdpRoute6Key]bpf.MplsdpNexthop
}

func readAll(t *testing.T, e *Engine) *contents {
	t.Helper()
	m := e.Maps()
	return &contents{
		ports:    dumpPorts(t, m[bpf.MplsdpMapPorts]),
		ifports:  dumpPorts(t, m[bpf.MplsdpMapIfindexPorts]),
		infra4:   dump[bpf.MplsdpInfra4Key, uint8](t, m[bpf.MplsdpMapInfra4]),
		infra6:   dump[bpf.MplsdpInfra6Key, uint8](t, m[bpf.MplsdpMapInfra6]),
		labels:   dumpLFIB(t, m[bpf.MplsdpMapLabelIndex], m[bpf.MplsdpMapLabelSlots]),
		tunnels:  dumpLFIB(t, m[bpf.MplsdpMapTunnelIndex], m[bpf.MplsdpMapTunnelSlots]),
		bindings: dump[bpf.MplsdpBindingKey, bpf.MplsdpBinding](t, m[bpf.MplsdpMapBindings]),
		routes4:  dump[bpf.MplsdpRoute4Key, bpf.MplsdpNexthop](t, m[bpf.MplsdpMapRoutes4]),
		routes6:  dump[bpf.MplsdpRoute6Key, bpf.MplsdpNexthop](t, m[bpf.MplsdpMapRoutes6]),
	}
}

// routeCounts counts the router's routes over all VRFs.
func routeCounts(r *dataplane.Router) (v4, v6 int) {
	s := r.VRFs.Load()
	for _, c := range s.VRFs() {
		a, b := s.RouteCount(c.ID)
		v4 += a
		v6 += b
	}
	return v4, v6
}

func count[T any](seq func(func(T) bool)) int {
	n := 0
	for range seq {
		n++
	}
	return n
}

// checkCounts compares the number of elements of every map with the router's tables.
func checkCounts(t *testing.T, r *dataplane.Router, c *contents) {
	t.Helper()
	cfg := r.Config()
	var ports, ifports int
	for _, p := range cfg.Ports {
		if p != (dataplane.Port{}) {
			ports++
			if p.Ifindex != 0 {
				ifports++
			}
		}
	}
	nLabels, nTunnels := 0, 0
	r.LFIB.Walk(func(lfib.Label, lfib.Entry) bool { nLabels++; return true })
	r.LFIB.WalkTunnels(func(uint32, lfib.Entry) bool { nTunnels++; return true })
	v4, v6 := routeCounts(r)
	for _, x := range []struct {
		name      string
		got, want int
	}{
		{"ports", len(c.ports), ports},
		{"ifindex_ports", len(c.ifports), ifports},
		{"infra4", len(c.infra4), count(cfg.Infra.All4())},
		{"infra6", len(c.infra6), count(cfg.Infra.All6())},
		{"labels", len(c.labels), nLabels},
		{"tunnels", len(c.tunnels), nTunnels},
		{"bindings", len(c.bindings), len(r.VRFs.Load().Bindings())},
		{"routes4", len(c.routes4), v4},
		{"routes6", len(c.routes6), v6},
	} {
		if x.got != x.want || x.want == 0 {
			t.Errorf("map %s: %d elements, want %d (non-zero)", x.name, x.got, x.want)
		}
	}
}

func mac(s string) [6]uint8 {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 6 {
		panic(s)
	}
	return [6]uint8(b)
}

func vrfID(t *testing.T, r *dataplane.Router, name string) vrf.ID {
	t.Helper()
	c, ok := r.VRFs.Load().VRFByName(name)
	if !ok {
		t.Fatalf("no VRF %q", name)
	}
	return c.ID
}

func TestSyncFixture(t *testing.T) {
	e := load(t, Options{TestMode: true})
	r := fixtureRouter(t)
	if err := e.Sync(r); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	c := readAll(t, e)
	checkCounts(t, r, c)
	if tx := dump[uint32, uint32](t, e.Maps()[bpf.MplsdpMapTxPorts]); len(tx) != 0 {
		t.Errorf("tx_ports written in test mode: %v", tx)
	}

	// Label 1001 swaps to two labels out of core1 (port 2).
	got := c.labels[1001]
	want := bpf.MplsdpLfibEntry{Op: uint8(lfib.OpSwap), Npaths: 1}
	want.Paths[0] = bpf.MplsdpPath{Port: 2, Dst: mac("020000000102"), Src: mac("020000000002"), Mtu: 1500, Nlabels: 2, Labels: [4]uint32{2001, 2101}}
	if got != want {
		t.Errorf("label 1001 = %+v, want %+v", got, want)
	}
	custA, custB := vrfID(t, r, "cust-a"), vrfID(t, r, "cust-b")
	if got := c.labels[5001]; got.Op != uint8(lfib.OpPopToVRF) || got.Vrf != uint32(custA) || got.Npaths != 0 {
		t.Errorf("label 5001 = %+v, want pop-to-vrf %d", got, custA)
	}
	if got := c.labels[1005].Paths[0]; got.Vlan != 20 || got.Labels[0] != 2005 {
		t.Errorf("label 1005 path = %+v, want vlan 20 label 2005", got)
	}
	if got := c.tunnels[2]; got.Op != uint8(lfib.OpPush) || got.Npaths != 2 || got.Paths[1].Port != 2 || got.Paths[1].Labels[0] != 17002 {
		t.Errorf("tunnel 2 = %+v, want push over 2 paths, the second via port 2 with 17002", got)
	}

	// Ports: number, role, TTL settings; mgmt0 (no role) too, for its counters.
	if got, want := c.ports[7], (bpf.MplsdpPort{Port: 7, Role: uint8(dataplane.RoleCore), TtlMode: uint8(dataplane.TTLPipe), Present: 1}); got != want {
		t.Errorf("port 7 = %+v, want %+v", got, want)
	}
	if got := c.tunnels[5].Paths[0]; got.Port != 7 || got.Mtu != 200 || got.Src != mac("020000000007") {
		t.Errorf("tunnel 5 path = %+v, want port 7, its MTU 200 and MAC", got)
	}
	if got, ok := c.ports[8]; !ok || got.Role != uint8(dataplane.RoleNone) || got.Port != 8 {
		t.Errorf("port 8 (role none) = %+v, %v", got, ok)
	}
	if got, ok := c.ifports[103]; !ok || got != c.ports[3] || got.Role != uint8(dataplane.RoleCE) {
		t.Errorf("ifindex_ports[103] = %+v, %v, want %+v", got, ok, c.ports[3])
	}

	// Bindings: trunk0 (port 5) VLAN 100 is cust-a, peers as IPv4-mapped IPv6.
	b, ok := c.bindings[bpf.MplsdpBindingKey{Port: 5, Vlan: 100}]
	if !ok || b.Vrf != uint32(custA) || b.Npeers != 2 ||
		b.Peers[0] != netip.MustParseAddr("::ffff:192.0.2.129").As16() ||
		b.Peers[1] != netip.MustParseAddr("2001:db8:3::1").As16() {
		t.Errorf("binding port 5 vlan 100 = %+v, %v", b, ok)
	}

	// Route keys: the VRF id is big-endian in bytes 4..8, the prefix length counts it.
	k := route4Key(custA, netip.MustParsePrefix("192.0.2.64/26"))
	raw, err := binary.Append(nil, binary.NativeEndian, k)
	if err != nil {
		t.Fatal(err)
	}
	if wantRaw := []byte{58, 0, 0, 0, 0, 0, 0, byte(custA), 192, 0, 2, 64}; string(raw) != string(wantRaw) {
		t.Errorf("route4 key bytes % x, want % x", raw, wantRaw)
	}
	if nh, ok := c.routes4[k]; !ok || nh.Tunnel != 1 || nh.VpnLabel != 24001 {
		t.Errorf("route cust-a 192.0.2.64/26 = %+v, %v", nh, ok)
	}
	// Longest-prefix matches in the kernel's trie: same address, different VRFs.
	lookup4 := func(id vrf.ID, a string) bpf.MplsdpNexthop {
		t.Helper()
		var nh bpf.MplsdpNexthop
		k := route4Key(id, netip.PrefixFrom(netip.MustParseAddr(a), 32))
		if err := e.Maps()[bpf.MplsdpMapRoutes4].Lookup(k, &nh); err != nil {
			t.Errorf("lookup vrf %d %s: %v", id, a, err)
		}
		return nh
	}
	if nh := lookup4(custA, "192.0.2.70"); nh.VpnLabel != 24001 {
		t.Errorf("cust-a 192.0.2.70 -> %+v, want VPN label 24001", nh)
	}
	if nh := lookup4(custB, "192.0.2.70"); nh.VpnLabel != 25001 {
		t.Errorf("cust-b 192.0.2.70 -> %+v, want VPN label 25001", nh)
	}
	if nh := lookup4(vrf.Global, "203.0.113.200"); nh.Tunnel != 1 || nh.VpnLabel != 3001 {
		t.Errorf("global 203.0.113.200 -> %+v, want tunnel 1 label 3001", nh)
	}
	if nh := lookup4(custA, "192.0.2.130"); nh.Tunnel != 0 || nh.Port != 5 || nh.Vlan != 100 || nh.Dst != mac("020000000211") ||
		nh.Src != mac("020000000005") || nh.Mtu != 1500 {
		t.Errorf("cust-a 192.0.2.130 -> %+v, want port 5 vlan 100", nh)
	}
	var nh bpf.MplsdpNexthop
	k6 := route6Key(custB, netip.MustParsePrefix("2001:db8:2:80::1/128"))
	if err := e.Maps()[bpf.MplsdpMapRoutes6].Lookup(k6, &nh); err != nil || nh.VpnLabel != 25002 {
		t.Errorf("cust-b 2001:db8:2:80::1 -> %+v, %v, want VPN label 25002", nh, err)
	}
	var one uint8
	if err := e.Maps()[bpf.MplsdpMapInfra4].Lookup(bpf.MplsdpInfra4Key{Prefixlen: 32, Addr: [4]byte{198, 51, 100, 5}}, &one); err != nil {
		t.Errorf("infra4 lookup of 198.51.100.5: %v", err)
	}

	// A second Sync of the same state writes nothing and changes nothing.
	if err := e.Sync(r); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	c2 := readAll(t, e)
	checkCounts(t, r, c2)

	// Delete a label and a route, change another label; the rest stays.
	if err := r.LFIB.Delete(1000); err != nil {
		t.Fatal(err)
	}
	p, err := lfib.NewPath(lfib.NextHop{Port: 1, Dst: lfib.MAC(mac("020000000101"))}, 2999)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LFIB.Set(1002, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{p}}); err != nil {
		t.Fatal(err)
	}
	gone := netip.MustParsePrefix("192.0.2.48/28")
	if err := r.VRFs.Update(func(tx *vrf.Txn) error { return tx.DeleteRoute(custA, gone) }); err != nil {
		t.Fatal(err)
	}
	cfg := *r.Config()
	cfg.TTLMode, cfg.PuntTTLExpired = dataplane.TTLUniform, true
	cfg.Ports[3].Ifindex = 0 // port 3 loses its interface
	cfg.Ports[2].MTU = 9000  // and port 2's MTU changes: the paths through it are rewritten
	r.SetConfig(&cfg)
	if err := e.Sync(r); err != nil {
		t.Fatalf("Sync after deletes: %v", err)
	}
	c3 := readAll(t, e)
	checkCounts(t, r, c3)
	if _, ok := c3.labels[1000]; ok {
		t.Error("label 1000 still in the map")
	}
	if got := c3.labels[1002]; got.Op != uint8(lfib.OpSwap) || got.Paths[0].Labels[0] != 2999 {
		t.Errorf("label 1002 = %+v, want swap to 2999", got)
	}
	if got := c3.labels[1001]; got.Paths[0].Mtu != 9000 {
		t.Errorf("label 1001 path MTU %d, want port 2's new 9000", got.Paths[0].Mtu)
	}
	if c3.labels[1006] != c.labels[1006] {
		t.Error("label 1006 (port 7) changed")
	}
	if _, ok := c3.routes4[route4Key(custA, gone)]; ok {
		t.Error("route cust-a 192.0.2.48/28 still in the map")
	}
	if _, ok := c3.routes4[route4Key(custB, gone)]; !ok {
		t.Error("route cust-b 192.0.2.48/28 went too")
	}
	if _, ok := c3.ifports[103]; ok {
		t.Error("ifindex 103 still mapped")
	}
	if got := c3.ports[4]; got.TtlMode != uint8(dataplane.TTLUniform) || got.PuntTtlExpired != 1 {
		t.Errorf("port 4 = %+v, want uniform, punt", got)
	}
	if got := c3.ifports[104]; got != c3.ports[4] {
		t.Errorf("ifindex_ports[104] = %+v, want %+v", got, c3.ports[4])
	}
}

func TestSyncRejectsDuplicateIfindex(t *testing.T) {
	e := load(t, Options{TestMode: true})
	r := fixtureRouter(t)
	cfg := *r.Config()
	cfg.Ports[4].Ifindex = cfg.Ports[3].Ifindex
	r.SetConfig(&cfg)
	err := e.Sync(r)
	if err == nil {
		t.Fatal("Sync accepted two ports with one ifindex")
	}
	t.Logf("Sync: %v", err)
}

func TestStatsFresh(t *testing.T) {
	e := load(t, Options{TestMode: true})
	s, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if *s != (dataplane.Stats{}) {
		t.Errorf("fresh engine has counts: %+v", s)
	}
	if err := e.SetTestPort(3); err != nil {
		t.Errorf("SetTestPort: %v", err)
	}
	if e.Program() == nil || e.Program().Type() != ebpf.XDP {
		t.Errorf("Program() = %v", e.Program())
	}
}

func TestOptionsMapSizes(t *testing.T) {
	e := load(t, Options{TestMode: true, MaxLabels: 1000, MaxRoutes4: 2000})
	if n := e.Maps()[bpf.MplsdpMapLabelSlots].MaxEntries(); n != 1000 {
		t.Errorf("label slots %d, want 1000", n)
	}
	if n := e.Maps()[bpf.MplsdpMapRoutes4].MaxEntries(); n != 2000 {
		t.Errorf("routes4 max entries %d, want 2000", n)
	}
}

// bpffsDir returns a fresh directory on a bpffs for pins: under /sys/fs/bpf when that is
// a bpffs, else on a bpffs the test mounts on a temporary directory (and unmounts).
func bpffsDir(t *testing.T) string {
	t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := "mplsdp-test-" + hex.EncodeToString(rnd[:])
	if checkBPFFS("/sys/fs/bpf") == nil {
		dir := filepath.Join("/sys/fs/bpf", name)
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	t.Log("/sys/fs/bpf is not a bpffs: mounting one on a temporary directory")
	mnt := t.TempDir()
	if err := syscall.Mount("bpf", mnt, "bpf", 0, "mode=0700"); err != nil {
		t.Skipf("skipped: cannot mount a bpffs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return filepath.Join(mnt, name)
}

func TestPinReleaseAdopt(t *testing.T) {
	skipUnlessBPF(t)
	dir := bpffsDir(t)
	r := fixtureRouter(t)
	// Not in test mode, tx_ports is written: ifindexes must exist. Port 1 goes out the
	// loopback device, the others have none.
	cfg := *r.Config()
	for i := range cfg.Ports {
		cfg.Ports[i].Ifindex = 0
	}
	cfg.Ports[1].Ifindex = 1
	r.SetConfig(&cfg)

	e, err := Load(Options{PinPath: dir})
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	if err := e.Sync(r); err != nil {
		e.Close()
		t.Fatalf("Sync: %v", err)
	}
	before := readAll(t, e)
	if err := e.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	for _, name := range append([]string{progPin}, pinnedMaps...) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("pin %s after Release: %v", name, err)
		}
	}

	a, err := Adopt(dir)
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	after := readAll(t, a)
	checkCounts(t, r, after)
	tx := dump[uint32, uint32](t, a.Maps()[bpf.MplsdpMapTxPorts])
	if len(tx) != 1 || tx[1] != 1 {
		t.Errorf("tx_ports = %v, want port 1 -> ifindex 1", tx)
	}
	if len(after.labels) != len(before.labels) || after.labels[1001] != before.labels[1001] {
		t.Error("labels differ after Adopt")
	}
	for k, v := range before.routes4 {
		if after.routes4[k] != v {
			t.Errorf("route4 %s differs after Adopt", route4String(k))
		}
	}
	// The adopted shadow holds the maps' contents: a Sync after a deletion deletes.
	if err := r.LFIB.Delete(1003); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(r); err != nil {
		t.Fatalf("Sync after Adopt: %v", err)
	}
	if _, ok := readAll(t, a).labels[1003]; ok {
		t.Error("label 1003 still in the map after Sync of the adopted engine")
	}
	if err := a.SetTestPort(1); err == nil {
		t.Error("SetTestPort on an adopted engine did not fail")
	}

	// Load over the pins reuses the maps and their contents.
	a.Release()
	l, err := Load(Options{PinPath: dir})
	if err != nil {
		t.Fatalf("Load over pins: %v", err)
	}
	if got := len(readAll(t, l).labels); got != len(before.labels)-1 {
		t.Errorf("Load over pins: %d labels, want %d", got, len(before.labels)-1)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		ents, _ := os.ReadDir(dir)
		t.Errorf("pin directory left after Close: %v, %v", err, ents)
	}
}

func TestLoadBadPinPath(t *testing.T) {
	skipUnlessBPF(t)
	dir := filepath.Join(t.TempDir(), "pins")
	if _, err := Load(Options{PinPath: dir}); err == nil {
		t.Fatal("Load pinned to a non-bpffs directory")
	} else {
		t.Logf("Load: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load left %s behind", dir)
	}
	if _, err := Adopt(dir); err == nil {
		t.Fatal("Adopt of nothing succeeded")
	}
}

// dumpPorts reads the port records present in an array of them.
func dumpPorts(t *testing.T, m *ebpf.Map) map[uint32]bpf.MplsdpPort {
	t.Helper()
	out := map[uint32]bpf.MplsdpPort{}
	var k uint32
	var v bpf.MplsdpPort
	it := m.Iterate()
	for it.Next(&k, &v) {
		if v.Present != 0 {
			out[k] = v
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpLFIB reads an LFIB through its index and slots, as the program does (the index
// through mmap: a million lookups by syscall would take seconds).
func dumpLFIB(t *testing.T, index, slots *ebpf.Map) map[uint32]bpf.MplsdpLfibEntry {
	t.Helper()
	arr, err := mapArray(index)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.unmap()
	out := map[uint32]bpf.MplsdpLfibEntry{}
	for k := range arr.n {
		ix := *arr.word32(k)
		if ix == 0 {
			continue
		}
		var v bpf.MplsdpLfibEntry
		if err := slots.Lookup(ix-1, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

// SPDX-License-Identifier: Apache-2.0

package vectors

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/dataplane"
)

const committed = "../../testdata/vectors.json"

func load(t *testing.T) *File {
	t.Helper()
	f, err := Load(committed)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ipv4HeaderOK reports whether an IPv4 header's one's-complement sum, checksum
// included, is 0xffff.
func ipv4HeaderOK(h []byte) bool {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// TestFramesDecode decodes every frame with gopacket; expected outputs must decode
// cleanly and carry correct IPv4 header checksums.
func TestFramesDecode(t *testing.T) {
	f := load(t)
	for i := range f.Vectors {
		v := &f.Vectors[i]
		in, out, err := v.Frames()
		if err != nil {
			t.Error(err)
			continue
		}
		if len(in) == 0 {
			t.Errorf("%s: empty input frame", v.Name)
		}
		_ = gopacket.NewPacket(in, layers.LayerTypeEthernet, gopacket.Default) // must not panic
		if out == nil {
			continue
		}
		p := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Errorf("%s: output frame does not decode: %v", v.Name, el.Error())
		}
		for _, l := range p.Layers() {
			if l.LayerType() == gopacket.LayerTypeDecodeFailure {
				t.Errorf("%s: output frame has a DecodeFailure layer", v.Name)
			}
			if ip, ok := l.(*layers.IPv4); ok && !ipv4HeaderOK(ip.Contents) {
				t.Errorf("%s: output IPv4 header checksum %#04x is wrong", v.Name, ip.Checksum)
			}
		}
	}
}

// TestConsistent checks names, ports, verdicts, reasons and the fixture's references.
func TestConsistent(t *testing.T) {
	f := load(t)
	fx := &f.Fixture
	ports := map[string]Port{}
	ids := map[uint16]bool{}
	macs := map[string]bool{}
	for _, p := range fx.Ports {
		if _, dup := ports[p.Name]; dup || ids[p.ID] {
			t.Errorf("port %s/%d defined twice", p.Name, p.ID)
		}
		ports[p.Name], ids[p.ID] = p, true
		switch p.Role {
		case "core", "ce", "global", "none":
		default:
			t.Errorf("port %s: role %q", p.Name, p.Role)
		}
		m, err := net.ParseMAC(p.MAC)
		if err != nil || len(m) != 6 || m[0]&3 != 2 {
			t.Errorf("port %s: MAC %q is not a locally administered unicast address", p.Name, p.MAC)
		}
		if macs[p.MAC] {
			t.Errorf("port %s: MAC %s reused", p.Name, p.MAC)
		}
		macs[p.MAC] = true
		if p.MTU <= 0 {
			t.Errorf("port %s: no MTU", p.Name)
		}
	}
	vrfs := map[string]bool{"global": true}
	for _, v := range fx.VRFs {
		vrfs[v.Name] = true
	}
	doc := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"),
	}
	documentation := func(s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				t.Errorf("address %q: %v", s, err)
				return
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		for _, d := range doc {
			if d.Bits() <= p.Bits() && d.Contains(p.Addr()) {
				return
			}
		}
		t.Errorf("%s is not a documentation address", s)
	}
	for _, s := range append(append([]string(nil), fx.RouterAddrs...), fx.CorePrefixes...) {
		documentation(s)
	}
	hop := func(what string, n NextHop) {
		if _, ok := ports[n.Port]; !ok {
			t.Errorf("%s: no port %q", what, n.Port)
		}
		if _, err := net.ParseMAC(n.MAC); err != nil {
			t.Errorf("%s: MAC %q", what, n.MAC)
		}
	}
	for _, b := range fx.Bindings {
		if p, ok := ports[b.Port]; !ok || p.Role != "ce" {
			t.Errorf("binding on %s: not a CE port", b.Port)
		}
		if !vrfs[b.VRF] {
			t.Errorf("binding on %s: no VRF %q", b.Port, b.VRF)
		}
		for _, s := range b.Peers {
			documentation(s)
		}
	}
	tunnels := map[uint32]bool{}
	for _, tu := range fx.Tunnels {
		tunnels[tu.ID] = true
		for _, p := range tu.Paths {
			hop("tunnel", p.NextHop)
		}
	}
	for _, r := range fx.Routes {
		documentation(r.Prefix)
		if !vrfs[r.VRF] {
			t.Errorf("route %s: no VRF %q", r.Prefix, r.VRF)
		}
		if (r.Local == nil) == (r.Remote == nil) {
			t.Errorf("route %s in %s: want exactly one of local and remote", r.Prefix, r.VRF)
		}
		if r.Local != nil {
			hop("route "+r.Prefix, *r.Local)
		}
	}
	for _, l := range fx.Labels {
		if l.In < 16 || l.In >= 1<<20 {
			t.Errorf("label %d out of range", l.In)
		}
		if l.Op == "pop-to-vrf" && !vrfs[l.VRF] {
			t.Errorf("label %d: no VRF %q", l.In, l.VRF)
		}
		for _, p := range l.Paths {
			hop("label", p.NextHop)
		}
	}
	if fx.MaxStackDepth != dataplane.MaxStackDepth {
		t.Errorf("vectors assume a stack depth of %d, dataplane.MaxStackDepth is %d", fx.MaxStackDepth, dataplane.MaxStackDepth)
	}

	names := map[string]bool{}
	for i := range f.Vectors {
		v := &f.Vectors[i]
		if v.Name == "" || names[v.Name] {
			t.Errorf("vector name %q empty or not unique", v.Name)
		}
		names[v.Name] = true
		if _, ok := ports[v.Port]; !ok {
			t.Errorf("%s: no ingress port %q", v.Name, v.Port)
		}
		switch v.TTLMode {
		case "", "pipe", "uniform":
		default:
			t.Errorf("%s: TTL mode %q", v.Name, v.TTLMode)
		}
		a, err := dataplane.ParseAction(v.Verdict)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		in, out, err := v.Frames()
		if err != nil {
			t.Error(err)
			continue
		}
		switch a {
		case dataplane.ActionDrop:
			r, err := dataplane.ParseReason(v.Reason)
			if err != nil || r == dataplane.ReasonNone {
				t.Errorf("%s: drop reason %q", v.Name, v.Reason)
			}
			if v.Out != "" || v.OutPort != "" {
				t.Errorf("%s: a drop has no output", v.Name)
			}
		case dataplane.ActionForward:
			p, ok := ports[v.OutPort]
			if !ok {
				t.Errorf("%s: no egress port %q", v.Name, v.OutPort)
			}
			if out == nil || v.Reason != "" {
				t.Errorf("%s: a forward needs an output frame and no reason", v.Name)
				continue
			}
			if ok && !bytes.Equal(out[6:12], mustMAC(p.MAC)) {
				t.Errorf("%s: output source MAC is not %s's", v.Name, p.Name)
			}
		case dataplane.ActionKernel:
			if !bytes.Equal(in, out) || v.Reason != "" || v.OutPort != "" {
				t.Errorf("%s: a kernel vector hands the input over unchanged", v.Name)
			}
		}
	}
}

func mustMAC(s string) []byte {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// TestReasonsCovered: every drop reason the pipeline can give (all but none and
// no_headroom, an engine bug) has a vector.
func TestReasonsCovered(t *testing.T) {
	f := load(t)
	seen := map[dataplane.Reason]int{}
	for _, v := range f.Vectors {
		if v.Verdict == "drop" {
			r, _ := dataplane.ParseReason(v.Reason)
			seen[r]++
		}
	}
	for r := dataplane.ReasonNone + 1; r < dataplane.NumReasons; r++ {
		if r != dataplane.ReasonNoHeadroom && seen[r] == 0 {
			t.Errorf("no vector drops with reason %s", r)
		}
	}
	for _, a := range []string{"forward", "kernel"} {
		n := 0
		for _, v := range f.Vectors {
			if v.Verdict == a {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no %s vector", a)
		}
	}
}

// TestVectorsUpToDate regenerates the vectors and fails when the committed file differs:
// run `go generate ./dataplane/vectors/` after changing the generator.
func TestVectorsUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to run the generator with: %v", err)
	}
	tmp := filepath.Join(t.TempDir(), "vectors.json")
	cmd := exec.Command(goTool, "run", "./gen", "-o", tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, old) {
		t.Fatalf("%s is stale: run go generate ./dataplane/vectors/", committed)
	}
}

// SPDX-License-Identifier: Apache-2.0

package control

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// ParseConfig reads a configuration file (YAML) and checks it whole: it returns every
// problem it finds, as ConfigErrors, each with its line, column and field, and no Config
// unless there are none. Unknown keys are errors. The file:
//
//	router-id: 198.51.100.1     # required; IPv4, as BGP's router ID
//	ttl-mode: pipe              # pipe (default): the core is invisible to traceroute;
//	                            # uniform: labels carry the IP TTL (RFC 3443)
//	punt-ttl-expired: false     # hand CE packets with TTL <= 1 to the kernel (ICMP time exceeded)
//	engine: xdp                 # xdp (default) | afxdp
//
//	# The infrastructure ACL: addresses and prefixes customers may not reach. router-id
//	# is always in it (Config.RouterAddrs lists it first). Prefixes must be canonical:
//	# host bits zero, 198.51.100.0/24 and not 198.51.100.1/24.
//	router-addresses: [192.0.2.1]
//	core-prefixes: [198.51.100.0/24]
//
//	interfaces:                 # at most 256; names are Linux names (1..15 bytes, no '/',
//	                            # ':' or white space), each listed once
//	  - name: core0
//	    role: core              # required: core (labelled, toward P/PE) | ce | global
//	    mtu: 1500               # optional, 68..65535; default: the interface's own
//	  - name: a1
//	    role: ce                # a ce interface needs vrf, vlans or both:
//	    vrf: cust-a             #   the VRF of untagged frames
//	    vlans: {100: cust-a}    #   VLAN id (1..4094) -> VRF of tagged frames
//	    peers: [192.0.2.10]     #   CE neighbours allowed to reach the router's BGP (at most 4)
//	                            # vrf, vlans and peers are for role ce only
//
//	vrfs:                       # at most 4095; names 1..64 bytes, no white space, not "global"
//	  - name: cust-a
//	    rd: 65000:1             # required: ASN:n, IPv4:n or 4-byte-ASN:n; unique; not 0:0
//	    import: [65000:100]     # route targets, same forms
//	    export: [65000:100]
//	    max-routes: 1000        # 0 (default): unlimited; the routes below count
//	    label: 1001             # the VPN label this PE advertises for the VRF (pop to the VRF),
//	                            # static range 16..99999, unique among VRF labels and LSP
//	                            # in-labels; omit it to have one allocated (100000 and up)
//	    routes:                 # static routes, prefixes canonical and each listed once;
//	                            # a route is local (via, interface) or remote (remote-pe, vpn-label)
//	      - prefix: 192.0.2.0/26
//	        via: 192.0.2.10     # a CE's address...
//	        interface: a1       # ...on this ce interface, which must be bound to this VRF
//	        vlan: 100           # optional: the VLAN of that binding (else untagged)
//	        mac: 02:00:00:00:01:01  # optional: the CE's MAC; else from the neighbour table
//	      - prefix: 192.0.2.64/26
//	        remote-pe: 198.51.100.2 # another PE; an LSP's fec must cover it
//	        vpn-label: 2001     # the label that PE advertised for the VRF, 16..1048575
//
//	lsps:                       # static LSP entries; each is exactly one of:
//	  - fec: 198.51.100.2/32    #   ingress: push labels onto packets for a remote PE
//	    push: [16002]           #     (canonical prefix, each fec once)
//	    via: 198.51.100.10      #   every entry: the next hop's address...
//	    interface: core0        #   ...on a core interface
//	    mac: 02:00:00:00:04:00  #   optional: its MAC; else from the neighbour table
//	  - in-label: 16003         #   transit: swap the incoming label (static range 16..99999,
//	    swap: [16004, 16005]    #     unique) for one label or a list (swap and push)
//	    via: 198.51.100.10
//	    interface: core0
//	  - in-label: 16006         #   penultimate hop: pop the incoming label
//	    pop: true
//	    via: 198.51.100.10
//	    interface: core0
//	# push and swap take one label or a list of 1..4, top of stack first: labels 16..1048575,
//	# or explicit null, 0 (IPv4) or 2 (IPv6); other special labels (1..15) are refused.
//
//	api: {socket: /run/mplsdp/api.sock}     # controller API; absolute path (the default)
//	metrics: {listen: 127.0.0.1:9469}       # Prometheus; host:port (the default); "" disables
//	bpf: {pin-path: /sys/fs/bpf/mplsdp}     # XDP pins; absolute path (the default)
//
// Anchors and aliases work; merge keys (<<) do not. Integers are decimal.
func ParseConfig(data []byte) (*Config, error) {
	p := &parser{}
	c := p.parse(data)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, p.errs
	}
	return c, nil
}

// LoadConfig reads the configuration file at path with ParseConfig. Its errors name the
// file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := ParseConfig(data)
	var errs ConfigErrors
	if errors.As(err, &errs) {
		for _, e := range errs {
			e.File = path
		}
	}
	return c, err
}

// Defaults of the optional settings.
const (
	DefaultEngine        = "xdp"
	DefaultAPISocket     = "/run/mplsdp/api.sock"
	DefaultMetricsListen = "127.0.0.1:9469"
	DefaultBPFPinPath    = "/sys/fs/bpf/mplsdp"
)

// ConfigError is one problem in a configuration file.
type ConfigError struct {
	File   string // "" when the configuration did not come from a file
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Path   string // the field, as vrfs[0].routes[1].prefix; "" for the file as a whole
	Msg    string
}

// Error formats e as "file:line:column: path: message", compiler style; without a
// file, "line L:C: path: message". Parts that are unknown are left out.
func (e *ConfigError) Error() string {
	var b strings.Builder
	pos := ""
	if e.Line > 0 {
		pos = strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ":" + strconv.Itoa(e.Column)
		}
	}
	switch {
	case e.File != "" && pos != "":
		b.WriteString(e.File + ":" + pos + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case pos != "":
		b.WriteString("line " + pos + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ConfigErrors is every problem found in a configuration, in file order. Its Error is
// one problem a line.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each ConfigError.
func (es ConfigErrors) Unwrap() []error {
	u := make([]error, len(es))
	for i, e := range es {
		u[i] = e
	}
	return u
}

// Limits of the file itself.
const (
	// maxNodes bounds the YAML nodes visited, aliases expanded: anchors and aliases can
	// make a small file describe an exponentially large one.
	maxNodes    = 1 << 22
	maxVRFName  = 64
	maxIfName   = 15 // IFNAMSIZ - 1
	maxSockPath = 107
	minMTU      = 68
	maxMTU      = 65535
)

// The keys of each mapping, in the order the schema lists them.
var (
	topKeys       = []string{"router-id", "ttl-mode", "punt-ttl-expired", "engine", "router-addresses", "core-prefixes", "interfaces", "vrfs", "lsps", "api", "metrics", "bpf"}
	interfaceKeys = []string{"name", "role", "vrf", "vlans", "peers", "mtu"}
	vrfKeys       = []string{"name", "rd", "import", "export", "max-routes", "label", "routes"}
	routeKeys     = []string{"prefix", "via", "interface", "vlan", "mac", "remote-pe", "vpn-label"}
	lspKeys       = []string{"fec", "push", "in-label", "swap", "pop", "via", "interface", "mac"}
)

// parser collects errors while it builds a Config. Checks that need a later section (a
// route's remote PE needs the LSPs) are queued in later and run at the end.
type parser struct {
	errs  ConfigErrors
	later []func()

	ifaces  map[string]*ifaceInfo
	vrfs    map[string]int       // name -> index in Config.VRFs
	labels  map[lfib.Label]where // VRF labels and LSP in-labels
	fecs    []netip.Prefix       // the ingress LSPs' FECs
	fecsBad bool                 // some FEC did not parse: do not report unreachable PEs
}

// ifaceInfo is what routes and LSPs need to know of an interface.
type ifaceInfo struct {
	role      dataplane.Role
	roleKnown bool
	vrf       string
	vlans     map[uint16]string
}

// where is a field's place in the file, for "already used by" messages.
type where struct {
	path string
	line int
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) parse(data []byte) *Config {
	p.ifaces = map[string]*ifaceInfo{}
	p.vrfs = map[string]int{}
	p.labels = map[lfib.Label]where{}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			p.errs = append(p.errs, &ConfigError{Line: 1, Column: 1, Msg: "the configuration is empty"})
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		p.yamlError(err)
		return nil
	default:
		if len(next.Content) > 0 && !isNull(next.Content[0]) {
			p.errorf(next.Content[0], "", "a second YAML document: the configuration is one document")
			return nil
		}
	}
	if _, bad := p.expandedSize(&doc, map[*yaml.Node]int{}); bad {
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.DocumentNode || isNull(root) {
		p.errs = append(p.errs, &ConfigError{Line: 1, Column: 1, Msg: "the configuration is empty"})
		return nil
	}
	m := p.mapping(root, "", topKeys)
	if m == nil {
		return nil
	}
	c := &Config{
		Engine:  DefaultEngine,
		API:     API{Socket: DefaultAPISocket},
		Metrics: Metrics{Listen: DefaultMetricsListen},
		BPF:     BPF{PinPath: DefaultBPFPinPath},
	}
	if n := m.require("router-id"); n != nil {
		if a, ok := p.addr(n, m.at("router-id")); ok {
			if a.Is4() {
				c.RouterID = a
				c.RouterAddrs = append(c.RouterAddrs, a)
			} else {
				p.errorf(n, m.at("router-id"), "%s is not an IPv4 address (a router ID is 32 bits)", a)
			}
		}
	}
	if n := m.get("ttl-mode"); n != nil {
		if s, ok := p.scalar(n, m.at("ttl-mode"), "pipe or uniform"); ok {
			mode, err := dataplane.ParseTTLMode(s)
			if err != nil || s == "" {
				p.errorf(n, m.at("ttl-mode"), "%q: want pipe or uniform", s)
			}
			c.TTLMode = mode
		}
	}
	if n := m.get("punt-ttl-expired"); n != nil {
		c.PuntTTLExpired, _ = p.boolean(n, m.at("punt-ttl-expired"))
	}
	if n := m.get("engine"); n != nil {
		if s, ok := p.scalar(n, m.at("engine"), "xdp or afxdp"); ok {
			if s != "xdp" && s != "afxdp" {
				p.errorf(n, m.at("engine"), "%q: want xdp or afxdp", s)
			}
			c.Engine = s
		}
	}
	if n := m.get("router-addresses"); n != nil {
		seen := map[netip.Addr]string{}
		for i, it := range p.seq(n, m.at("router-addresses"), "addresses", 0) {
			path := index(m.at("router-addresses"), i)
			if a, ok := p.addr(it, path); ok && once(p, seen, a, it, path) && a != c.RouterID {
				c.RouterAddrs = append(c.RouterAddrs, a)
			}
		}
	}
	if n := m.get("core-prefixes"); n != nil {
		seen := map[netip.Prefix]string{}
		for i, it := range p.seq(n, m.at("core-prefixes"), "prefixes", 0) {
			path := index(m.at("core-prefixes"), i)
			if pf, ok := p.prefix(it, path); ok && once(p, seen, pf, it, path) {
				c.CorePrefixes = append(c.CorePrefixes, pf)
			}
		}
	}
	if n := m.get("interfaces"); n != nil {
		c.Interfaces = p.interfaces(n, m.at("interfaces"))
	}
	if n := m.get("vrfs"); n != nil {
		c.VRFs = p.vrfList(n, m.at("vrfs"))
	}
	if n := m.get("lsps"); n != nil {
		c.LSPs = p.lsps(n, m.at("lsps"))
	}
	if n := m.get("api"); n != nil {
		if a := p.mapping(n, m.at("api"), []string{"socket"}); a != nil {
			if s := a.get("socket"); s != nil {
				c.API.Socket, _ = p.path(s, a.at("socket"), maxSockPath)
			}
		}
	}
	if n := m.get("metrics"); n != nil {
		if a := p.mapping(n, m.at("metrics"), []string{"listen"}); a != nil {
			if s := a.get("listen"); s != nil {
				c.Metrics.Listen, _ = p.hostPort(s, a.at("listen"))
			}
		}
	}
	if n := m.get("bpf"); n != nil {
		if a := p.mapping(n, m.at("bpf"), []string{"pin-path"}); a != nil {
			if s := a.get("pin-path"); s != nil {
				c.BPF.PinPath, _ = p.path(s, a.at("pin-path"), 0)
			}
		}
	}
	for _, f := range p.later {
		f()
	}
	return c
}

func (p *parser) interfaces(n *yaml.Node, path string) []Interface {
	items := p.seq(n, path, "interfaces", vrf.MaxPorts)
	out := make([]Interface, 0, len(items))
	names := map[string]string{}
	for i, it := range items {
		ip := index(path, i)
		m := p.mapping(it, ip, interfaceKeys)
		if m == nil {
			continue
		}
		var ifc Interface
		info := &ifaceInfo{}
		if v := m.require("name"); v != nil {
			if s, ok := p.scalar(v, m.at("name"), "an interface name"); ok {
				if err := checkIfName(s); err != nil {
					p.errorf(v, m.at("name"), "%q: %v", s, err)
				} else if once(p, names, s, v, m.at("name")) {
					ifc.Name = s
					p.ifaces[s] = info
				}
			}
		}
		if v := m.require("role"); v != nil {
			if s, ok := p.scalar(v, m.at("role"), "core, ce or global"); ok {
				r, err := dataplane.ParseRole(s)
				if err != nil || r == dataplane.RoleNone {
					p.errorf(v, m.at("role"), "%q: want core, ce or global", s)
				} else {
					ifc.Role, info.role, info.roleKnown = r, r, true
				}
			}
		}
		ceOnly := func(key string) *yaml.Node {
			v := m.get(key)
			if v != nil && info.roleKnown && info.role != dataplane.RoleCE {
				p.errorf(v, m.at(key), "only an interface with role ce takes %s (this one is %s)", key, info.role)
				return nil
			}
			return v
		}
		if v := ceOnly("vrf"); v != nil {
			if s, ok := p.scalar(v, m.at("vrf"), "a VRF name"); ok {
				ifc.VRF, info.vrf = s, s
				p.vrfRef(v, m.at("vrf"), s)
			}
		}
		if v := ceOnly("vlans"); v != nil {
			ifc.VLANs = p.vlans(v, m.at("vlans"))
			info.vlans = ifc.VLANs
		}
		if v := ceOnly("peers"); v != nil {
			seen := map[netip.Addr]string{}
			for j, pn := range p.seq(v, m.at("peers"), "addresses", vrf.MaxPeers) {
				pp := index(m.at("peers"), j)
				if a, ok := p.addr(pn, pp); ok && once(p, seen, a, pn, pp) {
					ifc.Peers = append(ifc.Peers, a)
				}
			}
		}
		if info.roleKnown && info.role == dataplane.RoleCE && m.get("vrf") == nil && m.get("vlans") == nil {
			p.errorf(m.node, ip, "an interface with role ce needs vrf (untagged frames) or vlans (tagged ones), or both")
		}
		if v := m.get("mtu"); v != nil {
			mtu, _ := p.integer(v, m.at("mtu"), minMTU, maxMTU, "an MTU")
			ifc.MTU = int(mtu)
		}
		out = append(out, ifc)
	}
	return out
}

// vlans parses an interface's VLAN id -> VRF mapping.
func (p *parser) vlans(n *yaml.Node, path string) map[uint16]string {
	d := deref(n)
	if d.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of VLAN ids to VRF names, as {100: cust-a}, got %s", describe(d))
		return nil
	}
	out := map[uint16]string{}
	if len(d.Content) > 2*vrf.MaxVLAN {
		p.errorf(n, path, "%d VLANs: at most %d", len(d.Content)/2, vrf.MaxVLAN)
		return out
	}
	first := map[uint16]int{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := d.Content[i], d.Content[i+1]
		ks, ok := p.scalar(k, path, "a VLAN id")
		if !ok {
			continue
		}
		kp := path + "[" + ks + "]"
		id, ok := p.integer(k, kp, 1, vrf.MaxVLAN, "a VLAN id")
		if !ok {
			continue
		}
		if l, dup := first[uint16(id)]; dup {
			p.errorf(k, kp, "VLAN %d is listed twice (first at line %d)", id, l)
			continue
		}
		first[uint16(id)] = k.Line
		if isNull(v) {
			p.errorf(k, kp, "no VRF given for VLAN %d", id)
			continue
		}
		if s, ok := p.scalar(v, kp, "a VRF name"); ok {
			out[uint16(id)] = s
			p.vrfRef(v, kp, s)
		}
	}
	return out
}

// vrfRef queues the check that the VRF called name exists.
func (p *parser) vrfRef(n *yaml.Node, path, name string) {
	p.later = append(p.later, func() {
		if _, ok := p.vrfs[name]; !ok {
			p.errorf(n, path, "no VRF %q in vrfs", name)
		}
	})
}

func (p *parser) vrfList(n *yaml.Node, path string) []VRF {
	items := p.seq(n, path, "VRFs", vrf.MaxVRFs-1)
	out := make([]VRF, 0, len(items))
	names := map[string]string{}
	rds := map[vrf.RD]string{}
	for i, it := range items {
		vp := index(path, i)
		m := p.mapping(it, vp, vrfKeys)
		if m == nil {
			continue
		}
		var v VRF
		if x := m.require("name"); x != nil {
			if s, ok := p.scalar(x, m.at("name"), "a VRF name"); ok {
				if err := checkVRFName(s); err != nil {
					p.errorf(x, m.at("name"), "%q: %v", s, err)
				} else if once(p, names, s, x, m.at("name")) {
					v.Name = s
					p.vrfs[s] = len(out)
				}
			}
		}
		if x := m.require("rd"); x != nil {
			if s, ok := p.scalar(x, m.at("rd"), "a route distinguisher"); ok {
				rd, err := vrf.ParseRD(s)
				switch {
				case err != nil:
					p.errorf(x, m.at("rd"), "%v", err)
				case rd == 0:
					p.errorf(x, m.at("rd"), "%q is the null route distinguisher, which no VRF may have", s)
				case once(p, rds, rd, x, m.at("rd")):
					v.RD = rd
				}
			}
		}
		v.Import = p.rts(m, "import")
		v.Export = p.rts(m, "export")
		if x := m.get("max-routes"); x != nil {
			mr, _ := p.integer(x, m.at("max-routes"), 0, 1<<31-1, "a route count (0: unlimited)")
			v.MaxRoutes = int(mr)
		}
		if x := m.get("label"); x != nil {
			v.Label, _ = p.inLabel(x, m.at("label"))
		}
		if x := m.get("routes"); x != nil {
			routes := p.seq(x, m.at("routes"), "routes", 0)
			if v.MaxRoutes > 0 && len(routes) > v.MaxRoutes {
				p.errorf(x, m.at("routes"), "%d routes, more than max-routes %d", len(routes), v.MaxRoutes)
			}
			seen := map[netip.Prefix]string{}
			for j, r := range routes {
				if rt, ok := p.route(r, index(m.at("routes"), j), v.Name, seen); ok {
					v.Routes = append(v.Routes, rt)
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// rts parses a list of route targets.
func (p *parser) rts(m *mapping, key string) []vrf.RT {
	n := m.get(key)
	if n == nil {
		return nil
	}
	var out []vrf.RT
	seen := map[vrf.RT]string{}
	for i, it := range p.seq(n, m.at(key), "route targets", 0) {
		path := index(m.at(key), i)
		s, ok := p.scalar(it, path, "a route target")
		if !ok {
			continue
		}
		rt, err := vrf.ParseRT(s)
		if err != nil {
			p.errorf(it, path, "%v", err)
		} else if once(p, seen, rt, it, path) {
			out = append(out, rt)
		}
	}
	return out
}

// route parses one static route of the VRF called vrfName.
func (p *parser) route(n *yaml.Node, path, vrfName string, seen map[netip.Prefix]string) (Route, bool) {
	var r Route
	m := p.mapping(n, path, routeKeys)
	if m == nil {
		return r, false
	}
	ok := true
	if x := m.require("prefix"); x != nil {
		pf, good := p.prefix(x, m.at("prefix"))
		if good && once(p, seen, pf, x, m.at("prefix")) {
			r.Prefix = pf
		} else {
			ok = false
		}
	} else {
		ok = false
	}
	local := m.has("via", "interface", "vlan", "mac")
	remote := m.has("remote-pe", "vpn-label")
	switch {
	case local && remote:
		p.errorf(m.node, path, "a route leads to a local next hop (via, interface) or to a remote PE (remote-pe, vpn-label), not both")
		return r, false
	case !local && !remote:
		p.errorf(m.node, path, "a route needs via and interface (a CE on this router), or remote-pe and vpn-label (another PE)")
		return r, false
	case remote:
		if x := m.require("remote-pe"); x != nil {
			a, good := p.addr(x, m.at("remote-pe"))
			ok = ok && good
			r.RemotePE = a
			if good {
				p.later = append(p.later, func() {
					if p.fecsBad || slices.ContainsFunc(p.fecs, func(f netip.Prefix) bool { return f.Contains(a) }) {
						return
					}
					p.errorf(x, m.at("remote-pe"), "no LSP reaches remote PE %s: no lsps entry has a fec covering it", a)
				})
			}
		} else {
			ok = false
		}
		if x := m.require("vpn-label"); x != nil {
			l, good := p.label(x, m.at("vpn-label"), lfib.MinLabel, lfib.MaxLabel, "a VPN label")
			ok = ok && good
			r.VPNLabel = l
		} else {
			ok = false
		}
		return r, ok
	}
	x := m.require("via")
	if x != nil {
		a, good := p.addr(x, m.at("via"))
		ok = ok && good
		r.Via = a
	} else {
		ok = false
	}
	vlanOK := true
	if x := m.get("vlan"); x != nil {
		id, good := p.integer(x, m.at("vlan"), 1, vrf.MaxVLAN, "a VLAN id")
		ok, vlanOK = ok && good, good
		r.VLAN = uint16(id)
	}
	if x := m.get("mac"); x != nil {
		mac, good := p.mac(x, m.at("mac"))
		ok = ok && good
		r.MAC = mac
	}
	x = m.require("interface")
	if x == nil {
		return r, false
	}
	s, good := p.scalar(x, m.at("interface"), "an interface name")
	if !good {
		return r, false
	}
	r.Interface = s
	info, known := p.ifaces[s]
	switch {
	case !known:
		p.errorf(x, m.at("interface"), "no interface %q in interfaces", s)
		ok = false
	case !info.roleKnown, !vlanOK: // the binding cannot be checked
	case info.role != dataplane.RoleCE:
		p.errorf(x, m.at("interface"), "interface %s has role %s: a VRF route leaves through a ce interface", s, info.role)
		ok = false
	case r.VLAN != 0:
		bound, has := info.vlans[r.VLAN]
		switch {
		case !has:
			p.errorf(x, m.at("interface"), "interface %s has no VLAN %d", s, r.VLAN)
			ok = false
		case vrfName != "" && bound != vrfName:
			p.errorf(x, m.at("interface"), "VLAN %d of interface %s is in VRF %q, not %q", r.VLAN, s, bound, vrfName)
			ok = false
		}
	case info.vrf == "" && len(info.vlans) > 0:
		p.errorf(x, m.at("interface"), "interface %s carries VRFs on VLANs only: give the route's vlan", s)
		ok = false
	case vrfName != "" && info.vrf != "" && info.vrf != vrfName:
		p.errorf(x, m.at("interface"), "interface %s is in VRF %q, not %q", s, info.vrf, vrfName)
		ok = false
	}
	return r, ok
}

func (p *parser) lsps(n *yaml.Node, path string) []LSP {
	items := p.seq(n, path, "LSPs", 0)
	if items == nil && deref(n).Kind != yaml.SequenceNode {
		p.fecsBad = true
	}
	out := make([]LSP, 0, len(items))
	fecs := map[netip.Prefix]string{}
	for i, it := range items {
		lp := index(path, i)
		m := p.mapping(it, lp, lspKeys)
		if m == nil {
			p.fecsBad = true
			continue
		}
		var l LSP
		ingress := m.has("fec", "push")
		transit := m.has("in-label", "swap", "pop")
		switch {
		case ingress && transit:
			p.errorf(m.node, lp, "an LSP entry is ingress (fec, push) or transit (in-label with swap or pop), not both")
			p.fecsBad = true
		case !ingress && !transit:
			p.errorf(m.node, lp, "an LSP entry needs fec and push (ingress), or in-label with swap or pop (transit)")
		case ingress:
			if x := m.require("fec"); x != nil {
				pf, ok := p.prefix(x, m.at("fec"))
				if ok && once(p, fecs, pf, x, m.at("fec")) {
					l.FEC = pf
					p.fecs = append(p.fecs, pf)
				} else if !ok {
					p.fecsBad = true
				}
			} else {
				p.fecsBad = true
			}
			if x := m.require("push"); x != nil {
				l.Push = p.outLabels(x, m.at("push"))
			}
		default:
			if x := m.require("in-label"); x != nil {
				l.InLabel, _ = p.inLabel(x, m.at("in-label"))
			}
			sw, pop := m.get("swap"), m.get("pop")
			switch {
			case sw != nil && pop != nil:
				p.errorf(m.node, lp, "swap and pop exclude each other")
			case sw != nil:
				l.Swap = p.outLabels(sw, m.at("swap"))
			case pop != nil:
				if b, ok := p.boolean(pop, m.at("pop")); ok && !b {
					p.errorf(pop, m.at("pop"), "pop: false does nothing; give pop: true, or swap")
				}
				l.Pop = true
			default:
				p.errorf(m.node, lp, "an in-label needs swap or pop")
			}
		}
		if x := m.require("via"); x != nil {
			l.Via, _ = p.addr(x, m.at("via"))
		}
		if x := m.get("mac"); x != nil {
			l.MAC, _ = p.mac(x, m.at("mac"))
		}
		if x := m.require("interface"); x != nil {
			if s, ok := p.scalar(x, m.at("interface"), "an interface name"); ok {
				l.Interface = s
				info, known := p.ifaces[s]
				switch {
				case !known:
					p.errorf(x, m.at("interface"), "no interface %q in interfaces", s)
				case info.roleKnown && info.role != dataplane.RoleCore:
					p.errorf(x, m.at("interface"), "interface %s has role %s: labelled packets leave through a core interface", s, info.role)
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// inLabel parses a label this router receives: a VRF's label or an LSP's in-label, in
// the static range and used once.
func (p *parser) inLabel(n *yaml.Node, path string) (lfib.Label, bool) {
	l, ok := p.label(n, path, lfib.MinLabel, lfib.MaxStaticLabel, "a label in the static range")
	if !ok {
		return 0, false
	}
	if w, dup := p.labels[l]; dup {
		p.errorf(n, path, "label %d is already used by %s (line %d)", l, w.path, w.line)
		return 0, false
	}
	p.labels[l] = where{path, n.Line}
	return l, true
}

// outLabels parses push or swap: one label or a list of 1..MaxPush, top first.
func (p *parser) outLabels(n *yaml.Node, path string) []lfib.Label {
	var items []*yaml.Node
	var paths []string
	if d := deref(n); d.Kind == yaml.SequenceNode {
		if len(d.Content) == 0 || len(d.Content) > lfib.MaxPush {
			p.errorf(n, path, "%d labels: want 1..%d", len(d.Content), lfib.MaxPush)
			return nil
		}
		items = d.Content
		for i := range items {
			paths = append(paths, index(path, i))
		}
	} else {
		items, paths = []*yaml.Node{n}, []string{path}
	}
	out := make([]lfib.Label, 0, len(items))
	for i, it := range items {
		l, ok := p.label(it, paths[i], 0, lfib.MaxLabel, "a label")
		if !ok {
			continue
		}
		if l.Reserved() && l != lfib.LabelIPv4ExplicitNull && l != lfib.LabelIPv6ExplicitNull {
			hint := ""
			if l == lfib.LabelImplicitNull {
				hint = " (to pop, give pop: true)"
			}
			name := ""
			if l.String() != strconv.Itoa(int(l)) {
				name = " (" + l.String() + ")"
			}
			p.errorf(it, paths[i], "label %d%s is reserved: of the special labels 0..15 only explicit null, 0 (IPv4) or 2 (IPv6), may be sent%s", uint32(l), name, hint)
			continue
		}
		out = append(out, l)
	}
	if len(out) != len(items) {
		return nil
	}
	return out
}

// label parses a label in lo..hi.
func (p *parser) label(n *yaml.Node, path string, lo, hi lfib.Label, what string) (lfib.Label, bool) {
	v, ok := p.integer(n, path, int64(lo), int64(hi), what)
	return lfib.Label(v), ok
}

// mapping is a YAML mapping whose keys have been checked.
type mapping struct {
	node  *yaml.Node // the mapping, for errors about it as a whole
	path  string
	vals  map[string]*yaml.Node // key -> value, null values left out
	nulls map[string]*yaml.Node // key -> the key's node, for keys with a null value
	p     *parser
}

// mapping checks that n is a mapping whose keys are among keys, each at most once. It
// returns nil, after reporting it, when n is not a mapping.
func (p *parser) mapping(n *yaml.Node, path string, keys []string) *mapping {
	d := deref(n)
	if d.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping with keys %s; got %s", strings.Join(keys, ", "), describe(d))
		return nil
	}
	m := &mapping{node: n, path: path, vals: map[string]*yaml.Node{}, nulls: map[string]*yaml.Node{}, p: p}
	first := map[string]int{}
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := d.Content[i], d.Content[i+1]
		kd := deref(k)
		if kd.Kind != yaml.ScalarNode {
			p.errorf(k, path, "a key must be a word, not %s", describe(kd))
			continue
		}
		name := kd.Value
		kp := join(path, name)
		switch {
		case kd.Tag == "!!merge":
			p.errorf(k, path, "merge keys (<<) are not supported: write the keys out")
			continue
		case !slices.Contains(keys, name):
			if hint := suggest(name, keys); hint != "" {
				p.errorf(k, kp, "unknown key (did you mean %s?)", hint)
			} else {
				p.errorf(k, kp, "unknown key (keys here: %s)", strings.Join(keys, ", "))
			}
			continue
		}
		if l, dup := first[name]; dup {
			p.errorf(k, kp, "given twice (first at line %d)", l)
			continue
		}
		first[name] = k.Line
		if isNull(v) {
			m.nulls[name] = k
		} else {
			m.vals[name] = v
		}
	}
	return m
}

// at returns the path of key.
func (m *mapping) at(key string) string { return join(m.path, key) }

// get returns key's value, nil when the key is absent or its value null.
func (m *mapping) get(key string) *yaml.Node { return m.vals[key] }

// has reports whether any of keys is given (even with a null value).
func (m *mapping) has(keys ...string) bool {
	for _, k := range keys {
		if m.vals[k] != nil || m.nulls[k] != nil {
			return true
		}
	}
	return false
}

// require returns key's value, or reports it missing and returns nil.
func (m *mapping) require(key string) *yaml.Node {
	if v := m.vals[key]; v != nil {
		return v
	}
	if k := m.nulls[key]; k != nil {
		m.p.errorf(k, m.at(key), "required, but has no value")
	} else {
		m.p.errorf(m.node, m.at(key), "required, but missing")
	}
	return nil
}

// seq returns the items of the list n; max > 0 bounds their number (the items are
// returned and checked even when there are too many).
func (p *parser) seq(n *yaml.Node, path, what string, max int) []*yaml.Node {
	d := deref(n)
	if d.Kind != yaml.SequenceNode {
		p.errorf(n, path, "want a list of %s, got %s", what, describe(d))
		return nil
	}
	if max > 0 && len(d.Content) > max {
		p.errorf(n, path, "%d %s: at most %d", len(d.Content), what, max)
	}
	return d.Content
}

// scalar returns the text of the scalar n.
func (p *parser) scalar(n *yaml.Node, path, want string) (string, bool) {
	d := deref(n)
	if d.Kind != yaml.ScalarNode {
		p.errorf(n, path, "want %s, got %s", want, describe(d))
		return "", false
	}
	return d.Value, true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := p.scalar(n, path, "true or false")
	if !ok {
		return false, false
	}
	if deref(n).Tag == "!!bool" {
		if b, err := strconv.ParseBool(s); err == nil {
			return b, true
		}
	}
	p.errorf(n, path, "%q: want true or false", s)
	return false, false
}

// integer parses a decimal integer in lo..hi.
func (p *parser) integer(n *yaml.Node, path string, lo, hi int64, what string) (int64, bool) {
	s, ok := p.scalar(n, path, what)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		p.errorf(n, path, "%q: want %s, a decimal integer in %d..%d", s, what, lo, hi)
		return 0, false
	}
	return v, true
}

// addr parses a unicast IP address.
func (p *parser) addr(n *yaml.Node, path string) (netip.Addr, bool) {
	s, ok := p.scalar(n, path, "an IP address")
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		p.errorf(n, path, "%q is not an IP address", s)
	case a.Zone() != "":
		p.errorf(n, path, "%q: an address here takes no zone", s)
	case a.IsUnspecified(), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		p.errorf(n, path, "%q is not a unicast address", s)
	default:
		return a, true
	}
	return netip.Addr{}, false
}

// prefix parses a canonical prefix.
func (p *parser) prefix(n *yaml.Node, path string) (netip.Prefix, bool) {
	s, ok := p.scalar(n, path, "a prefix")
	if !ok {
		return netip.Prefix{}, false
	}
	pf, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		p.errorf(n, path, "%q is not a prefix (want address/length, as 192.0.2.0/24)", s)
	case pf != pf.Masked():
		p.errorf(n, path, "%q has host bits set: the prefix is %s", s, pf.Masked())
	default:
		return pf, true
	}
	return netip.Prefix{}, false
}

// mac parses a unicast Ethernet address.
func (p *parser) mac(n *yaml.Node, path string) (net.HardwareAddr, bool) {
	s, ok := p.scalar(n, path, "a MAC address")
	if !ok {
		return nil, false
	}
	hw, err := net.ParseMAC(s)
	switch {
	case err != nil || len(hw) != 6:
		p.errorf(n, path, "%q is not a MAC address (want six bytes, as 02:00:00:00:00:01)", s)
	case hw[0]&1 != 0:
		p.errorf(n, path, "%q is a group (multicast) address, not a next hop's", s)
	case slices.Equal(hw, make(net.HardwareAddr, 6)):
		p.errorf(n, path, "%q is the zero MAC", s)
	default:
		return hw, true
	}
	return nil, false
}

// path parses an absolute file path; max > 0 bounds its length.
func (p *parser) path(n *yaml.Node, path string, max int) (string, bool) {
	s, ok := p.scalar(n, path, "an absolute path")
	if !ok {
		return "", false
	}
	switch {
	case !filepath.IsAbs(s):
		p.errorf(n, path, "%q is not an absolute path", s)
	case max > 0 && len(s) > max:
		p.errorf(n, path, "%q is %d bytes long; a unix socket path has at most %d", s, len(s), max)
	default:
		return s, true
	}
	return "", false
}

// hostPort parses a listen address, host:port; "" is kept (it disables the listener).
func (p *parser) hostPort(n *yaml.Node, path string) (string, bool) {
	s, ok := p.scalar(n, path, "host:port")
	if !ok || s == "" {
		return s, ok
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		p.errorf(n, path, "%q: want host:port, as 127.0.0.1:9469 or [::1]:9469 (\"\" disables)", s)
		return "", false
	}
	if v, err := strconv.ParseUint(port, 10, 16); err != nil || v == 0 {
		p.errorf(n, path, "%q: port %q: want 1..65535", s, port)
		return "", false
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !validHostname(host) {
		p.errorf(n, path, "%q: host %q is neither an IP address nor a host name", s, host)
		return "", false
	}
	return s, true
}

// once reports whether k is new in seen, and reports an error when it is not. (Go has
// no generic methods.)
func once[K comparable](p *parser, seen map[K]string, k K, n *yaml.Node, path string) bool {
	if first, dup := seen[k]; dup {
		p.errorf(n, path, "%s is listed twice (first at %s)", display(deref(n)), first)
		return false
	}
	seen[k] = fmt.Sprintf("%s, line %d", path, n.Line)
	return true
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &ConfigError{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// yamlError reports a syntax error from the YAML decoder, with its line when it gives one.
func (p *parser) yamlError(err error) {
	e := &ConfigError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	p.errs = append(p.errs, e)
}

// expandedSize counts the nodes of n with aliases expanded, and reports an error when
// there are more than maxNodes or an alias refers to a node that contains it. sizes
// memoises counts; -1 marks a node being counted.
func (p *parser) expandedSize(n *yaml.Node, sizes map[*yaml.Node]int) (size int, bad bool) {
	if s, ok := sizes[n]; ok {
		if s < 0 { // not reached: the alias check below comes first
			p.errorf(n, "", "a node contains itself")
		}
		return s, s < 0
	}
	sizes[n] = -1
	total := 1
	kids := n.Content
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if sizes[n.Alias] < 0 {
			p.errorf(n, "", "alias *%s refers to a node that contains it", n.Value)
			return 0, true
		}
		kids = []*yaml.Node{n.Alias}
	}
	for _, k := range kids {
		s, bad := p.expandedSize(k, sizes)
		if bad {
			return 0, true
		}
		if total += s; total > maxNodes {
			p.errorf(n, "", "aliases expand the configuration to more than %d YAML nodes", maxNodes)
			return 0, true
		}
	}
	sizes[n] = total
	return total, false
}

// deref follows aliases. expandedSize has ruled out cycles.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	d := deref(n)
	return d.Kind == yaml.ScalarNode && d.Tag == "!!null" || d.Kind == 0
}

// describe names what n is, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// display shows n in an error message.
func display(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return describe(n)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// checkIfName applies the kernel's rules for interface names (dev_valid_name).
func checkIfName(s string) error {
	switch {
	case s == "" || len(s) > maxIfName:
		return fmt.Errorf("an interface name has 1..%d bytes", maxIfName)
	case s == "." || s == "..":
		return errors.New("not an interface name")
	case strings.ContainsAny(s, "/:"):
		return errors.New("an interface name has no '/' or ':'")
	case strings.ContainsFunc(s, unicode.IsSpace):
		return errors.New("an interface name has no white space")
	}
	return nil
}

func checkVRFName(s string) error {
	switch {
	case s == "" || len(s) > maxVRFName:
		return fmt.Errorf("a VRF name has 1..%d bytes", maxVRFName)
	case s == vrf.GlobalName:
		return fmt.Errorf("%q is the global table's name", s)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return errors.New("a VRF name has no white space or control characters")
	}
	return nil
}

func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// suggest returns the key closest to name, if it is close, else "".
func suggest(name string, keys []string) string {
	best, bestD := "", 3
	for _, k := range keys {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, bytewise.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// SPDX-License-Identifier: Apache-2.0

package control

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Building blocks of the error cases: a router with a core, two customer interfaces
// and a VLAN trunk, VRFs a and b, and an LSP reaching 203.0.113.0/24.
const (
	head = `router-id: 192.0.2.1
interfaces:
  - {name: core0, role: core}
  - {name: ce-a, role: ce, vrf: a}
  - {name: ce-b, role: ce, vrf: b}
  - {name: trunk0, role: ce, vlans: {100: a, 200: b}}
  - {name: inet0, role: global}
`
	vrfsAB = `vrfs:
  - {name: a, rd: "65000:1"}
  - {name: b, rd: "65000:2"}
`
	base  = head + vrfsAB
	lspTo = `lsps:
  - {fec: 203.0.113.0/24, push: [3001], via: 198.51.100.9, interface: core0}
`
)

// ifs is a configuration whose interfaces are lines.
func ifs(lines string) string { return "router-id: 192.0.2.1\n" + vrfsAB + "interfaces:\n" + lines }

// vrfs is a configuration whose VRFs are lines.
func vrfs(lines string) string {
	return "router-id: 192.0.2.1\ninterfaces:\n  - {name: core0, role: core}\nvrfs:\n" + lines
}

// routes is a configuration whose VRF a (vrfs[1]) has the routes in lines.
func routes(lines string) string {
	return head + "vrfs:\n  - {name: b, rd: \"65000:2\"}\n  - name: a\n    rd: \"65000:1\"\n    routes:\n" + lines + lspTo
}

// lsps is a configuration whose LSPs are lines.
func lsps(lines string) string { return head + vrfsAB + "lsps:\n" + lines }

// errorCases are invalid configurations, each with the one error it must produce: on the
// line marked "#<" (a YAML comment), at path, with msg in its message.
var errorCases = []struct {
	name, yaml, path, msg string
}{
	// The file.
	{"empty", "", "", "the configuration is empty"},
	{"comments only", "# nothing #<\n", "", "the configuration is empty"},
	{"syntax", "router-id: 192.0.2.1\nengine: xdp\n  ttl-mode: pipe #<\n", "", "invalid YAML: mapping values are not allowed"},
	{"not a mapping", "- router-id #<\n", "", "want a mapping"},
	{"second document", base + "---\nrouter-id: 192.0.2.2 #<\n", "", "a second YAML document"},
	{"duplicate key", base + "engine: xdp\nengine: afxdp #<\n", "engine", "given twice (first at line 11)"},
	{"unknown key", base + "enigne: xdp #<\n", "enigne", "unknown key (did you mean engine?)"},
	{"unknown key far", base + "colour: red #<\n", "colour", "unknown key (keys here: router-id,"},
	{"merge key", base + "api:\n  <<: {socket: /x.sock} #<\n", "api", "merge keys (<<) are not supported"},
	{"alias cycle", base + "lsps: &l\n  - *l #<\n", "", "refers to a node that contains it"},
	{"alias bomb", head + bomb(), "", "aliases expand the configuration"},

	// Router-wide settings.
	{"router-id missing", "engine: xdp #<\n", "router-id", "required, but missing"},
	{"router-id empty", "router-id: #<\n", "router-id", "required, but has no value"},
	{"router-id IPv6", `router-id: "2001:db8::1" #<`, "router-id", "is not an IPv4 address"},
	{"router-id syntax", "router-id: 192.0.2.300 #<", "router-id", `"192.0.2.300" is not an IP address`},
	{"router-id multicast", "router-id: 224.0.0.1 #<", "router-id", "not a unicast address"},
	{"router-id list", "router-id: [192.0.2.1] #<", "router-id", "want an IP address, got a list"},
	{"ttl-mode", base + "ttl-mode: piped #<\n", "ttl-mode", `"piped": want pipe or uniform`},
	{"engine", base + "engine: dpdk #<\n", "engine", `"dpdk": want xdp or afxdp`},
	{"punt-ttl-expired", base + "punt-ttl-expired: yes #<\n", "punt-ttl-expired", `"yes": want true or false`},
	{"router-addresses syntax", base + "router-addresses: [198.51.100.1, 300.1.1.1] #<\n", "router-addresses[1]", "is not an IP address"},
	{"router-addresses twice", base + "router-addresses: [198.51.100.1, 198.51.100.1] #<\n", "router-addresses[1]", "listed twice"},
	{"router-addresses scalar", base + "router-addresses: 198.51.100.1 #<\n", "router-addresses", "want a list of addresses"},
	{"router-addresses zone", base + "router-addresses: [\"fe80::1%eth0\"] #<\n", "router-addresses[0]", "takes no zone"},
	{"core-prefixes host bits", base + "core-prefixes: [198.51.100.1/24] #<\n", "core-prefixes[0]", "has host bits set: the prefix is 198.51.100.0/24"},
	{"core-prefixes length", base + "core-prefixes: [192.0.2.0/33] #<\n", "core-prefixes[0]", `"192.0.2.0/33" is not a prefix`},

	// Interfaces.
	{"interfaces not a list", ifs("  name: core0 #<\n"), "interfaces", "want a list of interfaces, got a mapping"},
	{"interfaces too many", ifs(manyInterfaces(257)), "interfaces", "257 interfaces: at most 256"},
	{"interface not a mapping", ifs("  - core0 #<\n"), "interfaces[0]", "want a mapping with keys name, role"},
	{"interface unknown key", ifs("  - {name: x0, role: ce, vrf: a, vlan: 100} #<\n"), "interfaces[0].vlan", "unknown key (did you mean vlans?)"},
	{"interface name missing", ifs("  - {role: core} #<\n"), "interfaces[0].name", "required, but missing"},
	{"interface name twice", ifs("  - {name: x0, role: core}\n  - {name: x0, role: core} #<\n"), "interfaces[1].name", `"x0" is listed twice (first at interfaces[0].name, line`},
	{"interface name long", ifs("  - {name: abcdefghijklmnop, role: core} #<\n"), "interfaces[0].name", "1..15 bytes"},
	{"interface name slash", ifs("  - {name: eth/0, role: core} #<\n"), "interfaces[0].name", "no '/'"},
	{"interface name space", ifs("  - {name: \"eth 0\", role: core} #<\n"), "interfaces[0].name", "no white space"},
	{"interface role missing", ifs("  - {name: x0} #<\n"), "interfaces[0].role", "required, but missing"},
	{"interface role", ifs("  - {name: x0, role: pe} #<\n"), "interfaces[0].role", `"pe": want core, ce or global`},
	{"interface role none", ifs("  - {name: x0, role: none} #<\n"), "interfaces[0].role", `"none": want core, ce or global`},
	{"interface vrf on core", ifs("  - {name: x0, role: core, vrf: a} #<\n"), "interfaces[0].vrf", "only an interface with role ce takes vrf (this one is core)"},
	{"interface vlans on global", ifs("  - {name: x0, role: global, vlans: {100: a}} #<\n"), "interfaces[0].vlans", "only an interface with role ce takes vlans"},
	{"interface peers on core", ifs("  - {name: x0, role: core, peers: [192.0.2.2]} #<\n"), "interfaces[0].peers", "only an interface with role ce takes peers"},
	{"interface ce without vrf", ifs("  - {name: x0, role: ce} #<\n"), "interfaces[0]", "needs vrf (untagged frames) or vlans"},
	{"interface vrf unknown", ifs("  - {name: x0, role: ce, vrf: c} #<\n"), "interfaces[0].vrf", `no VRF "c" in vrfs`},
	{"interface vlan VRF unknown", ifs("  - {name: x0, role: ce, vlans: {100: c}} #<\n"), "interfaces[0].vlans[100]", `no VRF "c" in vrfs`},
	{"interface vlan 0", ifs("  - {name: x0, role: ce, vlans: {0: a}} #<\n"), "interfaces[0].vlans[0]", "want a VLAN id, a decimal integer in 1..4094"},
	{"interface vlan 4095", ifs("  - {name: x0, role: ce, vlans: {4095: a}} #<\n"), "interfaces[0].vlans[4095]", "1..4094"},
	{"interface vlan word", ifs("  - {name: x0, role: ce, vlans: {blue: a}} #<\n"), "interfaces[0].vlans[blue]", "want a VLAN id"},
	{"interface vlan twice", ifs("  - name: x0\n    role: ce\n    vlans:\n      100: a\n      0100: b #<\n"), "interfaces[0].vlans[0100]", "VLAN 100 is listed twice"},
	{"interface vlan no VRF", ifs("  - {name: x0, role: ce, vlans: {100: }} #<\n"), "interfaces[0].vlans[100]", "no VRF given for VLAN 100"},
	{"interface vlans list", ifs("  - {name: x0, role: ce, vlans: [100]} #<\n"), "interfaces[0].vlans", "want a mapping of VLAN ids to VRF names"},
	{"interface peers many", ifs("  - {name: x0, role: ce, vrf: a, peers: [192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5, 192.0.2.6]} #<\n"), "interfaces[0].peers", "5 addresses: at most 4"},
	{"interface peer twice", ifs("  - {name: x0, role: ce, vrf: a, peers: [192.0.2.2, 192.0.2.2]} #<\n"), "interfaces[0].peers[1]", "listed twice"},
	{"interface peer syntax", ifs("  - {name: x0, role: ce, vrf: a, peers: [ce1]} #<\n"), "interfaces[0].peers[0]", `"ce1" is not an IP address`},
	{"interface mtu", ifs("  - {name: x0, role: core, mtu: 67} #<\n"), "interfaces[0].mtu", "want an MTU, a decimal integer in 68..65535"},
	{"interface mtu hex", ifs("  - {name: x0, role: core, mtu: 0x5dc} #<\n"), "interfaces[0].mtu", "decimal integer"},

	// VRFs.
	{"vrf name missing", vrfs("  - {rd: \"65000:1\"} #<\n"), "vrfs[0].name", "required, but missing"},
	{"vrf name twice", vrfs("  - {name: a, rd: \"65000:1\"}\n  - {name: a, rd: \"65000:2\"} #<\n"), "vrfs[1].name", "listed twice"},
	{"vrf name global", vrfs("  - {name: global, rd: \"65000:1\"} #<\n"), "vrfs[0].name", "the global table's name"},
	{"vrf name space", vrfs("  - {name: \"cust a\", rd: \"65000:1\"} #<\n"), "vrfs[0].name", "no white space"},
	{"vrf unknown key", vrfs("  - {name: a, rd: \"65000:1\", rt: \"65000:1\"} #<\n"), "vrfs[0].rt", "unknown key (did you mean rd?)"},
	{"vrf rd missing", vrfs("  - {name: a} #<\n"), "vrfs[0].rd", "required, but missing"},
	{"vrf rd syntax", vrfs("  - {name: a, rd: \"65000\"} #<\n"), "vrfs[0].rd", `route distinguisher "65000"`},
	{"vrf rd number", vrfs("  - {name: a, rd: \"192.0.2.1:70000\"} #<\n"), "vrfs[0].rd", "must fit in 2 bytes"},
	{"vrf rd null", vrfs("  - {name: a, rd: \"0:0\"} #<\n"), "vrfs[0].rd", "null route distinguisher"},
	{"vrf rd twice", vrfs("  - {name: a, rd: \"65000:1\"}\n  - {name: b, rd: \"65000:1\"} #<\n"), "vrfs[1].rd", "listed twice"},
	{"vrf import syntax", vrfs("  - {name: a, rd: \"65000:1\", import: [\"65000:1\", \"x:1\"]} #<\n"), "vrfs[0].import[1]", `route target "x:1"`},
	{"vrf export twice", vrfs("  - {name: a, rd: \"65000:1\", export: [\"65000:1\", \"65000:1\"]} #<\n"), "vrfs[0].export[1]", "listed twice"},
	{"vrf max-routes negative", vrfs("  - {name: a, rd: \"65000:1\", max-routes: -1} #<\n"), "vrfs[0].max-routes", "want a route count (0: unlimited), a decimal integer in 0.."},
	{"vrf label reserved", vrfs("  - {name: a, rd: \"65000:1\", label: 15} #<\n"), "vrfs[0].label", "want a label in the static range, a decimal integer in 16..99999"},
	{"vrf label dynamic", vrfs("  - {name: a, rd: \"65000:1\", label: 100000} #<\n"), "vrfs[0].label", "16..99999"},
	{"vrf label twice", vrfs("  - {name: a, rd: \"65000:1\", label: 1000}\n  - {name: b, rd: \"65000:2\", label: 1000} #<\n"), "vrfs[1].label", "label 1000 is already used by vrfs[0].label (line 5)"},
	{"vrf label is an in-label", vrfs("  - {name: a, rd: \"65000:1\", label: 1000}\n") + "lsps:\n  - {in-label: 1000, pop: true, via: 198.51.100.9, interface: core0} #<\n", "lsps[0].in-label", "label 1000 is already used by vrfs[0].label"},
	{"vrf max-routes exceeded", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a} #<\n      - {prefix: 192.0.2.128/25, via: 192.0.2.2, interface: ce-a}\n    max-routes: 1\n"), "vrfs[1].routes", "2 routes, more than max-routes 1"},
	{"vrf routes not a list", routes("        prefix: 192.0.2.0/25 #<\n"), "vrfs[1].routes", "want a list of routes"},

	// Routes.
	{"route twice", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a}\n      - {prefix: 192.0.2.0/25, via: 192.0.2.3, interface: ce-a} #<\n"), "vrfs[1].routes[1].prefix", `"192.0.2.0/25" is listed twice (first at vrfs[1].routes[0].prefix`},
	{"route not a mapping", routes("      - 192.0.2.0/25 #<\n"), "vrfs[1].routes[0]", "want a mapping with keys prefix, via"},
	{"route unknown key", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, gateway: 192.0.2.2} #<\n"), "vrfs[1].routes[0].gateway", "unknown key"},
	{"route prefix missing", routes("      - {via: 192.0.2.2, interface: ce-a} #<\n"), "vrfs[1].routes[0].prefix", "required, but missing"},
	{"route prefix length", routes("      - {prefix: 192.0.2.0/33, via: 192.0.2.2, interface: ce-a} #<\n"), "vrfs[1].routes[0].prefix", `"192.0.2.0/33" is not a prefix`},
	{"route prefix host bits", routes("      - {prefix: 192.0.2.1/25, via: 192.0.2.2, interface: ce-a} #<\n"), "vrfs[1].routes[0].prefix", "has host bits set: the prefix is 192.0.2.0/25"},
	{"route local and remote", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, remote-pe: 203.0.113.2, vpn-label: 2000} #<\n"), "vrfs[1].routes[0]", "not both"},
	{"route no next hop", routes("      - {prefix: 192.0.2.0/25} #<\n"), "vrfs[1].routes[0]", "needs via and interface"},
	{"route via only", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2} #<\n"), "vrfs[1].routes[0].interface", "required, but missing"},
	{"route interface only", routes("      - {prefix: 192.0.2.0/25, interface: ce-a} #<\n"), "vrfs[1].routes[0].via", "required, but missing"},
	{"route via syntax", routes("      - {prefix: 192.0.2.0/25, via: ce1, interface: ce-a} #<\n"), "vrfs[1].routes[0].via", `"ce1" is not an IP address`},
	{"route interface unknown", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-z} #<\n"), "vrfs[1].routes[0].interface", `no interface "ce-z" in interfaces`},
	{"route interface core", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: core0} #<\n"), "vrfs[1].routes[0].interface", "interface core0 has role core"},
	{"route interface other VRF", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-b} #<\n"), "vrfs[1].routes[0].interface", `interface ce-b is in VRF "b", not "a"`},
	{"route trunk without vlan", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: trunk0} #<\n"), "vrfs[1].routes[0].interface", "carries VRFs on VLANs only"},
	{"route vlan other VRF", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: trunk0, vlan: 200} #<\n"), "vrfs[1].routes[0].interface", `VLAN 200 of interface trunk0 is in VRF "b", not "a"`},
	{"route vlan absent", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: trunk0, vlan: 300} #<\n"), "vrfs[1].routes[0].interface", "interface trunk0 has no VLAN 300"},
	{"route vlan untagged interface", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, vlan: 100} #<\n"), "vrfs[1].routes[0].interface", "interface ce-a has no VLAN 100"},
	{"route vlan range", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: trunk0, vlan: 5000} #<\n"), "vrfs[1].routes[0].vlan", "1..4094"},
	{"route mac syntax", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, mac: \"02:00:00:00:00\"} #<\n"), "vrfs[1].routes[0].mac", "is not a MAC address"},
	{"route mac long", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, mac: \"02:00:00:00:00:00:00:01\"} #<\n"), "vrfs[1].routes[0].mac", "want six bytes"},
	{"route mac multicast", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, mac: \"01:00:5e:00:00:01\"} #<\n"), "vrfs[1].routes[0].mac", "group (multicast) address"},
	{"route mac zero", routes("      - {prefix: 192.0.2.0/25, via: 192.0.2.2, interface: ce-a, mac: \"00:00:00:00:00:00\"} #<\n"), "vrfs[1].routes[0].mac", "zero MAC"},
	{"route vpn-label missing", routes("      - {prefix: 192.0.2.0/25, remote-pe: 203.0.113.2} #<\n"), "vrfs[1].routes[0].vpn-label", "required, but missing"},
	{"route remote-pe missing", routes("      - {prefix: 192.0.2.0/25, vpn-label: 2000} #<\n"), "vrfs[1].routes[0].remote-pe", "required, but missing"},
	{"route vpn-label reserved", routes("      - {prefix: 192.0.2.0/25, remote-pe: 203.0.113.2, vpn-label: 15} #<\n"), "vrfs[1].routes[0].vpn-label", "want a VPN label, a decimal integer in 16..1048575"},
	{"route vpn-label wide", routes("      - {prefix: 192.0.2.0/25, remote-pe: 203.0.113.2, vpn-label: 1048576} #<\n"), "vrfs[1].routes[0].vpn-label", "16..1048575"},
	{"route remote PE unreachable", routes("      - {prefix: 192.0.2.0/25, remote-pe: 203.0.114.2, vpn-label: 2000} #<\n"), "vrfs[1].routes[0].remote-pe", "no LSP reaches remote PE 203.0.114.2"},

	// LSPs.
	{"lsp not a mapping", lsps("  - 3001 #<\n"), "lsps[0]", "want a mapping with keys fec, push"},
	{"lsp unknown key", lsps("  - {in-label: 3001, swap: 3002, via: 198.51.100.9, interface: core0, vlan: 10} #<\n"), "lsps[0].vlan", "unknown key"},
	{"lsp ingress and transit", lsps("  - {fec: 203.0.113.0/24, in-label: 3001, swap: 3002, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0]", "ingress (fec, push) or transit (in-label with swap or pop), not both"},
	{"lsp neither", lsps("  - {via: 198.51.100.9, interface: core0} #<\n"), "lsps[0]", "needs fec and push (ingress), or in-label with swap or pop"},
	{"lsp fec without push", lsps("  - {fec: 203.0.113.0/24, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].push", "required, but missing"},
	{"lsp push without fec", lsps("  - {push: 3001, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].fec", "required, but missing"},
	{"lsp in-label alone", lsps("  - {in-label: 3001, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0]", "an in-label needs swap or pop"},
	{"lsp swap without in-label", lsps("  - {swap: 3001, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].in-label", "required, but missing"},
	{"lsp swap and pop", lsps("  - {in-label: 3001, swap: 3002, pop: true, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0]", "swap and pop exclude each other"},
	{"lsp pop false", lsps("  - {in-label: 3001, pop: false, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].pop", "pop: false does nothing"},
	{"lsp pop word", lsps("  - {in-label: 3001, pop: yes, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].pop", `"yes": want true or false`},
	{"lsp fec host bits", lsps("  - {fec: 203.0.113.2/24, push: 3001, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].fec", "has host bits set: the prefix is 203.0.113.0/24"},
	{"lsp fec twice", lsps("  - {fec: 203.0.113.0/24, push: 3001, via: 198.51.100.9, interface: core0}\n  - {fec: 203.0.113.0/24, push: 3002, via: 198.51.100.9, interface: core0} #<\n"), "lsps[1].fec", "listed twice"},
	{"lsp push five", lsps("  - {fec: 203.0.113.0/24, push: [16, 17, 18, 19, 20], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].push", "5 labels: want 1..4"},
	{"lsp push none", lsps("  - {fec: 203.0.113.0/24, push: [], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].push", "0 labels: want 1..4"},
	{"lsp push implicit null", lsps("  - {fec: 203.0.113.0/24, push: [3], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].push[0]", "label 3 (implicit-null) is reserved"},
	{"lsp push wide", lsps("  - {fec: 203.0.113.0/24, push: [16, 1048576], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].push[1]", "want a label, a decimal integer in 0..1048575"},
	{"lsp swap router alert", lsps("  - {in-label: 3001, swap: 1, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].swap", "label 1 (router-alert) is reserved"},
	{"lsp swap unassigned", lsps("  - {in-label: 3001, swap: [5], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].swap[0]", "label 5 is reserved"},
	{"lsp swap list reserved", lsps("  - {in-label: 3001, swap: [3002, 13], via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].swap[1]", "label 13 (gal) is reserved"},
	{"lsp swap mapping", lsps("  - {in-label: 3001, swap: {label: 3002}, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].swap", "want a label, got a mapping"},
	{"lsp in-label dynamic", lsps("  - {in-label: 100000, pop: true, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].in-label", "static range, a decimal integer in 16..99999"},
	{"lsp in-label explicit null", lsps("  - {in-label: 0, pop: true, via: 198.51.100.9, interface: core0} #<\n"), "lsps[0].in-label", "16..99999"},
	{"lsp in-label twice", lsps("  - {in-label: 3001, pop: true, via: 198.51.100.9, interface: core0}\n  - {in-label: 3001, swap: 3005, via: 198.51.100.9, interface: core0} #<\n"), "lsps[1].in-label", "label 3001 is already used by lsps[0].in-label"},
	{"lsp via missing", lsps("  - {in-label: 3001, pop: true, interface: core0} #<\n"), "lsps[0].via", "required, but missing"},
	{"lsp via syntax", lsps("  - {in-label: 3001, pop: true, via: p1, interface: core0} #<\n"), "lsps[0].via", `"p1" is not an IP address`},
	{"lsp interface missing", lsps("  - {in-label: 3001, pop: true, via: 198.51.100.9} #<\n"), "lsps[0].interface", "required, but missing"},
	{"lsp interface unknown", lsps("  - {in-label: 3001, pop: true, via: 198.51.100.9, interface: core9} #<\n"), "lsps[0].interface", `no interface "core9" in interfaces`},
	{"lsp interface ce", lsps("  - {in-label: 3001, pop: true, via: 198.51.100.9, interface: ce-a} #<\n"), "lsps[0].interface", "interface ce-a has role ce: labelled packets leave through a core interface"},
	{"lsp interface global", lsps("  - {fec: 203.0.113.0/24, push: 3001, via: 198.51.100.9, interface: inet0} #<\n"), "lsps[0].interface", "interface inet0 has role global"},
	{"lsp mac", lsps("  - {in-label: 3001, pop: true, via: 198.51.100.9, interface: core0, mac: \"zz:00:00:00:00:01\"} #<\n"), "lsps[0].mac", "is not a MAC address"},

	// Listeners and paths.
	{"api not a mapping", base + "api: /run/x.sock #<\n", "api", "want a mapping with keys socket"},
	{"api unknown key", base + "api: {path: /run/x.sock} #<\n", "api.path", "unknown key"},
	{"api socket relative", base + "api: {socket: run/x.sock} #<\n", "api.socket", `"run/x.sock" is not an absolute path`},
	{"api socket empty", base + "api: {socket: \"\"} #<\n", "api.socket", "is not an absolute path"},
	{"api socket long", base + "api: {socket: /" + strings.Repeat("x", 107) + "} #<\n", "api.socket", "a unix socket path has at most 107"},
	{"metrics listen", base + "metrics: {listen: localhost} #<\n", "metrics.listen", "want host:port"},
	{"metrics port 0", base + "metrics: {listen: \"127.0.0.1:0\"} #<\n", "metrics.listen", `port "0": want 1..65535`},
	{"metrics port name", base + "metrics: {listen: \"127.0.0.1:http\"} #<\n", "metrics.listen", `port "http"`},
	{"metrics host", base + "metrics: {listen: \"a b:9469\"} #<\n", "metrics.listen", "neither an IP address nor a host name"},
	{"bpf pin-path relative", base + "bpf: {pin-path: mplsdp} #<\n", "bpf.pin-path", "is not an absolute path"},
}

// bomb is a key whose aliases expand to 10^7 nodes, marked where they pass maxNodes.
func bomb() string {
	var b strings.Builder
	b.WriteString("lsps:\n  - &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n")
	for i := 1; i < 7; i++ {
		fmt.Fprintf(&b, "  - &a%d [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return strings.TrimSuffix(b.String(), "\n") + " #<\n"
}

// manyInterfaces lists n core interfaces, the list marked.
func manyInterfaces(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {name: c%d, role: core}", i)
		if i == 0 {
			b.WriteString(" #<")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// markedLine returns the line holding "#<", 1 when there is none.
func markedLine(s string) int {
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "#<") {
			return i + 1
		}
	}
	return 1
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; config %+v\n%s", c, tc.yaml)
			}
			if c != nil {
				t.Errorf("a config with the error")
			}
			var errs ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not ConfigErrors: %v", err, err)
			}
			line := markedLine(tc.yaml)
			if len(errs) != 1 {
				t.Errorf("%d errors, want 1:\n%v", len(errs), err)
			}
			e := errs[0]
			if e.Line != line || e.Path != tc.path || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got  line %d path %q msg %q\nwant line %d path %q msg containing %q\nin:\n%s", e.Line, e.Path, e.Msg, line, tc.path, tc.msg, tc.yaml)
			}
			want := fmt.Sprintf("line %d", line)
			if tc.path != "" {
				want += fmt.Sprintf(":%d: %s: ", e.Column, tc.path)
			}
			if !strings.HasPrefix(e.Error(), want) {
				t.Errorf("Error() = %q, want it to begin with %q", e.Error(), want)
			}
		})
	}
}

// TestParseConfigAllErrors checks that every error is reported, in file order.
func TestParseConfigAllErrors(t *testing.T) {
	in := `router-id: 192.0.2.1
ttl-mode: loose
interfaces:
  - {name: core0, role: core}
  - {name: ce-a, role: ce, vrf: missing}
vrfs:
  - name: a
    rd: "65000"
    routes:
      - {prefix: 10.0.0.1/8, remote-pe: 203.0.113.2, vpn-label: 2000}
engine: dpdk
`
	_, err := ParseConfig([]byte(in))
	var errs ConfigErrors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not ConfigErrors", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%d %s", e.Line, e.Path))
	}
	want := []string{
		"2 ttl-mode",
		"5 interfaces[1].vrf",
		"8 vrfs[0].rd",
		"10 vrfs[0].routes[0].prefix",
		"10 vrfs[0].routes[0].remote-pe",
		"11 engine",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at\n%s\nwant\n%s\nerror:\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("Error() has %d lines, want %d", n, len(want))
	}
}

func TestParseConfigFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	rd := func(s string) vrf.RD {
		v, err := vrf.ParseRD(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	rt := func(s string) vrf.RT {
		v, err := vrf.ParseRT(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := &Config{
		RouterID:       a("192.0.2.1"),
		TTLMode:        dataplane.TTLUniform,
		PuntTTLExpired: true,
		Engine:         "afxdp",
		Interfaces: []Interface{
			{Name: "core0", Role: dataplane.RoleCore},
			{Name: "core1", Role: dataplane.RoleCore, MTU: 9000},
			{Name: "ce-a", Role: dataplane.RoleCE, VRF: "customer-a", Peers: []netip.Addr{a("192.0.2.2")}},
			{Name: "trunk0", Role: dataplane.RoleCE, VLANs: map[uint16]string{100: "customer-a", 200: "customer-b"},
				Peers: []netip.Addr{a("192.0.2.130"), a("2001:db8:1::2")}},
			{Name: "inet0", Role: dataplane.RoleGlobal, MTU: 1500},
		},
		VRFs: []VRF{
			{
				Name: "customer-a", RD: rd("65000:110"),
				Import:    []vrf.RT{rt("65000:1000"), rt("65000:1001")},
				Export:    []vrf.RT{rt("65000:1000")},
				MaxRoutes: 10000, Label: 1000,
				Routes: []Route{
					{Prefix: p("192.0.2.0/25"), Via: a("192.0.2.2"), Interface: "ce-a"},
					{Prefix: p("203.0.113.128/25"), Via: a("192.0.2.3"), Interface: "trunk0", VLAN: 100,
						MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}},
					{Prefix: p("192.0.2.128/25"), RemotePE: a("203.0.113.2"), VPNLabel: 2000},
					{Prefix: p("2001:db8:a::/48"), RemotePE: a("203.0.113.2"), VPNLabel: lfib.MaxLabel},
				},
			},
			{
				Name: "customer-b", RD: rd("192.0.2.1:7"),
				Import: []vrf.RT{rt("4200000000:7")},
				Routes: []Route{{Prefix: p("10.0.0.0/8"), Via: a("10.1.1.1"), Interface: "trunk0", VLAN: 200}},
			},
		},
		LSPs: []LSP{
			{FEC: p("203.0.113.0/24"), Push: []lfib.Label{3001, lfib.LabelIPv4ExplicitNull}, Via: a("198.51.100.9"), Interface: "core0"},
			{InLabel: 3001, Swap: []lfib.Label{3002}, Via: a("198.51.100.13"), Interface: "core1", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}},
			{InLabel: 3003, Swap: []lfib.Label{3004, 3005, 16, lfib.MaxLabel}, Via: a("198.51.100.13"), Interface: "core1"},
			{InLabel: 3002, Pop: true, Via: a("198.51.100.17"), Interface: "core0"},
		},
		RouterAddrs:  []netip.Addr{a("192.0.2.1"), a("198.51.100.1"), a("2001:db8::1")},
		CorePrefixes: []netip.Prefix{p("198.51.100.0/24"), p("2001:db8:ff::/48")},
		API:          API{Socket: "/var/run/mplsdp.sock"},
		Metrics:      Metrics{Listen: "[::1]:9100"},
		BPF:          BPF{PinPath: "/sys/fs/bpf/test"},
	}
	diffConfig(t, got, want)
}

// diffConfig reports the fields of got that differ from want.
func diffConfig(t *testing.T, got, want *Config) {
	t.Helper()
	g, w := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s:\n got %+v\nwant %+v", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
		}
	}
}

func TestParseConfigDefaults(t *testing.T) {
	got, err := ParseConfig([]byte("router-id: 192.0.2.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		RouterID:    netip.MustParseAddr("192.0.2.1"),
		TTLMode:     dataplane.TTLPipe,
		Engine:      "xdp",
		RouterAddrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		API:         API{Socket: "/run/mplsdp/api.sock"},
		Metrics:     Metrics{Listen: "127.0.0.1:9469"},
		BPF:         BPF{PinPath: "/sys/fs/bpf/mplsdp"},
	}
	diffConfig(t, got, want)
}

func TestParseConfigMetricsOff(t *testing.T) {
	got, err := ParseConfig([]byte("router-id: 192.0.2.1\nmetrics: {listen: \"\"}\napi: {socket: }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Metrics.Listen != "" || got.API.Socket != DefaultAPISocket {
		t.Errorf("metrics %q, api %q; want metrics off, the default API socket", got.Metrics.Listen, got.API.Socket)
	}
}

func TestParseConfigAliases(t *testing.T) {
	in := `router-id: 192.0.2.1
interfaces:
  - {name: a1, role: ce, vrf: a, peers: &peers [192.0.2.10, 192.0.2.11]}
  - {name: b1, role: ce, vrf: b, peers: *peers}
vrfs:
  - {name: a, rd: "65000:1", import: &rts ["65000:1"], export: *rts}
  - {name: b, rd: "65000:2", import: *rts}
`
	c, err := ParseConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Interfaces[0].Peers, c.Interfaces[1].Peers) || len(c.Interfaces[1].Peers) != 2 {
		t.Errorf("peers %v and %v", c.Interfaces[0].Peers, c.Interfaces[1].Peers)
	}
	if len(c.VRFs[1].Import) != 1 || c.VRFs[1].Import[0] != c.VRFs[0].Export[0] {
		t.Errorf("route targets %v %v", c.VRFs[0], c.VRFs[1])
	}
}

func TestLoadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("router-id: 192.0.2.1\ninterfaces: [{name: a1, role: ce, vrf: a}]\nvrfs:\n  - {name: a, rd: \"65000:1\", routes: [{prefix: 192.0.2.0/33, via: 192.0.2.2, interface: a1}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil {
		t.Fatal("no error")
	}
	want := path + `:4:48: vrfs[0].routes[0].prefix: "192.0.2.0/33" is not a prefix`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n%v\nwant it to begin with\n%s", err, want)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

// TestParseConfigDoc parses the file described in ParseConfig's doc comment, so that
// the description stays true.
func TestParseConfigDoc(t *testing.T) {
	src, err := os.ReadFile("configfile.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc strings.Builder
	in := false
	for l := range strings.SplitSeq(string(src), "\n") {
		switch {
		case strings.HasPrefix(l, "func ParseConfig("):
			in = false
		case strings.HasPrefix(l, "// ParseConfig reads"):
			in = true
		case in && strings.HasPrefix(l, "//\t"):
			doc.WriteString(strings.TrimPrefix(l, "//\t") + "\n")
		case in && l == "//":
			doc.WriteString("\n")
		}
	}
	if !strings.Contains(doc.String(), "router-id:") {
		t.Fatalf("no configuration in ParseConfig's doc comment:\n%s", doc.String())
	}
	c, err := ParseConfig([]byte(doc.String()))
	if err != nil {
		t.Fatalf("%v\nin:\n%s", err, doc.String())
	}
	if len(c.LSPs) != 3 || len(c.VRFs) != 1 || len(c.Interfaces) != 2 {
		t.Errorf("parsed %d LSPs, %d VRFs, %d interfaces; want 3, 1, 2", len(c.LSPs), len(c.VRFs), len(c.Interfaces))
	}
}

// TestExamples parses every configuration in examples/.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("examples: %d files, want pe1, p, pe2", len(files))
	}
	for _, f := range files {
		c, err := LoadConfig(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(c.Interfaces) == 0 || len(c.LSPs) == 0 {
			t.Errorf("%s: %d interfaces, %d LSPs", f, len(c.Interfaces), len(c.LSPs))
		}
	}
}

// TestExamplePE1 checks that examples/pe1.yaml is bench/vpnlab's PE1.
func TestExamplePE1(t *testing.T) {
	c, err := LoadConfig("../examples/pe1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type vpn struct {
		name   string
		label  lfib.Label
		remote lfib.Label
		ce     string
	}
	want := []vpn{{"cust-a", 1001, 2001, "02:00:00:00:01:01"}, {"cust-b", 1002, 2002, "02:00:00:00:02:01"}}
	var got []vpn
	for _, v := range c.VRFs {
		x := vpn{name: v.Name, label: v.Label}
		for _, r := range v.Routes {
			if r.Remote() {
				x.remote = r.VPNLabel
			} else {
				x.ce = r.MAC.String()
			}
		}
		got = append(got, x)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("VRFs %+v, want %+v", got, want)
	}
	if len(c.LSPs) != 1 || !reflect.DeepEqual(c.LSPs[0].Push, []lfib.Label{16002}) || c.LSPs[0].MAC.String() != "02:00:00:00:04:00" {
		t.Errorf("LSPs %+v", c.LSPs)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, pattern := range []string{"../examples/*.yaml", "testdata/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, tc := range errorCases {
		f.Add([]byte(tc.yaml))
	}
	f.Add([]byte(""))
	f.Add([]byte("\x00\xff garbage: [}"))
	f.Add([]byte(strings.Repeat("[", 20000)))
	f.Add([]byte(strings.Repeat("{a: ", 5000)))
	var deep strings.Builder
	for i := range 300 {
		fmt.Fprintf(&deep, "%s- k%d:\n", strings.Repeat("  ", i), i)
	}
	f.Add([]byte(deep.String()))
	f.Add([]byte("interfaces: &x\n  - {name: a, role: ce, vlans: *x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err == nil {
			if c == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		var errs ConfigErrors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T %v is not ConfigErrors", err, err)
		}
		for _, e := range errs {
			if e.Msg == "" {
				t.Fatalf("an error without a message: %+v", e)
			}
		}
	})
}

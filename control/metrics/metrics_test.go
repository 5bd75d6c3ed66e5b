// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/dataplane"
)

type fakeKernel struct{}

func (fakeKernel) Link(name string) (int, net.HardwareAddr, int, error) {
	return len(name), net.HardwareAddr{2, 0, 0, 0, 0, byte(len(name))}, 1500, nil
}
func (fakeKernel) Neighbor(string, netip.Addr) (net.HardwareAddr, error) {
	return net.HardwareAddr{2, 0, 0, 0, 0, 0xee}, nil
}

// TestCollector checks the exported series and that they carry the engine's numbers.
func TestCollector(t *testing.T) {
	ctrl := control.New(fakeKernel{})
	cfg := &control.Config{
		Interfaces: []control.Interface{{Name: "core0", Role: dataplane.RoleCore}, {Name: "ce-a", Role: dataplane.RoleCE, VRF: "a"}},
		VRFs: []control.VRF{{Name: "a", Label: 1000, MaxRoutes: 10, Routes: []control.Route{
			{Prefix: netip.MustParsePrefix("192.0.2.0/25"), Via: netip.MustParseAddr("192.0.2.2"), Interface: "ce-a"},
			{Prefix: netip.MustParsePrefix("2001:db8::/48"), Via: netip.MustParseAddr("2001:db8::2"), Interface: "ce-a"},
		}}},
		LSPs: []control.LSP{{InLabel: 3001, Pop: true, Via: netip.MustParseAddr("198.51.100.9"), Interface: "core0"}},
	}
	if err := ctrl.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	core, _ := ctrl.PortID("core0")
	stats := &dataplane.Stats{}
	stats.Ports[core].RxPackets = 42
	stats.Ports[core].Drops[dataplane.ReasonNoLabel] = 7
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(ctrl, func() (*dataplane.Stats, error) { return stats, nil }))

	want := `
# HELP mplsdp_rx_packets_total Frames received, by interface.
# TYPE mplsdp_rx_packets_total counter
mplsdp_rx_packets_total{interface="ce-a"} 0
mplsdp_rx_packets_total{interface="core0"} 42
# HELP mplsdp_lfib_entries Incoming-label entries installed.
# TYPE mplsdp_lfib_entries gauge
mplsdp_lfib_entries 2
# HELP mplsdp_vrf_routes Routes installed, by VRF and address family.
# TYPE mplsdp_vrf_routes gauge
mplsdp_vrf_routes{family="ipv4",vrf="a"} 1
mplsdp_vrf_routes{family="ipv4",vrf="global"} 0
mplsdp_vrf_routes{family="ipv6",vrf="a"} 1
mplsdp_vrf_routes{family="ipv6",vrf="global"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "mplsdp_rx_packets_total", "mplsdp_lfib_entries", "mplsdp_vrf_routes"); err != nil {
		t.Error(err)
	}
	n, err := testutil.GatherAndCount(reg, "mplsdp_drops_total")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * int(dataplane.NumReasons-1); n != want {
		t.Errorf("%d drops_total series, want %d (every reason on both interfaces)", n, want)
	}
	if v := testutil.ToFloat64(dropsOf(t, reg, "core0", "no_label")); v != 7 {
		t.Errorf("drops{core0,no_label} = %v", v)
	}
}

func dropsOf(t *testing.T, reg *prometheus.Registry, ifc, reason string) prometheus.Collector {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "mplsdp_drops_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var i, r string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "interface":
					i = l.GetValue()
				case "reason":
					r = l.GetValue()
				}
			}
			if i == ifc && r == reason {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no drops_total{%s,%s}", ifc, reason)
	return nil
}

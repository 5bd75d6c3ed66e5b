// SPDX-License-Identifier: Apache-2.0

// Package metrics exports the router's counters and tables to Prometheus. Counters are
// read from the engine at scrape time, never incremented per packet.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/vrf"
)

// StatsFunc reads the running engine's counters.
type StatsFunc func() (*dataplane.Stats, error)

// Collector is a prometheus.Collector over a controller and an engine.
type Collector struct {
	ctrl  *control.Controller
	stats StatsFunc

	rxPackets, rxBytes, txPackets, txBytes, kernel, drops *prometheus.Desc
	lfibEntries, vrfRoutes, vrfRefused, unresolved        *prometheus.Desc
	scrapeErrors                                          prometheus.Counter
}

// New returns a collector; register it with a prometheus.Registry.
func New(ctrl *control.Controller, stats StatsFunc) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("mplsdp_"+name, help, labels, nil)
	}
	return &Collector{
		ctrl: ctrl, stats: stats,
		rxPackets:   d("rx_packets_total", "Frames received, by interface.", "interface"),
		rxBytes:     d("rx_bytes_total", "Bytes received, by interface.", "interface"),
		txPackets:   d("tx_packets_total", "Frames forwarded out of an interface.", "interface"),
		txBytes:     d("tx_bytes_total", "Bytes forwarded out of an interface.", "interface"),
		kernel:      d("kernel_packets_total", "Frames handed to the host's network stack, by ingress interface.", "interface"),
		drops:       d("drops_total", "Frames dropped, by ingress interface and reason.", "interface", "reason"),
		lfibEntries: d("lfib_entries", "Incoming-label entries installed."),
		vrfRoutes:   d("vrf_routes", "Routes installed, by VRF and address family.", "vrf", "family"),
		vrfRefused:  d("vrf_routes_refused_total", "Routes refused by a VRF's max-routes.", "vrf"),
		unresolved:  d("unresolved_entries", "Configured entries not installed for want of an interface or a neighbour."),
		scrapeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mplsdp_scrape_errors_total", Help: "Scrapes that could not read the engine's counters.",
		}),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rxPackets, c.rxBytes, c.txPackets, c.txBytes, c.kernel, c.drops,
		c.lfibEntries, c.vrfRoutes, c.vrfRefused, c.unresolved} {
		ch <- d
	}
	c.scrapeErrors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.ctrl.Router()
	cfg := r.Config()
	if s, err := c.stats(); err != nil {
		c.scrapeErrors.Inc()
	} else {
		for id, p := range cfg.Ports {
			if p.Name == "" {
				continue
			}
			ps := &s.Ports[id]
			ch <- prometheus.MustNewConstMetric(c.rxPackets, prometheus.CounterValue, float64(ps.RxPackets), p.Name)
			ch <- prometheus.MustNewConstMetric(c.rxBytes, prometheus.CounterValue, float64(ps.RxBytes), p.Name)
			ch <- prometheus.MustNewConstMetric(c.txPackets, prometheus.CounterValue, float64(ps.TxPackets), p.Name)
			ch <- prometheus.MustNewConstMetric(c.txBytes, prometheus.CounterValue, float64(ps.TxBytes), p.Name)
			ch <- prometheus.MustNewConstMetric(c.kernel, prometheus.CounterValue, float64(ps.Kernel), p.Name)
			for reason := dataplane.Reason(1); reason < dataplane.NumReasons; reason++ {
				ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(ps.Drops[reason]), p.Name, reason.String())
			}
		}
	}
	c.scrapeErrors.Collect(ch)
	ch <- prometheus.MustNewConstMetric(c.lfibEntries, prometheus.GaugeValue, float64(r.LFIB.Len()))
	snap := r.VRFs.Load()
	for _, v := range snap.VRFs() {
		n4, n6 := snap.RouteCount(v.ID)
		ch <- prometheus.MustNewConstMetric(c.vrfRoutes, prometheus.GaugeValue, float64(n4), v.Name, "ipv4")
		ch <- prometheus.MustNewConstMetric(c.vrfRoutes, prometheus.GaugeValue, float64(n6), v.Name, "ipv6")
		if v.ID != vrf.Global {
			ch <- prometheus.MustNewConstMetric(c.vrfRefused, prometheus.CounterValue, float64(r.VRFs.Refused(v.ID)), v.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.unresolved, prometheus.GaugeValue, float64(len(c.ctrl.Unresolved())))
}

// UpdateLatency is the controller's update latency histogram: the daemon observes each
// change's time from request to tables.
var UpdateLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "mplsdp_controller_update_seconds",
	Help:    "Time from a configuration or API change to the forwarding tables, engine maps included.",
	Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
})

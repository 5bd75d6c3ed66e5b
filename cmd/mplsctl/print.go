// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"

	"github.com/mplsdp/mplsdp/control/api"
)

// table writes aligned columns: two spaces between them.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// dash stands for an empty value.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func labelList(ls []uint32) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = strconv.FormatUint(uint64(l), 10)
	}
	return strings.Join(s, " ")
}

func ifName(name string, vlan uint32) string {
	if vlan != 0 {
		return name + "." + strconv.FormatUint(uint64(vlan), 10)
	}
	return name
}

// nextHop is the path's address when the configuration gives one, else its MAC.
func nextHop(p *api.Path) string {
	if p.GetVia() != "" {
		return p.GetVia()
	}
	return dash(p.GetMac())
}

// printLabels prints the LFIB in the columns of router CLIs.
func printLabels(w io.Writer, resp *api.ListLabelsResponse) error {
	t := newTable(w, "Local Label", "Outgoing Label", "Prefix or Tunnel Id", "Bytes Label Switched", "Outgoing Interface", "Next Hop")
	for _, e := range resp.GetLabels() {
		local := strconv.FormatUint(uint64(e.GetLabel()), 10)
		bytes := "-" // the engine does not count per label (AF_XDP)
		if e.Bytes != nil {
			bytes = strconv.FormatUint(e.GetBytes(), 10)
		}
		if e.GetOperation() == "pop-to-vrf" {
			t.row(local, "No Label", "vrf "+e.GetVrf(), bytes, "aggregate/"+e.GetVrf(), "-")
			continue
		}
		prefix := "-"
		if e.GetOwner() == api.Owner_OWNER_API {
			prefix = "(api)"
		}
		for i, p := range e.GetPaths() {
			out := labelList(p.GetLabels())
			switch e.GetOperation() {
			case "pop":
				out = "Pop Label"
			case "pop-to-nexthop":
				out = "No Label"
			}
			first, b := local, bytes
			if i > 0 {
				first, b = "", "" // another ECMP path of the same label
			}
			t.row(first, dash(out), prefix, b, ifName(p.GetInterface(), p.GetVlan()), nextHop(p))
		}
		if len(e.GetPaths()) == 0 {
			t.row(local, e.GetOperation(), prefix, bytes, "-", "-")
		}
	}
	for _, tun := range resp.GetTunnels() {
		id := "tunnel " + strconv.FormatUint(uint64(tun.GetId()), 10)
		if tun.GetFec() != "" {
			id = tun.GetFec() + " (" + id + ")"
		}
		bytes := "-"
		if tun.Bytes != nil {
			bytes = strconv.FormatUint(tun.GetBytes(), 10)
		}
		for i, p := range tun.GetPaths() {
			if i > 0 {
				id, bytes = "", ""
			}
			t.row("-", dash(labelList(p.GetLabels())), id, bytes, ifName(p.GetInterface(), p.GetVlan()), nextHop(p))
		}
	}
	return t.flush()
}

// printRoutes prints a VRF's routes.
func printRoutes(w io.Writer, resp *api.ListRoutesResponse) error {
	config := map[string]bool{}
	for _, r := range resp.GetRoutes() {
		if r.GetOwner() == api.Owner_OWNER_CONFIG {
			config[r.GetPrefix()] = true
		}
	}
	t := newTable(w, "Prefix", "Next Hop", "Interface", "VPN Label", "MAC", "Owner", "State")
	for _, r := range resp.GetRoutes() {
		state := "installed"
		switch {
		case r.GetInstalled():
		case r.GetOwner() == api.Owner_OWNER_API && config[r.GetPrefix()]:
			state = "shadowed by config"
		default:
			state = "unresolved"
		}
		if r.GetRemotePe() != "" {
			ifc := "-"
			if r.GetTunnel() != 0 {
				ifc = "tunnel " + strconv.FormatUint(uint64(r.GetTunnel()), 10)
			}
			t.row(r.GetPrefix(), r.GetRemotePe(), ifc, strconv.FormatUint(uint64(r.GetVpnLabel()), 10), "-", r.GetOwner().Name(), state)
			continue
		}
		t.row(r.GetPrefix(), dash(r.GetVia()), dash(ifName(r.GetInterface(), r.GetVlan())), "-", dash(r.GetMac()), r.GetOwner().Name(), state)
	}
	return t.flush()
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// printTable prints the answer of a show command without arguments.
func printTable(w io.Writer, m proto.Message) error {
	switch resp := m.(type) {
	case *api.ListVRFsResponse:
		t := newTable(w, "Name", "Id", "RD", "VPN Label", "IPv4 Routes", "IPv6 Routes", "Max Routes", "Refused", "Import RT", "Export RT", "Interfaces")
		for _, v := range resp.GetVrfs() {
			limit := "-"
			if v.GetMaxRoutes() > 0 {
				limit = u64(uint64(v.GetMaxRoutes()))
			}
			label := "-"
			if v.GetVpnLabel() != 0 {
				label = u64(uint64(v.GetVpnLabel()))
			}
			t.row(v.GetName(), u64(uint64(v.GetId())), dash(v.GetRd()), label,
				u64(uint64(v.GetIpv4Routes())), u64(uint64(v.GetIpv6Routes())), limit, u64(v.GetRefusedRoutes()),
				dash(strings.Join(v.GetImport(), ",")), dash(strings.Join(v.GetExport(), ",")), dash(strings.Join(v.GetInterfaces(), ",")))
		}
		return t.flush()

	case *api.ListInterfacesResponse:
		t := newTable(w, "Interface", "Port", "Role", "Ifindex", "MTU", "MAC", "VRF", "RX Packets", "RX Bytes", "TX Packets", "TX Bytes", "To Kernel", "Drops")
		for _, i := range resp.GetInterfaces() {
			var vrfs []string
			for _, b := range i.GetBindings() {
				if b.GetVlan() == 0 {
					vrfs = append(vrfs, b.GetVrf())
				} else {
					vrfs = append(vrfs, "vlan "+u64(uint64(b.GetVlan()))+": "+b.GetVrf())
				}
			}
			ifindex := "-"
			if i.GetIfindex() != 0 {
				ifindex = u64(uint64(i.GetIfindex()))
			}
			counters := []string{"-", "-", "-", "-", "-", "-"}
			if resp.GetStatsError() == "" {
				counters = []string{u64(i.GetRxPackets()), u64(i.GetRxBytes()), u64(i.GetTxPackets()), u64(i.GetTxBytes()), u64(i.GetKernelPackets()), u64(i.GetDrops())}
			}
			t.row(append([]string{i.GetName(), u64(uint64(i.GetPort())), i.GetRole(), ifindex, u64(uint64(i.GetMtu())), i.GetMac(), dash(strings.Join(vrfs, ", "))}, counters...)...)
		}
		if err := t.flush(); err != nil {
			return err
		}
		if e := resp.GetStatsError(); e != "" {
			_, err := fmt.Fprintf(w, "no counters: %s\n", e)
			return err
		}
		return nil

	case *api.DropsResponse:
		if len(resp.GetDrops()) == 0 {
			_, err := fmt.Fprintln(w, "no drops")
			return err
		}
		t := newTable(w, "Interface", "Reason", "Packets")
		for _, d := range resp.GetDrops() {
			name := d.GetInterface()
			if name == "" {
				name = "port " + u64(uint64(d.GetPort())) // an interface gone from the configuration
			}
			t.row(name, d.GetReason(), u64(d.GetPackets()))
		}
		return t.flush()

	case *api.UnresolvedResponse:
		if len(resp.GetItems()) == 0 {
			_, err := fmt.Fprintln(w, "nothing unresolved")
			return err
		}
		for _, s := range resp.GetItems() {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("no table format for %T", m)
}

// printTrace prints a trace like a router's packet tracer: one line per decision,
// the verdict, then the frame that leaves (or, when none does, the one traced).
func printTrace(w io.Writer, resp *api.TraceResponse) error {
	t := newTable(w, "Step", "Table", "Decision")
	for i, s := range resp.GetSteps() {
		t.row(strconv.Itoa(i+1), s.GetTable(), s.GetSummary())
	}
	if err := t.flush(); err != nil {
		return err
	}
	var result string
	frame, which := resp.GetOutput(), "Output"
	switch resp.GetVerdict() {
	case "forward":
		result = "forward out " + resp.GetEgressInterface() + " (port " + u64(uint64(resp.GetEgressPort())) + ")"
	case "drop":
		result = "drop (" + resp.GetReason() + ")"
	case "kernel":
		result = "to the kernel (the host's network stack)"
	default:
		result = resp.GetVerdict()
	}
	if frame == nil {
		frame, which = resp.GetInput(), "Input"
	}
	fmt.Fprintf(w, "\nResult: %s\n\n%s frame, %d bytes:\n", result, which, frame.GetLength())
	lt := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	for _, l := range frame.GetLayers() {
		lt.row("  "+l.GetName(), l.GetSummary())
	}
	lt.row("  hex", frame.GetHex())
	return lt.flush()
}

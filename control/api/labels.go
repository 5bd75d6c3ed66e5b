// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

func (s *server) AddLabels(_ context.Context, req *AddLabelsRequest) (*ChangeResponse, error) {
	c := s.ctl()
	cfg := c.Config()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "no configuration applied yet")
	}
	n := len(req.GetLabels())
	if n == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty batch: no labels to add")
	}
	conf := configLabels(c, cfg)
	lsps := make([]control.LSP, 0, n)
	seen := make(map[lfib.Label]bool, n)
	for i, e := range req.GetLabels() {
		item := labelItem(i, n, e.GetLabel())
		l, err := lspFromProto(cfg, e)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: %v; nothing changed", item, err)
		}
		if seen[l.InLabel] {
			return nil, status.Errorf(codes.InvalidArgument, "%s: twice in the batch; nothing changed", item)
		}
		if what, ok := conf[l.InLabel]; ok {
			return nil, status.Errorf(codes.FailedPrecondition, "%s: the configuration uses the label (%s); pick another or change the configuration file; nothing changed", item, what)
		}
		seen[l.InLabel] = true
		lsps = append(lsps, l)
	}
	return s.change(func() error { return c.AddLSPs(lsps) })
}

func (s *server) DeleteLabels(_ context.Context, req *DeleteLabelsRequest) (*ChangeResponse, error) {
	c := s.ctl()
	cfg := c.Config()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "no configuration applied yet")
	}
	n := len(req.GetLabels())
	if n == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty batch: no labels to delete")
	}
	api := map[lfib.Label]bool{}
	for _, l := range c.APILSPs() {
		api[l.InLabel] = true
	}
	conf := configLabels(c, cfg)
	labels := make([]lfib.Label, 0, n)
	seen := make(map[lfib.Label]bool, n)
	for i, x := range req.GetLabels() {
		item := labelItem(i, n, x)
		l := lfib.Label(x)
		switch what, ok := conf[l]; {
		case seen[l]:
			return nil, status.Errorf(codes.InvalidArgument, "%s: twice in the batch; nothing changed", item)
		case api[l]:
		case ok:
			return nil, status.Errorf(codes.FailedPrecondition, "%s: the label belongs to the configuration (%s; change the configuration file); nothing changed", item, what)
		default:
			return nil, status.Errorf(codes.NotFound, "%s: no such label entry from the API; nothing changed", item)
		}
		seen[l] = true
		labels = append(labels, l)
	}
	return s.change(func() error { return c.DeleteLSPs(labels) })
}

func labelItem(i, n int, label uint32) string {
	return fmt.Sprintf("label %d of %d (in-label %d)", i+1, n, label)
}

// configLabels are the incoming labels the configuration uses, with what uses them:
// LSPs' in-labels and VRFs' labels (configured or allocated).
func configLabels(c *control.Controller, cfg *control.Config) map[lfib.Label]string {
	out := map[lfib.Label]string{}
	for _, l := range cfg.LSPs {
		if !l.FEC.IsValid() {
			out[l.InLabel] = "an LSP's in-label"
		}
	}
	snap := c.Router().VRFs.Load()
	c.Router().LFIB.Walk(func(l lfib.Label, e lfib.Entry) bool {
		if e.Op == lfib.OpPopToVRF {
			out[l] = "the VPN label of VRF " + vrfName(snap, vrf.ID(e.VRF))
		}
		return true
	})
	return out
}

// lspFromProto checks an AddLabels entry against cfg and converts it.
func lspFromProto(cfg *control.Config, e *LabelEntry) (control.LSP, error) {
	var out control.LSP
	l := lfib.Label(e.GetLabel())
	if l < lfib.MinLabel || l > lfib.MaxLabel {
		return out, fmt.Errorf("label %d out of range %d..%d", e.GetLabel(), lfib.MinLabel, lfib.MaxLabel)
	}
	out.InLabel = l
	if e.GetVrf() != "" {
		return out, errors.New("a VRF: the API installs swap and pop entries; VPN labels come with the VRFs of the configuration")
	}
	if len(e.GetPaths()) != 1 {
		return out, fmt.Errorf("%d paths: give exactly one", len(e.GetPaths()))
	}
	p := e.GetPaths()[0]
	switch e.GetOperation() {
	case "swap":
		if len(p.GetLabels()) == 0 {
			return out, errors.New("swap without outgoing labels")
		}
		if len(p.GetLabels()) > lfib.MaxPush {
			return out, fmt.Errorf("%d outgoing labels: at most %d", len(p.GetLabels()), lfib.MaxPush)
		}
		for _, x := range p.GetLabels() {
			o := lfib.Label(x)
			if !o.Valid() || (o.Reserved() && o != lfib.LabelIPv4ExplicitNull && o != lfib.LabelIPv6ExplicitNull) {
				return out, fmt.Errorf("outgoing label %d not allowed (want %d..%d, or explicit null 0 or 2)", x, lfib.MinLabel, lfib.MaxLabel)
			}
			out.Swap = append(out.Swap, o)
		}
	case "pop":
		if len(p.GetLabels()) > 0 {
			return out, errors.New("pop with outgoing labels: use swap")
		}
		out.Pop = true
	case "":
		return out, errors.New("no operation: want swap or pop")
	default:
		return out, fmt.Errorf("operation %q: want swap or pop", e.GetOperation())
	}
	if !slices.ContainsFunc(cfg.Interfaces, func(i control.Interface) bool { return i.Name == p.GetInterface() }) {
		if p.GetInterface() == "" {
			return out, errors.New("no interface for the next hop")
		}
		return out, fmt.Errorf("no interface %q in the configuration", p.GetInterface())
	}
	out.Interface = p.GetInterface()
	if p.GetVlan() != 0 {
		return out, errors.New("a VLAN: label entries send untagged frames")
	}
	if p.GetVia() != "" {
		a, err := netip.ParseAddr(p.GetVia())
		if err != nil {
			return out, fmt.Errorf("next hop (via): %v", err)
		}
		out.Via = a
	}
	if p.GetMac() != "" {
		m, err := net.ParseMAC(p.GetMac())
		if err != nil || len(m) != 6 {
			return out, fmt.Errorf("MAC %q: want an Ethernet address like 02:00:00:00:00:01", p.GetMac())
		}
		out.MAC = m
	}
	if !out.Via.IsValid() && out.MAC == nil {
		return out, errors.New("no next hop: give via (and mac, unless the neighbour table has it)")
	}
	return out, nil
}

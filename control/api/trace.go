// SPDX-License-Identifier: Apache-2.0

package api

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mplsdp/mplsdp/control"
	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Defaults and limits of a traced packet.
const (
	traceTTL        = 64
	traceSrcPort    = 49152
	traceUDPDstPort = 33434 // traceroute's
	traceTCPDstPort = 80
	traceMaxLabels  = 16 // deeper than dataplane.MaxStackDepth, to trace stack_too_deep
	traceMaxPayload = 9000
	traceAttempts   = 10 // tries to trace while no change reaches the tables
)

// traceSrcMAC is the source of traced frames: from the documentation range (RFC 7042).
var traceSrcMAC = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01}

// tracePacket is a validated TraceRequest.
type tracePacket struct {
	port         uint16
	vlan         uint16
	labels       []lfib.LSE // top first, S on the last
	src, dst     netip.Addr
	proto        layers.IPProtocol
	sport, dport uint16
	ttl, tos     uint8
	payload      int
}

func (s *server) Trace(_ context.Context, req *TraceRequest) (*TraceResponse, error) {
	c := s.ctl()
	r := c.Router()
	s.traceMu.Lock()
	defer s.traceMu.Unlock()
	for attempt := 1; ; attempt++ {
		// The Controller is the tables' only writer and holds its lock across a whole
		// change: c.Config waits for a change in progress to finish. A change that
		// reached the tables between the two calls shows in the configuration, the
		// VRF snapshot or the LFIB's commit counter read after the first one; then the
		// pipeline and the independent lookups may have seen different states, and the
		// trace runs again.
		conf := c.Config()
		dcfg, snap, commits := r.Config(), r.VRFs.Load(), r.LFIB.Commits()
		p, err := parseTrace(dcfg, req)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "trace: %v", err)
		}
		frame, err := buildFrame(p, dcfg.Ports[p.port].MAC)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "trace: building the frame: %v", err)
		}
		resp := s.trace(c, r, conf, dcfg, snap, p, frame)
		_ = c.Config() // waits for a change that overlapped the trace
		if (r.Config() == dcfg && r.VRFs.Load() == snap && r.LFIB.Commits() == commits) || attempt == traceAttempts {
			return resp, nil
		}
	}
}

// trace runs frame through the pipeline and looks up the tables' decisions for p in
// the state conf, dcfg and snap describe. Called with traceMu held.
func (s *server) trace(c *control.Controller, r *dataplane.Router, conf *control.Config, dcfg *dataplane.Config, snap *vrf.Snapshot, p *tracePacket, frame []byte) *TraceResponse {
	// Everything that takes a lock (the Controller's, the LFIB writers' in its walks)
	// is read here, before the LFIB reader below enters: a change waits for entered
	// readers while holding those locks.
	apiRoutes := c.APIRoutes()
	view := newLFIBView(c, conf, r.LFIB, &dcfg.Ports, snap)

	// The traced frame must not count in the router's counters (Router.Stats, which the
	// metrics and ListInterfaces report): it runs on a Router of its own that shares the
	// Controller's tables (LFIB and VRFs) and is given the Controller's dataplane
	// configuration at every trace. Its counters are never read.
	if s.tracer == nil || s.tracer.LFIB != r.LFIB || s.tracer.VRFs != r.VRFs {
		s.tracer = dataplane.NewRouter(r.LFIB, r.VRFs, dcfg)
	}
	s.tracer.SetConfig(dcfg)
	buf := make([]byte, dataplane.Headroom+len(frame))
	copy(buf[dataplane.Headroom:], frame)
	pkt := dataplane.Packet{Buf: buf, Off: dataplane.Headroom, Len: len(frame), Port: p.port}
	w := s.tracer.NewWorker()
	w.Begin()
	v := w.Process(&pkt)
	w.End()
	w.Close()

	resp := &TraceResponse{Verdict: v.Action.String(), Input: decodeFrame(frame)}
	switch v.Action {
	case dataplane.ActionDrop:
		resp.Reason = v.Reason.String()
	case dataplane.ActionForward:
		resp.EgressInterface, resp.EgressPort = portName(&dcfg.Ports, v.Port), uint32(v.Port)
		resp.Output = decodeFrame(pkt.Frame())
	}

	lr := r.LFIB.NewReader()
	t := &tableTrace{cfg: dcfg, snap: snap, lf: lr, view: view, conf: conf, api: apiRoutes}
	lr.Enter()
	t.run(p) // lock-free lookups only
	lr.Exit()
	lr.Close()
	resp.Steps = t.steps
	return resp
}

// parseTrace checks req against the dataplane configuration and fills in the defaults.
func parseTrace(dcfg *dataplane.Config, req *TraceRequest) (*tracePacket, error) {
	p := &tracePacket{ttl: traceTTL}
	found := false
	for id := range dcfg.Ports {
		if req.GetInterface() != "" && dcfg.Ports[id].Name == req.GetInterface() {
			p.port, found = uint16(id), true
			break
		}
	}
	if !found {
		if req.GetInterface() == "" {
			return nil, errors.New("no ingress interface")
		}
		return nil, fmt.Errorf("no interface %q (see show interfaces)", req.GetInterface())
	}
	if req.GetVlan() > lfib.VLANMax {
		return nil, fmt.Errorf("VLAN %d out of range 0..%d", req.GetVlan(), lfib.VLANMax)
	}
	p.vlan = uint16(req.GetVlan())
	if len(req.GetLabels()) > traceMaxLabels {
		return nil, fmt.Errorf("%d labels: at most %d", len(req.GetLabels()), traceMaxLabels)
	}
	for i, l := range req.GetLabels() {
		if !lfib.Label(l.GetLabel()).Valid() {
			return nil, fmt.Errorf("label %d out of range 0..%d", l.GetLabel(), lfib.MaxLabel)
		}
		ttl := uint32(traceTTL)
		if l.Ttl != nil {
			ttl = l.GetTtl()
		}
		if ttl > 255 {
			return nil, fmt.Errorf("label %d: TTL %d out of range 0..255", l.GetLabel(), ttl)
		}
		if l.GetTc() > 7 {
			return nil, fmt.Errorf("label %d: TC %d out of range 0..7", l.GetLabel(), l.GetTc())
		}
		bos := i == len(req.GetLabels())-1
		p.labels = append(p.labels, lfib.MakeLSE(lfib.Label(l.GetLabel()), uint8(l.GetTc()), bos, uint8(ttl)))
	}
	var err error
	if p.src, err = parseHost(req.GetSrc(), "source"); err != nil {
		return nil, err
	}
	if p.dst, err = parseHost(req.GetDst(), "destination"); err != nil {
		return nil, err
	}
	if p.src.Is4() != p.dst.Is4() {
		return nil, fmt.Errorf("source %s and destination %s are of different families", p.src, p.dst)
	}
	ports := true
	switch req.GetProtocol() {
	case "", "udp":
		p.proto, p.dport = layers.IPProtocolUDP, traceUDPDstPort
	case "tcp":
		p.proto, p.dport = layers.IPProtocolTCP, traceTCPDstPort
	case "icmp", "icmpv6":
		p.proto, ports = layers.IPProtocolICMPv4, false
		if p.dst.Is6() {
			p.proto = layers.IPProtocolICMPv6
		}
	default:
		return nil, fmt.Errorf("protocol %q: want udp, tcp or icmp", req.GetProtocol())
	}
	p.sport = traceSrcPort
	for _, x := range []struct {
		name string
		v    uint32
		to   *uint16
	}{{"source port", req.GetSrcPort(), &p.sport}, {"destination port", req.GetDstPort(), &p.dport}} {
		switch {
		case x.v == 0:
		case !ports:
			return nil, fmt.Errorf("a %s: ports are for udp and tcp", x.name)
		case x.v > 65535:
			return nil, fmt.Errorf("%s %d out of range 1..65535", x.name, x.v)
		default:
			*x.to = uint16(x.v)
		}
	}
	if req.Ttl != nil {
		if req.GetTtl() > 255 {
			return nil, fmt.Errorf("TTL %d out of range 0..255", req.GetTtl())
		}
		p.ttl = uint8(req.GetTtl())
	}
	if req.GetTos() > 255 {
		return nil, fmt.Errorf("TOS %d out of range 0..255", req.GetTos())
	}
	p.tos = uint8(req.GetTos())
	if req.GetPayloadLength() > traceMaxPayload {
		return nil, fmt.Errorf("payload length %d: at most %d", req.GetPayloadLength(), traceMaxPayload)
	}
	p.payload = int(req.GetPayloadLength())
	return p, nil
}

func parseHost(s, what string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, fmt.Errorf("no %s address", what)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("%s: %v", what, err)
	}
	if a.Zone() != "" {
		return a, fmt.Errorf("%s %s: no zone, please", what, s)
	}
	return a, nil
}

// buildFrame serialises p as an Ethernet frame to dst.
func buildFrame(p *tracePacket, dst lfib.MAC) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: traceSrcMAC, DstMAC: net.HardwareAddr(dst[:])}
	next := layers.EthernetTypeIPv4
	if p.dst.Is6() {
		next = layers.EthernetTypeIPv6
	}
	if len(p.labels) > 0 {
		next = layers.EthernetTypeMPLSUnicast
	}
	ls := []gopacket.SerializableLayer{eth}
	if p.vlan != 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: p.vlan, Type: next})
	} else {
		eth.EthernetType = next
	}
	for _, e := range p.labels {
		ls = append(ls, &layers.MPLS{Label: uint32(e.Label()), TrafficClass: e.TC(), StackBottom: e.BoS(), TTL: e.TTL()})
	}
	var ip gopacket.NetworkLayer
	if p.dst.Is4() {
		v4 := &layers.IPv4{Version: 4, IHL: 5, TOS: p.tos, Id: 1, Flags: layers.IPv4DontFragment, TTL: p.ttl,
			Protocol: p.proto, SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice()}
		ip = v4
		ls = append(ls, v4)
	} else {
		v6 := &layers.IPv6{Version: 6, TrafficClass: p.tos, NextHeader: p.proto, HopLimit: p.ttl,
			SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice()}
		ip = v6
		ls = append(ls, v6)
	}
	switch p.proto {
	case layers.IPProtocolUDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		ls = append(ls, udp)
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport), Seq: 1, SYN: true, Window: 65535}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		ls = append(ls, tcp)
	case layers.IPProtocolICMPv4:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1})
	case layers.IPProtocolICMPv6:
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
		if err := icmp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
		ls = append(ls, icmp, &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 1})
	}
	ls = append(ls, gopacket.Payload(make([]byte, p.payload)))
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...)
	return buf.Bytes(), err
}

// decodeFrame decodes an Ethernet frame layer by layer.
func decodeFrame(b []byte) *Frame {
	f := &Frame{Length: uint32(len(b)), Hex: hex.EncodeToString(b)}
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	for _, l := range pkt.Layers() {
		f.Layers = append(f.Layers, &Layer{Name: l.LayerType().String(), Summary: layerSummary(l)})
	}
	return f
}

func layerSummary(l gopacket.Layer) string {
	switch l := l.(type) {
	case *layers.Ethernet:
		return fmt.Sprintf("%s > %s, type 0x%04x (%s)", l.SrcMAC, l.DstMAC, uint16(l.EthernetType), l.EthernetType)
	case *layers.Dot1Q:
		return fmt.Sprintf("VLAN %d, priority %d, type 0x%04x (%s)", l.VLANIdentifier, l.Priority, uint16(l.Type), l.Type)
	case *layers.MPLS:
		return fmt.Sprintf("label %d, tc %d, s %d, ttl %d", l.Label, l.TrafficClass, b2i(l.StackBottom), l.TTL)
	case *layers.IPv4:
		ok := "ok"
		if !ipv4ChecksumOK(l.Contents) {
			ok = "BAD"
		}
		return fmt.Sprintf("%s > %s, ttl %d, tos 0x%02x, proto %s, length %d, checksum 0x%04x (%s)",
			l.SrcIP, l.DstIP, l.TTL, l.TOS, l.Protocol, l.Length, l.Checksum, ok)
	case *layers.IPv6:
		return fmt.Sprintf("%s > %s, hop limit %d, traffic class 0x%02x, next header %s, payload length %d",
			l.SrcIP, l.DstIP, l.HopLimit, l.TrafficClass, l.NextHeader, l.Length)
	case *layers.UDP:
		return fmt.Sprintf("port %d > %d, length %d", l.SrcPort, l.DstPort, l.Length)
	case *layers.TCP:
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{l.SYN, "SYN"}, {l.ACK, "ACK"}, {l.FIN, "FIN"}, {l.RST, "RST"}, {l.PSH, "PSH"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		return fmt.Sprintf("port %d > %d, flags %s, seq %d", l.SrcPort, l.DstPort, strings.Join(flags, ","), l.Seq)
	case *layers.ICMPv4:
		return fmt.Sprintf("%s, id %d, seq %d", l.TypeCode, l.Id, l.Seq)
	case *layers.ICMPv6:
		return l.TypeCode.String()
	case *layers.ICMPv6Echo:
		return fmt.Sprintf("id %d, seq %d", l.Identifier, l.SeqNumber)
	case *gopacket.DecodeFailure:
		return fmt.Sprintf("cannot decode %d bytes: %v", len(l.LayerContents()), l.Error())
	}
	return strconv.Itoa(len(l.LayerContents())+len(l.LayerPayload())) + " bytes"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ipv4ChecksumOK verifies an IPv4 header's checksum: its ones' complement sum is 0xffff.
func ipv4ChecksumOK(h []byte) bool {
	if len(h) < 20 || len(h)%2 != 0 {
		return false
	}
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return sum == 0xffff
}

// tableTrace looks up what the tables decide for a traced packet, independently of the
// pipeline, following its order (dataplane/doc.go). Its methods run with lf entered:
// they must not take locks (see server.trace).
type tableTrace struct {
	cfg   *dataplane.Config
	snap  *vrf.Snapshot
	lf    *lfib.Reader // entered
	view  *lfibView
	conf  *control.Config // nil before the first configuration
	api   []control.RouteWithVRF
	steps []*TraceStep
}

func (t *tableTrace) add(s *TraceStep) { t.steps = append(t.steps, s) }

func (t *tableTrace) run(p *tracePacket) {
	port := &t.cfg.Ports[p.port]
	step := &TraceStep{Table: "port", Hit: true, Interface: port.Name, Role: port.Role.String(),
		Summary: fmt.Sprintf("%s (port %d): role %s", port.Name, p.port, port.Role)}
	t.add(step)
	switch port.Role {
	case dataplane.RoleCE, dataplane.RoleGlobal:
		t.customer(p)
	case dataplane.RoleCore:
		t.core(p)
	default:
		step.Summary += ": not forwarded, every frame goes to the kernel"
	}
}

// customer follows a frame from a CE or global port.
func (t *tableTrace) customer(p *tracePacket) {
	port := &t.cfg.Ports[p.port]
	if len(p.labels) > 0 {
		t.add(&TraceStep{Table: "ethertype", Summary: "MPLS from a customer port: labelled frames are refused (label spoofing)"})
		return
	}
	id := vrf.Global
	if port.Role == dataplane.RoleCE {
		where := port.Name + " untagged"
		if p.vlan != 0 {
			where = port.Name + " VLAN " + strconv.Itoa(int(p.vlan))
		}
		step := &TraceStep{Table: "binding", Interface: port.Name, Vlan: uint32(p.vlan)}
		b, ok := t.snap.Binding(p.port, p.vlan)
		if !ok {
			step.Summary = where + ": bound to no VRF"
			t.add(step)
			return
		}
		id = b.VRF
		step.Hit, step.Vrf = true, vrfName(t.snap, id)
		step.Summary = where + ": VRF " + step.Vrf
		t.add(step)
	}
	if t.cfg.Infra != nil {
		step := &TraceStep{Table: "infra-acl", Prefix: p.dst.String()}
		step.Hit = t.cfg.Infra.Lookup(p.dst)
		switch {
		case !step.Hit:
			step.Summary = p.dst.String() + ": not an address of the router or the core"
		case p.proto == layers.IPProtocolTCP && (p.sport == 179 || p.dport == 179) && t.snap.IsPeer(p.port, p.vlan, p.src):
			step.Summary = p.dst.String() + ": an address of the router or the core; BGP from the CE peer " + p.src.String() + " goes to the kernel"
		default:
			step.Summary = p.dst.String() + ": an address of the router or the core, hidden from customers"
		}
		t.add(step)
		if step.Hit {
			return
		}
	}
	t.route(id, p.dst)
}

// core follows a labelled frame from a core port, as far as the label entries go.
func (t *tableTrace) core(p *tracePacket) {
	if len(p.labels) == 0 {
		t.add(&TraceStep{Table: "ethertype", Summary: "not labelled: a core port hands it to the kernel"})
		return
	}
	if len(p.labels) > dataplane.MaxStackDepth {
		t.add(&TraceStep{Table: "ethertype", Summary: fmt.Sprintf("%d labels: the pipeline reads at most %d", len(p.labels), dataplane.MaxStackDepth)})
		return
	}
	for i := 0; i < len(p.labels); i++ {
		e := p.labels[i]
		l := e.Label()
		step := &TraceStep{Table: "label", Hit: true, Label: uint32(l)}
		t.add(step)
		switch {
		case l == lfib.LabelIPv4ExplicitNull || l == lfib.LabelIPv6ExplicitNull:
			step.Operation = "explicit-null"
			step.Summary = fmt.Sprintf("label %d (explicit null): pop", l)
			if e.BoS() {
				step.Summary += ", then IP lookup in the global table"
				t.route(vrf.Global, p.dst)
				return
			}
			continue
		case l == lfib.LabelRouterAlert:
			step.Operation = "router-alert"
			step.Summary = "label 1 (router alert): to the kernel"
			return
		case l == lfib.LabelEntropyIndicator:
			step.Operation = "entropy"
			if e.BoS() || i+1 == len(p.labels) {
				step.Summary = "label 7 (entropy label indicator) at the bottom of the stack"
				return
			}
			i++
			step.Summary = fmt.Sprintf("label 7 (entropy label indicator): pop it and the entropy label %d", p.labels[i].Label())
			if p.labels[i].BoS() {
				step.Summary += ", then IP lookup in the global table"
				t.route(vrf.Global, p.dst)
				return
			}
			continue
		case l.Reserved():
			step.Operation = "reserved"
			step.Summary = fmt.Sprintf("label %d: special-purpose, not processed", l)
			return
		}
		ent, ok := t.lf.Lookup(l)
		if !ok {
			step.Hit = false
			step.Summary = fmt.Sprintf("label %d: not in the LFIB", l)
			return
		}
		le := t.view.labelEntry(l, ent, t.snap)
		step.Operation, step.Vrf, step.Paths = le.GetOperation(), le.GetVrf(), le.GetPaths()
		step.Summary = fmt.Sprintf("label %d: %s", l, describeLabel(le))
		if le.GetOwner() == Owner_OWNER_API {
			step.Summary += " (api)"
		}
		if ent.Op == lfib.OpPopToVRF && e.BoS() {
			t.route(vrf.ID(ent.VRF), p.dst)
		}
		return
	}
}

// describeLabel tells what a label entry does.
func describeLabel(e *LabelEntry) string {
	var alt []string
	for _, p := range e.GetPaths() {
		switch e.GetOperation() {
		case "swap":
			alt = append(alt, "swap to "+labelText(p.GetLabels())+" "+pathText(p))
		case "pop":
			alt = append(alt, "pop "+pathText(p))
		default:
			alt = append(alt, "pop, IP "+pathText(p))
		}
	}
	if e.GetOperation() == "pop-to-vrf" {
		return "pop, IP lookup in VRF " + e.GetVrf()
	}
	if len(alt) == 0 {
		return e.GetOperation() + " without paths"
	}
	return ecmp(alt)
}

// ecmp joins a path's or several paths' descriptions.
func ecmp(alt []string) string {
	if len(alt) == 1 {
		return alt[0]
	}
	return strings.Join(alt, "; or ") + " (ECMP: one by the flow hash)"
}

func labelText(ls []uint32) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = strconv.FormatUint(uint64(l), 10)
	}
	return strings.Join(s, " ")
}

// pathText is "out IF to NEXTHOP", the next hop by address and MAC.
func pathText(p *Path) string {
	ifc := p.GetInterface()
	if p.GetVlan() != 0 {
		ifc += "." + strconv.FormatUint(uint64(p.GetVlan()), 10)
	}
	if p.GetVia() != "" {
		return fmt.Sprintf("out %s to %s (%s)", ifc, p.GetVia(), p.GetMac())
	}
	return fmt.Sprintf("out %s to %s", ifc, p.GetMac())
}

// route looks up dst in VRF id, and a remote next hop's tunnel.
func (t *tableTrace) route(id vrf.ID, dst netip.Addr) {
	name := vrfName(t.snap, id)
	step := &TraceStep{Table: "route", Vrf: name}
	t.add(step)
	var nh vrf.NextHop
	var ok bool
	if dst.Is4() {
		nh, ok = t.snap.Lookup4(id, dst.As4())
	} else {
		nh, ok = t.snap.Lookup6(id, dst.As16())
	}
	if !ok {
		step.Summary = fmt.Sprintf("VRF %s: no route to %s", name, dst)
		return
	}
	step.Hit = true
	for bits := dst.BitLen(); bits >= 0; bits-- {
		if x, ok := t.snap.Route(id, netip.PrefixFrom(dst, bits)); ok && x == nh {
			step.Prefix = netip.PrefixFrom(dst, bits).Masked().String()
			break
		}
	}
	src := t.routeSource(name, step.Prefix)
	if nh.Remote() {
		step.VpnLabel, step.Tunnel = uint32(nh.VPNLabel), nh.Tunnel
		pe := "a remote PE"
		if src != nil && src.Remote() {
			step.RemotePe = src.RemotePE.String()
			pe = "remote PE " + step.RemotePe
		}
		step.Summary = fmt.Sprintf("VRF %s: %s via %s, VPN label %d, tunnel %d", name, step.Prefix, pe, nh.VPNLabel, nh.Tunnel)
		t.tunnel(nh.Tunnel)
		return
	}
	path := &Path{Interface: portName(&t.cfg.Ports, nh.Local.Port), Port: uint32(nh.Local.Port), Vlan: uint32(nh.Local.VLAN), Mac: nh.Local.Dst.String()}
	if src != nil && !src.Remote() {
		path.Via = addrString(src.Via)
	}
	step.Paths = []*Path{path}
	step.Summary = fmt.Sprintf("VRF %s: %s %s", name, step.Prefix, pathText(path))
}

// routeSource is the route of the configuration, or else of the API, for prefix in
// VRF name: the one installed.
func (t *tableTrace) routeSource(name, prefix string) *control.Route {
	if t.conf != nil {
		for _, v := range t.conf.VRFs {
			if v.Name != name {
				continue
			}
			for i := range v.Routes {
				if v.Routes[i].Prefix.String() == prefix {
					return &v.Routes[i]
				}
			}
		}
	}
	for i := range t.api {
		if t.api[i].VRF == name && t.api[i].Route.Prefix.String() == prefix {
			return &t.api[i].Route
		}
	}
	return nil
}

// tunnel looks up a tunnel's push entry.
func (t *tableTrace) tunnel(id uint32) {
	step := &TraceStep{Table: "tunnel", Tunnel: id, Fec: t.view.fec(id)}
	t.add(step)
	name := "tunnel " + strconv.FormatUint(uint64(id), 10)
	if step.Fec != "" {
		name += " (FEC " + step.Fec + ")"
	}
	e, ok := t.lf.Tunnel(id)
	if !ok {
		step.Summary = name + ": not in the LFIB"
		return
	}
	step.Hit = true
	var alt []string
	for _, p := range e.Paths {
		pp := t.view.tunnelPath(id, p)
		step.Paths = append(step.Paths, pp)
		if len(pp.GetLabels()) == 0 {
			alt = append(alt, "push the VPN label alone "+pathText(pp))
		} else {
			alt = append(alt, "push "+labelText(pp.GetLabels())+" over the VPN label "+pathText(pp))
		}
	}
	step.Summary = name + ": " + ecmp(alt)
}

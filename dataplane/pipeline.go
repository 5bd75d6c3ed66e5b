// SPDX-License-Identifier: Apache-2.0

package dataplane

import (
	"encoding/binary"
	"net/netip"

	"github.com/mplsdp/mplsdp/dataplane/header"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Packet is one frame in an engine's buffer. The frame is Buf[Off:Off+Len]; the bytes
// before Off are headroom the pipeline may write into. After a forward verdict Off and
// Len describe the rewritten frame.
type Packet struct {
	Buf  []byte
	Off  int
	Len  int
	Port uint16 // ingress port
}

// Frame returns the frame's bytes.
func (p *Packet) Frame() []byte { return p.Buf[p.Off : p.Off+p.Len] }

// Worker runs the pipeline for one goroutine: it holds that goroutine's table readers
// and counters. Call Begin before a batch, Process for each frame, End after; or
// Forward, which does all three.
type Worker struct {
	r    *Router
	lf   *lfib.Reader
	cfg  *Config       // valid between Begin and End
	vrfs *vrf.Snapshot // valid between Begin and End
	ctr  *counters
}

// Begin takes the tables' current state for a batch. A batch must not block: table
// writers wait for it to end.
func (w *Worker) Begin() {
	w.lf.Enter()
	w.cfg = w.r.config.Load()
	w.vrfs = w.r.VRFs.Load()
}

// End finishes the batch and publishes its counts.
func (w *Worker) End() {
	w.cfg, w.vrfs = nil, nil
	w.lf.Exit()
	w.ctr.flush()
}

// Forward runs a batch: verdicts[i] is the verdict for pkts[i].
func (w *Worker) Forward(pkts []Packet, verdicts []Verdict) {
	w.Begin()
	for i := range pkts {
		verdicts[i] = w.Process(&pkts[i])
	}
	w.End()
}

var verdictKernel = Verdict{Action: ActionKernel}

func drop(r Reason) Verdict { return Verdict{Action: ActionDrop, Reason: r} }

// Process decides one frame between Begin and End, rewrites it in place for a forward
// verdict, and counts it.
func (w *Worker) Process(p *Packet) Verdict {
	if int(p.Port) >= MaxPorts || p.Off < 0 || p.Len < 0 || p.Off+p.Len > len(p.Buf) {
		// Not a frame from a port the router knows; nothing to count it under.
		return drop(ReasonMalformed)
	}
	c := w.ctr.touch(p.Port)
	c.rxPackets++
	c.rxBytes += uint64(p.Len)
	var v Verdict
	switch role := w.cfg.Ports[p.Port].Role; role {
	case RoleCE, RoleGlobal:
		v = w.fromCustomer(p, role)
	case RoleCore:
		v = w.fromCore(p)
	default:
		v = verdictKernel
	}
	switch v.Action {
	case ActionDrop:
		c.drops[v.Reason]++
	case ActionKernel:
		c.kernel++
	case ActionForward:
		o := w.ctr.touch(v.Port)
		o.txPackets++
		o.txBytes += uint64(p.Len)
	}
	return v
}

// fromCustomer handles CE and global ports (doc.go "CE and global ports").
func (w *Worker) fromCustomer(p *Packet, role Role) Verdict {
	frame := p.Frame()
	l2, ok := header.ParseL2(frame)
	if !ok {
		return drop(ReasonMalformed)
	}
	l3 := frame[l2.Len:]
	var v6 bool
	switch l2.EtherType {
	case header.EtherTypeMPLS, header.EtherTypeMPLSMulti:
		return drop(ReasonLabelSpoof)
	case header.EtherTypeIPv4:
	case header.EtherTypeIPv6:
		v6 = true
		if isND(l3) {
			return verdictKernel
		}
	default: // ARP and other link protocols
		return verdictKernel
	}

	id := vrf.Global
	if role == RoleCE {
		if id, ok = w.vrfs.ByBinding(p.Port, l2.VLAN); !ok {
			return drop(ReasonNoVRF)
		}
	}

	ipLen, ok := ipLength(l3, v6)
	if !ok {
		return drop(ReasonMalformed)
	}
	ip := l3[:ipLen]
	if w.cfg.Infra != nil {
		if v, hit := w.infraACL(p.Port, l2.VLAN, ip, v6); hit {
			return v
		}
	}
	ttl := ipTTL(ip, v6)
	if ttl <= 1 {
		if w.cfg.PuntTTLExpired {
			return verdictKernel
		}
		return drop(ReasonTTLExpired)
	}
	setIPTTL(ip, v6, ttl-1)
	ipOff := p.Off + l2.Len
	return w.routeIP(p, stack{off: ipOff, end: ipOff + ipLen}, id, ipOff, ipLen, v6)
}

// isND reports whether an IPv6 packet is neighbour or router discovery or a redirect
// (ICMPv6 types 133..137), which the kernel answers.
func isND(b []byte) bool {
	return len(b) > header.IPv6Len && b[0]>>4 == 6 && header.IPv6(b).NextHeader() == header.ProtoICMPv6 &&
		b[header.IPv6Len] >= 133 && b[header.IPv6Len] <= 137
}

// ipLength validates the IP header at the start of b and returns the packet's length.
func ipLength(b []byte, v6 bool) (int, bool) {
	if v6 {
		ip := header.IPv6(b)
		if !ip.Valid() {
			return 0, false
		}
		return header.IPv6Len + int(ip.PayloadLen()), true
	}
	ip := header.IPv4(b)
	if !ip.Valid() {
		return 0, false
	}
	return int(ip.TotalLen()), true
}

func ipTTL(ip []byte, v6 bool) uint8 {
	if v6 {
		return header.IPv6(ip).HopLimit()
	}
	return header.IPv4(ip).TTL()
}

func setIPTTL(ip []byte, v6 bool, ttl uint8) {
	if v6 {
		header.IPv6(ip).SetHopLimit(ttl)
		return
	}
	header.IPv4(ip).SetTTL(ttl)
}

// precedence is the IP precedence, which becomes the TC of pushed labels.
func precedence(ip []byte, v6 bool) uint8 {
	if v6 {
		return header.IPv6(ip).TrafficClass() >> 5
	}
	return header.IPv4(ip).TOS() >> 5
}

const bgpPort = 179

// infraACL drops packets to the router or the core, except BGP from the binding's CE
// peer, which goes to the kernel. hit is false for a packet it lets through.
func (w *Worker) infraACL(port, vlan uint16, ip []byte, v6 bool) (v Verdict, hit bool) {
	var dst, src netip.Addr
	var proto uint8
	var l4 []byte
	if v6 {
		h := header.IPv6(ip)
		dst, src, proto, l4 = netip.AddrFrom16(h.Dst()), netip.AddrFrom16(h.Src()), h.NextHeader(), ip[header.IPv6Len:]
	} else {
		h := header.IPv4(ip)
		dst, src, proto = netip.AddrFrom4(h.Dst()), netip.AddrFrom4(h.Src()), h.Protocol()
		if h.FragmentOffset() == 0 {
			l4 = ip[h.HeaderLen():]
		}
	}
	if !w.cfg.Infra.Lookup(dst) {
		return v, false
	}
	if proto == header.ProtoTCP && len(l4) >= 4 {
		sport, dport := binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		if (sport == bgpPort || dport == bgpPort) && w.vrfs.IsPeer(port, vlan, src) {
			return verdictKernel, true
		}
	}
	return drop(ReasonInfraACL), true
}

// routeIP looks up the IP packet at Buf[ipOff:ipOff+ipLen], whose TTL is already the
// outgoing one, in VRF id and sends it. st is the label stack it arrived with (none, for
// a frame from a CE): the flow hash is of the frame as received.
func (w *Worker) routeIP(p *Packet, st stack, id vrf.ID, ipOff, ipLen int, v6 bool) Verdict {
	ip := p.Buf[ipOff : ipOff+ipLen]
	var nh vrf.NextHop
	var ok bool
	if v6 {
		nh, ok = w.vrfs.Lookup6(id, header.IPv6(ip).Dst())
	} else {
		nh, ok = w.vrfs.Lookup4(id, header.IPv4(ip).Dst())
	}
	if !ok {
		return drop(ReasonNoRoute)
	}
	if !nh.Remote() {
		return w.emit(p, ipOff, ipOff+ipLen, &nh.Local, ipEtherType(v6))
	}
	tun, ok := w.lf.Tunnel(nh.Tunnel)
	if !ok {
		return drop(ReasonNoRoute)
	}
	path := &tun.Paths[0]
	if len(tun.Paths) > 1 {
		path = &tun.Paths[pathIndex(st.hash(p.Buf), len(tun.Paths))]
	}
	n := int(path.NLabels)
	start := ipOff - header.LSELen*(n+1)
	if start < 0 {
		return drop(ReasonNoHeadroom)
	}
	ttl := uint8(255)
	if w.cfg.TTLMode == TTLUniform {
		ttl = ipTTL(ip, v6)
	}
	tc := precedence(ip, v6)
	for i, l := range path.Labels[:n] {
		header.PutLSE(p.Buf[start+header.LSELen*i:], lfib.MakeLSE(l, tc, false, ttl))
	}
	header.PutLSE(p.Buf[start+header.LSELen*n:], lfib.MakeLSE(nh.VPNLabel, tc, true, ttl))
	return w.emit(p, start, ipOff+ipLen, &path.NextHop, header.EtherTypeMPLS)
}

func ipEtherType(v6 bool) uint16 {
	if v6 {
		return header.EtherTypeIPv6
	}
	return header.EtherTypeIPv4
}

// emit puts the next hop's Ethernet header in front of Buf[start:end], checks the
// egress MTU and makes that the frame.
func (w *Worker) emit(p *Packet, start, end int, nh *lfib.NextHop, etherType uint16) Verdict {
	if int(nh.Port) >= MaxPorts {
		return drop(ReasonNoRoute)
	}
	hl := header.L2Len(nh.VLAN)
	if start < hl {
		return drop(ReasonNoHeadroom)
	}
	out := &w.cfg.Ports[nh.Port]
	if end-start > int(out.MTU) {
		return drop(ReasonMTUExceeded)
	}
	start -= hl
	header.PutL2(p.Buf[start:], nh.Dst, out.MAC, nh.VLAN, etherType)
	p.Off, p.Len = start, end-start
	return Verdict{Action: ActionForward, Port: nh.Port}
}

// stack locates the label stack in the buffer; entries are read from there, as they are
// needed, rather than copied. It is passed by value so that it stays in registers.
type stack struct {
	n   int // entries through the one with S=1
	off int // of the top entry in Buf
	end int // of the frame in Buf
}

func (st stack) lse(buf []byte, i int) lfib.LSE { return header.LSE(buf[st.off+header.LSELen*i:]) }

// fromCore handles core ports (doc.go "Core ports").
func (w *Worker) fromCore(p *Packet) Verdict {
	frame := p.Frame()
	l2, ok := header.ParseL2(frame)
	if !ok {
		return drop(ReasonMalformed)
	}
	if l2.EtherType != header.EtherTypeMPLS && l2.EtherType != header.EtherTypeMPLSMulti {
		return verdictKernel
	}
	st := stack{off: p.Off + l2.Len, end: p.Off + p.Len}
	for {
		if st.n == MaxStackDepth {
			return drop(ReasonStackTooDeep)
		}
		o := st.off + header.LSELen*st.n
		if o+header.LSELen > st.end {
			return drop(ReasonMalformed)
		}
		st.n++
		if header.LSE(p.Buf[o:]).BoS() {
			break
		}
	}
	uniform := w.cfg.TTLMode == TTLUniform
	for i := 0; i < st.n; i++ {
		e := st.lse(p.Buf, i)
		top := st.off + header.LSELen*i
		switch l := e.Label(); {
		case l == lfib.LabelIPv4ExplicitNull || l == lfib.LabelIPv6ExplicitNull:
			if e.BoS() {
				return w.popToIP(p, st, top+header.LSELen, e.TTL(), l == lfib.LabelIPv6ExplicitNull, vrf.Global, nil)
			}
			if uniform {
				w.copyTTL(p, st, i+1, e.TTL())
			}
			continue
		case l == lfib.LabelRouterAlert:
			return verdictKernel
		case l == lfib.LabelEntropyIndicator:
			if e.BoS() {
				return drop(ReasonMalformed)
			}
			i++ // the entropy label
			if st.lse(p.Buf, i).BoS() {
				pay := top + 2*header.LSELen
				if pay >= st.end {
					return drop(ReasonMalformed)
				}
				return w.popToIP(p, st, pay, e.TTL(), p.Buf[pay]>>4 == 6, vrf.Global, nil)
			}
			if uniform {
				w.copyTTL(p, st, i+1, e.TTL())
			}
			continue
		case l.Reserved():
			return drop(ReasonReservedLabel)
		}
		ent, ok := w.lf.Lookup(e.Label())
		if !ok {
			return drop(ReasonNoLabel)
		}
		if e.TTL() <= 1 {
			return drop(ReasonTTLExpired)
		}
		switch ent.Op {
		case lfib.OpSwap:
			return w.swap(p, st, top, e, w.pick(p, st, ent.Paths))
		case lfib.OpPop:
			return w.pop(p, st, top, e, w.pick(p, st, ent.Paths))
		case lfib.OpPopToVRF, lfib.OpPopToNextHop:
			if !e.BoS() {
				return drop(ReasonMalformed)
			}
			pay := top + header.LSELen
			if pay >= st.end {
				return drop(ReasonMalformed)
			}
			return w.popToIP(p, st, pay, e.TTL(), p.Buf[pay]>>4 == 6, vrf.ID(ent.VRF), ent.Paths)
		}
		return drop(ReasonNoLabel)
	}
	return drop(ReasonMalformed) // unreachable: the stack ends with S=1
}

// copyTTL writes ttl into stack entry i (uniform mode, after popping a label that was
// not a hop of its own).
func (w *Worker) copyTTL(p *Packet, st stack, i int, ttl uint8) {
	header.PutLSE(p.Buf[st.off+header.LSELen*i:], st.lse(p.Buf, i).WithTTL(ttl))
}

func (w *Worker) pick(p *Packet, st stack, paths []lfib.Path) *lfib.Path {
	if len(paths) == 1 {
		return &paths[0]
	}
	return &paths[pathIndex(st.hash(p.Buf), len(paths))]
}

func (w *Worker) swap(p *Packet, st stack, top int, in lfib.LSE, path *lfib.Path) Verdict {
	out := path.Labels[:path.NLabels]
	start := top + header.LSELen - header.LSELen*len(out)
	if start < 0 {
		return drop(ReasonNoHeadroom)
	}
	ttl := in.TTL() - 1
	pushTTL := uint8(255)
	if w.cfg.TTLMode == TTLUniform {
		pushTTL = ttl
	}
	last := len(out) - 1
	for i, l := range out {
		e := lfib.MakeLSE(l, in.TC(), false, pushTTL)
		if i == last {
			e = lfib.MakeLSE(l, in.TC(), in.BoS(), ttl)
		}
		header.PutLSE(p.Buf[start+header.LSELen*i:], e)
	}
	return w.emit(p, start, st.end, &path.NextHop, header.EtherTypeMPLS)
}

func (w *Worker) pop(p *Packet, st stack, top int, in lfib.LSE, path *lfib.Path) Verdict {
	next := top + header.LSELen
	uniform := w.cfg.TTLMode == TTLUniform
	if !in.BoS() {
		if uniform {
			header.PutLSE(p.Buf[next:], header.LSE(p.Buf[next:]).WithTTL(in.TTL()-1))
		}
		return w.emit(p, next, st.end, &path.NextHop, header.EtherTypeMPLS)
	}
	if next >= st.end {
		return drop(ReasonMalformed)
	}
	var v6 bool
	switch p.Buf[next] >> 4 {
	case 4:
	case 6:
		v6 = true
	default:
		return drop(ReasonMalformed)
	}
	ipLen, ok := ipLength(p.Buf[next:st.end], v6)
	if !ok {
		return drop(ReasonMalformed)
	}
	if uniform {
		setIPTTL(p.Buf[next:next+ipLen], v6, in.TTL()-1)
	}
	return w.emit(p, next, next+ipLen, &path.NextHop, ipEtherType(v6))
}

// popToIP forwards the IP packet at Buf[ipOff:] that a popped label (TTL poppedTTL)
// carried: into a CE next hop picked from paths, or by lookup in VRF id when paths is
// empty. v6 is what the label or the payload says the packet is.
func (w *Worker) popToIP(p *Packet, st stack, ipOff int, poppedTTL uint8, v6 bool, id vrf.ID, paths []lfib.Path) Verdict {
	b := p.Buf[ipOff:st.end]
	if len(b) == 0 || (b[0]>>4 == 6) != v6 {
		return drop(ReasonMalformed)
	}
	ipLen, ok := ipLength(b, v6)
	if !ok {
		return drop(ReasonMalformed)
	}
	ip := b[:ipLen]
	base := poppedTTL
	if w.cfg.TTLMode == TTLPipe {
		base = ipTTL(ip, v6)
	}
	if base <= 1 {
		return drop(ReasonTTLExpired)
	}
	setIPTTL(ip, v6, base-1)
	if len(paths) == 0 {
		return w.routeIP(p, st, id, ipOff, ipLen, v6)
	}
	return w.emit(p, ipOff, ipOff+ipLen, &w.pick(p, st, paths).NextHop, ipEtherType(v6))
}

// Flow hash (doc.go "Flow hash"): FNV-1a over 32-bit words.
const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnv(h, w uint32) uint32 { return (h ^ w) * fnvPrime }

// pathIndex mixes h (MurmurHash3's finaliser) and reduces it to one of n paths.
func pathIndex(h uint32, n int) int {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int(h % uint32(n))
}

// hash is the flow hash of the stack as received and the payload under it.
func (st stack) hash(buf []byte) uint32 {
	for i := 0; i < st.n-1; i++ {
		if st.lse(buf, i).Label() == lfib.LabelEntropyIndicator {
			return fnv(fnvOffset, uint32(st.lse(buf, i+1).Label()))
		}
	}
	h := uint32(fnvOffset)
	for i := 0; i < st.n; i++ {
		h = fnv(h, uint32(st.lse(buf, i).Label()))
	}
	return hashIP(h, buf[st.off+header.LSELen*st.n:st.end])
}

// hashIP continues h over the IP words of the packet at the start of b, if it is one.
func hashIP(h uint32, b []byte) uint32 {
	if len(b) == 0 {
		return h
	}
	var proto uint8
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < header.IPv4MinLen {
			return h
		}
		ip := header.IPv4(b)
		h = fnv(h, binary.BigEndian.Uint32(b[12:]))
		h = fnv(h, binary.BigEndian.Uint32(b[16:]))
		proto = ip.Protocol()
		h = fnv(h, uint32(proto))
		if hl := ip.HeaderLen(); !ip.Fragment() && hl >= header.IPv4MinLen && hl <= len(b) {
			l4 = b[hl:]
		}
	case 6:
		if len(b) < header.IPv6Len {
			return h
		}
		for o := 8; o < header.IPv6Len; o += 4 {
			h = fnv(h, binary.BigEndian.Uint32(b[o:]))
		}
		proto = header.IPv6(b).NextHeader()
		h = fnv(h, uint32(proto))
		l4 = b[header.IPv6Len:]
	default:
		return h
	}
	if (proto == header.ProtoTCP || proto == header.ProtoUDP) && len(l4) >= 4 {
		h = fnv(h, binary.BigEndian.Uint32(l4))
	}
	return h
}

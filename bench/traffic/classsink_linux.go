// SPDX-License-Identifier: Apache-2.0

package traffic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/mplsdp/mplsdp/bench/topo"
)

// ClassSink is a Sink that also tells what came out of a router apart: IPv4 frames
// (ethertype 0x0800), MPLS frames (0x8847), and MPLS frames by top label. A benchmark
// whose router pops to IPv4 checks the IPv4 count; one that swaps or pushes checks
// the count of the label it expects on top; everything else is a wrong frame.
//
// A ClassSink also times frames, between StartTiming and StopTiming: it then runs a
// variant of its program that, besides counting, reads a CLOCK_MONOTONIC timestamp
// from the last 8 bytes of each frame (written by a Generator with SetTimestamps) and
// adds now - timestamp to its latency counters.
type ClassSink struct {
	counts *ebpf.Map // per-CPU array: [0] every frame, [1] IPv4, [2] MPLS, [3+i] top label labels[i]
	lat    *ebpf.Map // per-CPU array of one latencySlot
	prog   *ebpf.Program
	timed  *ebpf.Program // prog, and the frames timed
	link   link.Link
	labels []uint32
	timing bool
}

// latencySlot is the timed sink's per-CPU value: frames timed, the sum and the
// largest of their delays, nanoseconds.
type latencySlot struct {
	Count, Sum, Max uint64
}

// MaxLatency is the largest delay a timed sink takes for a frame's: a larger one
// (or a timestamp of zero or in the future) is no timestamp of this run.
const MaxLatency = time.Second

// Latency is what a timed ClassSink measured: how many frames it timed, and the sum
// and the largest of their one-way delays.
type Latency struct {
	Frames uint64
	Sum    time.Duration
	Max    time.Duration
}

// Mean is the mean delay of the frames timed; 0 when none was.
func (l Latency) Mean() time.Duration {
	if l.Frames == 0 {
		return 0
	}
	return l.Sum / time.Duration(l.Frames)
}

// ClassCounts are what a ClassSink has counted since it was attached.
type ClassCounts struct {
	Frames uint64   // every frame
	IPv4   uint64   // ethertype 0x0800
	MPLS   uint64   // ethertype 0x8847
	Labels []uint64 // MPLS frames by top label, in the order of AttachClassSink's labels
}

// Sub is c - o, field by field: what was counted between two readings.
func (c ClassCounts) Sub(o ClassCounts) ClassCounts {
	d := ClassCounts{Frames: c.Frames - o.Frames, IPv4: c.IPv4 - o.IPv4, MPLS: c.MPLS - o.MPLS, Labels: make([]uint64, len(c.Labels))}
	for i := range c.Labels {
		if i < len(o.Labels) {
			d.Labels[i] = c.Labels[i] - o.Labels[i]
		}
	}
	return d
}

// AttachClassSink loads a class sink for labels and attaches it in native mode to
// interface ifname of n.
func AttachClassSink(n *topo.Node, ifname string, labels ...uint32) (s *ClassSink, err error) {
	if len(labels) > MaxSinkLabels {
		return nil, fmt.Errorf("traffic: class sink: %d labels, at most %d", len(labels), MaxSinkLabels)
	}
	for _, l := range labels {
		if l >= 1<<20 {
			return nil, fmt.Errorf("traffic: class sink: label %d out of range", l)
		}
	}
	ifc, err := n.Iface(ifname)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	s = &ClassSink{labels: append([]uint32(nil), labels...)}
	defer func() {
		if err != nil {
			_ = s.Close()
			s = nil
		}
	}()
	s.counts, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "csink_counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: uint32(3 + len(labels)),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: create the counters: %w", err)
	}
	s.lat, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "csink_lat", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 24, MaxEntries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: create the latency counters: %w", err)
	}
	s.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "class_sink", Type: ebpf.XDP, License: "GPL", Instructions: classSinkProgram(s.counts.FD(), labels, -1),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: load the program: %w", err)
	}
	s.timed, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "class_sink_lat", Type: ebpf.XDP, License: "GPL", Instructions: classSinkProgram(s.counts.FD(), labels, s.lat.FD()),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: load the timed program: %w", err)
	}
	err = n.Do(func() error {
		var err error
		s.link, err = link.AttachXDP(link.XDPOptions{Program: s.prog, Interface: ifc.Index, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: attach to %s/%s: %w", n.Name, ifname, err)
	}
	return s, nil
}

// classSinkProgram classifies the frame first, keeping the slots in registers that
// helper calls preserve (R7: 1 IPv4 or 2 MPLS, R8: 3+i for top label labels[i]; 0 for
// none), then counts slot 0 and the slots found, and drops the frame.
//
//	r7, r8 = 0, 0
//	if data+14 <= data_end {
//		if ethertype == 0x0800 { r7 = 1 }
//		else if ethertype == 0x8847 {
//			r7 = 2
//			if data+18 <= data_end && top label == labels[i] { r8 = 3+i }
//		}
//	}
//	count(0); if r7 != 0 { count(r7) }; if r8 != 0 { count(r8) }
//	if latFD >= 0 { time() }
//	return XDP_DROP
//
// A latFD of -1 is the untimed program; otherwise the frame is timed into latFD's
// map (see timeFrame).
func classSinkProgram(mapFD int, labels []uint32, latFD int) asm.Instructions {
	const key = -4 // the map key, on the stack
	count := func(slot asm.Register, next string) asm.Instructions {
		return asm.Instructions{
			asm.StoreMem(asm.RFP, key, slot, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, key),
			asm.LoadMapPtr(asm.R1, mapFD),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, next),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), // per-CPU: no other writer
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		}
	}
	// Packet loads are in host byte order: compare with the wire bytes read the same way.
	ipv4Type := int32(binary.NativeEndian.Uint16([]byte{0x08, 0x00}))
	mplsType := int32(binary.NativeEndian.Uint16([]byte{0x88, 0x47}))
	labelMask := int32(binary.NativeEndian.Uint32([]byte{0xff, 0xff, 0xf0, 0}))
	wire := func(l uint32) int32 {
		return int32(binary.NativeEndian.Uint32([]byte{byte(l >> 12), byte(l >> 4), byte(l << 4), 0}))
	}

	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1), // ctx
		asm.Mov.Imm(asm.R7, 0),
		asm.Mov.Imm(asm.R8, 0),
		asm.Mov.Imm(asm.R9, 0),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 14),
		asm.JGT.Reg(asm.R4, asm.R3, "count"),
		asm.LoadMem(asm.R4, asm.R2, 12, asm.Half),
		asm.JNE.Imm(asm.R4, ipv4Type, "mpls"),
		asm.Mov.Imm(asm.R7, 1),
		asm.Ja.Label("count"),
		asm.JNE.Imm(asm.R4, mplsType, "count").WithSymbol("mpls"),
		asm.Mov.Imm(asm.R7, 2),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 18),
		asm.JGT.Reg(asm.R4, asm.R3, "count"),
		asm.LoadMem(asm.R4, asm.R2, 14, asm.Word),
		asm.And.Imm(asm.R4, labelMask),
	}
	for i, l := range labels {
		insns = append(insns, asm.JEq.Imm(asm.R4, wire(l), fmt.Sprintf("label%d", i)))
	}
	insns = append(insns, asm.Ja.Label("count"))
	for i := range labels {
		insns = append(insns,
			asm.Mov.Imm(asm.R8, int32(3+i)).WithSymbol(fmt.Sprintf("label%d", i)),
			asm.Ja.Label("count"))
	}
	c0 := count(asm.R9, "kind")
	c0[0] = c0[0].WithSymbol("count")
	insns = append(insns, c0...)
	insns = append(insns, asm.JEq.Imm(asm.R7, 0, "drop").WithSymbol("kind"))
	insns = append(insns, count(asm.R7, "label")...)
	insns = append(insns, asm.JEq.Imm(asm.R8, 0, "drop").WithSymbol("label"))
	insns = append(insns, count(asm.R8, "drop")...)
	if latFD >= 0 {
		t := timeFrame(latFD, "out")
		t[0] = t[0].WithSymbol("drop")
		insns = append(insns, t...)
		return append(insns,
			asm.Mov.Imm(asm.R0, 1).WithSymbol("out"), // XDP_DROP
			asm.Return(),
		)
	}
	return append(insns,
		asm.Mov.Imm(asm.R0, 1).WithSymbol("drop"), // XDP_DROP
		asm.Return(),
	)
}

// timeFrame reads the timestamp in the frame's last 8 bytes (the ctx in R6) and adds
// the delay to the latency slot in latFD's map, then goes on at label out. The frame's
// length comes from bpf_xdp_get_buff_len, bounded so that the verifier takes the
// variable offset, and the read is checked against data_end.
//
//	len = bpf_xdp_get_buff_len(ctx)
//	if len < 22 || len > 4096 { goto out }
//	p = data + len - 8
//	if p+8 > data_end { goto out }
//	ts = *(u64 *)p
//	if ts == 0 { goto out }
//	now = bpf_ktime_get_ns()
//	if ts > now || now-ts > MaxLatency { goto out }
//	slot.count++; slot.sum += now-ts; slot.max = max(slot.max, now-ts)
func timeFrame(latFD int, out string) asm.Instructions {
	const key = -4
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.FnXdpGetBuffLen.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.JLT.Imm(asm.R7, 22, out),
		asm.JGT.Imm(asm.R7, 4096, out),
		asm.Sub.Imm(asm.R7, 8),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word), // data_end
		asm.Add.Reg(asm.R2, asm.R7),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 8),
		asm.JGT.Reg(asm.R4, asm.R3, out),
		asm.LoadMem(asm.R8, asm.R2, 0, asm.DWord), // the timestamp, as the generator wrote it (host order)
		asm.JEq.Imm(asm.R8, 0, out),
		asm.FnKtimeGetNs.Call(),
		asm.JGT.Reg(asm.R8, asm.R0, out), // in the future: not a timestamp
		asm.Sub.Reg(asm.R0, asm.R8),
		asm.Mov.Reg(asm.R9, asm.R0), // the delay
		asm.JGT.Imm(asm.R9, int32(MaxLatency), out),
		asm.StoreImm(asm.RFP, key, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, key),
		asm.LoadMapPtr(asm.R1, latFD),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, out),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), // per-CPU: no other writer
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
		asm.Add.Reg(asm.R1, asm.R9),
		asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 16, asm.DWord),
		asm.JGE.Reg(asm.R1, asm.R9, out),
		asm.StoreMem(asm.R0, 16, asm.R9, asm.DWord),
	}
}

// StartTiming clears the latency counters and swaps in the timed program: from now
// on the sink times the frames that carry a timestamp.
func (s *ClassSink) StartTiming() error {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return fmt.Errorf("traffic: class sink: %w", err)
	}
	if err := s.lat.Put(uint32(0), make([]latencySlot, n)); err != nil {
		return fmt.Errorf("traffic: class sink: clear the latency counters: %w", err)
	}
	if s.link != nil {
		if err := s.link.Update(s.timed); err != nil {
			return fmt.Errorf("traffic: class sink: swap in the timed program: %w", err)
		}
	}
	s.timing = true
	return nil
}

// StopTiming swaps the untimed program back in; the latency counters keep what was
// timed.
func (s *ClassSink) StopTiming() error {
	if !s.timing {
		return nil
	}
	if s.link != nil {
		if err := s.link.Update(s.prog); err != nil {
			return fmt.Errorf("traffic: class sink: swap the timed program out: %w", err)
		}
	}
	s.timing = false
	return nil
}

// Latency sums the latency counters over the CPUs: what was timed since the last
// StartTiming.
func (s *ClassSink) Latency() (Latency, error) {
	var vals []latencySlot
	if err := s.lat.Lookup(uint32(0), &vals); err != nil {
		return Latency{}, fmt.Errorf("traffic: class sink: read the latency counters: %w", err)
	}
	var l Latency
	for _, v := range vals {
		l.Frames += v.Count
		l.Sum += time.Duration(v.Sum)
		l.Max = max(l.Max, time.Duration(v.Max))
	}
	return l, nil
}

// TimedProgram is the sink's timed XDP program, for BPF_PROG_TEST_RUN.
func (s *ClassSink) TimedProgram() *ebpf.Program { return s.timed }

// Counts sums the sink's per-CPU counters.
func (s *ClassSink) Counts() (ClassCounts, error) {
	c := ClassCounts{Labels: make([]uint64, len(s.labels))}
	var vals []uint64
	for k := range 3 + len(s.labels) {
		if err := s.counts.Lookup(uint32(k), &vals); err != nil {
			return ClassCounts{}, fmt.Errorf("traffic: class sink: read the counters: %w", err)
		}
		var sum uint64
		for _, v := range vals {
			sum += v
		}
		switch k {
		case 0:
			c.Frames = sum
		case 1:
			c.IPv4 = sum
		case 2:
			c.MPLS = sum
		default:
			c.Labels[k-3] = sum
		}
	}
	return c, nil
}

// Program is the sink's XDP program, for BPF_PROG_TEST_RUN.
func (s *ClassSink) Program() *ebpf.Program { return s.prog }

// Close detaches the program and releases it and its map.
func (s *ClassSink) Close() error {
	var errs []error
	if s.link != nil {
		errs = append(errs, s.link.Close())
	}
	if s.prog != nil {
		errs = append(errs, s.prog.Close())
	}
	if s.timed != nil {
		errs = append(errs, s.timed.Close())
	}
	if s.counts != nil {
		errs = append(errs, s.counts.Close())
	}
	if s.lat != nil {
		errs = append(errs, s.lat.Close())
	}
	return errors.Join(errs...)
}

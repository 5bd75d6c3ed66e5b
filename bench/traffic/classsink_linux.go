// SPDX-License-Identifier: Apache-2.0

package traffic

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/mplsdp/mplsdp/bench/topo"
)

// ClassSink is a Sink that also tells what came out of a router apart: IPv4 frames
// (ethertype 0x0800), MPLS frames (0x8847), and MPLS frames by top label. A benchmark
// whose router pops to IPv4 checks the IPv4 count; one that swaps or pushes checks
// the count of the label it expects on top; everything else is a wrong frame.
type ClassSink struct {
	counts *ebpf.Map // per-CPU array: [0] every frame, [1] IPv4, [2] MPLS, [3+i] top label labels[i]
	prog   *ebpf.Program
	link   link.Link
	labels []uint32
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
	s.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "class_sink", Type: ebpf.XDP, License: "GPL", Instructions: classSinkProgram(s.counts.FD(), labels),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: class sink: load the program: %w", err)
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
//	return XDP_DROP
func classSinkProgram(mapFD int, labels []uint32) asm.Instructions {
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
	return append(insns,
		asm.Mov.Imm(asm.R0, 1).WithSymbol("drop"), // XDP_DROP
		asm.Return(),
	)
}

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
	if s.counts != nil {
		errs = append(errs, s.counts.Close())
	}
	return errors.Join(errs...)
}

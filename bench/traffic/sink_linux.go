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

// MaxSinkLabels bounds the labels a Sink tells apart.
const MaxSinkLabels = 8

// Sink is an XDP program attached natively to one interface that counts every frame
// arriving there and drops it. Besides the total it counts, for each label it was
// given, the MPLS frames (ethertype 0x8847) whose top label is that label, so that a
// benchmark can tell a swapped frame from one that went through untouched.
type Sink struct {
	counts *ebpf.Map // per-CPU array: [0] every frame, [1+i] top label labels[i]
	prog   *ebpf.Program
	link   link.Link
	labels []uint32
}

// SinkCounts are what a Sink has counted since it was attached.
type SinkCounts struct {
	Frames uint64   // every frame
	Labels []uint64 // MPLS frames by top label, in the order of AttachSink's labels
}

// AttachSink loads a sink for labels and attaches it in native mode to interface
// ifname of n.
func AttachSink(n *topo.Node, ifname string, labels ...uint32) (s *Sink, err error) {
	if len(labels) > MaxSinkLabels {
		return nil, fmt.Errorf("traffic: sink: %d labels, at most %d", len(labels), MaxSinkLabels)
	}
	for _, l := range labels {
		if l >= 1<<20 {
			return nil, fmt.Errorf("traffic: sink: label %d out of range", l)
		}
	}
	ifc, err := n.Iface(ifname)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	s = &Sink{labels: append([]uint32(nil), labels...)}
	defer func() {
		if err != nil {
			_ = s.Close()
			s = nil
		}
	}()
	s.counts, err = ebpf.NewMap(&ebpf.MapSpec{
		Name: "sink_counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: uint32(1 + len(labels)),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: sink: create the counters: %w", err)
	}
	s.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "sink", Type: ebpf.XDP, License: "GPL", Instructions: sinkProgram(s.counts.FD(), labels),
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: sink: load the program: %w", err)
	}
	err = n.Do(func() error {
		var err error
		s.link, err = link.AttachXDP(link.XDPOptions{Program: s.prog, Interface: ifc.Index, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("traffic: sink: attach to %s/%s: %w", n.Name, ifname, err)
	}
	return s, nil
}

// sinkProgram counts the frame in slot 0 and, if it is MPLS with one of labels on
// top, in that label's slot; then drops it.
//
//	slot = 0; count(slot)
//	if data+18 <= data_end && ethertype == 0x8847 {
//		lse = the top label stack entry with TC, S and TTL masked off
//		if lse == labels[i] { slot = 1+i; count(slot) }
//	}
//	return XDP_DROP
func sinkProgram(mapFD int, labels []uint32) asm.Instructions {
	const key = -4 // the map key, on the stack
	count := func(next string) asm.Instructions {
		return asm.Instructions{
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
	mplsType := int32(binary.NativeEndian.Uint16([]byte{0x88, 0x47}))
	labelMask := int32(binary.NativeEndian.Uint32([]byte{0xff, 0xff, 0xf0, 0}))
	wire := func(l uint32) int32 {
		return int32(binary.NativeEndian.Uint32([]byte{byte(l >> 12), byte(l >> 4), byte(l << 4), 0}))
	}

	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1), // ctx, kept across calls
		asm.StoreImm(asm.RFP, key, 0, asm.Word),
	}
	insns = append(insns, count("parse")...)
	insns = append(insns,
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word).WithSymbol("parse"), // data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word),                     // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 18),
		asm.JGT.Reg(asm.R4, asm.R3, "drop"),
		asm.LoadMem(asm.R4, asm.R2, 12, asm.Half),
		asm.JNE.Imm(asm.R4, mplsType, "drop"),
		asm.LoadMem(asm.R4, asm.R2, 14, asm.Word),
		asm.And.Imm(asm.R4, labelMask),
	)
	for i, l := range labels {
		insns = append(insns, asm.JEq.Imm(asm.R4, wire(l), fmt.Sprintf("label%d", i)))
	}
	insns = append(insns, asm.Ja.Label("drop"))
	for i := range labels {
		insns = append(insns,
			asm.StoreImm(asm.RFP, key, int64(1+i), asm.Word).WithSymbol(fmt.Sprintf("label%d", i)),
			asm.Ja.Label("count"))
	}
	c := count("drop")
	c[0] = c[0].WithSymbol("count")
	insns = append(insns, c...)
	return append(insns,
		asm.Mov.Imm(asm.R0, 1).WithSymbol("drop"), // XDP_DROP
		asm.Return(),
	)
}

// Counts sums the sink's per-CPU counters.
func (s *Sink) Counts() (SinkCounts, error) {
	c := SinkCounts{Labels: make([]uint64, len(s.labels))}
	var vals []uint64
	for k := range 1 + len(s.labels) {
		if err := s.counts.Lookup(uint32(k), &vals); err != nil {
			return SinkCounts{}, fmt.Errorf("traffic: sink: read the counters: %w", err)
		}
		var sum uint64
		for _, v := range vals {
			sum += v
		}
		if k == 0 {
			c.Frames = sum
		} else {
			c.Labels[k-1] = sum
		}
	}
	return c, nil
}

// Program is the sink's XDP program, for BPF_PROG_TEST_RUN.
func (s *Sink) Program() *ebpf.Program { return s.prog }

// Close detaches the program and releases it and its map.
func (s *Sink) Close() error {
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

// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"errors"
	"fmt"
)

// Limits of one entry. They bound the work per packet and keep entries fixed-size.
const (
	MaxPaths = 8 // next hops of one entry (ECMP)
	MaxPush  = 4 // outgoing labels of one path
)

// Op is what an entry does with the top label.
type Op uint8

const (
	OpNone         Op = iota
	OpSwap            // replace the top label by Path.Labels (the last keeps the S bit), forward
	OpPop             // penultimate-hop pop: remove the top label, forward the rest
	OpPopToVRF        // VPN label (per VRF): pop, IP lookup in Entry.VRF
	OpPopToNextHop    // VPN label (per CE or prefix): pop, IP forward to the path's next hop
	OpPush            // tunnel (FTN) entry: push Path.Labels in front of the packet
)

var opNames = [...]string{"none", "swap", "pop", "pop-to-vrf", "pop-to-nexthop", "push"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", o)
}

// MAC is an Ethernet address.
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// NextHop is an adjacency: where a frame leaves and the Ethernet header it leaves with.
// Port is the dataplane's port number (not an ifindex); VLAN 0 sends the frame untagged.
// The source MAC is the port's own, so it is not repeated here.
type NextHop struct {
	Port uint16
	VLAN uint16
	Dst  MAC
}

// Path is one way out of an entry: an adjacency and, for swap and push, the outgoing
// labels, top of stack first.
type Path struct {
	NextHop
	Labels  [MaxPush]Label
	NLabels uint8
}

// Out returns the outgoing labels, top first.
func (p *Path) Out() []Label { return p.Labels[:p.NLabels] }

// NewPath builds a path; it fails when there are more than MaxPush labels.
func NewPath(nh NextHop, labels ...Label) (Path, error) {
	p := Path{NextHop: nh}
	if len(labels) > MaxPush {
		return p, fmt.Errorf("%d outgoing labels: at most %d", len(labels), MaxPush)
	}
	copy(p.Labels[:], labels)
	p.NLabels = uint8(len(labels))
	return p, nil
}

// Entry is a forwarding entry as the control plane writes it. The table copies it,
// so the caller may reuse the slice afterwards.
type Entry struct {
	Op    Op
	VRF   uint32 // OpPopToVRF: the VRF id
	Paths []Path // one or more (ECMP); none for OpPopToVRF
}

// VLANMax is the largest 802.1Q VLAN id usable on a next hop.
const VLANMax = 4094

var errNoPaths = errors.New("entry needs at least one path")

// Validate checks an entry against the rules of its operation.
func (e *Entry) Validate() error {
	switch e.Op {
	case OpSwap, OpPop, OpPopToNextHop, OpPush:
	case OpPopToVRF:
		if len(e.Paths) != 0 {
			return errors.New("pop-to-vrf entry takes no paths: the VRF lookup picks the next hop")
		}
		return nil
	default:
		return fmt.Errorf("unknown operation %d", e.Op)
	}
	if len(e.Paths) == 0 {
		return errNoPaths
	}
	if len(e.Paths) > MaxPaths {
		return fmt.Errorf("%d paths: at most %d", len(e.Paths), MaxPaths)
	}
	for i := range e.Paths {
		p := &e.Paths[i]
		if p.NLabels > MaxPush {
			return fmt.Errorf("path %d: %d labels: at most %d", i, p.NLabels, MaxPush)
		}
		if p.VLAN > VLANMax {
			return fmt.Errorf("path %d: VLAN %d out of range 0..%d", i, p.VLAN, VLANMax)
		}
		for _, l := range p.Out() {
			// Explicit null may be sent (to an egress that asked for it); other special
			// values are never a forwarding result.
			if !l.Valid() || (l.Reserved() && l != LabelIPv4ExplicitNull && l != LabelIPv6ExplicitNull) {
				return fmt.Errorf("path %d: outgoing label %s not allowed", i, l)
			}
		}
		switch e.Op {
		case OpSwap:
			if p.NLabels == 0 {
				return fmt.Errorf("path %d: swap needs an outgoing label (use pop for implicit null)", i)
			}
		case OpPop, OpPopToNextHop:
			if p.NLabels != 0 {
				return fmt.Errorf("path %d: %s sends no labels", i, e.Op)
			}
		}
	}
	return nil
}

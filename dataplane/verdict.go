// SPDX-License-Identifier: Apache-2.0

package dataplane

import "fmt"

// Action is what happens to a frame after the pipeline.
type Action uint8

const (
	ActionDrop    Action = iota // discard, counted under Verdict.Reason
	ActionForward               // transmit the rewritten frame on Verdict.Port
	ActionKernel                // hand the frame to the host's network stack (XDP_PASS)
)

var actionNames = [...]string{"drop", "forward", "kernel"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// ParseAction is the inverse of Action.String.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q", s)
}

// Reason says why a frame was dropped. The values are part of the metrics and the
// BPF program's counter layout: append, never renumber.
type Reason uint8

const (
	ReasonNone          Reason = iota
	ReasonLabelSpoof           // labelled frame from a CE or global port
	ReasonNoVRF                // CE frame on a (port, VLAN) bound to no VRF
	ReasonInfraACL             // CE frame to the router or the core
	ReasonTTLExpired           // IP or MPLS TTL would reach 0
	ReasonNoRoute              // no route in the VRF
	ReasonMTUExceeded          // rewritten frame longer than the egress MTU
	ReasonNoLabel              // top label not in the LFIB
	ReasonStackTooDeep         // no bottom of stack within MaxStackDepth entries
	ReasonMalformed            // truncated or inconsistent headers
	ReasonReservedLabel        // special-purpose label this router does not process
	ReasonNoHeadroom           // engine gave too little headroom for the push (engine bug)
	NumReasons
)

var reasonNames = [...]string{
	"none", "label_spoof", "no_vrf", "infra_acl", "ttl_expired", "no_route", "mtu_exceeded",
	"no_label", "stack_too_deep", "malformed", "reserved_label", "no_headroom",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// ParseReason is the inverse of Reason.String.
func ParseReason(s string) (Reason, error) {
	for i, n := range reasonNames {
		if n == s {
			return Reason(i), nil
		}
	}
	return 0, fmt.Errorf("unknown drop reason %q", s)
}

// Verdict is the pipeline's decision for one frame.
type Verdict struct {
	Action Action
	Reason Reason // set when Action is ActionDrop
	Port   uint16 // egress port when Action is ActionForward
}

func (v Verdict) String() string {
	switch v.Action {
	case ActionDrop:
		return "drop " + v.Reason.String()
	case ActionForward:
		return fmt.Sprintf("forward port %d", v.Port)
	}
	return v.Action.String()
}

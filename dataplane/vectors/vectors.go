// SPDX-License-Identifier: Apache-2.0

// Package vectors reads and writes the engine-neutral packet vectors in testdata/: a
// fixture (ports, VRFs, routes, label entries) and, for each vector, an input frame on a
// port and the expected verdict and output frame. Every engine's tests load the same file.
package vectors

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// File is one vectors file: the tables every vector in it runs against.
type File struct {
	Fixture Fixture  `json:"fixture"`
	Vectors []Vector `json:"vectors"`
}

// Fixture describes the router's state in the names an operator would write.
type Fixture struct {
	TTLMode      string       `json:"ttl_mode"`      // "pipe" or "uniform"
	RouterAddrs  []string     `json:"router_addrs"`  // the router's own addresses (infrastructure ACL)
	CorePrefixes []string     `json:"core_prefixes"` // core networks hidden from customers
	Ports        []Port       `json:"ports"`
	VRFs         []VRF        `json:"vrfs"` // VRF 0 "global" exists without being listed
	Bindings     []Binding    `json:"bindings"`
	Routes       []Route      `json:"routes"`
	Tunnels      []Tunnel     `json:"tunnels"`
	Labels       []LabelEntry `json:"labels"`

	// MaxStackDepth is the label stack depth the vectors assume (dataplane.MaxStackDepth);
	// zero when the file does not say.
	MaxStackDepth int `json:"max_stack_depth,omitempty"`
}

// Port is one interface of the router.
type Port struct {
	ID   uint16 `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"` // "core", "ce", "global", or "none" (no role: every frame to the kernel)
	MAC  string `json:"mac"`
	MTU  int    `json:"mtu"`
}

// VRF is a customer's routing table.
type VRF struct {
	Name      string `json:"name"`
	ID        uint32 `json:"id"`
	RD        string `json:"rd"`
	MaxRoutes int    `json:"max_routes,omitempty"`
}

// Binding puts frames from a CE port (and VLAN id, 0 for untagged) into a VRF.
type Binding struct {
	Port  string   `json:"port"`
	VLAN  uint16   `json:"vlan,omitempty"`
	VRF   string   `json:"vrf"`
	Peers []string `json:"peers,omitempty"` // CE neighbour addresses allowed to reach BGP on the router
}

// NextHop is an adjacency; the source MAC is the port's.
type NextHop struct {
	Port string `json:"port"`
	VLAN uint16 `json:"vlan,omitempty"`
	MAC  string `json:"mac"`
}

// Path is a next hop with outgoing labels, top first.
type Path struct {
	NextHop
	Labels []uint32 `json:"labels,omitempty"`
}

// Route is a VRF route: either to a local CE or to a remote PE through a tunnel.
type Route struct {
	VRF    string   `json:"vrf"`
	Prefix string   `json:"prefix"`
	Local  *NextHop `json:"local,omitempty"`
	Remote *Remote  `json:"remote,omitempty"`
}

// Remote is a route's next hop at another PE.
type Remote struct {
	VPNLabel uint32 `json:"vpn_label"`
	Tunnel   uint32 `json:"tunnel"`
}

// Tunnel is a transport LSP to a remote PE (an FTN entry): labels to push and where to send.
type Tunnel struct {
	ID    uint32 `json:"id"`
	Paths []Path `json:"paths"`
}

// LabelEntry is an incoming-label entry.
type LabelEntry struct {
	In    uint32 `json:"in"`
	Op    string `json:"op"` // "swap", "pop", "pop-to-vrf", "pop-to-nexthop"
	VRF   string `json:"vrf,omitempty"`
	Paths []Path `json:"paths,omitempty"`
}

// Vector is one frame through the pipeline and what must come of it.
type Vector struct {
	Name    string `json:"name"`
	TTLMode string `json:"ttl_mode,omitempty"` // overrides the fixture's for this vector
	Port    string `json:"port"`               // ingress port name
	In      string `json:"in"`                 // frame, hex
	Verdict string `json:"verdict"`            // "forward", "drop" or "kernel"
	Reason  string `json:"reason,omitempty"`   // drop reason (DESIGN.md names)
	OutPort string `json:"out_port,omitempty"` // forward: egress port name
	Out     string `json:"out,omitempty"`      // forward and kernel: the frame that leaves, hex
	Note    string `json:"note,omitempty"`     // the rule of dataplane/doc.go the vector exercises
}

// Frames decodes the vector's input frame and, when present, its expected output frame.
func (v *Vector) Frames() (in, out []byte, err error) {
	if in, err = hex.DecodeString(v.In); err != nil {
		return nil, nil, fmt.Errorf("vector %s: in: %w", v.Name, err)
	}
	if v.Out != "" {
		if out, err = hex.DecodeString(v.Out); err != nil {
			return nil, nil, fmt.Errorf("vector %s: out: %w", v.Name, err)
		}
	}
	return in, out, nil
}

// Marshal encodes f the way the committed files are written: indented JSON with a
// final newline, the same bytes for the same File.
func (f *File) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Load reads a vectors file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

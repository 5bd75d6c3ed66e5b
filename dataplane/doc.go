// SPDX-License-Identifier: Apache-2.0

// Package dataplane holds the forwarding pipeline of mplsdp: header views over a frame's
// bytes and the rules of ../shared/DESIGN.md "Forwarding behaviour", applied to one frame
// in place. The engines (in-memory, XDP, AF_XDP) only move frames; this package decides.
//
// This comment is the normative detail under DESIGN.md: the packet vectors in testdata/
// are generated from it independently of the code, and the XDP program follows it.
//
// # Frames
//
// A frame is Ethernet II, optionally with one 802.1Q tag (TPID 0x8100; the VLAN id is the
// tag's low 12 bits). A second tag is not looked into. The pipeline works on the bytes
// between the frame start and its end, and may use the headroom in front of the frame:
// a push is a move of the frame start, never a copy of the payload.
//
// # Ports
//
// Every port has a role (core, ce, global) and an MTU (the largest L3 packet, the Ethernet
// header and tag not counted). A frame on a port with no role goes to the kernel untouched.
//
// # CE and global ports
//
//  1. Fewer than 14 bytes (18 with a tag): malformed.
//  2. Ethertype 0x8847 or 0x8848: drop label_spoof.
//  3. ARP (0x0806): kernel. IPv6 whose next header is ICMPv6 (58) with type 133..137
//     (router/neighbour discovery, redirect): kernel. Any other ethertype that is not IPv4
//     or IPv6 (LLDP, LACP, ...): kernel.
//  4. VRF: a global port uses VRF 0 (the global table); a CE port looks up (port, VLAN id,
//     0 when untagged): none bound is no_vrf.
//  5. The IP header must be whole: IPv4 version 4, IHL >= 5, IHL*4 <= total length <= the
//     bytes present; IPv6 version 6, 40 + payload length <= the bytes present. Otherwise
//     malformed. Bytes after the IP packet (Ethernet padding) are cut from any frame the
//     pipeline forwards as IP or pushes labels onto.
//  6. Infrastructure ACL: a destination inside a router address or core prefix is dropped
//     as infra_acl, except TCP with source or destination port 179 from one of the
//     binding's CE peer addresses, which goes to the kernel (non-first IPv4 fragments have
//     no ports and are dropped).
//  7. TTL (IPv4) or hop limit (IPv6) <= 1: ttl_expired (the kernel instead, unmodified,
//     when Config.PuntTTLExpired is set).
//  8. Longest-prefix match in the VRF; miss: no_route. The IP TTL is decremented (IPv4
//     checksum updated incrementally, RFC 1624), then:
//     - local next hop (a CE): new Ethernet header (next hop's destination and source MAC,
//     its VLAN tag or none), out its port;
//     - remote PE: the tunnel named by the route is looked up in the LFIB (missing:
//     no_route), one of its paths is picked by the flow hash, and the stack [path labels
//     top first..., VPN label with S=1] is pushed. Pushed TTL: pipe 255, uniform the
//     decremented IP TTL. TC of every pushed label: the IP precedence (IPv4 TOS >> 5,
//     IPv6 traffic class >> 5). New Ethernet header with ethertype 0x8847.
//  9. After the rewrite, an L3 length above the egress port's MTU: mtu_exceeded.
//
// # Core ports
//
//  1. Fewer than 14 bytes (18 with a tag): malformed. The VLAN id of a tagged frame is
//     not used.
//  2. Ethertype other than 0x8847/0x8848: kernel, untouched.
//  3. The stack is read up to MaxStackDepth entries: truncated is malformed, no S bit
//     within MaxStackDepth is stack_too_deep.
//  4. The top entry is processed; some cases expose the next entry and repeat:
//     - 0 / 2 (IPv4 / IPv6 explicit null): pop. With S=1 the payload must be IPv4 / IPv6
//     (else malformed) and is forwarded like pop-to-VRF into VRF 0 (the global table),
//     the explicit-null entry standing for the popped label. With S=0 the next entry
//     becomes the top; uniform mode copies the popped TTL into it.
//     - 1 (router alert): kernel, untouched.
//     - 7 (entropy label indicator, RFC 6790): with S=1, malformed; else it and the entropy
//     label below it are popped like an explicit null with S=0 (or, when the entropy
//     label has S=1, like one with S=1, the IP version read from the payload).
//     - 3, 4..6, 8..12, 13 (GAL), 14 (OAM alert), 15 (extension): drop reserved_label.
//     - 16 and up: LFIB lookup; miss: no_label. TTL <= 1: ttl_expired. Then the entry's
//     operation with a path picked by the flow hash:
//     - swap: the top entry is replaced by the path's labels (top first); the last of them
//     keeps the incoming S bit, the others have S=0. The replacing label's TTL is the
//     incoming TTL - 1; the extra pushed ones get pipe 255, uniform TTL - 1. TC is kept
//     on all of them. New Ethernet header (0x8847), out the path's port.
//     - pop (PHP): the top entry is removed. With S=0 the next entry is exposed (uniform:
//     its TTL becomes the popped TTL - 1); the ethertype stays 0x8847. With S=1 the
//     payload's version nibble gives IPv4 (0x0800) or IPv6 (0x86DD), anything else is
//     malformed, the IP header is checked as on CE ports, and uniform mode writes the
//     popped TTL - 1 into it (IPv4 checksum updated). New Ethernet header, out the path.
//     - pop-to-VRF: S=0 is malformed. The payload must be valid IP (as above). New IP TTL
//     = (uniform: popped TTL; pipe: IP TTL) - 1; 0 is ttl_expired. Longest-prefix match
//     in the entry's VRF (miss: no_route), then as a CE port's step 8 with that TTL
//     already set (a remote next hop pushes again, with the new IP TTL as the base).
//     - pop-to-next-hop: as pop-to-VRF, but the path is the next hop, no lookup.
//     At most MaxStackDepth entries are processed per frame.
//  5. MTU as on CE ports.
//
// # Flow hash
//
// Used only when an entry or tunnel has more than one path; index = mix(h) % paths, where
// h is FNV-1a over 32-bit words (h = 2166136261; for each word w: h = (h ^ w) * 16777619,
// uint32) and mix is MurmurHash3's finaliser (h ^= h >> 16; h *= 0x85ebca6b; h ^= h >> 13;
// h *= 0xc2b2ae35; h ^= h >> 16), without which the low bits of h, all that % 2, 4 or 8
// looks at, would depend on the low bits of each word alone. The hash is always of the
// frame as received, also when a popped packet is pushed again. The words, in order:
//   - an MPLS frame whose stack (as received) holds an entropy label indicator that is not
//     the last entry: the entropy label's 20-bit value, alone;
//   - otherwise the 20-bit label values of the received stack, top first, through the
//     bottom entry; then, if the payload after the bottom entry is IP (version nibble 4
//     or 6 and the fixed header present):
//   - IPv4: source, destination (big-endian words), protocol; then for TCP (6) or UDP (17)
//     with fragment offset 0 and MF clear, IHL >= 5 and 4 bytes present after the header:
//     sourceport<<16 | destport;
//   - IPv6: source (4 words), destination (4 words), next header; then for TCP or UDP
//     with 4 bytes present after the fixed header: sourceport<<16 | destport.
//
// An IP frame from a CE (no stack) hashes the IP words alone.
//
// # Ethernet rewrite
//
// Every forwarded frame gets destination and source MAC from the path's next hop, then an
// 802.1Q tag (TPID 0x8100, PCP 0, DEI 0, the next hop's VLAN) when that VLAN is not 0,
// then the ethertype of what follows (0x8847, 0x0800 or 0x86DD).
//
// # Counters
//
// Per ingress port: received packets and bytes (the frame as received), drops by reason,
// frames handed to the kernel. Per egress port: transmitted packets and bytes (as sent).
package dataplane

// SPDX-License-Identifier: Apache-2.0

// Package topo builds throw-away test networks: network namespaces joined by veth
// pairs, for integration tests, benchmarks and the demo.
//
// The rules of DESIGN.md ("Tests and test networks") are built in:
//
//   - Every namespace is created by the topology and named with a per-run prefix
//     ("mt" + 6 random base32 characters + "-"), so parallel runs never collide.
//     Interfaces are created directly inside their namespaces (never in the host
//     namespace), so their names need no prefix.
//   - Only documentation addresses are accepted (192.0.2.0/24, 198.51.100.0/24,
//     203.0.113.0/24, 2001:db8::/32, plus IPv6 link-local next hops); no link
//     ever leaves the namespaces, so nothing is routed out of them.
//   - [New] registers a cleanup that removes every namespace and veth, also when
//     the test fails or panics; [NewForRun] and [Topology.Close] do the same for
//     non-test users.
//   - A veth drops frames that XDP redirects into it unless its peer has an XDP
//     program attached or GRO on: [Node.SetGRO] turns GRO on with the ethtool
//     ioctl, no ethtool binary needed.
//
// Thread contract: a network namespace belongs to an OS thread, not to a
// goroutine. [Node.Do] runs a function on a dedicated, locked thread inside the
// namespace; goroutines started from inside that function do not inherit the
// namespace. Sockets keep the namespace they were created in, so [Node.OpenPacket]
// and [Node.Ping] create their sockets inside Do and then use them from any
// goroutine.
package topo

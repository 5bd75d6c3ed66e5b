// SPDX-License-Identifier: Apache-2.0

// Package vrf holds the VRFs of a BGP/MPLS IP VPN PE (RFC 4364): a registry of VRFs
// (name, id, route distinguisher, import and export route targets, max-routes), the
// bindings of (dataplane port, VLAN) to a VRF with the CE neighbours of each binding,
// and each VRF's IPv4 and IPv6 longest-prefix tables. Id 0 is the global table.
//
// # Reading and writing
//
// The state is an immutable [Snapshot] published through one atomic pointer in the
// [Table] (the tailscale wgengine/filter pattern). Packet code calls [Table.Load] once per
// batch and then [Snapshot.ByBinding], [Snapshot.IsPeer], [Snapshot.Lookup4] and
// [Snapshot.Lookup6]: no locks, no allocations (tests prove it with
// testing.AllocsPerRun). Writers call [Table.Update]; the Table runs updates one at a
// time. An update works on a private copy that shares every unchanged part with the
// published snapshot, and publishes all its changes with one pointer store, or nothing
// when any operation fails: a route limit refusal rolls the whole update back.
//
// Route tables change copy-on-write (bart's InsertPersist and DeletePersist) until a
// transaction has made about size/50 changes to one table; then it clones that table
// once and changes the clone in place, since nobody else can see it. A bulk load of 1M
// routes into a new VRF takes about 0.3 s; one route changed in a 1M-route VRF about
// 20 us per Update.
//
// Bindings are a per-port array with an untagged slot and a [4096] VLAN array allocated
// when the port gets its first VLAN binding, so ByBinding is two bounds checks and two
// loads (about 1.2 ns).
//
// # Why bart.Fast
//
// Each VRF's table is a github.com/gaissmai/bart Fast[NextHop] (NextHop is a 24-byte
// value without pointers, stored inline in the trie). Measured on the 2-core AMD EPYC
// development box, random IPv4 destinations, random /8../32 prefixes, one lookup per
// op (medians of 5 runs):
//
//	routes   Fast.Lookup   Table.Lookup   Fast heap   Table heap
//	1k       14.4 ns       17.4 ns        -           -
//	1M       55 ns         53 ns          64 MB       46 MB
//
// Fast is about 17% faster at the sizes most VRFs have, and level with Table (within the
// noise of a shared box) at 1M, where both are bound by cache misses. Its updates are
// slower (InsertPersist 2.3 us against 1.5 us with 1k routes, 7.5 us against 6.7 us with
// 1M; Clone 125 against 105 ns per route), which the writer side can afford. Lite has
// no payload, so it cannot hold next hops.
package vrf

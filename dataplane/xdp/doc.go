// SPDX-License-Identifier: Apache-2.0

// Package xdp is the kernel engine of mplsdp: it loads the XDP program of package bpf,
// attaches it to interfaces, keeps its BPF maps equal to the router's tables
// (dataplane.Router: lfib, vrf, Config) and reads its counters back.
//
// # Keeping the maps in step
//
// Engine.Sync makes the maps equal to the router's state. The engine keeps a Go-side
// shadow of every element it has written, so a Sync writes only new or changed elements
// and deletes only vanished ones. The program never sees an element half-written:
//   - bindings, routes and the infrastructure ACL are hash or LPM-trie maps: an update
//     replaces an element whole (the kernel swaps the new one in under RCU);
//   - port records (ports, ifindex_ports) are 8-byte values of mmapped arrays, stored
//     with one atomic store and loaded by the program with one 8-byte load;
//   - the LFIB (labels and tunnels) is an mmapped index (label -> slot + 1, stored
//     atomically) over an array of entry slots: an entry is written into a slot no index
//     points at and then published by the index store; a slot that lost its index is
//     reused only after an RCU grace period (membarrier(MEMBARRIER_CMD_GLOBAL), which is
//     synchronize_rcu(); XDP runs in RCU read-side sections), waited for only when the
//     free slots run out. Array lookups cost the program an index instead of a hash: the
//     swap benchmark went from 175 to 115 ns per packet.
//
// A Sync is not atomic as a whole; it is ordered make-before-break so that
// no installed element points at one that is not installed yet:
//
//  1. write ports and tx_ports (what every next hop leads to),
//  2. write tunnels, then labels,
//  3. write infra4/infra6, bindings, routes4/routes6,
//  4. write ifindex_ports last (a port starts forwarding once all it needs is in),
//  5. delete vanished ifindex_ports (a port stops forwarding first), routes, bindings,
//  6. delete vanished labels, then tunnels,
//  7. delete vanished infra prefixes, tx_ports and ports.
//
// Values are derived, not copied: every port value (ports by port number, ifindex_ports
// by ifindex) carries the router-wide TTL mode and punt flag, and every path and local
// next hop carries its egress port's MAC and MTU, so the program needs no extra lookup
// per packet. A change of Config therefore rewrites every element that embeds it, each
// whole. Every configured port (any but the zero dataplane.Port) is written, also one
// without a role, so that the program can count the frames it hands to the kernel.
//
// Hash and LPM maps are written with BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH; a batch is a
// loop of single-element updates in the kernel, so the same per-element guarantee holds.
// When a batch fails the rest is retried element by element, and the error names the
// element that failed. The shadow records only what was written, so a Sync that failed
// half-way can simply be repeated.
//
// The devmap tx_ports holds only ports with a non-zero Ifindex: the kernel refuses an
// ifindex that does not exist in the network namespace of the thread calling Sync (run
// Sync in the namespace of the interfaces). In test mode tx_ports is not written at all.
//
// # Pinning and hitless restart
//
// With Options.PinPath set (the daemon uses DefaultPinPath), Load pins every map under
// PinPath/<map name>, the program under PinPath/prog and each XDP link under
// PinPath/link_<ifname>. Maps that are already pinned there (by an earlier run) are reused
// with their contents, and the engine reads them into its shadow, so its first Sync only
// writes differences. Attach of an interface whose link is still pinned swaps the new
// program into that link atomically (BPF_LINK_UPDATE): no packet sees the interface
// without a program. This is how a new daemon version takes over.
//
// Engine.Release closes the engine's file descriptors and leaves the pins, so the
// program keeps forwarding with the last state written while no process runs. A new
// process then either
//   - calls Adopt(PinPath): opens the pinned maps (ebpf.LoadPinnedMap), program
//     (ebpf.LoadPinnedProgram) and links (link.LoadPinnedLink, one per link_* file,
//     keyed by the ifindex the link reports), without loading anything; or
//   - calls Load with the same PinPath: loads the program (possibly a newer build) over
//     the pinned maps, and Attach replaces the program in the pinned links.
//
// Engine.Close detaches every link, removes every pin and closes everything.
//
// # Counters
//
// The program counts per port in the per-CPU array counters; Engine.Stats sums the CPUs.
// The drop reasons are numbered alike on both sides (bpf/include/consts.h R_* and
// dataplane.Reason).
package xdp

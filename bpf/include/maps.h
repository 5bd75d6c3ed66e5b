/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The maps. Nothing the program reads while Go changes it can be seen torn: hash and
 * LPM-trie elements are replaced whole (RCU); the mmapable arrays hold single words that
 * Go stores atomically; LFIB slots are written only while unreferenced (see
 * label_index). Counters are per-CPU arrays that only the program writes. All maps can
 * be pinned by name under /sys/fs/bpf/mplsdp/. */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "structs.h"

/* Largest ingress ifindex; a port on a larger one is refused by Go. */
#define MAX_IFINDEX (1 << 16)
/* Slots for LFIB entries (labels) and tunnel entries. */
#ifndef MAX_LABEL_SLOTS
#define MAX_LABEL_SLOTS (1 << 16)
#endif
#define MAX_TUNNEL_IDS (1 << 16)
#define MAX_TUNNEL_SLOTS 4096

/* port number -> struct port; read only in test mode. Mmapable arrays whose 8-byte
 * values Go writes with one atomic store each: a lookup is an index, and never torn. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ports SEC(".maps");

/* ingress ifindex -> struct port */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_IFINDEX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ifindex_ports SEC(".maps");

/* The LFIB as an index and slots, so that a lookup is two array indexings instead of a
 * hash lookup. label_index maps a label to its entry's slot + 1 (0: no entry); Go
 * writes it through mmap with atomic 4-byte stores. An entry is written into a slot no
 * index points at, then published by the index store; a slot that lost its last index
 * is reused only after an RCU grace period (membarrier), by when no program run can
 * still be reading it. So the program never sees a torn entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} label_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_LABEL_SLOTS);
	__type(key, __u32);
	__type(value, struct lfib_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} label_slots SEC(".maps");

/* tunnel id -> slot + 1 in tunnel_slots; the same scheme */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_TUNNEL_IDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tunnel_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_TUNNEL_SLOTS);
	__type(key, __u32);
	__type(value, struct lfib_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tunnel_slots SEC(".maps");

/* lfib_lookup reads an index and its slot. */
static __always_inline struct lfib_entry *lfib_lookup(void *index, void *slots, __u32 key)
{
	__u32 *ix = bpf_map_lookup_elem(index, &key);
	if (!ix)
		return 0;
	__u32 slot = *(volatile __u32 *)ix;
	if (!slot)
		return 0;
	slot--;
	return bpf_map_lookup_elem(slots, &slot);
}

/* load_port copies a port record with one 8-byte load; 0 when the slot is empty. */
static __always_inline int load_port(struct port *p, struct port *out)
{
	__u64 raw = *(volatile __u64 *)p;
	__builtin_memcpy(out, &raw, sizeof(*out));
	return out->present;
}

/* (port, vlan) -> struct binding */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct binding_key);
	__type(value, struct binding);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bindings SEC(".maps");

/* (vrf, IPv4 prefix) -> struct nexthop */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 21);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct route4_key);
	__type(value, struct nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} routes4 SEC(".maps");

/* (vrf, IPv6 prefix) -> struct nexthop */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct route6_key);
	__type(value, struct nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} routes6 SEC(".maps");

/* router addresses and core prefixes, IPv4 and IPv6 (value unused) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct infra4_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} infra4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct infra6_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} infra6 SEC(".maps");

/* port number -> struct counters, per CPU; summed by Go at read time */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, struct port_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counters SEC(".maps");

/* Bytes switched by incoming label and pushed by tunnel, per CPU: the "bytes label
 * switched" column operators read in a forwarding table. Counted as received. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} label_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_TUNNEL_IDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tunnel_bytes SEC(".maps");

/* port number -> ifindex, for XDP_REDIRECT */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tx_ports SEC(".maps");

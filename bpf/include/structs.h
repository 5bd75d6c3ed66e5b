/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map keys and values. Go gets these layouts from bpf2go (-type); every struct is padded
 * by hand so that no field depends on the compiler's alignment choices. */
#pragma once

#include <linux/types.h>
#include "consts.h"

/* What the program needs of an ingress port, found by ifindex (ifindex_ports) or, in
 * test mode, by port number (ports). The router-wide TTL settings ride along, so that a
 * packet costs one array lookup before its own headers. Eight bytes: Go stores it with
 * one atomic 8-byte store, the program loads it with one 8-byte load. */
struct port {
	__u32 port; /* port number */
	__u8 role;  /* ROLE_* */
	__u8 ttl_mode; /* TTL_PIPE or TTL_UNIFORM */
	__u8 punt_ttl_expired; /* CE packets with TTL <= 1 go to the kernel */
	__u8 present; /* 1 for a port of the router: an array slot of zeros is none */
};

/* One way out of an LFIB entry or tunnel: lfib.Path. */
struct path {
	__u16 port;
	__u16 vlan; /* 0: untagged */
	__u8 dst[6];
	__u8 src[6]; /* the egress port's MAC, copied here to spare a lookup per packet */
	__u16 mtu;   /* the egress port's MTU, likewise */
	__u8 nlabels;
	__u8 _pad[3];
	__u32 labels[MAX_PUSH]; /* outgoing labels, top first */
};

/* An incoming-label or tunnel entry: lfib.Entry. */
struct lfib_entry {
	__u8 op; /* OP_* */
	__u8 npaths;
	__u16 _pad;
	__u32 vrf; /* OP_POP_TO_VRF */
	struct path paths[MAX_PATHS];
};

/* (port, VLAN) -> VRF (bindings map). */
struct binding_key {
	__u16 port;
	__u16 vlan; /* 0: untagged */
};

struct binding {
	__u32 vrf;
	__u32 npeers;
	__u8 peers[MAX_PEERS][16]; /* CE neighbours; IPv4 as ::ffff:a.b.c.d */
};

/* VRF routes: LPM keys with the VRF id in front of the address, so that prefixlen is
 * 32 + the route's length. */
struct route4_key {
	__u32 prefixlen;
	__u32 vrf; /* network byte order, part of the matched bits */
	__u8 addr[4];
};

struct route6_key {
	__u32 prefixlen;
	__u32 vrf; /* network byte order */
	__u8 addr[16];
};

/* A route's next hop: vrf.NextHop. */
struct nexthop {
	__u32 tunnel; /* 0: local next hop (port, vlan, dst, src, mtu) */
	__u32 vpn_label;
	__u16 port;
	__u16 vlan;
	__u8 dst[6];
	__u8 src[6]; /* the egress port's MAC */
	__u16 mtu;   /* the egress port's MTU */
	__u16 _pad;
};

/* Infrastructure ACL: router addresses and core prefixes. */
struct infra4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct infra6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Per-port counters (counters map, per CPU): dataplane.PortStats. */
struct port_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 kernel;
	__u64 drops[NUM_REASONS];
};

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Constants shared with the Go side (dataplane, lfib, vrf); keep them in step. */
#pragma once

#ifndef MAX_PORTS
#define MAX_PORTS 256 /* dataplane.MaxPorts */
#endif
#define MAX_STACK 8   /* dataplane.MaxStackDepth */
#define MAX_PATHS 8   /* lfib.MaxPaths */
#define MAX_PUSH 4    /* lfib.MaxPush */
#define MAX_PEERS 4   /* vrf.MaxPeers */

/* Port roles: dataplane.Role. */
#define ROLE_NONE 0
#define ROLE_CORE 1
#define ROLE_CE 2
#define ROLE_GLOBAL 3

/* TTL modes: dataplane.TTLMode. */
#define TTL_PIPE 0
#define TTL_UNIFORM 1

/* Entry operations: lfib.Op. */
#define OP_NONE 0
#define OP_SWAP 1
#define OP_POP 2
#define OP_POP_TO_VRF 3
#define OP_POP_TO_NEXTHOP 4
#define OP_PUSH 5

/* Drop reasons: dataplane.Reason; append, never renumber. */
#define R_NONE 0
#define R_LABEL_SPOOF 1
#define R_NO_VRF 2
#define R_INFRA_ACL 3
#define R_TTL_EXPIRED 4
#define R_NO_ROUTE 5
#define R_MTU_EXCEEDED 6
#define R_NO_LABEL 7
#define R_STACK_TOO_DEEP 8
#define R_MALFORMED 9
#define R_RESERVED_LABEL 10
#define R_NO_HEADROOM 11
#define NUM_REASONS 12

/* Special-purpose labels (RFC 3032, 6790, 5586, 7274). */
#define L_IPV4_NULL 0
#define L_ROUTER_ALERT 1
#define L_IPV6_NULL 2
#define L_ELI 7
#define L_FIRST_UNRESERVED 16

/* Ethertypes in network byte order, so that no packet path calls bpf_htons. */
#define ETH_P_IPV4_BE 0x0008
#define ETH_P_ARP_BE 0x0608
#define ETH_P_8021Q_BE 0x0081
#define ETH_P_IPV6_BE 0xdd86
#define ETH_P_MPLS_BE 0x4788
#define ETH_P_MPLS_MC_BE 0x4888

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define LSE_LEN 4
#define IPV4_HLEN 20
#define IPV6_HLEN 40

#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define BGP_PORT 179

//go:build ignore
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The AF_XDP engine's XDP program: it decides in the kernel only what userspace cannot do
 * (hand a frame to the host's stack) or need not see (a customer's labelled frames), and
 * redirects everything else to the AF_XDP socket of the receiving queue, where the Go
 * pipeline forwards it. What goes to the kernel follows dataplane/doc.go:
 *   CE/global ports: ARP, IPv6 ND, other non-IP ethertypes; BGP (TCP/179) from the
 *     binding's CE peer to a router address or core prefix; TTL <= 1 when punting is on.
 *   Core ports: non-MPLS frames; router alert as the top label.
 * Labelled frames on CE/global ports are dropped here (label_spoof). */
#include "include/parse.h"
#include "include/structs.h"

/* ingress ifindex -> struct port: the XDP engine's ifindex_ports (same layout). */
#define MAX_IFINDEX (1 << 16)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_IFINDEX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct port);
} xsk_ports SEC(".maps");

/* (port, vlan) -> struct binding, for the CE peers of the BGP exception */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct binding_key);
	__type(value, struct binding);
} xsk_bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct infra4_key);
	__type(value, __u8);
} xsk_infra4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct infra6_key);
	__type(value, __u8);
} xsk_infra6 SEC(".maps");

/* Counters of the frames this program keeps (passes or drops); frames it redirects are
 * counted by the userspace workers. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u32);
	__type(value, struct port_counters);
} xsk_counters SEC(".maps");

/* port * MAX_QUEUES + rx queue index -> AF_XDP socket: one program serves every port,
 * and queue numbers repeat across interfaces. */
#define MAX_QUEUES 64
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MAX_PORTS * MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

#define TO_KERNEL 1
#define TO_SOCKET 2
#define SPOOF 3

/* infra_class: 0 when the destination is neither a router address nor a core prefix;
 * INFRA_BGP for BGP (TCP/179) from the binding's CE peer to one; INFRA_OTHER for anything
 * else to one, which the userspace pipeline drops. */
#define INFRA_BGP 1
#define INFRA_OTHER 2
INLINE int infra_class(struct xdp_md *ctx, struct ip_info *ip, struct binding *b)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = ip->off;
	__u8 src[16] __attribute__((aligned(8))) = {};

	if (off > MAX_L3_OFF)
		return 0;
	__u8 *h = data + BOUND(off);
	if (ip->v6) {
		struct infra6_key k = {.prefixlen = 128};
		if ((void *)(h + IPV6_HLEN) > end)
			return 0;
		__builtin_memcpy(k.addr, h + 24, 16);
		if (!bpf_map_lookup_elem(&xsk_infra6, &k))
			return 0;
		__builtin_memcpy(src, h + 8, 16);
	} else {
		struct infra4_key k = {.prefixlen = 32};
		if ((void *)(h + IPV4_HLEN) > end)
			return 0;
		__builtin_memcpy(k.addr, h + 16, 4);
		if (!bpf_map_lookup_elem(&xsk_infra4, &k))
			return 0;
		src[10] = 0xff;
		src[11] = 0xff;
		__builtin_memcpy(src + 12, h + 12, 4);
	}
	if (!b || ip->proto != PROTO_TCP || !ip->l4)
		return INFRA_OTHER;
	__u32 l4 = ip->l4;
	if (l4 > MAX_L3_OFF + 60 || l4 + 4 > off + ip->len)
		return INFRA_OTHER;
	__u8 *t = data + BOUND(l4);
	if ((void *)(t + 4) > end)
		return INFRA_OTHER;
	__u16 sport = ((__u16)t[0] << 8) | t[1];
	__u16 dport = ((__u16)t[2] << 8) | t[3];
	if (sport != BGP_PORT && dport != BGP_PORT)
		return INFRA_OTHER;
	__u64 *pb = (__u64 *)src;
	for (__u32 i = 0; i < MAX_PEERS; i++) {
		if (i >= b->npeers)
			break;
		__u64 *pa = (__u64 *)b->peers[i];
		if (pa[0] == pb[0] && pa[1] == pb[1])
			return INFRA_BGP;
	}
	return INFRA_OTHER;
}

INLINE int classify_customer(struct xdp_md *ctx, struct port *pi)
{
	struct l2 l2;
	if (parse_l2(ctx, &l2))
		return TO_SOCKET; /* userspace counts it as malformed */
	if (l2.proto == ETH_P_MPLS_BE || l2.proto == ETH_P_MPLS_MC_BE)
		return SPOOF;
	int v6 = 0;
	if (l2.proto == ETH_P_IPV6_BE) {
		void *data = (void *)(long)ctx->data;
		void *end = (void *)(long)ctx->data_end;
		__u32 off = l2.len;
		if (off > ETH_HLEN + VLAN_HLEN)
			return TO_SOCKET;
		__u8 *h = data + BOUND(off);
		if ((void *)(h + IPV6_HLEN + 1) <= end && (h[0] >> 4) == 6 && h[6] == PROTO_ICMPV6 &&
		    h[IPV6_HLEN] >= 133 && h[IPV6_HLEN] <= 137)
			return TO_KERNEL;
		v6 = 1;
	} else if (l2.proto != ETH_P_IPV4_BE) {
		return TO_KERNEL;
	}
	struct binding_key bk = {.port = pi->port, .vlan = l2.vlan};
	struct binding *b = bpf_map_lookup_elem(&xsk_bindings, &bk);
	if (pi->role == ROLE_CE && !b)
		return TO_SOCKET; /* no_vrf, counted in userspace */
	struct ip_info ip;
	if (parse_ip(ctx, l2.len, v6, &ip))
		return TO_SOCKET;
	int infra = infra_class(ctx, &ip, b);
	if (infra)
		return infra == INFRA_BGP ? TO_KERNEL : TO_SOCKET;
	if (ip.ttl <= 1 && pi->punt_ttl_expired)
		return TO_KERNEL;
	return TO_SOCKET;
}

INLINE int classify_core(struct xdp_md *ctx)
{
	struct l2 l2;
	__u32 lse;
	if (parse_l2(ctx, &l2))
		return TO_SOCKET;
	if (l2.proto != ETH_P_MPLS_BE && l2.proto != ETH_P_MPLS_MC_BE)
		return TO_KERNEL;
	if (load_lse(ctx, l2.len, &lse) == 0 && LSE_LABEL(lse) == L_ROUTER_ALERT)
		return TO_KERNEL;
	return TO_SOCKET;
}

SEC("xdp")
int mplsdp_xsk(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct port *pp = bpf_map_lookup_elem(&xsk_ports, &ifindex);
	if (!pp)
		return XDP_PASS;
	/* One 8-byte load: Go stores the record atomically. */
	__u64 raw = *(volatile __u64 *)pp;
	struct port port;
	__builtin_memcpy(&port, &raw, sizeof(port));
	if (!port.present)
		return XDP_PASS;
	struct port *pi = &port;
	__u32 in_port = pi->port;
	int c;
	if (pi->role == ROLE_CORE)
		c = classify_core(ctx);
	else if (pi->role == ROLE_CE || pi->role == ROLE_GLOBAL)
		c = classify_customer(ctx, pi);
	else
		c = TO_KERNEL;
	if (c == TO_SOCKET) {
		__u32 q = ctx->rx_queue_index;
		if (q >= MAX_QUEUES || in_port >= MAX_PORTS)
			return XDP_PASS;
		/* No socket on the queue: the kernel gets the frame, as without this program. */
		return bpf_redirect_map(&xsks, in_port * MAX_QUEUES + q, XDP_PASS);
	}

	struct port_counters *pc = bpf_map_lookup_elem(&xsk_counters, &in_port);
	if (pc) {
		pc->rx_packets++;
		pc->rx_bytes += ctx->data_end - ctx->data;
		if (c == SPOOF)
			pc->drops[R_LABEL_SPOOF]++;
		else
			pc->kernel++;
	}
	return c == SPOOF ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";

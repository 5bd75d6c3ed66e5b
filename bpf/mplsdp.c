//go:build ignore
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The mplsdp XDP program: dataplane/doc.go's forwarding rules for CE, global and core
 * ports, over the maps in include/maps.h. The Go pipeline (dataplane/pipeline.go) is the
 * same behaviour; both pass testdata/vectors.json.
 *
 * Verifier note (Linux 6.18, and any kernel with BTF-verified global functions, 5.6+):
 * the stages below are global (non-static, noinline) functions, which the verifier
 * checks once each against their signature instead of once per caller state. Inlined
 * into one body, the bounded stack loops multiply the states past the 1M-instruction
 * limit. Global functions take only the context, scalars and pointers to the caller's
 * stack, so map values are copied into small structs before a call. */
#include "include/maps.h"
#include "include/parse.h"
#include "include/rewrite.h"

/* Test mode, set by tests before load: the ingress port is test_port instead of the
 * ifindex's, and a forward returns XDP_REDIRECT without the devmap, since
 * BPF_PROG_TEST_RUN has neither real ingress nor egress devices. The egress port shows
 * in the tx counters. */
const volatile __u32 test_mode = 0;
volatile __u32 test_port = 0;

#define GLOBAL __attribute__((noinline))

/* What a stage needs to emit a frame: reframe's arguments. */
struct emit {
	__u32 start;
	__u32 end;
	__u16 port;
	__u16 vlan;
	__u8 dst[6];
	__u8 src[6];
	__u16 mtu;
	__be16 etype;
	struct push push;
};

/* Where a packet's flow hash comes from: its label stack as received (n entries from
 * soff; n == 0: an IP packet at soff from a CE) up to limit. */
struct flow {
	__u32 soff;
	__u32 n;
	__u32 limit;
	__u32 ttl_mode;
};

GLOBAL __u32 g_stack_hash(struct xdp_md *ctx, __u32 soff, __u32 n, __u32 limit)
{
	if (!ctx)
		return 0;
	return stack_hash(ctx, soff, n, limit);
}

GLOBAL __u32 g_reframe(struct xdp_md *ctx, struct emit *em)
{
	if (!ctx || !em)
		return V_DROP(R_MALFORMED);
	return reframe(ctx, em->start, em->end, &em->push, em->port, em->vlan, em->dst, em->src, em->mtu, em->etype);
}

INLINE void emit_path(struct emit *em, struct path *p)
{
	em->port = p->port;
	em->vlan = p->vlan;
	em->mtu = p->mtu;
	__builtin_memcpy(em->dst, p->dst, 6);
	__builtin_memcpy(em->src, p->src, 6);
}

/* pick chooses one of an entry's paths by the flow hash. */
INLINE struct path *pick(struct lfib_entry *e, struct xdp_md *ctx, struct flow *f)
{
	__u32 np = e->npaths;
	if (np == 0 || np > MAX_PATHS)
		return 0;
	if (np == 1)
		return &e->paths[0];
	__u32 idx = hash_mix(g_stack_hash(ctx, f->soff, f->n, f->limit)) % np;
	return &e->paths[idx & (MAX_PATHS - 1)];
}

/* The IP packet a stage hands on: validated, TTL already the outgoing one. */
struct ipsend {
	struct ip_info ip;
	struct flow flow;
	__u32 vrf;
};

/* g_route_ip looks the packet up in its VRF and sends it to a CE or pushes the stack to
 * a remote PE (doc.go "CE and global ports" step 8). */
GLOBAL __u32 g_route_ip(struct xdp_md *ctx, struct ipsend *s)
{
	if (!ctx || !s)
		return V_DROP(R_MALFORMED);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ip_info *ip = &s->ip;
	__u32 off = ip->off;
	struct nexthop *nh;

	if (off > MAX_L3_OFF)
		return V_DROP(R_MALFORMED);
	__u8 *h = data + BOUND(off);
	if (ip->v6) {
		struct route6_key k = {.prefixlen = 32 + 128, .vrf = bpf_htonl(s->vrf)};
		if ((void *)(h + IPV6_HLEN) > end)
			return V_DROP(R_MALFORMED);
		__builtin_memcpy(k.addr, h + 24, 16);
		nh = bpf_map_lookup_elem(&routes6, &k);
	} else {
		struct route4_key k = {.prefixlen = 32 + 32, .vrf = bpf_htonl(s->vrf)};
		if ((void *)(h + IPV4_HLEN) > end)
			return V_DROP(R_MALFORMED);
		__builtin_memcpy(k.addr, h + 16, 4);
		nh = bpf_map_lookup_elem(&routes4, &k);
	}
	if (!nh)
		return V_DROP(R_NO_ROUTE);

	struct emit em = {.start = ip->off, .end = ip->off + ip->len};
	if (!nh->tunnel) {
		em.port = nh->port;
		em.vlan = nh->vlan;
		em.mtu = nh->mtu;
		__builtin_memcpy(em.dst, nh->dst, 6);
		__builtin_memcpy(em.src, nh->src, 6);
		em.etype = ip->v6 ? ETH_P_IPV6_BE : ETH_P_IPV4_BE;
		return g_reframe(ctx, &em);
	}
	__u32 tid = nh->tunnel, vpn = nh->vpn_label;
	struct lfib_entry *t = lfib_lookup(&tunnel_index, &tunnel_slots, tid);
	if (!t)
		return V_DROP(R_NO_ROUTE);
	__u64 *tb = bpf_map_lookup_elem(&tunnel_bytes, &tid);
	if (tb)
		*tb += ip->len;
	struct path *path = pick(t, ctx, &s->flow);
	if (!path)
		return V_DROP(R_NO_ROUTE);
	__u8 ttl = s->flow.ttl_mode == TTL_UNIFORM ? ip->ttl : 255;
	__u32 nl = path->nlabels;
	if (nl > MAX_PUSH)
		return V_DROP(R_MALFORMED);
	for (__u32 i = 0; i < MAX_PUSH; i++) {
		if (i >= nl)
			break;
		em.push.lse[i] = MAKE_LSE(path->labels[i], ip->tc, 0, ttl);
	}
	em.push.lse[nl & (PUSH_SLOTS - 1)] = MAKE_LSE(vpn, ip->tc, 1, ttl);
	em.push.n = nl + 1;
	emit_path(&em, path);
	em.etype = ETH_P_MPLS_BE;
	return g_reframe(ctx, &em);
}

/* infra_acl: 0 when the destination is not the router's or the core's, else the verdict
 * (kernel for BGP from the binding's CE peer, drop otherwise). */
INLINE __u32 infra_acl(struct xdp_md *ctx, struct ip_info *ip, struct binding *b)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = ip->off;
	__u8 src[16] __attribute__((aligned(8))) = {};

	if (off > MAX_L3_OFF)
		return V_DROP(R_MALFORMED);
	__u8 *h = data + BOUND(off);
	if (ip->v6) {
		struct infra6_key k = {.prefixlen = 128};
		if ((void *)(h + IPV6_HLEN) > end)
			return V_DROP(R_MALFORMED);
		__builtin_memcpy(k.addr, h + 24, 16);
		if (!bpf_map_lookup_elem(&infra6, &k))
			return 0;
		__builtin_memcpy(src, h + 8, 16);
	} else {
		struct infra4_key k = {.prefixlen = 32};
		if ((void *)(h + IPV4_HLEN) > end)
			return V_DROP(R_MALFORMED);
		__builtin_memcpy(k.addr, h + 16, 4);
		if (!bpf_map_lookup_elem(&infra4, &k))
			return 0;
		src[10] = 0xff;
		src[11] = 0xff;
		__builtin_memcpy(src + 12, h + 12, 4);
	}
	if (ip->proto != PROTO_TCP || !ip->l4 || !b)
		return V_DROP(R_INFRA_ACL);
	__u32 l4 = ip->l4;
	if (l4 > MAX_L3_OFF + 60 || l4 + 4 > off + ip->len)
		return V_DROP(R_INFRA_ACL);
	__u8 *t = data + BOUND(l4);
	if ((void *)(t + 4) > end)
		return V_DROP(R_INFRA_ACL);
	__u16 sport = ((__u16)t[0] << 8) | t[1];
	__u16 dport = ((__u16)t[2] << 8) | t[3];
	if (sport != BGP_PORT && dport != BGP_PORT)
		return V_DROP(R_INFRA_ACL);
	__u64 *pb = (__u64 *)src;
	for (__u32 i = 0; i < MAX_PEERS; i++) {
		if (i >= b->npeers)
			break;
		__u64 *pa = (__u64 *)b->peers[i];
		if (pa[0] == pb[0] && pa[1] == pb[1])
			return V_KERNEL;
	}
	return V_DROP(R_INFRA_ACL);
}

/* g_from_customer: doc.go "CE and global ports". */
GLOBAL __u32 g_from_customer(struct xdp_md *ctx, __u32 in_port, __u32 role, __u32 ttl_mode, __u32 punt)
{
	if (!ctx)
		return V_DROP(R_MALFORMED);
	struct l2 l2;
	if (parse_l2(ctx, &l2))
		return V_DROP(R_MALFORMED);
	int v6 = 0;
	if (l2.proto == ETH_P_MPLS_BE || l2.proto == ETH_P_MPLS_MC_BE)
		return V_DROP(R_LABEL_SPOOF);
	if (l2.proto == ETH_P_IPV6_BE) {
		void *data = (void *)(long)ctx->data;
		void *end = (void *)(long)ctx->data_end;
		__u32 off = l2.len;
		if (off > ETH_HLEN + VLAN_HLEN)
			return V_DROP(R_MALFORMED);
		__u8 *h = data + BOUND(off);
		if ((void *)(h + IPV6_HLEN + 1) <= end && (h[0] >> 4) == 6 && h[6] == PROTO_ICMPV6 &&
		    h[IPV6_HLEN] >= 133 && h[IPV6_HLEN] <= 137)
			return V_KERNEL;
		v6 = 1;
	} else if (l2.proto != ETH_P_IPV4_BE) {
		return V_KERNEL;
	}

	struct ipsend s = {};
	struct binding_key bk = {.port = in_port, .vlan = l2.vlan};
	struct binding *b = bpf_map_lookup_elem(&bindings, &bk);
	if (role == ROLE_CE) {
		if (!b)
			return V_DROP(R_NO_VRF);
		s.vrf = b->vrf;
	}
	if (parse_ip(ctx, l2.len, v6, &s.ip))
		return V_DROP(R_MALFORMED);
	__u32 v = infra_acl(ctx, &s.ip, b);
	if (v)
		return v;
	if (s.ip.ttl <= 1)
		return punt ? V_KERNEL : V_DROP(R_TTL_EXPIRED);
	set_ip_ttl(ctx, &s.ip, s.ip.ttl - 1);
	s.flow.soff = s.ip.off;
	s.flow.n = 0;
	s.flow.limit = s.ip.off + s.ip.len;
	s.flow.ttl_mode = ttl_mode;
	return g_route_ip(ctx, &s);
}

/* What g_pop_to_ip needs: the popped label and where its IP payload is. */
struct popped {
	struct flow flow;
	__u32 ipoff;
	__u32 vrf;
	__u32 label; /* pop-to-next-hop: the entry whose paths to use; 0: look up in vrf */
	__u32 ttl;
	__u32 v6;
};

/* g_pop_to_ip forwards the IP packet that a popped label carried: to a path of the
 * label's entry (pop-to-next-hop), or by lookup in vrf (pop-to-VRF, explicit null). */
GLOBAL __u32 g_pop_to_ip(struct xdp_md *ctx, struct popped *pp)
{
	if (!ctx || !pp)
		return V_DROP(R_MALFORMED);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 ipoff = pp->ipoff;
	int v6 = pp->v6 != 0;

	if (ipoff > MAX_L3_OFF)
		return V_DROP(R_MALFORMED);
	__u8 *h = data + BOUND(ipoff);
	if ((void *)(h + 1) > end)
		return V_DROP(R_MALFORMED);
	if (((h[0] >> 4) == 6) != v6)
		return V_DROP(R_MALFORMED);
	struct ipsend s = {.flow = pp->flow, .vrf = pp->vrf};
	if (parse_ip(ctx, ipoff, v6, &s.ip))
		return V_DROP(R_MALFORMED);
	__u8 base = pp->flow.ttl_mode == TTL_UNIFORM ? pp->ttl : s.ip.ttl;
	if (base <= 1)
		return V_DROP(R_TTL_EXPIRED);
	set_ip_ttl(ctx, &s.ip, base - 1);
	if (!pp->label)
		return g_route_ip(ctx, &s);

	struct lfib_entry *e = lfib_lookup(&label_index, &label_slots, pp->label);
	if (!e)
		return V_DROP(R_NO_LABEL);
	struct path *path = pick(e, ctx, &s.flow);
	if (!path)
		return V_DROP(R_NO_LABEL);
	struct emit em = {.start = s.ip.off, .end = s.ip.off + s.ip.len, .etype = v6 ? ETH_P_IPV6_BE : ETH_P_IPV4_BE};
	emit_path(&em, path);
	return g_reframe(ctx, &em);
}

INLINE __u32 payload_is_v6(struct xdp_md *ctx, __u32 off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > MAX_L3_OFF)
		return 0;
	__u8 *h = data + BOUND(off);
	if ((void *)(h + 1) > end)
		return 0;
	return (h[0] >> 4) == 6;
}

INLINE void copy_ttl(struct xdp_md *ctx, __u32 off, __u8 ttl)
{
	__u32 lse;
	if (load_lse(ctx, off, &lse) == 0)
		store_lse(ctx, off, (lse & ~0xffu) | ttl);
}

/* g_label_op applies an LFIB entry's swap or pop to the label at top (doc.go "Core
 * ports" step 4). */
GLOBAL __u32 g_label_op(struct xdp_md *ctx, struct flow *f, __u32 top, __u32 lse)
{
	if (!ctx || !f)
		return V_DROP(R_MALFORMED);
	__u32 label = LSE_LABEL(lse);
	__u8 ttl = LSE_TTL(lse);
	int bos = LSE_BOS(lse);
	int uniform = f->ttl_mode == TTL_UNIFORM;
	__u32 flen = ctx->data_end - ctx->data;
	__u32 next = top + LSE_LEN;

	struct lfib_entry *e = lfib_lookup(&label_index, &label_slots, label);
	if (!e)
		return V_DROP(R_NO_LABEL);
	if (ttl <= 1)
		return V_DROP(R_TTL_EXPIRED);
	__u64 *lb = bpf_map_lookup_elem(&label_bytes, &label);
	if (lb)
		*lb += flen;
	if (e->op == OP_POP_TO_VRF || e->op == OP_POP_TO_NEXTHOP) {
		if (!bos)
			return V_DROP(R_MALFORMED);
		if (next >= flen)
			return V_DROP(R_MALFORMED);
		struct popped pp = {.flow = *f, .ipoff = next, .vrf = e->vrf, .ttl = ttl};
		pp.label = e->op == OP_POP_TO_NEXTHOP ? label : 0;
		pp.v6 = payload_is_v6(ctx, next);
		return g_pop_to_ip(ctx, &pp);
	}
	struct path *path = pick(e, ctx, f);
	if (!path)
		return V_DROP(R_NO_LABEL);
	struct emit em = {.start = next, .end = flen, .etype = ETH_P_MPLS_BE};
	emit_path(&em, path);

	if (e->op == OP_SWAP) {
		__u32 k = path->nlabels;
		if (k == 0 || k > MAX_PUSH)
			return V_DROP(R_NO_LABEL);
		__u8 pttl = uniform ? ttl - 1 : 255;
		for (__u32 j = 0; j < MAX_PUSH; j++) {
			if (j >= k)
				break;
			if (j == k - 1)
				em.push.lse[j] = MAKE_LSE(path->labels[j], LSE_TC(lse), bos, ttl - 1);
			else
				em.push.lse[j] = MAKE_LSE(path->labels[j], LSE_TC(lse), 0, pttl);
		}
		em.push.n = k;
		return g_reframe(ctx, &em);
	}
	if (e->op != OP_POP)
		return V_DROP(R_NO_LABEL);
	if (!bos) {
		if (uniform)
			copy_ttl(ctx, next, ttl - 1);
		return g_reframe(ctx, &em);
	}
	if (next >= flen || next > MAX_L3_OFF)
		return V_DROP(R_MALFORMED);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *h = data + BOUND(next);
	if ((void *)(h + 1) > end)
		return V_DROP(R_MALFORMED);
	__u8 ver = h[0] >> 4;
	if (ver != 4 && ver != 6)
		return V_DROP(R_MALFORMED);
	struct ip_info ip;
	if (parse_ip(ctx, next, ver == 6, &ip))
		return V_DROP(R_MALFORMED);
	if (uniform)
		set_ip_ttl(ctx, &ip, ttl - 1);
	em.end = next + ip.len;
	em.etype = ver == 6 ? ETH_P_IPV6_BE : ETH_P_IPV4_BE;
	return g_reframe(ctx, &em);
}

/* g_from_core: doc.go "Core ports". */
GLOBAL __u32 g_from_core(struct xdp_md *ctx, __u32 ttl_mode)
{
	if (!ctx)
		return V_DROP(R_MALFORMED);
	struct l2 l2;
	if (parse_l2(ctx, &l2))
		return V_DROP(R_MALFORMED);
	if (l2.proto != ETH_P_MPLS_BE && l2.proto != ETH_P_MPLS_MC_BE)
		return V_KERNEL;

	struct flow f = {.soff = l2.len, .ttl_mode = ttl_mode, .limit = ctx->data_end - ctx->data};
	__u32 lse = 0;
	for (__u32 i = 0; i < MAX_STACK; i++) {
		if (load_lse(ctx, f.soff + i * LSE_LEN, &lse))
			return V_DROP(R_MALFORMED);
		if (LSE_BOS(lse)) {
			f.n = i + 1;
			break;
		}
	}
	if (!f.n)
		return V_DROP(R_STACK_TOO_DEEP);

	int uniform = ttl_mode == TTL_UNIFORM;
	for (__u32 i = 0; i < MAX_STACK; i++) {
		if (i >= f.n)
			break;
		__u32 top = f.soff + i * LSE_LEN;
		if (load_lse(ctx, top, &lse))
			return V_DROP(R_MALFORMED);
		__u32 label = LSE_LABEL(lse);
		__u8 ttl = LSE_TTL(lse);

		if (label >= L_FIRST_UNRESERVED)
			return g_label_op(ctx, &f, top, lse);
		if (label == L_ROUTER_ALERT)
			return V_KERNEL;
		if (label == L_IPV4_NULL || label == L_IPV6_NULL) {
			if (LSE_BOS(lse)) {
				struct popped pp = {.flow = f, .ipoff = top + LSE_LEN, .ttl = ttl, .v6 = label == L_IPV6_NULL};
				return g_pop_to_ip(ctx, &pp);
			}
			if (uniform)
				copy_ttl(ctx, top + LSE_LEN, ttl);
			continue;
		}
		if (label != L_ELI)
			return V_DROP(R_RESERVED_LABEL);
		/* Entropy label indicator: pop it and the entropy label under it. */
		if (LSE_BOS(lse))
			return V_DROP(R_MALFORMED);
		i++;
		__u32 el;
		if (load_lse(ctx, f.soff + i * LSE_LEN, &el))
			return V_DROP(R_MALFORMED);
		__u32 pay = f.soff + (i + 1) * LSE_LEN;
		if (LSE_BOS(el)) {
			if (pay >= f.limit)
				return V_DROP(R_MALFORMED);
			struct popped pp = {.flow = f, .ipoff = pay, .ttl = ttl, .v6 = payload_is_v6(ctx, pay)};
			return g_pop_to_ip(ctx, &pp);
		}
		if (uniform)
			copy_ttl(ctx, pay, ttl);
	}
	return V_DROP(R_MALFORMED);
}

SEC("xdp")
int mplsdp_xdp(struct xdp_md *ctx)
{
	struct port *pp, port;
	if (test_mode) {
		__u32 tp = test_port;
		pp = bpf_map_lookup_elem(&ports, &tp);
	} else {
		__u32 ifindex = ctx->ingress_ifindex;
		pp = bpf_map_lookup_elem(&ifindex_ports, &ifindex);
	}
	if (!pp || !load_port(pp, &port))
		return XDP_PASS; /* not a port of ours: no counter to count it under */
	struct port *pi = &port;
	__u32 in_port = pi->port;
	if (in_port >= MAX_PORTS)
		return XDP_PASS;
	struct port_counters *ic = bpf_map_lookup_elem(&counters, &in_port);
	if (!ic)
		return XDP_PASS;
	ic->rx_packets++;
	ic->rx_bytes += ctx->data_end - ctx->data;

	__u32 v;
	if (pi->role == ROLE_CORE)
		v = g_from_core(ctx, pi->ttl_mode);
	else if (pi->role == ROLE_CE || pi->role == ROLE_GLOBAL)
		v = g_from_customer(ctx, in_port, pi->role, pi->ttl_mode, pi->punt_ttl_expired);
	else
		v = V_KERNEL;

	switch (V_ACTION(v)) {
	case A_FORWARD: {
		__u32 out = V_ARG(v);
		struct port_counters *oc = bpf_map_lookup_elem(&counters, &out);
		if (oc) {
			oc->tx_packets++;
			oc->tx_bytes += ctx->data_end - ctx->data;
		}
		if (test_mode)
			return XDP_REDIRECT;
		if (out == in_port)
			return XDP_TX;
		return bpf_redirect_map(&tx_ports, out, XDP_DROP);
	}
	case A_KERNEL:
		ic->kernel++;
		return XDP_PASS;
	default: {
		__u32 r = V_ARG(v);
		if (r < NUM_REASONS)
			ic->drops[r]++;
		return XDP_DROP;
	}
	}
}

char _license[] SEC("license") = "Dual BSD/GPL";

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsing helpers: reads from the frame with the bounds checks the verifier wants. */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "consts.h"

#define INLINE static __always_inline

/* Largest offset of a network header in a frame we process: Ethernet, one tag, a
 * MAX_STACK-deep label stack and two more entries' worth of slack. Keeping offsets
 * below it gives the verifier bounded packet pointers. */
#define MAX_L3_OFF (ETH_HLEN + VLAN_HLEN + LSE_LEN * (MAX_STACK + 2))

/* BOUND masks an offset already checked against MAX_L3_OFF (or MAX_L3_OFF + 60 for a
 * transport header). The check is the semantics; the mask is for the verifier, which
 * (Linux 6.18, clang 14) loses the check when the compiler moves the 32-bit compare
 * away from the 64-bit pointer add. */
#define OFF_MASK 0x7f
#define BOUND(off)                                  \
	({                                          \
		__u64 __o = (off);                  \
		asm volatile("" : "+r"(__o));       \
		__o & OFF_MASK;                     \
	})

struct l2 {
	__be16 proto; /* behind the tag, if any */
	__u16 vlan;   /* 0 when untagged */
	__u32 len;    /* Ethernet header and tag */
};

/* parse_l2 reads the Ethernet header and at most one 802.1Q tag. */
INLINE int parse_l2(struct xdp_md *ctx, struct l2 *l2)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + ETH_HLEN > end)
		return -1;
	l2->proto = *(__be16 *)(data + 12);
	l2->vlan = 0;
	l2->len = ETH_HLEN;
	if (l2->proto == ETH_P_8021Q_BE) {
		if (data + ETH_HLEN + VLAN_HLEN > end)
			return -1;
		l2->vlan = bpf_ntohs(*(__be16 *)(data + 14)) & 0x0fff;
		l2->proto = *(__be16 *)(data + 16);
		l2->len = ETH_HLEN + VLAN_HLEN;
	}
	return 0;
}

/* load_lse reads the label stack entry at off in host order; -1 when truncated. */
INLINE int load_lse(struct xdp_md *ctx, __u32 off, __u32 *lse)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > MAX_L3_OFF)
		return -1;
	off = BOUND(off);
	if (data + off + LSE_LEN > end)
		return -1;
	*lse = bpf_ntohl(*(__be32 *)(data + off));
	return 0;
}

INLINE void store_lse(struct xdp_md *ctx, __u32 off, __u32 lse)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > MAX_L3_OFF)
		return;
	off = BOUND(off);
	if (data + off + LSE_LEN > end)
		return;
	*(__be32 *)(data + off) = bpf_htonl(lse);
}

#define LSE_LABEL(e) ((e) >> 12)
#define LSE_TC(e) (((e) >> 9) & 7)
#define LSE_BOS(e) (((e) >> 8) & 1)
#define LSE_TTL(e) ((e)&0xff)
#define MAKE_LSE(label, tc, bos, ttl) \
	((((__u32)(label)&0xfffff) << 12) | (((__u32)(tc)&7) << 9) | ((__u32)((bos) ? 1 : 0) << 8) | ((__u32)(ttl)&0xff))

/* ip_info describes a validated IP packet at off. */
struct ip_info {
	__u32 off;
	__u32 len; /* IP total length: bytes after it are padding */
	__u8 v6;
	__u8 ttl;
	__u8 tc;    /* precedence: TOS or traffic class >> 5 */
	__u8 proto; /* IPv4 protocol or IPv6 next header */
	__u32 l4;   /* offset of the transport header, 0 when it is not there (IPv4 non-first fragment) */
};

/* parse_ip validates the IP header at off (v6 says which version the caller expects)
 * as dataplane/doc.go says: whole header, lengths consistent and inside the frame. */
INLINE int parse_ip(struct xdp_md *ctx, __u32 off, int v6, struct ip_info *ip)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 flen = end - data;

	if (off > MAX_L3_OFF)
		return -1;
	ip->off = off;
	ip->v6 = v6;
	if (v6) {
		__u8 *h = data + BOUND(off);
		if ((void *)(h + IPV6_HLEN) > end)
			return -1;
		if ((h[0] >> 4) != 6)
			return -1;
		__u32 plen = ((__u32)h[4] << 8) | h[5];
		if (off + IPV6_HLEN + plen > flen)
			return -1;
		ip->len = IPV6_HLEN + plen;
		ip->ttl = h[7];
		ip->tc = ((h[0] << 4) | (h[1] >> 4)) >> 5;
		ip->proto = h[6];
		ip->l4 = off + IPV6_HLEN;
		return 0;
	}
	__u8 *h = data + BOUND(off);
	if ((void *)(h + IPV4_HLEN) > end)
		return -1;
	if ((h[0] >> 4) != 4)
		return -1;
	__u32 hl = (h[0] & 0x0f) * 4;
	__u32 tl = ((__u32)h[2] << 8) | h[3];
	if (hl < IPV4_HLEN || hl > tl || off + tl > flen)
		return -1;
	ip->len = tl;
	ip->ttl = h[8];
	ip->tc = h[1] >> 5;
	ip->proto = h[9];
	ip->l4 = (((__u32)(h[6] & 0x1f) << 8) | h[7]) == 0 ? off + hl : 0;
	return 0;
}

/* set_ip_ttl writes the TTL / hop limit, updating the IPv4 checksum incrementally
 * (RFC 1624 eqn. 3; one's-complement sums do not care about byte order). */
INLINE void set_ip_ttl(struct xdp_md *ctx, struct ip_info *ip, __u8 ttl)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = ip->off;

	if (off > MAX_L3_OFF)
		return;
	__u8 *h = data + BOUND(off);
	if (ip->v6) {
		if ((void *)(h + IPV6_HLEN) > end)
			return;
		h[7] = ttl;
		ip->ttl = ttl;
		return;
	}
	if ((void *)(h + IPV4_HLEN) > end)
		return;
	__u16 old = *(__u16 *)(h + 8);
	h[8] = ttl;
	__u16 new = *(__u16 *)(h + 8);
	__u32 sum = (__u16) ~*(__u16 *)(h + 10);
	sum += (__u16)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*(__u16 *)(h + 10) = ~(__u16)sum;
	ip->ttl = ttl;
}

/* Flow hash (dataplane/doc.go "Flow hash"): FNV-1a over 32-bit words, then MurmurHash3's
 * finaliser before the modulo. */
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

INLINE __u32 fnv(__u32 h, __u32 w)
{
	return (h ^ w) * FNV_PRIME;
}

INLINE __u32 hash_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

INLINE __u32 load_be32(__u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

/* hash_ip continues h over the IP words of the packet at off, if it is one, looking no
 * further than limit (an offset: the IP packet's end for a frame from a CE). Every read
 * is checked against both the frame end (for the verifier) and limit. */
INLINE __u32 hash_ip(struct xdp_md *ctx, __u32 off, __u32 limit, __u32 h)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > MAX_L3_OFF)
		return h;
	__u8 *p = data + BOUND(off);
	if ((void *)(p + 1) > end || off + 1 > limit)
		return h;
	__u8 proto;
	__u32 l4 = 0;
	if ((p[0] >> 4) == 4) {
		if ((void *)(p + IPV4_HLEN) > end || off + IPV4_HLEN > limit)
			return h;
		h = fnv(h, load_be32(p + 12));
		h = fnv(h, load_be32(p + 16));
		proto = p[9];
		h = fnv(h, proto);
		__u32 hl = (p[0] & 0x0f) * 4;
		if ((((__u32)(p[6] & 0x3f) << 8) | p[7]) == 0 && hl >= IPV4_HLEN)
			l4 = off + hl;
	} else if ((p[0] >> 4) == 6) {
		if ((void *)(p + IPV6_HLEN) > end || off + IPV6_HLEN > limit)
			return h;
#pragma unroll
		for (int i = 8; i < IPV6_HLEN; i += 4)
			h = fnv(h, load_be32(p + i));
		proto = p[6];
		h = fnv(h, proto);
		l4 = off + IPV6_HLEN;
	} else {
		return h;
	}
	if (l4 && l4 <= MAX_L3_OFF + 60 && (proto == PROTO_TCP || proto == PROTO_UDP) && l4 + 4 <= limit) {
		__u8 *q = data + BOUND(l4);
		if ((void *)(q + 4) <= end)
			h = fnv(h, load_be32(q));
	}
	return h;
}

/* stack_hash is the flow hash of a received frame whose label stack (n entries) starts
 * at soff and which ends at limit; n == 0 hashes the IP packet at soff alone. */
INLINE __u32 stack_hash(struct xdp_md *ctx, __u32 soff, __u32 n, __u32 limit)
{
	__u32 lse, next;

	for (__u32 i = 0; i + 1 < MAX_STACK + 1; i++) {
		if (i + 1 >= n)
			break;
		if (load_lse(ctx, soff + i * LSE_LEN, &lse))
			return 0;
		if (LSE_LABEL(lse) == L_ELI) {
			if (load_lse(ctx, soff + (i + 1) * LSE_LEN, &next))
				return 0;
			return fnv(FNV_OFFSET, LSE_LABEL(next));
		}
	}
	__u32 h = FNV_OFFSET;
	for (__u32 i = 0; i < MAX_STACK; i++) {
		if (i >= n)
			break;
		if (load_lse(ctx, soff + i * LSE_LEN, &lse))
			return 0;
		h = fnv(h, LSE_LABEL(lse));
	}
	return hash_ip(ctx, soff + n * LSE_LEN, limit, h);
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Rewrite helpers: the one place that moves the frame start and writes Ethernet and
 * label headers. After bpf_xdp_adjust_head/tail every packet pointer is re-read. */
#pragma once

#include "parse.h"
#include "maps.h"

/* Verdicts as the helpers pass them around: action in the high half, drop reason or
 * egress port in the low half. */
#define A_DROP 1
#define A_KERNEL 2
#define A_FORWARD 3
#define V_DROP(r) ((A_DROP << 16) | (r))
#define V_KERNEL (A_KERNEL << 16)
#define V_FORWARD(p) ((A_FORWARD << 16) | ((p)&0xffff))
#define V_ACTION(v) ((v) >> 16)
#define V_ARG(v) ((v)&0xffff)

/* Outgoing label stack entries, host order, top first: at most MAX_PUSH + 1 used; the
 * array is a power of two so that an index can be masked for the verifier. */
#define PUSH_SLOTS 8
struct push {
	__u32 n;
	__u32 lse[PUSH_SLOTS];
};

/* reframe makes the frame [Ethernet header (dst, src, vlan)][push->lse...][the current
 * frame's bytes start..end), checking the egress MTU first. Bytes before start (old
 * headers, popped labels) and after end (padding) are dropped. */
INLINE __u32 reframe(struct xdp_md *ctx, __u32 start, __u32 end_off, struct push *push, __u16 port, __u16 vlan,
		     const __u8 *dst, const __u8 *src, __u16 mtu, __be16 etype)
{
	if (port >= MAX_PORTS)
		return V_DROP(R_NO_ROUTE);
	__u32 npush = push ? push->n : 0;
	if (npush > MAX_PUSH + 1)
		return V_DROP(R_MALFORMED);
	if (end_off < start || end_off - start + npush * LSE_LEN > mtu)
		return V_DROP(R_MTU_EXCEEDED);

	__u32 flen = ctx->data_end - ctx->data;
	if (end_off < flen) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(flen - end_off)))
			return V_DROP(R_MALFORMED);
	}
	__u32 l2len = vlan ? ETH_HLEN + VLAN_HLEN : ETH_HLEN;
	int delta = (int)start - (int)(npush * LSE_LEN) - (int)l2len;
	if (delta != 0 && bpf_xdp_adjust_head(ctx, delta))
		return V_DROP(R_NO_HEADROOM);

	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + ETH_HLEN + VLAN_HLEN + (MAX_PUSH + 1) * LSE_LEN > end) {
		/* Short frames: write field by field with exact checks. */
		if (data + l2len + npush * LSE_LEN > end)
			return V_DROP(R_MALFORMED);
	}
	if (data + ETH_HLEN > end)
		return V_DROP(R_MALFORMED);
	__u8 *eth = data;
	__builtin_memcpy(eth, dst, 6);
	__builtin_memcpy(eth + 6, src, 6);
	if (vlan) {
		if (data + ETH_HLEN + VLAN_HLEN > end)
			return V_DROP(R_MALFORMED);
		*(__be16 *)(eth + 12) = ETH_P_8021Q_BE;
		*(__be16 *)(eth + 14) = bpf_htons(vlan & 0x0fff);
		*(__be16 *)(eth + 16) = etype;
	} else {
		*(__be16 *)(eth + 12) = etype;
	}
	for (__u32 i = 0; i < MAX_PUSH + 1; i++) {
		if (i >= npush)
			break;
		__u8 *p = data + l2len + i * LSE_LEN;
		if ((void *)(p + LSE_LEN) > end)
			return V_DROP(R_MALFORMED);
		*(__be32 *)p = bpf_htonl(push->lse[i]);
	}
	return V_FORWARD(port);
}

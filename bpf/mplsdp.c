//go:build ignore
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The mplsdp XDP program: skeleton, replaced by the full pipeline. */
#include "include/maps.h"

/* Test mode (set only by tests before load): the ingress port is test_port rather than
 * the ifindex's, and a forward returns XDP_REDIRECT without the devmap, because
 * BPF_PROG_TEST_RUN has neither real ingress devices nor egress ones. */
const volatile __u32 test_mode = 0;
volatile __u32 test_port = 0;

SEC("xdp")
int mplsdp_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";

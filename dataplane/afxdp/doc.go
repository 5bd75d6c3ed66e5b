// SPDX-License-Identifier: Apache-2.0

// Package afxdp is the userspace engine: an XDP classifier (bpf/xsk.c) keeps in the
// kernel what must stay there (ARP, ND, BGP from a CE peer, non-MPLS core traffic) or
// never leave it (a customer's labelled frames), and redirects the rest to AF_XDP
// sockets, where one goroutine per (interface, queue) runs the Go pipeline on each frame
// in place in the shared UMEM and posts it, unmoved, to the egress port's TX ring.
package afxdp

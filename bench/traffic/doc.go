// SPDX-License-Identifier: Apache-2.0

// Package traffic is the load for throughput benchmarks: a Generator that sends one
// frame as fast as the kernel takes it from an AF_XDP socket, and a Sink, an XDP
// program that counts the frames arriving on an interface and drops them.
//
// Both are built to stay out of the measurement's way on a small machine. The
// generator's frames are written into its UMEM once, so sending is only posting
// descriptors and reclaiming completions, with no copy and no allocation in Go; in copy
// mode (the only mode a veth has) the kernel builds an skb per frame, which is the
// generator's real cost. The sink never lets a frame reach a socket or the stack: it
// counts it in a per-CPU array and returns XDP_DROP, and the counts are summed only
// when read.
//
// Thread contract: a Generator's and a Sink's methods are called from one goroutine;
// the generator's own sending goroutine runs between Start and Stop.
package traffic

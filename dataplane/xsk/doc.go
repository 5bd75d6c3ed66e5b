// SPDX-License-Identifier: Apache-2.0

// Package xsk is a small AF_XDP socket library: a UMEM (the packet memory shared
// with the kernel), sockets bound to one (interface, queue) each, and their four
// single-producer single-consumer rings (fill, RX, TX, completion).
//
// Frame flow, as in the kernel's Documentation/networking/af_xdp.rst:
//
//	fill ring  --(kernel writes a packet into the frame)-->  RX ring
//	TX ring    --(kernel sends the frame)-->                 completion ring
//
// The caller owns every frame address that is in none of the rings. A forwarder
// receives a descriptor on one socket, rewrites the frame in place (the UMEM
// headroom and the XDP_PACKET_HEADROOM in front of every received packet leave
// room for pushed headers: move Addr back, grow Len) and posts the same
// descriptor to the TX ring of the egress socket on the same UMEM, with no copy.
// When the completion ring hands the address back, it goes to a fill ring again.
//
// Rings keep cached producer and consumer indices and read or write the shared
// ones once per batch (sync/atomic, which is at least acquire/release). Fill,
// Receive, Transmit and Complete do not allocate.
//
// # Kernel requirements
//
// AF_XDP needs Linux 4.18; XDP_USE_NEED_WAKEUP 5.4; a UMEM shared between
// sockets on different queues or devices (each with its own fill and completion
// rings) 5.10. Zero-copy needs driver support; veth has none and always runs in
// copy mode.
package xsk

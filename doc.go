// SPDX-License-Identifier: Apache-2.0

// Package mplsdp is a software MPLS router for Linux: an XDP program forwards in the
// kernel and a Go engine on AF_XDP sockets forwards in userspace, both implementing the
// behaviour in DESIGN.md. The packages below this one hold the parts; see README.md.
package mplsdp

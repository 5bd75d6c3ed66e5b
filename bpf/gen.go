// SPDX-License-Identifier: Apache-2.0

// Package bpf holds the XDP programs of mplsdp: mplsdp.c, the XDP engine's forwarding
// program, and xsk.c, the AF_XDP engine's classifier that redirects to AF_XDP sockets;
// their headers under include/; and the Go bindings bpf2go generates from them
// (committed, so that building needs no clang). `make generate` rebuilds them.
package bpf

//go:generate go tool bpf2go -go-package bpf -target bpfel -type port -type path -type lfib_entry -type binding_key -type binding -type route4_key -type route6_key -type nexthop -type infra4_key -type infra6_key -type port_counters Mplsdp mplsdp.c -- -I./include
//go:generate go tool bpf2go -go-package bpf -target bpfel Xsk xsk.c -- -I./include
//go:generate sh -c "sha256sum *.c include/*.h > sources.sha256"

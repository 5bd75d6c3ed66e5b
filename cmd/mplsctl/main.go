// SPDX-License-Identifier: Apache-2.0

// Command mplsctl is the operator's CLI for mplsdp: it reads the forwarding tables, adds
// and deletes VRF routes and incoming-label entries, and traces packets through the
// pipeline, through the daemon's controller API (gRPC on a unix socket).
//
//	mplsctl show mpls forwarding-table
//	mplsctl show ip route vrf cust-a
//	mplsctl add route vrf cust-a 198.51.100.0/24 remote-pe 203.0.113.2 vpn-label 2002
//	mplsctl add label 5000 swap 5001 via 198.51.100.9 interface core0
//	mplsctl trace interface ce-a src 192.0.2.2 dst 198.51.100.7 proto tcp dport 443
//	mplsctl -o json show vrf
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "mplsctl:", err)
		return 1
	}
	return 0
}

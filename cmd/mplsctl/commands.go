// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mplsdp/mplsdp/control/api"
)

// defaultSocket is where mplsdp listens unless its configuration says otherwise
// (api.socket); MPLSDP_SOCKET overrides it here.
const defaultSocket = "/run/mplsdp/api.sock"

// cli holds the global flags.
type cli struct {
	socket  string
	output  string
	timeout time.Duration
}

func newRootCmd() *cobra.Command {
	c := &cli{}
	root := &cobra.Command{
		Use:   "mplsctl",
		Short: "Show and change the forwarding tables of mplsdp",
		Long: `mplsctl talks to the mplsdp daemon over its controller API (gRPC on a unix
socket, mode 0600: run it as the daemon's user). It shows the LFIB, VRFs, routes,
interfaces and drops, and adds and deletes VRF routes; a change is all or nothing
and the reply means it reached the forwarding tables.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if c.output != "table" && c.output != "json" {
				return fmt.Errorf("output %q: want table or json", c.output)
			}
			return nil
		},
	}
	socket := os.Getenv("MPLSDP_SOCKET")
	if socket == "" {
		socket = defaultSocket
	}
	root.PersistentFlags().StringVar(&c.socket, "socket", socket, "the daemon's API socket (env MPLSDP_SOCKET)")
	root.PersistentFlags().StringVarP(&c.output, "output", "o", "table", "output format: table or json (the API's messages, protojson)")
	root.PersistentFlags().DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the daemon")
	root.AddCommand(c.showCmd(), c.addCmd(), c.delCmd(), c.watchCmd())
	return root
}

// call connects to the daemon and runs fn with a deadline (none when timeout is 0).
func (c *cli) call(cmd *cobra.Command, timeout time.Duration, fn func(ctx context.Context, rc api.RouterClient) error) error {
	switch _, err := os.Stat(c.socket); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("is mplsdp running? no socket at %s", c.socket)
	case err != nil:
		return err
	}
	conn, err := grpc.NewClient("unix:"+c.socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := cmd.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := fn(ctx, api.NewRouterClient(conn)); err != nil {
		return c.explain(err)
	}
	return nil
}

// explain turns an RPC error into a sentence for the operator.
func (c *cli) explain(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch {
	case st.Code() == codes.Unavailable && strings.Contains(st.Message(), "permission denied"):
		return fmt.Errorf("permission denied on %s: the socket is 0600, run mplsctl as the daemon's user", c.socket)
	case st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connect"):
		return fmt.Errorf("is mplsdp running? cannot connect to %s: %s", c.socket, st.Message())
	case st.Code() == codes.DeadlineExceeded:
		return fmt.Errorf("no answer from mplsdp on %s within %v", c.socket, c.timeout)
	}
	return fmt.Errorf("%s (%s)", st.Message(), st.Code())
}

// printJSON prints m as protojson: indented, or on one line.
func printJSON(cmd *cobra.Command, m proto.Message, multiline bool) error {
	opts := protojson.MarshalOptions{}
	if multiline {
		opts.Multiline, opts.Indent = true, "  "
	}
	b, err := opts.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
	return err
}

func (c *cli) showCmd() *cobra.Command {
	show := &cobra.Command{Use: "show", Short: "Show the forwarding state"}
	mpls := &cobra.Command{Use: "mpls", Short: "Show MPLS state"}
	mpls.AddCommand(&cobra.Command{
		Use:     "forwarding-table",
		Aliases: []string{"fwd"},
		Short:   "Show the LFIB: label entries, then tunnels (FEC push entries)",
		Long: `Show the LFIB: one row per label entry and path (ECMP paths on rows of their
own), then the tunnels that VRF routes to remote PEs push onto packets.

Outgoing Label is the swapped-in or pushed label stack (top first), "Pop Label"
for penultimate-hop pop, "No Label" for a VPN label (pop, then an IP lookup in the
VRF: Outgoing Interface "aggregate/VRF"). Next Hop is the configured address of
the next hop, or its MAC when the address is not known.

Bytes Label Switched is always "-": the dataplane counts per interface and drop
reason (show interfaces, show drops), not yet per label.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.ListLabels(ctx, &api.ListLabelsRequest{})
				if err != nil {
					return err
				}
				if c.output == "json" {
					return printJSON(cmd, resp, true)
				}
				return printLabels(cmd.OutOrStdout(), resp)
			})
		},
	})
	ip := &cobra.Command{Use: "ip", Short: "Show IP state"}
	ip.AddCommand(&cobra.Command{
		Use:   "route vrf NAME",
		Short: "Show a VRF's routes: installed, and wanted but unresolved",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 || args[0] != "vrf" {
				return errors.New("usage: show ip route vrf NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.ListRoutes(ctx, &api.ListRoutesRequest{Vrf: args[1]})
				if err != nil {
					return err
				}
				if c.output == "json" {
					return printJSON(cmd, resp, true)
				}
				return printRoutes(cmd.OutOrStdout(), resp)
			})
		},
	})
	show.AddCommand(mpls, ip,
		c.listCmd("vrf", "Show the VRFs", func(ctx context.Context, rc api.RouterClient) (proto.Message, error) {
			return rc.ListVRFs(ctx, &api.ListVRFsRequest{})
		}),
		c.listCmd("interfaces", "Show the interfaces with their VRF bindings and counters", func(ctx context.Context, rc api.RouterClient) (proto.Message, error) {
			return rc.ListInterfaces(ctx, &api.ListInterfacesRequest{})
		}),
		c.listCmd("drops", "Show dropped frames by interface and reason (non-zero counts)", func(ctx context.Context, rc api.RouterClient) (proto.Message, error) {
			return rc.Drops(ctx, &api.DropsRequest{})
		}),
		c.listCmd("unresolved", "Show what the last change could not install, and why", func(ctx context.Context, rc api.RouterClient) (proto.Message, error) {
			return rc.Unresolved(ctx, &api.UnresolvedRequest{})
		}),
	)
	return show
}

// listCmd is a show command without arguments.
func (c *cli) listCmd(use, short string, get func(context.Context, api.RouterClient) (proto.Message, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := get(ctx, rc)
				if err != nil {
					return err
				}
				if c.output == "json" {
					return printJSON(cmd, resp, true)
				}
				return printTable(cmd.OutOrStdout(), resp)
			})
		},
	}
}

func (c *cli) addCmd() *cobra.Command {
	add := &cobra.Command{Use: "add", Short: "Add to the forwarding tables"}
	add.AddCommand(&cobra.Command{
		Use:   "route vrf NAME PREFIX (remote-pe ADDR vpn-label N | via ADDR interface IF [vlan N] [mac MAC])",
		Short: "Add a VRF route (owner api): to a remote PE with its VPN label, or to a CE on this router",
		Example: `  mplsctl add route vrf cust-a 198.51.100.0/24 remote-pe 203.0.113.2 vpn-label 2002
  mplsctl add route vrf cust-a 198.51.100.0/24 via 192.0.2.2 interface ce-a
  mplsctl add route vrf cust-b 198.51.100.0/24 via 192.0.2.2 interface trunk0 vlan 200`,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseAddRoute(args)
			if err != nil {
				return err
			}
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.AddRoutes(ctx, &api.AddRoutesRequest{Routes: []*api.Route{r}})
				if err != nil {
					return err
				}
				return c.printChange(cmd, resp)
			})
		},
	})
	return add
}

// parseAddRoute parses "vrf NAME PREFIX" and the next hop's keywords.
func parseAddRoute(args []string) (*api.Route, error) {
	const usage = "usage: add route vrf NAME PREFIX (remote-pe ADDR vpn-label N | via ADDR interface IF [vlan N] [mac MAC])"
	if len(args) < 3 || args[0] != "vrf" {
		return nil, errors.New(usage)
	}
	r := &api.Route{Vrf: args[1], Prefix: args[2]}
	rest := args[3:]
	if len(rest)%2 != 0 {
		return nil, fmt.Errorf("%q needs a value; %s", rest[len(rest)-1], usage)
	}
	seen := map[string]bool{}
	for i := 0; i < len(rest); i += 2 {
		key, val := rest[i], rest[i+1]
		if seen[key] {
			return nil, fmt.Errorf("%s given twice", key)
		}
		seen[key] = true
		switch key {
		case "remote-pe":
			r.RemotePe = val
		case "vpn-label":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("vpn-label %q: want a number", val)
			}
			r.VpnLabel = uint32(n)
		case "via":
			r.Via = val
		case "interface":
			r.Interface = val
		case "vlan":
			n, err := strconv.ParseUint(val, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("vlan %q: want a number", val)
			}
			r.Vlan = uint32(n)
		case "mac":
			r.Mac = val
		default:
			return nil, fmt.Errorf("unknown keyword %q; %s", key, usage)
		}
	}
	return r, nil
}

func (c *cli) delCmd() *cobra.Command {
	del := &cobra.Command{Use: "del", Aliases: []string{"delete"}, Short: "Delete from the forwarding tables"}
	del.AddCommand(&cobra.Command{
		Use:   "route vrf NAME PREFIX...",
		Short: "Delete VRF routes the API added (all or none); configured routes stay",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 3 || args[0] != "vrf" {
				return errors.New("usage: del route vrf NAME PREFIX [PREFIX ...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &api.DeleteRoutesRequest{}
			for _, p := range args[2:] {
				req.Routes = append(req.Routes, &api.RouteKey{Vrf: args[1], Prefix: p})
			}
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.DeleteRoutes(ctx, req)
				if err != nil {
					return err
				}
				return c.printChange(cmd, resp)
			})
		},
	})
	return del
}

func (c *cli) printChange(cmd *cobra.Command, resp *api.ChangeResponse) error {
	if c.output == "json" {
		return printJSON(cmd, resp, true)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "done: in the forwarding tables in %v (generation %d)\n", resp.GetTook().AsDuration(), resp.GetGeneration())
	for _, u := range resp.GetUnresolved() {
		fmt.Fprintf(w, "unresolved: %s\n", u)
	}
	return nil
}

func (c *cli) watchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch",
		Short: "Print an event for every change of the forwarding tables, until interrupted",
		Long: `Print an event for every change that reached the forwarding tables: its
generation, who made it (config or api) and how long it took. With -o json, one
JSON object per line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.call(cmd, 0, func(ctx context.Context, rc api.RouterClient) error {
				stream, err := rc.Watch(ctx, &api.WatchRequest{})
				if err != nil {
					return err
				}
				for {
					ev, err := stream.Recv()
					if err != nil {
						if ctx.Err() != nil {
							return nil // interrupted
						}
						return err
					}
					if c.output == "json" {
						if err := printJSON(cmd, ev, false); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s generation %d by %s, took %v", time.Now().Format(time.TimeOnly), ev.GetGeneration(), ev.GetOwner().Name(), ev.GetTook().AsDuration())
					if ev.GetMissed() > 0 {
						fmt.Fprintf(cmd.OutOrStdout(), " (%d events missed: list the tables again)", ev.GetMissed())
					}
					fmt.Fprintln(cmd.OutOrStdout())
				}
			})
		},
	}
}

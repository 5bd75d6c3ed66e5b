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
interfaces and drops, adds and deletes VRF routes and label entries (a change is
all or nothing and the reply means it reached the forwarding tables), and traces
a packet through the pipeline.`,
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
	root.AddCommand(c.showCmd(), c.addCmd(), c.delCmd(), c.watchCmd(), c.traceCmd())
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
the next hop, or its MAC when the address is not known. Entries the API added
(add label) say "(api)" in the Prefix or Tunnel Id column.

Bytes Label Switched counts the bytes of the frames each label switched (for a
tunnel, the IP bytes pushed into it) since the daemon's maps were created; "-" where
the engine keeps no per-label counters (the AF_XDP engine).`,
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
	add.AddCommand(&cobra.Command{
		Use:   "label IN (swap OUT[,OUT...] | pop) via ADDR interface IF [mac MAC]",
		Short: "Add an incoming-label entry (owner api): swap (and push), or penultimate-hop pop",
		Long: `Add an incoming-label entry (owner api). swap replaces the incoming label by
OUT (several: the first ones are pushed on top, top first); pop removes it
(penultimate hop). The frame goes out IF to ADDR, whose MAC comes from the
neighbour table unless given. An entry the API added before for IN is replaced;
a label of the configuration (an LSP's in-label, a VRF's label) is refused.`,
		Example: `  mplsctl add label 5000 swap 5001 via 198.51.100.9 interface core0
  mplsctl add label 5000 swap 5001,5002 via 198.51.100.9 interface core0 mac 02:0a:00:00:00:01
  mplsctl add label 5003 pop via 198.51.100.9 interface core0`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := parseAddLabel(args)
			if err != nil {
				return err
			}
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.AddLabels(ctx, &api.AddLabelsRequest{Labels: []*api.LabelEntry{e}})
				if err != nil {
					return err
				}
				return c.printChange(cmd, resp)
			})
		},
	})
	return add
}

// parseAddLabel parses "IN (swap OUT[,OUT...] | pop)" and the next hop's keywords.
func parseAddLabel(args []string) (*api.LabelEntry, error) {
	const usage = "usage: add label IN (swap OUT[,OUT...] | pop) via ADDR interface IF [mac MAC]"
	if len(args) < 2 {
		return nil, errors.New(usage)
	}
	in, err := parseNumber("label", args[0], 1<<20-1)
	if err != nil {
		return nil, err
	}
	p := &api.Path{}
	e := &api.LabelEntry{Label: in, Operation: args[1], Paths: []*api.Path{p}}
	rest := args[2:]
	switch args[1] {
	case "swap":
		if len(rest) == 0 {
			return nil, fmt.Errorf("swap needs the outgoing labels; %s", usage)
		}
		if p.Labels, err = parseLabels(rest[0]); err != nil {
			return nil, err
		}
		rest = rest[1:]
	case "pop":
	default:
		return nil, fmt.Errorf("%q: want swap or pop; %s", args[1], usage)
	}
	err = keywords(rest, usage, map[string]func(string) error{
		"via":       func(v string) error { p.Via = v; return nil },
		"interface": func(v string) error { p.Interface = v; return nil },
		"mac":       func(v string) error { p.Mac = v; return nil },
	})
	return e, err
}

// keywords parses "KEY VALUE" pairs with set[KEY].
func keywords(rest []string, usage string, set map[string]func(string) error) error {
	if len(rest)%2 != 0 {
		return fmt.Errorf("%q needs a value; %s", rest[len(rest)-1], usage)
	}
	seen := map[string]bool{}
	for i := 0; i < len(rest); i += 2 {
		key, val := rest[i], rest[i+1]
		fn, ok := set[key]
		if !ok {
			return fmt.Errorf("unknown keyword %q; %s", key, usage)
		}
		if seen[key] {
			return fmt.Errorf("%s given twice", key)
		}
		seen[key] = true
		if err := fn(val); err != nil {
			return err
		}
	}
	return nil
}

// parseNumber parses a decimal number up to limit.
func parseNumber(what, s string, limit uint64) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%s %q: want a number 0..%d", what, s, limit)
	}
	return uint32(n), nil
}

// parseLabels parses "L[,L...]".
func parseLabels(s string) ([]uint32, error) {
	var out []uint32
	for _, f := range strings.Split(s, ",") {
		n, err := parseNumber("label", f, 1<<20-1)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
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
	del.AddCommand(&cobra.Command{
		Use:   "label IN...",
		Short: "Delete incoming-label entries the API added (all or none); the configuration's stay",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("usage: del label IN [IN ...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &api.DeleteLabelsRequest{}
			for _, a := range args {
				n, err := parseNumber("label", a, 1<<20-1)
				if err != nil {
					return err
				}
				req.Labels = append(req.Labels, n)
			}
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.DeleteLabels(ctx, req)
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

func (c *cli) traceCmd() *cobra.Command {
	const usage = "usage: trace interface IF [vlan N] [label L[,L...]] src ADDR dst ADDR [proto udp|tcp|icmp] [sport N] [dport N] [ttl N] [tos N] [length N]"
	return &cobra.Command{
		Use:   "trace interface IF [vlan N] [label L[,L...]] src ADDR dst ADDR [proto udp|tcp|icmp] [sport N] [dport N] [ttl N] [tos N] [length N]",
		Short: "Run a packet through the pipeline and show each decision and the frame that leaves",
		Long: `Build a frame as if it arrived on interface IF (to its MAC; tagged with VLAN N;
labelled with L,... top first, TTL 64, the S bit on the last) carrying an IP
packet from src to dst (UDP by default; ttl 64, tos 0, length the payload
bytes), run it through the forwarding pipeline, and print the decisions of the
tables (port role, VRF binding, infrastructure ACL, route, tunnel, label
entries), the verdict, and the frame that leaves, layer by layer. Nothing is
sent and no counter changes.`,
		Example: `  mplsctl trace interface ce-a src 192.0.2.2 dst 192.0.2.200
  mplsctl trace interface trunk0 vlan 100 src 192.0.2.2 dst 198.51.100.1 proto tcp dport 22
  mplsctl trace interface core0 label 3001,1000 src 192.0.2.200 dst 192.0.2.3 proto icmp`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &api.TraceRequest{}
			num := func(what string, limit uint64, to func(uint32)) func(string) error {
				return func(v string) error {
					n, err := parseNumber(what, v, limit)
					if err == nil {
						to(n)
					}
					return err
				}
			}
			err := keywords(args, usage, map[string]func(string) error{
				"interface": func(v string) error { req.Interface = v; return nil },
				"vlan":      num("vlan", 4094, func(n uint32) { req.Vlan = n }),
				"label": func(v string) error {
					ls, err := parseLabels(v)
					for _, l := range ls {
						req.Labels = append(req.Labels, &api.TraceLabel{Label: l})
					}
					return err
				},
				"src":    func(v string) error { req.Src = v; return nil },
				"dst":    func(v string) error { req.Dst = v; return nil },
				"proto":  func(v string) error { req.Protocol = v; return nil },
				"sport":  num("sport", 65535, func(n uint32) { req.SrcPort = n }),
				"dport":  num("dport", 65535, func(n uint32) { req.DstPort = n }),
				"ttl":    num("ttl", 255, func(n uint32) { req.Ttl = &n }),
				"tos":    num("tos", 255, func(n uint32) { req.Tos = n }),
				"length": num("length", 9000, func(n uint32) { req.PayloadLength = n }),
			})
			if err != nil {
				return err
			}
			if req.Interface == "" || req.Src == "" || req.Dst == "" {
				return errors.New("interface, src and dst are needed; " + usage)
			}
			return c.call(cmd, c.timeout, func(ctx context.Context, rc api.RouterClient) error {
				resp, err := rc.Trace(ctx, req)
				if err != nil {
					return err
				}
				if c.output == "json" {
					return printJSON(cmd, resp, true)
				}
				return printTrace(cmd.OutOrStdout(), resp)
			})
		},
	}
}

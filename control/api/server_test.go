// SPDX-License-Identifier: Apache-2.0

package api_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/mplsdp/mplsdp/control/api"
	"github.com/mplsdp/mplsdp/control/api/apitest"
	"github.com/mplsdp/mplsdp/dataplane"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// same fails t with both messages in text form unless they are equal.
func same(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, prototext.Format(got), prototext.Format(want))
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	st := status.Convert(err)
	if err == nil || st.Code() != code || !strings.Contains(st.Message(), msg) {
		t.Errorf("%s: got %v, want %v containing %q", what, err, code, msg)
	}
}

const (
	coreMAC = "02:0a:00:00:00:01"
	ceMAC   = "02:0a:00:00:00:02"
)

func TestLists(t *testing.T) {
	srv := apitest.Start(t)
	cl := srv.Dial(t)

	vrfs, err := cl.ListVRFs(ctx(t), &api.ListVRFsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "ListVRFs", vrfs, &api.ListVRFsResponse{Vrfs: []*api.VRF{
		{Name: "a", Id: 1, Rd: "65000:1", Import: []string{"65000:1"}, Export: []string{"65000:1", "65000:100"}, Ipv4Routes: 2, VpnLabel: 1000, Interfaces: []string{"ce-a", "trunk0.100"}},
		{Name: "b", Id: 2, MaxRoutes: 2, Ipv4Routes: 1, VpnLabel: 100000, Interfaces: []string{"trunk0.200"}},
	}})

	routes, err := cl.ListRoutes(ctx(t), &api.ListRoutesRequest{Vrf: "a"})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "ListRoutes a", routes, &api.ListRoutesResponse{Routes: []*api.Route{
		{Vrf: "a", Prefix: "192.0.2.0/25", Via: "192.0.2.2", Interface: "ce-a", Mac: ceMAC, Owner: api.Owner_OWNER_CONFIG, Installed: true},
		{Vrf: "a", Prefix: "192.0.2.128/25", RemotePe: "203.0.113.2", VpnLabel: 2000, Owner: api.Owner_OWNER_CONFIG, Installed: true, Tunnel: 1},
		{Vrf: "a", Prefix: "198.18.0.0/24", Via: "192.0.2.99", Interface: "ce-a", Owner: api.Owner_OWNER_CONFIG},
	}})
	_, err = cl.ListRoutes(ctx(t), &api.ListRoutesRequest{Vrf: "nope"})
	wantCode(t, "ListRoutes of an unknown VRF", err, codes.NotFound, `no VRF "nope"`)

	labels, err := cl.ListLabels(ctx(t), &api.ListLabelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	core := func(labels ...uint32) []*api.Path {
		return []*api.Path{{Labels: labels, Interface: "core0", Port: 0, Mac: coreMAC, Via: "198.51.100.9"}}
	}
	same(t, "ListLabels", labels, &api.ListLabelsResponse{
		Labels: []*api.LabelEntry{
			{Label: 1000, Operation: "pop-to-vrf", Vrf: "a"},
			{Label: 3001, Operation: "swap", Paths: core(3002)},
			{Label: 3002, Operation: "pop", Paths: core()},
			{Label: 100000, Operation: "pop-to-vrf", Vrf: "b"},
		},
		Tunnels: []*api.Tunnel{{Id: 1, Fec: "203.0.113.2/32", Paths: core(3001)}},
	})

	ifcs, err := cl.ListInterfaces(ctx(t), &api.ListInterfacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if ifcs.StatsError == "" {
		t.Error("ListInterfaces without an engine: no stats_error")
	}
	want := &api.ListInterfacesResponse{
		StatsError: ifcs.StatsError,
		Interfaces: []*api.Interface{
			{Name: "core0", Port: 0, Role: "core", Ifindex: 10, Mtu: 1500, Mac: "02:00:00:00:00:0a"},
			{Name: "ce-a", Port: 1, Role: "ce", Ifindex: 11, Mtu: 1500, Mac: "02:00:00:00:00:0b",
				Bindings: []*api.Binding{{Vrf: "a", Peers: []string{"192.0.2.2"}}}},
			{Name: "trunk0", Port: 2, Role: "ce", Ifindex: 12, Mtu: 1500, Mac: "02:00:00:00:00:0c",
				Bindings: []*api.Binding{{Vlan: 100, Vrf: "a"}, {Vlan: 200, Vrf: "b"}}},
		},
	}
	same(t, "ListInterfaces", ifcs, want)

	_, err = cl.Drops(ctx(t), &api.DropsRequest{})
	wantCode(t, "Drops without an engine", err, codes.Unavailable, "no engine running")

	st := new(dataplane.Stats)
	st.Ports[0].RxPackets, st.Ports[0].RxBytes, st.Ports[0].TxPackets, st.Ports[0].TxBytes = 10, 1000, 9, 900
	st.Ports[0].Kernel = 1
	st.Ports[0].Drops[dataplane.ReasonNoLabel] = 3
	st.Ports[2].Drops[dataplane.ReasonInfraACL] = 2
	st.Ports[2].Drops[dataplane.ReasonNoVRF] = 1
	srv.Backend.SetStats(st)
	ifcs, err = cl.ListInterfaces(ctx(t), &api.ListInterfacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want.StatsError = ""
	c := want.Interfaces[0]
	c.RxPackets, c.RxBytes, c.TxPackets, c.TxBytes, c.KernelPackets, c.Drops = 10, 1000, 9, 900, 1, 3
	want.Interfaces[2].Drops = 3
	same(t, "ListInterfaces with counters", ifcs, want)

	drops, err := cl.Drops(ctx(t), &api.DropsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Drops", drops, &api.DropsResponse{Drops: []*api.Drop{
		{Interface: "core0", Port: 0, Reason: "no_label", Packets: 3},
		{Interface: "trunk0", Port: 2, Reason: "no_vrf", Packets: 1},
		{Interface: "trunk0", Port: 2, Reason: "infra_acl", Packets: 2},
	}})

	un, err := cl.Unresolved(ctx(t), &api.UnresolvedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Items) != 1 || !strings.Contains(un.Items[0], "192.0.2.99") {
		t.Errorf("Unresolved: %q, want one item about 192.0.2.99", un.Items)
	}
}

func TestChanges(t *testing.T) {
	srv := apitest.Start(t)
	cl := srv.Dial(t)
	list := func(vrf string) *api.ListRoutesResponse {
		t.Helper()
		r, err := cl.ListRoutes(ctx(t), &api.ListRoutesRequest{Vrf: vrf})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	beforeA, beforeB := list("a"), list("b")
	labelsBefore, err := cl.ListLabels(ctx(t), &api.ListLabelsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		same(t, what+": VRF a", list("a"), beforeA)
		same(t, what+": VRF b", list("b"), beforeB)
		l, err := cl.ListLabels(ctx(t), &api.ListLabelsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		same(t, what+": labels", l, labelsBefore)
	}

	// Watch from here on; the header says the server is subscribed.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	watch, err := cl.Watch(wctx, &api.WatchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Header(); err != nil {
		t.Fatal(err)
	}

	good := &api.Route{Vrf: "a", Prefix: "203.0.113.128/25", RemotePe: "203.0.113.2", VpnLabel: 2002}
	bad := []struct {
		name  string
		route *api.Route
		code  codes.Code
		msg   string
	}{
		{"reserved VPN label", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", RemotePe: "203.0.113.2", VpnLabel: 5}, codes.InvalidArgument, "VPN label 5 out of range 16..1048575"},
		{"VPN label over 20 bits", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", RemotePe: "203.0.113.2", VpnLabel: 1 << 20}, codes.InvalidArgument, "out of range"},
		{"no VPN label", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", RemotePe: "203.0.113.2"}, codes.InvalidArgument, "VPN label 0 out of range"},
		{"host bits", &api.Route{Vrf: "a", Prefix: "198.51.100.1/24", RemotePe: "203.0.113.2", VpnLabel: 20}, codes.InvalidArgument, "did you mean 198.51.100.0/24"},
		{"bad prefix", &api.Route{Vrf: "a", Prefix: "198.51.100/24", RemotePe: "203.0.113.2", VpnLabel: 20}, codes.InvalidArgument, "prefix"},
		{"unknown VRF", &api.Route{Vrf: "zz", Prefix: "198.51.100.0/24", RemotePe: "203.0.113.2", VpnLabel: 20}, codes.InvalidArgument, `no VRF "zz"`},
		{"unknown interface", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", Via: "192.0.2.2", Interface: "eth9"}, codes.InvalidArgument, `no interface "eth9"`},
		{"both next hops", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", Via: "192.0.2.2", Interface: "ce-a", RemotePe: "203.0.113.2", VpnLabel: 20}, codes.InvalidArgument, "give one"},
		{"no next hop", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24"}, codes.InvalidArgument, "no next hop"},
		{"bad MAC", &api.Route{Vrf: "a", Prefix: "198.51.100.0/24", Via: "192.0.2.2", Interface: "ce-a", Mac: "02:00"}, codes.InvalidArgument, "MAC"},
		{"twice", good, codes.InvalidArgument, "twice in the batch"},
	}
	for _, tc := range bad {
		_, err := cl.AddRoutes(ctx(t), &api.AddRoutesRequest{Routes: []*api.Route{good, tc.route}})
		wantCode(t, tc.name, err, tc.code, tc.msg)
		if err != nil && !strings.Contains(status.Convert(err).Message(), "route 2 of 2") {
			t.Errorf("%s: %v does not say which route", tc.name, err)
		}
	}
	unchanged("after refused batches")

	// VRF b has one route and max-routes 2: two more are refused by the tables.
	_, err = cl.AddRoutes(ctx(t), &api.AddRoutesRequest{Routes: []*api.Route{
		good,
		{Vrf: "b", Prefix: "198.51.100.0/25", RemotePe: "203.0.113.2", VpnLabel: 2003},
		{Vrf: "b", Prefix: "198.51.100.128/25", RemotePe: "203.0.113.2", VpnLabel: 2003},
	}})
	wantCode(t, "over max-routes", err, codes.FailedPrecondition, "route limit reached")
	unchanged("after a batch over max-routes")
	vrfs, err := cl.ListVRFs(ctx(t), &api.ListVRFsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r := vrfs.Vrfs[1].RefusedRoutes; r != 1 {
		t.Errorf("VRF b refused %d routes, want 1", r)
	}

	// A good batch reaches the tables.
	local := &api.Route{Vrf: "b", Prefix: "198.51.100.0/25", Via: "192.0.2.2", Interface: "trunk0", Vlan: 200}
	resp, err := cl.AddRoutes(ctx(t), &api.AddRoutesRequest{Routes: []*api.Route{good, local}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Generation == 0 || resp.Took == nil {
		t.Errorf("AddRoutes reply %v: want a generation and a duration", resp)
	}
	a := list("a").Routes
	if len(a) != 4 || !proto.Equal(a[3], &api.Route{Vrf: "a", Prefix: "203.0.113.128/25", RemotePe: "203.0.113.2", VpnLabel: 2002, Owner: api.Owner_OWNER_API, Installed: true, Tunnel: 1}) {
		t.Errorf("VRF a after AddRoutes: %v", a)
	}
	b := list("b").Routes
	if len(b) != 2 || !proto.Equal(b[1], &api.Route{Vrf: "b", Prefix: "198.51.100.0/25", Via: "192.0.2.2", Interface: "trunk0", Vlan: 200, Mac: ceMAC, Owner: api.Owner_OWNER_API, Installed: true}) {
		t.Errorf("VRF b after AddRoutes: %v", b)
	}

	ev, err := watch.Recv()
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if ev.Owner != api.Owner_OWNER_API || ev.Generation != resp.Generation || ev.Missed != 0 {
		t.Errorf("watch event %v, want owner api generation %d", ev, resp.Generation)
	}

	// The API deletes only its own routes.
	_, err = cl.DeleteRoutes(ctx(t), &api.DeleteRoutesRequest{Routes: []*api.RouteKey{
		{Vrf: "a", Prefix: "203.0.113.128/25"}, {Vrf: "a", Prefix: "192.0.2.0/25"},
	}})
	wantCode(t, "deleting a configured route", err, codes.FailedPrecondition, "belongs to the configuration")
	_, err = cl.DeleteRoutes(ctx(t), &api.DeleteRoutesRequest{Routes: []*api.RouteKey{{Vrf: "a", Prefix: "10.0.0.0/8"}}})
	wantCode(t, "deleting a missing route", err, codes.NotFound, "no such route")
	if n := len(list("a").Routes); n != 4 {
		t.Errorf("VRF a has %d routes after refused deletes, want 4", n)
	}
	del, err := cl.DeleteRoutes(ctx(t), &api.DeleteRoutesRequest{Routes: []*api.RouteKey{
		{Vrf: "a", Prefix: "203.0.113.128/25"}, {Vrf: "b", Prefix: "198.51.100.0/25"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if del.Generation != resp.Generation+1 {
		t.Errorf("DeleteRoutes generation %d, want %d", del.Generation, resp.Generation+1)
	}
	unchanged("after deleting the added routes")
	if ev, err := watch.Recv(); err != nil || ev.Generation != del.Generation {
		t.Errorf("watch after delete: %v, %v", ev, err)
	}
}

func TestListenUnix(t *testing.T) {
	srv := apitest.Start(t)
	fi, err := os.Stat(srv.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if _, err := api.ListenUnix(srv.Socket); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("listening on a live socket: %v", err)
	}

	// A socket left behind by a daemon that died is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := api.ListenUnix(stale)
	if err != nil {
		t.Fatalf("replacing a stale socket: %v", err)
	}
	ln2.Close()

	// Anything else is left alone.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ListenUnix(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("listening over a file: %v", err)
	}
}

// SPDX-License-Identifier: Apache-2.0

package api_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
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
			{Label: 1000, Operation: "pop-to-vrf", Vrf: "a", Owner: api.Owner_OWNER_CONFIG},
			{Label: 3001, Operation: "swap", Paths: core(3002), Owner: api.Owner_OWNER_CONFIG},
			{Label: 3002, Operation: "pop", Paths: core(), Owner: api.Owner_OWNER_CONFIG},
			{Label: 100000, Operation: "pop-to-vrf", Vrf: "b", Owner: api.Owner_OWNER_CONFIG},
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

func TestLabels(t *testing.T) {
	srv := apitest.Start(t)
	cl := srv.Dial(t)
	listLabels := func() *api.ListLabelsResponse {
		t.Helper()
		l, err := cl.ListLabels(ctx(t), &api.ListLabelsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	before := listLabels()

	swap := &api.LabelEntry{Label: 5000, Operation: "swap", Paths: []*api.Path{{Labels: []uint32{5001, 5002}, Interface: "core0", Via: "198.51.100.9"}}}
	pop := &api.LabelEntry{Label: 5003, Operation: "pop", Paths: []*api.Path{{Interface: "core0", Via: "198.51.100.9"}}}
	toCore := func(labels ...uint32) []*api.Path {
		return []*api.Path{{Labels: labels, Interface: "core0", Via: "198.51.100.9"}}
	}
	bad := []struct {
		name  string
		entry *api.LabelEntry
		code  codes.Code
		msg   string
	}{
		{"reserved label", &api.LabelEntry{Label: 5, Operation: "pop", Paths: toCore()}, codes.InvalidArgument, "label 5 out of range 16..1048575"},
		{"label over 20 bits", &api.LabelEntry{Label: 1 << 20, Operation: "pop", Paths: toCore()}, codes.InvalidArgument, "out of range"},
		{"no operation", &api.LabelEntry{Label: 6000, Paths: toCore()}, codes.InvalidArgument, "no operation: want swap or pop"},
		{"push", &api.LabelEntry{Label: 6000, Operation: "push", Paths: toCore(6001)}, codes.InvalidArgument, `operation "push": want swap or pop`},
		{"swap without labels", &api.LabelEntry{Label: 6000, Operation: "swap", Paths: toCore()}, codes.InvalidArgument, "swap without outgoing labels"},
		{"pop with labels", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: toCore(6001)}, codes.InvalidArgument, "pop with outgoing labels"},
		{"too many labels", &api.LabelEntry{Label: 6000, Operation: "swap", Paths: toCore(20, 21, 22, 23, 24)}, codes.InvalidArgument, "5 outgoing labels: at most 4"},
		{"reserved outgoing label", &api.LabelEntry{Label: 6000, Operation: "swap", Paths: toCore(1)}, codes.InvalidArgument, "outgoing label 1 not allowed"},
		{"two paths", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: append(toCore(), toCore()...)}, codes.InvalidArgument, "2 paths: give exactly one"},
		{"no path", &api.LabelEntry{Label: 6000, Operation: "pop"}, codes.InvalidArgument, "0 paths"},
		{"a VRF", &api.LabelEntry{Label: 6000, Operation: "pop", Vrf: "a", Paths: toCore()}, codes.InvalidArgument, "VPN labels come with the VRFs"},
		{"unknown interface", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: []*api.Path{{Interface: "eth9", Via: "198.51.100.9"}}}, codes.InvalidArgument, `no interface "eth9"`},
		{"bad via", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: []*api.Path{{Interface: "core0", Via: "198.51.100"}}}, codes.InvalidArgument, "next hop (via)"},
		{"no next hop", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: []*api.Path{{Interface: "core0"}}}, codes.InvalidArgument, "no next hop"},
		{"bad MAC", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: []*api.Path{{Interface: "core0", Via: "198.51.100.9", Mac: "02:00"}}}, codes.InvalidArgument, "MAC"},
		{"a VLAN", &api.LabelEntry{Label: 6000, Operation: "pop", Paths: []*api.Path{{Interface: "core0", Via: "198.51.100.9", Vlan: 7}}}, codes.InvalidArgument, "untagged"},
		{"twice", swap, codes.InvalidArgument, "twice in the batch"},
		{"a configured LSP's label", &api.LabelEntry{Label: 3001, Operation: "pop", Paths: toCore()}, codes.FailedPrecondition, "the configuration uses the label (an LSP's in-label)"},
		{"a VRF's label", &api.LabelEntry{Label: 1000, Operation: "pop", Paths: toCore()}, codes.FailedPrecondition, "the VPN label of VRF a"},
		{"an allocated VRF label", &api.LabelEntry{Label: 100000, Operation: "pop", Paths: toCore()}, codes.FailedPrecondition, "the VPN label of VRF b"},
	}
	for _, tc := range bad {
		_, err := cl.AddLabels(ctx(t), &api.AddLabelsRequest{Labels: []*api.LabelEntry{swap, tc.entry}})
		wantCode(t, tc.name, err, tc.code, tc.msg)
		if err != nil && !strings.Contains(status.Convert(err).Message(), "label 2 of 2") {
			t.Errorf("%s: %v does not say which entry", tc.name, err)
		}
		if err != nil && !strings.HasSuffix(status.Convert(err).Message(), "nothing changed") {
			t.Errorf("%s: %v does not say that nothing changed", tc.name, err)
		}
	}
	_, err := cl.AddLabels(ctx(t), &api.AddLabelsRequest{})
	wantCode(t, "empty AddLabels", err, codes.InvalidArgument, "empty batch")
	same(t, "labels after refused batches", listLabels(), before)

	resp, err := cl.AddLabels(ctx(t), &api.AddLabelsRequest{Labels: []*api.LabelEntry{swap, pop}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Generation == 0 || resp.Took == nil {
		t.Errorf("AddLabels reply %v: want a generation and a duration", resp)
	}
	path := func(labels ...uint32) []*api.Path {
		return []*api.Path{{Labels: labels, Interface: "core0", Mac: coreMAC, Via: "198.51.100.9"}}
	}
	want := proto.Clone(before).(*api.ListLabelsResponse)
	want.Labels = append(want.Labels[:3],
		&api.LabelEntry{Label: 5000, Operation: "swap", Paths: path(5001, 5002), Owner: api.Owner_OWNER_API},
		&api.LabelEntry{Label: 5003, Operation: "pop", Paths: path(), Owner: api.Owner_OWNER_API},
		want.Labels[3])
	same(t, "labels after AddLabels", listLabels(), want)

	// The API's swap entry swaps and pushes.
	tr, err := cl.Trace(ctx(t), &api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 5000}, {Label: 1000}}, Src: "192.0.2.200", Dst: "192.0.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if got := mplsLabels(t, tr.GetOutput()); got != "5001/0/255 5002/0/63 1000/1/64" {
		t.Errorf("trace through the API's swap: output stack %s", got)
	}
	if s := tr.GetSteps()[1].GetSummary(); !strings.HasSuffix(s, "(api)") {
		t.Errorf("trace through the API's swap: step %q does not name the owner", s)
	}

	// The API deletes only its own entries.
	for _, tc := range []struct {
		name   string
		labels []uint32
		code   codes.Code
		msg    string
	}{
		{"a configured LSP's label", []uint32{5000, 3001}, codes.FailedPrecondition, "belongs to the configuration (an LSP's in-label"},
		{"a VRF's label", []uint32{5000, 1000}, codes.FailedPrecondition, "belongs to the configuration (the VPN label of VRF a"},
		{"a missing label", []uint32{5000, 7777}, codes.NotFound, "no such label entry"},
		{"twice", []uint32{5000, 5000}, codes.InvalidArgument, "twice in the batch"},
		{"nothing", nil, codes.InvalidArgument, "empty batch"},
	} {
		_, err := cl.DeleteLabels(ctx(t), &api.DeleteLabelsRequest{Labels: tc.labels})
		wantCode(t, "DeleteLabels of "+tc.name, err, tc.code, tc.msg)
	}
	same(t, "labels after refused deletes", listLabels(), want)
	del, err := cl.DeleteLabels(ctx(t), &api.DeleteLabelsRequest{Labels: []uint32{5003, 5000}})
	if err != nil {
		t.Fatal(err)
	}
	if del.Generation != resp.Generation+1 {
		t.Errorf("DeleteLabels generation %d, want %d", del.Generation, resp.Generation+1)
	}
	same(t, "labels after DeleteLabels", listLabels(), before)
}

// mplsLabels decodes f's hex independently of its layer summaries and returns its
// label stack as "label/S/TTL ...".
func mplsLabels(t *testing.T, f *api.Frame) string {
	t.Helper()
	b, err := hex.DecodeString(f.GetHex())
	if err != nil || len(b) != int(f.GetLength()) {
		t.Fatalf("frame hex %q (length %d): %v", f.GetHex(), f.GetLength(), err)
	}
	var out []string
	for _, l := range gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default).Layers() {
		if m, ok := l.(*layers.MPLS); ok {
			out = append(out, fmt.Sprintf("%d/%d/%d", m.Label, map[bool]int{false: 0, true: 1}[m.StackBottom], m.TTL))
		}
	}
	return strings.Join(out, " ")
}

// tables lists the table of each step.
func tables(steps []*api.TraceStep) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.GetTable())
	}
	return strings.Join(s, " ")
}

func TestTrace(t *testing.T) {
	srv := apitest.Start(t)
	cl := srv.Dial(t)
	trace := func(req *api.TraceRequest) *api.TraceResponse {
		t.Helper()
		resp, err := cl.Trace(ctx(t), req)
		if err != nil {
			t.Fatalf("trace %v: %v", req, err)
		}
		return resp
	}

	// From the CE to a prefix behind the remote PE: VPN label 2000 under the LSP's 3001.
	resp := trace(&api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", Tos: 0xa0, PayloadLength: 100})
	if resp.Verdict != "forward" || resp.Reason != "" || resp.EgressInterface != "core0" || resp.EgressPort != 0 {
		t.Errorf("CE to remote PE: verdict %q %q out %q (%d)", resp.Verdict, resp.Reason, resp.EgressInterface, resp.EgressPort)
	}
	if got := tables(resp.Steps); got != "port binding infra-acl route tunnel" {
		t.Errorf("CE to remote PE: steps %s", got)
	} else {
		same(t, "port step", resp.Steps[0], &api.TraceStep{Table: "port", Hit: true, Interface: "ce-a", Role: "ce", Summary: "ce-a (port 1): role ce"})
		same(t, "binding step", resp.Steps[1], &api.TraceStep{Table: "binding", Hit: true, Interface: "ce-a", Vrf: "a", Summary: "ce-a untagged: VRF a"})
		if s := resp.Steps[2]; s.Hit {
			t.Errorf("infra-acl step %v: a hit", s)
		}
		same(t, "route step", resp.Steps[3], &api.TraceStep{Table: "route", Hit: true, Vrf: "a", Prefix: "192.0.2.128/25", RemotePe: "203.0.113.2", VpnLabel: 2000, Tunnel: 1,
			Summary: "VRF a: 192.0.2.128/25 via remote PE 203.0.113.2, VPN label 2000, tunnel 1"})
		tun := resp.Steps[4]
		if !tun.Hit || tun.Tunnel != 1 || tun.Fec != "203.0.113.2/32" || len(tun.Paths) != 1 ||
			!proto.Equal(tun.Paths[0], &api.Path{Labels: []uint32{3001}, Interface: "core0", Mac: coreMAC, Via: "198.51.100.9"}) {
			t.Errorf("tunnel step %v", tun)
		}
	}
	if got := mplsLabels(t, resp.Output); got != "3001/0/255 2000/1/255" {
		t.Errorf("CE to remote PE: output stack %s, want 3001 (S=0) over 2000 (S=1), TTL 255", got)
	}
	var names, summaries []string
	for _, l := range resp.GetOutput().GetLayers() {
		names, summaries = append(names, l.Name), append(summaries, l.Summary)
	}
	if got := strings.Join(names, " "); got != "Ethernet MPLS MPLS IPv4 UDP Payload" {
		t.Errorf("output layers %s", got)
	}
	for i, want := range []string{
		"02:00:00:00:00:0a > " + coreMAC + ", type 0x8847 (MPLSUnicast)",
		"label 3001, tc 5, s 0, ttl 255",
		"label 2000, tc 5, s 1, ttl 255",
		"192.0.2.2 > 192.0.2.200, ttl 63, tos 0xa0, proto UDP, length 128, checksum ",
		"port 49152 > 33434, length 108",
		"100 bytes",
	} {
		if i < len(summaries) && !strings.HasPrefix(summaries[i], want) {
			t.Errorf("output layer %d: %q, want %q", i, summaries[i], want)
		}
	}
	if len(summaries) > 3 && !strings.HasSuffix(summaries[3], "(ok)") {
		t.Errorf("output IPv4 checksum not valid: %q", summaries[3])
	}
	if resp.Input.Length != 142 || !strings.HasPrefix(resp.Input.Layers[0].Summary, "00:00:5e:00:53:01 > 02:00:00:00:00:0b") {
		t.Errorf("input frame %v", resp.Input)
	}

	// From the CE to the core: the infrastructure ACL.
	resp = trace(&api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "198.51.100.1", Protocol: "tcp", DstPort: 22})
	if resp.Verdict != "drop" || resp.Reason != "infra_acl" || resp.Output != nil {
		t.Errorf("CE to the core: verdict %q %q, output %v", resp.Verdict, resp.Reason, resp.Output)
	}
	if got := tables(resp.Steps); got != "port binding infra-acl" || !resp.Steps[2].Hit || resp.Steps[2].Prefix != "198.51.100.1" {
		t.Errorf("CE to the core: steps %v", resp.Steps)
	}
	// BGP from the CE peer goes to the kernel.
	resp = trace(&api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "198.51.100.1", Protocol: "tcp", DstPort: 179})
	if resp.Verdict != "kernel" || !strings.Contains(resp.Steps[2].GetSummary(), "BGP from the CE peer") {
		t.Errorf("BGP from the CE: verdict %q, steps %v", resp.Verdict, resp.Steps)
	}

	// A VPN packet from the core pops into VRF a and goes to the CE.
	resp = trace(&api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 1000, Ttl: proto.Uint32(9)}}, Src: "192.0.2.200", Dst: "192.0.2.3", Ttl: proto.Uint32(20), Protocol: "icmp"})
	if resp.Verdict != "forward" || resp.EgressInterface != "ce-a" || resp.EgressPort != 1 {
		t.Errorf("core to CE: verdict %q out %q", resp.Verdict, resp.EgressInterface)
	}
	if got := tables(resp.Steps); got != "port label route" {
		t.Errorf("core to CE: steps %s", got)
	} else {
		same(t, "label step", resp.Steps[1], &api.TraceStep{Table: "label", Hit: true, Label: 1000, Operation: "pop-to-vrf", Vrf: "a", Summary: "label 1000: pop, IP lookup in VRF a"})
		same(t, "route step", resp.Steps[2], &api.TraceStep{Table: "route", Hit: true, Vrf: "a", Prefix: "192.0.2.0/25",
			Paths:   []*api.Path{{Interface: "ce-a", Port: 1, Mac: ceMAC, Via: "192.0.2.2"}},
			Summary: "VRF a: 192.0.2.0/25 out ce-a to 192.0.2.2 (" + ceMAC + ")"})
	}
	if got := mplsLabels(t, resp.Output); got != "" {
		t.Errorf("core to CE: labels left %s", got)
	}
	if l := resp.GetOutput().GetLayers(); len(l) < 3 || l[0].Summary != "02:00:00:00:00:0b > "+ceMAC+", type 0x0800 (IPv4)" ||
		!strings.HasPrefix(l[1].Summary, "192.0.2.200 > 192.0.2.3, ttl 19, ") || l[2].Name != "ICMPv4" {
		t.Errorf("core to CE: output %v", resp.Output)
	}

	// Through the transit swap, and a label nobody installed.
	resp = trace(&api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 3001}, {Label: 2000}}, Src: "192.0.2.200", Dst: "192.0.2.3"})
	if resp.Verdict != "forward" || tables(resp.Steps) != "port label" || resp.Steps[1].Operation != "swap" || mplsLabels(t, resp.Output) != "3002/0/63 2000/1/64" {
		t.Errorf("transit swap: %v %v, output %s", resp.Verdict, resp.Steps, mplsLabels(t, resp.Output))
	}
	resp = trace(&api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 4444}}, Src: "192.0.2.200", Dst: "192.0.2.3"})
	if resp.Verdict != "drop" || resp.Reason != "no_label" || resp.Steps[1].Hit {
		t.Errorf("unknown label: %v", resp)
	}

	// A labelled frame from a CE, on a VLAN of the trunk.
	resp = trace(&api.TraceRequest{Interface: "trunk0", Vlan: 100, Labels: []*api.TraceLabel{{Label: 1000}}, Src: "192.0.2.2", Dst: "192.0.2.200"})
	if resp.Verdict != "drop" || resp.Reason != "label_spoof" || tables(resp.Steps) != "port ethertype" {
		t.Errorf("labelled frame from a CE: %v %v, steps %s", resp.Verdict, resp.Reason, tables(resp.Steps))
	}
	if l := resp.Input.Layers; len(l) < 3 || l[1].Name != "Dot1Q" || !strings.HasPrefix(l[1].Summary, "VLAN 100,") || l[2].Name != "MPLS" {
		t.Errorf("labelled frame from a CE: input %v", resp.Input)
	}

	// IPv6 on a VLAN bound to no VRF.
	resp = trace(&api.TraceRequest{Interface: "trunk0", Vlan: 300, Src: "2001:db8::1", Dst: "2001:db8::2", Protocol: "icmp"})
	if resp.Verdict != "drop" || resp.Reason != "no_vrf" || tables(resp.Steps) != "port binding" || resp.Steps[1].Hit {
		t.Errorf("unbound VLAN: %v", resp)
	}
	// A route lookup that misses.
	resp = trace(&api.TraceRequest{Interface: "trunk0", Vlan: 200, Src: "192.0.2.1", Dst: "10.0.0.1"})
	if resp.Verdict != "drop" || resp.Reason != "no_route" || tables(resp.Steps) != "port binding infra-acl route" || resp.Steps[3].Hit {
		t.Errorf("no route: %v", resp)
	}

	for _, tc := range []struct {
		name string
		req  *api.TraceRequest
		msg  string
	}{
		{"unknown interface", &api.TraceRequest{Interface: "eth9", Src: "192.0.2.2", Dst: "192.0.2.200"}, `no interface "eth9"`},
		{"no interface", &api.TraceRequest{Src: "192.0.2.2", Dst: "192.0.2.200"}, "no ingress interface"},
		{"two families", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "2001:db8::1"}, "different families"},
		{"no destination", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2"}, "no destination address"},
		{"bad source", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2", Dst: "192.0.2.200"}, "source"},
		{"protocol", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", Protocol: "sctp"}, `protocol "sctp"`},
		{"ports with icmp", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", Protocol: "icmp", DstPort: 7}, "ports are for udp and tcp"},
		{"port", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", DstPort: 70000}, "destination port 70000 out of range"},
		{"TTL", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", Ttl: proto.Uint32(256)}, "TTL 256 out of range"},
		{"VLAN", &api.TraceRequest{Interface: "ce-a", Vlan: 4095, Src: "192.0.2.2", Dst: "192.0.2.200"}, "VLAN 4095 out of range"},
		{"label", &api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 1 << 20}}, Src: "192.0.2.2", Dst: "192.0.2.200"}, "out of range"},
		{"label TC", &api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 20, Tc: 8}}, Src: "192.0.2.2", Dst: "192.0.2.200"}, "TC 8 out of range"},
		{"payload", &api.TraceRequest{Interface: "ce-a", Src: "192.0.2.2", Dst: "192.0.2.200", PayloadLength: 1 << 20}, "payload length"},
	} {
		_, err := cl.Trace(ctx(t), tc.req)
		wantCode(t, "Trace with a bad "+tc.name, err, codes.InvalidArgument, tc.msg)
	}

	// None of this counted in the router's counters.
	if st := srv.Backend.C.Router().Stats(); *st != (dataplane.Stats{}) {
		t.Errorf("tracing changed the router's counters: %+v", st.Ports[:3])
	}
}

// TestTraceDuringChanges traces while label entries come and go: a trace must neither
// block a change nor wait for one forever.
func TestTraceDuringChanges(t *testing.T) {
	srv := apitest.Start(t)
	cl := srv.Dial(t)
	entry := &api.LabelEntry{Label: 5000, Operation: "swap", Paths: []*api.Path{{Labels: []uint32{5001}, Interface: "core0", Via: "198.51.100.9"}}}
	done := make(chan error, 1)
	go func() {
		for range 50 {
			if _, err := cl.AddLabels(ctx(t), &api.AddLabelsRequest{Labels: []*api.LabelEntry{entry}}); err != nil {
				done <- err
				return
			}
			if _, err := cl.DeleteLabels(ctx(t), &api.DeleteLabelsRequest{Labels: []uint32{5000}}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 100 {
		resp, err := cl.Trace(ctx(t), &api.TraceRequest{Interface: "core0", Labels: []*api.TraceLabel{{Label: 5000}, {Label: 1000}}, Src: "192.0.2.200", Dst: "192.0.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		// The pipeline's verdict and the label step agree on whether 5000 was there.
		if found := resp.Steps[1].Hit; found != (resp.Verdict == "forward") {
			t.Errorf("label 5000 found %v, verdict %s %s", found, resp.Verdict, resp.Reason)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

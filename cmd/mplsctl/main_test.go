// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mplsdp/mplsdp/control/api"
	"github.com/mplsdp/mplsdp/control/api/apitest"
	"github.com/mplsdp/mplsdp/dataplane"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mplsctl runs a command line against the server and returns its output.
func mplsctl(t *testing.T, srv *apitest.Server, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"--socket", srv.Socket}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func ok(t *testing.T, srv *apitest.Server, args ...string) string {
	t.Helper()
	out, errOut, code := mplsctl(t, srv, args...)
	if code != 0 {
		t.Fatalf("mplsctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s: output differs from %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func started(t *testing.T) *apitest.Server {
	srv := apitest.Start(t)
	st := new(dataplane.Stats)
	st.Ports[0].RxPackets, st.Ports[0].RxBytes, st.Ports[0].TxPackets, st.Ports[0].TxBytes = 10, 1000, 9, 900
	st.Ports[0].Drops[dataplane.ReasonNoLabel] = 3
	st.Ports[2].Drops[dataplane.ReasonInfraACL] = 2
	srv.Backend.SetStats(st)
	return srv
}

func TestShow(t *testing.T) {
	srv := started(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"forwarding-table", []string{"show", "mpls", "forwarding-table"}},
		{"vrf", []string{"show", "vrf"}},
		{"ip-route-vrf-a", []string{"show", "ip", "route", "vrf", "a"}},
		{"interfaces", []string{"show", "interfaces"}},
		{"drops", []string{"show", "drops"}},
		{"unresolved", []string{"show", "unresolved"}},
	} {
		golden(t, tc.golden, ok(t, srv, tc.args...))
	}
}

func TestJSON(t *testing.T) {
	srv := started(t)
	out := ok(t, srv, "-o", "json", "show", "mpls", "forwarding-table")
	var labels api.ListLabelsResponse
	if err := protojson.Unmarshal([]byte(out), &labels); err != nil {
		t.Fatalf("forwarding-table JSON: %v\n%s", err, out)
	}
	if len(labels.Labels) != 4 || len(labels.Tunnels) != 1 || labels.Tunnels[0].Fec != "203.0.113.2/32" {
		t.Errorf("forwarding-table JSON: %v", &labels)
	}
	for _, args := range [][]string{
		{"show", "vrf"}, {"show", "ip", "route", "vrf", "b"}, {"show", "interfaces"}, {"show", "drops"}, {"show", "unresolved"},
	} {
		out := ok(t, srv, append([]string{"-o", "json"}, args...)...)
		if !json.Valid([]byte(out)) {
			t.Errorf("%s: not JSON:\n%s", strings.Join(args, " "), out)
		}
	}
}

func TestAddDelete(t *testing.T) {
	srv := started(t)
	out := ok(t, srv, "add", "route", "vrf", "a", "203.0.113.128/25", "remote-pe", "203.0.113.2", "vpn-label", "2002")
	if !strings.HasPrefix(out, "done: in the forwarding tables in ") {
		t.Errorf("add: %q", out)
	}
	ok(t, srv, "add", "route", "vrf", "b", "198.51.100.0/25", "via", "192.0.2.2", "interface", "trunk0", "vlan", "200")
	routes := ok(t, srv, "show", "ip", "route", "vrf", "a")
	if !strings.Contains(routes, "203.0.113.128/25  203.0.113.2  tunnel 1   2002       -                  api     installed") {
		t.Errorf("the added route is not listed as the API's:\n%s", routes)
	}
	out = ok(t, srv, "-o", "json", "del", "route", "vrf", "a", "203.0.113.128/25")
	var resp api.ChangeResponse
	if err := protojson.Unmarshal([]byte(out), &resp); err != nil || resp.Generation == 0 {
		t.Errorf("del -o json: %q, %v", out, err)
	}
	if routes := ok(t, srv, "show", "ip", "route", "vrf", "a"); strings.Contains(routes, "203.0.113.128/25") {
		t.Errorf("deleted route still listed:\n%s", routes)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"add", "route", "vrf", "a", "198.51.100.0/24", "remote-pe", "203.0.113.2", "vpn-label", "7"}, "VPN label 7 out of range 16..1048575; nothing changed (InvalidArgument)"},
		{[]string{"add", "route", "vrf", "a", "198.51.100.0/24", "remote-pe"}, `"remote-pe" needs a value`},
		{[]string{"add", "route", "vrf", "a", "198.51.100.0/24", "nexthop", "x"}, `unknown keyword "nexthop"`},
		{[]string{"del", "route", "vrf", "a", "192.0.2.0/25"}, "belongs to the configuration"},
		{[]string{"show", "ip", "route", "a"}, "usage: show ip route vrf NAME"},
		{[]string{"show", "ip", "route", "vrf", "zz"}, `no VRF "zz" (NotFound)`},
		{[]string{"-o", "yaml", "show", "vrf"}, `output "yaml": want table or json`},
	} {
		_, errOut, code := mplsctl(t, srv, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("mplsctl %s: exit %d, %q; want an error with %q", strings.Join(tc.args, " "), code, errOut, tc.msg)
		}
	}
}

func TestNoDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--socket", sock, "show", "vrf"}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "is mplsdp running? no socket at "+sock) {
		t.Errorf("without a daemon: exit %d, %q", code, errOut.String())
	}
	// A socket file nobody listens on.
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"--socket", sock, "show", "vrf"}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "is mplsdp running? cannot connect to "+sock) {
		t.Errorf("with a dead socket: exit %d, %q", code, errOut.String())
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatch(t *testing.T) {
	srv := started(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"--socket", srv.Socket, "-o", "json", "watch"}, &out, &errOut) }()

	// Change the tables until the watcher reports a change (it may subscribe late).
	deadline := time.Now().Add(10 * time.Second)
	for add := true; !strings.Contains(out.String(), `"owner":"OWNER_API"`); add = !add {
		if time.Now().After(deadline) {
			t.Fatalf("no event from watch within 10s; stdout %q, stderr %q", out.String(), errOut.String())
		}
		if add {
			ok(t, srv, "add", "route", "vrf", "a", "203.0.113.128/25", "remote-pe", "203.0.113.2", "vpn-label", "2002")
		} else {
			ok(t, srv, "del", "route", "vrf", "a", "203.0.113.128/25")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("watch exited %d after the interrupt: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop after the interrupt")
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	var ev api.Event
	if err := protojson.Unmarshal([]byte(line), &ev); err != nil || ev.Generation == 0 {
		t.Errorf("watch line %q: %v", line, err)
	}
}

func TestLabels(t *testing.T) {
	srv := started(t)
	out := ok(t, srv, "add", "label", "5000", "swap", "5001,5002", "via", "198.51.100.9", "interface", "core0")
	if !strings.HasPrefix(out, "done: in the forwarding tables in ") {
		t.Errorf("add label: %q", out)
	}
	out = ok(t, srv, "-o", "json", "add", "label", "5003", "pop", "via", "198.51.100.9", "interface", "core0", "mac", "02:0a:00:00:00:01")
	var resp api.ChangeResponse
	if err := protojson.Unmarshal([]byte(out), &resp); err != nil || resp.Generation == 0 {
		t.Errorf("add label -o json: %q, %v", out, err)
	}
	golden(t, "forwarding-table-api", ok(t, srv, "show", "mpls", "forwarding-table"))
	out = ok(t, srv, "-o", "json", "show", "mpls", "forwarding-table")
	var labels api.ListLabelsResponse
	if err := protojson.Unmarshal([]byte(out), &labels); err != nil {
		t.Fatal(err)
	}
	owners := map[uint32]api.Owner{}
	for _, e := range labels.Labels {
		owners[e.Label] = e.Owner
	}
	if owners[5000] != api.Owner_OWNER_API || owners[5003] != api.Owner_OWNER_API || owners[3001] != api.Owner_OWNER_CONFIG || owners[1000] != api.Owner_OWNER_CONFIG {
		t.Errorf("owners in forwarding-table JSON: %v", owners)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"add", "label", "3001", "pop", "via", "198.51.100.9", "interface", "core0"}, "the configuration uses the label (an LSP's in-label); pick another or change the configuration file; nothing changed (FailedPrecondition)"},
		{[]string{"add", "label", "6000", "swap", "via", "198.51.100.9", "interface", "core0"}, `label "via": want a number`},
		{[]string{"add", "label", "6000", "swap"}, "swap needs the outgoing labels"},
		{[]string{"add", "label", "6000", "push", "6001"}, `"push": want swap or pop`},
		{[]string{"add", "label", "6000", "pop", "via", "198.51.100.9", "interface", "eth9"}, `no interface "eth9" in the configuration; nothing changed (InvalidArgument)`},
		{[]string{"add", "label", "6000", "pop", "via", "198.51.100.9", "vlan", "3"}, `unknown keyword "vlan"`},
		{[]string{"add", "label", "x", "pop"}, `label "x": want a number`},
		{[]string{"del", "label", "3001"}, "belongs to the configuration"},
		{[]string{"del", "label", "7777"}, "no such label entry from the API; nothing changed (NotFound)"},
		{[]string{"del", "label"}, "usage: del label IN"},
	} {
		_, errOut, code := mplsctl(t, srv, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("mplsctl %s: exit %d, %q; want an error with %q", strings.Join(tc.args, " "), code, errOut, tc.msg)
		}
	}

	ok(t, srv, "del", "label", "5000", "5003")
	golden(t, "forwarding-table", ok(t, srv, "show", "mpls", "forwarding-table"))
}

func TestTrace(t *testing.T) {
	srv := started(t)
	golden(t, "trace-ce-remote", ok(t, srv, "trace", "interface", "ce-a", "src", "192.0.2.2", "dst", "192.0.2.200", "tos", "160", "length", "20"))
	golden(t, "trace-infra-acl", ok(t, srv, "trace", "interface", "trunk0", "vlan", "100", "src", "192.0.2.2", "dst", "198.51.100.1", "proto", "tcp", "dport", "22"))
	golden(t, "trace-core-vrf", ok(t, srv, "trace", "interface", "core0", "label", "1000", "src", "192.0.2.200", "dst", "192.0.2.3", "proto", "icmp", "ttl", "9"))

	out := ok(t, srv, "-o", "json", "trace", "interface", "ce-a", "label", "1000", "src", "192.0.2.2", "dst", "192.0.2.200")
	var resp api.TraceResponse
	if err := protojson.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("trace JSON: %v\n%s", err, out)
	}
	if resp.Verdict != "drop" || resp.Reason != "label_spoof" {
		t.Errorf("trace JSON: %v", &resp)
	}

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"trace", "interface", "ce-a", "src", "192.0.2.2"}, "interface, src and dst are needed"},
		{[]string{"trace", "interface", "eth9", "src", "192.0.2.2", "dst", "192.0.2.200"}, `trace: no interface "eth9" (see show interfaces) (InvalidArgument)`},
		{[]string{"trace", "interface", "ce-a", "src", "192.0.2.2", "dst", "192.0.2.200", "ttl", "300"}, `ttl "300": want a number 0..255`},
		{[]string{"trace", "interface", "ce-a", "src", "192.0.2.2", "dst", "192.0.2.200", "label", "1,x"}, `label "x"`},
		{[]string{"trace", "interface", "ce-a", "src", "192.0.2.2", "dst", "192.0.2.200", "proto"}, `"proto" needs a value`},
		{[]string{"trace", "interface", "ce-a", "src", "192.0.2.2", "dst", "2001:db8::1"}, "different families"},
	} {
		_, errOut, code := mplsctl(t, srv, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("mplsctl %s: exit %d, %q; want an error with %q", strings.Join(tc.args, " "), code, errOut, tc.msg)
		}
	}
}

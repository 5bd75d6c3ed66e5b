// SPDX-License-Identifier: Apache-2.0

package api_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mplsdp/mplsdp/control/api"
	"github.com/mplsdp/mplsdp/control/api/apitest"
)

// byteBackend is a backend whose engine counts bytes per label and tunnel.
type byteBackend struct {
	*apitest.Backend
	fail bool
}

func (b *byteBackend) SwitchedBytes(labels, tunnels []uint32) (map[uint32]uint64, map[uint32]uint64, error) {
	if b.fail {
		return nil, nil, errors.New("engine gone")
	}
	bl, bt := map[uint32]uint64{}, map[uint32]uint64{}
	for _, l := range labels {
		bl[l] = uint64(l) * 10
	}
	for _, id := range tunnels {
		bt[id] = uint64(id) * 7
	}
	return bl, bt, nil
}

// TestListLabelsBytes: with an engine that counts, every label and tunnel carries its
// bytes; without one (or when reading fails), none does.
func TestListLabelsBytes(t *testing.T) {
	base := apitest.Start(t) // only for its configured controller
	for _, tc := range []struct {
		name string
		b    api.Backend
		want bool
	}{
		{"counting engine", &byteBackend{Backend: base.Backend}, true},
		{"failing engine", &byteBackend{Backend: base.Backend, fail: true}, false},
		{"engine without counters", base.Backend, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "api.sock")
			ln, err := api.ListenUnix(sock)
			if err != nil {
				t.Fatal(err)
			}
			srv := api.NewServer(tc.b)
			go srv.Serve(ln) //nolint:errcheck // stopped below
			defer srv.Stop()
			rc := (&apitest.Server{Socket: sock}).Dial(t)
			resp, err := rc.ListLabels(context.Background(), &api.ListLabelsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetLabels()) == 0 || len(resp.GetTunnels()) == 0 {
				t.Fatalf("fixture has no labels or tunnels: %v", resp)
			}
			for _, l := range resp.GetLabels() {
				if (l.Bytes != nil) != tc.want || (tc.want && l.GetBytes() != uint64(l.GetLabel())*10) {
					t.Errorf("label %d bytes %v", l.GetLabel(), l.Bytes)
				}
			}
			for _, tu := range resp.GetTunnels() {
				if (tu.Bytes != nil) != tc.want || (tc.want && tu.GetBytes() != uint64(tu.GetId())*7) {
					t.Errorf("tunnel %d bytes %v", tu.GetId(), tu.Bytes)
				}
			}
		})
	}
}

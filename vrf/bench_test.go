// SPDX-License-Identifier: Apache-2.0

package vrf

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mplsdp/mplsdp/lfib"
)

// benchVRF is the VRF id the benchmark tables use.
const benchVRF ID = 1

// benchTables caches built tables by route count, so the 1M table is built once per run.
var benchTables sync.Map // int -> *Table

// benchTable returns a Table whose VRF benchVRF holds n random IPv4 (/8../32) or IPv6
// (/16../64, v6 true) routes, loaded in one Update, built with a fixed seed.
func benchTable(b *testing.B, n int, v6 bool) *Table {
	key := n
	if v6 {
		key = -n
	}
	if t, ok := benchTables.Load(key); ok {
		return t.(*Table)
	}
	r := rand.New(rand.NewPCG(uint64(n), 42))
	tb := New()
	start := time.Now()
	err := tb.Update(func(tx *Txn) error {
		if _, err := tx.AddVRF(Config{Name: "bench", ID: benchVRF}); err != nil {
			return err
		}
		for range n {
			p := randPrefix(r, 32, 8, 32)
			if v6 {
				p = randPrefix(r, 128, 16, 64)
			}
			if err := tx.AddRoute(benchVRF, p, benchNextHop(r)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if n >= 100000 {
		b.Logf("loaded %d routes in one update in %v", n, time.Since(start).Round(time.Millisecond))
	}
	benchTables.Store(key, tb)
	return tb
}

func benchNextHop(r *rand.Rand) NextHop {
	if r.IntN(2) == 0 {
		return local(uint16(r.IntN(16)))
	}
	return remote(1+r.Uint32N(64), lfib.MinDynamicLabel+lfib.Label(r.IntN(100000)))
}

// benchAddrs4 returns n random IPv4 destinations.
func benchAddrs4(n int) [][4]byte {
	r := rand.New(rand.NewPCG(1, 2))
	a := make([][4]byte, n)
	for i := range a {
		a[i] = [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	}
	return a
}

const benchAddrCount = 1 << 16 // power of two: index with a mask

func BenchmarkLookup4(b *testing.B) {
	for _, n := range []struct {
		name   string
		routes int
	}{{"routes=1k", 1000}, {"routes=1M", 1000000}} {
		b.Run(n.name, func(b *testing.B) {
			s := benchTable(b, n.routes, false).Load()
			addrs := benchAddrs4(benchAddrCount)
			hits := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, ok := s.Lookup4(benchVRF, addrs[i&(benchAddrCount-1)]); ok {
					hits++
				}
			}
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
}

func BenchmarkLookup6(b *testing.B) {
	b.Run("routes=1k", func(b *testing.B) {
		tb := benchTable(b, 1000, true)
		s := tb.Load()
		// Half the destinations inside a route, half random.
		r := rand.New(rand.NewPCG(3, 4))
		var ps []netip.Prefix
		for p := range s.Routes(benchVRF) {
			ps = append(ps, p)
		}
		addrs := make([][16]byte, benchAddrCount)
		for i := range addrs {
			addrs[i] = randAddrNear(r, ps, 128).As16()
		}
		hits := 0
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, ok := s.Lookup6(benchVRF, addrs[i&(benchAddrCount-1)]); ok {
				hits++
			}
		}
		b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	})
}

func BenchmarkByBinding(b *testing.B) {
	tb := New()
	mustUpdate(b, tb, func(tx *Txn) error {
		id, err := tx.AddVRF(Config{Name: "red"})
		if err != nil {
			return err
		}
		for p := range uint16(8) {
			if err := tx.Bind(Binding{Port: p, VRF: id}); err != nil {
				return err
			}
			for v := uint16(1); v <= 100; v++ {
				if err := tx.Bind(Binding{Port: p, VLAN: v, VRF: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s := tb.Load()
	r := rand.New(rand.NewPCG(5, 6))
	type key struct{ port, vlan uint16 }
	keys := make([]key, benchAddrCount)
	for i := range keys {
		keys[i] = key{uint16(r.IntN(8)), uint16(r.IntN(101))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := keys[i&(benchAddrCount-1)]
		sinkID, sinkOK = s.ByBinding(k.port, k.vlan)
	}
}

// BenchmarkLookup4Churn measures Lookup4 on the 1M-route table: quiet; while a writer
// goroutine publishes updates (each adding 10 routes and deleting 10) as fast as it can
// ("churn"); and while it publishes 100 such updates a second ("churn-paced", 2000 route
// changes a second, a busy PE). The churn cases report the updates published.
//
// With the writer flat out on this 2-core box, readers slow down mostly because of the
// garbage collector: each copy-on-write change leaves about 20 KB of trie nodes behind,
// so the collector runs nearly all the time over a 100 MB heap (with GOGC=off the churn
// case reads as fast as the quiet one).
func BenchmarkLookup4Churn(b *testing.B) {
	base := benchTable(b, 1000000, false).Load()
	addrs := benchAddrs4(benchAddrCount)
	for _, mode := range []struct {
		name  string
		pause time.Duration // between updates; <0 = no writer
	}{{"quiet", -1}, {"churn", 0}, {"churn-paced", 10 * time.Millisecond}} {
		churn := mode.pause >= 0
		b.Run(mode.name, func(b *testing.B) {
			// A table of its own that starts from the shared (immutable) 1M snapshot.
			tb := new(Table)
			tb.cur.Store(base)
			var stop atomic.Bool
			var updates atomic.Int64
			var wg sync.WaitGroup
			if churn {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(8, 9))
					var added []netip.Prefix
					for !stop.Load() {
						err := tb.Update(func(tx *Txn) error {
							for range 10 {
								p := randPrefix(r, 32, 8, 32)
								added = append(added, p)
								if err := tx.AddRoute(benchVRF, p, benchNextHop(r)); err != nil {
									return err
								}
							}
							for range 10 {
								if len(added) == 0 {
									break
								}
								p := added[len(added)-1]
								added = added[:len(added)-1]
								if _, ok := tx.Snapshot().Route(benchVRF, p); ok {
									if err := tx.DeleteRoute(benchVRF, p); err != nil {
										return err
									}
								}
							}
							return nil
						})
						if err != nil {
							b.Error(err)
							return
						}
						updates.Add(1)
						time.Sleep(mode.pause)
					}
				})
			}
			hits := 0
			b.ReportAllocs()
			b.ResetTimer()
			var s *Snapshot
			for i := 0; b.Loop(); i++ {
				if i&63 == 0 { // a reader loads the snapshot once per batch of packets
					s = tb.Load()
				}
				if _, ok := s.Lookup4(benchVRF, addrs[i&(benchAddrCount-1)]); ok {
					hits++
				}
			}
			b.StopTimer()
			stop.Store(true)
			wg.Wait()
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
			if churn {
				b.ReportMetric(float64(updates.Load())/b.Elapsed().Seconds(), "updates/s")
			}
		})
	}
}

// BenchmarkUpdate measures one small Update (one route added, then removed) against the
// 1M-route table: the copy-on-write path.
func BenchmarkUpdate(b *testing.B) {
	tb := new(Table)
	tb.cur.Store(benchTable(b, 1000000, false).Load())
	p := pfx("203.0.113.0/24")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		err := tb.Update(func(tx *Txn) error {
			if i%2 == 0 {
				return tx.AddRoute(benchVRF, p, local(1))
			}
			return tx.DeleteRoute(benchVRF, p)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBulkLoad measures loading 100k IPv4 routes into a new VRF in one Update.
func BenchmarkBulkLoad(b *testing.B) {
	const n = 100000
	r := rand.New(rand.NewPCG(10, 11))
	ps := make([]netip.Prefix, n)
	for i := range ps {
		ps[i] = randPrefix(r, 32, 8, 32)
	}
	b.ReportAllocs()
	for b.Loop() {
		tb := New()
		mustUpdate(b, tb, func(tx *Txn) error {
			id, err := tx.AddVRF(Config{Name: "bulk"})
			if err != nil {
				return err
			}
			for _, p := range ps {
				if err := tx.AddRoute(id, p, local(1)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
}

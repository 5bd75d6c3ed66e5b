// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// batchSize bounds the elements of one BPF_MAP_*_BATCH call.
const batchSize = 4096

// table is one BPF map and the shadow of what the engine has written into it. Only
// the goroutine holding Engine.mu touches it.
type table[K, V comparable] struct {
	name  string
	m     *ebpf.Map
	batch bool           // try batch operations (hash maps; turned off on ErrNotSupported)
	array bool           // an array map: every key exists, "deleted" is the zero value
	have  map[K]V        // what the map holds, as far as the engine knows
	str   func(K) string // names a key in errors
}

func newTable[K, V comparable](name string, m *ebpf.Map, batch bool, str func(K) string) *table[K, V] {
	return &table[K, V]{name: name, m: m, batch: batch, array: m.Type() == ebpf.Array, have: make(map[K]V), str: str}
}

// load reads the map's current contents into the shadow (for maps reused from pins).
func (t *table[K, V]) load() error {
	clear(t.have)
	var (
		k K
		v V
	)
	var zero V
	it := t.m.Iterate()
	for it.Next(&k, &v) {
		if !t.array || v != zero {
			t.have[k] = v
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read map %s: %w", t.name, err)
	}
	return nil
}

// diff collects the desired state of one table during a Sync: the elements to write
// (new or changed) and the keys seen, so that the rest can be deleted afterwards.
type diff[K, V comparable] struct {
	t    *table[K, V]
	seen map[K]struct{}
	keys []K
	vals []V
}

func (t *table[K, V]) diff() *diff[K, V] {
	return &diff[K, V]{t: t, seen: make(map[K]struct{}, len(t.have))}
}

// want records that the map must hold k -> v. A key wanted twice is an error: two
// sources claim one element (two ports with one ifindex, say).
func (d *diff[K, V]) want(k K, v V) error {
	if _, dup := d.seen[k]; dup {
		return fmt.Errorf("%s %s: wanted twice", d.t.name, d.t.str(k))
	}
	d.seen[k] = struct{}{}
	if old, ok := d.t.have[k]; ok && old == v {
		return nil
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// put writes the new and changed elements.
func (d *diff[K, V]) put() error {
	t := d.t
	keys, vals := d.keys, d.vals
	for t.batch && len(keys) > 1 {
		n := min(len(keys), batchSize)
		done, err := t.m.BatchUpdate(keys[:n], vals[:n], nil)
		done = max(0, min(done, n))
		if err != nil && done == n {
			done = 0 // the count cannot be trusted: redo the chunk one by one
		}
		for i := range done {
			t.have[keys[i]] = vals[i]
		}
		keys, vals = keys[done:], vals[done:]
		if err != nil {
			if errors.Is(err, ebpf.ErrNotSupported) {
				t.batch = false
			}
			break // the rest one by one, which names the failing element
		}
	}
	for i, k := range keys {
		if err := t.m.Update(k, vals[i], ebpf.UpdateAny); err != nil {
			return fmt.Errorf("%s %s: %w", t.name, t.str(k), err)
		}
		t.have[k] = vals[i]
	}
	d.keys, d.vals = nil, nil
	return nil
}

// prune deletes the elements the map holds that were not wanted.
func (d *diff[K, V]) prune() error {
	t := d.t
	var keys []K
	for k := range t.have {
		if _, ok := d.seen[k]; !ok {
			keys = append(keys, k)
		}
	}
	if t.array {
		// Array elements cannot be deleted: zero them.
		var zero V
		for _, k := range keys {
			if err := t.m.Update(k, zero, ebpf.UpdateAny); err != nil {
				return fmt.Errorf("%s %s: %w", t.name, t.str(k), err)
			}
			delete(t.have, k)
		}
		return nil
	}
	for t.batch && len(keys) > 1 {
		n := min(len(keys), batchSize)
		done, err := t.m.BatchDelete(keys[:n], nil)
		done = max(0, min(done, n))
		if err != nil && done == n {
			done = 0
		}
		for _, k := range keys[:done] {
			delete(t.have, k)
		}
		keys = keys[done:]
		if err != nil {
			// ENOENT (deleted behind our back) stops a batch too; the single
			// deletes below ignore it.
			if errors.Is(err, ebpf.ErrNotSupported) {
				t.batch = false
			}
			break
		}
	}
	for _, k := range keys {
		if err := t.m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("%s %s: %w", t.name, t.str(k), err)
		}
		delete(t.have, k)
	}
	return nil
}

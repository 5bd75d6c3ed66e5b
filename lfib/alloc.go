// SPDX-License-Identifier: Apache-2.0

package lfib

import (
	"errors"
	"fmt"
	"sync"
)

// ErrExhausted is returned when the dynamic label range has no free label.
var ErrExhausted = errors.New("dynamic label range exhausted")

// Allocator hands out labels from the dynamic range, lowest never-used first, then
// released ones. It is safe for concurrent use.
type Allocator struct {
	mu    sync.Mutex
	next  Label
	freed []Label
	used  map[Label]struct{}
}

// NewAllocator returns an allocator over MinDynamicLabel..MaxLabel.
func NewAllocator() *Allocator {
	return &Allocator{next: MinDynamicLabel, used: make(map[Label]struct{})}
}

// Alloc returns a free dynamic label.
func (a *Allocator) Alloc() (Label, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var l Label
	switch {
	case len(a.freed) > 0:
		l = a.freed[len(a.freed)-1]
		a.freed = a.freed[:len(a.freed)-1]
	case a.next <= MaxLabel:
		l = a.next
		a.next++
	default:
		return 0, ErrExhausted
	}
	a.used[l] = struct{}{}
	return l, nil
}

// Free returns a label to the pool. Freeing a label that is not allocated is an error,
// so a double free in the control plane shows up instead of handing a label out twice.
func (a *Allocator) Free(l Label) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.used[l]; !ok {
		return fmt.Errorf("free label %s: not allocated", l)
	}
	delete(a.used, l)
	a.freed = append(a.freed, l)
	return nil
}

// InUse is the number of allocated labels.
func (a *Allocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.used)
}

// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package scenario

import (
	"context"
	"errors"
)

// Available reports whether Run can work here: never, off Linux.
func Available() (ok bool, reason string) {
	return false, "needs Linux (XDP, AF_XDP, network namespaces)"
}

// Run needs Linux.
func Run(context.Context, Options) (*Report, error) {
	return nil, errors.New("scenario: needs Linux (XDP, AF_XDP, network namespaces)")
}

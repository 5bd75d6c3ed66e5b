// SPDX-License-Identifier: Apache-2.0

package vectors

import (
	"fmt"

	"github.com/mplsdp/mplsdp/dataplane"
)

// Verdict is the verdict v expects, with port names resolved.
func (f *Fixture) Verdict(v Vector) (dataplane.Verdict, error) {
	a, err := dataplane.ParseAction(v.Verdict)
	if err != nil {
		return dataplane.Verdict{}, fmt.Errorf("vector %s: %w", v.Name, err)
	}
	want := dataplane.Verdict{Action: a}
	switch a {
	case dataplane.ActionDrop:
		if want.Reason, err = dataplane.ParseReason(v.Reason); err != nil {
			return want, fmt.Errorf("vector %s: %w", v.Name, err)
		}
	case dataplane.ActionForward:
		if want.Port, err = f.PortID(v.OutPort); err != nil {
			return want, fmt.Errorf("vector %s: %w", v.Name, err)
		}
	}
	return want, nil
}

// CountedOnce checks that one frame of inLen bytes on port in, given verdict v (and
// leaving with outLen bytes when forwarded), moved the counters from before to after
// exactly as the pipeline's rules say: rx on the ingress port, and the drop reason, the
// kernel counter or tx on the egress port.
func CountedOnce(before, after *dataplane.Stats, in uint16, v dataplane.Verdict, inLen, outLen int) error {
	b, a := &before.Ports[in], &after.Ports[in]
	if a.RxPackets-b.RxPackets != 1 || a.RxBytes-b.RxBytes != uint64(inLen) {
		return fmt.Errorf("rx counters moved by %d packets, %d bytes; want 1, %d", a.RxPackets-b.RxPackets, a.RxBytes-b.RxBytes, inLen)
	}
	switch v.Action {
	case dataplane.ActionDrop:
		if d := a.Drops[v.Reason] - b.Drops[v.Reason]; d != 1 {
			return fmt.Errorf("drops[%v] moved by %d", v.Reason, d)
		}
	case dataplane.ActionKernel:
		if d := a.Kernel - b.Kernel; d != 1 {
			return fmt.Errorf("kernel counter moved by %d", d)
		}
	case dataplane.ActionForward:
		o, ob := &after.Ports[v.Port], &before.Ports[v.Port]
		if o.TxPackets-ob.TxPackets != 1 || o.TxBytes-ob.TxBytes != uint64(outLen) {
			return fmt.Errorf("tx counters moved by %d packets, %d bytes; want 1, %d", o.TxPackets-ob.TxPackets, o.TxBytes-ob.TxBytes, outLen)
		}
	}
	return nil
}

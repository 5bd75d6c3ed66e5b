// SPDX-License-Identifier: Apache-2.0

package traffic

import (
	"errors"
	"fmt"

	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

// SetFrames replaces what the generator sends: UMEM frame i now holds frames[i %
// len(frames)], so a run cycles through the frames (several flows, or destinations
// spread over a table) with no more work per frame than sending one. Every frame must
// have the same length; the frame size of a run is one knob, the flows another. It is
// called between Stop and Start, when every frame is back from the kernel.
func (g *Generator) SetFrames(frames [][]byte) error {
	if g.running {
		return errors.New("traffic: SetFrames while the generator runs")
	}
	if len(frames) == 0 {
		return errors.New("traffic: SetFrames: no frame")
	}
	n := len(frames[0])
	if n < 14 || n > xsk.DefaultFrameSize {
		return fmt.Errorf("traffic: frame of %d bytes: want 14 to %d", n, xsk.DefaultFrameSize)
	}
	for i, f := range frames {
		if len(f) != n {
			return fmt.Errorf("traffic: SetFrames: frame %d has %d bytes, frame 0 %d: all must be the same length", i, len(f), n)
		}
	}
	if len(g.free) != cap(g.free) {
		// Frames the kernel has not handed back may still be read (copy mode copies
		// at transmit time): rewriting them would change a frame in flight.
		return fmt.Errorf("traffic: SetFrames: %d frames still in the kernel's hands", cap(g.free)-len(g.free))
	}
	for i := range g.umem.NumFrames() {
		copy(g.umem.Frame(g.umem.FrameAddr(i)), frames[i%len(frames)])
	}
	g.frameLen = uint32(n)
	return nil
}

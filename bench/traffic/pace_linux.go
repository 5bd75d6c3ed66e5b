// SPDX-License-Identifier: Apache-2.0

package traffic

import (
	"encoding/binary"
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mplsdp/mplsdp/dataplane/xsk"
)

// PaceBurst is the most frames a paced generator posts at once: small, so that a
// burst fits a veth's queue and a paced rate is offered smoothly.
const PaceBurst = 32

// StartAt starts sending at pps frames per second on a goroutine of its own, locked
// to an OS thread: a token bucket, refilled at pps and at most a few bursts deep, from
// which the frames of each Transmit batch (at most PaceBurst) are taken. Stop stops it
// as it stops Start. A pps of 0 or less sends at full speed, as Start. A rate above
// what the generator reaches is offered as fast as it can.
func (g *Generator) StartAt(pps float64) {
	if pps <= 0 {
		g.Start()
		return
	}
	if g.running {
		return
	}
	g.running = true
	g.stop.Store(false)
	g.done = make(chan struct{})
	go g.runPaced(pps)
}

// SetTimestamps makes the paced sends (StartAt) write, right before each batch is
// handed to the kernel, the CLOCK_MONOTONIC time in nanoseconds (host byte order)
// into the last 8 bytes of every frame of the batch, for a timed ClassSink to read.
// Those bytes must be the frame's payload end: frames with no padding after their IP
// packet, so that any push or pop leaves them last. It is called between Stop and
// Start; frames keep a timestamp until SetFrames rewrites them.
func (g *Generator) SetTimestamps(on bool) error {
	if g.running {
		return errors.New("traffic: SetTimestamps while the generator runs")
	}
	if on && g.frameLen < 14+8 {
		return errors.New("traffic: SetTimestamps: frames too short for a timestamp")
	}
	g.stamp = on
	return nil
}

// monotonicNow is CLOCK_MONOTONIC in nanoseconds: bpf_ktime_get_ns's clock.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// paceSpin is the wait below which the paced loop spins rather than sleeps: a
// sleep's wake-up is late by tens of microseconds.
const paceSpin = 80 * time.Microsecond

func (g *Generator) runPaced(pps float64) {
	defer close(g.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	burst := min(g.batch, PaceBurst)
	depth := float64(4 * burst) // the bucket: credit beyond it is lost, not sent in a rush
	start := time.Now()
	var tokens float64 // frames due and not yet posted
	last := start
	for !g.stop.Load() {
		now := time.Now()
		if now.Sub(start) > g.maxRun {
			break
		}
		tokens = min(tokens+now.Sub(last).Seconds()*pps, depth)
		last = now
		g.reap()
		k := min(int(tokens), burst, len(g.free))
		if k == 0 {
			if len(g.free) == 0 {
				g.sock.Transmit(nil) // everything is in flight: kick the kernel
				continue
			}
			wait := time.Duration((1 - tokens) / pps * float64(time.Second))
			if wait > paceSpin {
				time.Sleep(wait - paceSpin/2)
			} else {
				runtime.Gosched()
			}
			continue
		}
		top := len(g.free) - 1
		for i := range k {
			g.descs[i] = xsk.Desc{Addr: g.free[top-i], Len: g.frameLen}
		}
		if g.stamp {
			ts := monotonicNow()
			for _, d := range g.descs[:k] {
				binary.NativeEndian.PutUint64(g.umem.Frame(d.Addr)[g.frameLen-8:g.frameLen], ts)
			}
		}
		n := g.sock.Transmit(g.descs[:k])
		g.free = g.free[:len(g.free)-n]
		tokens -= float64(n)
	}
	deadline := time.Now().Add(drainTimeout)
	for len(g.free) < cap(g.free) && time.Now().Before(deadline) {
		if g.reap() == 0 {
			g.sock.Transmit(nil)
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// SPDX-License-Identifier: Apache-2.0

// Package scenario is the method of mplsbench: the scenarios an operator compares
// routers by, the baselines they are measured next to, and the way a figure is taken.
//
// # Topology
//
// Every run builds gen ─veth─ dut ─veth─ sink in three network namespaces named with a
// per-run prefix (bench/topo), and removes them when it ends, also on error or when its
// context is cancelled. The generator is an AF_XDP socket on gen's eth0
// (bench/traffic); the sink an XDP program on sink's eth0 that counts IPv4 frames, MPLS
// frames and MPLS frames by top label, and drops them. The dut holds a two-port router
// (in0 toward the generator, out0 toward the sink) built like bench/benchrouter, whose
// port roles depend on the scenario, run by the XDP engine or the AF_XDP engine.
//
// # Scenarios and baselines
//
// Scenarios (RFC 5695's MPLS forwarding cases): P swap, P penultimate-hop pop, PE
// ingress push from a VRF of 1k and of 1M routes (destinations spread over the routes),
// PE egress pop-to-VRF. Each on each engine is a Case; its frames carry Flows distinct
// 5-tuples, and only the frames the scenario should produce count at the sink (a swap's
// new label, the pushed transport label, IPv4 out of a pop-to-VRF).
//
// Baselines forward IPv4 frames of the same size on the same veths: the kernel's own
// IPv4 forwarding (what a host has without mplsdp), an XDP program that only redirects
// in0 to out0 through a devmap (the XDP ceiling), and the AF_XDP engine's bare
// forwarder (the AF_XDP ceiling). XDP cases are paired with the kernel and the XDP
// ceiling, AF_XDP cases with the kernel and the bare forwarder.
//
// # Method
//
// A measurement is the maximum received rate under overload: the generator sends at
// full speed for Warmup+Window, the rate is the expected frames the sink counted over
// the window, the loss what was sent in the whole burst and not received as expected.
// Frame sizes are RFC 2544's, FCS included (the veth carries 4 bytes fewer). In each
// repetition a case and its baselines run back to back (the order alternating between
// repetitions); a ratio is taken within a repetition, then the median over the
// repetitions, so that a noisy machine moves both sides of a ratio alike.
//
// Beside that figure, with Options.ZeroLossIters, is the zero-loss throughput: RFC
// 2544's binary search on the offered rate, the generator paced by a token bucket
// (traffic Generator.StartAt), once per case and size, the case alone. It starts at the
// maximum received rate and passes a step that loses at most ZeroLossPct of the frames.
// On a shared 2-core VM it is unstable (a veth's small queue and idle-CPU wake-up
// delays lose frames at low rates), so the paired ratio stays the headline.
//
// With Options.Latency, each case and size (and each baseline, once per size and NAPI
// mode) is also timed: the generator paced at Options.LatencyFraction (10%) of the
// row's maximum received rate, it writes the CLOCK_MONOTONIC time into the last 8 bytes
// of each frame right before its burst goes to the socket (test frames carry no padding,
// so those bytes stay last after a push or a pop), and the sink swaps in a variant of its
// program that subtracts it from bpf_ktime_get_ns on arrival (traffic
// ClassSink.StartTiming). A row's Latency is the mean and max over the frames received
// in the window, generator to sink: both veths and the generator's transmit included.
// The rate is low so that the figure is the path's delay, not a queue's; on a shared VM
// it still depends on the rate (idle-CPU wake-ups), so rows timed at different rates
// compare only roughly.
//
// Run's Report prints as a table (WriteTable), as JSON, or as a Markdown page with PNG
// plots (WriteMarkdown).
//
// On a small machine the generator, the router and the sink share the CPUs. With
// Options.Threaded the veths' receive work runs in NAPI kernel threads, so the
// scheduler can give the router a core while the generator keeps the other; without it
// an XDP program runs in the softirq that the generator's own send raises, on the
// generator's core.
package scenario

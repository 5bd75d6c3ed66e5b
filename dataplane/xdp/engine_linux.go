// SPDX-License-Identifier: Apache-2.0

package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/mplsdp/mplsdp/bpf"
	"github.com/mplsdp/mplsdp/dataplane"
)

// DefaultPinPath is where the daemon pins the program, its maps and its links.
const DefaultPinPath = "/sys/fs/bpf/mplsdp"

// Pin file names under the pin path, besides the maps' own names.
const (
	progPin    = "prog"
	linkPrefix = "link_" // + interface name
)

// Options configure Load.
type Options struct {
	// PinPath is a directory on a bpffs where maps, program and links are pinned so
	// that a restarted daemon can take them over; "" pins nothing. The daemon uses
	// DefaultPinPath.
	PinPath string
	// SKBMode attaches in generic (SKB) mode instead of native (driver) mode.
	SKBMode bool
	// TestMode sets the program's test_mode before loading: the ingress port is the
	// test_port variable (SetTestPort) and a forward returns XDP_REDIRECT without the
	// devmap, for Program.Run. tx_ports is then never written.
	TestMode bool
	// MapsOnly keeps Sync to what a classifier in front of another engine needs:
	// ports (ifindex_ports, ports), bindings, the infrastructure ACL and the counters. No
	// labels, tunnels, routes or devmap entries are written, and the forwarding program
	// is never attached. The AF_XDP engine's program (bpf/xsk.c) runs on these maps.
	MapsOnly bool
	// MaxLabels and MaxRoutes4 override the capacity of the label slots and routes4 maps
	// (replacing an entry needs one spare slot while the old one is still read);
	// 0 keeps the program's defaults. A pinned map of another size is not reused: Load
	// fails, naming the difference.
	MaxLabels, MaxRoutes4 uint32
}

// pinnedMaps are the maps the program declares (all pinned by name).
var pinnedMaps = []string{
	bpf.MplsdpMapBindings, bpf.MplsdpMapCounters, bpf.MplsdpMapIfindexPorts,
	bpf.MplsdpMapInfra4, bpf.MplsdpMapInfra6, bpf.MplsdpMapLabelIndex, bpf.MplsdpMapLabelSlots, bpf.MplsdpMapPorts,
	bpf.MplsdpMapRoutes4, bpf.MplsdpMapRoutes6, bpf.MplsdpMapTunnelIndex, bpf.MplsdpMapTunnelSlots, bpf.MplsdpMapTxPorts,
	bpf.MplsdpMapLabelBytes, bpf.MplsdpMapTunnelBytes,
}

// mapValues are the Go value types of the maps, to check against the compiled program.
var mapValues = map[string]any{
	bpf.MplsdpMapBindings: bpf.MplsdpBinding{},
	bpf.MplsdpMapCounters: bpf.MplsdpPortCounters{}, bpf.MplsdpMapIfindexPorts: bpf.MplsdpPort{},
	bpf.MplsdpMapInfra4: uint8(0), bpf.MplsdpMapInfra6: uint8(0),
	bpf.MplsdpMapLabelIndex: uint32(0), bpf.MplsdpMapLabelSlots: bpf.MplsdpLfibEntry{}, bpf.MplsdpMapPorts: bpf.MplsdpPort{},
	bpf.MplsdpMapRoutes4: bpf.MplsdpNexthop{}, bpf.MplsdpMapRoutes6: bpf.MplsdpNexthop{},
	bpf.MplsdpMapTunnelIndex: uint32(0), bpf.MplsdpMapTunnelSlots: bpf.MplsdpLfibEntry{}, bpf.MplsdpMapTxPorts: uint32(0),
	bpf.MplsdpMapLabelBytes: uint64(0), bpf.MplsdpMapTunnelBytes: uint64(0),
}

var errClosed = errors.New("xdp: engine closed")

// Engine is the loaded XDP program, its maps and its attachments.
//
// Thread contract: every method may be called from any goroutine. Sync, Attach, Detach,
// Close and Release run one at a time (mu); Stats and SetTestPort only need the file
// descriptors to stay open (life), so a scrape does not wait for a long Sync. Lock
// order: mu before life.
type Engine struct {
	mu     sync.Mutex   // serialises Sync, Attach, Detach, Close, Release; guards links, tables
	life   sync.RWMutex // read: a file descriptor is in use; write: closing them
	closed bool         // guarded by life

	pinPath  string
	skb      bool
	testMode bool
	mapsOnly bool

	prog     *ebpf.Program
	maps     map[string]*ebpf.Map // every map, by name (data sections too when loaded)
	counters *ebpf.Map
	testPort *ebpf.Variable // nil when adopted
	links    map[int]link.Link
	tables   *tables
}

// Load loads the program and its maps into the kernel (attaching nothing). With
// opts.PinPath it reuses the maps pinned there, reads their contents into the engine's
// shadow, and pins what it creates. On error nothing it set up is left behind.
func Load(opts Options) (*Engine, error) {
	spec, err := bpf.LoadMplsdp()
	if err != nil {
		return nil, fmt.Errorf("xdp: %w", err)
	}
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	if opts.MaxLabels != 0 {
		spec.Maps[bpf.MplsdpMapLabelSlots].MaxEntries = opts.MaxLabels
	}
	if opts.MaxRoutes4 != 0 {
		spec.Maps[bpf.MplsdpMapRoutes4].MaxEntries = opts.MaxRoutes4
	}
	if opts.TestMode {
		v := spec.Variables[bpf.MplsdpVarTestMode]
		if v == nil {
			return nil, fmt.Errorf("xdp: program has no variable %s", bpf.MplsdpVarTestMode)
		}
		if err := v.Set(uint32(1)); err != nil {
			return nil, fmt.Errorf("xdp: set %s: %w", bpf.MplsdpVarTestMode, err)
		}
	}

	var (
		copts   ebpf.CollectionOptions
		created []string // pins this Load creates: removed again on failure
		madeDir bool
	)
	if opts.PinPath == "" {
		for _, m := range spec.Maps {
			m.Pinning = ebpf.PinNone
		}
	} else {
		if _, err := os.Stat(opts.PinPath); errors.Is(err, fs.ErrNotExist) {
			madeDir = true
		}
		if err := os.MkdirAll(opts.PinPath, 0o700); err != nil {
			return nil, fmt.Errorf("xdp: pin path: %w", err)
		}
		if err := checkBPFFS(opts.PinPath); err != nil {
			if madeDir {
				_ = os.Remove(opts.PinPath)
			}
			return nil, err
		}
		for _, name := range pinnedMaps {
			spec.Maps[name].Pinning = ebpf.PinByName
			if _, err := os.Lstat(filepath.Join(opts.PinPath, name)); errors.Is(err, fs.ErrNotExist) {
				created = append(created, name)
			}
		}
		copts.Maps.PinPath = opts.PinPath
	}
	undoPins := func() {
		for _, name := range created {
			_ = os.Remove(filepath.Join(opts.PinPath, name))
		}
		if madeDir {
			_ = os.Remove(opts.PinPath)
		}
	}

	coll, err := ebpf.NewCollectionWithOptions(spec, copts)
	if err != nil {
		undoPins()
		if errors.Is(err, ebpf.ErrMapIncompatible) {
			return nil, fmt.Errorf("xdp: maps pinned under %s do not fit this program (remove them to start afresh): %w", opts.PinPath, err)
		}
		return nil, fmt.Errorf("xdp: load program: %w", err)
	}
	e := &Engine{
		pinPath:  opts.PinPath,
		skb:      opts.SKBMode,
		testMode: opts.TestMode,
		mapsOnly: opts.MapsOnly,
		prog:     coll.Programs[bpf.MplsdpProgMplsdpXdp],
		maps:     coll.Maps,
		counters: coll.Maps[bpf.MplsdpMapCounters],
		testPort: coll.Variables[bpf.MplsdpVarTestPort],
		links:    make(map[int]link.Link),
	}
	fail := func(err error) (*Engine, error) {
		coll.Close()
		undoPins()
		return nil, err
	}
	if e.prog == nil {
		return fail(fmt.Errorf("xdp: program %s missing from the collection", bpf.MplsdpProgMplsdpXdp))
	}
	if e.tables, err = newTables(e.maps, e.testMode || e.mapsOnly); err != nil {
		return fail(fmt.Errorf("xdp: %w", err))
	}
	if e.pinPath != "" {
		// Reused maps still hold what an earlier run wrote.
		if err := e.tables.load(); err != nil {
			return fail(fmt.Errorf("xdp: %w", err))
		}
		// The last step: replace the pin of an earlier program (whose links keep it
		// alive until Attach moves them to this one).
		p := filepath.Join(e.pinPath, progPin)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("xdp: remove old program pin: %w", err))
		}
		if err := e.prog.Pin(p); err != nil {
			return fail(fmt.Errorf("xdp: pin program: %w", err))
		}
	}
	return e, nil
}

// bpffsMagic is BPF_FS_MAGIC, the f_type of a bpffs.
const bpffsMagic = 0xcafe4a11

// checkBPFFS fails unless dir is on a bpffs, where pins can live.
func checkBPFFS(dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("xdp: pin path: %w", err)
	}
	if uint64(st.Type) != bpffsMagic {
		return fmt.Errorf("xdp: pin path %s is not on a bpf filesystem (mount one: mount -t bpf bpf /sys/fs/bpf)", dir)
	}
	return nil
}

// checkSpec checks that the program declares what this package writes.
func checkSpec(spec *ebpf.CollectionSpec) error {
	for _, name := range pinnedMaps {
		if spec.Maps[name] == nil {
			return fmt.Errorf("xdp: program has no map %s", name)
		}
	}
	if spec.Programs[bpf.MplsdpProgMplsdpXdp] == nil {
		return fmt.Errorf("xdp: program %s missing", bpf.MplsdpProgMplsdpXdp)
	}
	for name, v := range mapValues {
		if got, want := spec.Maps[name].ValueSize, uint32(binary.Size(v)); got != want {
			return fmt.Errorf("xdp: map %s has %d-byte values, the Go type %T %d: bpf/mplsdp_bpfel.go is stale (make generate)", name, got, v, want)
		}
	}
	if n := spec.Maps[bpf.MplsdpMapCounters].MaxEntries; n != dataplane.MaxPorts {
		return fmt.Errorf("xdp: counters map has %d entries, dataplane.MaxPorts is %d", n, dataplane.MaxPorts)
	}
	return nil
}

// Adopt takes over the program, maps and links a previous process pinned under pinPath
// (see Release), without loading anything: the program keeps running throughout. The
// engine's shadow is read from the maps, so the first Sync writes only differences.
// An adopted engine attaches new interfaces in native mode and cannot SetTestPort.
func Adopt(pinPath string) (*Engine, error) {
	return AdoptWith(Options{PinPath: pinPath})
}

// AdoptWith is Adopt with options: PinPath, SKBMode (for later Attach calls) and
// TestMode (leave tx_ports alone) are used; the map sizes are those of the pinned maps.
func AdoptWith(opts Options) (*Engine, error) {
	if opts.PinPath == "" {
		return nil, errors.New("xdp: adopt: no pin path")
	}
	spec, err := bpf.LoadMplsdp()
	if err != nil {
		return nil, fmt.Errorf("xdp: %w", err)
	}
	e := &Engine{
		pinPath:  opts.PinPath,
		skb:      opts.SKBMode,
		testMode: opts.TestMode,
		mapsOnly: opts.MapsOnly,
		maps:     make(map[string]*ebpf.Map),
		links:    make(map[int]link.Link),
	}
	fail := func(err error) (*Engine, error) {
		e.closeFDs()
		return nil, err
	}
	for _, name := range pinnedMaps {
		m, err := ebpf.LoadPinnedMap(filepath.Join(opts.PinPath, name), nil)
		if err != nil {
			return fail(fmt.Errorf("xdp: adopt map %s: %w", name, err))
		}
		e.maps[name] = m
		s := spec.Maps[name]
		if s == nil || m.Type() != s.Type || m.KeySize() != s.KeySize || m.ValueSize() != s.ValueSize {
			return fail(fmt.Errorf("xdp: adopt map %s: pinned %s key %d value %d bytes does not fit this program", name, m.Type(), m.KeySize(), m.ValueSize()))
		}
	}
	e.counters = e.maps[bpf.MplsdpMapCounters]
	if e.prog, err = ebpf.LoadPinnedProgram(filepath.Join(opts.PinPath, progPin), nil); err != nil {
		return fail(fmt.Errorf("xdp: adopt program: %w", err))
	}
	if e.prog.Type() != ebpf.XDP {
		return fail(fmt.Errorf("xdp: adopt program: pinned program is %s, not XDP", e.prog.Type()))
	}
	ents, err := os.ReadDir(opts.PinPath)
	if err != nil {
		return fail(fmt.Errorf("xdp: adopt links: %w", err))
	}
	for _, ent := range ents {
		if !strings.HasPrefix(ent.Name(), linkPrefix) {
			continue
		}
		p := filepath.Join(opts.PinPath, ent.Name())
		l, err := link.LoadPinnedLink(p, nil)
		if err != nil {
			return fail(fmt.Errorf("xdp: adopt link %s: %w", ent.Name(), err))
		}
		ifindex, err := linkIfindex(l)
		if err != nil {
			l.Close()
			return fail(fmt.Errorf("xdp: adopt link %s: %w", ent.Name(), err))
		}
		if _, dup := e.links[ifindex]; ifindex == 0 || dup {
			// The interface is gone (a defunct link) or pinned twice: drop this pin.
			_ = l.Unpin()
			l.Close()
			continue
		}
		e.links[ifindex] = l
	}
	if e.tables, err = newTables(e.maps, e.testMode || e.mapsOnly); err != nil {
		return fail(fmt.Errorf("xdp: %w", err))
	}
	if err := e.tables.load(); err != nil {
		return fail(fmt.Errorf("xdp: %w", err))
	}
	return e, nil
}

// linkIfindex returns the interface an XDP link is attached to; 0 when its interface
// has gone.
func linkIfindex(l link.Link) (int, error) {
	info, err := l.Info()
	if err != nil {
		return 0, err
	}
	x := info.XDP()
	if x == nil {
		return 0, fmt.Errorf("link of type %v is not XDP", info.Type)
	}
	return int(x.Ifindex), nil
}

// Program returns the loaded program (for Program.Run in tests and benchmarks).
func (e *Engine) Program() *ebpf.Program { return e.prog }

// Maps returns the program's maps by name (bpf.MplsdpMap*), for tests and tools that
// read them. The engine owns them: do not close them, and write only through Sync.
func (e *Engine) Maps() map[string]*ebpf.Map { return e.maps }

// SetTestPort sets the port number the program takes as the ingress port in test mode.
func (e *Engine) SetTestPort(port uint16) error {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	if e.testPort == nil {
		return fmt.Errorf("xdp: variable %s not available (adopted engine)", bpf.MplsdpVarTestPort)
	}
	if err := e.testPort.Set(uint32(port)); err != nil {
		return fmt.Errorf("xdp: set %s: %w", bpf.MplsdpVarTestPort, err)
	}
	return nil
}

// Attach attaches the program to the interface ifindex, through a BPF link, in native
// mode (generic with Options.SKBMode). With a pin path the link is pinned as
// link_<ifname>; if such a pin exists for this interface (left by an earlier run), its
// program is replaced by this engine's atomically instead. Attach, like Sync, works in
// the network namespace of the calling thread.
func (e *Engine) Attach(ifindex int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	if e.mapsOnly {
		return errors.New("xdp: loaded with MapsOnly: the forwarding program is not attached")
	}
	if _, ok := e.links[ifindex]; ok {
		return fmt.Errorf("xdp: ifindex %d: already attached", ifindex)
	}
	var pin string
	if e.pinPath != "" {
		ifi, err := net.InterfaceByIndex(ifindex)
		if err != nil {
			return fmt.Errorf("xdp: attach to ifindex %d: %w", ifindex, err)
		}
		pin = filepath.Join(e.pinPath, linkPrefix+ifi.Name)
		l, err := e.takeOver(pin, ifindex)
		if err != nil {
			return fmt.Errorf("xdp: attach to %s: %w", ifi.Name, err)
		}
		if l != nil {
			e.links[ifindex] = l
			return nil
		}
	}
	flags, mode := link.XDPDriverMode, "native"
	if e.skb {
		flags, mode = link.XDPGenericMode, "generic"
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: e.prog, Interface: ifindex, Flags: flags})
	if err != nil {
		return fmt.Errorf("xdp: attach to ifindex %d (%s mode): %w", ifindex, mode, err)
	}
	if pin != "" {
		if err := l.Pin(pin); err != nil {
			l.Close()
			return fmt.Errorf("xdp: pin link of ifindex %d: %w", ifindex, err)
		}
	}
	e.links[ifindex] = l
	return nil
}

// takeOver moves a link pinned at pin onto this engine's program. It returns nil
// without error when there is no such pin, or when the pin is stale (its interface is
// gone or is another one now; the pin is then removed).
func (e *Engine) takeOver(pin string, ifindex int) (link.Link, error) {
	if _, err := os.Lstat(pin); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	l, err := link.LoadPinnedLink(pin, nil)
	if err != nil {
		return nil, fmt.Errorf("open pinned link: %w", err)
	}
	if idx, err := linkIfindex(l); err != nil || idx != ifindex {
		_ = l.Unpin()
		l.Close()
		return nil, nil
	}
	if err := l.Update(e.prog); err != nil {
		l.Close() // the pin keeps the old program attached
		return nil, fmt.Errorf("replace program in pinned link: %w", err)
	}
	return l, nil
}

// Detach removes the program from the interface ifindex (and the link's pin).
func (e *Engine) Detach(ifindex int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return errClosed
	}
	l, ok := e.links[ifindex]
	if !ok {
		return fmt.Errorf("xdp: ifindex %d: not attached", ifindex)
	}
	if err := l.Unpin(); err != nil {
		return fmt.Errorf("xdp: detach ifindex %d: unpin: %w", ifindex, err)
	}
	delete(e.links, ifindex)
	if err := l.Close(); err != nil {
		return fmt.Errorf("xdp: detach ifindex %d: %w", ifindex, err)
	}
	return nil
}

// Attached returns the ifindexes the program is attached to.
func (e *Engine) Attached() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]int, 0, len(e.links))
	for i := range e.links {
		out = append(out, i)
	}
	return out
}

// Close detaches the program from every interface, removes every pin (and the pin
// directory when it is then empty) and closes everything. Calling it again does nothing.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.life.Lock()
	defer e.life.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	for idx, l := range e.links {
		if err := l.Unpin(); err != nil {
			errs = append(errs, fmt.Errorf("unpin link of ifindex %d: %w", idx, err))
		}
	}
	if e.pinPath != "" {
		for _, name := range slices.Concat(pinnedMaps, []string{progPin}) {
			if err := os.Remove(filepath.Join(e.pinPath, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("unpin %s: %w", name, err))
			}
		}
		if err := os.Remove(e.pinPath); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			errs = append(errs, err)
		}
	}
	if err := e.closeFDs(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xdp: close: %w", err)
	}
	return nil
}

// Release closes the engine's file descriptors but leaves the pins, so the program stays
// attached and keeps forwarding with the maps as they are, for a new process to Adopt
// (or Load over). Without a pin path nothing is pinned and Release detaches like Close.
func (e *Engine) Release() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.life.Lock()
	defer e.life.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if err := e.closeFDs(); err != nil {
		return fmt.Errorf("xdp: release: %w", err)
	}
	return nil
}

// closeFDs closes links, maps and program; pins stay.
func (e *Engine) closeFDs() error {
	var errs []error
	if e.tables != nil {
		errs = append(errs, e.tables.close())
	}
	for idx, l := range e.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("link of ifindex %d: %w", idx, err))
		}
	}
	clear(e.links)
	for name, m := range e.maps {
		if err := m.Close(); err != nil {
			errs = append(errs, fmt.Errorf("map %s: %w", name, err))
		}
	}
	if e.prog != nil {
		if err := e.prog.Close(); err != nil {
			errs = append(errs, fmt.Errorf("program: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Stats reads the program's counters, summed over CPUs, by port number.
func (e *Engine) Stats() (*dataplane.Stats, error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return nil, errClosed
	}
	s := new(dataplane.Stats)
	var vals []bpf.MplsdpPortCounters
	for i := range s.Ports {
		if err := e.counters.Lookup(uint32(i), &vals); err != nil {
			return nil, fmt.Errorf("xdp: read counters of port %d: %w", i, err)
		}
		p := &s.Ports[i]
		for j := range vals {
			c := &vals[j]
			p.RxPackets += c.RxPackets
			p.RxBytes += c.RxBytes
			p.TxPackets += c.TxPackets
			p.TxBytes += c.TxBytes
			p.Kernel += c.Kernel
			for r, n := range c.Drops {
				p.Drops[r] += n
			}
		}
	}
	return s, nil
}

// SwitchedBytes returns, summed over CPUs, the bytes each given incoming label switched
// and each given tunnel pushed since the maps were created (they survive an adoption).
func (e *Engine) SwitchedBytes(labels, tunnels []uint32) (byLabel, byTunnel map[uint32]uint64, err error) {
	e.life.RLock()
	defer e.life.RUnlock()
	if e.closed {
		return nil, nil, errClosed
	}
	read := func(m *ebpf.Map, keys []uint32) (map[uint32]uint64, error) {
		out := make(map[uint32]uint64, len(keys))
		var vals []uint64
		for _, k := range keys {
			if k >= m.MaxEntries() {
				continue
			}
			if err := m.Lookup(k, &vals); err != nil {
				return nil, fmt.Errorf("xdp: read %s[%d]: %w", m.String(), k, err)
			}
			var sum uint64
			for _, v := range vals {
				sum += v
			}
			out[k] = sum
		}
		return out, nil
	}
	if byLabel, err = read(e.maps[bpf.MplsdpMapLabelBytes], labels); err != nil {
		return nil, nil, err
	}
	if byTunnel, err = read(e.maps[bpf.MplsdpMapTunnelBytes], tunnels); err != nil {
		return nil, nil, err
	}
	return byLabel, byTunnel, nil
}

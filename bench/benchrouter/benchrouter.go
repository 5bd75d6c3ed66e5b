// SPDX-License-Identifier: Apache-2.0

// Package benchrouter builds the router and frames that the per-packet benchmarks of
// every engine share, so that their figures describe the same work.
package benchrouter

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/mplsdp/mplsdp/dataplane"
	"github.com/mplsdp/mplsdp/lfib"
	"github.com/mplsdp/mplsdp/vrf"
)

// Ports of the benchmark router.
const (
	PortCore0 = 0
	PortCore1 = 1
	PortCE    = 2
)

// Labels installed: a swap (to 200), a penultimate-hop pop and a pop-to-VRF.
const (
	LabelSwap     = 100
	LabelPHP      = 101
	LabelPopToVRF = 102
)

// LocalDst is an address of the CE's subnet (192.0.2.0/24, local in VRF 1).
var LocalDst = [4]byte{192, 0, 2, 33}

var (
	macCE    = lfib.MAC{0x02, 0, 0, 0, 0xce, 1}
	macPeer  = lfib.MAC{0x02, 0, 0, 0, 0xaa, 1}
	macRoute = net.HardwareAddr{0x02, 0, 0, 0, 0x0e, 1}
)

// Router returns a PE/P with the labels above, a tunnel (label 300 out core0), and VRF 1
// on the CE port holding `routes` random IPv4 routes (/16 to /32, fixed seed) to a
// remote PE plus 192.0.2.0/24 at the CE. dsts are up to 4096 destinations, each covered
// by one of the random routes, spread over the table.
func Router(routes int) (r *dataplane.Router, dsts [][4]byte, err error) {
	cfg := &dataplane.Config{}
	for i, name := range []string{"core0", "core1", "ce"} {
		role := dataplane.RoleCore
		if i == PortCE {
			role = dataplane.RoleCE
		}
		cfg.Ports[i] = dataplane.Port{Name: name, Role: role, MTU: 1500, MAC: lfib.MAC{2, 0, 0, 0, 0, byte(i)}}
	}
	lf := lfib.New()
	toCore1 := lfib.NextHop{Port: PortCore1, Dst: macPeer}
	var b lfib.Batch
	b.SetLabel(LabelSwap, lfib.Entry{Op: lfib.OpSwap, Paths: []lfib.Path{{NextHop: toCore1, Labels: [lfib.MaxPush]lfib.Label{200}, NLabels: 1}}})
	b.SetLabel(LabelPHP, lfib.Entry{Op: lfib.OpPop, Paths: []lfib.Path{{NextHop: toCore1}}})
	b.SetLabel(LabelPopToVRF, lfib.Entry{Op: lfib.OpPopToVRF, VRF: 1})
	b.SetTunnel(1, lfib.Entry{Op: lfib.OpPush, Paths: []lfib.Path{{NextHop: lfib.NextHop{Port: PortCore0, Dst: macPeer}, Labels: [lfib.MaxPush]lfib.Label{300}, NLabels: 1}}})
	if err := lf.Commit(&b); err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(7, 7))
	dsts = make([][4]byte, 0, 4096)
	vrfs := vrf.New()
	err = vrfs.Update(func(tx *vrf.Txn) error {
		if _, err := tx.AddVRF(vrf.Config{Name: "a", ID: 1}); err != nil {
			return err
		}
		if err := tx.Bind(vrf.Binding{Port: PortCE, VRF: 1}); err != nil {
			return err
		}
		local := vrf.NextHop{Local: lfib.NextHop{Port: PortCE, Dst: macCE}}
		if err := tx.AddRoute(1, netip.MustParsePrefix("192.0.2.0/24"), local); err != nil {
			return err
		}
		for i := range routes {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], rng.Uint32()|0x0100_0000)
			p := netip.PrefixFrom(netip.AddrFrom4(a), 16+rng.IntN(17)).Masked()
			if err := tx.AddRoute(1, p, vrf.NextHop{Tunnel: 1, VPNLabel: lfib.Label(16 + i%1000)}); err != nil {
				return err
			}
			if len(dsts) < cap(dsts) && i%(routes/cap(dsts)+1) == 0 {
				dsts = append(dsts, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return dataplane.NewRouter(lf, vrfs, cfg), dsts, nil
}

// UDP4 is an Ethernet frame carrying a UDP packet with a 64-byte payload to dst,
// labelled with labels (top first) when there are any.
func UDP4(dst [4]byte, labels ...uint32) ([]byte, error) {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 0, 2, 10}, DstIP: net.IP(dst[:])}
	udp := &layers.UDP{SrcPort: 4000, DstPort: 5000}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, err
	}
	et := layers.EthernetTypeIPv4
	if len(labels) > 0 {
		et = layers.EthernetTypeMPLSUnicast
	}
	ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macRoute, DstMAC: net.HardwareAddr(macCE[:]), EthernetType: et}}
	for i, l := range labels {
		ls = append(ls, &layers.MPLS{Label: l, TTL: 64, StackBottom: i == len(labels)-1})
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		append(ls, ip, udp, gopacket.Payload(make([]byte, 64)))...)
	return buf.Bytes(), err
}

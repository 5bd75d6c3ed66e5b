// SPDX-License-Identifier: Apache-2.0

package scenario

import (
	"fmt"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// FCSLen is the Ethernet frame check sequence: counted in an RFC 2544 frame size, absent
// from the bytes a veth carries.
const FCSLen = 4

// FrameSizes are RFC 2544's Ethernet frame sizes this tool measures, FCS included.
var FrameSizes = []int{64, 128, 512, 1518}

// FrameSpec describes one UDP/IPv4 test frame, labelled or not.
type FrameSpec struct {
	Src, Dst         net.HardwareAddr
	Labels           []uint32 // top first, TTL 64; none: an IPv4 frame
	SrcIP, DstIP     [4]byte
	SrcPort, DstPort uint16
	// Size is the frame size as RFC 2544 counts it, from the destination MAC to the FCS
	// included; the frame built is Size-FCSLen bytes, padded with UDP payload.
	Size int
}

// headerLen is the bytes of a frame that are not UDP payload.
func (f FrameSpec) headerLen() int { return 14 + 4*len(f.Labels) + 20 + 8 }

// Build serializes the frame, with the IPv4 and UDP checksums computed.
func (f FrameSpec) Build() ([]byte, error) {
	pay := f.Size - FCSLen - f.headerLen()
	if pay < 0 {
		return nil, fmt.Errorf("scenario: a %d-byte frame cannot hold %d labels, IPv4 and UDP (%d bytes)", f.Size, len(f.Labels), f.headerLen()+FCSLen)
	}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(f.SrcIP[:]), DstIP: net.IP(f.DstIP[:])}
	udp := &layers.UDP{SrcPort: layers.UDPPort(f.SrcPort), DstPort: layers.UDPPort(f.DstPort)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return nil, err
	}
	et := layers.EthernetTypeIPv4
	if len(f.Labels) > 0 {
		et = layers.EthernetTypeMPLSUnicast
	}
	ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: f.Src, DstMAC: f.Dst, EthernetType: et}}
	for i, l := range f.Labels {
		ls = append(ls, &layers.MPLS{Label: l, TTL: 64, StackBottom: i == len(f.Labels)-1})
	}
	payload := make([]byte, pay)
	for i := range payload {
		payload[i] = byte(i)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		append(ls, ip, udp, gopacket.Payload(payload))...)
	if err != nil {
		return nil, err
	}
	if n := len(buf.Bytes()); n != f.Size-FCSLen {
		return nil, fmt.Errorf("scenario: built a %d-byte frame for size %d", n, f.Size)
	}
	return buf.Bytes(), nil
}

// Flows builds n frames from spec that differ in their 5-tuple: frame i has UDP source
// port 1024+i%60000 and destination dst(i) (spec.DstIP when dst is nil).
func Flows(spec FrameSpec, n int, dst func(i int) [4]byte) ([][]byte, error) {
	if n < 1 {
		n = 1
	}
	out := make([][]byte, 0, n)
	for i := range n {
		f := spec
		f.SrcPort = uint16(1024 + i%60000)
		if dst != nil {
			f.DstIP = dst(i)
		}
		b, err := f.Build()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

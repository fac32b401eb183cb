// Package pcapexport writes socket payloads seen in events as a pcapng file: each payload
// becomes one raw IPv4/IPv6 packet with a synthesized TCP or UDP header, one flow per socket
// tuple, so Wireshark or tshark can dissect what a process sent and received.
package pcapexport

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Protocols a packet can carry.
const (
	TCP = 6
	UDP = 17
)

type endpoint struct {
	ip   [16]byte
	port uint16
}

type flowKey struct {
	src, dst endpoint
	proto    uint8
}

// Writer turns payloads into packets.
type Writer struct {
	ng    *pcapgo.NgWriter
	seq   map[flowKey]uint32 // next TCP sequence number per direction
	buf   gopacket.SerializeBuffer
	opts  gopacket.SerializeOptions
	count int
}

// New starts a pcapng stream of raw IP packets on w.
func New(w io.Writer) (*Writer, error) {
	ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeRaw)
	if err != nil {
		return nil, fmt.Errorf("pcap: %w", err)
	}
	return &Writer{ng: ng, seq: map[flowKey]uint32{}, buf: gopacket.NewSerializeBuffer(),
		opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}}, nil
}

// Packets is the number of packets written.
func (w *Writer) Packets() int { return w.count }

func key(ip net.IP, port uint16) endpoint {
	var e endpoint
	copy(e.ip[:], ip.To16())
	e.port = port
	return e
}

// Packet writes one payload sent from src:sport to dst:dport. data is what the event captured;
// total is the number of bytes the call really moved (sequence numbers advance by it).
func (w *Writer) Packet(ts time.Time, proto uint8, src, dst net.IP, sport, dport uint16, data []byte, total int) error {
	if total < len(data) {
		total = len(data)
	}
	var netLayer gopacket.SerializableLayer
	var netl gopacket.NetworkLayer
	hdr := 40
	if src.To4() != nil && dst.To4() != nil {
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.To4(), DstIP: dst.To4(), Protocol: layers.IPProtocol(proto)}
		netLayer, netl, hdr = ip, ip, 20
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: src.To16(), DstIP: dst.To16(), NextHeader: layers.IPProtocol(proto)}
		netLayer, netl = ip, ip
	}
	var l4 gopacket.SerializableLayer
	if proto == TCP {
		l4 = w.tcp(netl, src, dst, sport, dport, total)
		hdr += 20
	} else {
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		u.SetNetworkLayerForChecksum(netl)
		l4 = u
		hdr += 8
	}
	if err := gopacket.SerializeLayers(w.buf, w.opts, netLayer, l4, gopacket.Payload(data)); err != nil {
		return fmt.Errorf("pcap: building a packet: %w", err)
	}
	b := w.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: hdr + total}
	if err := w.ng.WritePacket(ci, b); err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	w.count++
	return nil
}

func (w *Writer) tcp(netl gopacket.NetworkLayer, src, dst net.IP, sport, dport uint16, total int) *layers.TCP {
	fwd := flowKey{src: key(src, sport), dst: key(dst, dport), proto: TCP}
	rev := flowKey{src: fwd.dst, dst: fwd.src, proto: TCP}
	seq, ok := w.seq[fwd]
	if !ok {
		seq = 1
	}
	ack, ok := w.seq[rev]
	if !ok {
		ack = 1
	}
	w.seq[fwd] = seq + uint32(total)
	t := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ack,
		ACK: true, PSH: true, Window: 65535}
	t.SetNetworkLayerForChecksum(netl)
	return t
}

// Flush writes buffered packets out.
func (w *Writer) Flush() error {
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	return nil
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

type seenPacket struct {
	src, dst     string
	sport, dport uint16
	payload      []byte
}

func readPcap(t *testing.T, path string) []seenPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s is not pcapng: %v", path, err)
	}
	var out []seenPacket
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, layers.LayerTypeIPv4, gopacket.Default)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Fatalf("packet is not IPv4/TCP: %v", pkt)
		}
		out = append(out, seenPacket{ip.SrcIP.String(), ip.DstIP.String(), uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Payload})
	}
}

// TestPcapLoopbackExchange captures a loopback TCP exchange of known bytes live with --pcap and
// finds each payload in the pcapng going the right way; the same from the -w capture with -r.
func TestPcapLoopbackExchange(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		if bytes.Contains(buf[:n], []byte("hello-from-client")) {
			c.Write([]byte("reply-from-server\n"))
		}
		c.Close()
	}()
	dir := t.TempDir()
	live, capt := filepath.Join(dir, "live.pcapng"), filepath.Join(dir, "x.scap")
	traceLive(t, bin, func() {
		sh(t, fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; echo hello-from-client >&3; head -c 18 <&3 >/dev/null", port))
	}, "--pcap", live, "-w", capt, "fd.type=ipv4")
	replay := filepath.Join(dir, "replay.pcapng")
	if b, err := exec.Command(bin, "-r", capt, "--pcap", replay, "-p", "%evt.num", "fd.type=ipv4").CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, b)
	}
	for _, path := range []string{live, replay} {
		pkts := readPcap(t, path)
		var toServer, toClient bool
		for _, p := range pkts {
			if p.dport == port && p.src == "127.0.0.1" && bytes.Contains(p.payload, []byte("hello-from-client")) {
				toServer = true
			}
			if p.sport == port && bytes.Contains(p.payload, []byte("reply-from-server")) {
				toClient = true
			}
		}
		if !toServer || !toClient {
			t.Errorf("%s: client->server payload found %v, server->client %v, in %d packets", path, toServer, toClient, len(pkts))
		}
		if tshark, err := exec.LookPath("tshark"); err == nil {
			out, err := exec.Command(tshark, "-r", path, "-Y", fmt.Sprintf("tcp.dstport==%d", port), "-T", "fields", "-e", "tcp.payload").CombinedOutput()
			if err != nil || !strings.Contains(string(out), fmt.Sprintf("%x", "hello-from-client")) {
				t.Errorf("tshark does not see the client payload: %v\n%s", err, out)
			}
		}
	}
}

package main

import (
	"bufio"
	"fmt"
	"github.com/gosysdig/gosysdig/internal/safefile"
	"net"
	"os"
	"time"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/pcapexport"
	"github.com/gosysdig/gosysdig/state"
)

// pcapSink writes the payloads of selected socket reads and writes as packets (--pcap).
type pcapSink struct {
	f  *os.File
	bw *bufio.Writer
	w  *pcapexport.Writer
}

func newPcapSink(path string) (*pcapSink, error) {
	f, err := safefile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot write pcap: %w", err)
	}
	bw := bufio.NewWriter(f)
	w, err := pcapexport.New(bw)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &pcapSink{f: f, bw: bw, w: w}, nil
}

func (s *pcapSink) Event(c *fields.Ctx) error {
	ev := c.Ev
	if ev.IsEnter() || ev.Info.Flags&(event.EFReadsFromFd|event.EFWritesToFd) == 0 {
		return nil
	}
	f := c.In.FD
	if f == nil || !f.IsIP() || f.IsServer() || f.Role == state.RoleNone {
		return nil
	}
	res, ok := ev.Int(0)
	if !ok || res <= 0 {
		return nil
	}
	di := ev.DataParam()
	if di < 0 {
		return nil
	}
	size := 4
	if f.IsV6() {
		size = 16
	}
	client, server := net.IP(f.Sip[:size]), net.IP(f.Dip[:size])
	cport, sport := f.Sport, f.Dport
	localIP, localPort, remoteIP, remotePort := client, cport, server, sport
	if f.Role == state.RoleServer {
		localIP, localPort, remoteIP, remotePort = server, sport, client, cport
	}
	proto := uint8(pcapexport.TCP)
	if f.L4() == state.L4UDP {
		proto = pcapexport.UDP
	}
	ts := time.Unix(0, int64(ev.TS))
	data := ev.Param(di)
	if ev.Info.Flags&event.EFWritesToFd != 0 {
		return s.w.Packet(ts, proto, localIP, remoteIP, localPort, remotePort, data, int(res))
	}
	return s.w.Packet(ts, proto, remoteIP, localIP, remotePort, localPort, data, int(res))
}

func (s *pcapSink) Close() error {
	err := s.w.Flush()
	if ferr := s.bw.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	return nil
}

package state

import (
	"encoding/binary"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// Synthetic event sequences for the socket parsers. The expected values are what libsinsp
// 0.29.3's parsers compute for the same sequence (parsers.cpp, threadinfo.cpp, ifinfo.cpp);
// the corpus (TestCompatCorpus) checks the same against sysdig's own output.

func ip4(a, b, c, d byte) []byte { return []byte{a, b, c, d} }

func port(p uint16) []byte { return binary.LittleEndian.AppendUint16(nil, p) }

// tuple4 is a PT_SOCKTUPLE of family AF_INET.
func tuple4(sip []byte, sport uint16, dip []byte, dport uint16) []byte {
	b := []byte{ppmAFInet}
	b = append(b, sip...)
	b = append(b, port(sport)...)
	b = append(b, dip...)
	return append(b, port(dport)...)
}

// addr4 and addr6 are PT_SOCKADDRs.
func addr4(ip []byte, p uint16) []byte { return append(append([]byte{ppmAFInet}, ip...), port(p)...) }

func addr6(ip []byte, p uint16) []byte { return append(append([]byte{ppmAFInet6}, ip...), port(p)...) }

func tupleUnix(src, dst uint64, path string) []byte {
	b := []byte{ppmAFUnix}
	b = binary.LittleEndian.AppendUint64(b, src)
	b = binary.LittleEndian.AppendUint64(b, dst)
	return append(b, str(path)...)
}

// newNetFeeder is newFeeder with the loopback interface in the capture's interface list.
func newNetFeeder(t *testing.T) *feeder {
	f := newFeeder(t)
	lo := capture.Interface{Type: 3, Name: "lo"}
	copy(lo.Addr[:], ip4(127, 0, 0, 1))
	copy(lo.Netmask[:], ip4(255, 0, 0, 0))
	f.in.Interfaces = append(f.in.Interfaces, lo)
	return f
}

func (f *feeder) socket(fd int64, domain, typ uint32) {
	f.ev(100, 18, u32(domain), u32(typ), u32(0))
	f.ev(100, 19, i64(fd))
}

func (f *feeder) fd(n int64) *FD {
	f.t.Helper()
	fd := f.in.Lookup(100).FD(n)
	if fd == nil {
		f.t.Fatalf("no fd %d", n)
	}
	return fd
}

// TestUDPDatagramTuples: a datagram's tuple names the socket (sendto from the enter, recvfrom
// from the exit), the role is guessed (a reader is a server, a writer a client when both ports
// are its own), a client's received tuple is swapped, and an empty end is filled from the
// interfaces; the first successful I/O marks the socket connected.
func TestUDPDatagramTuples(t *testing.T) {
	f := newNetFeeder(t)
	lo := ip4(127, 0, 0, 1)
	any := ip4(0, 0, 0, 0)
	f.socket(5, ppmAFInet, sockDgram)
	f.ev(100, 20, i64(5))
	f.ev(100, 21, i64(0), addr4(lo, 0))
	if s := f.fd(5); s.Name != "127.0.0.1:0" || s.IsServer() || !s.RoleNone() || s.L4() != L4NA {
		t.Fatalf("bound to port 0: %+v", s)
	}
	f.socket(6, ppmAFInet, sockDgram)
	f.ev(100, 30, i64(6), u32(10), tuple4(any, 0, lo, 41466))
	f.ev(100, 31, exitParams(t, 31, map[string][]byte{"res": i64(10)})...)
	c := f.fd(6)
	if c.Name != "127.0.0.1:0->127.0.0.1:41466" || !c.RoleIsClient() || !c.Connected() || c.L4() != L4UDP {
		t.Errorf("sendto: %+v (client %v connected %v l4 %d)", c, c.RoleIsClient(), c.Connected(), c.L4())
	}
	f.ev(100, 34, i64(5), u32(256))
	f.ev(100, 35, exitParams(t, 35, map[string][]byte{"res": i64(10), "tuple": tuple4(lo, 39492, lo, 41466)})...)
	if s := f.fd(5); s.Name != "127.0.0.1:39492->127.0.0.1:41466" || !s.RoleIsServer() || !f.in.FDNameChanged {
		t.Errorf("recvfrom on the bound socket: %+v", s)
	}
	// The client reads a tuple whose source is its peer: it is swapped to read client first,
	// the destination kept as it was.
	f.ev(100, 34, i64(6), u32(256))
	f.ev(100, 35, exitParams(t, 35, map[string][]byte{"res": i64(10), "tuple": tuple4(lo, 41466, any, 39492)})...)
	if c := f.fd(6); c.Name != "127.0.0.1:41466->127.0.0.1:41466" {
		t.Errorf("recvfrom on the client: %q", c.Name)
	}
	// The same tuple again changes nothing.
	f.ev(100, 34, i64(6), u32(256))
	f.ev(100, 35, exitParams(t, 35, map[string][]byte{"res": i64(10), "tuple": tuple4(lo, 41466, any, 39492)})...)
	if f.in.FDNameChanged {
		t.Error("an unchanged tuple reported a name change")
	}
	// A sendto on an fd whose socket() was not seen: libsinsp assumes a UDP socket.
	f.ev(100, 30, i64(9), u32(1), tuple4(any, 0, lo, 53))
	if s := f.in.Lookup(100).FD(9); s == nil || s.Type != capture.FDIPv4Sock || s.sock[v4L4] != L4UDP {
		t.Errorf("sendto on an unknown fd: %+v", s)
	}
}

// TestServerSockets: a bind to a port > 0 makes a server socket (address and port only, its
// protocol from socket()); listen changes nothing; accept makes a connected server-role fd
// named by the tuple. A UDP server socket that receives a datagram becomes a tuple again over
// the server address's bytes, as libsinsp's union does.
func TestServerSockets(t *testing.T) {
	f := newNetFeeder(t)
	any := ip4(0, 0, 0, 0)
	lo := ip4(127, 0, 0, 1)
	f.socket(3, ppmAFInet, sockStream)
	f.ev(100, 20, i64(3))
	f.ev(100, 21, i64(0), addr4(any, 8080))
	s := f.fd(3)
	ip, p, ok := s.ServerAddr()
	if !s.IsServer() || !ok || p != 8080 || string(ip) != string(any) || s.L4() != L4TCP || s.Name != "0.0.0.0:8080" || s.Role != RoleServer {
		t.Fatalf("bind: %+v", s)
	}
	f.ev(100, 24, i64(3), u32(5))
	f.ev(100, 25, i64(0))
	if s := f.fd(3); !s.IsServer() || s.Connected() {
		t.Errorf("listen changed the socket: %+v", s)
	}
	f.ev(100, 26, i64(3))
	f.ev(100, 27, i64(4), tuple4(lo, 5000, lo, 8080), []byte{0})
	a := f.fd(4)
	if a.Name != "127.0.0.1:5000->127.0.0.1:8080" || !a.RoleIsServer() || !a.Connected() || a.L4() != L4TCP {
		t.Errorf("accept: %+v", a)
	}

	f.socket(7, ppmAFInet, sockDgram)
	f.ev(100, 20, i64(7))
	f.ev(100, 21, i64(0), addr4(any, 53))
	f.ev(100, 34, i64(7), u32(512))
	f.ev(100, 35, exitParams(t, 35, map[string][]byte{"res": i64(20), "tuple": tuple4(ip4(10, 0, 0, 2), 4000, any, 53)})...)
	u := f.fd(7)
	// The destination address keeps the bytes of the server port (53, 0) and protocol (UDP 3).
	if u.Type != capture.FDIPv4Sock || u.Name != "10.0.0.2:4000->53.0.3.0:53" || !u.RoleIsServer() {
		t.Errorf("datagram on a UDP server socket: %+v", u)
	}
}

// TestSocketsFromProcessList: IPv4 sockets of the capture's process list are named by their
// tuple and get their role from the server ports (a server's side is swapped to read client
// first); IPv6 ones get no role, so their addresses and protocol read <NA>; a unix socket with
// a path is a server's.
func TestSocketsFromProcessList(t *testing.T) {
	in := New()
	var v6lo [16]byte
	v6lo[15] = 1
	fd4 := func(n int64, sip []byte, sport uint16, dip []byte, dport uint16) capture.FD {
		c := capture.FD{Fd: n, Type: capture.FDIPv4Sock, Sport: sport, Dport: dport, L4Proto: L4TCP}
		copy(c.Sip[:], sip)
		copy(c.Dip[:], dip)
		return c
	}
	srv := capture.FD{Fd: 3, Type: capture.FDIPv4Server, Sport: 80, L4Proto: L4TCP}
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{{Tid: 100, Pid: 100, Ptid: 1, Comm: "srv", FDs: []capture.FD{
		srv,
		fd4(4, ip4(10, 0, 0, 1), 80, ip4(10, 0, 0, 2), 5555),
		fd4(5, ip4(10, 0, 0, 1), 40000, ip4(10, 0, 0, 3), 443),
		{Fd: 6, Type: capture.FDIPv6Sock, Sip: v6lo, Dip: v6lo, Sport: 46294, Dport: 39731, L4Proto: L4TCP},
		{Fd: 7, Type: capture.FDUnixSock, Name: "/run/s.sock", Source: 0xffff1, Dest: 0},
	}}}})
	th := in.Lookup(100)
	if s := th.FD(3); s.Name != "0.0.0.0:80" || !s.IsServer() {
		t.Errorf("server socket: %+v", s)
	}
	if s := th.FD(4); s.Name != "10.0.0.2:5555->10.0.0.1:80" || !s.RoleIsServer() || !s.Connected() {
		t.Errorf("server side of a connection: %+v", s)
	}
	if s := th.FD(5); s.Name != "10.0.0.1:40000->10.0.0.3:443" || !s.RoleIsClient() {
		t.Errorf("client side of a connection: %+v", s)
	}
	if s := th.FD(6); s.Name != "::1:46294->::1:39731" || !s.RoleNone() || s.L4() != L4NA || !s.Connected() {
		t.Errorf("IPv6 socket: %+v", s)
	}
	if s := th.FD(7); !s.RoleIsServer() || s.Source != 0xffff1 {
		t.Errorf("unix socket with a path: %+v", s)
	}
}

// TestUnixSocketNames: a datagram's unix tuple names the socket by the kernel addresses and the
// path as the tuple prints; a connect's exit does the same and makes the socket a client.
func TestUnixSocketNames(t *testing.T) {
	f := newNetFeeder(t)
	f.socket(3, ppmAFUnix, sockDgram)
	f.ev(100, 30, i64(3), u32(4), tupleUnix(0xffff88810dfdc000, 0, "/tmp/d.sock"))
	f.ev(100, 31, exitParams(t, 31, map[string][]byte{"res": i64(4)})...)
	if s := f.fd(3); s.Name != "ffff88810dfdc000->0 /tmp/d.sock" || s.Source != 0xffff88810dfdc000 {
		t.Errorf("unix sendto: %+v", s)
	}
	f.socket(4, ppmAFUnix, sockStream)
	f.ev(100, 22, i64(4), append([]byte{ppmAFUnix}, str("/tmp/s.sock")...))
	if s := f.fd(4); s.Name != "/tmp/s.sock" {
		t.Errorf("unix connect enter: %q", s.Name)
	}
	f.ev(100, 23, i64(0), tupleUnix(0xffff8884b5d9fa80, 0xffff8884b5d9ed00, "/tmp/s.sock"))
	if s := f.fd(4); s.Name != "ffff8884b5d9fa80->ffff8884b5d9ed00 /tmp/s.sock" || !s.RoleIsClient() || !s.Connected() {
		t.Errorf("unix connect exit: %+v", s)
	}
}

// TestGetsockoptFD: getsockopt's enter has no fd; the exit's fd parameter is the event's fd.
func TestGetsockoptFD(t *testing.T) {
	f := newNetFeeder(t)
	f.socket(5, ppmAFInet, sockDgram)
	f.ev(100, 46)
	f.ev(100, 47, exitParams(t, 47, map[string][]byte{"res": i64(0), "fd": i64(5)})...)
	if f.in.FD == nil || f.in.FD.Num != 5 || f.in.FDNum != 5 {
		t.Errorf("getsockopt's fd: %+v %d", f.in.FD, f.in.FDNum)
	}
}

// TestMappedAddresses: a v4-mapped IPv6 address prints as inet_ntop does (::ffff:a.b.c.d) in a
// bind's name, while a v4-mapped tuple turns an IPv6 socket into an IPv4 one whose protocol,
// read through the IPv4 layout, is set by the datagram (UDP).
func TestMappedAddresses(t *testing.T) {
	f := newNetFeeder(t)
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}
	f.socket(3, ppmAFInet6, sockDgram)
	f.ev(100, 20, i64(3))
	f.ev(100, 21, i64(0), addr6(mapped, 0))
	if s := f.fd(3); s.Name != "::ffff:127.0.0.1:0" {
		t.Errorf("bind to a mapped address: %q", s.Name)
	}
	tuple := []byte{ppmAFInet6}
	tuple = append(append(append(tuple, mapped...), port(40000)...), mapped...)
	tuple = append(tuple, port(41000)...)
	f.ev(100, 34, i64(3), u32(64))
	f.ev(100, 35, exitParams(t, 35, map[string][]byte{"res": i64(3), "tuple": tuple})...)
	if s := f.fd(3); s.Type != capture.FDIPv4Sock || s.Name != "127.0.0.1:40000->127.0.0.1:41000" || s.L4() != L4UDP {
		t.Errorf("mapped datagram on an IPv6 socket: %+v", s)
	}
}

// TestUnknownFamilySocket: sysdig keeps a socket of a family it does not know (AF_PACKET) as an
// fd of the unknown type, 'o'.
func TestUnknownFamilySocket(t *testing.T) {
	f := newNetFeeder(t)
	f.socket(9, 17, sockRaw)
	if s := f.fd(9); s.Type != capture.FDUnknown || s.TypeChar() != 'o' || s.TypeName() != "<NA>" {
		t.Errorf("AF_PACKET socket: %+v", s)
	}
}

// build makes one event without processing it.
func build(t *testing.T, tid int64, typ uint16, params ...[]byte) *event.Event {
	t.Helper()
	size := event.HeaderV2 + 2*len(params)
	for _, p := range params {
		size += len(p)
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b[0:], 1)
	binary.LittleEndian.PutUint64(b[8:], uint64(tid))
	binary.LittleEndian.PutUint32(b[16:], uint32(size))
	binary.LittleEndian.PutUint16(b[20:], typ)
	binary.LittleEndian.PutUint32(b[22:], uint32(len(params)))
	off := event.HeaderV2 + 2*len(params)
	for i, p := range params {
		binary.LittleEndian.PutUint16(b[event.HeaderV2+2*i:], uint16(len(p)))
		copy(b[off:], p)
		off += len(p)
	}
	e := &event.Event{}
	if err := e.Set(b, event.HeaderV2, event.Lookup(typ)); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSocketIODoesNotAllocate: the socket parsers allocate only when the state changes: a
// datagram with the socket's tuple, a TCP read or write allocate nothing.
func TestSocketIODoesNotAllocate(t *testing.T) {
	f := newNetFeeder(t)
	lo := ip4(127, 0, 0, 1)
	f.socket(6, ppmAFInet, sockDgram)
	tuple := tuple4(ip4(0, 0, 0, 0), 0, lo, 41466)
	f.ev(100, 30, i64(6), u32(10), tuple)
	f.ev(100, 31, exitParams(t, 31, map[string][]byte{"res": i64(10)})...)
	f.socket(7, ppmAFInet, sockStream)
	f.ev(100, 22, i64(7), addr4(lo, 80))
	f.ev(100, 23, i64(0), tuple4(lo, 5000, lo, 80))
	evs := []*event.Event{
		build(t, 100, 30, i64(6), u32(10), tuple),
		build(t, 100, 31, exitParams(t, 31, map[string][]byte{"res": i64(10)})...),
		build(t, 100, 8, i64(7), u32(3)),
		build(t, 100, 9, exitParams(t, 9, map[string][]byte{"res": i64(3)})...),
		build(t, 100, 6, i64(7), u32(3)),
		build(t, 100, 7, exitParams(t, 7, map[string][]byte{"res": i64(3)})...),
	}
	for _, e := range evs {
		f.in.Process(e)
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, e := range evs {
			f.in.Process(e)
		}
	}); n != 0 {
		t.Errorf("%v allocations per round of socket I/O", n)
	}
	if s := f.fd(6); s.Name != "127.0.0.1:0->127.0.0.1:41466" {
		t.Errorf("UDP socket renamed: %q", s.Name)
	}
}

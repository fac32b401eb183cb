package difffuzz

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

type nb struct {
	c  *Capture
	ts uint64
}

func (b *nb) ev(typ uint16, ps ...[]byte) {
	info := event.Lookup(typ)
	for len(ps) < len(info.Params) {
		p := info.Params[len(ps)]
		switch p.Type {
		case event.PTCharbuf, event.PTFspath:
			ps = append(ps, []byte{0})
		case event.PTBytebuf, event.PTSocktuple, event.PTSockaddr:
			ps = append(ps, []byte{})
		case event.PTUint32, event.PTFlags32, event.PTUint16, event.PTMode, event.PTUid, event.PTGid:
			ps = append(ps, le(4, 0))
		case event.PTUint8, event.PTFlags8, event.PTEnumflags8:
			ps = append(ps, []byte{0})
		default:
			ps = append(ps, le(8, 0))
		}
	}
	b.ts += 1000
	n := event.HeaderV2 + 2*len(ps)
	for _, v := range ps {
		n += len(v)
	}
	r := make([]byte, 0, n)
	r = binary.LittleEndian.AppendUint64(r, b.ts)
	r = binary.LittleEndian.AppendUint64(r, 100)
	r = binary.LittleEndian.AppendUint32(r, uint32(n))
	r = binary.LittleEndian.AppendUint16(r, typ)
	r = binary.LittleEndian.AppendUint32(r, uint32(len(ps)))
	for _, v := range ps {
		r = binary.LittleEndian.AppendUint16(r, uint16(len(v)))
	}
	for _, v := range ps {
		r = append(r, v...)
	}
	b.c.Events = append(b.c.Events, r)
}

func i8(v int64) []byte  { return le(8, uint64(v)) }
func u4(v uint32) []byte { return le(4, uint64(v)) }
func p2(v uint16) []byte { return le(2, uint64(v)) }
func t4(sip []byte, sp uint16, dip []byte, dp uint16) []byte {
	b := append([]byte{2}, sip...)
	b = append(b, p2(sp)...)
	b = append(b, dip...)
	return append(b, p2(dp)...)
}
func a4(ip []byte, p uint16) []byte { return append(append([]byte{2}, ip...), p2(p)...) }
func a6(ip []byte, p uint16) []byte { return append(append([]byte{10}, ip...), p2(p)...) }
func t6(sip []byte, sp uint16, dip []byte, dp uint16) []byte {
	b := append([]byte{10}, sip...)
	b = append(b, p2(sp)...)
	b = append(b, dip...)
	return append(b, p2(dp)...)
}
func tu(src, dst uint64, path string) []byte {
	b := append([]byte{1}, le(8, src)...)
	b = append(b, le(8, dst)...)
	return append(append(b, path...), 0)
}

func netBase() *nb {
	c := &Capture{}
	h := &c.Header
	h.Machine = &capture.MachineInfo{NumCPUs: 4, MemBytes: 8 << 30, MaxPid: 4194304, Hostname: "net"}
	h.Interfaces = []capture.Interface{
		{Type: 1, Name: "lo", Addr: [16]byte{127, 0, 0, 1}, Netmask: [16]byte{255}},
		{Type: 1, Name: "eth0", Addr: [16]byte{10, 0, 0, 1}, Netmask: [16]byte{255, 255, 255}},
		{Type: 2, Name: "lo", Addr: [16]byte{15: 1}},
	}
	h.Users = []capture.User{{Uid: 0, Gid: 0, Name: "root", Home: "/root", Shell: "/bin/sh"}}
	h.Groups = []capture.Group{{Gid: 0, Name: "root"}}
	v6lo := [16]byte{15: 1}
	srv := capture.FD{Fd: 3, Type: capture.FDIPv4Server, Sport: 80, L4Proto: 2}
	conn := capture.FD{Fd: 4, Type: capture.FDIPv4Sock, Sport: 80, Dport: 5555, L4Proto: 2}
	copy(conn.Sip[:], []byte{10, 0, 0, 1})
	copy(conn.Dip[:], []byte{10, 0, 0, 2})
	cli := capture.FD{Fd: 5, Type: capture.FDIPv4Sock, Sport: 40000, Dport: 443, L4Proto: 2}
	copy(cli.Sip[:], []byte{10, 0, 0, 1})
	copy(cli.Dip[:], []byte{10, 0, 0, 3})
	v6 := capture.FD{Fd: 6, Type: capture.FDIPv6Sock, Sip: v6lo, Dip: v6lo, Sport: 46294, Dport: 39731, L4Proto: 2}
	h.Threads = []capture.Thread{{Tid: 100, Pid: 100, Ptid: 1, Sid: 100, Vpgid: 100, Comm: "srv", Exe: "/usr/bin/srv",
		Exepath: "/usr/bin/srv", Cwd: "/root/", FdLimit: 1024, Vtid: 100, Vpid: 100, Root: "/", LoginUid: -1,
		FDs: []capture.FD{srv, conn, cli, v6}}}
	return &nb{c: c, ts: 1600000000000000000}
}

// TestGenerateNetCases writes the hand-made socket cases of testdata/difffuzz (net_sockets_*:
// UDP and TCP servers and clients, datagram tuples, IPv6 and v4-mapped sockets, unix sockets,
// getsockopt, sockets of the process list) with sysdig's output, which TestDiffFuzzCases then
// compares gosysdig with. It runs only when asked: DIFFFUZZ_NET_SYSDIG=/usr/bin/sysdig.
func TestGenerateNetCases(t *testing.T) {
	sysdig := os.Getenv("DIFFFUZZ_NET_SYSDIG")
	if sysdig == "" {
		t.Skip("regenerates testdata/difffuzz/net_sockets_*: set DIFFFUZZ_NET_SYSDIG to sysdig 0.29.3")
	}
	any4 := []byte{0, 0, 0, 0}
	lo := []byte{127, 0, 0, 1}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}
	b := netBase()
	// proc-list sockets used
	for _, fd := range []int64{3, 4, 5, 6} {
		b.ev(8, i8(fd), u4(1))
		b.ev(9, i8(1), []byte("x"))
	}
	// UDP server socket receives and answers
	b.ev(18, u4(2), u4(2), u4(0))
	b.ev(19, i8(7))
	b.ev(20, i8(7))
	b.ev(21, i8(0), a4(any4, 53))
	b.ev(34, i8(7), u4(512))
	b.ev(35, i8(20), []byte("q"), t4([]byte{10, 0, 0, 2}, 4000, any4, 53))
	b.ev(30, i8(7), u4(20), t4(any4, 53, []byte{10, 0, 0, 2}, 4000))
	b.ev(31, i8(20), []byte("a"))
	// TCP server: bind, listen, accept, read
	b.ev(18, u4(2), u4(1), u4(0))
	b.ev(19, i8(8))
	b.ev(20, i8(8))
	b.ev(21, i8(0), a4(any4, 8080))
	b.ev(24, i8(8), u4(5))
	b.ev(25, i8(0))
	b.ev(26, i8(8))
	b.ev(27, i8(9), t4(lo, 5000, lo, 8080), []byte{0})
	b.ev(6, i8(9), u4(10))
	b.ev(7, i8(3), []byte("abc"))
	// UDP client, unconnected: sendto then recvfrom
	b.ev(18, u4(2), u4(2), u4(0))
	b.ev(19, i8(10))
	b.ev(30, i8(10), u4(3), t4(any4, 0, []byte{10, 0, 0, 7}, 53))
	b.ev(31, i8(3), []byte("abc"))
	b.ev(34, i8(10), u4(512))
	b.ev(35, i8(3), []byte("def"), t4([]byte{10, 0, 0, 7}, 53, []byte{10, 0, 0, 1}, 33000))
	// sendto on an fd never seen
	b.ev(30, i8(11), u4(3), t4(any4, 0, lo, 9999))
	b.ev(31, i8(3), []byte("abc"))
	// IPv6 socket: bind to a mapped address, mapped datagram
	b.ev(18, u4(10), u4(2), u4(0))
	b.ev(19, i8(12))
	b.ev(20, i8(12))
	b.ev(21, i8(0), a6(mapped, 0))
	b.ev(34, i8(12), u4(64))
	b.ev(35, i8(3), []byte("m"), t6(mapped, 40000, mapped, 41000))
	// IPv6 UDP, real v6 tuple
	b.ev(18, u4(10), u4(2), u4(0))
	b.ev(19, i8(13))
	v6lo := make([]byte, 16)
	v6lo[15] = 1
	b.ev(30, i8(13), u4(3), t6(make([]byte, 16), 0, v6lo, 5353))
	b.ev(31, i8(3), []byte("abc"))
	// IPv6 TCP server bind and a connect on another socket
	b.ev(18, u4(10), u4(1), u4(0))
	b.ev(19, i8(14))
	b.ev(20, i8(14))
	b.ev(21, i8(0), a6(v6lo, 8443))
	b.ev(18, u4(2), u4(1), u4(0))
	b.ev(19, i8(15))
	b.ev(22, i8(15), a4(lo, 8080))
	b.ev(23, i8(0), t4(lo, 45000, lo, 8080))
	b.ev(8, i8(15), u4(1))
	b.ev(9, i8(1), []byte("x"))
	// unix datagram and stream
	b.ev(18, u4(1), u4(2), u4(0))
	b.ev(19, i8(16))
	b.ev(30, i8(16), u4(4), tu(0xffff88810dfdc000, 0, "/tmp/d.sock"))
	b.ev(31, i8(4), []byte("ping"))
	b.ev(18, u4(1), u4(1), u4(0))
	b.ev(19, i8(17))
	b.ev(22, i8(17), append([]byte{1}, append([]byte("/tmp/s.sock"), 0)...))
	b.ev(23, i8(0), tu(0xffff8884b5d9fa80, 0xffff8884b5d9ed00, "/tmp/s.sock"))
	// a socket of a family libsinsp does not know (AF_PACKET): kept with the unknown type
	b.ev(18, u4(17), u4(3), u4(0))
	b.ev(19, i8(18))
	b.ev(8, i8(18), u4(1))
	b.ev(9, i8(1), []byte("x"))
	// getsockopt on the UDP server socket
	b.ev(46)
	b.ev(47, i8(0), i8(7), []byte{1}, []byte{38}, append([]byte{0}, le(8, 17)...), u4(4))
	for _, fd := range []int64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18} {
		b.ev(4, i8(fd))
		b.ev(5, i8(0))
	}
	if err := Save(sysdig, casesDir, "net_sockets_mode0", b.c, 0); err != nil {
		t.Fatal(err)
	}
	fieldArgs := []string{"-p", "*%evt.num %evt.type %evt.dir %fd.num %fd.type %fd.typechar %fd.name %fd.sip %fd.cip %fd.lip %fd.rip " +
		"%fd.sport %fd.cport %fd.lport %fd.rport %fd.l4proto %fd.sockfamily %fd.is_server %fd.connected " +
		"%fd.cproto %fd.sproto %fd.lproto %fd.rproto %fd.name_changed"}
	for _, cs := range []struct {
		name string
		args []string
	}{
		{"net_sockets_fields", fieldArgs},
		// fd.ip, fd.net, fd.port and fd.proto match either end of the socket.
		{"net_sockets_filter_ip", []string{"fd.ip=10.0.0.2 or fd.net=127.0.0.0/8 or fd.ip=10.0.0.3"}},
		{"net_sockets_filter_port", []string{"fd.port=53 or fd.proto=8080 or fd.port>40000"}},
	} {
		saveArgs(t, sysdig, b.c, cs.name, cs.args)
	}
}

// saveArgs saves a case with its own arguments.
func saveArgs(t *testing.T, sysdig string, c *Capture, name string, args []string) {
	d := filepath.Join(casesDir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	by, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(d, "capture.scap")
	if err := os.WriteFile(file, by, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := Run(sysdig, file, args)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "args"), []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "expected"), want, 0o644); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	reg("tcp4", func() error { return tcpPair(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}) })
	reg("tcp6", func() error { return tcpPair(unix.AF_INET6, &unix.SockaddrInet6{Addr: loop6}) })
	reg("tcp4mapped", tcpMapped)
	reg("tcp_refused", tcpRefused)
	reg("tcp_einprogress", tcpInProgress)
	reg("tcp_reconnect", tcpReconnect)
	reg("udp4", func() error { return udp(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}) })
	reg("udp6", func() error { return udp(unix.AF_INET6, &unix.SockaddrInet6{Addr: loop6}) })
	reg("udp4mapped", udpMapped)
	reg("udp_connected", udpConnected)
	reg("sendmsg4", func() error { return msgs(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}) })
	reg("sendmsg6", func() error { return msgs(unix.AF_INET6, &unix.SockaddrInet6{Addr: loop6}) })
	reg("unix_stream", unixStream)
	reg("unix_dgram", unixDgram)
	reg("socketpair", socketPair)
	reg("netlink", netlink)
	reg("mid_sockets", midSockets)
}

var loop6 = [16]byte{15: 1}
var mapped4 = [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func listen(family int, sa unix.Sockaddr) (int, unix.Sockaddr) {
	s, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1))
	must(unix.Bind(s, sa))
	must(unix.Listen(s, 8))
	bound, err := unix.Getsockname(s)
	must(err)
	return s, bound
}

func exchange(c, a int) {
	buf := make([]byte, 256)
	for i := 0; i < 3; i++ {
		_, err := unix.Write(c, []byte(fmt.Sprintf("request %d from client\n", i)))
		must(err)
		n, err := unix.Read(a, buf)
		must(err)
		_, err = unix.Write(a, append([]byte("reply: "), buf[:n]...))
		must(err)
		_, err = unix.Read(c, buf)
		must(err)
	}
}

func tcpPair(family int, sa unix.Sockaddr) error {
	l, bound := listen(family, sa)
	c, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c, bound))
	a, _, err := unix.Accept4(l, unix.SOCK_CLOEXEC)
	must(err)
	exchange(c, a)
	unix.Getpeername(a)
	must(unix.Shutdown(c, unix.SHUT_WR))
	unix.Close(c)
	unix.Close(a)
	unix.Close(l)
	return nil
}

// tcpMapped: a dual-stack IPv6 listener accepting an IPv4 client (the server sees an
// IPv4-mapped peer) and an IPv6 socket connecting to ::ffff:127.0.0.1.
func tcpMapped() error {
	l, bound := listen(unix.AF_INET6, &unix.SockaddrInet6{})
	port := bound.(*unix.SockaddrInet6).Port
	c4, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c4, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	a, _, err := unix.Accept(l)
	must(err)
	exchange(c4, a)
	unix.Close(a)
	unix.Close(c4)
	c6, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c6, &unix.SockaddrInet6{Port: port, Addr: mapped4}))
	a, _, err = unix.Accept(l)
	must(err)
	exchange(c6, a)
	unix.Close(a)
	unix.Close(c6)
	unix.Close(l)
	return nil
}

func tcpRefused() error {
	for _, t := range []struct {
		f  int
		sa unix.Sockaddr
	}{
		{unix.AF_INET, &unix.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}}},
		{unix.AF_INET6, &unix.SockaddrInet6{Port: 1, Addr: loop6}},
		{unix.AF_INET6, &unix.SockaddrInet6{Port: 1, Addr: mapped4}},
	} {
		s, err := unix.Socket(t.f, unix.SOCK_STREAM, 0)
		must(err)
		if err := unix.Connect(s, t.sa); err == nil {
			return fmt.Errorf("connect to port 1 succeeded")
		}
		unix.Close(s)
	}
	return nil
}

func tcpInProgress() error {
	l, bound := listen(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	must(err)
	err = unix.Connect(c, bound)
	if err != nil && err != unix.EINPROGRESS {
		return err
	}
	fds := []unix.PollFd{{Fd: int32(c), Events: unix.POLLOUT}}
	_, err = unix.Poll(fds, 1000)
	must(err)
	_, err = unix.GetsockoptInt(c, unix.SOL_SOCKET, unix.SO_ERROR)
	must(err)
	a, _, err := unix.Accept(l)
	must(err)
	unix.Write(c, []byte("nonblocking hello"))
	buf := make([]byte, 64)
	unix.Read(a, buf)
	unix.Read(c, buf) // EAGAIN
	unix.Close(a)
	unix.Close(c)
	unix.Close(l)
	return nil
}

// tcpReconnect: one socket connects twice (the second fails with EISCONN), and a socket
// connects after a refused attempt on another port.
func tcpReconnect() error {
	l, bound := listen(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Bind(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(unix.Connect(c, bound))
	unix.Connect(c, bound)
	a, _, err := unix.Accept(l)
	must(err)
	exchange(c, a)
	unix.Close(a)
	unix.Close(c)
	c, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	unix.Connect(c, &unix.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}})
	unix.Close(c)
	c, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c, bound))
	a, _, err = unix.Accept(l)
	must(err)
	exchange(c, a)
	unix.Close(a)
	unix.Close(c)
	unix.Close(l)
	return nil
}

func udpSock(family int, sa unix.Sockaddr) (int, unix.Sockaddr) {
	s, err := unix.Socket(family, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Bind(s, sa))
	b, err := unix.Getsockname(s)
	must(err)
	return s, b
}

func udp(family int, sa unix.Sockaddr) error {
	srv, sb := udpSock(family, sa)
	cli, err := unix.Socket(family, unix.SOCK_DGRAM, 0)
	must(err)
	buf := make([]byte, 256)
	for i := 0; i < 3; i++ {
		must(unix.Sendto(cli, []byte(fmt.Sprintf("datagram %d", i)), 0, sb))
		n, from, err := unix.Recvfrom(srv, buf, 0)
		must(err)
		must(unix.Sendto(srv, buf[:n], 0, from))
		_, _, err = unix.Recvfrom(cli, buf, 0)
		must(err)
	}
	unix.Close(cli)
	unix.Close(srv)
	return nil
}

func udpMapped() error {
	srv, sb := udpSock(unix.AF_INET6, &unix.SockaddrInet6{})
	port := sb.(*unix.SockaddrInet6).Port
	cli, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	must(err)
	buf := make([]byte, 256)
	must(unix.Sendto(cli, []byte("v4 to dual stack"), 0, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	n, from, err := unix.Recvfrom(srv, buf, 0)
	must(err)
	must(unix.Sendto(srv, buf[:n], 0, from))
	unix.Recvfrom(cli, buf, 0)
	cli6, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Sendto(cli6, []byte("mapped to dual stack"), 0, &unix.SockaddrInet6{Port: port, Addr: mapped4}))
	unix.Recvfrom(srv, buf, 0)
	unix.Close(cli6)
	unix.Close(cli)
	unix.Close(srv)
	return nil
}

func udpConnected() error {
	srv, sb := udpSock(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	cli, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Connect(cli, sb))
	buf := make([]byte, 128)
	for i := 0; i < 3; i++ {
		_, err = unix.Write(cli, []byte("connected datagram"))
		must(err)
		unix.Read(srv, buf)
	}
	// Reconnect to another address, then disconnect (AF_UNSPEC).
	srv2, sb2 := udpSock(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	must(unix.Connect(cli, sb2))
	unix.Write(cli, []byte("to the second server"))
	unix.Read(srv2, buf)
	unix.Close(cli)
	unix.Close(srv)
	unix.Close(srv2)
	return nil
}

func msgs(family int, sa unix.Sockaddr) error {
	srv, sb := udpSock(family, sa)
	cli, err := unix.Socket(family, unix.SOCK_DGRAM, 0)
	must(err)
	buf := make([]byte, 256)
	oob := make([]byte, 64)
	for i := 0; i < 3; i++ {
		_, err = unix.SendmsgN(cli, []byte(fmt.Sprintf("message %d", i)), nil, sb, 0)
		must(err)
		n, _, _, from, err := unix.Recvmsg(srv, buf, oob, 0)
		must(err)
		_, err = unix.SendmsgN(srv, buf[:n], nil, from, 0)
		must(err)
		unix.Recvmsg(cli, buf, oob, 0)
	}
	// A stream pair with sendmsg/recvmsg on connected sockets.
	l, bound := listen(family, sa)
	c, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c, bound))
	a, _, err := unix.Accept(l)
	must(err)
	unix.SendmsgN(c, []byte("stream message"), nil, nil, 0)
	unix.Recvmsg(a, buf, oob, 0)
	unix.Close(a)
	unix.Close(c)
	unix.Close(l)
	unix.Close(cli)
	unix.Close(srv)
	return nil
}

func unixStream() error {
	d := scratch("unix_stream")
	path := d + "/server.sock"
	l, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Bind(l, &unix.SockaddrUnix{Name: path}))
	must(unix.Listen(l, 4))
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c, &unix.SockaddrUnix{Name: path}))
	a, _, err := unix.Accept(l)
	must(err)
	exchange(c, a)
	// An abstract socket too.
	l2, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Bind(l2, &unix.SockaddrUnix{Name: "@cwl-abstract"}))
	must(unix.Listen(l2, 4))
	c2, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c2, &unix.SockaddrUnix{Name: "@cwl-abstract"}))
	a2, _, err := unix.Accept(l2)
	must(err)
	exchange(c2, a2)
	for _, fd := range []int{a2, c2, l2, a, c, l} {
		unix.Close(fd)
	}
	// A connect to a path nobody listens on.
	c3, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.Connect(c3, &unix.SockaddrUnix{Name: d + "/nobody.sock"})
	unix.Close(c3)
	return nil
}

func unixDgram() error {
	d := scratch("unix_dgram")
	srv, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Bind(srv, &unix.SockaddrUnix{Name: d + "/dgram.sock"}))
	cli, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Bind(cli, &unix.SockaddrUnix{Name: d + "/client.sock"}))
	buf := make([]byte, 128)
	for i := 0; i < 3; i++ {
		must(unix.Sendto(cli, []byte("unix datagram"), 0, &unix.SockaddrUnix{Name: d + "/dgram.sock"}))
		_, from, err := unix.Recvfrom(srv, buf, 0)
		must(err)
		must(unix.Sendto(srv, []byte("answer"), 0, from))
		unix.Recvfrom(cli, buf, 0)
	}
	unix.SendmsgN(cli, []byte("by sendmsg"), nil, &unix.SockaddrUnix{Name: d + "/dgram.sock"}, 0)
	unix.Recvmsg(srv, buf, nil, 0)
	unix.Close(cli)
	unix.Close(srv)
	unix.Unlink(d + "/dgram.sock")
	return nil
}

func socketPair() error {
	for _, typ := range []int{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET} {
		p, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
		must(err)
		exchange(p[0], p[1])
		unix.Close(p[0])
		unix.Close(p[1])
	}
	return nil
}

func netlink() error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	must(err)
	must(unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	// RTM_GETLINK dump request.
	req := make([]byte, 32)
	put32 := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	put32(req[0:], 32)
	req[4], req[5] = unix.RTM_GETLINK, 0
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_DUMP)
	req[6], req[7] = byte(flags), byte(flags>>8)
	put32(req[8:], 1)
	req[16] = unix.AF_UNSPEC
	must(unix.Sendto(s, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	buf := make([]byte, 65536)
	for i := 0; i < 4; i++ {
		n, _, err := unix.Recvfrom(s, buf, unix.MSG_DONTWAIT)
		if err != nil || n == 0 {
			break
		}
	}
	unix.Close(s)
	g, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_GENERIC)
	if err == nil {
		unix.Close(g)
	}
	return nil
}

// midSockets opens a listener, a connected pair and a UDP socket, then waits for the capture
// to start (the recorder creates /tmp/cwl-mid_sockets/go) before using them: their tuples come
// from the capture's process list, not from events.
func midSockets() error {
	d := scratch("mid_sockets")
	l, bound := listen(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c, bound))
	a, _, err := unix.Accept(l)
	must(err)
	l6, b6 := listen(unix.AF_INET6, &unix.SockaddrInet6{Addr: loop6})
	c6, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c6, b6))
	a6, _, err := unix.Accept(l6)
	must(err)
	u, ub := udpSock(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	uc, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	must(err)
	must(unix.Connect(uc, ub))
	f, err := os.Create(d + "/before.txt")
	must(err)
	waitGo(d)
	exchange(c, a)
	exchange(c6, a6)
	unix.Write(uc, []byte("udp after start"))
	buf := make([]byte, 64)
	unix.Read(u, buf)
	f.WriteString("written after the capture started\n")
	f.Close()
	c2, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	must(err)
	must(unix.Connect(c2, bound))
	a2, _, err := unix.Accept(l)
	must(err)
	exchange(c2, a2)
	for _, fd := range []int{a2, c2, uc, u, a6, c6, l6, a, c, l} {
		unix.Close(fd)
	}
	return nil
}

func waitGo(d string) {
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(d + "/go"); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	panic("the recorder never said go")
}

package state

import (
	"encoding/binary"
	"strconv"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// The socket parsers follow libsinsp 0.29.3 (parsers.cpp: add_socket, parse_bind_exit,
// parse_connect_enter/exit, parse_accept_exit, parse_rw_exit, update_fd, parse_getsockopt_exit;
// threadinfo.cpp: add_fd_from_scap, fix_sockets_coming_from_proc; ifinfo.cpp: update_fd) on
// the union kept in FD.sock: every read and write goes through the layout libsinsp uses at
// that point, whatever the fd's type was when the bytes were written.

const (
	sockStream, sockDgram, sockRaw = 1, 2, 3
	ipprotoIP, ipprotoICMP         = 0, 1
	ipprotoTCP, ipprotoUDP         = 6, 17
	ipprotoRaw                     = 255
)

// l4FromSocket is add_socket's protocol inference from socket()'s type and protocol: only
// IPPROTO_IP masks the type's flags (SOCK_NONBLOCK, SOCK_CLOEXEC).
func l4FromSocket(typ, proto uint64) uint8 {
	raw := typ == sockRaw
	switch proto {
	case ipprotoTCP:
		if raw {
			return L4Raw
		}
		return L4TCP
	case ipprotoUDP:
		if raw {
			return L4Raw
		}
		return L4UDP
	case ipprotoIP:
		switch typ & 0xff {
		case sockStream:
			return L4TCP
		case sockDgram:
			return L4UDP
		}
	case ipprotoICMP:
		if raw {
			return L4Raw
		}
		return L4ICMP
	case ipprotoRaw:
		return L4Raw
	}
	return L4Unknown
}

// newSocket is add_socket.
func newSocket(fd int64, domain, typ, proto uint64) *FD {
	f := &FD{Num: fd}
	switch domain {
	case ppmAFUnix:
		f.Type = capture.FDUnixSock
	case ppmAFInet:
		f.Type = capture.FDIPv4Sock
		f.sock[v4L4] = l4FromSocket(typ, proto)
	case ppmAFInet6:
		f.Type = capture.FDIPv6Sock
		f.sock[v6L4] = l4FromSocket(typ, proto)
	case ppmAFNetlink:
		f.Type = capture.FDNetlink
	default:
		// sysdig is built with INCLUDE_UNKNOWN_SOCKET_FDS: a socket of any other family
		// (AF_PACKET...) is kept with the unknown type.
		f.Type = capture.FDUnknown
	}
	f.sync()
	return f
}

func (in *Inspector) parseSocket(ev *event.Event, t *Thread) {
	fd, ok := ev.Int(0)
	if !ok || fd < 0 {
		return
	}
	var enter event.Event
	if !in.enterEvent(t, &enter) {
		return
	}
	domain, _ := enter.Uint(0)
	typ, _ := enter.Uint(1)
	proto, _ := enter.Uint(2)
	in.newFD(t, newSocket(fd, domain, typ, proto))
}

// inferSendto is infer_sendto_fdinfo: a sendto on an fd the table does not hold adds a UDP
// socket of the tuple's family (the socket() call was not seen).
func (in *Inspector) inferSendto(ev *event.Event, t *Thread) {
	if in.FD != nil {
		return
	}
	fd, ok := ev.Int(0)
	p := ev.Param(2)
	if !ok || fd < 0 || len(p) == 0 {
		return
	}
	if p[0] == ppmAFInet || p[0] == ppmAFInet6 {
		in.newFD(t, newSocket(fd, uint64(p[0]), sockDgram, ipprotoUDP))
	}
}

func (in *Inspector) parseSocketpair(ev *event.Event, t *Thread) {
	if res, _ := ev.Int(0); res < 0 {
		return
	}
	src, _ := ev.Uint(3)
	dst, _ := ev.Uint(4)
	f := &FD{Type: capture.FDUnixSock}
	binary.LittleEndian.PutUint64(f.sock[0:], src)
	binary.LittleEndian.PutUint64(f.sock[8:], dst)
	f.sync()
	for _, i := range []int{1, 2} {
		if fd, ok := ev.Int(i); ok {
			f.Num = fd
			in.newFD(t, f)
		}
	}
}

// isMapped is libsinsp's is_ipv4_mapped_ipv6: a v4-mapped address, or the all-zero one.
func isMapped(b []byte) bool {
	for i := 0; i < 10; i++ {
		if b[i] != 0 {
			return false
		}
	}
	if b[10] == 0xff && b[11] == 0xff {
		return true
	}
	return b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0
}

// setV4 is update_ipv4_addresses_and_ports: false when the tuple is the stored one (either
// way round); the destination only fills an empty one.
func (f *FD) setV4(sip []byte, sport uint16, dip []byte, dport uint16) bool {
	if f.Type == capture.FDIPv4Sock {
		s, d := string(f.sock[v4Sip:v4Sip+4]), string(f.sock[v4Dip:v4Dip+4])
		if (string(sip) == s && sport == f.u16(v4Sport) && string(dip) == d && dport == f.u16(v4Dport)) ||
			(string(dip) == s && dport == f.u16(v4Sport) && string(sip) == d && sport == f.u16(v4Dport)) {
			return false
		}
	}
	return f.setTuple(v4Sip, v4Dip, v4Sport, v4Dport, 4, sip, sport, dip, dport)
}

// setV6 is set_ipv6_addresses_and_ports.
func (f *FD) setV6(sip []byte, sport uint16, dip []byte, dport uint16) bool {
	if f.Type == capture.FDIPv6Sock {
		s, d := string(f.sock[v6Sip:v6Sip+16]), string(f.sock[v6Dip:v6Dip+16])
		if (string(sip) == s && sport == f.u16(v6Sport) && string(dip) == d && dport == f.u16(v6Dport)) ||
			(string(dip) == s && dport == f.u16(v6Sport) && string(sip) == d && sport == f.u16(v6Dport)) {
			return false
		}
	}
	return f.setTuple(v6Sip, v6Dip, v6Sport, v6Dport, 16, sip, sport, dip, dport)
}

func (f *FD) setTuple(oSip, oDip, oSport, oDport, n int, sip []byte, sport uint16, dip []byte, dport uint16) bool {
	changed := false
	if string(f.sock[oSip:oSip+n]) != string(sip) {
		copy(f.sock[oSip:], sip)
		changed = true
	}
	if f.u16(oSport) != sport {
		f.put16(oSport, sport)
		changed = true
	}
	if f.isZero(oDip, n) {
		copy(f.sock[oDip:], dip)
		changed = true
	}
	if f.u16(oDport) == 0 {
		f.put16(oDport, dport)
		changed = true
	}
	return changed
}

// setTupleParam stores an IPv4 or IPv6 tuple parameter the way accept and connect do: a
// non-mapped IPv6 tuple makes an IPv6 socket, anything else an IPv4 one.
func (f *FD) setTupleParam(p []byte) bool {
	if p[0] == ppmAFInet6 {
		sip, dip := p[1:17], p[19:35]
		if !(isMapped(sip) && isMapped(dip)) {
			f.Type = capture.FDIPv6Sock
			return f.setV6(sip, le16(p[17:]), dip, le16(p[35:]))
		}
		f.Type = capture.FDIPv4Sock
		return f.setV4(sip[12:], le16(p[17:]), dip[12:], le16(p[35:]))
	}
	f.Type = capture.FDIPv4Sock
	return f.setV4(p[1:5], le16(p[5:]), p[7:11], le16(p[11:]))
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// tupleOK reports a tuple parameter long enough for its family.
func tupleOK(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch p[0] {
	case ppmAFInet:
		return len(p) >= 13
	case ppmAFInet6:
		return len(p) >= 37
	case ppmAFUnix:
		return len(p) >= 17
	}
	return true
}

// swap is swap_addresses: the IPv4 layout for an IPv4 socket, the IPv6 one for anything else.
func (f *FD) swap() {
	if f.Type == capture.FDIPv4Sock {
		f.swapAt(v4Sip, v4Dip, v4Sport, v4Dport, 4)
		return
	}
	f.swapAt(v6Sip, v6Dip, v6Sport, v6Dport, 16)
}

func (f *FD) swapAt(oSip, oDip, oSport, oDport, n int) {
	var tmp [16]byte
	copy(tmp[:n], f.sock[oSip:oSip+n])
	copy(f.sock[oSip:oSip+n], f.sock[oDip:oDip+n])
	copy(f.sock[oDip:oDip+n], tmp[:n])
	sp, dp := f.u16(oSport), f.u16(oDport)
	f.put16(oSport, dp)
	f.put16(oDport, sp)
}

func (f *FD) isUDP() bool { return f.Type == capture.FDIPv4Sock && f.sock[v4L4] == L4UDP }
func (f *FD) isTCP() bool { return f.Type == capture.FDIPv4Sock && f.sock[v4L4] == L4TCP }

// sockinfoName is sockinfo_to_str for a connection-type socket (ok false when libsinsp
// writes nothing: then the name stays), appended to b.
func (f *FD) sockinfoName(b []byte) ([]byte, bool) {
	switch f.Type {
	case capture.FDIPv4Sock:
		switch f.sock[v4L4] {
		case L4TCP, L4UDP:
			b = appendV4Tuple(b, f.sock[v4Sip:v4Sip+4], f.u16(v4Sport), f.sock[v4Dip:v4Dip+4], f.u16(v4Dport))
		case L4ICMP, L4Raw:
			b = appendIPv4(b, f.sock[v4Sip:v4Sip+4])
			b = append(b, "->"...)
			b = appendIPv4(b, f.sock[v4Dip:v4Dip+4])
		default:
			return append(b, "<unknown>"...), true
		}
	case capture.FDIPv6Sock:
		sip, dip := f.sock[v6Sip:v6Sip+16], f.sock[v6Dip:v6Dip+16]
		mapped := isMapped(sip) && isMapped(dip)
		switch f.sock[v6L4] {
		case L4TCP, L4UDP:
			if mapped { // the ports read through the IPv4 layout, as libsinsp does
				b = appendV4Tuple(b, sip[12:], f.u16(v4Sport), dip[12:], f.u16(v4Dport))
			} else {
				b = event.AppendIPv6(b, sip)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(f.u16(v6Sport)), 10)
				b = append(b, "->"...)
				b = event.AppendIPv6(b, dip)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(f.u16(v6Dport)), 10)
			}
		case L4ICMP:
			if mapped {
				b = appendIPv4(b, sip[12:])
				b = append(b, "->"...)
				b = appendIPv4(b, dip[12:])
			} else {
				b = event.AppendIPv6(b, sip)
				b = append(b, "->"...)
				b = event.AppendIPv6(b, dip)
			}
		default:
			return append(b, "<unknown>"...), true
		}
	default:
		return b, false
	}
	return b, true
}

// setSockinfoName names f by its tuple, allocating only when the name changes.
func (in *Inspector) setSockinfoName(f *FD) {
	b, ok := f.sockinfoName(in.sockName[:0])
	in.sockName = b
	if ok && string(b) != f.Name {
		f.Name = string(b)
	}
}

func appendIPv4(b, ip []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(ip[i]), 10)
	}
	return b
}

func appendV4Tuple(b, sip []byte, sport uint16, dip []byte, dport uint16) []byte {
	b = appendIPv4(b, sip)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, "->"...)
	b = appendIPv4(b, dip)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(dport), 10)
}

// paramName is a tuple or address parameter as sysdig prints it (get_param_as_str), cut as
// its parameter string storage cuts it: the rendering event's (the inspector's StrCap), or for
// a parameter of the stored enter event (fromEnter) the parser's own event, whose storage never
// grows from its first size.
func (in *Inspector) paramName(p []byte, tuple, fromEnter bool) string {
	var b []byte
	if tuple {
		b = event.AppendTuple(nil, p)
	} else {
		b = event.AppendSockaddr(nil, p)
	}
	max := in.storage.Param - 1
	if fromEnter {
		max = event.NewStorage().Param - 1
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

func (in *Inspector) parseBind(ev *event.Event, t *Thread) {
	f := in.FD
	if f == nil {
		return
	}
	if res, _ := ev.Int(0); res < 0 {
		return
	}
	p := ev.Param(1)
	if len(p) == 0 {
		return
	}
	// A port > 0 makes the socket a server socket: libsinsp writes the server address over
	// the tuple, taking the protocol from the tuple's layout first.
	switch {
	case p[0] == ppmAFInet && len(p) >= 7:
		if port := le16(p[5:]); port > 0 {
			f.Type = capture.FDIPv4Server
			copy(f.sock[0:4], p[1:5])
			f.put16(v4SrvPort, port)
			f.sock[v4SrvL4] = f.sock[v4L4]
			f.flags |= flRoleServer
		}
	case p[0] == ppmAFInet6 && len(p) >= 19:
		if port := le16(p[17:]); port > 0 {
			if isMapped(p[1:17]) {
				f.Type = capture.FDIPv4Server
				f.sock[v4SrvL4] = f.sock[v6L4]
				copy(f.sock[0:4], p[13:17])
				f.put16(v4SrvPort, port)
			} else {
				f.Type = capture.FDIPv6Server
				f.put16(v6SrvPort, port)
				copy(f.sock[0:16], p[1:17])
				f.sock[v6SrvL4] = f.sock[v6L4]
			}
			f.flags |= flRoleServer
		}
	}
	// Whatever the family and port, the socket is named by the address as it prints.
	f.Name = in.paramName(p, false, false)
	f.sync()
}

// parseConnectEnter is parse_connect_enter: the destination is stored before the call returns
// (a unix socket is named by the path at once).
func (in *Inspector) parseConnectEnter(ev *event.Event) {
	f := in.FD
	p := ev.Param(1)
	if f == nil || ev.NParams() < 2 || len(p) == 0 {
		return
	}
	switch p[0] {
	case ppmAFInet:
		if len(p) < 7 {
			return
		}
		f.Type = capture.FDIPv4Sock
		copy(f.sock[v4Dip:v4Dip+4], p[1:5])
		f.put16(v4Dport, le16(p[5:]))
	case ppmAFInet6:
		if len(p) < 19 {
			return
		}
		if isMapped(p[1:17]) {
			f.Type = capture.FDIPv4Sock
			copy(f.sock[v4Dip:v4Dip+4], p[13:17])
			f.put16(v4Dport, le16(p[17:]))
		} else {
			f.Type = capture.FDIPv6Sock
			f.put16(v6Dport, le16(p[17:]))
			copy(f.sock[v6Dip:v6Dip+16], p[1:17])
		}
	default:
		f.Name = in.paramName(p, false, false)
		setUnixInfo(f, p)
	}
	f.sync()
}

// setUnixInfo is set_unix_info: the 16 bytes after the family, whatever the parameter holds.
func setUnixInfo(f *FD, p []byte) {
	var b [16]byte
	copy(b[:], p[1:])
	copy(f.sock[0:16], b[:])
}

func (in *Inspector) parseConnect(ev *event.Event, t *Thread) {
	f := in.FD
	if f == nil {
		return
	}
	if res, _ := ev.Int(0); res < 0 && res != -115 { // a failed connect changes nothing but EINPROGRESS
		return
	}
	f.flags |= flConnected
	p := ev.Param(1)
	if len(p) == 0 {
		f.sync()
		return
	}
	// fill_client_socket_info
	if (p[0] == ppmAFInet || p[0] == ppmAFInet6) && tupleOK(p) {
		if f.setTupleParam(p) && f.RoleIsServer() && f.isUDP() {
			f.swap() // a connect by a UDP server
		}
		in.setSockinfoName(f)
	} else if p[0] != ppmAFInet && p[0] != ppmAFInet6 {
		f.Name = in.paramName(p, true, false)
		setUnixInfo(f, p)
	}
	if f.RoleNone() {
		f.flags |= flRoleClient
	}
	f.sync()
}

func (in *Inspector) parseAccept(ev *event.Event, t *Thread) {
	fd, ok := ev.Int(0)
	if !ok || fd < 0 {
		return
	}
	t.lastFd = fd
	in.FDNum = fd
	p := ev.Param(1)
	if !tupleOK(p) {
		return
	}
	f := &FD{Num: fd}
	switch p[0] {
	case ppmAFInet, ppmAFInet6:
		f.setTupleParam(p)
		if f.Type == capture.FDIPv4Sock {
			f.sock[v4L4] = L4TCP
		} else {
			f.sock[v6L4] = L4TCP
		}
	case ppmAFUnix:
		f.Type = capture.FDUnixSock
		setUnixInfo(f, p)
	default:
		return
	}
	f.Name = in.paramName(p, true, false)
	f.flags = flRoleServer | flConnected
	f.sync()
	in.newFD(t, f)
}

// updateFD is parser's update_fd: a datagram's tuple stored in the socket. False when nothing
// changed (or the tuple is empty).
func (in *Inspector) updateFD(f *FD, p []byte) bool {
	if !tupleOK(p) {
		return false
	}
	switch p[0] {
	case ppmAFInet:
		if f.Type == capture.FDIPv4Server {
			f.sock[v4L4] = f.sock[v4SrvL4] // the server's protocol carries over
		}
		f.Type = capture.FDIPv4Sock
		if !f.setV4(p[1:5], le16(p[5:]), p[7:11], le16(p[11:])) {
			return false
		}
	case ppmAFInet6:
		sip, dip := p[1:17], p[19:35]
		if isMapped(sip) && isMapped(dip) {
			f.Type = capture.FDIPv4Sock
			if !f.setV4(sip[12:], le16(p[17:]), dip[12:], le16(p[35:])) {
				return false
			}
		} else if !f.setV6(sip, le16(p[17:]), dip, le16(p[35:])) { // the type stays as it was
			return false
		}
	case ppmAFUnix:
		f.Type = capture.FDUnixSock
		setUnixInfo(f, p)
		f.Name = string(event.CString(p[17:]))
		return true
	}
	// A socket whose protocol is still unknown is taken for UDP: a TCP peer cannot change.
	switch f.Type {
	case capture.FDIPv4Sock:
		if f.sock[v4L4] == L4Unknown {
			f.sock[v4L4] = L4UDP
		}
	case capture.FDIPv6Sock:
		if f.sock[v6L4] == L4Unknown {
			f.sock[v6L4] = L4UDP
		}
	}
	in.completeFromInterfaces(f)
	return true
}

// parseRW is parse_rw_exit's state part: a successful call marks an IP socket connected, and
// recvfrom/recvmsg (tuple in the exit) and sendto/sendmsg (tuple in the enter) store the
// datagram's tuple in a socket that has no name yet or is not TCP, guessing its role first.
func (in *Inspector) parseRW(ev *event.Event, t *Thread) {
	f := in.FD
	if f == nil {
		return
	}
	if res, _ := ev.Int(0); res < 0 {
		return
	}
	if f.Type == capture.FDIPv4Sock || f.Type == capture.FDIPv6Sock {
		f.flags |= flConnected
	}
	reads := ev.Info.Flags&event.EFReadsFromFd != 0
	tuple := reads && (ev.Type == 35 || ev.Type == 53) || !reads && (ev.Type == 31 || ev.Type == 49)
	if !tuple || (f.Name != "" && f.isTCP()) {
		return
	}
	var p []byte
	fromEnter := false
	switch ev.Type {
	case 35: // recvfrom: the tuple is in the exit
		p = ev.Param(2)
	case 53: // recvmsg
		p = ev.Param(3)
	default: // sendto, sendmsg: in the enter
		var enter event.Event
		if !in.enterEvent(t, &enter) {
			return
		}
		p, fromEnter = enter.Param(2), true
	}
	if in.updateFD(f, p) {
		if f.Type == capture.FDIPv4Sock || f.Type == capture.FDIPv6Sock {
			if f.RoleNone() {
				in.guessRole(t, f, reads)
			}
			if (reads && f.RoleIsClient()) || (!reads && f.RoleIsServer()) {
				f.swap()
			}
			in.setSockinfoName(f)
		} else {
			f.Name = in.paramName(p, true, fromEnter)
		}
	}
	f.sync()
}

// guessRole is set_net_role_by_guessing. It reads the fd's ports through the IPv4 layout,
// whatever its type, and the fd itself is in the table it searches.
func (in *Inspector) guessRole(t *Thread, f *FD, incoming bool) {
	switch {
	case !boundToPort(t.fdt, f.u16(v4Dport)):
		f.flags |= flRoleClient
	case !usesClientPort(t.fdt, f.u16(v4Sport)):
		f.flags |= flRoleServer
	case incoming: // both ends look local: a server usually reads first, a client writes
		f.flags |= flRoleServer
	default:
		f.flags |= flRoleClient
	}
}

// boundToPort is threadinfo's is_bound_to_port: an IPv4 socket with that server port or an
// IPv4 server socket on it.
func boundToPort(fdt *FDTable, port uint16) bool {
	if fdt == nil {
		return false
	}
	for _, g := range fdt.fds {
		switch g.Type {
		case capture.FDIPv4Sock:
			if g.u16(v4Dport) == port {
				return true
			}
		case capture.FDIPv4Server:
			if g.u16(v4SrvPort) == port {
				return true
			}
		}
	}
	return false
}

// usesClientPort is threadinfo's uses_client_port: an IPv4 socket with that client port.
func usesClientPort(fdt *FDTable, port uint16) bool {
	if fdt == nil {
		return false
	}
	for _, g := range fdt.fds {
		if g.Type == capture.FDIPv4Sock && g.u16(v4Sport) == port {
			return true
		}
	}
	return false
}

// parseGetsockopt is parse_getsockopt_exit: the event's fd is its fd parameter, looked up in
// the main thread's table.
func (in *Inspector) parseGetsockopt(ev *event.Event, t *Thread) {
	if ev.NParams() < 2 {
		return
	}
	fd, ok := ev.Int(1)
	if !ok {
		return
	}
	// libsinsp's get_main_thread: a placeholder main thread when the process's is unknown.
	if m := in.mainOrPlaceholder(t); m != nil {
		in.FD = m.FD(fd)
	}
	t.lastFd = fd
	in.FDNum = fd
}

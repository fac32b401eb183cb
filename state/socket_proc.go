package state

import (
	"encoding/binary"
	"strconv"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// Sockets from a process list and the interface list: libsinsp's add_fd_from_scap,
// fix_sockets_coming_from_proc and sinsp_network_interfaces (ifinfo.cpp).

// completeFromInterfaces is the interface list's update_fd: a tuple with an empty end gets the
// machine's address that would have been used.
func (in *Inspector) completeFromInterfaces(f *FD) {
	switch f.Type {
	case capture.FDIPv4Sock:
		sipZero, dipZero := f.isZero(v4Sip, 4), f.isZero(v4Dip, 4)
		if !sipZero && !dipZero {
			return
		}
		from, to := v4Dip, v4Sip
		if !sipZero {
			from, to = v4Sip, v4Dip
		}
		addr := in.inferIPv4(f.sock[from : from+4])
		if string(addr[:]) == string(f.sock[from:from+4]) && f.u16(v4Sport) == f.u16(v4Dport) {
			return
		}
		copy(f.sock[to:to+4], addr[:])
	case capture.FDIPv6Sock:
		sipZero, dipZero := f.isZero(v6Sip, 16), f.isZero(v6Dip, 16)
		if !sipZero && !dipZero {
			return
		}
		from, to := v6Dip, v6Sip
		if !sipZero {
			from, to = v6Sip, v6Dip
		}
		addr := in.inferIPv6(f.sock[from : from+16])
		if string(addr[:]) == string(f.sock[from:from+16]) && f.u16(v6Sport) == f.u16(v6Dport) {
			return
		}
		copy(f.sock[to:to+16], addr[:])
	}
}

func isV4Interface(itf *capture.Interface) bool { return itf.Type == 1 || itf.Type == 3 }

// inferIPv4 is infer_ipv4_address: the interface with that address, else one on its subnet,
// else the first that is not 127.0.0.1, else 0.0.0.0.
func (in *Inspector) inferIPv4(dst []byte) (a [4]byte) {
	for i := range in.Interfaces {
		if itf := &in.Interfaces[i]; isV4Interface(itf) && string(itf.Addr[:4]) == string(dst) {
			copy(a[:], itf.Addr[:4])
			return a
		}
	}
	for i := range in.Interfaces {
		itf := &in.Interfaces[i]
		if !isV4Interface(itf) {
			continue
		}
		same := true
		for j := 0; j < 4; j++ {
			if itf.Addr[j]&itf.Netmask[j] != dst[j]&itf.Netmask[j] {
				same = false
			}
		}
		if same {
			copy(a[:], itf.Addr[:4])
			return a
		}
	}
	for i := range in.Interfaces {
		if itf := &in.Interfaces[i]; isV4Interface(itf) && string(itf.Addr[:4]) != "\x7f\x00\x00\x01" {
			copy(a[:], itf.Addr[:4])
			return a
		}
	}
	return a
}

// inferIPv6 is infer_ipv6_address: the same for IPv6, a subnet being the first 64 bits.
func (in *Inspector) inferIPv6(dst []byte) (a [16]byte) {
	for pass := 0; pass < 3; pass++ {
		for i := range in.Interfaces {
			itf := &in.Interfaces[i]
			if isV4Interface(itf) {
				continue
			}
			var hit bool
			switch pass {
			case 0:
				hit = string(itf.Addr[:]) == string(dst)
			case 1:
				hit = string(itf.Addr[:8]) == string(dst[:8])
			case 2:
				hit = string(itf.Addr[:]) != "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
			}
			if hit {
				return itf.Addr
			}
		}
	}
	return a
}

// fdFromCapture is add_fd_from_scap: an fd of a capture's (or /proc's) process list. IPv4
// sockets are named by their tuple and get a role only from fixServerSockets; IPv6 ones get
// none (their fields print <NA>); a unix socket with a path is a server's. union is the
// address union before the fd's own fields are written (what the previous fd of the list left).
func fdFromCapture(c *capture.FD, union *[40]byte) *FD {
	f := &FD{Num: c.Fd, Type: c.Type, Name: c.Name, Ino: c.Ino, sock: *union}
	switch c.Type {
	case capture.FDIPv4Sock:
		f.loadV4(c.Sip[:4], c.Sport, c.Dip[:4], c.Dport, c.L4Proto)
	case capture.FDIPv4Server:
		copy(f.sock[0:4], c.Sip[:4])
		f.put16(v4SrvPort, c.Sport)
		f.sock[v4SrvL4] = c.L4Proto
		f.Name = serverName(f)
	case capture.FDIPv6Sock:
		if isMapped(c.Sip[:]) && isMapped(c.Dip[:]) {
			f.Type = capture.FDIPv4Sock
			f.loadV4(c.Sip[12:], c.Sport, c.Dip[12:], c.Dport, c.L4Proto)
			break
		}
		copy(f.sock[v6Sip:], c.Sip[:])
		copy(f.sock[v6Dip:], c.Dip[:])
		f.put16(v6Sport, c.Sport)
		f.put16(v6Dport, c.Dport)
		f.sock[v6L4] = c.L4Proto
		if c.L4Proto == L4TCP {
			f.flags |= flConnected
		}
		f.Name = v6TupleName(f)
	case capture.FDIPv6Server:
		copy(f.sock[0:16], c.Sip[:])
		f.put16(v6SrvPort, c.Sport)
		f.sock[v6SrvL4] = c.L4Proto
		f.Name = serverName(f)
	case capture.FDUnixSock:
		binary.LittleEndian.PutUint64(f.sock[0:], c.Source)
		binary.LittleEndian.PutUint64(f.sock[8:], c.Dest)
		if f.Name == "" {
			f.flags |= flRoleClient
		} else {
			f.flags |= flRoleServer
		}
	default:
		f.OpenFlags, f.Dev = c.OpenFlags, c.Dev
	}
	f.sync()
	return f
}

func (f *FD) loadV4(sip []byte, sport uint16, dip []byte, dport uint16, l4 uint8) {
	copy(f.sock[v4Sip:], sip)
	copy(f.sock[v4Dip:], dip)
	f.put16(v4Sport, sport)
	f.put16(v4Dport, dport)
	f.sock[v4L4] = l4
	if l4 == L4TCP {
		f.flags |= flConnected
	}
	f.Name = string(appendV4Tuple(nil, sip, sport, dip, dport))
}

// v6TupleName is ipv6tuple_to_string, whatever the protocol.
func v6TupleName(f *FD) string {
	var b []byte
	b = event.AppendIPv6(b, f.sock[v6Sip:v6Sip+16])
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(f.u16(v6Sport)), 10)
	b = append(b, "->"...)
	b = event.AppendIPv6(b, f.sock[v6Dip:v6Dip+16])
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(f.u16(v6Dport)), 10))
}

// serverName is ipv4/ipv6serveraddr_to_string.
func serverName(f *FD) string {
	var b []byte
	ip, port, _ := f.ServerAddr()
	if f.Type == capture.FDIPv6Server {
		b = event.AppendIPv6(b, ip)
	} else {
		b = appendIPv4(b, ip)
	}
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(port), 10))
}

// fixServerSockets is fix_sockets_coming_from_proc: an IPv4 socket of the process list whose
// source port is some server socket's port (IPv4 or IPv6) is the server side, its tuple
// swapped to read client->server; every other IPv4 socket is a client. IPv6 sockets keep no
// role.
func (in *Inspector) fixServerSockets() {
	ports := map[uint16]bool{}
	done := map[*FDTable]bool{}
	for _, t := range in.threads {
		if t.fdt == nil || done[t.fdt] {
			continue
		}
		done[t.fdt] = true
		for _, f := range t.fdt.fds {
			if ip, port, ok := f.ServerAddr(); ok && ip != nil {
				ports[port] = true
			}
		}
	}
	for fdt := range done {
		for _, f := range fdt.fds {
			if f.Type != capture.FDIPv4Sock {
				continue
			}
			if ports[f.u16(v4Sport)] {
				f.swap()
				sip, dip, sport, dport, _ := f.Tuple()
				f.Name = string(appendV4Tuple(nil, sip, sport, dip, dport))
				f.flags |= flRoleServer
			} else {
				f.flags |= flRoleClient
			}
			f.sync()
		}
	}
}

package state

import (
	"encoding/binary"

	"github.com/gosysdig/gosysdig/capture"
)

// FD is one open file descriptor.
//
// A socket's addresses live in sock, laid out as libsinsp's sinsp_sockinfo union (an IPv4 or
// IPv6 tuple, an IPv4 or IPv6 server address, or a unix tuple, all at offset 0), and are read
// through the layout the fd's type names. libsinsp changes a socket's type without clearing
// the union (bind makes a tuple a server address, a datagram makes a server address a tuple
// again, a v4-mapped tuple turns an IPv6 socket into an IPv4 one), so what it prints depends
// on the bytes the previous layout left: keeping the same bytes is the only way to print the
// same. The exported address fields are a read-only view of sock for the fd's type (sync).
type FD struct {
	Num       int64
	Type      uint8 // capture.FD* types
	Name      string
	OpenFlags uint32
	Dev       uint32
	Ino       uint64
	// Views of sock: addresses in network order (IPv4 in the first 4 bytes), ports in host
	// order; a server socket's address and port in Sip and Sport.
	Sip, Dip     [16]byte
	Sport, Dport uint16
	L4Proto      uint8
	Role         uint8 // roleNone, roleClient, roleServer (view of flags)
	Source, Dest uint64

	sock  [40]byte
	flags uint32
	// oldName is the name when the fd was last looked up (Thread.FD), as libsinsp's
	// m_oldname: a copy (dup) keeps its source's, a new fd has none (namechange.go).
	oldName string
}

const (
	roleNone = iota
	roleClient
	roleServer
)

// libsinsp's fd flags that the socket parsers keep.
const (
	flRoleClient = 1 << 0
	flRoleServer = 1 << 1
	flConnected  = 1 << 2
)

// Offsets in the sockinfo union (tuples.h): ipv4tuple {sip, dip, sport, dport, l4proto},
// ipv6tuple {sip[16], dip[16], sport, dport, l4proto}, ipv4serverinfo {ip, port, l4proto},
// ipv6serverinfo {ip[16], port, l4proto}, unix_tuple {source, dest}.
const (
	v4Sip, v4Dip, v4Sport, v4Dport, v4L4 = 0, 4, 8, 10, 12
	v6Sip, v6Dip, v6Sport, v6Dport, v6L4 = 0, 16, 32, 34, 36
	v4SrvPort, v4SrvL4                   = 4, 6
	v6SrvPort, v6SrvL4                   = 16, 18
)

// L4 protocols (scap_l4_proto).
const (
	L4Unknown = 0
	L4NA      = 1
	L4TCP     = 2
	L4UDP     = 3
	L4ICMP    = 4
	L4Raw     = 5
)

func (f *FD) u16(off int) uint16      { return binary.LittleEndian.Uint16(f.sock[off:]) }
func (f *FD) put16(off int, v uint16) { binary.LittleEndian.PutUint16(f.sock[off:], v) }
func (f *FD) u64(off int) uint64      { return binary.LittleEndian.Uint64(f.sock[off:]) }
func (f *FD) isZero(off, n int) bool {
	for _, b := range f.sock[off : off+n] {
		if b != 0 {
			return false
		}
	}
	return true
}

// IsIP reports whether the fd is an IPv4 or IPv6 socket (connected or server).
func (f *FD) IsIP() bool {
	switch f.Type {
	case capture.FDIPv4Sock, capture.FDIPv6Sock, capture.FDIPv4Server, capture.FDIPv6Server:
		return true
	}
	return false
}

// IsV6 reports an IPv6 socket.
func (f *FD) IsV6() bool { return f.Type == capture.FDIPv6Sock || f.Type == capture.FDIPv6Server }

// IsServer reports a server socket (libsinsp's SERVSOCK types: bound to a port, address only).
func (f *FD) IsServer() bool {
	return f.Type == capture.FDIPv4Server || f.Type == capture.FDIPv6Server
}

// RoleNone, RoleIsServer, RoleIsClient and Connected are libsinsp's role and connection flags.
func (f *FD) RoleNone() bool     { return f.flags&(flRoleClient|flRoleServer) == 0 }
func (f *FD) RoleIsServer() bool { return f.flags&flRoleServer != 0 }
func (f *FD) RoleIsClient() bool { return f.flags&flRoleClient != 0 }
func (f *FD) Connected() bool    { return f.flags&flConnected != 0 }

// Tuple returns a connected-type socket's tuple, source (client) first: 4-byte addresses for
// IPv4, 16-byte ones for IPv6. The slices point into f.
func (f *FD) Tuple() (sip, dip []byte, sport, dport uint16, ok bool) {
	switch f.Type {
	case capture.FDIPv4Sock:
		return f.sock[v4Sip : v4Sip+4], f.sock[v4Dip : v4Dip+4], f.u16(v4Sport), f.u16(v4Dport), true
	case capture.FDIPv6Sock:
		return f.sock[v6Sip : v6Sip+16], f.sock[v6Dip : v6Dip+16], f.u16(v6Sport), f.u16(v6Dport), true
	}
	return nil, nil, 0, 0, false
}

// ServerAddr returns a server socket's address and port.
func (f *FD) ServerAddr() (ip []byte, port uint16, ok bool) {
	switch f.Type {
	case capture.FDIPv4Server:
		return f.sock[0:4], f.u16(v4SrvPort), true
	case capture.FDIPv6Server:
		return f.sock[0:16], f.u16(v6SrvPort), true
	}
	return nil, 0, false
}

// L4 is libsinsp's get_l4proto: the protocol of an IP socket, "not applicable" for a
// connection-type socket with no role yet (unless raw) and for everything else.
func (f *FD) L4() uint8 {
	switch f.Type {
	case capture.FDIPv4Sock:
		if f.sock[v4L4] == L4Raw {
			return L4Raw
		}
		if f.RoleNone() {
			return L4NA
		}
		return f.sock[v4L4]
	case capture.FDIPv6Sock:
		if f.sock[v6L4] == L4Raw {
			return L4Raw
		}
		if f.RoleNone() {
			return L4NA
		}
		return f.sock[v6L4]
	case capture.FDIPv4Server:
		return f.sock[v4SrvL4]
	case capture.FDIPv6Server:
		return f.sock[v6SrvL4]
	}
	return L4NA
}

// sync refreshes the exported view of the union and flags for the fd's current type.
func (f *FD) sync() {
	f.Sip, f.Dip = [16]byte{}, [16]byte{}
	f.Sport, f.Dport, f.L4Proto, f.Source, f.Dest = 0, 0, 0, 0, 0
	switch f.Type {
	case capture.FDIPv4Sock:
		copy(f.Sip[:4], f.sock[v4Sip:])
		copy(f.Dip[:4], f.sock[v4Dip:])
		f.Sport, f.Dport, f.L4Proto = f.u16(v4Sport), f.u16(v4Dport), f.sock[v4L4]
	case capture.FDIPv6Sock:
		copy(f.Sip[:], f.sock[v6Sip:])
		copy(f.Dip[:], f.sock[v6Dip:])
		f.Sport, f.Dport, f.L4Proto = f.u16(v6Sport), f.u16(v6Dport), f.sock[v6L4]
	case capture.FDIPv4Server:
		copy(f.Sip[:4], f.sock[0:])
		f.Sport, f.L4Proto = f.u16(v4SrvPort), f.sock[v4SrvL4]
	case capture.FDIPv6Server:
		copy(f.Sip[:], f.sock[0:])
		f.Sport, f.L4Proto = f.u16(v6SrvPort), f.sock[v6SrvL4]
	case capture.FDUnixSock:
		f.Source, f.Dest = f.u64(0), f.u64(8)
	}
	switch {
	case f.flags&flRoleServer != 0:
		f.Role = roleServer
	case f.flags&flRoleClient != 0:
		f.Role = roleClient
	default:
		f.Role = roleNone
	}
}

// fdTypes gives each capture fd type sysdig's one-letter type and fd.type name.
var fdTypes = [...]struct {
	char byte
	name string
}{
	capture.FDUnknown:     {'o', "<NA>"}, // a socket of a family libsinsp does not know
	capture.FDFile:        {'f', "file"},
	capture.FDDirectory:   {'d', "directory"},
	capture.FDIPv4Sock:    {'4', "ipv4"},
	capture.FDIPv6Sock:    {'6', "ipv6"},
	capture.FDIPv4Server:  {'4', "ipv4"},
	capture.FDIPv6Server:  {'6', "ipv6"},
	capture.FDFifo:        {'p', "pipe"},
	capture.FDUnixSock:    {'u', "unix"},
	capture.FDEvent:       {'e', "event"},
	capture.FDUnsupported: {'X', "<NA>"},
	capture.FDSignalfd:    {'s', "signalfd"},
	capture.FDEventpoll:   {'l', "eventpoll"},
	capture.FDInotify:     {'i', "inotify"},
	capture.FDTimerfd:     {'t', "timerfd"},
	capture.FDNetlink:     {'n', "netlink"},
	capture.FDFileV2:      {'f', "file"},
}

// TypeChar is sysdig's one-letter fd type.
func (f *FD) TypeChar() byte {
	if int(f.Type) < len(fdTypes) {
		return fdTypes[f.Type].char
	}
	return '?'
}

// TypeName is sysdig's fd.type string.
func (f *FD) TypeName() string {
	if int(f.Type) < len(fdTypes) {
		return fdTypes[f.Type].name
	}
	return "<NA>"
}

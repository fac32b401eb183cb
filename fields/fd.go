package fields

import (
	"strings"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

func ffield(name string, kind Kind, desc string, fn func(c *Ctx, f *state.FD) (Value, bool)) *Field {
	return &Field{Name: name, Kind: kind, Desc: desc, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		f := c.In.FD
		if f == nil {
			return Value{}, false
		}
		return fn(c, f)
	}}
}

func ipBytes(f *state.FD, b *[16]byte) []byte {
	if f.IsV6() {
		return b[:]
	}
	return b[:4]
}

// Address and port of each side. Tuples are stored client first; servers hold their address in Sip.
// connected reports a socket whose tuple is known (a role was set by connect or accept).
func connected(f *state.FD) bool { return f.IsServer() || f.Role != 0 }

func clientIP(f *state.FD) ([]byte, bool) {
	if !f.IsIP() || f.IsServer() || !connected(f) {
		return nil, false
	}
	return ipBytes(f, &f.Sip), true
}

// serverIP is the server address of a connected socket; sysdig 0.29.3 gives none for a
// listening socket (only its port).
func serverIP(f *state.FD) ([]byte, bool) {
	if !f.IsIP() || !connected(f) || f.IsServer() {
		return nil, false
	}
	return ipBytes(f, &f.Dip), true
}

func clientPort(f *state.FD) (uint16, bool) {
	if !f.IsIP() || f.IsServer() || !connected(f) {
		return 0, false
	}
	return f.Sport, true
}

func serverPort(f *state.FD) (uint16, bool) {
	if !f.IsIP() || !connected(f) {
		return 0, false
	}
	if f.IsServer() {
		return f.Sport, true
	}
	return f.Dport, true
}

func isLocalServer(f *state.FD) bool { return f.Role == 2 || f.IsServer() }

func ipv(b []byte, ok bool) (Value, bool) {
	if !ok {
		return Value{}, false
	}
	return Value{Kind: KIP, Str: b}, true
}

func portv(p uint16, ok bool) (Value, bool) {
	if !ok {
		return Value{}, false
	}
	return Value{Kind: KPort, Int: int64(p)}, true
}

func isFileType(f *state.FD) bool {
	return f.TypeChar() == 'f' || f.TypeChar() == 'd'
}

func init() {
	register("fd",
		&Field{Name: "fd.num", Kind: KInt, Desc: "fd number", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if !usesFD(c) {
				return Value{}, false
			}
			return i64(c.In.FDNum)
		}},
		ffield("fd.type", KString, "fd type: file, directory, ipv4, ipv6, unix, pipe, event...", func(c *Ctx, f *state.FD) (Value, bool) { return sstr(f.TypeName()) }),
		&Field{Name: "fd.typechar", Kind: KString, Desc: "fd type as one letter", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if !usesFD(c) {
				return Value{}, false
			}
			if f := c.In.FD; f != nil {
				return sstr(typeChars[f.TypeChar()])
			}
			return sstr(nullFDTypeChar(c.Ev.Type))
		}},
		&Field{Name: "fd.name", Kind: KString, Desc: "fd name: path, tuple...", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			f := c.In.FD
			if f != nil && c.Ev.Type == 23 { // a failed connect is named by the tuple it tried
				if res, ok := c.Ev.Int(0); ok && res < 0 {
					v, _ := c.Ev.AppendParam(c.buf(0), c.buf(1), 1, c.Buf, 0, nil)
					return bstr(c.keep(0, v))
				}
			}
			if f != nil {
				return sstr(f.Name)
			}
			return nullFDName(c)
		}},
		&Field{Name: "fd.directory", Kind: KString, Desc: "directory of a file fd", Extract: func(c *Ctx, a *Arg) (Value, bool) { return fdDirectoryValue(c) }},
		ffield("fd.filename", KString, "file name without directory", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.TypeChar() != 'f' {
				return Value{}, false
			}
			return sstr(f.Name[strings.LastIndexByte(f.Name, '/')+1:])
		}),
		ffield("fd.cip", KIP, "client address", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(clientIP(f)) }),
		ffield("fd.sip", KIP, "server address", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(serverIP(f)) }),
		ffield("fd.lip", KIP, "local address", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return ipv(sideIP(f, local), true)
			}
			return Value{}, false
		}),
		ffield("fd.rip", KIP, "remote address", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return ipv(sideIP(f, !local), true)
			}
			return Value{}, false
		}),
		ffield("fd.cport", KPort, "client port", func(c *Ctx, f *state.FD) (Value, bool) { return portv(clientPort(f)) }),
		ffield("fd.sport", KPort, "server port", func(c *Ctx, f *state.FD) (Value, bool) { return portv(serverPort(f)) }),
		ffield("fd.lport", KPort, "local port", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return portv(sidePort(f, local), true)
			}
			return Value{}, false
		}),
		ffield("fd.rport", KPort, "remote port", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return portv(sidePort(f, !local), true)
			}
			return Value{}, false
		}),
		ffield("fd.l4proto", KString, "transport protocol: tcp, udp, icmp, raw", func(c *Ctx, f *state.FD) (Value, bool) {
			switch f.L4() {
			case state.L4TCP:
				return sstr("tcp")
			case state.L4UDP:
				return sstr("udp")
			case state.L4ICMP:
				return sstr("icmp")
			case state.L4Raw:
				return sstr("raw")
			}
			return sstr("<NA>") // sysdig's text for sockets of unknown protocol and non-sockets
		}),
		ffield("fd.sockfamily", KString, "socket family: ip or unix", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.IsIP() {
				return sstr("ip")
			}
			if f.TypeChar() == 'u' {
				return sstr("unix")
			}
			return Value{}, false
		}),
		ffield("fd.is_server", KBool, "true when the process is the server side: a listening socket, or one whose server address is this machine's", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.IsServer() {
				return boolean(true)
			}
			if !f.IsIP() {
				return boolean(false)
			}
			return boolean(isLocalAddr(c, ipBytes(f, &f.Dip)))
		}),
		ffield("fd.dev", KUint, "device number of a file", func(c *Ctx, f *state.FD) (Value, bool) { return u64(uint64(f.Dev)) }),
		ffield("fd.ino", KUint, "inode number", func(c *Ctx, f *state.FD) (Value, bool) { return u64(f.Ino) }),
		ffield("fd.connected", KBool, "true for connected sockets", func(c *Ctx, f *state.FD) (Value, bool) {
			return boolean(f.Role != 0)
		}),
		ffield("fd.ip", KIP, "either address (filters match client or server)", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(serverIP(f)) }),
		ffield("fd.port", KPort, "either port (filters match client or server)", func(c *Ctx, f *state.FD) (Value, bool) { return portv(serverPort(f)) }),
	)
}

var typeChars = func() map[byte]string {
	m := map[byte]string{}
	for _, c := range "fd46upesltino?" {
		m[byte(c)] = string(c)
	}
	return m
}()

// usesFD reports events that create, use or destroy an fd: only those have fd fields.
func usesFD(c *Ctx) bool {
	return c.In.Thread != nil && c.Ev.Info.Flags&(event.EFCreatesFd|event.EFUsesFd|event.EFDestroysFd) != 0
}

// nullFDName is fd.name when the event's fd is unknown: exits of calls that open files still
// name what they tried to open; other exits have an empty name, enters none.
func nullFDName(c *Ctx) (Value, bool) {
	if !usesFD(c) || c.Ev.IsEnter() {
		return Value{}, false
	}
	switch c.Ev.Type {
	case 3, 59, 307, 327: // open, creat, openat_2, openat2 exits carry the path
		i := c.Ev.ParamIndex("name")
		if i < 0 {
			break
		}
		v, r := c.Ev.AppendParam(c.buf(0), c.buf(1), i, c.Buf, 0, c.resolver())
		c.keep(0, v)
		c.keep(1, r)
		if len(r) > 0 {
			return bstr(r)
		}
		if len(v) > 0 && v[0] == '/' { // absolute names are normalized too
			return bstr(c.keep(2, event.AppendJoinPath(c.buf(2), "/", v[1:])))
		}
		return bstr(v)
	}
	return sstr("")
}

// localIsSource tells which side of a connected socket's tuple is this machine, as sysdig
// decides it: the source when the source address is one of the machine's interfaces. Listening
// sockets and sockets without a tuple have no local/remote sides.
func localIsSource(c *Ctx, f *state.FD) (bool, bool) {
	if !f.IsIP() || f.IsServer() || !connected(f) {
		return false, false
	}
	return isLocalAddr(c, ipBytes(f, &f.Sip)), true
}

func sideIP(f *state.FD, source bool) []byte {
	if source {
		return ipBytes(f, &f.Sip)
	}
	return ipBytes(f, &f.Dip)
}

func sidePort(f *state.FD, source bool) uint16 {
	if source {
		return f.Sport
	}
	return f.Dport
}

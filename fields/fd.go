package fields

import (
	"bytes"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

func ffield(name string, kind Kind, desc string, fn func(c *Ctx, f *state.FD) (Value, bool)) *Field {
	return &Field{Name: name, Kind: kind, Desc: desc, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		f := c.In.FD
		if f == nil || !usesFD(c) { // sysdig's fd fields read no fd on other events
			return Value{}, false
		}
		return fn(c, f)
	}}
}

// Address and port of each side, as sysdig's fd filterchecks read them: connection-type
// sockets (IPv4/IPv6 "SOCK") have a client (source) and a server (destination) end once they
// have a role; server sockets ("SERVSOCK") only a server address and port.

func clientIP(f *state.FD) ([]byte, bool) {
	if f.RoleNone() {
		return nil, false
	}
	sip, _, _, _, ok := f.Tuple()
	return sip, ok
}

func serverIP(f *state.FD) ([]byte, bool) {
	if f.RoleNone() {
		return nil, false
	}
	if _, dip, _, _, ok := f.Tuple(); ok {
		return dip, true
	}
	ip, _, ok := f.ServerAddr()
	return ip, ok
}

// clientPort: sysdig's fd.cport of an fd with a role that is not a connection-type socket (a
// unix socket, a server socket) falls through to an empty string read as a port: 0.
func clientPort(f *state.FD) (uint16, bool) {
	if f.RoleNone() {
		return 0, false
	}
	_, _, sport, _, _ := f.Tuple()
	return sport, true
}

// serverPort: a server socket's port needs no role.
func serverPort(f *state.FD) (uint16, bool) {
	if _, _, _, dport, ok := f.Tuple(); ok {
		if f.RoleNone() {
			return 0, false
		}
		return dport, true
	}
	_, port, ok := f.ServerAddr()
	return port, ok
}

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
			if !usesFD(c) {
				return Value{}, false
			}
			f := c.In.FD
			if f != nil && c.Ev.Type == 23 { // a failed connect is named by the tuple it tried
				if res, ok := c.Ev.Int(0); ok && res < 0 {
					v, _ := c.Ev.AppendParam(c.buf(0), c.buf(1), 1, c.Buf, 0, nil)
					return bstr(c.keep(0, v))
				}
			}
			if f != nil {
				// libsinsp sanitizes fd names as it extracts them (bytes outside 0x20..0x7e
				// dropped), unlike process names.
				return bstr(c.keep(0, event.AppendSanitized(c.buf(0), unsafeBytes(f.Name))))
			}
			return nullFDName(c)
		}},
		&Field{Name: "fd.directory", Kind: KString, Desc: "directory of a file fd", Extract: func(c *Ctx, a *Arg) (Value, bool) { return fdDirectoryValue(c) }},
		ffield("fd.filename", KString, "file name without directory", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.TypeChar() != 'f' {
				return Value{}, false
			}
			// libsinsp: the sanitized name after its last '/', the whole name when it ends
			// with one, "/" when it has none.
			// The whole buffer is kept, not the name's tail: a kept tail would leave the
			// scratch buffer's capacity shorter at each call.
			b := c.keep(0, event.AppendSanitized(c.buf(0), unsafeBytes(f.Name)))
			i := bytes.LastIndexByte(b, '/')
			switch {
			case i < 0:
				return sstr("/")
			case i < len(b)-1:
				b = b[i+1:]
			}
			return bstr(b)
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
		ffield("fd.is_server", KBool, "true when the process is the server side: a server socket, or one whose server address is this machine's", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.IsServer() {
				return boolean(true)
			}
			if _, dip, _, _, ok := f.Tuple(); ok {
				return boolean(isLocalAddr(c, dip))
			}
			return boolean(false)
		}),
		ffield("fd.dev", KUint, "device number of a file", func(c *Ctx, f *state.FD) (Value, bool) { return u64(uint64(f.Dev)) }),
		ffield("fd.ino", KUint, "inode number", func(c *Ctx, f *state.FD) (Value, bool) { return u64(f.Ino) }),
		ffield("fd.connected", KBool, "true for connected sockets", func(c *Ctx, f *state.FD) (Value, bool) {
			return boolean(f.Connected())
		}),
		ffield("fd.ip", KIP, "either address (filters match client or server)", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(serverIP(f)) }),
		ffield("fd.port", KPort, "either port (filters match client or server)", func(c *Ctx, f *state.FD) (Value, bool) { return portv(serverPort(f)) }),
	)
}

var typeChars = func() map[byte]string {
	m := map[byte]string{}
	for _, c := range "fd46upesltinoX?" {
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
		if c.Ev.Type == 307 || c.Ev.Type == 327 {
			return bstr(c.keep(2, openatName(c, c.Ev, i, 1)))
		}
		// open and creat: the parameter as it prints, resolved (an absolute name as it is).
		v, r := c.Ev.AppendParam(c.buf(0), c.buf(1), i, c.Buf, 0, c.resolver())
		c.keep(0, v)
		c.keep(1, r)
		if len(r) > 0 {
			return bstr(r)
		}
		return bstr(v)
	case 23, 27, 57, 247, 249: // connect, accept, accept4, accept_5, accept4_5: the tuple as printed
		v, _ := c.Ev.AppendParam(c.buf(0), c.buf(1), 1, c.Buf, 0, c.resolver())
		return bstr(c.keep(0, v))
	case 103: // the old openat exit: the name is its enter's, which libsinsp has freed (event_cleanup) by the time sysdig prints; only the command line's filter still sees it
		if !c.InspectorFilter || !c.In.EnterOf(&c.enter) {
			return Value{}, false
		}
		return bstr(c.keep(2, openatName(c, &c.enter, 1, 0)))
	}
	return sstr("")
}

// openatName is extract_fdname_from_creator's name for openat_2 and openat2 exits (ev's name at
// i, its dirfd at dirfdAt; for the old openat, its enter's): the raw name joined as parse_dirfd and concatenate_paths join it (the cwd for AT_FDCWD, the
// dirfd's name and '/', "<UNKNOWN>" for a dirfd the table lacks; SCAP_MAX_PATH_SIZE), then
// sanitized.
func openatName(c *Ctx, ev *event.Event, i, dirfdAt int) []byte {
	p := ev.Param(i)
	raw := event.CString(p)
	dirfd, _ := ev.Int(dirfdAt)
	var dir string
	switch {
	case len(raw) > 0 && raw[0] == '/':
		dir = "."
	case dirfd == -100: // AT_FDCWD
		dir = c.In.Cwd(c.In.Thread)
	default:
		f := c.In.Thread.FD(dirfd)
		c.In.ReplaceEventFD(f, c.Ev.Info) // parse_dirfd's side effect: the directory is the event's fd now
		if f != nil {
			dir = f.Name + "/"
		} else {
			dir = "<UNKNOWN>"
		}
	}
	if len(dir)+len(p)+1 > 1024 {
		return append(c.buf(2), "/PATH_TOO_LONG"...)
	}
	var b []byte
	if len(raw) > 0 && raw[0] == '/' {
		b = event.AppendJoinPath(c.buf(3), "/", raw[1:])
	} else {
		b = event.AppendJoinPath(c.buf(3), dir, raw)
	}
	c.keep(3, b)
	return event.AppendSanitized(c.buf(2), b)
}

// localIsSource tells which side of a connection-type socket's tuple is this machine, as
// sysdig decides it: the source when the source address is one of the machine's. Server
// sockets and sockets without a role have no local/remote sides.
func localIsSource(c *Ctx, f *state.FD) (bool, bool) {
	sip, _, _, _, ok := f.Tuple()
	if !ok || f.RoleNone() {
		return false, false
	}
	return isLocalAddr(c, sip), true
}

func sideIP(f *state.FD, source bool) []byte {
	sip, dip, _, _, _ := f.Tuple()
	if source {
		return sip
	}
	return dip
}

func sidePort(f *state.FD, source bool) uint16 {
	_, _, sport, dport, _ := f.Tuple()
	if source {
		return sport
	}
	return dport
}

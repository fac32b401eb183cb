package fields

import (
	"strconv"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// nullFDTypeChar is fd.typechar for events whose fd is unknown: the type the call creates.
func nullFDTypeChar(typ uint16) string {
	switch typ &^ 1 {
	case evOpenE, evOpenatE, evOpenat2E, evOpenat2NewE, evCreatE:
		return "f"
	case 18, 26, 246, 56, 248: // socket, accept, accept_5, accept4, accept4_5
		return "4"
	case 60: // pipe
		return "p"
	case 62: // eventfd
		return "e"
	case 126: // signalfd
		return "s"
	case 136: // timerfd_create
		return "t"
	case 138: // inotify_init
		return "i"
	}
	return "o"
}

func isSock(f *state.FD) bool { return f.IsIP() && !f.IsServer() }

// portText renders a port as sysdig does with name resolution off: its number.
func portText(c *Ctx, p uint16) (Value, bool) {
	return bstr(c.keep(0, strconv.AppendUint(c.buf(0), uint64(p), 10)))
}

func withContainer(c *Ctx, v Value) (Value, bool) {
	b := c.buf(3)
	if t := c.In.Thread; t != nil {
		b = append(b, t.ContainerID...)
	}
	b = append(b, ':')
	b = append(b, v.Str...)
	return bstr(c.keep(3, b))
}

// fdDirectoryValue is fd.directory: for unknown fds, the directory of the name the call tried to
// create (exits only); for files and directories, their directory.
func fdDirectoryValue(c *Ctx) (Value, bool) {
	if !usesFD(c) {
		return Value{}, false
	}
	f := c.In.FD
	if f == nil {
		v, ok := nullFDName(c)
		if !ok {
			return Value{}, false
		}
		return bstr(fdDirectoryBytes(v.Str))
	}
	if !isFileType(f) {
		return Value{}, false
	}
	name := c.keep(2, event.AppendSanitized(c.buf(2), unsafeBytes(f.Name))) // as fd.name
	if f.TypeChar() == 'd' {
		return bstr(name)
	}
	return bstr(fdDirectoryBytes(name))
}

func fdDirectoryBytes(name []byte) []byte {
	i := -1
	for j := len(name) - 1; j >= 0; j-- {
		if name[j] == '/' {
			i = j
			break
		}
	}
	if i <= 0 {
		return unsafeBytes("/")
	}
	if i < len(name)-1 {
		return name[:i]
	}
	return name
}

func init() {
	register("fd",
		&Field{Name: "fd.uid", Kind: KString, Desc: "the thread id followed by the fd number: an id for the fd", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if !usesFD(c) {
				return Value{}, false
			}
			b := strconv.AppendInt(c.buf(0), c.In.Thread.Tid, 10)
			b = strconv.AppendInt(b, c.In.FDNum, 10)
			return bstr(c.keep(0, b))
		}},
		&Field{Name: "fd.containername", Kind: KString, Desc: "container id and fd name joined by a colon", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			v, ok := registry["fd.name"].Extract(c, a)
			if !ok {
				return Value{}, false
			}
			return withContainer(c, v)
		}},
		&Field{Name: "fd.containerdirectory", Kind: KString, Desc: "container id and directory name joined by a colon", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			v, ok := fdDirectoryValue(c)
			if !ok {
				return Value{}, false
			}
			return withContainer(c, v)
		}},
		ffield("fd.proto", KPort, "filter only: matches either port of the fd", func(c *Ctx, f *state.FD) (Value, bool) { return portv(serverPort(f)) }),
		ffield("fd.cproto", KString, "client port of a TCP/UDP socket, as text", func(c *Ctx, f *state.FD) (Value, bool) {
			if f.RoleNone() {
				return Value{}, false
			}
			if _, _, p, _, ok := f.Tuple(); ok {
				return portText(c, p)
			}
			return sstr("") // sysdig's text for the other fds with a role
		}),
		ffield("fd.sproto", KString, "server port of a TCP/UDP socket, as text", func(c *Ctx, f *state.FD) (Value, bool) {
			p, ok := serverPort(f)
			if !ok {
				return Value{}, false
			}
			if f.IsServer() {
				return sstr("") // sysdig renders only connection-type sockets' ports
			}
			return portText(c, p)
		}),
		ffield("fd.lproto", KString, "local port of a TCP/UDP socket, as text", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return portText(c, sidePort(f, local))
			}
			return Value{}, false
		}),
		ffield("fd.rproto", KString, "remote port of a TCP/UDP socket, as text", func(c *Ctx, f *state.FD) (Value, bool) {
			if local, ok := localIsSource(c, f); ok {
				return portText(c, sidePort(f, !local))
			}
			return Value{}, false
		}),
		ffield("fd.net", KIP, "filter only: true when either address of the fd is in a network", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(serverIP(f)) }),
		ffield("fd.cnet", KIP, "filter only: compares the client address with a network", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(clientIP(f)) }),
		ffield("fd.snet", KIP, "filter only: compares the server address with a network", func(c *Ctx, f *state.FD) (Value, bool) { return ipv(serverIP(f)) }),
		ffield("fd.lnet", KIP, "filter only: compares the local side's address with a network", func(c *Ctx, f *state.FD) (Value, bool) {
			if !isSock(f) {
				return Value{}, false
			}
			return registry["fd.lip"].Extract(c, nil)
		}),
		ffield("fd.rnet", KIP, "filter only: compares the remote side's address with a network", func(c *Ctx, f *state.FD) (Value, bool) {
			if !isSock(f) {
				return Value{}, false
			}
			return registry["fd.rip"].Extract(c, nil)
		}),
		ffield("fd.name_changed", KBool, "true when this event changed the name of the fd it uses (e.g. a UDP tuple)", func(c *Ctx, f *state.FD) (Value, bool) {
			return boolean(c.In.FDNameChanged && !c.InspectorFilter)
		}),
		// sysdig resolves names only for addresses its DNS cache already knows, which a capture
		// being read never fills: these fields are never set.
		ffield("fd.cip.name", KString, "domain name of the client address (never resolved when reading captures)", func(c *Ctx, f *state.FD) (Value, bool) { return Value{}, false }),
		ffield("fd.sip.name", KString, "domain name of the server address (never resolved when reading captures)", func(c *Ctx, f *state.FD) (Value, bool) { return Value{}, false }),
		ffield("fd.lip.name", KString, "domain name of the local address (never resolved when reading captures)", func(c *Ctx, f *state.FD) (Value, bool) { return Value{}, false }),
		ffield("fd.rip.name", KString, "domain name of the remote address (never resolved when reading captures)", func(c *Ctx, f *state.FD) (Value, bool) { return Value{}, false }),
		ffield("fd.dev.major", KInt, "major number of the device holding the file", func(c *Ctx, f *state.FD) (Value, bool) {
			return i64(int64((f.Dev & 0xfff00) >> 8))
		}),
		ffield("fd.dev.minor", KInt, "minor number of the device holding the file", func(c *Ctx, f *state.FD) (Value, bool) {
			return i64(int64((f.Dev & 0xff) | ((f.Dev >> 12) & 0xfff00)))
		}),
	)
	for _, n := range []string{"fd.ip", "fd.port", "fd.proto", "fd.net", "fd.cnet", "fd.snet", "fd.lnet", "fd.rnet"} {
		registry[n].FilterOnly = true
	}
	// sysdig's compare_ip, compare_net and compare_port: fd.ip and fd.net match either address
	// of a connection-type socket (or a server socket's), fd.port and fd.proto either port,
	// whatever the socket's role.
	for _, n := range []string{"fd.ip", "fd.net"} {
		registry[n].Extract = func(c *Ctx, a *Arg) (Value, bool) { return firstValue(c, a, eitherIP) }
		registry[n].Each = eitherIP
	}
	for _, n := range []string{"fd.port", "fd.proto"} {
		registry[n].Extract = func(c *Ctx, a *Arg) (Value, bool) { return firstValue(c, a, eitherPort) }
		registry[n].Each = eitherPort
	}
}

// isLocalAddr reports whether ip is one of the machine's addresses, as sysdig decides which side
// of a socket is local: for IPv4, the thread's container's address or an interface's; for IPv6
// (never in a container), an interface on the same /64.
func isLocalAddr(c *Ctx, ip []byte) bool {
	t := c.In.Thread
	if len(ip) == 16 && t != nil && t.ContainerID != "" {
		return false
	}
	if t != nil && t.ContainerID != "" && len(ip) == 4 {
		if ct := c.In.Containers.Get(t.ContainerID); ct != nil && ct.IP != "" && ipv4Equal(ct.IP, ip) {
			return true
		}
	}
	for i := range c.In.Interfaces {
		itf := &c.In.Interfaces[i]
		v4 := itf.Type == 1 || itf.Type == 3
		if v4 && len(ip) == 4 && string(itf.Addr[:4]) == string(ip) {
			return true
		}
		if !v4 && len(ip) == 16 && string(itf.Addr[:8]) == string(ip[:8]) {
			return true
		}
	}
	return false
}

// ipv4Equal compares dotted-quad text with 4 address bytes without allocating.
func ipv4Equal(s string, ip []byte) bool {
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 || n != int(ip[part]) {
				return false
			}
			part, n, digits = part+1, 0, 0
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
		digits++
	}
	return part == 4
}

func eitherIP(c *Ctx, a *Arg, yield func(Value) bool) {
	f := c.In.FD
	if f == nil || !usesFD(c) {
		return
	}
	if sip, dip, _, _, ok := f.Tuple(); ok {
		if yield(Value{Kind: KIP, Str: sip}) {
			yield(Value{Kind: KIP, Str: dip})
		}
		return
	}
	if ip, _, ok := f.ServerAddr(); ok {
		yield(Value{Kind: KIP, Str: ip})
	}
}

func eitherPort(c *Ctx, a *Arg, yield func(Value) bool) {
	f := c.In.FD
	if f == nil || !usesFD(c) {
		return
	}
	if _, _, sport, dport, ok := f.Tuple(); ok {
		if yield(Value{Kind: KPort, Int: int64(sport)}) {
			yield(Value{Kind: KPort, Int: int64(dport)})
		}
		return
	}
	if _, port, ok := f.ServerAddr(); ok {
		yield(Value{Kind: KPort, Int: int64(port)})
	}
}

// firstValue is a multi-valued field's first value.
func firstValue(c *Ctx, a *Arg, each func(*Ctx, *Arg, func(Value) bool)) (v Value, ok bool) {
	each(c, a, func(x Value) bool {
		v, ok = x, true
		return false
	})
	return v, ok
}

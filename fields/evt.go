package fields

import (
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// evtTypeName is the event's name; a generic event's is its system call's, and none (sysdig
// prints <NA>, JSON null) for a code beyond 0.29.3's system call table.
func evtTypeName(e *event.Event) (string, bool) {
	if e.Type <= 1 {
		if code, ok := e.Uint(0); ok {
			if !event.KnownSyscall(uint16(code)) {
				return "", false
			}
			return event.SyscallName(uint16(code)), true
		}
	}
	return e.Info.Name, true
}

// typeName is evtTypeName as a field value.
func typeName(e *event.Event) (Value, bool) {
	n, ok := evtTypeName(e)
	if !ok {
		return Value{}, false
	}
	return sstr(n)
}

// resParam finds the event's return value parameter (res or fd on exit events).
func resParam(e *event.Event) (int64, bool) {
	if e.IsEnter() || e.NParams() == 0 {
		return 0, false
	}
	n := e.Info.Params[0].Name
	if n != "res" && n != "fd" {
		return 0, false
	}
	return e.Int(0)
}

func (c *Ctx) buf(i int) []byte { return c.scratch[i][:0] }
func (c *Ctx) keep(i int, b []byte) []byte {
	c.scratch[i] = b
	return b
}

func (c *Ctx) resolver() event.Resolver { return state.Resolver{In: c.In} }

// argEvent finds the event and parameter an evt.arg-style argument names: the event's own, or
// with ExitArgsFromEnter on an exit, its enter event's when the exit has no such parameter.
func argEvent(c *Ctx, a *Arg) (*event.Event, int) {
	if i := paramByArg(c.Ev, a); i >= 0 {
		return c.Ev, i
	}
	if c.ExitArgsFromEnter && !a.HasN && !c.Ev.IsEnter() && c.In != nil && c.In.EnterOf(&c.enter) {
		if i := paramByArg(&c.enter, a); i >= 0 {
			return &c.enter, i
		}
	}
	return nil, -1
}

// paramByArg finds the parameter an evt.arg-style argument names: by index or by name.
func paramByArg(e *event.Event, a *Arg) int {
	if a.HasN {
		if a.N < e.NParams() {
			return a.N
		}
		return -1
	}
	return e.ParamIndex(a.Name)
}

var categoryNames = map[uint32]string{
	event.ECUnknown: "unknown", event.ECOther: "other", event.ECFile: "file", event.ECNet: "net",
	event.ECIPC: "IPC", event.ECMemory: "memory", event.ECProcess: "process", event.ECSleep: "sleep",
	event.ECSystem: "system", event.ECSignal: "signal", event.ECUser: "user", event.ECTime: "time",
	event.ECProcessing: "processing", event.ECIORead: "I/O", event.ECIOWrite: "I/O",
	event.ECIOOther: "I/O", event.ECWait: "wait", event.ECScheduler: "scheduler",
	event.ECInternal: "internal",
}

func init() {
	register("evt",
		&Field{Name: "evt.num", Kind: KUint, Desc: "sequence number of the event in the capture", Extract: func(c *Ctx, a *Arg) (Value, bool) { return u64(c.Ev.Num) }},
		&Field{Name: "evt.time", Kind: KString, Desc: "wall-clock time of the event, HH:MM:SS.nnnnnnnnn", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return bstr(c.keep(0, AppendClock(c.buf(0), c.Ev.TS)))
		}},
		&Field{Name: "evt.time.s", Kind: KString, Desc: "wall-clock time of the event, HH:MM:SS", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			b := AppendClock(c.buf(0), c.Ev.TS)
			return bstr(c.keep(0, b[:8]))
		}},
		&Field{Name: "evt.datetime", Kind: KString, Desc: "event timestamp as a date and time string", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return bstr(c.keep(0, appendDateTime(c.buf(0), c.Ev.TS)))
		}},
		&Field{Name: "evt.rawtime", Kind: KAbsTime, Desc: "absolute event timestamp (ns since epoch)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return Value{Kind: KUint, Int: int64(c.Ev.TS)}, true
		}},
		&Field{Name: "evt.rawtime.s", Kind: KUint, Desc: "event timestamp, whole seconds since the epoch", Extract: func(c *Ctx, a *Arg) (Value, bool) { return u64(c.Ev.TS / 1e9) }},
		&Field{Name: "evt.rawtime.ns", Kind: KUint, Desc: "nanosecond part of the event timestamp", Extract: func(c *Ctx, a *Arg) (Value, bool) { return padded(KUint, c.Ev.TS%1e9) }},
		&Field{Name: "evt.reltime", Kind: KRelTime, Desc: "time since the first event", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return padded(KRelTime, c.Ev.TS-c.FirstTS) // PF_10_PADDED_DEC: %09 in sysdig
		}},
		&Field{Name: "evt.outputtime", Kind: KAbsTime, Desc: "event timestamp in the format chosen for output (-t)", Extract: outputTime},
		&Field{Name: "evt.latency", Kind: KRelTime, Desc: "time from a call's enter event to its exit event, in ns (0 on enters)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			l, ok := latency(c)
			if !ok {
				return Value{}, false
			}
			return Value{Kind: KRelTime, Int: int64(l)}, true
		}},
		&Field{Name: "evt.latency.s", Kind: KUint, Desc: "whole seconds of the enter-to-exit delta", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			l, ok := latency(c)
			if !ok {
				return Value{}, false
			}
			return Value{Kind: KRelTime, Int: int64(l / 1e9)}, true
		}},
		&Field{Name: "evt.latency.ns", Kind: KUint, Desc: "nanosecond part of the enter-to-exit delta", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			l, ok := latency(c)
			if !ok {
				return Value{}, false
			}
			return padded(KRelTime, l%1e9)
		}},
		&Field{Name: "evt.deltatime", Kind: KRelTime, Desc: "ns elapsed since the previously shown event", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			var d uint64
			if c.PrevTS != 0 {
				d = c.Ev.TS - c.PrevTS
			}
			return Value{Kind: KRelTime, Int: int64(d)}, true
		}},
		&Field{Name: "evt.dir", Kind: KString, Desc: "event direction: > enter, < exit", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if c.Ev.IsEnter() {
				return sstr(">")
			}
			return sstr("<")
		}},
		&Field{Name: "evt.type", Kind: KString, Desc: "event name, e.g. open", Extract: func(c *Ctx, a *Arg) (Value, bool) { return typeName(c.Ev) }},
		&Field{Name: "evt.type.is", Kind: KUint, Arg: ArgRequired, Desc: "1 if the event type is the argument", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if n, _ := evtTypeName(c.Ev); n == a.Raw {
				return u64(1)
			}
			return u64(0)
		}},
		&Field{Name: "syscall.type", Kind: KString, Desc: "system call name, for system call events", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			// sysdig tests the event flags against EC_INTERNAL, which is EF_SKIPPARSERESET's bit.
			if c.Ev.Info.Flags&event.EFSkipParseReset != 0 || c.Ev.Type == evSwitch6 {
				return Value{}, false
			}
			return typeName(c.Ev)
		}},
		&Field{Name: "evt.category", Kind: KString, Desc: "event category: file, net, process...", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			cat := c.Ev.Info.Category
			if c.Ev.Type <= 1 {
				id, _ := c.Ev.Uint(0)
				return sstr(genericCategory(uint16(id)))
			}
			if cat&ecIOBase != 0 && cat&event.ECInternal == 0 {
				return sstr(ioSubcategory(c))
			}
			if n, ok := categoryNames[cat&^event.ECInternal]; ok && cat&event.ECInternal == 0 {
				return sstr(n)
			}
			return sstr(categoryNames[cat])
		}},
		&Field{Name: "evt.cpu", Kind: KInt, Desc: "CPU the event happened on", Extract: func(c *Ctx, a *Arg) (Value, bool) { return i64(int64(c.Ev.CPU)) }},
		&Field{Name: "evt.args", Kind: KString, Desc: "all event arguments as one string", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			b, s := c.Ev.AppendArgs(c.buf(0), c.buf(1), c.Buf, c.MaxLen, c.resolver())
			c.keep(1, s)
			return bstr(c.keep(0, b))
		}},
		&Field{Name: "evt.info", Kind: KString, Desc: "event arguments, or a description for events that have one", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			b, s := c.Ev.AppendArgs(c.buf(0), c.buf(1), c.Buf, c.MaxLen, c.resolver())
			c.keep(1, s)
			return bstr(c.keep(0, b))
		}},
		&Field{Name: "evt.arg", Kind: KString, Arg: ArgRequired, Desc: "one argument, by name (evt.arg.fd) or index (evt.arg[0]), resolved", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ev, i := argEvent(c, a)
			if i < 0 {
				return Value{}, false
			}
			v, r := ev.AppendParam(c.buf(0), c.buf(1), i, c.Buf, c.MaxLen, c.resolver())
			c.keep(0, v)
			c.keep(1, r)
			if len(r) > 0 {
				return bstr(r)
			}
			return bstr(v)
		}},
		&Field{Name: "evt.rawarg", Kind: KString, Arg: ArgRequired, Desc: "one argument, by name, unresolved (numbers compare as numbers)", Extract: rawArg},
		&Field{Name: "evt.res", Kind: KString, Desc: "return value: SUCCESS or the error name", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			res, ok := resParam(c.Ev)
			if !ok {
				return Value{}, false
			}
			if res >= 0 {
				return sstr("SUCCESS")
			}
			// sysdig prints the parameter's resolved text, else its value: an errno's name,
			// but a clone's PID-typed res stays a number (no thread has a negative tid).
			v, r := c.Ev.AppendParam(c.buf(0), c.buf(1), 0, event.BufNormal, 0, c.resolver())
			c.keep(0, v)
			c.keep(1, r)
			if len(r) > 0 {
				return bstr(r)
			}
			return bstr(v)
		}},
		&Field{Name: "evt.rawres", Kind: KInt, Desc: "return value as a number", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			res, ok := resParam(c.Ev)
			if !ok {
				return Value{}, false
			}
			return i64(res)
		}},
		&Field{Name: "evt.failed", Kind: KBool, Desc: "true when the call failed (negative return value)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			res, ok := resParam(c.Ev)
			return boolean(ok && res < 0)
		}},
		&Field{Name: "evt.is_io", Kind: KBool, Desc: "true for events that read or write fds", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return boolean(c.Ev.Info.Flags&(event.EFReadsFromFd|event.EFWritesToFd) != 0)
		}},
		&Field{Name: "evt.is_io_read", Kind: KBool, Desc: "true for events that read from fds", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return boolean(c.Ev.Info.Flags&event.EFReadsFromFd != 0)
		}},
		&Field{Name: "evt.is_io_write", Kind: KBool, Desc: "true for events that write to fds", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return boolean(c.Ev.Info.Flags&event.EFWritesToFd != 0)
		}},
		&Field{Name: "evt.io_dir", Kind: KString, Desc: "r or w for I/O events", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			switch {
			case c.Ev.Info.Flags&event.EFWritesToFd != 0:
				return sstr("write")
			case c.Ev.Info.Flags&event.EFReadsFromFd != 0:
				return sstr("read")
			}
			return Value{}, false
		}},
		&Field{Name: "evt.is_wait", Kind: KBool, Desc: "true for events that make the thread wait", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return boolean(c.Ev.Info.Flags&event.EFWaits != 0)
		}},
		&Field{Name: "evt.buflen", Kind: KUint, Desc: "bytes an I/O call moved (its return value), for calls on a known fd", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if c.In.FD == nil || c.In.FDFallback || c.Ev.Info.Category&ecIOBase == 0 || c.Ev.IsEnter() {
				return Value{}, false
			}
			res, ok := c.Ev.Int(0)
			if !ok || res < 0 {
				return Value{}, false
			}
			return u64(uint64(res))
		}},
		&Field{Name: "evt.buffer", Kind: KBytes, Desc: "the event's binary buffer", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			i := c.Ev.DataParam()
			if i < 0 {
				return Value{}, false
			}
			return Value{Kind: KBytes, Str: c.Ev.Param(i)}, true
		}},
		&Field{Name: "evt.count", Kind: KUint, Desc: "1 for every event, for counting", Extract: func(c *Ctx, a *Arg) (Value, bool) { return u64(1) }},
	)
}

// rawArg returns a parameter's raw value: numbers as numbers, strings as strings.
// isIntType reports the parameter types evt.rawarg reads as integers.
func isIntType(t event.ParamType) bool {
	switch t {
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTInt64, event.PTErrno, event.PTFd, event.PTPid,
		event.PTUint8, event.PTUint16, event.PTUint32, event.PTUint64, event.PTFlags8, event.PTFlags16,
		event.PTFlags32, event.PTUid, event.PTGid, event.PTMode, event.PTSyscallid, event.PTSigtype:
		return true
	}
	return false
}

func rawArg(c *Ctx, a *Arg) (Value, bool) {
	ev, i := argEvent(c, a)
	if i < 0 {
		return Value{}, false
	}
	p := ev.Param(i)
	typ := ev.Info.Params[i].Type
	if isIntType(typ) && isIntType(a.rawType) {
		// libsinsp types evt.rawarg.NAME once, by the first parameter of that name in the
		// event table, and reads every event's parameter as that type: mmap's unsigned res
		// is an errno, signed, as close's.
		typ = a.rawType
	}
	switch typ {
	case event.PTInt8, event.PTInt16, event.PTInt32, event.PTInt64, event.PTErrno, event.PTFd, event.PTPid:
		v, ok := event.DecodeInt(p)
		if !ok {
			return Value{}, false
		}
		return i64(v)
	case event.PTUint8, event.PTUint16, event.PTUint32, event.PTUint64, event.PTFlags8, event.PTFlags16,
		event.PTFlags32, event.PTUid, event.PTGid, event.PTMode, event.PTSyscallid, event.PTSigtype:
		v, ok := event.DecodeUint(p)
		if !ok {
			return Value{}, false
		}
		return u64(v)
	case event.PTReltime:
		v, _ := event.DecodeUint(p)
		return Value{Kind: KRelTime, Int: int64(v)}, true
	case event.PTCharbuf, event.PTFspath, event.PTFsrelpath:
		return bstr(event.CString(p))
	}
	v, _ := ev.AppendParam(c.buf(0), c.buf(1), i, c.Buf, 0, nil)
	return bstr(c.keep(0, v))
}

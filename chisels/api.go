package chisels

import (
	"os"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
	"github.com/gosysdig/gosysdig/state"
)

// field is what chisel.request_field returns: a resolved field, or one of the chisel-only
// fields sysdig has and the registry does not.
type field struct {
	ref    *fields.Ref
	extra  extraKind
	rawArg bool // evt.rawarg.NAME: byte buffers come raw, as sysdig gives them to Lua
}

func (c *Chisel) installLibs() {
	L := c.L
	L.SetGlobal("print", L.NewFunction(c.luaPrint))
	L.SetGlobal("tostring", L.NewFunction(baseToString))
	L.SetGlobal("pairs", L.NewFunction(orderedPairs(L.GetGlobal("next"))))
	if s, ok := L.GetGlobal("string").(*lua.LTable); ok {
		s.RawSetString("format", L.NewFunction(strFormat))
		wrapPatterns(L, s)
	}
	if t, ok := L.GetGlobal("table").(*lua.LTable); ok {
		t.RawSetString("insert", L.NewFunction(tableInsert(t.RawGetString("insert"))))
	}
	if io, ok := L.GetGlobal("io").(*lua.LTable); ok {
		io.RawSetString("write", L.NewFunction(c.ioWrite))
	}
	if osTab, ok := L.GetGlobal("os").(*lua.LTable); ok {
		osTab.RawSetString("exit", L.NewFunction(c.osExit))
	}

	ch := L.NewTable()
	L.SetFuncs(ch, map[string]lua.LGFunction{
		"request_field":           c.requestField,
		"set_filter":              c.setFilter,
		"set_event_formatter":     c.setEventFormatter,
		"set_interval_s":          func(L *lua.LState) int { c.interval = uint64(checkNumber(L, 1)) * 1e9; return 0 },
		"set_interval_ns":         func(L *lua.LState) int { c.interval = uint64(checkNumber(L, 1)); return 0 },
		"set_precise_interval_ns": func(L *lua.LState) int { c.precise = uint64(checkNumber(L, 1)); return 0 },
		"exec":                    c.exec,
		"aggregate":               c.chiselAggregate,
		"aggregate_take":          c.chiselAggregateTake,
		"count_distinct":          c.chiselCountDistinct,
		"count_distinct_take":     c.chiselCountDistinctTake,
	})
	L.SetGlobal("chisel", ch)

	ev := L.NewTable()
	L.SetFuncs(ev, map[string]lua.LGFunction{
		"field":     c.evtField,
		"get_num":   c.evtGetNum,
		"get_ts":    c.evtGetTS,
		"get_type":  c.evtGetType,
		"get_cpuid": c.evtGetCPU,
		"get_dir":   c.evtGetDir,
	})
	L.SetGlobal("evt", ev)

	sd := L.NewTable()
	L.SetFuncs(sd, map[string]lua.LGFunction{
		"set_filter":                      c.setGlobalFilter,
		"get_filter":                      func(L *lua.LState) int { L.Push(lua.LString(c.cfg.Filter)); return 1 },
		"set_snaplen":                     func(L *lua.LState) int { return 0 },
		"set_output_format":               c.setOutputFormat,
		"set_fatfile_dump_mode":           func(L *lua.LState) int { return 0 },
		"make_ts":                         sysdigMakeTS,
		"add_ts":                          func(L *lua.LState) int { return tsOp(L, true) },
		"subtract_ts":                     func(L *lua.LState) int { return tsOp(L, false) },
		"run_sysdig":                      func(L *lua.LState) int { return 0 },
		"run_app":                         func(L *lua.LState) int { return 0 },
		"end_capture":                     func(L *lua.LState) int { c.endCapture = true; return 0 },
		"is_live":                         func(L *lua.LState) int { L.Push(lua.LBool(c.cfg.Live)); return 1 },
		"is_tty":                          func(L *lua.LState) int { L.Push(lua.LBool(isTTY())); return 1 },
		"get_terminal_info":               c.terminalInfo,
		"get_machine_info":                c.machineInfo,
		"get_thread_table":                func(L *lua.LState) int { return c.threadTable(L, true, false) },
		"get_thread_table_nofds":          func(L *lua.LState) int { return c.threadTable(L, false, false) },
		"get_thread_table_barebone":       func(L *lua.LState) int { return c.threadTable(L, true, true) },
		"get_thread_table_barebone_nofds": func(L *lua.LState) int { return c.threadTable(L, false, true) },
		"get_container_table":             c.containerTable,
		"is_print_container_data":         func(L *lua.LState) int { L.Push(lua.LBool(c.cfg.PrintContainer)); return 1 },
		"get_output_format": func(L *lua.LState) int {
			if c.cfg.JSON {
				L.Push(lua.LString("json"))
			} else {
				L.Push(lua.LString("normal"))
			}
			return 1
		},
		"get_evtsource_name": func(L *lua.LState) int {
			if c.cfg.Live {
				L.Push(lua.LString(""))
			} else {
				L.Push(lua.LString(c.cfg.Input))
			}
			return 1
		},
		"get_firstevent_ts": func(L *lua.LState) int {
			var ts uint64
			if c.cfg.Ctx != nil {
				ts = c.cfg.Ctx.FirstTS
			}
			L.Push(lua.LString(strconv.FormatUint(ts, 10)))
			return 1
		},
		"get_lastevent_ts": func(L *lua.LState) int {
			var ts uint64
			if c.cfg.LastTS != nil {
				ts = c.cfg.LastTS()
			}
			L.Push(lua.LString(strconv.FormatUint(ts, 10)))
			return 1
		},
		"get_read_progress": func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 },
		"log":               func(L *lua.LState) int { return 0 },
		"udp_setpeername":   func(L *lua.LState) int { return 0 },
		"udp_send":          func(L *lua.LState) int { return 0 },
		"push_metric":       func(L *lua.LState) int { return 0 },
	})
	L.SetGlobal("sysdig", sd)
}

func (c *Chisel) luaPrint(L *lua.LState) int {
	w := c.cfg.Out
	top := L.GetTop()
	var b []byte
	for i := 1; i <= top; i++ {
		if i > 1 {
			b = append(b, '\t')
		}
		v := L.Get(i)
		switch v := v.(type) {
		case lua.LString:
			b = append(b, v...)
		case lua.LNumber:
			b = append(b, numberString(float64(v))...)
		default:
			if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
				L.Push(mt)
				L.Push(v)
				L.Call(1, 1)
				b = append(b, L.Get(-1).String()...)
				L.Pop(1)
			} else {
				b = append(b, v.String()...)
			}
		}
	}
	b = append(b, '\n')
	w.Write(b)
	return 0
}

// osExit is os.exit: like C's exit, it flushes what the chisel printed before leaving.
func (c *Chisel) osExit(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		code = int(v)
	case lua.LBool:
		if !v {
			code = 1
		}
	}
	if f, ok := c.cfg.Out.(interface{ Flush() error }); ok {
		f.Flush()
	}
	os.Exit(code)
	return 0
}

func (c *Chisel) ioWrite(L *lua.LState) int {
	top := L.GetTop()
	for i := 1; i <= top; i++ {
		c.cfg.Out.Write([]byte(checkString(L, i)))
	}
	return 0
}

func (c *Chisel) requestField(L *lua.LState) int {
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		L.RaiseError("chisel requesting nil field")
	}
	f := &field{}
	if ref, err := fields.Parse(string(name)); err == nil {
		f.ref = ref
		f.rawArg = ref.F.Name == "evt.rawarg"
	} else if k := extraField(string(name)); k != extraNone {
		f.extra = k
	} else if tracerField(string(name)) {
		L.RaiseError("chisel %s needs sysdig's tracer field %s: the span/tracer events of sysdig 0.29.3 (tracers written to /dev/null) are not supported by gosysdig", c.name, string(name))
	} else {
		L.RaiseError("chisel requesting nonexistent field %s", string(name))
	}
	ud := L.NewUserData()
	ud.Value = f
	L.Push(ud)
	return 1
}

func (c *Chisel) setFilter(L *lua.LState) int {
	s := checkString(L, 1)
	if strings.TrimSpace(s) == "" {
		c.flt = nil
		return 0
	}
	flt, err := filter.Compile(s)
	if err != nil {
		L.RaiseError("invalid filter in chisel %s: %v", c.name, err)
	}
	c.flt = flt
	return 0
}

// setGlobalFilter is sysdig.set_filter: it replaces the capture filter; here it filters what this
// chisel sees.
func (c *Chisel) setGlobalFilter(L *lua.LState) int { return c.setFilter(L) }

func (c *Chisel) setEventFormatter(L *lua.LState) int {
	s := checkString(L, 1)
	f, err := output.New(s, false)
	if err != nil {
		L.RaiseError("invalid formatter in chisel %s: %v", c.name, err)
	}
	c.formatter = f
	return 0
}

func (c *Chisel) exec(L *lua.LState) int {
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		L.RaiseError("invalid exec field name in chisel %s", c.name)
	}
	c.execName = string(name)
	c.execArgs = c.execArgs[:0]
	for i := 2; i <= L.GetTop(); i++ {
		v := L.Get(i)
		if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			break
		}
		c.execArgs = append(c.execArgs, luaToString(v))
	}
	return 0
}

// evtField converts a value the way sysdig's rawval_to_lua_stack does: numbers, booleans,
// strings; nil when the event has no value.
func (c *Chisel) evtField(L *lua.LState) int {
	ud, ok := L.Get(1).(*lua.LUserData)
	if !ok || c.ctx == nil {
		L.Push(lua.LNil)
		return 1
	}
	f, ok := ud.Value.(*field)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(c.fieldValue(f))
	return 1
}

// fieldValue is the Lua value of field f on the current event (evt.field).
func (c *Chisel) fieldValue(f *field) lua.LValue {
	if f.extra != extraNone {
		return c.extraValue(f.extra)
	}
	if f.rawArg {
		ev := c.ctx.Ev
		i := f.ref.A.N
		if !f.ref.A.HasN {
			i = ev.ParamIndex(f.ref.A.Name)
		}
		if i >= 0 && i < ev.NParams() && ev.Info.Params[i].Type == event.PTBytebuf {
			return lua.LString(ev.Param(i))
		}
	}
	// Chisels see byte buffers whole (sysdig's 80-character cut is the printer's), and
	// evt.buffer rendered in the buffer format (-A, -x...) as evt.arg.data is.
	maxLen := c.ctx.MaxLen
	c.ctx.MaxLen = 0
	v, ok := f.ref.Extract(c.ctx)
	c.ctx.MaxLen = maxLen
	if !ok {
		return lua.LNil
	}
	switch v.Kind {
	case fields.KString:
		return lua.LString(v.Str)
	case fields.KBytes:
		return lua.LString(event.AppendBuffer(nil, []byte(v.Str), c.ctx.Buf))
	case fields.KInt, fields.KRelTime, fields.KAbsTime, fields.KPort:
		return lua.LNumber(float64(v.Int))
	case fields.KUint:
		return lua.LNumber(float64(uint64(v.Int)))
	case fields.KBool:
		return lua.LBool(v.Int != 0)
	case fields.KDouble:
		return lua.LNumber(v.F)
	default:
		var buf [64]byte
		return lua.LString(fields.AppendText(buf[:0], v))
	}
}

func (c *Chisel) evtGetNum(L *lua.LState) int {
	if c.ctx == nil {
		L.RaiseError("invalid call to evt.get_num()")
	}
	L.Push(lua.LNumber(float64(c.ctx.Ev.Num)))
	return 1
}

func (c *Chisel) evtGetTS(L *lua.LState) int {
	if c.ctx == nil {
		L.RaiseError("invalid call to evt.get_ts()")
	}
	ts := c.ctx.Ev.TS
	L.Push(lua.LNumber(float64(uint32(ts / 1e9))))
	L.Push(lua.LNumber(float64(uint32(ts % 1e9))))
	return 2
}

func (c *Chisel) evtGetType(L *lua.LState) int {
	if c.ctx == nil {
		L.RaiseError("invalid call to evt.get_type()")
	}
	ev := c.ctx.Ev
	if ev.Type == 0 || ev.Type == 1 { // generic: the syscall's own name
		if ref, err := fields.Parse("evt.type"); err == nil {
			if v, ok := ref.Extract(c.ctx); ok {
				L.Push(lua.LString(v.Str))
				return 1
			}
		}
	}
	L.Push(lua.LString(ev.Info.Name))
	return 1
}

func (c *Chisel) evtGetCPU(L *lua.LState) int {
	if c.ctx == nil {
		L.RaiseError("invalid call to evt.get_cpuid()")
	}
	L.Push(lua.LNumber(float64(c.ctx.Ev.CPU)))
	return 1
}

func (c *Chisel) evtGetDir(L *lua.LState) int {
	if c.ctx == nil {
		L.RaiseError("invalid call to evt.get_dir()")
	}
	if c.ctx.Ev.IsEnter() {
		L.Push(lua.LString(">"))
	} else {
		L.Push(lua.LString("<"))
	}
	return 1
}

func sysdigMakeTS(L *lua.LState) int {
	s := uint64(uint32(int64(checkNumber(L, 1))))
	ns := uint64(uint32(int64(checkNumber(L, 2))))
	L.Push(lua.LString(strconv.FormatUint(s*1e9+ns, 10)))
	return 1
}

func tsOp(L *lua.LState, add bool) int {
	a, _ := strconv.ParseUint(strings.TrimSpace(checkString(L, 1)), 10, 64)
	b, _ := strconv.ParseUint(strings.TrimSpace(checkString(L, 2)), 10, 64)
	r := a - b
	if add {
		r = a + b
	}
	L.Push(lua.LString(strconv.FormatUint(r, 10)))
	return 1
}

// tracerField reports whether name belongs to sysdig 0.29.3's tracer classes (span.*, evtin.*),
// built from the tracer writes to /dev/null that gosysdig does not decode: chisels that need
// them are refused up front with that reason rather than with "nonexistent field".
func tracerField(name string) bool {
	return strings.HasPrefix(name, "span.") || strings.HasPrefix(name, "evtin.")
}

// isTTY is isatty(1): a terminal, not any character device (/dev/null is one).
func isTTY() bool {
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	return err == nil
}

// terminalInfo is sysdig.get_terminal_info(): stdout's terminal size, -1 when it is no terminal.
func (c *Chisel) terminalInfo(L *lua.LState) int {
	t := L.NewTable()
	w, h := -1, -1
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil {
		w, h = int(ws.Col), int(ws.Row)
	}
	t.RawSetString("width", lua.LNumber(w))
	t.RawSetString("height", lua.LNumber(h))
	L.Push(t)
	return 1
}

func (c *Chisel) machineInfo(L *lua.LState) int {
	if c.cfg.Ctx == nil || c.cfg.Ctx.In == nil || c.cfg.Ctx.In.Machine == nil {
		L.RaiseError("get_machine_info can only be called from the on_capture_start callback")
	}
	m := c.cfg.Ctx.In.Machine
	t := L.NewTable()
	t.RawSetString("num_cpus", lua.LNumber(float64(m.NumCPUs)))
	t.RawSetString("memory_size_bytes", lua.LNumber(float64(m.MemBytes)))
	t.RawSetString("max_pid", lua.LNumber(float64(m.MaxPid)))
	t.RawSetString("hostname", lua.LString(m.Hostname))
	L.Push(t)
	return 1
}

// containerTable is sysdig.get_container_table(): the known containers, keyed 1..n.
func (c *Chisel) containerTable(L *lua.LState) int {
	t := L.NewTable()
	if c.cfg.Ctx != nil && c.cfg.Ctx.In != nil && c.cfg.Ctx.In.Containers != nil {
		var list []*state.Container
		c.cfg.Ctx.In.Containers.Each(func(ct *state.Container) { list = append(list, ct) })
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		for _, ct := range list {
			e := L.NewTable()
			e.RawSetString("id", lua.LString(ct.ID))
			e.RawSetString("name", lua.LString(ct.Name))
			e.RawSetString("image", lua.LString(ct.Image))
			e.RawSetString("type", lua.LString(containerType(ct.Type)))
			t.Append(e)
		}
	}
	L.Push(t)
	return 1
}

func containerType(t int) string {
	names := []string{"docker", "lxc", "libvirt_lxc", "mesos", "rkt", "custom", "cri", "containerd", "cri-o", "bpm"}
	if t >= 0 && t < len(names) {
		return names[t]
	}
	return "unknown"
}

// setOutputFormat is sysdig.set_output_format: it changes how buffers render, unless the command
// line chose a format.
func (c *Chisel) setOutputFormat(L *lua.LState) int {
	ctx := c.cfg.Ctx
	if ctx == nil || ctx.Buf != event.BufNormal {
		return 0
	}
	switch checkString(L, 1) {
	case "normal", "simple":
		ctx.Buf = event.BufNormal
	case "json":
		ctx.Buf = event.BufJSON
	case "hex":
		ctx.Buf = event.BufHex
	case "hexascii":
		ctx.Buf = event.BufHexASCII
	case "ascii":
		ctx.Buf = event.BufASCII
	case "base64":
		ctx.Buf = event.BufBase64
	case "jsonbase64":
		ctx.Buf = event.BufJSONBase64
	default:
		L.RaiseError("invalid set_output_format value in chisel %s", c.name)
	}
	return 0
}

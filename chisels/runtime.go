// Package chisels runs sysdig chisels: Lua 5.1 scripts (on gopher-lua) that receive the events
// that pass the filters through sysdig's chisel API (chisel.*, evt.*, sysdig.*).
package chisels

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
)

// ErrEndCapture is returned by Event when the chisel called sysdig.end_capture().
var ErrEndCapture = errors.New("end of capture requested by the chisel")

// Config is what a chisel sees of the running sysdig.
type Config struct {
	Out            io.Writer     // where print and the event formatter write
	Ctx            *fields.Ctx   // the pipeline's extraction context (its inspector)
	Filter         string        // the user's filter, for sysdig.get_filter
	JSON           bool          // -j: sysdig.get_output_format is "json"
	PrintContainer bool          // -pc
	Live           bool          // live capture rather than -r
	Input          string        // the capture file
	LastTS         func() uint64 // timestamp of the last event read, for on_capture_end
	Dirs           []string      // search path; nil: SearchDirs()
	// CallbackTimeout bounds each call into the chisel's Lua code: one that runs longer is
	// stopped with an error naming the chisel and the callback. 0: DefaultCallbackTimeout;
	// negative: no bound (Interrupt still works).
	CallbackTimeout time.Duration
}

// Chisel is a loaded chisel.
type Chisel struct {
	cfg  *Config
	dirs []string
	L    *lua.LState
	src  *source
	name string

	info     Info
	hasShort bool
	hasArgs  bool

	onEvent    *lua.LFunction
	onInterval *lua.LFunction

	ctx       *fields.Ctx
	agg       *aggregator      // chisel.aggregate: on_event's loop run in Go
	distinct  *distinctCounter // chisel.count_distinct: fdcount_by's loop run in Go
	flt       *filter.Filter
	formatter *output.Formatter
	interval  uint64
	precise   uint64

	firstEvt       bool
	lastSample     uint64
	lastIntervalTS uint64
	endCapture     bool
	started        bool

	execName string
	execArgs []string

	extra extraState
	hdr   *headerOrder

	wd  *watchdog // the Lua state's; used on the goroutine running the chisel
	ctl *control  // shared with Interrupt
}

// Load finds chisel name (a name in the search path or a path to a file) and runs its top level.
func Load(name string, cfg *Config) (*Chisel, error) {
	dirs := cfg.Dirs
	if dirs == nil {
		dirs = SearchDirs()
	}
	src, err := find(name, dirs)
	if err != nil {
		return nil, err
	}
	c := &Chisel{cfg: cfg, dirs: dirs, name: name, firstEvt: true, ctl: &control{}}
	if err := c.open(src); err != nil {
		c.close()
		return nil, fmt.Errorf("Failed to load chisel %s: %v", name, err)
	}
	if !c.hasArgs {
		c.close()
		return nil, fmt.Errorf("Failed to load chisel %s: args table missing", name)
	}
	return c, nil
}

// open creates the Lua state with sysdig's libraries and runs the chisel's top level.
func (c *Chisel) open(src *source) error {
	c.src = src
	// The value stack (gopher-lua's registry) grows as LuaJIT's does, rather than ending the
	// chisel with "registry overflow" when a table is concatenated or unpacked whole (around's
	// filter of every hit, on a capture with many).
	L := lua.NewState(lua.Options{SkipOpenLibs: false, RegistrySize: lua.RegistrySize, RegistryMaxSize: 1 << 22, RegistryGrowStep: 4096})
	c.L = L
	c.attachWatchdog()
	c.installLibs()
	c.setPackagePath()
	fn, err := L.Load(bytes.NewReader(src.code), src.name)
	if err != nil {
		return errors.New(luaErr(err))
	}
	L.Push(fn)
	if err := c.pcall("top level code", 0, 0); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return errors.New(luaErr(err))
	}
	if s, ok := L.GetGlobal("description").(lua.LString); ok {
		c.info.Desc = string(s)
	} else if n, ok := L.GetGlobal("description").(lua.LNumber); ok {
		c.info.Desc = numberString(float64(n))
	}
	if s, ok := L.GetGlobal("short_description").(lua.LString); ok {
		c.info.ShortDesc = string(s)
		c.hasShort = true
	}
	if s, ok := L.GetGlobal("category").(lua.LString); ok {
		c.info.Category = string(s)
	}
	if b, ok := L.GetGlobal("hidden").(lua.LBool); ok {
		c.info.Hidden = bool(b)
	}
	if t, ok := L.GetGlobal("args").(*lua.LTable); ok {
		c.hasArgs = true
		c.info.Args = parseArgs(t)
	}
	if f, ok := L.GetGlobal("on_event").(*lua.LFunction); ok {
		c.onEvent = f
	}
	return nil
}

func parseArgs(t *lua.LTable) []Arg {
	var out []Arg
	t.ForEach(func(_, v lua.LValue) {
		at, ok := v.(*lua.LTable)
		if !ok {
			return
		}
		var a Arg
		at.ForEach(func(k, v lua.LValue) {
			switch v := v.(type) {
			case lua.LString:
				switch k.String() {
				case "name":
					a.Name = string(v)
				case "argtype":
					a.Type = string(v)
				case "description":
					a.Desc = string(v)
				}
			case lua.LBool:
				if k.String() == "optional" {
					a.Optional = bool(v)
				}
			}
		})
		out = append(out, a)
	})
	return out
}

func (c *Chisel) close() {
	c.detachWatchdog()
	if c.L != nil {
		c.L.Close()
		c.L = nil
	}
}

// Close releases the Lua state.
func (c *Chisel) Close() { c.close() }

// Info returns the chisel's declarations.
func (c *Chisel) Info() Info { return c.info }

// NArgs returns the number of declared arguments, and how many of them are required.
func (c *Chisel) NArgs() (total, required int) {
	for _, a := range c.info.Args {
		if !a.Optional {
			required++
		}
	}
	return len(c.info.Args), required
}

// luaErr extracts a Lua error's message ("file:line: message").
func luaErr(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		return ae.Object.String()
	}
	return err.Error()
}

func (c *Chisel) fileName() string { return c.src.name }

// SetArgs passes the argument values to on_set_arg, in declaration order.
func (c *Chisel) SetArgs(vals []string) error {
	total, req := c.NArgs()
	if len(vals) < req {
		return fmt.Errorf("wrong number of parameters for chisel %s, %d required, %d given", c.name, req, len(vals))
	}
	if len(vals) > total {
		return fmt.Errorf("too many parameters for chisel %s, %d required, %d optional, %d given", c.name, req, total-req, len(vals))
	}
	L := c.L
	for i, v := range vals {
		fn, ok := L.GetGlobal("on_set_arg").(*lua.LFunction)
		if !ok {
			return fmt.Errorf("chisel %s misses a set_arg() function.", c.name)
		}
		L.Push(fn)
		L.Push(lua.LString(c.info.Args[i].Name))
		L.Push(lua.LString(v))
		if err := c.pcall("on_set_arg()", 2, 1); err != nil {
			if errors.Is(err, ErrInterrupted) {
				return err
			}
			return fmt.Errorf("%s chisel error: %s", c.fileName(), luaErr(err))
		}
		r := L.Get(-1)
		L.Pop(1)
		b, ok := r.(lua.LBool)
		if !ok {
			return fmt.Errorf("%s chisel error: wrong set_arg() return value.", c.fileName())
		}
		if !b {
			return fmt.Errorf("set_arg() for chisel %s failed.", c.name)
		}
	}
	return nil
}

// Init calls on_init. When the chisel called chisel.exec, the named chisel replaces it.
func (c *Chisel) Init() error {
	L := c.L
	fn, ok := L.GetGlobal("on_init").(*lua.LFunction)
	if !ok {
		return nil
	}
	L.Push(fn)
	if err := c.pcall("on_init()", 0, 1); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return fmt.Errorf("%s: error in init(): %s", c.fileName(), luaErr(err))
	}
	r := L.Get(-1)
	L.Pop(1)
	if c.execName == "" {
		b, ok := r.(lua.LBool)
		if !ok {
			return fmt.Errorf("%s chisel error: wrong init() return value.", c.fileName())
		}
		if !b {
			return fmt.Errorf("init() for chisel %s failed.", c.name)
		}
		return nil
	}
	name, args := c.execName, c.execArgs
	c.close()
	src, err := find(name, c.dirs)
	if err != nil {
		return err
	}
	*c = Chisel{cfg: c.cfg, dirs: c.dirs, name: name, firstEvt: true, ctl: c.ctl}
	if err := c.open(src); err != nil {
		return fmt.Errorf("Failed to load chisel %s: %v", name, err)
	}
	if !c.hasArgs {
		return fmt.Errorf("Failed to load chisel %s: args table missing", name)
	}
	if err := c.SetArgs(args); err != nil {
		return err
	}
	return c.Init()
}

// CaptureStart calls on_capture_start; Event calls it before the first event when not yet done.
func (c *Chisel) CaptureStart() error {
	if c.started {
		return nil
	}
	c.started = true
	L := c.L
	fn, ok := L.GetGlobal("on_capture_start").(*lua.LFunction)
	if !ok {
		return nil
	}
	L.Push(fn)
	if err := c.pcall("on_capture_start()", 0, 1); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return fmt.Errorf("%s chisel error: %s", c.fileName(), luaErr(err))
	}
	r := L.Get(-1)
	L.Pop(1)
	b, ok := r.(lua.LBool)
	if !ok {
		return fmt.Errorf("%s chisel error: wrong on_capture_start() return value. Boolean expected.", c.fileName())
	}
	if !b {
		return fmt.Errorf("init() for chisel %s failed.", c.name)
	}
	return nil
}

// Event runs the chisel on one event that passed the user's filter.
func (c *Chisel) Event(ctx *fields.Ctx) error {
	if !c.started {
		if err := c.CaptureStart(); err != nil {
			return err
		}
	}
	c.ctx = ctx
	if err := c.doTimeout(ctx.Ev.TS); err != nil {
		return err
	}
	if c.flt != nil && (!c.flt.MayMatch(ctx.Ev.Type) || !c.flt.Match(ctx)) {
		return nil
	}
	if c.agg != nil {
		if err := c.aggregate(c.agg); err != nil {
			return err
		}
	}
	if c.distinct != nil {
		if err := c.countDistinct(c.distinct); err != nil {
			return err
		}
	}
	if c.onEvent != nil {
		L := c.L
		L.Push(c.onEvent)
		if err := c.pcall("on_event()", 0, 1); err != nil {
			if errors.Is(err, ErrInterrupted) {
				return err
			}
			return fmt.Errorf("%s chisel error: %s", c.fileName(), luaErr(err))
		}
		r := L.Get(-1)
		L.Pop(1)
		if c.endCapture {
			return ErrEndCapture
		}
		if !lua.LVAsBool(r) {
			return nil
		}
	}
	if c.formatter != nil {
		// sysdig cuts arguments at 80 characters only when no chisel runs (sysdig.cpp)
		maxLen := ctx.MaxLen
		ctx.MaxLen = 0
		line, ok := c.formatter.Format(ctx)
		ctx.MaxLen = maxLen
		if ok {
			if _, err := c.cfg.Out.Write(line); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Chisel) doTimeout(ts uint64) error {
	if c.firstEvt {
		if c.interval != 0 {
			c.lastSample = ts - ts%c.interval
		} else if c.precise != 0 {
			c.lastSample = ts
		}
		c.firstEvt = false
		return nil
	}
	if c.interval != 0 {
		sample := ts - ts%c.interval
		if sample == c.lastSample {
			return nil
		}
		var delta int64
		if c.lastIntervalTS != 0 {
			delta = int64(ts - c.lastIntervalTS)
			if delta == 0 {
				return nil
			}
		}
		if err := c.callInterval(ts, float64(delta)); err != nil {
			return err
		}
		c.lastSample = sample
		c.lastIntervalTS = ts
	} else if c.precise != 0 {
		iv := c.precise
		if ts-c.lastSample >= iv {
			t := c.lastSample
			for ; t <= ts-iv; t += iv {
				if err := c.callInterval(t, float64(iv)); err != nil {
					return err
				}
			}
			c.lastSample = t
		}
	}
	return nil
}

func (c *Chisel) callInterval(ts uint64, delta float64) error {
	L := c.L
	fn, ok := L.GetGlobal("on_interval").(*lua.LFunction)
	if !ok {
		return fmt.Errorf("%s chisel error: calling on_interval() failed: on_interval is not defined", c.fileName())
	}
	L.Push(fn)
	L.Push(lua.LNumber(float64(ts / 1e9)))
	L.Push(lua.LNumber(float64(ts % 1e9)))
	L.Push(lua.LNumber(delta))
	if err := c.pcall("on_interval()", 3, 1); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return fmt.Errorf("%s chisel error: calling on_interval() failed:%s", c.fileName(), luaErr(err))
	}
	r := L.Get(-1)
	L.Pop(1)
	if !lua.LVAsBool(r) {
		return fmt.Errorf("execution terminated by the %s chisel", c.fileName())
	}
	// What an interval printed (a table) reaches the reader now, as sysdig's live tables do.
	if f, ok := c.cfg.Out.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// CaptureEnd calls on_capture_end(ts_s, ts_ns, delta) with the last event's time and the
// capture's duration.
func (c *Chisel) CaptureEnd() error {
	if !c.started {
		if err := c.CaptureStart(); err != nil {
			return err
		}
	}
	L := c.L
	fn, ok := L.GetGlobal("on_capture_end").(*lua.LFunction)
	if !ok {
		return nil
	}
	var first, last uint64
	if c.cfg.Ctx != nil {
		first = c.cfg.Ctx.FirstTS
	}
	if c.cfg.LastTS != nil {
		last = c.cfg.LastTS()
	}
	L.Push(fn)
	L.Push(lua.LNumber(float64(last / 1e9)))
	L.Push(lua.LNumber(float64(last % 1e9)))
	L.Push(lua.LNumber(float64(int64(last - first))))
	if err := c.pcall("on_capture_end()", 3, 0); err != nil {
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return fmt.Errorf("%s chisel error: %s", c.fileName(), luaErr(err))
	}
	return nil
}

// setPackagePath makes require find the chisel's sibling modules, then the search path's.
func (c *Chisel) setPackagePath() {
	L := c.L
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	var paths []string
	if c.src != nil && c.src.dir != "" {
		paths = append(paths, c.src.dir+"?.lua")
	}
	for _, d := range c.dirs {
		if d == builtinDir {
			continue
		}
		p := d + "?.lua"
		if len(paths) == 0 || paths[0] != p {
			paths = append(paths, p)
		}
	}
	cur := lua.LVAsString(pkg.RawGetString("path"))
	if cur != "" {
		paths = append(paths, cur)
	}
	pkg.RawSetString("path", lua.LString(strings.Join(paths, ";")))
	// Embedded modules (the project's own chisels' helpers) load after the file search fails.
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		loaders.Append(L.NewFunction(func(L *lua.LState) int {
			name := L.CheckString(1)
			b, err := builtinFS.ReadFile("builtin/" + name + ".lua")
			if err != nil {
				L.Push(lua.LString("\n\tno embedded module '" + name + "'"))
				return 1
			}
			fn, err := L.Load(bytes.NewReader(b), "builtin/"+name+".lua")
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			L.Push(fn)
			return 1
		}))
	}
}

package fields

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// ctxMore is what fields that depend on earlier events keep between extractions, as sysdig's
// filter checks keep it in themselves or in per-thread private state.
type ctxMore struct {
	outPrevTS uint64              // evt.outputtime with -t D: the previous formatted event's timestamp
	switchTS  []uint64            // thread.exectime: last switch timestamp per CPU
	totExec   map[int64]uint64    // thread.totexectime: CPU time accumulated per thread
	lastCPU   map[[2]int64]uint64 // thread.cpu*: last time per (thread, variant), as sysdig keeps one per field
}

// Event types the new evt fields look at (PPME_* numbers of 0.29.3).
const (
	evOpenE, evOpenX             = 2, 3
	evCreatE, evCreatX           = 58, 59
	evOpenatE, evOpenatX         = 102, 103
	evOpenat2E, evOpenat2X       = 306, 307
	evOpenat2NewE, evOpenat2NewX = 326, 327 // openat2
	evConnectX                   = 23
	evSwitch1, evSwitch6         = 146, 152
	evProcinfo                   = 234
	ppmORdonly, ppmOWronly       = 1 << 0, 1 << 1
	ppmOCreat, ppmOTmpfile       = 1 << 2, 1 << 13
	ppmExecMask                  = 0100 | 010 | 01 // S_IXUSR | S_IXGRP | S_IXOTH
	pad9                         = 9
	ecIOBase                     = 32 // EC_IO_BASE: the bit all I/O categories share
	nsPerSec                     = uint64(1e9)
	evAcceptX, evAccept5X        = 27, 247
	evAccept4X, evAccept45X      = 57, 249
	evContainerJSON              = 272
	evContainerJSON2             = 324
	evContainerOld               = 228
	atFdcwd                      = -100
	unknownDirPrefix             = "<UNKNOWN>/"
	isoLayout                    = "2006-01-02T15:04:05"
	dateTimeSecondsLayout        = "2006-01-02 15:04:05"
	humanMinute, humanHour       = 60 * nsPerSec, 3600 * nsPerSec
	humanMilli, humanMicro       = uint64(1e6), uint64(1e3)
	humanTenMilli, humanTenU     = uint64(1e7), uint64(1e4)
)

func padded(kind Kind, v uint64) (Value, bool) {
	return Value{Kind: kind, Int: int64(v), Pad: pad9}, true
}

func appendPadded(dst []byte, v uint64, n int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || len(tmp)-i < n {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if i == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
}

// latency is the thread's enter-to-exit delta, 0 for enter events (sysdig resets it on enter).
func latency(c *Ctx) (uint64, bool) {
	if c.Ev.Info.Category&event.ECInternal != 0 {
		return 0, false
	}
	if c.In.Thread != nil && !c.In.NoEventThread {
		return c.In.Thread.Latency, true // the inspector clears it on enter events
	}
	return 0, true
}

// appendHumanTime renders a nanosecond interval the way sysdig's "nice" time printing does:
// 10.3ms, 4.45us, 1:05...
func appendHumanTime(b []byte, v uint64) []byte {
	switch {
	case v >= humanHour:
		b = appendPadded(b, v/humanHour, 2)
		b = append(b, ':')
		b = appendPadded(b, (v/humanMinute)%60, 2)
		b = append(b, ':')
		return appendPadded(b, (v/nsPerSec)%60, 2)
	case v >= humanMinute:
		b = strconv.AppendUint(b, v/humanMinute, 10)
		b = append(b, ':')
		return strconv.AppendUint(b, (v/nsPerSec)%60, 10)
	case v >= nsPerSec:
		b = strconv.AppendUint(b, v/nsPerSec, 10)
		b = append(b, '.')
		b = appendPadded(b, (v%nsPerSec)/humanTenMilli, 2)
		return append(b, 's')
	case v >= nsPerSec/100:
		b = strconv.AppendUint(b, v/humanMilli, 10)
		return append(b, "ms"...)
	case v >= humanMilli:
		b = strconv.AppendUint(b, v/humanMilli, 10)
		b = append(b, '.')
		b = appendPadded(b, (v%humanMilli)/humanTenU, 2)
		return append(b, "ms"...)
	case v >= 10*humanMicro:
		b = strconv.AppendUint(b, v/humanMicro, 10)
		return append(b, "us"...)
	case v >= humanMicro:
		b = strconv.AppendUint(b, v/humanMicro, 10)
		b = append(b, '.')
		b = appendPadded(b, (v%humanMicro)/10, 2)
		return append(b, "us"...)
	}
	b = strconv.AppendUint(b, v, 10)
	return append(b, "ns"...)
}

// errorCount is 1 for failed events: a negative res, or a negative fd from an fd-creating exit.
func errorCount(c *Ctx) (Value, bool) {
	e := c.Ev
	if i := e.ParamIndex("res"); i >= 0 {
		if res, ok := e.Int(i); ok && res < 0 {
			return u64(1)
		}
		return Value{}, false
	}
	if e.Info.Flags&event.EFCreatesFd != 0 && !e.IsEnter() {
		if i := e.ParamIndex("fd"); i >= 0 {
			if res, ok := e.Int(i); ok && res < 0 {
				return u64(1)
			}
		}
	}
	return Value{}, false
}

func isFileFD(f *state.FD) bool { return isFileType(f) }

func isNetFD(f *state.FD) bool { return f.IsIP() || f.TypeChar() == 'u' }

func isOpenExit(t uint16) bool {
	return t == evOpenX || t == evCreatX || t == evOpenatX || t == evOpenat2X
}

func isNetCreator(t uint16) bool {
	switch t {
	case evAcceptX, evAccept5X, evAccept4X, evAccept45X, evConnectX:
		return true
	}
	return false
}

func isMemory(e *event.Event) bool { return e.Info.Category == event.ECMemory }

// openFlagsCheck implements evt.is_open_read/write/exec.
func openFlagsCheck(c *Ctx, want int) (Value, bool) {
	e := c.Ev
	flagsIdx, modeIdx := -1, -1
	switch e.Type {
	case evOpenX, evOpenatE:
		flagsIdx, modeIdx = 2, 3
	case evOpenat2X, evOpenat2NewX:
		flagsIdx, modeIdx = 3, 4
	case evCreatX:
		if want == 2 {
			m, _ := e.Uint(2)
			return boolean(m&ppmExecMask != 0)
		}
		return boolean(false)
	default:
		return boolean(false)
	}
	flags, _ := e.Uint(flagsIdx)
	switch want {
	case 0:
		return boolean(flags&ppmORdonly != 0)
	case 1:
		return boolean(flags&ppmOWronly != 0)
	}
	if flags&(ppmOTmpfile|ppmOCreat) != 0 {
		m, _ := e.Uint(modeIdx)
		return boolean(m&ppmExecMask != 0)
	}
	return boolean(false)
}

// abspathArgs names the dirfd and path parameters evt.abspath joins, per event type; which is 0
// (evt.abspath), 1 (.src) or 2 (.dst).
func abspathArgs(t uint16, which int) (string, string) {
	switch t {
	case 177, 319: // renameat, renameat2 exits
		if which == 2 {
			return "newdirfd", "newpath"
		}
		return "olddirfd", "oldpath"
	case 181: // symlinkat exit
		return "linkdirfd", "linkpath"
	case evOpenatE, evOpenat2X, evOpenat2NewX:
		return "dirfd", "name"
	case 106, 311: // linkat enter, linkat_2 exit
		if which == 2 {
			return "newdir", "newpath"
		}
		return "olddir", "oldpath"
	case 110, 303: // unlinkat enter, unlinkat_2 exit
		return "dirfd", "name"
	case 305: // mkdirat exit
		return "dirfd", "path"
	case 313: // fchmodat exit
		return "dirfd", "filename"
	}
	return "", ""
}

func abspath(c *Ctx, a *Arg) (Value, bool) {
	t := c.In.Thread
	if t == nil {
		return Value{}, false
	}
	which := 0
	switch a.Name {
	case "src":
		which = 1
	case "dst":
		which = 2
	case "":
	default:
		return Value{}, false
	}
	dirArg, pathArg := abspathArgs(c.Ev.Type, which)
	if dirArg == "" {
		return Value{}, false
	}
	di, pi := c.Ev.ParamIndex(dirArg), c.Ev.ParamIndex(pathArg)
	if di < 0 || pi < 0 {
		return Value{}, false
	}
	dirfd, _ := c.Ev.Int(di)
	path := event.CString(c.Ev.Param(pi))
	b := c.buf(0)
	switch {
	case len(path) > 0 && path[0] == '/':
		b = event.AppendJoinPath(b, "/", path[1:])
	case dirfd == atFdcwd:
		b = event.AppendJoinPath(b, c.In.Cwd(t), path)
	default:
		base := unknownDirPrefix
		f := t.FD(dirfd)
		c.In.ReplaceEventFD(f, c.Ev.Info) // libsinsp's side effect: the directory is the event's fd now
		if f != nil {
			// sysdig always appends a slash to the directory fd's name before joining.
			b2 := append(c.buf(1), f.Name...)
			b2 = append(b2, '/')
			c.keep(1, b2)
			b = event.AppendJoinPath(b, unsafe.String(unsafe.SliceData(b2), len(b2)), path)
			if len(b) > 1 && b[len(b)-1] == '/' {
				b = b[:len(b)-1]
			}
			return bstr(c.keep(0, b))
		}
		b = event.AppendJoinPath(b, base, path)
	}
	if len(b) > 1 && b[len(b)-1] == '/' {
		b = b[:len(b)-1] // sysdig's path joining drops a trailing slash
	}
	return bstr(c.keep(0, b))
}

// exectime is the time since the previous switch on the event's CPU, for switch events.
func (c *Ctx) exectime() uint64 {
	if c.Ev.Type != evSwitch1 && c.Ev.Type != evSwitch6 {
		return 0
	}
	cpu := int(c.Ev.CPU)
	for len(c.more.switchTS) <= cpu {
		c.more.switchTS = append(c.more.switchTS, 0)
	}
	var res uint64
	if last := c.more.switchTS[cpu]; last != 0 {
		res = c.Ev.TS - last
	}
	c.more.switchTS[cpu] = c.Ev.TS
	return res
}

// threadCPU is the CPU delta a procinfo event reports for its thread, capped at 100.
func threadCPU(c *Ctx, user, system bool) (Value, bool) {
	t := c.In.Thread
	if c.Ev.Type != evProcinfo || t == nil {
		return Value{}, false
	}
	var tot uint64
	if user {
		v, _ := c.Ev.Uint(0)
		tot += v
	}
	if system {
		v, _ := c.Ev.Uint(1)
		tot += v
	}
	if c.more.lastCPU == nil {
		c.more.lastCPU = map[[2]int64]uint64{}
	}
	var variant int64
	if user {
		variant |= 1
	}
	if system {
		variant |= 2
	}
	key := [2]int64{t.Tid, variant}
	var d float64
	if last := c.more.lastCPU[key]; last != 0 {
		d = float64(tot - last)
		if d > 100 {
			d = 100
		}
	}
	c.more.lastCPU[key] = tot
	return Value{Kind: KDouble, F: d}, true
}

func init() {
	register("evt",
		&Field{Name: "evt.time.iso8601", Kind: KString, Desc: "UTC date and time of the event as YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ts := c.Ev.TS
			b := time.Unix(int64(ts/nsPerSec), 0).UTC().AppendFormat(c.buf(0), isoLayout)
			b = append(b, '.')
			b = appendPadded(b, ts%nsPerSec, 9)
			b = append(b, "+0000"...)
			return bstr(c.keep(0, b))
		}},
		&Field{Name: "evt.datetime.s", Kind: KString, Desc: "event timestamp as date and time, whole seconds", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			b := time.Unix(int64(c.Ev.TS/nsPerSec), 0).AppendFormat(c.buf(0), dateTimeSecondsLayout)
			return bstr(c.keep(0, b))
		}},
		&Field{Name: "evt.reltime.s", Kind: KRelTime, Desc: "whole seconds since the capture began", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return Value{Kind: KRelTime, Int: int64((c.Ev.TS - c.FirstTS) / nsPerSec)}, true
		}},
		&Field{Name: "evt.reltime.ns", Kind: KRelTime, Desc: "nanosecond part of the time since the capture began", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return padded(KRelTime, (c.Ev.TS-c.FirstTS)%nsPerSec)
		}},
		&Field{Name: "evt.pluginname", Kind: KString, Desc: "name of the plugin that produced a plugin event (plugins are not supported: never set)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return Value{}, false
		}},
		&Field{Name: "evt.plugininfo", Kind: KString, Desc: "plugin's own rendering of a plugin event (plugins are not supported: never set)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return Value{}, false
		}},
		&Field{Name: "evt.latency.human", Kind: KString, Desc: "enter-to-exit delta in readable units, e.g. 4.45us or 10ms", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			l, ok := latency(c)
			if !ok {
				return Value{}, false
			}
			if c.In.Thread == nil || c.In.NoEventThread {
				// libsinsp renders into the filtercheck's string only for an event with a
				// thread: without one it returns what it rendered last ("" at first).
				return bstr(a.last)
			}
			a.last = appendHumanTime(a.last[:0], l)
			return bstr(a.last)
		}},
		&Field{Name: "evt.deltatime.s", Kind: KRelTime, Desc: "whole seconds since the previous event", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			var d uint64
			if c.PrevTS != 0 {
				d = c.Ev.TS - c.PrevTS
			}
			return Value{Kind: KRelTime, Int: int64(d / nsPerSec)}, true
		}},
		&Field{Name: "evt.deltatime.ns", Kind: KRelTime, Desc: "nanosecond part of the time since the previous event", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			var d uint64
			if c.PrevTS != 0 {
				d = c.Ev.TS - c.PrevTS
			}
			return padded(KRelTime, d%nsPerSec)
		}},
		&Field{Name: "evt.wait_latency", Kind: KRelTime, Desc: "for exits of calls that wait (sleep, poll...), how long the thread waited (ns)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if c.Ev.Info.Flags&event.EFWaits == 0 || c.Ev.IsEnter() {
				return Value{}, false
			}
			var l uint64
			if c.In.Thread != nil && !c.In.NoEventThread {
				l = c.In.Thread.Latency
			}
			return Value{Kind: KRelTime, Int: int64(l)}, true
		}},
		&Field{Name: "evt.is_syslog", Kind: KBool, Desc: "true for writes to /dev/log", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			f := eventFD(c)
			return boolean(c.Ev.Info.Flags&event.EFWritesToFd != 0 && f != nil && containsStr(f.Name, "/dev/log"))
		}},
		&Field{Name: "evt.count.error", Kind: KUint, Desc: "1 for events that failed, for counting errors", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return errorCount(c)
		}},
		&Field{Name: "evt.count.error.file", Kind: KUint, Desc: "1 for failed events on files, for counting", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if f := eventFD(c); f != nil {
				if isFileFD(f) {
					return errorCount(c)
				}
				return Value{}, false
			}
			if isOpenExit(c.Ev.Type) {
				return errorCount(c)
			}
			return Value{}, false
		}},
		&Field{Name: "evt.count.error.net", Kind: KUint, Desc: "1 for failed events on sockets, for counting", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if f := eventFD(c); f != nil {
				if isNetFD(f) {
					return errorCount(c)
				}
				return Value{}, false
			}
			if isNetCreator(c.Ev.Type) {
				return errorCount(c)
			}
			return Value{}, false
		}},
		&Field{Name: "evt.count.error.memory", Kind: KUint, Desc: "1 for failed memory events (brk, mmap...), for counting", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if isMemory(c.Ev) {
				return errorCount(c)
			}
			return Value{}, false
		}},
		&Field{Name: "evt.count.error.other", Kind: KUint, Desc: "1 for failed events that are not file, socket or memory ones, for counting", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if f := eventFD(c); f != nil {
				if !isFileFD(f) && !isNetFD(f) {
					return errorCount(c)
				}
				return Value{}, false
			}
			t := c.Ev.Type
			if !isOpenExit(t) && !isNetCreator(t) && !isMemory(c.Ev) {
				return errorCount(c)
			}
			return Value{}, false
		}},
		&Field{Name: "evt.count.exit", Kind: KUint, Desc: "1 for exit events, for counting calls once", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if c.Ev.IsEnter() {
				return Value{}, false
			}
			return u64(1)
		}},
		&Field{Name: "evt.around", Kind: KUint, Arg: ArgRequired, FilterOnly: true, Desc: "filter only: evt.around[T]=D keeps events within D ms of the timestamp T (ns); the value is the event's distance from T in ms, rounded up", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if !a.HasN {
				return Value{}, false
			}
			t, ts := uint64(a.N), c.Ev.TS
			var d uint64
			if ts > t {
				d = ts - t
			} else {
				d = t - ts
			}
			return u64((d + humanMilli - 1) / humanMilli)
		}},
		&Field{Name: "evt.abspath", Kind: KString, Arg: ArgOptional, Desc: "absolute path built from a dirfd and a relative name (renameat, symlinkat, openat...); evt.abspath.src and evt.abspath.dst pick one of two paths", Extract: abspath},
		&Field{Name: "evt.is_open_read", Kind: KBool, Desc: "true for open, openat and openat2 calls that open for reading", Extract: func(c *Ctx, a *Arg) (Value, bool) { return openFlagsCheck(c, 0) }},
		&Field{Name: "evt.is_open_write", Kind: KBool, Desc: "true for open, openat and openat2 calls that open for writing", Extract: func(c *Ctx, a *Arg) (Value, bool) { return openFlagsCheck(c, 1) }},
		&Field{Name: "evt.is_open_exec", Kind: KBool, Desc: "true for open, openat, openat2 and creat calls that create a file with an execute bit", Extract: func(c *Ctx, a *Arg) (Value, bool) { return openFlagsCheck(c, 2) }},
	)
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// eventFD is the event's own fd (libsinsp's evt->m_fdinfo), which the evt fields read: not the
// thread's last fd that the fd fields fall back to.
func eventFD(c *Ctx) *state.FD {
	if c.In.FDFallback {
		return nil
	}
	return c.In.FD
}

// ioSubcategory names what an I/O event works on, from its fd: file, net, ipc or unknown.
func ioSubcategory(c *Ctx) string {
	f := eventFD(c) // sysdig's category reads the event's own fd only
	if f == nil {
		return "unknown"
	}
	switch f.TypeChar() {
	case 'f', 'd':
		return "file"
	case '4', '6':
		return "net"
	case 'p', 'u', 'e', 's', 'i':
		return "ipc"
	}
	return "unknown"
}

package chisels

import (
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/state"
)

// threadTable is sysdig.get_thread_table([filter]): every thread keyed by tid, with its fds keyed
// by number. With a filter, only the fds that match it (as fields of a read exit on that fd),
// and only threads with at least one.
func (c *Chisel) threadTable(L *lua.LState, withFDs, barebone bool) int {
	var flt *filter.Filter
	if s, ok := L.Get(1).(lua.LString); ok && strings.TrimSpace(string(s)) != "" {
		f, err := filter.Compile(string(s))
		if err != nil {
			L.RaiseError("invalid filter argument for get_thread_table in chisel %s: %v", c.name, err)
		}
		flt = f
	}
	// Tables are made at their sizes: gopher-lua's NewTable reserves 32 array slots and a
	// 32-entry map, which for a few thousand threads and fds was most of -c ps's run time.
	out := L.CreateTable(0, 0)
	if c.cfg.Ctx == nil || c.cfg.Ctx.In == nil {
		L.Push(out)
		return 1
	}
	in := c.cfg.Ctx.In
	var probe *fdProbe
	if flt != nil {
		probe = newFDProbe(c.cfg.Ctx)
		defer probe.restore()
	}
	nchilds := map[int64]int{}
	in.EachThread(func(t *state.Thread) { nchilds[t.Ptid]++ })
	// Collect the threads (and their fds) first: the table is filled in the order LuaJIT would
	// traverse it, so that pairs() shows what sysdig's does.
	byTid := map[int64]*state.Thread{}
	var tids []int64
	in.EachThread(func(t *state.Thread) {
		if flt != nil {
			match := false
			if fdt := t.FDs(); fdt != nil {
				fdt.Each(func(fd *state.FD) {
					if !match && probe.match(flt, t, fd) {
						match = true
					}
				})
			}
			if !match {
				return
			}
		}
		k := int64(uint32(t.Tid))
		byTid[k] = t
		tids = append(tids, k)
	})
	tids = ljOrder(c.insertionOrder(tids, in))
	setOrder(L, out, tids)
	for _, k := range tids {
		t := byTid[k]
		tt := L.CreateTable(0, 20)
		tt.RawSetString("tid", lua.LNumber(float64(uint32(t.Tid))))
		tt.RawSetString("pid", lua.LNumber(float64(uint32(t.Pid))))
		if !barebone {
			tt.RawSetString("ptid", lua.LNumber(float64(uint32(t.Ptid))))
			tt.RawSetString("comm", lua.LString(t.Comm))
			tt.RawSetString("exe", lua.LString(t.Exe))
			// sinsp marks every thread it tracks PPM_CL_NAME_CHANGED|PPM_CL_ACTIVE.
			tt.RawSetString("flags", lua.LNumber(float64(t.Flags|1<<17|1<<19)))
			tt.RawSetString("fdlimit", lua.LNumber(float64(uint32(t.FdLimit))))
			tt.RawSetString("uid", lua.LNumber(float64(t.Uid)))
			tt.RawSetString("gid", lua.LNumber(float64(t.Gid)))
			tt.RawSetString("nchilds", lua.LNumber(float64(nchilds[t.Tid])))
			tt.RawSetString("vmsize_kb", lua.LNumber(float64(t.VmSizeKB)))
			tt.RawSetString("vmrss_kb", lua.LNumber(float64(t.VmRssKB)))
			tt.RawSetString("vmswap_kb", lua.LNumber(float64(t.VmSwapKB)))
			tt.RawSetString("pfmajor", lua.LNumber(float64(uint32(t.PfMajor))))
			tt.RawSetString("pfminor", lua.LNumber(float64(uint32(t.PfMinor))))
			tt.RawSetString("clone_ts", lua.LString(strconv.FormatUint(t.CloneTS, 10)))
			user := "<NA>"
			if t.Uid != 0xffffffff {
				if u := in.User(t.Uid); u != nil {
					user = u.Name
				}
			}
			tt.RawSetString("username", lua.LString(user))
			args := L.CreateTable(len(t.Args), 0)
			for _, a := range t.Args {
				args.Append(lua.LString(a))
			}
			tt.RawSetString("args", args)
			env := L.CreateTable(len(t.Env), 0)
			for _, e := range t.Env {
				env.Append(lua.LString(e))
			}
			tt.RawSetString("env", env)
		}
		fdtab := L.CreateTable(0, 0)
		if fdt := t.FDs(); withFDs && fdt != nil {
			byNum := map[int64]*state.FD{}
			var nums []int64
			fdt.Each(func(fd *state.FD) {
				if flt != nil && !probe.match(flt, t, fd) {
					return
				}
				k := int64(uint32(fd.Num))
				byNum[k] = fd
				nums = append(nums, k)
			})
			nums = ljOrder(c.fdInsertionOrder(nums, t))
			setOrder(L, fdtab, nums)
			for _, k := range nums {
				fd := byNum[k]
				ft := L.CreateTable(0, 12)
				if !barebone {
					ft.RawSetString("name", lua.LString(cleanName(fd.Name)))
					ft.RawSetString("type", lua.LString(tableFDType(fd)))
				}
				if fd.IsIP() {
					fillSocket(ft, fd)
				}
				fdtab.RawSetInt(int(k), ft)
			}
		}
		tt.RawSetString("fdtable", fdtab)
		out.RawSetInt(int(k), tt)
	}
	L.Push(out)
	return 1
}

// setOrder makes pairs() visit t's integer keys in the given order (see orderedPairs).
func setOrder(L *lua.LState, t *lua.LTable, keys []int64) {
	ord := L.CreateTable(len(keys), 0)
	for _, k := range keys {
		ord.Append(lua.LNumber(float64(k)))
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString(orderField, ord)
	L.SetMetatable(t, mt)
}

const orderField = "__gosysdig_order"

// orderedPairs is pairs(), except for the tables the API builds with a traversal order: gopher-lua
// always visits integer keys in ascending order, LuaJIT in hash order.
func orderedPairs(next lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		tb := L.CheckTable(1)
		if mt, ok := L.GetMetatable(tb).(*lua.LTable); ok {
			if ord, ok := mt.RawGetString(orderField).(*lua.LTable); ok {
				i := 0
				n := ord.Len()
				L.Push(L.NewFunction(func(L *lua.LState) int {
					for i < n {
						i++
						k := ord.RawGetInt(i)
						if v := tb.RawGet(k); v != lua.LNil {
							L.Push(k)
							L.Push(v)
							return 2
						}
					}
					L.Push(lua.LNil)
					return 1
				}))
				L.Push(tb)
				L.Push(lua.LNil)
				return 3
			}
		}
		L.Push(next)
		L.Push(tb)
		L.Push(lua.LNil)
		return 3
	}
}

// headerOrder is the order of the threads, and of each thread's fds, in the capture's header:
// the order sysdig inserted them into its tables.
type headerOrder struct {
	tids []int64
	fds  map[int64][]int64
}

func (c *Chisel) header() *headerOrder {
	if c.hdr != nil {
		return c.hdr
	}
	c.hdr = &headerOrder{fds: map[int64][]int64{}}
	if c.cfg.Input == "" {
		return c.hdr
	}
	r, err := capture.Open(c.cfg.Input)
	if err != nil {
		return c.hdr
	}
	defer r.Close()
	for _, t := range r.Header().Threads {
		c.hdr.tids = append(c.hdr.tids, t.Tid)
		for _, f := range t.FDs {
			c.hdr.fds[t.Tid] = append(c.hdr.fds[t.Tid], f.Fd)
		}
	}
	return c.hdr
}

// insertionOrder orders the tids as sysdig's thread table iterates them, which is the order the
// Lua table got them in: the capture's threads in header order, then the threads seen later by
// creation time, through a std::unordered_map.
func (c *Chisel) insertionOrder(tids []int64, in *state.Inspector) []int64 {
	h := c.header()
	want := map[int64]bool{}
	for _, k := range tids {
		want[k] = true
	}
	seq := make([]int64, 0, len(h.tids)+len(tids))
	inHdr := map[int64]bool{}
	for _, k := range h.tids {
		seq = append(seq, k)
		inHdr[k] = true
	}
	var later []*state.Thread
	in.EachThread(func(t *state.Thread) {
		if !inHdr[t.Tid] {
			later = append(later, t)
		}
	})
	sort.Slice(later, func(i, j int) bool {
		if later[i].CloneTS != later[j].CloneTS {
			return later[i].CloneTS < later[j].CloneTS
		}
		return later[i].Tid < later[j].Tid
	})
	for _, t := range later {
		seq = append(seq, t.Tid)
	}
	out := make([]int64, 0, len(tids))
	for _, k := range stdOrder(seq) {
		if want[int64(uint32(k))] {
			out = append(out, int64(uint32(k)))
			delete(want, int64(uint32(k)))
		}
	}
	rest := make([]int64, 0, len(want))
	for k := range want {
		rest = append(rest, k)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	return append(out, rest...)
}

// fdInsertionOrder does the same for one thread's fds: the header's first, then the others.
func (c *Chisel) fdInsertionOrder(nums []int64, t *state.Thread) []int64 {
	h := c.header()
	hf, ok := h.fds[t.Tid]
	if !ok || len(hf) == 0 {
		hf = h.fds[t.Pid]
	}
	want := map[int64]bool{}
	for _, k := range nums {
		want[k] = true
	}
	seq := append([]int64(nil), hf...)
	var rest []int64
	inHdr := map[int64]bool{}
	for _, k := range hf {
		inHdr[k] = true
	}
	for _, k := range nums {
		if !inHdr[k] {
			rest = append(rest, k)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	seq = append(seq, rest...)
	out := make([]int64, 0, len(nums))
	for _, k := range stdOrder(seq) {
		if want[k] {
			out = append(out, k)
			delete(want, k)
		}
	}
	return out
}

// cleanName is sysdig's tostring_clean: the name without non-printable characters.
func cleanName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			b := make([]byte, 0, len(s))
			for j := 0; j < len(s); j++ {
				if s[j] >= 0x20 && s[j] < 0x7f {
					b = append(b, s[j])
				}
			}
			return string(b)
		}
	}
	return s
}

func ipString(b []byte, v6 bool) string {
	v := fields.Value{Kind: fields.KIP, Str: b[:4]}
	if v6 {
		v.Str = b[:16]
	}
	return string(fields.AppendText(nil, v))
}

func fillSocket(ft *lua.LTable, fd *state.FD) {
	v6 := fd.IsV6()
	if fd.IsServer() {
		ft.RawSetString("sip", lua.LString(ipString(fd.Sip[:], v6)))
		ft.RawSetString("sport", lua.LNumber(float64(fd.Sport)))
		ft.RawSetString("is_server", lua.LTrue)
	} else {
		ft.RawSetString("cip", lua.LString(ipString(fd.Sip[:], v6)))
		ft.RawSetString("sip", lua.LString(ipString(fd.Dip[:], v6)))
		ft.RawSetString("cport", lua.LNumber(float64(fd.Sport)))
		ft.RawSetString("sport", lua.LNumber(float64(fd.Dport)))
		ft.RawSetString("is_server", lua.LBool(fd.Role == 2))
	}
	l4 := "<NA>"
	switch fd.L4() {
	case state.L4TCP:
		l4 = "tcp"
	case state.L4UDP:
		l4 = "udp"
	case state.L4ICMP:
		l4 = "icmp"
	case state.L4Raw:
		l4 = "raw"
	}
	ft.RawSetString("l4proto", lua.LString(l4))
}

// fdProbe evaluates a filter against a thread and fd, as sysdig does with a synthetic read exit
// event on that fd.
type fdProbe struct {
	ctx                *fields.Ctx
	ev                 event.Event
	saveEv             *event.Event
	saveThread         *state.Thread
	saveFD             *state.FD
	saveNum            int64
	raw                []byte
	ok                 bool
	restoreInspectorFn func()
}

func newFDProbe(ctx *fields.Ctx) *fdProbe {
	p := &fdProbe{ctx: ctx, saveEv: ctx.Ev}
	in := ctx.In
	p.saveThread, p.saveFD, p.saveNum = in.Thread, in.FD, in.FDNum
	const readX = 7 // PPME_SYSCALL_READ_X
	info := event.Lookup(readX)
	if info != nil {
		raw := make([]byte, event.HeaderV2)
		var ts uint64
		if ctx.Ev != nil {
			ts = ctx.Ev.TS
		}
		putU64(raw[0:], ts)
		putU32(raw[16:], uint32(len(raw)))
		raw[20] = readX
		p.raw = raw
		p.ok = p.ev.Set(raw, event.HeaderV2, info) == nil
	}
	return p
}

func (p *fdProbe) match(flt *filter.Filter, t *state.Thread, fd *state.FD) bool {
	if !p.ok {
		return false
	}
	in := p.ctx.In
	in.Thread, in.FD, in.FDNum = t, fd, fd.Num
	p.ev.Tid = t.Tid
	p.ctx.Ev = &p.ev
	return flt.Match(p.ctx)
}

func (p *fdProbe) restore() {
	in := p.ctx.In
	in.Thread, in.FD, in.FDNum = p.saveThread, p.saveFD, p.saveNum
	p.ctx.Ev = p.saveEv
}

func putU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func putU32(b []byte, v uint32) {
	for i := 0; i < 4; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

// tableFDType is an fd's type in sysdig.get_thread_table (sinsp_fdinfo_t::get_typestring): the
// fd.type names, but "<NA>" for the types it has no name for (unsupported ones such as pidfds,
// and unknown ones).
func tableFDType(fd *state.FD) string {
	switch n := fd.TypeName(); n {
	case "unsupported", "unknown":
		return "<NA>"
	default:
		return n
	}
}

package fields

import (
	"github.com/gosysdig/gosysdig/state"
)

// nchilds counts the threads of t's process other than its main thread, for a main thread; other
// threads have no children of their own, as sysdig counts them.
func nchilds(c *Ctx, t *state.Thread) uint64 { return uint64(t.NChilds()) }

// sessionLeader is the thread named by the session id or, when it has gone, the eldest ancestor
// of t's process that is still in the same session.
func sessionLeader(c *Ctx, t *state.Thread) *state.Thread {
	if s := c.In.Lookup(t.Sid); s != nil {
		return s
	}
	m := c.In.MainThread(t)
	if m == nil {
		return nil
	}
	sid := m.Sid
	for p := c.In.Parent(m); p != nil && p.Sid == sid; p = c.In.Parent(p) {
		m = p
		if p.Ptid == p.Tid { // a self-parented thread would loop forever
			break
		}
	}
	return m
}

// Probe categories of processes a container runs to check its health.
const (
	probeHealthcheck = iota + 1
	probeLiveness
	probeReadiness
)

// probeCategory reports which of its container's health probes t's process (or the nearest
// ancestor in the same container) runs, matching the probe's executable and arguments.
func probeCategory(c *Ctx, t *state.Thread) int {
	if t.ContainerID == "" {
		return 0
	}
	ct := c.In.Containers.Get(t.ContainerID)
	if ct == nil || len(ct.HealthProbes) == 0 {
		return 0
	}
	p := proc(c)
	for i := 0; p != nil && p.ContainerID == t.ContainerID && i < 64; i++ {
		if p.Vpid == 1 {
			return 0 // the container's init is never a probe
		}
		for _, hp := range ct.HealthProbes {
			if hp.Exe == p.Exe && equalArgs(hp.Args, p.Args) {
				return hp.Type
			}
		}
		p = c.In.Parent(p)
	}
	return 0
}

func equalArgs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func init() {
	register("proc",
		tfield("proc.nchilds", KUint, "threads of the process besides its main thread (0 for other threads)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return u64(nchilds(c, t))
		}),
		tfield("proc.duration", KRelTime, "nanoseconds since the process was created (only for processes created during the capture)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if t.CloneTS == 0 {
				return Value{}, false
			}
			return Value{Kind: KRelTime, Int: int64(c.Ev.TS - t.CloneTS)}, true
		}),
		tfield("proc.fdusage", KDouble, "open fds as a percentage of the process's fd limit", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			open := float64(openCount(c))
			var pct float64
			if lim := proc(c).FdLimit; lim > 0 {
				pct = open / float64(lim) * 100
			}
			return Value{Kind: KDouble, F: pct}, true
		}),
		tfield("proc.sname", KString, "name of the process's session leader (or of its eldest ancestor in the same session)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			s := sessionLeader(c, t)
			if s == nil {
				return Value{}, false
			}
			return sstr(s.Comm)
		}),
		tfield("proc.is_container_healthcheck", KBool, "true for processes that run a container's health check", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return boolean(probeCategory(c, t) == probeHealthcheck)
		}),
		tfield("proc.is_container_liveness_probe", KBool, "true for processes that run a container's liveness probe", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return boolean(probeCategory(c, t) == probeLiveness)
		}),
		tfield("proc.is_container_readiness_probe", KBool, "true for processes that run a container's readiness probe", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return boolean(probeCategory(c, t) == probeReadiness)
		}),
	)
	register("thread",
		tfield("thread.pfmajor", KUint, "major page faults of the thread since it started", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(t.PfMajor) }),
		tfield("thread.pfminor", KUint, "minor page faults of the thread since it started", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(t.PfMinor) }),
		&Field{Name: "thread.exectime", Kind: KRelTime, Desc: "CPU time (ns) the previously scheduled thread ran; set by switch events, 0 on others", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			return Value{Kind: KRelTime, Int: int64(c.exectime())}, true
		}},
		&Field{Name: "thread.totexectime", Kind: KRelTime, Desc: "CPU time (ns) the thread ran since the capture began, summed from switch events", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			d := c.exectime()
			t := c.In.Thread
			if t == nil {
				return Value{}, false
			}
			if c.more.totExec == nil {
				c.more.totExec = map[int64]uint64{}
			}
			tot := c.more.totExec[t.Tid] + d
			if d != 0 {
				c.more.totExec[t.Tid] = tot
			}
			return Value{Kind: KRelTime, Int: int64(tot)}, true
		}},
		&Field{Name: "thread.cpu", Kind: KDouble, Desc: "CPU the thread used since its previous procinfo event (procinfo events only)", Extract: func(c *Ctx, a *Arg) (Value, bool) { return threadCPU(c, true, true) }},
		&Field{Name: "thread.cpu.user", Kind: KDouble, Desc: "user CPU the thread used since its previous procinfo event (procinfo events only)", Extract: func(c *Ctx, a *Arg) (Value, bool) { return threadCPU(c, true, false) }},
		&Field{Name: "thread.cpu.system", Kind: KDouble, Desc: "system CPU the thread used since its previous procinfo event (procinfo events only)", Extract: func(c *Ctx, a *Arg) (Value, bool) { return threadCPU(c, false, true) }},
		tfield("thread.vmsize", KUint, "virtual memory of the process (kB) on its main thread, 0 on other threads", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if !t.IsMain() {
				return u64(0)
			}
			return u64(uint64(t.VmSizeKB))
		}),
		tfield("thread.vmrss", KUint, "resident memory of the process (kB) on its main thread, 0 on other threads", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if !t.IsMain() {
				return u64(0)
			}
			return u64(uint64(t.VmRssKB))
		}),
	)
}

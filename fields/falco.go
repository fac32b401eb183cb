package fields

import (
	"sort"
	"strings"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// Fields Falco's rules files read that sysdig 0.29.3 does not have (later falcosecurity libs
// do), with libs' meaning. The ancestor families (proc.aname, proc.apid, proc.aexe,
// proc.aexepath) take an optional index: proc.aname[1] is the parent; without an index a
// filter comparison holds when it holds for any ancestor (libs' compare over the lineage),
// and a -p format prints the parent's value.

const falcoOnly = " (Falco field; not in sysdig 0.29.3)"

// ancestorField builds an ancestor family field from get, which reads one thread.
func ancestorField(name string, kind Kind, desc string, get func(t *state.Thread) (Value, bool)) *Field {
	return &Field{Name: name, Kind: kind, Arg: ArgOptional, Desc: desc,
		Extract: func(c *Ctx, a *Arg) (Value, bool) {
			n := 1
			if a.HasN {
				n = a.N
			}
			t := ancestor(c, n)
			if t == nil {
				return Value{}, false
			}
			return get(t)
		},
		Each: func(c *Ctx, a *Arg, yield func(Value) bool) {
			p := proc(c)
			if p == nil {
				return
			}
			// A bounded walk: a parent loop in a corrupt capture must not hang the filter.
			for i, t := 0, c.In.Parent(p); t != nil && i < 256; i, t = i+1, c.In.Parent(t) {
				if v, ok := get(t); ok && !yield(v) {
					return
				}
			}
		}}
}

// parentField reads get on the event thread's parent, as libs' proc.p* fields do.
func parentField(name string, kind Kind, desc string, get func(t *state.Thread) (Value, bool)) *Field {
	return tfield(name, kind, desc, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
		p := c.In.Parent(t)
		if p == nil {
			return Value{}, false
		}
		return get(p)
	})
}

func exeOf(t *state.Thread) (Value, bool)     { return sstr(t.Exe) }
func exepathOf(t *state.Thread) (Value, bool) { return sstr(t.Exepath) }
func commOf(t *state.Thread) (Value, bool)    { return sstr(t.Comm) }
func pidOf(t *state.Thread) (Value, bool)     { return i64(t.Pid) }

// k8sLabel reads one of the io.kubernetes.* labels the CRI (containerd, CRI-O) puts on a pod's
// containers, where Falco's k8s.* fields come from since Falco dropped its API-server client.
func k8sLabel(name, label, desc string) *Field {
	return &Field{Name: name, Kind: KString, Desc: desc + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		ct := containerOf(c)
		if ct == nil {
			return Value{}, false
		}
		v, ok := ct.Labels[label]
		if !ok || v == "" {
			return Value{}, false
		}
		return sstr(v)
	}}
}

// openRawName is the path an open-family exit event carries as the program passed it, before
// the cwd or dirfd is joined and ".." resolved: libs' fdinfo m_name_raw.
func openRawName(ev *event.Event) ([]byte, bool) {
	if ev == nil || ev.IsEnter() || ev.Info == nil {
		return nil, false
	}
	switch ev.Info.Name {
	case "open", "openat", "openat2", "creat", "open_by_handle_at":
	default:
		return nil, false
	}
	i := ev.ParamIndex("name")
	if i < 0 {
		i = ev.ParamIndex("path")
	}
	if i < 0 {
		return nil, false
	}
	return event.CString(ev.Param(i)), true
}

func init() {
	register("proc",
		ancestorField("proc.aname", KString, "name of an ancestor: proc.aname[1] is the parent; without index, any ancestor", commOf),
		ancestorField("proc.apid", KInt, "pid of an ancestor: proc.apid[1] is the parent; without index, any ancestor", pidOf),
		ancestorField("proc.aexe", KString, "argv[0] of an ancestor: proc.aexe[1] is the parent's; without index, any ancestor"+falcoOnly, exeOf),
		ancestorField("proc.aexepath", KString, "executable path of an ancestor; without index, any ancestor"+falcoOnly, exepathOf),
		parentField("proc.pexe", KString, "the parent's argv[0]"+falcoOnly, exeOf),
		parentField("proc.pexepath", KString, "the parent's executable path"+falcoOnly, exepathOf),
		tfield("proc.is_vpgid_leader", KBool, "the process leads its process group (vpid = vpgid)"+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			p := proc(c)
			if p.Vpid < 0 || p.Vpgid < 0 {
				return Value{}, false
			}
			return boolean(p.Vpid == p.Vpgid)
		}),
		tfield("proc.is_exe_upper_layer", KBool, "the executable lies in an overlayfs upper layer (execve flag)"+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return boolean(proc(c).ExeUpperLayer)
		}),
		tfield("proc.is_exe_from_memfd", KBool, "the executable is a memfd (fileless execution)"+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return boolean(proc(c).ExeFromMemfd || strings.HasPrefix(proc(c).Exepath, "/memfd:"))
		}),
	)
	register("proc",
		exeInoField("proc.exe_ino", KUint, "inode of the executable", func(t *state.Thread) uint64 { return t.ExeIno }),
		exeInoField("proc.exe_ino.ctime", KAbsTime, "the executable inode's change time", func(t *state.Thread) uint64 { return t.ExeInoCtime }),
		exeInoField("proc.exe_ino.mtime", KAbsTime, "the executable inode's modification time", func(t *state.Thread) uint64 { return t.ExeInoMtime }),
		tfield("proc.exe_ino.ctime_duration_proc_start", KRelTime, "ns from the executable inode's change to the process's start"+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			p := proc(c)
			if p.ExeInoCtime == 0 || p.CloneTS == 0 {
				return Value{}, false
			}
			return Value{Kind: KRelTime, Int: int64(p.CloneTS) - int64(p.ExeInoCtime)}, true
		}),
	)
	register("container",
		&Field{Name: "container.start_ts", Kind: KAbsTime, Desc: "when the runtime created the container" + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil || ct.CreatedTime <= 0 {
				return Value{}, false
			}
			return Value{Kind: KAbsTime, Int: ct.CreatedTime * 1e9}, true
		}},
		&Field{Name: "container.duration", Kind: KRelTime, Desc: "nanoseconds since the runtime created the container (since container.start_ts)" + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil || ct.CreatedTime <= 0 || c.Ev == nil {
				return Value{}, false
			}
			return Value{Kind: KRelTime, Int: int64(c.Ev.TS) - ct.CreatedTime*1e9}, true
		}},
	)
	register("fd",
		&Field{Name: "fd.nameraw", Kind: KString, Desc: "the path as the program passed it to open, openat, openat2 or creat (only on those exit events)" + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
			b, ok := openRawName(c.Ev)
			if !ok {
				return Value{}, false
			}
			return bstr(b)
		}},
	)
	register("k8s",
		k8sLabel("k8s.pod.name", "io.kubernetes.pod.name", "the pod's name, from the CRI container label"),
		k8sLabel("k8s.ns.name", "io.kubernetes.pod.namespace", "the pod's namespace, from the CRI container label"),
		k8sLabel("k8s.pod.uid", "io.kubernetes.pod.uid", "the pod's uid, from the CRI container label"),
		k8sLabel("k8s.pod.id", "io.kubernetes.pod.uid", "the pod's uid (legacy name), from the CRI container label"),
		k8sLabel("k8s.container.name", "io.kubernetes.container.name", "the container's name in the pod, from the CRI container label"),
		&Field{Name: "k8s.pod.labels", Kind: KString, Desc: "the pod's labels as key:value, comma-separated, from the CRI pod sandbox" + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil || len(ct.PodLabels) == 0 {
				return Value{}, false
			}
			keys := make([]string, 0, len(ct.PodLabels))
			for k := range ct.PodLabels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b []byte
			for i, k := range keys {
				if i > 0 {
					b = append(b, ", "...)
				}
				b = append(b, k...)
				b = append(b, ':')
				b = append(b, ct.PodLabels[k]...)
			}
			return bstr(b)
		}},
		&Field{Name: "k8s.pod.label", Kind: KString, Arg: ArgRequired, Desc: "one of the pod's labels, by key (k8s.pod.label[app]), from the CRI pod sandbox" + falcoOnly, Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil {
				return Value{}, false
			}
			v, ok := ct.PodLabels[a.Raw]
			if !ok {
				return Value{}, false
			}
			return sstr(v)
		}},
	)
}

// exeInoField reads one of the executable's inode facts, missing while unknown (0): the live
// probe does not send execve's exe_ino parameters, so only /proc-read processes have them.
func exeInoField(name string, kind Kind, desc string, get func(t *state.Thread) uint64) *Field {
	return tfield(name, kind, desc+falcoOnly, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
		v := get(proc(c))
		if v == 0 {
			return Value{}, false
		}
		return Value{Kind: kind, Int: int64(v)}, true
	})
}

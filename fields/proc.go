package fields

import (
	"strings"
	"time"

	"github.com/gosysdig/gosysdig/state"
)

func appendDateTime(dst []byte, ns uint64) []byte {
	t := time.Unix(int64(ns/1e9), 0)
	dst = t.AppendFormat(dst, "2006-01-02 ")
	return AppendClock(dst, ns)
}

// thread returns the event's thread, or nil.
func thread(c *Ctx) *state.Thread { return c.In.Thread }

// proc returns the main thread of the event's process (or the thread itself), as libsinsp's
// process fields find it: a placeholder is made for a process the table lacks.
// openCount is libsinsp's get_fd_opencount: the size of the main thread's own fd table (a
// thread that did not share its fds has its own, which this does not count).
func openCount(c *Ctx) int {
	if m := proc(c); m != nil && m.FDs() != nil {
		return m.FDs().Len()
	}
	return 0
}

func proc(c *Ctx) *state.Thread {
	t := c.In.Thread
	if t == nil {
		return nil
	}
	if m := c.In.ProcessThread(t); m != nil {
		return m
	}
	return t
}

func tfield(name string, kind Kind, desc string, fn func(c *Ctx, t *state.Thread, a *Arg) (Value, bool)) *Field {
	return &Field{Name: name, Kind: kind, Desc: desc, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		t := thread(c)
		if t == nil {
			return Value{}, false
		}
		return fn(c, t, a)
	}}
}

func appendJoined(dst []byte, items []string, sep byte) []byte {
	for i, s := range items {
		if i > 0 {
			dst = append(dst, sep)
		}
		dst = append(dst, s...)
	}
	return dst
}

// ancestor walks n parents up (n=0: the process itself).
func ancestor(c *Ctx, n int) *state.Thread {
	t := proc(c)
	for i := 0; i < n && t != nil; i++ {
		t = c.In.Parent(t)
	}
	return t
}

func userOf(c *Ctx, t *state.Thread) *state.User {
	return c.In.User(t.Uid)
}

func init() {
	register("proc",
		tfield("proc.pid", KInt, "process id", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(t.Pid) }),
		tfield("proc.exe", KString, "first command line argument (argv[0])", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return sstr(t.Exe) }),
		tfield("proc.name", KString, "process name (comm)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return sstr(t.Comm) }),
		tfield("proc.args", KString, "command line arguments", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return bstr(c.keep(2, appendJoined(c.buf(2), t.Args, ' ')))
		}),
		tfield("proc.env", KString, "environment variables", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			p := proc(c)
			if a.Raw != "" {
				for _, e := range p.Env {
					if strings.HasPrefix(e, a.Raw+"=") {
						return sstr(e[len(a.Raw)+1:])
					}
				}
				return sstr("")
			}
			return bstr(c.keep(2, appendJoined(c.buf(2), p.Env, ' ')))
		}),
		tfield("proc.cmdline", KString, "name and arguments", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			b := append(c.buf(2), t.Comm...)
			for _, s := range t.Args {
				b = append(append(b, ' '), s...)
			}
			return bstr(c.keep(2, b))
		}),
		tfield("proc.exeline", KString, "exe and arguments", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			b := append(append(c.buf(2), t.Exe...), ' ')
			b = appendJoined(b, t.Args, ' ')
			return bstr(c.keep(2, b))
		}),
		tfield("proc.cwd", KString, "working directory", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return sstr(c.In.Cwd(t)) }),
		tfield("proc.nthreads", KUint, "threads in the process", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			// libsinsp's count: the main thread's tally of its threads, plus itself.
			if m := c.In.MainThread(t); m != nil {
				return u64(uint64(m.NChilds()) + 1)
			}
			n := uint64(1)
			c.In.EachThread(func(o *state.Thread) {
				if o.Pid == t.Pid {
					n++
				}
			})
			return u64(n)
		}),
		tfield("proc.ppid", KInt, "parent process id", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(proc(c).Ptid) }),
		tfield("proc.pname", KString, "parent process name", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			p := c.In.Parent(t)
			if p == nil {
				return Value{}, false
			}
			return sstr(p.Comm)
		}),
		tfield("proc.pcmdline", KString, "parent name and arguments", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			p := c.In.Parent(t)
			if p == nil {
				return Value{}, false
			}
			b := append(c.buf(2), p.Comm...)
			for _, s := range p.Args {
				b = append(append(b, ' '), s...)
			}
			return bstr(c.keep(2, b))
		}),
		tfield("proc.loginshellid", KInt, "pid of the oldest shell among the ancestors", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			var id int64 = -1
			for p := proc(c); p != nil; p = c.In.Parent(p) {
				if isShell(p.Comm) {
					id = p.Pid
				}
			}
			if id < 0 {
				return Value{}, false
			}
			return i64(id)
		}),
		tfield("proc.fdopencount", KUint, "how many fds the process has open", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			return u64(uint64(openCount(c)))
		}),
		tfield("proc.fdlimit", KInt, "maximum number of fds", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(proc(c).FdLimit) }),
		// The memory counters are the event's thread's own, as libsinsp reads them: a thread's
		// clone exit and its brk/mmap/munmap exits set its copy, switch events the main thread's.
		tfield("proc.vmsize", KUint, "virtual memory (kB)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(uint64(t.VmSizeKB)) }),
		tfield("proc.vmrss", KUint, "resident memory (kB)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(uint64(t.VmRssKB)) }),
		tfield("proc.vmswap", KUint, "swapped memory (kB)", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(uint64(t.VmSwapKB)) }),
		tfield("proc.pfmajor", KUint, "major page faults", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(t.PfMajor) }),
		tfield("proc.pfminor", KUint, "minor page faults", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(t.PfMinor) }),
		tfield("proc.sid", KInt, "session id", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(t.Sid) }),
		tfield("proc.vpgid", KInt, "process group id in its namespace", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(t.Vpgid) }),
		tfield("proc.tty", KUint, "controlling terminal", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(uint64(t.Tty)) }),
		tfield("proc.exepath", KString, "full path of the executable", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return sstr(t.Exepath) }),
		tfield("proc.is_exe_writable", KBool, "the executable is writable by the process's user", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return boolean(t.ExeWritable) }),
		tfield("proc.vpid", KInt, "process id in its namespace", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if t.Vpid == -1 {
				return Value{}, false
			}
			return i64(t.Vpid)
		}),
	)
	register("thread",
		// thread.tid is the event's tid even when the event has no thread (a switch by a tid
		// never seen): libsinsp extracts it from the event, not the thread.
		&Field{Name: "thread.tid", Kind: KInt, Desc: "thread id", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			if t := thread(c); t != nil {
				return i64(t.Tid)
			}
			if c.Ev == nil {
				return Value{}, false
			}
			return i64(c.Ev.Tid)
		}},
		tfield("thread.ismain", KBool, "true for the process's main thread", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return boolean(t.IsMain()) }),
		tfield("thread.vtid", KInt, "thread id in its namespace", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if t.Vtid == -1 {
				return Value{}, false
			}
			return i64(t.Vtid)
		}),
		tfield("thread.cgroups", KString, "all cgroups of the thread", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if len(t.Cgroups) == 0 {
				return Value{}, false
			}
			return bstr(c.keep(2, appendJoined(c.buf(2), t.Cgroups, ' ')))
		}),
		&Field{Name: "thread.cgroup", Kind: KString, Arg: ArgRequired, Desc: "the thread's cgroup of a subsystem", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			t := thread(c)
			if t == nil {
				return Value{}, false
			}
			for _, cg := range t.Cgroups {
				if strings.HasPrefix(cg, a.Raw+"=") {
					return sstr(cg[len(a.Raw)+1:])
				}
			}
			return Value{}, false
		}},
	)
	register("user",
		tfield("user.uid", KUint, "user id", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return u64(uint64(t.Uid)) }),
		tfield("user.name", KString, "user name", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if u := userOf(c, t); u != nil {
				return sstr(u.Name)
			}
			return Value{}, false
		}),
		tfield("user.homedir", KString, "home directory", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if u := userOf(c, t); u != nil {
				return sstr(u.Home)
			}
			return Value{}, false
		}),
		tfield("user.shell", KString, "login shell", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if u := userOf(c, t); u != nil {
				return sstr(u.Shell)
			}
			return Value{}, false
		}),
		tfield("user.loginuid", KInt, "audit login uid", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) { return i64(int64(int32(t.LoginUid))) }),
		tfield("user.loginname", KString, "audit login user name", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if u := c.In.User(t.LoginUid); u != nil {
				return sstr(u.Name)
			}
			return Value{}, false
		}),
	)
	register("group",
		tfield("group.gid", KUint, "group id", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			// sysdig 0.29.3 declares group.gid 64-bit but reads the thread's 32-bit gid: the
			// upper half is the next field in memory, the low half of the thread count
			// (m_nchilds). Its output has it, so gosysdig does too.
			return u64(uint64(t.Gid) | uint64(uint32(t.NChilds()))<<32)
		}),
		tfield("group.name", KString, "group name", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if g := c.In.Group(t.Gid); g != nil {
				return sstr(g.Name)
			}
			return Value{}, false
		}),
	)
	register("container",
		tfield("container.id", KString, "container id, or host", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			if t.ContainerID == "" {
				return sstr("host")
			}
			return sstr(t.ContainerID)
		}),
		cfield("container.name", "container name", func(ct *state.Container) string { return ct.Name }, "host"),
		cfield("container.image", "container image", func(ct *state.Container) string { return ct.Image }, ""),
		cfield("container.image.id", "container image id", func(ct *state.Container) string { return ct.ImageID }, ""),
		cfield("container.image.repository", "container image repository", func(ct *state.Container) string { return ct.ImageRepo }, ""),
		cfield("container.image.tag", "container image tag", func(ct *state.Container) string { return ct.ImageTag }, ""),
		cfield("container.image.digest", "container image digest", func(ct *state.Container) string { return ct.ImageDigest }, ""),
		tfield("container.type", KString, "container type", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			// libsinsp's filtercheck renders into its own string and has no case for the
			// custom and later types (podman): it returns what it rendered last ("" at
			// first, "host" after a host event).
			if t.ContainerID == "" {
				a.last = append(a.last[:0], "host"...)
				return bstr(a.last)
			}
			ct := c.In.Containers.Get(t.ContainerID)
			if ct == nil {
				return Value{}, false
			}
			if name := containerType(ct.Type); name != "custom" && name != "unknown" {
				a.last = append(a.last[:0], name...)
			}
			return bstr(a.last)
		}),
		tfield("container.privileged", KBool, "true for privileged containers", func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
			ct := c.In.Containers.Get(t.ContainerID)
			if ct == nil {
				return Value{}, false
			}
			return boolean(ct.Privileged)
		}),
	)
}

func containerType(t int) string {
	switch t {
	case 0:
		return "docker"
	case 1:
		return "lxc"
	case 2:
		return "libvirt-lxc"
	case 3:
		return "mesos"
	case 4:
		return "rkt"
	case 5:
		return "custom"
	case 6:
		return "cri"
	case 7:
		return "containerd"
	case 8:
		return "cri-o"
	case 9:
		return "bpm"
	}
	return "unknown"
}

// cfield is a container attribute: hostVal for host processes, missing for unknown containers.
func cfield(name, desc string, get func(*state.Container) string, hostVal string) *Field {
	return tfield(name, KString, desc, func(c *Ctx, t *state.Thread, a *Arg) (Value, bool) {
		if t.ContainerID == "" {
			if hostVal == "" {
				return Value{}, false
			}
			return sstr(hostVal)
		}
		ct := c.In.Containers.Get(t.ContainerID)
		if ct == nil {
			return Value{}, false
		}
		return sstr(get(ct))
	})
}

func isShell(comm string) bool {
	switch comm {
	case "bash", "sh", "zsh", "ksh", "csh", "tcsh", "dash", "fish", "ash":
		return true
	}
	return false
}

package state

import "github.com/gosysdig/gosysdig/event"

// cloneStaleNS is libsinsp's CLONE_STALE_TIME_NS: a thread created by a clone longer ago than
// this, when its own clone exit shows up, is taken for an old thread whose exit was lost.
const cloneStaleNS = 2_000_000_000

// isCloneExit reports the exits of the clone family (clone, fork, vfork in every version, clone3).
func isCloneExit(typ uint16) bool {
	switch typ {
	case 15, 157, 217, 223, 183, 219, 225, 185, 221, 227, 335:
		return true
	}
	return false
}

// hasNamespaceIDs reports the clone versions that carry vtid and vpid (the *_20 ones, clone3).
func hasNamespaceIDs(typ uint16) bool {
	switch typ {
	case 223, 225, 227, 335:
		return true
	}
	return false
}

// parseClone is libsinsp 0.29.3's clone exit parser. t is the event's thread, nil when the
// table does not have it (a clone exit makes no placeholder for its own thread). The parent's
// exit creates the child unless the child is in a pid namespace (the parent then only knows
// the child's namespace tid); the child's own exit creates it only when the parent's was not
// seen first (an "inverted" clone), and otherwise just sets its namespace ids.
func (in *Inspector) parseClone(ev *event.Event, t *Thread) {
	res, ok := ev.Int(0)
	if !ok || res < 0 {
		return
	}
	flags, _ := paramUint(ev, "flags")
	tid, childTid := ev.Tid, res
	vtid, vpid := tid, int64(-1)
	if hasNamespaceIDs(ev.Type) {
		vtid, _ = paramInt(ev, "vtid")
		vpid, _ = paramInt(ev, "vpid")
	}
	inContainer := flags&clChildInPidns != 0 || tid != vtid
	inverted := false
	if res == 0 {
		if t != nil && t.CloneTS != 0 && ev.TS-t.CloneTS > cloneStaleNS {
			in.removeThread(tid, true)
			t = nil
			in.Thread = nil
		}
		if t != nil {
			if inContainer {
				t.Vtid, t.Vpid = vtid, vpid
			}
			return
		}
		// The child's exit came first: the child is this event's thread, its parent the
		// caller (a thread's: its process; a process's: its parent).
		inverted = true
		childTid = tid
		if flags&clCloneThread != 0 {
			tid, _ = paramInt(ev, "pid")
		} else {
			tid, _ = paramInt(ev, "ptid")
		}
	} else if inContainer {
		return
	}
	parent := in.threadOrPlaceholder(tid)
	if parent == nil {
		return // the table is full
	}
	validParent := !(parent.Comm == "<NA>" && parent.Uid == 0xffffffff)
	collision := false
	if old := in.threads[childTid]; old != nil {
		if old.Flags&clCloneInverted != 0 {
			return // the child's own exit already added it
		}
		in.removeThread(childTid, true) // an old thread whose exit was lost
		collision = true
	}
	exe, _ := paramStr(ev, "exe")
	comm, hasComm := paramStr(ev, "comm")
	if !hasComm {
		comm = exe // clone versions before 17 carry no comm
	}
	var args []string
	if i := ev.ParamIndex("args"); i >= 0 {
		args = splitArgs(ev.Param(i))
	}
	c := &Thread{Tid: childTid, Ptid: tid, Sid: -1, Vpgid: -1}
	if collision && childTid == tid {
		// A parent's clone exit that names the caller itself as the child: libsinsp removed
		// the caller as a stale child above and goes on reading the parent through its
		// pointer to the freed thread, whose memory the new thread takes (same size, glibc
		// hands it straight back). Everything "inherited" is the new thread's own initial
		// state: no fds, no cwd, no comm/exe/args until the event's are set below.
		parent = c
		c.Pid = childTid
		c.Flags = uint32(flags)
	}
	if validParent {
		inherit(c, parent, flags)
		c.ExeWritable = parent.ExeWritable
	} else {
		// A placeholder parent: look it up again (live, /proc may know it now); if still
		// unknown, the child's program is the event's, and the parent takes it too.
		in.removeThread(tid, true)
		collision = true
		if parent = in.threadOrPlaceholder(tid); parent == nil {
			return
		}
		if parent.Comm != "<NA>" && parent.Uid != 0xffffffff {
			inherit(c, parent, flags)
		} else {
			c.Exe, c.Comm, c.Args = exe, comm, args
			parent.Comm, parent.Exe, parent.Exepath, parent.Args = comm, exe, c.Exepath, args
		}
	}
	c.Pid, _ = paramInt(ev, "pid")
	c.Flags = uint32(flags)
	if flags&clCloneThread == 0 {
		c.Pid = childTid
		// A new process gets a copy of its parent's fds (libsinsp ignores CLONE_FILES here:
		// O_CLOEXEC opens would make sharing wrong) and its working directory.
		if pt := in.fdTableOf(parent); pt != nil {
			c.fdt = pt.clone()
		}
		c.Cwd = in.Cwd(parent)
	}
	if inverted {
		c.Flags |= clCloneInverted
	}
	c.Exe, c.Comm, c.Args = exe, comm, args
	c.FdLimit, _ = paramInt(ev, "fdlimit")
	setCounters(ev, c)
	if v, ok := paramUint(ev, "uid"); ok {
		c.Uid = uint32(v)
	}
	if v, ok := paramUint(ev, "gid"); ok {
		c.Gid = uint32(v)
	}
	if inContainer {
		c.Vtid, c.Vpid = vtid, vpid
	} else {
		c.Vtid, c.Vpid = c.Tid, c.Pid
	}
	if hasNamespaceIDs(ev.Type) {
		if i := ev.ParamIndex("cgroups"); i >= 0 {
			c.Cgroups = sinspCgroups(splitArgs(ev.Param(i)))
			c.ContainerID = containerIDFromCgroups(c.Cgroups)
		}
	}
	c.CloneTS = ev.TS
	if c.fdt == nil {
		c.fdt = newFDTable()
	}
	in.forgetMissing(childTid)
	in.addThread(c)
	if collision {
		// As libsinsp's reset after a collision: the event's thread is looked up again.
		in.Thread = in.threads[ev.Tid]
		in.last = nil
	}
}

// inherit copies what a child takes from a known parent.
func inherit(c, p *Thread, flags uint64) {
	c.Comm, c.Exe, c.Exepath, c.Args = p.Comm, p.Exe, p.Exepath, p.Args
	c.Root, c.Sid, c.Vpgid, c.Tty, c.LoginUid = p.Root, p.Sid, p.Vpgid, p.Tty, p.LoginUid
	if flags&clCloneThread == 0 {
		c.Env = p.Env
	}
	// Not libsinsp 0.29.3's (it reads these from /proc only), but what a child has: the
	// executable's facts and capabilities stay those of its parent until it execs.
	c.CapInheritable, c.CapPermitted, c.CapEffective = p.CapInheritable, p.CapPermitted, p.CapEffective
	c.CapsKnown = p.CapsKnown
	c.ExeIno, c.ExeInoCtime, c.ExeInoMtime = p.ExeIno, p.ExeInoCtime, p.ExeInoMtime
	c.ExeUpperLayer, c.ExeFromMemfd = p.ExeUpperLayer, p.ExeFromMemfd
}

// fdTableOf is libsinsp's get_fd_table: a thread sharing its process's files reads the main
// thread's table.
func (in *Inspector) fdTableOf(t *Thread) *FDTable {
	in.syncFDs(t)
	return t.fdt
}

// syncFDs points a thread that shares its process's files (CLONE_FILES) at its main thread's
// table as libsinsp's get_fd_table finds it at each use: the main thread found first while it
// lives, else the one its pid names now (a main thread removed and replaced), a placeholder
// made when the table has none. A thread that is its own main thread, or no longer shares,
// reads its own table.
func (in *Inspector) syncFDs(t *Thread) {
	if t.Flags&clCloneFiles == 0 {
		t.ownFDs()
		return
	}
	m := in.mainOrPlaceholder(t)
	if m == nil {
		return
	}
	if m == t {
		t.ownFDs()
		return
	}
	t.shareFDs(m.ownTable())
}

// fdOf is the thread's fd as libsinsp's get_fd finds it, through get_fd_table.
func (in *Inspector) fdOf(t *Thread, fd int64) *FD {
	in.syncFDs(t)
	return t.FD(fd)
}

// threadOrPlaceholder is libsinsp's get_thread_ref with query_os: the thread, else (live) the
// OS's, else a "<NA>" placeholder; nil when the table is full.
func (in *Inspector) threadOrPlaceholder(tid int64) *Thread {
	if t := in.threads[tid]; t != nil {
		return t
	}
	if len(in.threads) >= in.limits.MaxThreads {
		in.dropped.threads.Add(1)
		return nil
	}
	return in.getThread(tid)
}

// Package state keeps what gives each event its context, the way sysdig's inspector does: the
// thread table with its parent chain, each process's fd table, users, groups and containers. It
// is seeded from a capture's header (or /proc) and updated by every event before filtering.
package state

import (
	"slices"

	"github.com/gosysdig/gosysdig/capture"
)

// Clone flags (PPM_CL_*) that matter to the thread table.
const (
	clCloneFiles    = 1 << 0  // PPM_CL_CLONE_FILES
	clCloneThread   = 1 << 13 // PPM_CL_CLONE_THREAD
	clCloneInverted = 1 << 16 // libsinsp's own: the child's clone exit came before the parent's
	clChildInPidns  = 1 << 29 // PPM_CL_CHILD_IN_PIDNS: the child is in a pid namespace
	clIsMainThread  = 1 << 30 // PPM_CL_IS_MAIN_THREAD: libsinsp takes the thread as its process's main
	clPipeSrc       = 1 << 21 // PPM_CL_PIPE_SRC, libsinsp's own (shell pipes)
	clPipeDst       = 1 << 22 // PPM_CL_PIPE_DST
)

// FDTable is a process's fds; threads sharing their parent's files share one table.
type FDTable struct {
	fds map[int64]*FD
}

func newFDTable() *FDTable { return &FDTable{fds: map[int64]*FD{}} }

// Get returns an fd or nil.
func (t *FDTable) Get(fd int64) *FD { return t.fds[fd] }

// Each calls fn for every fd, in no particular order.
func (t *FDTable) Each(fn func(*FD)) {
	for _, f := range t.fds {
		fn(f)
	}
}

// Len is the number of open fds.
func (t *FDTable) Len() int { return len(t.fds) }

func (t *FDTable) clone() *FDTable {
	n := &FDTable{fds: make(map[int64]*FD, len(t.fds))}
	for k, v := range t.fds {
		c := *v
		n.fds[k] = &c
	}
	return n
}

// Thread is one thread, with its process's attributes.
type Thread struct {
	Tid, Pid, Ptid, Sid, Vpgid  int64
	Vtid, Vpid                  int64
	Comm, Exe, Exepath          string
	Args, Env, Cgroups          []string
	Cwd, Root                   string
	FdLimit                     int64
	Flags                       uint32
	Uid, Gid                    uint32
	LoginUid                    uint32
	VmSizeKB, VmRssKB, VmSwapKB uint32
	PfMajor, PfMinor            uint64
	Tty                         uint32
	ContainerID                 string
	ExeWritable                 bool
	ExeUpperLayer, ExeFromMemfd bool // execve flags PPM_EXE_UPPER_LAYER/FROM_MEMFD, or /memfd: exepath
	// Capability sets as /proc showed them when the thread was read (a clone inherits its
	// parent's); the probe does not send them, so an execve that changes them is not seen.
	CapInheritable, CapPermitted, CapEffective uint64
	CapsKnown                                  bool
	// The executable's inode and its ctime/mtime (ns; 0 unknown): libs' exe_ino facts, from
	// execve's exe_ino* parameters when the event carries them, else the /proc read.
	ExeIno, ExeInoCtime, ExeInoMtime uint64
	CloneTS                          uint64 // when a clone seen in the capture created the thread (0: unknown)

	// fdt is the table get_fd_table returns as last looked up: the thread's own (libsinsp's
	// m_fdtable) or, while it shares its process's files, its main thread's own. own keeps the
	// thread's own table while it shares (nil: empty, never given a copy): execve, which ends
	// the sharing, brings it back.
	fdt     *FDTable
	own     *FDTable
	sharing bool
	// main is libsinsp's m_main_thread: the main thread a lookup found, kept while it is in
	// the table (MainThread).
	main *Thread

	// nchilds is libsinsp's m_nchilds: for a main thread, its process's other threads
	// (CLONE_THREAD) in the table. A main thread that exits while it has some stays in the
	// table, so that they still find their process.
	nchilds int64

	// What the last enter event left for its exit, as sysdig's m_lastevent_* do.
	lastType    uint16
	lastFd      int64
	lastEnterTS uint64
	lastEventTS uint64 // the thread's last event (the live scan for threads whose exit was dropped)
	Latency     uint64
	lastValid   bool
	lastEnter   []byte // copy of the last enter event, for exit parsers
	// storedEnter is the type of the enter event libsinsp's store_event kept for the exit
	// parsers (0: none). It is dropped after each exit, except one the filter rejected:
	// sysdig skips its cleanup, so a later exit of the same call may still find it.
	storedEnter  uint16
	lastEnterHdr int
}

// FDs returns the thread's fd table.
func (t *Thread) FDs() *FDTable { return t.fdt }

// FD returns one of the thread's fds or nil. As libsinsp's get_fd, a negative fd is never
// found, although a pipe or socketpair exit may have put one in the table.
func (t *Thread) FD(fd int64) *FD {
	if t.fdt == nil || fd < 0 {
		return nil
	}
	f := t.fdt.fds[fd]
	if f != nil {
		f.oldName = f.Name // the name before this event parses (namechange.go)
	}
	return f
}

// shareFDs points the thread at its main thread's table, keeping its own aside.
func (t *Thread) shareFDs(tab *FDTable) {
	if tab == t.fdt {
		return
	}
	if !t.sharing {
		t.own, t.sharing = t.fdt, true
	}
	t.fdt = tab
}

// ownFDs points a sharing thread back at its own table (empty if it never had one).
func (t *Thread) ownFDs() {
	if !t.sharing {
		return
	}
	t.fdt, t.own, t.sharing = t.own, nil, false
	if t.fdt == nil {
		t.fdt = newFDTable()
	}
}

// ownTable is libsinsp's m_fdtable, the table threads sharing the process's files read from
// their main thread (not that thread's own lookup).
func (t *Thread) ownTable() *FDTable {
	if t.sharing {
		if t.own == nil {
			t.own = newFDTable()
		}
		return t.own
	}
	if t.fdt == nil {
		t.fdt = newFDTable()
	}
	return t.fdt
}

// IsMain reports whether this thread is its process's main thread.
func (t *Thread) IsMain() bool { return t.Tid == t.Pid || t.Flags&clIsMainThread != 0 }

func (t *Thread) addFD(f *FD) *FD {
	if t.fdt == nil {
		t.fdt = newFDTable()
	}
	c := *f
	t.fdt.fds[f.Num] = &c
	return &c
}

// ThreadFromCapture makes a thread from a process-list entry (a capture's or a /proc scan's).
func ThreadFromCapture(c *capture.Thread) *Thread {
	t := threadFromCapture(c)
	t.ContainerID = containerIDFromCgroups(t.Cgroups)
	return t
}

func threadFromCapture(c *capture.Thread) *Thread {
	t := &Thread{
		Tid: c.Tid, Pid: c.Pid, Ptid: c.Ptid, Sid: c.Sid, Vpgid: c.Vpgid, Vtid: c.Vtid, Vpid: c.Vpid,
		Comm: c.Comm, Exe: c.Exe, Exepath: c.Exepath, Args: c.Args, Env: c.Env, Cgroups: sinspCgroups(slices.Clone(c.Cgroups)),
		Cwd: c.Cwd, Root: c.Root, FdLimit: c.FdLimit, Flags: c.Flags, Uid: c.Uid, Gid: c.Gid,
		LoginUid: uint32(c.LoginUid), VmSizeKB: c.VmSizeKB, VmRssKB: c.VmRssKB, VmSwapKB: c.VmSwapKB,
		PfMajor: c.PfMajor, PfMinor: c.PfMinor, ExeWritable: c.ExeWritable,
		CapInheritable: c.CapInheritable, CapPermitted: c.CapPermitted, CapEffective: c.CapEffective,
		CapsKnown: c.CapsKnown,
		ExeIno:    c.ExeIno, ExeInoCtime: c.ExeInoCtime, ExeInoMtime: c.ExeInoMtime,
		fdt: newFDTable(),
	}
	if t.Tid != t.Pid {
		// libsinsp keeps the environment and cwd of a process-list entry on its main
		// thread only: the other threads' own are empty.
		t.Cwd, t.Env = "", nil
	}
	if t.Cwd != "" && t.Cwd[len(t.Cwd)-1] != '/' {
		t.Cwd += "/" // sysdig keeps working directories with a trailing slash
	}
	// libsinsp fills one fdinfo for all of a thread's list and copies it into the table for
	// each fd, writing only the fields of the fd's type: the rest of the address union is
	// what the previous fd left (a file after a TCP socket keeps the socket's protocol byte,
	// which a bind later reads as the server's protocol).
	var union [40]byte
	for i := range c.FDs {
		f := fdFromCapture(&c.FDs[i], &union)
		t.fdt.fds[c.FDs[i].Fd] = f
		union = f.sock
	}
	return t
}

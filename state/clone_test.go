package state

import (
	"testing"

	"github.com/gosysdig/gosysdig/capture"
)

// cloneExit builds a clone (version 20) exit's parameters.
func cloneExit(t *testing.T, res, tid, pid, ptid, vtid, vpid int64, flags uint32, comm string) [][]byte {
	return exitParams(t, 223, map[string][]byte{
		"res": i64(res), "exe": str("/bin/" + comm), "comm": str(comm), "tid": i64(tid),
		"pid": i64(pid), "ptid": i64(ptid), "vtid": i64(vtid), "vpid": i64(vpid),
		"flags": u32(flags), "fdlimit": i64(1024), "cwd": str("/"),
	})
}

// TestCloneFromNonLeaderThread: a process forked by a thread that is not its process's main
// thread has that thread as parent (libsinsp's ptid is the caller's tid), so proc.pname and
// the ancestor walk go through it, not through its main thread.
func TestCloneFromNonLeaderThread(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{
		{Tid: 1, Pid: 1, Ptid: 0, Comm: "init"},
		{Tid: 90, Pid: 90, Ptid: 1, Comm: "sh"},
		{Tid: 100, Pid: 100, Ptid: 90, Comm: "cwl", Cwd: "/w/"},
		{Tid: 101, Pid: 100, Ptid: 100, Comm: "cwl", Flags: clCloneThread | clCloneFiles},
	}})
	f := &feeder{t: t, in: in}
	f.ev(101, 222)
	f.ev(101, 223, cloneExit(t, 200, 101, 100, 90, 101, 100, 0, "cwl")...)
	c := in.Lookup(200)
	if c == nil || c.Ptid != 101 || c.Pid != 200 || in.Cwd(c) != "/w/" {
		t.Fatalf("child = %+v", c)
	}
	if p := in.Parent(c); p == nil || p.Tid != 101 {
		t.Fatalf("parent of the child = %+v, want thread 101", p)
	}
	if p := in.Parent(in.Parent(c)); p == nil || p.Tid != 100 {
		t.Errorf("grandparent = %+v, want 100 (the thread's creator), not 90", p)
	}
	if n := in.Lookup(100).NChilds(); n != 1 {
		t.Errorf("main thread counts %d threads, want 1", n)
	}
}

// TestCloneInContainer: the parent's exit of a clone into a pid namespace creates nothing
// (it only knows the namespace tid); the child's own exit creates it, marked inverted, with
// the namespace ids, and a later parent exit for it does not replace it.
func TestCloneInContainer(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 222)
	f.ev(100, 223, cloneExit(t, 7, 100, 100, 1, 100, 100, clChildInPidns, "bash")...)
	if f.in.Lookup(7) != nil || f.in.Lookup(300) != nil {
		t.Fatal("the parent's exit created a thread in a pid namespace")
	}
	f.ev(300, 223, cloneExit(t, 0, 300, 300, 100, 1, 1, clChildInPidns, "init")...)
	c := f.in.Lookup(300)
	if c == nil || c.Vtid != 1 || c.Vpid != 1 || c.Ptid != 100 || c.Flags&clCloneInverted == 0 {
		t.Fatalf("child = %+v", c)
	}
	if c.Comm != "init" || f.in.Thread != c || !f.in.NoEventThread {
		t.Errorf("child comm %q (want the event's), event thread %p (want the child, without latency)", c.Comm, f.in.Thread)
	}
	f.ev(100, 223, cloneExit(t, 300, 100, 100, 1, 100, 100, 0, "bash")...)
	if f.in.Lookup(300) != c {
		t.Error("the parent's late exit replaced the inverted child")
	}
}

// TestCloneUnknownParent: a child whose parent is unknown gets the event's program, and the
// parent's placeholder takes it too (PID parameters naming the parent then print that comm).
func TestCloneUnknownParent(t *testing.T) {
	f := newFeeder(t)
	f.ev(400, 223, cloneExit(t, 0, 400, 5771, 5771, 400, 5771, clCloneThread|clCloneFiles, "worker")...)
	c, p := f.in.Lookup(400), f.in.Lookup(5771)
	if c == nil || p == nil {
		t.Fatalf("child %v parent %v", c, p)
	}
	if c.Comm != "worker" || p.Comm != "worker" || c.Pid != 5771 || p.NChilds() != 1 {
		t.Errorf("child %q pid %d, parent %q with %d threads", c.Comm, c.Pid, p.Comm, p.NChilds())
	}
	if name, _ := (Resolver{In: f.in}).Comm(5771); name != "worker" {
		t.Errorf("pid 5771 resolves to %q", name)
	}
}

// TestMainThreadKeptWhileThreadsLive: a main thread's procexit removes it only once its
// process has no other thread; until then its threads and events naming its pid find it.
func TestMainThreadKeptWhileThreadsLive(t *testing.T) {
	f := newFeeder(t)
	if n := f.in.Lookup(100).NChilds(); n != 1 {
		t.Fatalf("header main thread counts %d threads, want 1", n)
	}
	f.ev(100, 186, i64(0), i64(0), u32(0), u32(0)) // procexit of the main thread
	f.ev(101, 4, i64(0))
	if f.in.Lookup(100) == nil {
		t.Fatal("main thread removed while thread 101 lives")
	}
	f.ev(101, 186, i64(0), i64(0), u32(0), u32(0))
	f.ev(100, 4, i64(0))
	if f.in.Lookup(101) != nil {
		t.Error("thread 101 not removed after its procexit")
	}
	if m := f.in.Lookup(100); m == nil || m.NChilds() != 0 {
		t.Errorf("main thread after its last thread left: %+v", m)
	}
}

// TestPageFaultThread: events libsinsp does not reset (page faults, switches) have no thread
// of their own, but their fields read the tid's thread, without creating one.
func TestPageFaultThread(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 290, i64(0xd82), i64(0), u32(10))
	if f.in.Thread == nil || f.in.Thread.Tid != 100 || !f.in.NoEventThread {
		t.Errorf("page fault of 100: thread %+v, no event thread %v", f.in.Thread, f.in.NoEventThread)
	}
	f.ev(555, 290, i64(0xd82), i64(0), u32(10))
	if f.in.Thread != nil || f.in.Lookup(555) != nil {
		t.Error("a page fault created a thread")
	}
}

// TestFcntlDupKeptEnter: libsinsp keeps only F_DUPFD entries for fcntl's exit; one kept past
// an exit the filter rejected makes the next fcntl a dup too (sysdig skips the cleanup).
func TestFcntlDupKeptEnter(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		f := newFeeder(t)
		f.ev(100, 150, i64(0), []byte{1}) // fcntl(0, F_DUPFD)
		f.ev(100, 151, i64(7))
		if f.in.Lookup(100).FD(7) == nil {
			t.Fatal("F_DUPFD made no fd")
		}
		if filtered {
			f.in.FilteredOut()
		}
		f.ev(100, 150, i64(0), []byte{4}) // fcntl(0, F_GETFL): not kept
		f.ev(100, 151, i64(9))
		if got := f.in.Lookup(100).FD(9) != nil; got != filtered {
			t.Errorf("filtered %v: F_GETFL's result is an fd: %v", filtered, got)
		}
	}
}

// TestFailedOpenatDirfd: a failed openat of a name relative to a directory fd leaves that fd
// as the event's (libsinsp's parse_dirfd), an absolute name none.
func TestFailedOpenatDirfd(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 306, i64(0), str("new"), u32(1), u32(0))
	f.ev(100, 307, i64(-2), i64(0), str("new"), u32(1), u32(0), u32(0))
	if f.in.FD == nil || f.in.FD.Name != "/dev/null" {
		t.Errorf("failed openat relative to fd 0: event fd %+v", f.in.FD)
	}
	f.ev(100, 306, i64(0), str("/abs"), u32(1), u32(0))
	f.ev(100, 307, i64(-2), i64(0), str("/abs"), u32(1), u32(0), u32(0))
	if f.in.FD != nil {
		t.Errorf("failed openat of an absolute name: event fd %+v", f.in.FD)
	}
}

// TestAcceptWithoutTuple: an accept whose tuple is empty adds no fd; its fd is only the
// thread's last one.
func TestAcceptWithoutTuple(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 248)
	f.ev(100, 249, exitParams(t, 249, map[string][]byte{"fd": i64(18), "tuple": {}})...)
	if f.in.Lookup(100).FD(18) != nil || f.in.FDNum != 18 {
		t.Errorf("accept without a tuple: fd 18 %+v, event fd number %d", f.in.Lookup(100).FD(18), f.in.FDNum)
	}
}

// TestSwitchKeepsPairing: a switch between a call's enter and exit leaves the pairing alone
// (libsinsp's reset stops at a switch): the open's exit still takes the entry's name.
func TestSwitchKeepsPairing(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 2, str("entry"), u32(0), u32(0))
	f.ev(100, 152, i64(1), i64(7), i64(8), u32(100), u32(50), u32(0)) // switch to tid 1
	f.ev(100, 3, i64(5), str("exit"), u32(0), u32(0), u32(0))
	if fd := f.in.Lookup(100).FD(5); fd == nil || fd.Name != "/home/u/entry" {
		t.Errorf("open across a switch: fd 5 = %+v", fd)
	}
	if th := f.in.Lookup(100); th.PfMajor != 7 || th.VmSizeKB != 100 {
		t.Errorf("switch: page faults %d, vm_size %d", th.PfMajor, th.VmSizeKB)
	}
}

// TestPlaceholderMainThread: a thread whose main thread the table lacks gets a placeholder
// one when its cwd is needed (libsinsp's get_main_thread), with an empty cwd.
func TestPlaceholderMainThread(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{{Tid: 658, Pid: 654, Ptid: 1, Comm: "w"}}})
	f := &feeder{t: t, in: in}
	f.ev(658, 2, str("rel"), u32(0), u32(0))
	f.ev(658, 3, i64(5), str("rel"), u32(0), u32(0), u32(0))
	if m := in.Lookup(654); m == nil || m.Comm != "<NA>" {
		t.Fatalf("main thread 654 = %+v, want a placeholder", m)
	}
	if fd := in.Lookup(658).FD(5); fd == nil || fd.Name != "rel" {
		t.Errorf("fd 5 = %+v, want the name joined to an empty cwd", fd)
	}
	f.ev(658, 92)
	f.ev(658, 93, i64(0), str("/srv"))
	if c := in.Cwd(in.Lookup(658)); c != "/srv/" {
		t.Errorf("cwd after getcwd = %q", c)
	}
}

// TestOpenUnknownDirfd: a name relative to a directory fd the table lacks is "<UNKNOWN>" and
// the name, with no separator, as libsinsp names it.
func TestOpenUnknownDirfd(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 306, i64(9), str("a/b"), u32(0), u32(0))
	f.ev(100, 307, i64(5), i64(9), str("a/b"), u32(0), u32(0), u32(0))
	if fd := f.in.Lookup(100).FD(5); fd == nil || fd.Name != "<UNKNOWN>a/b" {
		t.Errorf("fd 5 = %+v", fd)
	}
}

// TestExecveOldVersionComm: execve versions without comm take the exe as the comm.
func TestExecveOldVersionComm(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 12)
	f.ev(100, 13, exitParams(t, 13, map[string][]byte{"res": i64(0), "exe": str("/usr/bin/x")})...)
	if c := f.in.Lookup(100).Comm; c != "/usr/bin/x" {
		t.Errorf("comm = %q", c)
	}
}

// TestDirFdPathSanitized: an openat's path relative to a directory fd is joined to the fd's
// name without the bytes sysdig cannot print, plus '/' (sysdig's get_base_dir).
func TestDirFdPathSanitized(t *testing.T) {
	f := newFeeder(t)
	f.in.Lookup(100).FDs().fds[3] = &FD{Num: 3, Type: capture.FDDirectory, Name: "/\xc3"}
	f.in.Thread = f.in.Lookup(100)
	if got := (Resolver{In: f.in}).DirFdPath(3); got != "//" {
		t.Errorf("DirFdPath = %q, want \"//\"", got)
	}
}

// TestIsMainThreadFlag: a thread flagged PPM_CL_IS_MAIN_THREAD is its own main thread, so a
// CLONE_FILES thread with the flag reads its own (empty) fd table, not its process's.
func TestIsMainThreadFlag(t *testing.T) {
	f := newFeeder(t)
	f.ev(700, 223, cloneExit(t, 0, 700, 100, 100, 700, 100, clCloneThread|clCloneFiles|clIsMainThread, "w")...)
	c := f.in.Lookup(700)
	if c == nil || !c.IsMain() || c.FD(0) != nil || f.in.MainThread(c) != c {
		t.Errorf("flagged thread: %+v", c)
	}
}

// TestUnknownDirPath: libsinsp's join of "<UNKNOWN>" and a name pops into the prefix on "..".
func TestUnknownDirPath(t *testing.T) {
	for name, want := range map[string]string{"a/b": "<UNKNOWN>a/b", "tmp/../x": "x", ".": "<UNKNOWN>",
		"./a": "<UNKNOWN>a", "../y": "y"} {
		if got := unknownDirPath([]byte(name)); got != want {
			t.Errorf("unknownDirPath(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestHeaderThreadCwd: a process-list entry that is not its process's main thread keeps no
// cwd or environment of its own (libsinsp sets them on main threads only).
func TestHeaderThreadCwd(t *testing.T) {
	th := ThreadFromCapture(&capture.Thread{Tid: 5, Pid: 4, Cwd: "/x", Env: []string{"A=1"}})
	if th.Cwd != "" || th.Env != nil {
		t.Errorf("non-main entry: cwd %q env %v", th.Cwd, th.Env)
	}
	if m := ThreadFromCapture(&capture.Thread{Tid: 4, Pid: 4, Cwd: "/x"}); m.Cwd != "/x/" {
		t.Errorf("main entry cwd %q", m.Cwd)
	}
}

// TestGetsockoptMainThread: getsockopt's exit reads its fd from the main thread's table,
// which libsinsp makes up (a placeholder) when the main thread has gone.
func TestGetsockoptMainThread(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{{Tid: 385, Pid: 381, Comm: "w"}}})
	f := &feeder{t: t, in: in}
	f.ev(385, 47, i64(0), i64(4), []byte{1}, []byte{15}, []byte{}, u32(0))
	if m := in.Lookup(381); m == nil || m.Comm != "<NA>" || in.FDNum != 4 {
		t.Errorf("main thread %+v, event fd %d", m, in.FDNum)
	}
}

// TestCloneChildIsCaller: a parent's clone exit whose child tid is the caller's own replaces
// the caller (a stale child), and what libsinsp then reads as the parent is the new thread's
// initial state: no fds, no cwd; comm, exe and args come from the event.
func TestCloneChildIsCaller(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{
		{Tid: 1, Pid: 1, Comm: "init"},
		{Tid: 100, Pid: 100, Ptid: 1, Comm: "curl", Cwd: "/w/", FDs: []capture.FD{{Fd: 3, Type: capture.FDFile, Name: "/etc/passwd"}}},
	}})
	f := &feeder{t: t, in: in}
	f.ev(100, 222)
	f.ev(100, 223, cloneExit(t, 100, 100, 100, 1, 100, 100, 0, "sh")...)
	c := in.Lookup(100)
	if c == nil || c.Comm != "sh" || c.Ptid != 100 || c.Pid != 100 {
		t.Fatalf("thread = %+v", c)
	}
	if cwd := in.Cwd(c); cwd != "" {
		t.Errorf("cwd = %q, want empty", cwd)
	}
	if c.FD(3) != nil {
		t.Errorf("fd 3 kept: %+v", c.FD(3))
	}
}

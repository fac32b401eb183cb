package state

import (
	"encoding/binary"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// feeder builds v2 events for one thread and runs them through an inspector.
type feeder struct {
	t  *testing.T
	in *Inspector
	ts uint64
}

func (f *feeder) ev(tid int64, typ uint16, params ...[]byte) {
	f.t.Helper()
	n := len(params)
	size := event.HeaderV2 + 2*n
	for _, p := range params {
		size += len(p)
	}
	b := make([]byte, size)
	f.ts += 1000
	binary.LittleEndian.PutUint64(b[0:], f.ts)
	binary.LittleEndian.PutUint64(b[8:], uint64(tid))
	binary.LittleEndian.PutUint32(b[16:], uint32(size))
	binary.LittleEndian.PutUint16(b[20:], typ)
	binary.LittleEndian.PutUint32(b[22:], uint32(n))
	off := event.HeaderV2 + 2*n
	for i, p := range params {
		binary.LittleEndian.PutUint16(b[event.HeaderV2+2*i:], uint16(len(p)))
		copy(b[off:], p)
		off += len(p)
	}
	var e event.Event
	if err := e.Set(b, event.HeaderV2, event.Lookup(typ)); err != nil {
		f.t.Fatal(err)
	}
	f.in.Process(&e)
}

func i64(v int64) []byte  { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func str(s string) []byte { return append([]byte(s), 0) }

func newFeeder(t *testing.T) *feeder {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{
		{Tid: 100, Pid: 100, Ptid: 1, Comm: "bash", Exe: "/bin/bash", Cwd: "/home/u/", LoginUid: -1,
			FDs: []capture.FD{{Fd: 0, Type: capture.FDFile, Name: "/dev/null"}}},
		{Tid: 101, Pid: 100, Ptid: 1, Comm: "bash", Flags: clCloneThread | clCloneFiles},
	}})
	return &feeder{t: t, in: in}
}

// TestOpenCloseDup follows an fd through open (relative name), dup and close, the way sysdig's
// parsers do: the name is resolved against the cwd, the close takes effect after the event.
func TestOpenCloseDup(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 2, str("notes/../a.txt"), u32(1), u32(0))         // open enter
	f.ev(100, 3, i64(3), str("notes/../a.txt"), u32(1), u32(0)) // open exit
	if fd := f.in.Lookup(100).FD(3); fd == nil || fd.Name != "/home/u/a.txt" || fd.TypeChar() != 'f' {
		t.Fatalf("open: fd 3 = %+v", fd)
	}
	if f.in.FD == nil || f.in.FDNum != 3 {
		t.Errorf("the open exit's fd is not 3: %v %d", f.in.FD, f.in.FDNum)
	}
	// The other thread of the process shares the fd table.
	if f.in.Lookup(101).FD(3) == nil {
		t.Error("fd not shared with a CLONE_FILES thread")
	}
	f.ev(100, 124, i64(3)) // dup enter
	f.ev(100, 125, i64(5)) // dup exit
	if fd := f.in.Lookup(100).FD(5); fd == nil || fd.Name != "/home/u/a.txt" {
		t.Fatalf("dup: fd 5 = %+v", fd)
	}
	f.ev(100, 4, i64(3)) // close enter
	f.ev(100, 5, i64(0)) // close exit
	if f.in.FD == nil || f.in.FD.Name != "/home/u/a.txt" {
		t.Error("the close exit does not see the fd it closes")
	}
	f.ev(100, 4, i64(5)) // next event: the first close has taken effect
	if f.in.Lookup(100).FD(3) != nil {
		t.Error("fd 3 still open after close")
	}
}

// TestSocketConnect names a socket by its tuple once connect returns (EINPROGRESS included).
func TestSocketConnect(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 18, u32(2), u32(1), u32(0)) // socket(AF_INET, SOCK_STREAM, 0)
	f.ev(100, 19, i64(4))
	fd := f.in.Lookup(100).FD(4)
	if fd == nil || fd.Type != capture.FDIPv4Sock || fd.L4() != L4NA {
		t.Fatalf("socket: %+v", fd)
	}
	tuple := []byte{2, 127, 0, 0, 1, 0x58, 0xb8, 127, 0, 0, 1, 80, 0}
	f.ev(100, 22, i64(4), []byte{2, 127, 0, 0, 1, 80, 0})
	f.ev(100, 23, i64(-115), tuple)
	if fd.Name != "127.0.0.1:47192->127.0.0.1:80" || fd.L4() != L4TCP {
		t.Fatalf("connect: name %q l4 %d", fd.Name, fd.L4())
	}
}

// TestCloneExecveExit follows a fork, an exec and the exit of the child.
func TestCloneExecveExit(t *testing.T) {
	f := newFeeder(t)
	// clone_20 exit in the parent: res, exe, args, tid, pid, ptid, cwd, fdlimit, pgft_maj,
	// pgft_min, vm_size, vm_rss, vm_swap, comm, cgroups, flags, uid, gid, vtid, vpid.
	params := [][]byte{i64(200), str("/bin/bash"), {}, i64(100), i64(100), i64(1), str("/home/u"),
		i64(1024), i64(0), i64(0), u32(0), u32(0), u32(0), str("bash"), str("cpu=/docker/" + hex64 + "\x00"),
		u32(0), u32(1000), u32(1000), i64(100), i64(100)}
	f.ev(100, 222)
	f.ev(100, 223, params...)
	child := f.in.Lookup(200)
	if child == nil || child.Pid != 200 || child.Ptid != 100 || child.Uid != 1000 || child.FD(0) == nil {
		t.Fatalf("clone: child %+v", child)
	}
	if child.ContainerID != hex64[:12] {
		t.Errorf("container id %q", child.ContainerID)
	}
	if p := f.in.Parent(child); p == nil || p.Tid != 100 {
		t.Errorf("parent of the child: %+v", p)
	}
	// execve_16 exit: res, exe, args, tid, pid, ptid, cwd, fdlimit, pgft_maj, pgft_min, vm_size,
	// vm_rss, vm_swap, comm, cgroups, env.
	f.ev(200, 230)
	f.ev(200, 231, i64(0), str("cat"), []byte("/etc/hostname\x00"), i64(200), i64(200), i64(100),
		str("/home/u"), i64(1024), i64(0), i64(0), u32(0), u32(0), u32(0), str("cat"), []byte{}, []byte("A=1\x00"))
	if child.Comm != "cat" || len(child.Args) != 1 || child.Args[0] != "/etc/hostname" || child.Env[0] != "A=1" {
		t.Fatalf("execve: %+v", child)
	}
	f.ev(200, 186, i64(0), i64(0), []byte{0}, []byte{0}) // procexit
	f.ev(100, 4, i64(0))                                 // the thread goes once the exit was seen
	if f.in.Lookup(200) != nil {
		t.Error("thread still there after procexit")
	}
}

// TestUnknownThread gets sysdig's placeholder for a tid never seen.
func TestUnknownThread(t *testing.T) {
	f := newFeeder(t)
	f.ev(999, 4, i64(7))
	th := f.in.Thread
	if th == nil || th.Comm != "<NA>" || th.Uid != 0xffffffff {
		t.Fatalf("placeholder thread: %+v", th)
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

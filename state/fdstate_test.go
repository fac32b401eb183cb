package state

import (
	"encoding/binary"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
)

// v6Sockaddr is a sockaddr parameter: AF_INET6, the address, the port.
func v6Sockaddr(ip [16]byte, port uint16) []byte {
	b := append([]byte{ppmAFInet6}, ip[:]...)
	return binary.LittleEndian.AppendUint16(b, port)
}

// TestProcessListUnionCarries: libsinsp fills one fdinfo for a thread's whole fd list, so a
// file after a TCP socket keeps the socket's protocol byte in its address union, and a bind
// that makes the file a server socket reads it as the server's protocol. Another thread's list
// starts afresh.
func TestProcessListUnionCarries(t *testing.T) {
	sock := capture.FD{Fd: 5, Type: capture.FDIPv6Sock, L4Proto: L4TCP, Sip: [16]byte{15: 1}, Dip: [16]byte{0: 0x20, 15: 3}, Sport: 1000, Dport: 443}
	file := capture.FD{Fd: 6, Type: capture.FDFile, Name: "/f"}
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{
		{Tid: 100, Pid: 100, Ptid: 1, Comm: "a", FDs: []capture.FD{sock, file}},
		{Tid: 200, Pid: 200, Ptid: 1, Comm: "b", FDs: []capture.FD{file}},
	}})
	f := &feeder{t: t, in: in}
	for _, tid := range []int64{100, 200} {
		f.ev(tid, 20, i64(6))
		f.ev(tid, 21, i64(0), v6Sockaddr([16]byte{}, 40000))
	}
	if fd := in.Lookup(100).FD(6); fd == nil || fd.Type != capture.FDIPv4Server || fd.L4() != L4TCP {
		t.Errorf("thread 100's fd 6 = %+v, want an IPv4 TCP server socket", fd)
	}
	if fd := in.Lookup(200).FD(6); fd == nil || fd.Type != capture.FDIPv4Server || fd.L4() != L4Unknown {
		t.Errorf("thread 200's fd 6 = %+v, want an IPv4 server socket of unknown protocol", fd)
	}
}

// TestStoredEnterOnce: an exit's parser reads the enter event libsinsp stored, which the
// exit's cleanup drops: a second exit of the same call creates no socket.
func TestStoredEnterOnce(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 18, u32(ppmAFInet), u32(sockStream), u32(0))
	f.ev(100, 19, i64(32))
	f.ev(100, 19, i64(18))
	th := f.in.Lookup(100)
	if th.FD(32) == nil {
		t.Error("the first exit made no socket")
	}
	if fd := th.FD(18); fd != nil {
		t.Errorf("the second exit made a socket: %+v", fd)
	}
}

// TestMainThreadKept: as libsinsp's get_main_thread, a thread keeps the main thread it found
// while that one is in the table, whatever its pid says later (an execve's pid parameter);
// once that main thread is gone, the pid is looked up again.
func TestMainThreadKept(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{
		{Tid: 418, Pid: 418, Ptid: 1, Comm: "other"},
		{Tid: 469, Pid: 469, Ptid: 1, Comm: "main"},
		{Tid: 470, Pid: 469, Ptid: 1, Comm: "thread"},
	}})
	th := in.Lookup(470)
	if m := in.MainThread(th); m == nil || m.Tid != 469 {
		t.Fatalf("main thread = %+v, want 469", m)
	}
	th.Pid = 418
	if m := in.MainThread(th); m == nil || m.Tid != 469 {
		t.Errorf("after the pid changed, main thread = %+v, want 469 still", m)
	}
	in.removeThread(469, true)
	if m := in.MainThread(th); m == nil || m.Tid != 418 {
		t.Errorf("after 469 left, main thread = %+v, want 418", m)
	}
}

// TestSetuidOwnThread: a setuid changes the calling thread's uid, not its process's main
// thread's (libsinsp's parse_setuid_exit).
func TestSetuidOwnThread(t *testing.T) {
	f := newFeeder(t)
	f.ev(101, 198, u32(1000))
	f.ev(101, 199, i64(0))
	if u := f.in.Lookup(101).Uid; u != 1000 {
		t.Errorf("thread uid = %d, want 1000", u)
	}
	if u := f.in.Lookup(100).Uid; u != 0 {
		t.Errorf("main thread uid = %d, want 0", u)
	}
}

// TestChrootOwnThread: a chroot that returns 0 sets the calling thread's root, a relative path
// joined to the cwd (libsinsp's parse_chroot_exit takes the path as printed, resolved).
func TestChrootOwnThread(t *testing.T) {
	f := newFeeder(t)
	f.ev(101, 266)
	f.ev(101, 267, i64(0), str("jail"))
	if r := f.in.Lookup(101).Root; r != "/home/u/jail" {
		t.Errorf("thread root = %q, want /home/u/jail", r)
	}
	if r := f.in.Lookup(100).Root; r != "" {
		t.Errorf("main thread root = %q, want unchanged", r)
	}
}

// TestProcessThreadPlaceholder: a process field of a thread whose process the table lacks
// reads a "<NA>" placeholder main thread, made then (libsinsp's get_main_thread queries the
// OS), with no parent.
func TestProcessThreadPlaceholder(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{{Tid: 502, Pid: 499, Ptid: 1, Comm: "curl"}}})
	th := in.Lookup(502)
	p := in.ProcessThread(th)
	if p == nil || p.Tid != 499 || p.Comm != "<NA>" || p.Ptid != -1 || in.Lookup(499) != p {
		t.Fatalf("process thread = %+v", p)
	}
	if m := in.ProcessThread(in.Lookup(499)); m != p {
		t.Errorf("a main thread's process thread is itself")
	}
}

// TestNegativePipeFd: a pipe exit with negative fds puts them in the table, but no later event
// finds them (libsinsp's get_fd refuses negative fds).
func TestNegativePipeFd(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 60)
	f.ev(100, 61, i64(0), i64(-7), i64(-20), i64(1234))
	th := f.in.Lookup(100)
	if th.FDs().Len() != 3 {
		t.Errorf("table holds %d fds, want 3 (the process list's and the two pipe ends)", th.FDs().Len())
	}
	if fd := th.FD(-20); fd != nil {
		t.Errorf("fd -20 found: %+v", fd)
	}
}

// TestCloneFilesTableFollowsPid: a thread sharing its process's files adds and finds fds in
// the table of the main thread its pid names at that moment (libsinsp's get_fd_table), a
// placeholder made when the table has none.
func TestCloneFilesTableFollowsPid(t *testing.T) {
	in := New()
	in.LoadHeader(&capture.Header{Threads: []capture.Thread{{Tid: 875, Pid: 2049, Ptid: 1, Comm: "c", Flags: clCloneThread | clCloneFiles}}})
	f := &feeder{t: t, in: in}
	f.ev(875, 43, i64(0), i64(3), i64(4), i64(1), i64(2))
	m := in.Lookup(2049)
	if m == nil || m.Comm != "<NA>" || m.FD(3) == nil || m.FD(4) == nil {
		t.Fatalf("placeholder main thread = %+v", m)
	}
	if in.Lookup(875).FD(3) == nil {
		t.Error("the thread does not find its fd in its process's table")
	}
}

// TestFchdirEmptyName: a chdir to an empty path (an fchdir to an fd with no name) makes the
// cwd "/": libsinsp's concatenate_paths keeps nothing of the old cwd.
func TestFchdirEmptyName(t *testing.T) {
	f := newFeeder(t)
	f.ev(100, 18, u32(63), u32(sockStream), u32(0))
	f.ev(100, 19, i64(24))
	f.ev(100, 96, i64(24))
	f.ev(100, 97, i64(0))
	if cwd := f.in.Cwd(f.in.Lookup(100)); cwd != "/" {
		t.Errorf("cwd = %q, want /", cwd)
	}
}

// TestExecveClearsCloneFlags: an execve exit clears the thread's clone flags (libsinsp keeps
// only its pipe, main-thread and inverted ones): a thread that shared its process's files
// then reads its own table, which is empty.
func TestExecveClearsCloneFlags(t *testing.T) {
	f := newFeeder(t)
	f.ev(101, 293, exitParams(t, 293, map[string][]byte{"res": i64(0), "pid": i64(100), "exe": str("/bin/ls"), "comm": str("ls")})...)
	th := f.in.Lookup(101)
	if th.Flags&(clCloneThread|clCloneFiles) != 0 {
		t.Errorf("flags = %#x, want the clone flags cleared", th.Flags)
	}
	if th.FD(0) != nil || f.in.Lookup(100).FD(0) == nil {
		t.Error("the thread still reads its process's table")
	}
}

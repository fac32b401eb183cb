package state

import (
	"testing"

	"github.com/gosysdig/gosysdig/event"
)

// exitParams builds an exit event's parameters from the event table: zero values of each
// parameter's width, with the named ones set.
func exitParams(t *testing.T, typ uint16, set map[string][]byte) [][]byte {
	t.Helper()
	info := event.Lookup(typ)
	var out [][]byte
	for _, p := range info.Params {
		v, ok := set[p.Name]
		if !ok {
			switch p.Type {
			case event.PTCharbuf, event.PTFspath:
				v = str("")
			case event.PTBytebuf:
				v = []byte{}
			case event.PTUint32, event.PTFlags32, event.PTUint16, event.PTMode, event.PTUid, event.PTGid:
				v = u32(0)
			default:
				v = i64(0)
			}
		}
		out = append(out, v)
	}
	return out
}

// TestOpenNameFromEntry: as libsinsp, an open's fd is named from the entry's path whenever the
// entry holds one, even an empty string the probe failed to read (the exit's path is then
// ignored); "(NULL)" or a missing entry leaves the exit's path. The whole open family.
func TestOpenNameFromEntry(t *testing.T) {
	for _, tc := range []struct {
		name      string
		enterType uint16
		enter     [][]byte
		exit      [][]byte
		want      string
	}{
		{"openat_2 empty entry", 306, [][]byte{i64(-100), str(""), u32(1), u32(0)},
			[][]byte{i64(3), i64(-100), str("/etc/passwd"), u32(1), u32(0), u32(0)}, "/home/u"},
		{"openat_2 entry wins", 306, [][]byte{i64(-100), str("rel"), u32(1), u32(0)},
			[][]byte{i64(3), i64(-100), str("/etc/passwd"), u32(1), u32(0), u32(0)}, "/home/u/rel"},
		{"openat_2 (NULL) entry", 306, [][]byte{i64(-100), str("(NULL)"), u32(1), u32(0)},
			[][]byte{i64(3), i64(-100), str("/etc/passwd"), u32(1), u32(0), u32(0)}, "/etc/passwd"},
		{"openat_2 no entry", 0, nil,
			[][]byte{i64(3), i64(-100), str("/etc/passwd"), u32(1), u32(0), u32(0)}, "/etc/passwd"},
		{"open entry wins", 2, [][]byte{str("b.txt"), u32(1), u32(0)},
			[][]byte{i64(3), str("/etc/passwd"), u32(1), u32(0), u32(0)}, "/home/u/b.txt"},
		{"creat entry wins", 58, [][]byte{str("c.txt"), u32(0)},
			[][]byte{i64(3), str("/etc/passwd"), u32(0), u32(0)}, "/home/u/c.txt"},
	} {
		f := newFeeder(t)
		if tc.enterType != 0 {
			f.ev(100, tc.enterType, tc.enter...)
		} else {
			f.ev(100, 4, i64(9)) // some other entry: no open entry to pair with
			f.ev(100, 5, i64(-9))
		}
		if tc.enterType == 0 {
			f.ev(100, 307, tc.exit...)
		} else {
			f.ev(100, tc.enterType+1, tc.exit...)
		}
		fd := f.in.Lookup(100).FD(3)
		if fd == nil || fd.Name != tc.want {
			t.Errorf("%s: fd 3 = %+v, want name %q", tc.name, fd, tc.want)
		}
	}
}

// TestExecveExepathFromEntry: exepath comes from execve's entry filename joined to the cwd
// (versions 18 and 19, and execveat's dirfd), "<NA>" as the driver's, and stays as it was
// when the entry is missing.
func TestExecveExepathFromEntry(t *testing.T) {
	exit := exitParams(t, 293, map[string][]byte{"exe": str("prog"), "args": []byte("a\x00"),
		"tid": i64(100), "pid": i64(100), "ptid": i64(1), "cwd": str("/home/u"), "comm": str("prog")})
	for _, tc := range []struct {
		name  string
		enter []byte
		want  string
	}{
		{"relative", str("bin/prog"), "/home/u/bin/prog"},
		{"absolute", str("/usr/bin/../bin/prog"), "/usr/bin/prog"},
		{"unread", str("<NA>"), "<NA>"},
		{"no entry", nil, "/bin/bash"},
	} {
		f := newFeeder(t)
		f.in.Lookup(100).Exepath = "/bin/bash"
		if tc.enter != nil {
			f.ev(100, 292, tc.enter)
		}
		f.ev(100, 293, exit...)
		if got := f.in.Lookup(100).Exepath; got != tc.want {
			t.Errorf("%s: exepath %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestFcntlDupfd: both of fcntl's duplicating commands (PPM_FCNTL_F_DUPFD 1 and
// PPM_FCNTL_F_DUPFD_CLOEXEC 26) make the result a copy of the fd; F_GETFD (2) does not.
func TestFcntlDupfd(t *testing.T) {
	for _, tc := range []struct {
		cmd  byte
		want bool
	}{{1, true}, {26, true}, {2, false}} {
		f := newFeeder(t)
		f.ev(100, 150, i64(0), []byte{tc.cmd})
		f.ev(100, 151, i64(40))
		if got := f.in.Lookup(100).FD(40) != nil; got != tc.want {
			t.Errorf("cmd %d: fd 40 exists %v, want %v", tc.cmd, got, tc.want)
		} else if got && f.in.Lookup(100).FD(40).Name != "/dev/null" {
			t.Errorf("cmd %d: fd 40 named %q", tc.cmd, f.in.Lookup(100).FD(40).Name)
		}
	}
}

// TestBindNamesSocket: a successful bind names the socket by its address as the parameter
// prints, whatever the family; only a real port makes an IPv4 socket a server (libsinsp).
func TestBindNamesSocket(t *testing.T) {
	for _, tc := range []struct {
		family uint32
		addr   []byte
		want   string
		server bool
	}{
		{2, []byte{2, 127, 0, 0, 1, 0, 0}, "127.0.0.1:0", false},
		{2, []byte{2, 127, 0, 0, 1, 0x50, 0}, "127.0.0.1:80", true},
		{1, append([]byte{1}, str("/tmp/s.sock")...), "/tmp/s.sock", false},
		{16, []byte{16}, "family 16", false},
	} {
		f := newFeeder(t)
		f.ev(100, 18, u32(tc.family), u32(2), u32(0))
		f.ev(100, 19, i64(4))
		f.ev(100, 20, i64(4))
		f.ev(100, 21, i64(0), tc.addr)
		fd := f.in.Lookup(100).FD(4)
		if fd == nil || fd.Name != tc.want || (fd.Role == roleServer) != tc.server {
			t.Errorf("bind %q: fd %+v, want name %q server %v", tc.addr, fd, tc.want, tc.server)
		}
	}
}

// TestExecveCaps: the capability sets an execve exit carries beyond 0.29.3's 20 parameters
// (later libs' 21-23) replace the thread's; an exit without them, or a failed one, leaves them.
func TestExecveCaps(t *testing.T) {
	exit := exitParams(t, 293, map[string][]byte{"exe": str("prog"), "tid": i64(100), "pid": i64(100),
		"ptid": i64(1), "comm": str("prog")})
	f := newFeeder(t)
	th := f.in.Lookup(100)
	th.CapInheritable, th.CapPermitted, th.CapEffective, th.CapsKnown = 0, 0x1ff, 0x1ff, true
	f.ev(100, 293, exit...)
	if th.CapPermitted != 0x1ff || !th.CapsKnown {
		t.Fatalf("20 parameters: permitted %#x known %v, want the sets kept", th.CapPermitted, th.CapsKnown)
	}
	f.ev(100, 293, append(exit[:20:20], i64(0x4), i64(0x2000), i64(0x1000))...)
	if th.CapInheritable != 0x4 || th.CapPermitted != 0x2000 || th.CapEffective != 0x1000 {
		t.Errorf("23 parameters: sets %#x %#x %#x, want 0x4 0x2000 0x1000", th.CapInheritable, th.CapPermitted, th.CapEffective)
	}
	failed := append([][]byte{i64(-2)}, exit[1:20]...)
	f.ev(100, 293, append(failed, i64(0), i64(0), i64(0))...)
	if th.CapEffective != 0x1000 {
		t.Errorf("failed execve changed the effective set to %#x", th.CapEffective)
	}
	th2 := f.in.Lookup(101)
	th2.CapsKnown = false
	f.ev(101, 331, append(exitParams(t, 331, map[string][]byte{"exe": str("p2")})[:20], i64(0), i64(1), i64(1))...)
	if !th2.CapsKnown || th2.CapEffective != 1 {
		t.Errorf("execveat: known %v effective %#x, want true 0x1", th2.CapsKnown, th2.CapEffective)
	}
}

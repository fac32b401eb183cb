package procfs

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestScanSelf scans the real /proc and finds this test process with its cwd, an open file it
// made and a listening socket it made, all with the names sysdig would give them.
func TestScanSelf(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "scan")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	h, err := Scan("/proc")
	if err != nil {
		t.Fatal(err)
	}
	pid := int64(os.Getpid())
	found := false
	for i := range h.Threads {
		th := &h.Threads[i]
		if th.Tid != pid {
			continue
		}
		found = true
		wd, _ := os.Getwd()
		if th.Cwd != wd+"/" {
			t.Errorf("cwd %q, want %q", th.Cwd, wd+"/")
		}
		if th.Ptid != int64(os.Getppid()) {
			t.Errorf("ptid %d, want %d", th.Ptid, os.Getppid())
		}
		var file, sock bool
		for _, fd := range th.FDs {
			if fd.Fd == int64(f.Fd()) {
				file = fd.Name == f.Name() && fd.Type == 1 && fd.OpenFlags&3 == 3
				if !file {
					t.Errorf("temp file fd: %+v", fd)
				}
			}
			if fd.Type == 5 && fd.Sport == port {
				sock = fd.Sip[0] == 127 && fd.Sip[3] == 1 && fd.L4Proto == 2
			}
		}
		if !file || !sock {
			t.Errorf("file found %v, listening socket found %v", file, sock)
		}
	}
	if !found {
		t.Fatalf("pid %d not in the scan", pid)
	}
	if len(h.Users) == 0 || !strings.Contains(h.Users[0].Name, "root") {
		t.Errorf("users: %v", h.Users)
	}
}

func TestPPMOpenFlags(t *testing.T) {
	for _, tc := range []struct{ linux, want uint32 }{
		{0, 1},
		{0o2000000, 1 | 4096},
		{0o1 | 0o100 | 0o1000, 2 | 4 | 256},
		{0o2 | 0o4000, 3 | 64},
		{0o200000, 1 | 1024},
	} {
		if got := PPMOpenFlags(tc.linux); got != tc.want {
			t.Errorf("%o -> %d, want %d", tc.linux, got, tc.want)
		}
	}
}

// TestReadThread reads this process's main thread and another of its threads by tid alone,
// and a tid that does not exist.
func TestReadThread(t *testing.T) {
	pid := int64(os.Getpid())
	th, ok := ReadThread("/proc", pid)
	if !ok || th.Pid != pid || th.Tid != pid || th.Exepath == "" || len(th.FDs) == 0 || th.Comm == "" {
		t.Fatalf("ReadThread(self) = %v %+v", ok, th)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tasks {
		tid, _ := strconv.ParseInt(e.Name(), 10, 64)
		if tid == pid {
			continue
		}
		th, ok := ReadThread("/proc", tid)
		if ok && (th.Pid != pid || th.Tid != tid || th.Flags&1 == 0) {
			t.Errorf("ReadThread(%d) = %+v", tid, th)
		}
	}
	if _, ok := ReadThread("/proc", 1<<30); ok {
		t.Error("a tid that does not exist was read")
	}
}

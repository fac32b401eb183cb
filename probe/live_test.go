package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// PPM values the live tests expect (scap-flags.tsv).
const (
	ppmORdonly = 1
	ppmOWronly = 2
	ppmOCreat  = 4
	ppmOTrunc  = 256

	ppmCloneNewNS        = 32
	ppmCloneChildCleartd = 8388608
	ppmCloneChildSettid  = 16777216

	ppmAFInet = 2
)

// helper is a shell started before the probe is loaded: it is not a
// descendant of the ignored test process once the probe runs, so its
// events (and its children's) are sent while the test's own are not.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
}

func startHelper(t *testing.T) *helper {
	t.Helper()
	cmd := exec.Command("/bin/sh")
	cmd.Env = append(os.Environ(), "GOSYSDIG_PROBE_TEST=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &helper{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
}

// collect reads events until stop returns true for one of them or the
// timeout passes, then drains for another `drain`.
func collect(t *testing.T, p *Probe, timeout, drain time.Duration, stop func(testEvent) bool) []testEvent {
	t.Helper()
	type item struct {
		e   testEvent
		err error
	}
	ch := make(chan item, 1<<16)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			cpu, raw, err := p.Next()
			if err != nil {
				if !errors.Is(err, os.ErrClosed) {
					ch <- item{err: err}
				}
				return
			}
			e, err := decodeEvent(cpu, raw)
			if err == nil {
				// Params alias the reader's buffer: copy them.
				for i := range e.Params {
					e.Params[i] = append([]byte(nil), e.Params[i]...)
				}
			}
			select {
			case ch <- item{e, err}:
			case <-done:
				return
			}
		}
	}()
	defer close(done)

	var evs []testEvent
	deadline := time.After(timeout)
	var drainC <-chan time.Time
	for {
		select {
		case it, ok := <-ch:
			if !ok {
				return evs
			}
			if it.err != nil {
				t.Fatalf("reading events: %v", it.err)
			}
			evs = append(evs, it.e)
			if drainC == nil && stop(it.e) {
				drainC = time.After(drain)
			}
		case <-deadline:
			t.Logf("timeout after %v with %d events", timeout, len(evs))
			return evs
		case <-drainC:
			return evs
		}
	}
}

// descendants keeps the events of root and of the processes it forked,
// found through clone exits (parent side: res = child; child side:
// ptid = parent). Events arrive from all CPUs, so iterate to a fixpoint.
func descendants(evs []testEvent, root int64) []testEvent {
	set := map[int64]bool{root: true}
	for changed := true; changed; {
		changed = false
		for _, e := range evs {
			switch e.Type {
			case 223, 225, 227, 335:
				child, tid, ptid := e.i64(0), e.i64(3), e.i64(5)
				if child > 0 && set[int64(e.TID)] && !set[child] {
					set[child], changed = true, true
				}
				if child == 0 && set[ptid] && !set[tid] {
					set[tid], changed = true, true
				}
			}
		}
	}
	var out []testEvent
	for _, e := range evs {
		if set[int64(e.TID)] {
			out = append(out, e)
		}
	}
	return out
}

func find(evs []testEvent, typ uint16, pred func(testEvent) bool) (testEvent, bool) {
	for _, e := range evs {
		if e.Type == typ && (pred == nil || pred(e)) {
			return e, true
		}
	}
	return testEvent{}, false
}

func TestLiveProcessFileAndNetEvents(t *testing.T) { testLiveProcessFileAndNet(t, false) }

// TestLiveNoCoreCast runs the same checks on the path of kernels without
// bpf_rdonly_cast (registers through bpf_task_pt_regs, task ids read with
// bpf_probe_read_kernel on sched_switch).
func TestLiveNoCoreCast(t *testing.T) { testLiveProcessFileAndNet(t, true) }

func testLiveProcessFileAndNet(t *testing.T, noCoreCast bool) {
	needRoot(t)
	for _, tool := range []string{"cat", "nsenter", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	hostname, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Skip("no /etc/hostname")
	}
	outFile := filepath.Join(t.TempDir(), "probe-out.txt")
	cwd, _ := os.Getwd()

	h := startHelper(t)
	p, err := Load(Options{RingBytes: 16 << 20, IgnoreTgid: uint32(os.Getpid()), noCoreCast: noCoreCast})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer p.Close()

	// The test's own child must not show up: it descends from IgnoreTgid.
	if err := exec.Command("/bin/sh", "-c", "echo ignored-marker-4711 >/dev/null").Run(); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("cat /etc/hostname >/dev/null\n"+
		"setpriv --bounding-set=-net_raw cat /etc/hostname /dev/null >/dev/null\n"+
		"nsenter -t $$ -m true\n"+
		"echo hello-gosysdig > %s\n"+
		"bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; echo hi >&3'\n"+
		"/nonexistent/gosysdig-probe x1 x2\n"+
		"exit 7\n", outFile, port)
	if _, err := io.WriteString(h.stdin, script); err != nil {
		t.Fatal(err)
	}
	helperPid := int64(h.pid)
	evs := collect(t, p, 10*time.Second, 300*time.Millisecond, func(e testEvent) bool {
		return e.Type == 186 && int64(e.TID) == helperPid
	})
	h.cmd.Wait()
	events, drops, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events read, probe counted %d sent and %d dropped", len(evs), events, drops)

	// Shape of everything we read.
	self := map[uint64]bool{}
	if ents, err := os.ReadDir("/proc/self/task"); err == nil {
		for _, e := range ents {
			n, _ := strconv.ParseUint(e.Name(), 10, 64)
			self[n] = true
		}
	}
	for _, e := range evs {
		checkShape(t, e)
		if self[e.TID] {
			t.Errorf("event type %d from the ignored test process (tid %d)", e.Type, e.TID)
		}
		if e.Type == 293 && strings.Contains(strings.Join(e.items(2), " "), "ignored-marker-4711") {
			t.Errorf("execve of a child of the ignored process was sent: %q", e.items(2))
		}
	}
	mine := descendants(evs, helperPid)
	if len(mine) == 0 {
		t.Fatalf("no events from the helper shell (pid %d) among %d", helperPid, len(evs))
	}

	t.Run("execve cat", func(t *testing.T) {
		e, ok := find(mine, 293, func(e testEvent) bool { return e.str(13) == "cat" })
		if !ok {
			t.Fatal("no execve exit with comm cat")
		}
		if e.i64(0) != 0 || e.str(1) != "cat" {
			t.Errorf("res=%d exe=%q", e.i64(0), e.str(1))
		}
		if got := e.items(2); len(got) != 1 || got[0] != "/etc/hostname" {
			t.Errorf("args = %q", got)
		}
		if e.i64(3) != int64(e.TID) || e.i64(4) != int64(e.TID) || e.i64(5) != helperPid {
			t.Errorf("tid/pid/ptid = %d/%d/%d, want %d/%d/%d", e.i64(3), e.i64(4), e.i64(5), e.TID, e.TID, helperPid)
		}
		if e.str(6) != cwd {
			t.Errorf("cwd = %q, want %q", e.str(6), cwd)
		}
		if !strings.Contains("\x00"+strings.Join(e.items(15), "\x00")+"\x00", "\x00GOSYSDIG_PROBE_TEST=1\x00") {
			t.Errorf("env lacks GOSYSDIG_PROBE_TEST=1: %q", e.items(15))
		}
		if len(e.items(14)) == 0 || !strings.Contains(e.items(14)[0], "=/") {
			t.Errorf("cgroups = %q", e.items(14))
		}
		if e.i64(7) <= 0 || e.u32(10) == 0 {
			t.Errorf("fdlimit=%d vm_size=%d", e.i64(7), e.u32(10))
		}
		wantFlags := uint32(0)
		if unix.Access("/usr/bin/cat", unix.W_OK) == nil {
			wantFlags = 1 // PPM_EXE_WRITABLE
		}
		if e.u32(19) != wantFlags {
			t.Errorf("execve flags %#x, want %#x", e.u32(19), wantFlags)
		}
		// A root exec keeps the sets of the root test process that started it.
		inh, prm, eff := procCaps(t, "/proc/self/status")
		if got := [3]int64{e.i64(20), e.i64(21), e.i64(22)}; got != [3]int64{int64(inh), int64(prm), int64(eff)} {
			t.Errorf("cap inheritable/permitted/effective = %#x, want %#x %#x %#x", got, inh, prm, eff)
		}
		if e.i64(17) <= 0 || e.u32(18) == 0 {
			t.Errorf("pgid=%d loginuid=%#x", e.i64(17), e.u32(18))
		}
		now := uint64(time.Now().UnixNano())
		if e.TS > now || now-e.TS > uint64(time.Minute) {
			t.Errorf("ts %d is not recent wall-clock time (now %d)", e.TS, now)
		}
		// The forked child's clone exit (res 0) precedes the exec.
		// dash forks with vfork (227), glibc's fork() uses clone (223).
		var c testEvent
		for _, typ := range []uint16{223, 225, 227, 335} {
			if c, ok = find(mine, typ, func(c testEvent) bool { return c.i64(0) == 0 && c.TID == e.TID }); ok {
				break
			}
		}
		if !ok {
			t.Fatal("no clone/fork/vfork exit in the child")
		}
		if c.i64(3) != int64(e.TID) || c.i64(5) != helperPid || c.str(13) != "sh" || c.str(1) != "/bin/sh" {
			t.Errorf("child clone tid=%d ptid=%d comm=%q exe=%q", c.i64(3), c.i64(5), c.str(13), c.str(1))
		}
		if f := c.u32(15); c.Type == 223 && f&(ppmCloneChildCleartd|ppmCloneChildSettid) != ppmCloneChildCleartd|ppmCloneChildSettid {
			t.Errorf("clone flags %#x lack CHILD_CLEARTID|CHILD_SETTID (PPM)", f)
		}
		// The parent's side returns the child's pid.
		if _, ok := find(mine, c.Type, func(p testEvent) bool { return p.i64(0) == int64(e.TID) && int64(p.TID) == helperPid }); !ok {
			t.Errorf("no parent-side exit of type %d returning %d", c.Type, e.TID)
		}
		if c.i64(18) != c.i64(3) || c.i64(19) != c.i64(4) {
			t.Errorf("vtid/vpid %d/%d != tid/pid %d/%d", c.i64(18), c.i64(19), c.i64(3), c.i64(4))
		}
		o, ok := find(mine, 307, func(o testEvent) bool { return o.TID == e.TID && o.str(2) == "/etc/hostname" })
		if !ok {
			t.Fatal("no openat exit for /etc/hostname")
		}
		fd := o.i64(0)
		if fd < 0 || o.i64(1) != -100 || o.u32(3)&3 != ppmORdonly {
			t.Errorf("openat fd=%d dirfd=%d flags=%#x", fd, o.i64(1), o.u32(3))
		}
		var st unix.Stat_t
		if err := unix.Stat("/etc/hostname", &st); err == nil && o.u32(5) != uint32(st.Dev) {
			t.Errorf("openat dev %#x, stat says %#x", o.u32(5), st.Dev)
		}
		want := hostname
		if len(want) > DefaultSnaplen {
			want = want[:DefaultSnaplen]
		}
		r, ok := find(mine, 7, func(r testEvent) bool { return r.TID == e.TID && string(r.Params[1]) == string(want) })
		if !ok {
			t.Fatalf("no read exit with data %q", want)
		}
		if r.i64(0) != int64(len(hostname)) {
			t.Errorf("read res %d, want %d", r.i64(0), len(hostname))
		}
		if _, ok := find(mine, 6, func(r testEvent) bool { return r.TID == e.TID && r.i64(0) == fd }); !ok {
			t.Errorf("no read enter on fd %d", fd)
		}
		if _, ok := find(mine, 4, func(c testEvent) bool { return c.TID == e.TID && c.i64(0) == fd }); !ok {
			t.Errorf("no close enter for fd %d", fd)
		}
		x, ok := find(mine, 186, func(x testEvent) bool { return x.TID == e.TID })
		if !ok || x.i64(0) != 0 {
			t.Errorf("procexit of cat: found=%v status=%d", ok, x.i64(0))
		}
	})

	t.Run("nsenter setns", func(t *testing.T) {
		e, ok := find(mine, 240, nil)
		if !ok {
			t.Fatal("no setns enter")
		}
		if e.i64(0) < 0 || e.u32(1) != ppmCloneNewNS {
			t.Errorf("setns fd=%d nstype=%#x, want CLONE_NEWNS (PPM %d)", e.i64(0), e.u32(1), ppmCloneNewNS)
		}
		x, ok := find(mine, 241, func(x testEvent) bool { return x.TID == e.TID })
		if !ok || x.i64(0) != 0 {
			t.Errorf("setns exit found=%v res=%d", ok, x.i64(0))
		}
		if _, ok := find(mine, 293, func(x testEvent) bool { return x.str(13) == "nsenter" }); !ok {
			t.Error("no execve of nsenter")
		}
	})

	t.Run("write to file", func(t *testing.T) {
		o, ok := find(mine, 307, func(o testEvent) bool { return o.str(2) == outFile })
		if !ok {
			t.Fatal("no openat exit for the output file")
		}
		if f := o.u32(3); f != ppmOWronly|ppmOCreat|ppmOTrunc {
			t.Errorf("flags %#x, want O_WRONLY|O_CREAT|O_TRUNC = %#x", f, ppmOWronly|ppmOCreat|ppmOTrunc)
		}
		if o.u32(4) != 0666 {
			t.Errorf("mode %o, want 666", o.u32(4))
		}
		fd := o.i64(0)
		w, ok := find(mine, 9, func(w testEvent) bool { return w.TID == o.TID && string(w.Params[1]) == "hello-gosysdig\n" })
		if !ok {
			t.Fatal("no write exit with the data")
		}
		if w.i64(0) != int64(len("hello-gosysdig\n")) {
			t.Errorf("write res %d", w.i64(0))
		}
		if _, ok := find(mine, 8, func(we testEvent) bool { return we.TID == o.TID && we.i64(0) == 1 && we.u32(1) == 15 }); !ok {
			t.Errorf("no write enter fd=1 size=15")
		}
		// dash saves stdout with fcntl(1, F_DUPFD, 10) and moves the file
		// there with dup2(fd, 1) (event dup, 124/125).
		if _, ok := find(mine, 150, func(f testEvent) bool { return f.TID == o.TID && f.i64(0) == 1 && f.Params[1][0] == 1 /* PPM F_DUPFD */ }); !ok {
			t.Errorf("no fcntl(1, F_DUPFD) enter")
		}
		if _, ok := find(mine, 124, func(d testEvent) bool { return d.TID == o.TID && d.i64(0) == fd }); !ok {
			t.Errorf("no dup enter on fd %d", fd)
		}
	})

	t.Run("connect", func(t *testing.T) {
		s, ok := find(mine, 18, func(s testEvent) bool { return s.u32(0) == ppmAFInet })
		if !ok {
			t.Fatal("no socket(AF_INET) enter")
		}
		if s.u32(1)&0xf != 1 { // SOCK_STREAM
			t.Errorf("socket type %d", s.u32(1))
		}
		// bash may first ask nscd over a unix socket (glibc's
		// getaddrinfo); the connection under test is the AF_INET one.
		c, ok := find(mine, 22, func(c testEvent) bool { return len(c.Params[1]) > 0 && c.Params[1][0] == ppmAFInet })
		if !ok {
			t.Fatal("no AF_INET connect enter")
		}
		a := c.Params[1]
		if len(a) != 7 || a[0] != ppmAFInet || net.IP(a[1:5]).String() != "127.0.0.1" || int(a[5])|int(a[6])<<8 != port {
			t.Errorf("connect addr %x", a)
		}
		x, ok := find(mine, 23, func(x testEvent) bool { return x.TID == c.TID && x.TS > c.TS })
		if !ok {
			t.Fatal("no connect exit")
		}
		tu := x.Params[1]
		if x.i64(0) != 0 || len(tu) != 13 || tu[0] != ppmAFInet {
			t.Fatalf("connect exit res=%d tuple=%x", x.i64(0), tu)
		}
		sport := int(tu[5]) | int(tu[6])<<8
		dport := int(tu[11]) | int(tu[12])<<8
		if net.IP(tu[1:5]).String() != "127.0.0.1" || net.IP(tu[7:11]).String() != "127.0.0.1" || dport != port || sport == 0 {
			t.Errorf("tuple %s:%d->%s:%d", net.IP(tu[1:5]), sport, net.IP(tu[7:11]), dport)
		}
	})

	t.Run("execve caps after setpriv", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("setpriv not installed")
		}
		e, ok := find(mine, 293, func(e testEvent) bool { return e.str(13) == "cat" && len(e.items(2)) == 2 })
		if !ok {
			t.Fatal("no execve exit of the cat setpriv started")
		}
		// The exec drops from the permitted and effective sets what the bounding set lost.
		const netRaw = 1 << 13
		inh, prm, eff := procCaps(t, "/proc/self/status")
		if got := [3]int64{e.i64(20), e.i64(21), e.i64(22)}; got != [3]int64{int64(inh), int64(prm &^ netRaw), int64(eff &^ netRaw)} {
			t.Errorf("cap inheritable/permitted/effective = %#x, want %#x %#x %#x", got, inh, prm&^netRaw, eff&^netRaw)
		}
	})

	t.Run("failed execve", func(t *testing.T) {
		// The new image does not exist: exe, args and env come from the
		// arrays the caller passed, like sysdig.
		e, ok := find(mine, 293, func(e testEvent) bool { return e.str(1) == "/nonexistent/gosysdig-probe" })
		if !ok {
			t.Fatal("no execve exit for the missing binary")
		}
		if e.i64(0) != -2 {
			t.Errorf("res %d, want -2 (ENOENT)", e.i64(0))
		}
		if got := e.items(2); len(got) != 2 || got[0] != "x1" || got[1] != "x2" {
			t.Errorf("args %q", got)
		}
		if !strings.Contains(strings.Join(e.items(15), "\n"), "GOSYSDIG_PROBE_TEST=1") {
			t.Errorf("env lacks GOSYSDIG_PROBE_TEST=1")
		}
		if e.str(13) != "sh" {
			t.Errorf("comm %q, want sh (the image did not change)", e.str(13))
		}
	})

	t.Run("procexit status", func(t *testing.T) {
		x, ok := find(mine, 186, func(x testEvent) bool { return int64(x.TID) == helperPid })
		if !ok {
			t.Fatal("no procexit of the helper")
		}
		if x.i64(0) != 7<<8 || x.i64(1) != 7 || x.Params[2][0] != 0 {
			t.Errorf("procexit status=%d ret=%d sig=%d", x.i64(0), x.i64(1), x.Params[2][0])
		}
	})

	t.Run("generic events", func(t *testing.T) {
		// Every generic enter carries ID and the native syscall number.
		n := 0
		for _, e := range mine {
			if e.Type == 0 {
				n++
				if len(e.Params) != 2 {
					t.Fatalf("generic enter with %d params", len(e.Params))
				}
			}
		}
		if n == 0 {
			t.Error("no generic events (e.g. rt_sigaction) from the helper")
		}
	})
}

// TestLiveEventMask loads the probe with only open/openat/close enabled
// and checks no other type arrives.
func TestLiveEventMask(t *testing.T) {
	needRoot(t)
	types := make([]bool, MaxEventID)
	for _, id := range []int{306, 307, 186} {
		types[id] = true
	}
	h := startHelper(t)
	p, err := Load(Options{IgnoreTgid: uint32(os.Getpid()), EventTypes: types})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer p.Close()
	io.WriteString(h.stdin, "cat /etc/hostname >/dev/null\nexit 0\n")
	helperPid := int64(h.pid)
	evs := collect(t, p, 5*time.Second, 100*time.Millisecond, func(e testEvent) bool {
		return e.Type == 186 && int64(e.TID) == helperPid
	})
	h.cmd.Wait()
	sawOpen := false
	for _, e := range evs {
		if !types[e.Type] {
			t.Fatalf("event type %d arrived though masked", e.Type)
		}
		if e.Type == 307 && e.str(2) == "/etc/hostname" {
			sawOpen = true
		}
	}
	if !sawOpen {
		t.Errorf("openat of /etc/hostname not seen among %d events", len(evs))
	}
}

// TestLiveClose checks Next ends with os.ErrClosed/io.EOF after Close.
func TestLiveClose(t *testing.T) {
	needRoot(t)
	p, err := Load(Options{IgnoreTgid: uint32(os.Getpid())})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := p.Next(); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrClosed) || !errors.Is(err, io.EOF) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	if _, _, err := p.Next(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Next: %v", err)
	}
}

// TestLiveDeadline checks SetDeadline and Horizon, which let the reader do its timed work (the
// procinfo rounds) on a quiet machine: Next gives up soon after the deadline when nothing comes,
// the horizon moves on meanwhile, and no event Next returns later is older than the horizon
// seen before it (so an event stamped with it stays in order). The helper opens files now and
// then, so both the quiet waits and events are seen.
func TestLiveDeadline(t *testing.T) {
	needRoot(t)
	// symlinkat only: the machine is shared with other tests, whose opens would leave no quiet
	// time to see; nothing else makes symbolic links while the tests run.
	types := make([]bool, MaxEventID)
	types[180], types[181] = true, true // symlinkat enter and exit
	h := startHelper(t)
	p, err := Load(Options{IgnoreTgid: uint32(os.Getpid()), EventTypes: types})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer p.Close()
	d := t.TempDir()
	io.WriteString(h.stdin, "for i in 1 2 3 4 5 6; do ln -s /etc/hostname "+d+"/l$i; sleep 0.2; done; exit 0\n")
	defer h.cmd.Wait()
	var events, idles int
	var last uint64
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) {
		before := p.Horizon()
		lastRet, wm := p.lastTS, p.watermark-p.order.window
		if before < last {
			t.Fatalf("the horizon went back from %d to %d", last, before)
		}
		last = before
		deadline := time.Now().Add(50 * time.Millisecond)
		p.SetDeadline(deadline)
		_, ev, err := p.Next()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			idles++
			if late := time.Since(deadline); late > 30*time.Millisecond {
				t.Errorf("Next returned %v after its deadline", late)
			}
			if h := p.Horizon(); h <= before && idles > 1 {
				t.Errorf("the horizon stayed at %d through a quiet 50 ms", h)
			}
		case err != nil:
			t.Fatal(err)
		default:
			events++
			if ts := binary.LittleEndian.Uint64(ev); ts < before {
				t.Fatalf("an event (type %d) at %d came after the horizon %d (%d ns older; last %d, watermark-window %d)", binary.LittleEndian.Uint16(ev[20:]), ts, before, before-ts, lastRet, wm)
			}
		}
	}
	if events < 6 || idles < 5 {
		t.Errorf("%d events and %d quiet waits in 2 s, want the helper's opens and quiet time between", events, idles)
	}
}

// procCaps reads the CapInh, CapPrm and CapEff masks of a /proc status file.
func procCaps(t *testing.T, path string) (inh, prm, eff uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		switch k {
		case "CapInh":
			inh = n
		case "CapPrm":
			prm = n
		case "CapEff":
			eff = n
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", path, line, err)
		}
	}
	return inh, prm, eff
}

package main

import (
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// These tests drive the real binary's `ui` in a tmux pane: they send keys and read the pane's
// text back. tmux is required under CI (Debian package tmux) and skips the tests elsewhere.

type pane struct {
	t    *testing.T
	sock string
}

func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the UI tests need tmux under CI (apt-get install -y tmux)")
		}
		t.Skip("tmux not installed (apt-get install -y tmux): skipping the UI tests")
	}
}

// newPane starts a shell in a detached tmux session of w×h cells, on a private tmux server.
func newPane(t *testing.T, w, h int, dir string) *pane {
	t.Helper()
	needTmux(t)
	p := &pane{t: t, sock: fmt.Sprintf("gosysdig-uitest-%d-%d", os.Getpid(), time.Now().UnixNano())}
	p.tmux("new-session", "-d", "-s", "ui", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-c", dir,
		"env PS1='uitest$ ' TERM=xterm-256color bash --norc --noprofile")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", p.sock, "kill-server").Run() })
	p.wait("the shell prompt", 5*time.Second, func(s string) bool { return strings.Contains(s, "uitest$") })
	return p
}

func (p *pane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// typ types text literally; keys sends tmux key names (Enter, F4, BSpace...).
func (p *pane) typ(s string)          { p.tmux("send-keys", "-t", "ui", "-l", s) }
func (p *pane) keys(k ...string)      { p.tmux(append([]string{"send-keys", "-t", "ui"}, k...)...) }
func (p *pane) text() string          { return p.tmux("capture-pane", "-t", "ui", "-p") }
func (p *pane) run(cmdline string)    { p.typ(cmdline); p.keys("Enter") }
func (p *pane) sleep(d time.Duration) { time.Sleep(d) }

// wait polls the pane until ok accepts its text, and fails after d.
func (p *pane) wait(what string, d time.Duration, ok func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := p.text()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; the pane shows:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAll waits until one capture of the pane holds every one of subs: a view's title and
// "Replay: done" alone can come from two frames (the title drawn, the old status not yet).
func (p *pane) waitAll(d time.Duration, subs ...string) string {
	p.t.Helper()
	return p.wait(strings.Join(subs, " + "), d, func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	})
}

func (p *pane) waitText(sub string, d time.Duration) string {
	p.t.Helper()
	return p.wait(strconv.Quote(sub), d, func(s string) bool { return strings.Contains(s, sub) })
}

// tableRows returns the rows between the header line (starting with first) and the status line.
func tableRows(s, first string) [][]string {
	var rows [][]string
	in := false
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(l, first):
			in = true
		case strings.HasPrefix(l, "Filter:") || strings.HasPrefix(l, "Error:"):
			in = false
		case in && strings.TrimSpace(l) != "":
			rows = append(rows, strings.Fields(l))
		}
	}
	return rows
}

// uiSet is a set of captures the replay tests browse, and what they hold: the corpus's
// always (a fresh clone has no ../shared), the shared traces' as well when they are there.
type uiSet struct {
	name, dir string
	views     string            // the capture every view is opened on
	rows      map[string]string // view id -> text one of its first rows shows (80x24)
	io        string            // a capture whose top file-I/O process (topprocs_file) is drilled into
	ioCmd     string            // that process's command line (searched for with /)
	ioFile    string            // a file it has open
	only      string            // a process name that is alone in io (F4 proc.name=only leaves one row)
	onlyCmd   string            // its command line
}

// uiSets returns the corpus's set and, when ../shared is there, the shared traces' (under CI
// they must be there).
func uiSets(t *testing.T) []uiSet {
	t.Helper()
	sets := []uiSet{{
		name: "corpus", dir: testcaptures.CorpusDir(), views: "chdir.scap",
		// 32630 is the top process of sysdig's topprocs_cpu on chdir.scap (the recorder).
		rows: map[string]string{"procs": "32630", "procs_cpu": "32630", "threads": "32630",
			"files": "/tmp/cwl-chdir/one/rel.txt", "directories": "/tmp/cwl-chdir/one", "file_opens": "/proc/self/cgroup",
			"syscalls": "openat", "errors": "ENOENT", "spy_users": "/bin/cat one/rel.txt", "io_by_type": "file"},
		io: "chdir.scap", ioCmd: "cat one/rel.txt", ioFile: "/tmp/cwl-chdir/one/rel.txt", only: "cat", onlyCmd: "cat one/rel.txt",
	}}
	d := testcaptures.SharedOrCorpusOnly(t, "the UI browses the corpus captures only")
	if d == "" {
		return sets
	}
	return append(sets, uiSet{
		name: "shared", dir: filepath.Join(d, "traces"), views: "open-multiple-files.scap",
		rows: map[string]string{"procs": "sysdig", "procs_cpu": "sysdig", "threads": "sysdig", "files": "/tmp/file-",
			"directories": "/tmp", "file_opens": "/tmp/file-", "syscalls": "open"},
		io: "cat_write.scap", ioCmd: "cat /dev/null", ioFile: "/dev/null", only: "emacs", onlyCmd: "emacs -nw",
	})
}

// chiselTable runs a topprocs chisel with sysdig when it is installed (gosysdig otherwise) and
// returns its rows as value, name, pid.
func chiselTable(t *testing.T, bin, trace, chisel string) (rows [][]string, by string) {
	t.Helper()
	tool, by := bin, "gosysdig"
	if p, err := exec.LookPath("sysdig"); err == nil {
		tool, by = p, "sysdig"
	}
	cmd := exec.Command(tool, "-r", trace, "-c", chisel)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -c %s: %v", by, chisel, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] != "CPU%" && f[0] != "Bytes" {
			rows = append(rows, f)
		}
	}
	return rows, by
}

// TestUIReplayProcesses browses a capture: the Processes view's CPU and file I/O agree with the
// topprocs chisels, drilling into a process shows its files, dig and echo show its events, F4
// narrows the rows, a bad filter shows its error and keeps the view, and q gives the terminal
// back.
func TestUIReplayProcesses(t *testing.T) {
	needTmux(t)
	bin := buildBinary(t)
	for _, set := range uiSets(t) {
		t.Run(set.name, func(t *testing.T) { uiReplayProcesses(t, bin, set) })
	}
}

func uiReplayProcesses(t *testing.T, bin string, set uiSet) {
	trace := filepath.Join(set.dir, set.io)
	p := newPane(t, 120, 45, set.dir)
	p.run("echo BEFORE-THE-UI")
	p.waitText("BEFORE-THE-UI\nuitest$", 5*time.Second)
	if set.views != set.io {
		p.run("TZ=UTC " + bin + " ui -r " + set.views)
		checkCPU(t, p.waitText("Replay: done", 10*time.Second), bin, filepath.Join(set.dir, set.views))
		p.keys("q")
		p.waitText("uitest$", 5*time.Second)
	}
	p.run("TZ=UTC " + bin + " ui -r " + set.io)
	s := p.waitText("Replay: done", 10*time.Second)
	if !strings.Contains(s, "Viewing: Processes") {
		t.Fatalf("no Processes view:\n%s", s)
	}
	for _, col := range []string{"PID", "PPID", "%CPU", "USER", "TH", "VIRT", "RES", "FILE", "NET", "Command"} {
		if !strings.Contains(s, col) {
			t.Errorf("column %s missing:\n%s", col, s)
		}
	}
	checkCPU(t, s, bin, trace)

	// File I/O: topprocs_file's bytes over the capture's span, as the view's FILE rate.
	frows, _ := chiselTable(t, bin, trace, "topprocs_file")
	if len(frows) == 0 {
		t.Fatal("topprocs_file printed no rows")
	}
	ioBytes := parseHumanBytes(strings.TrimSuffix(frows[0][0], "B"))
	ioPid, ioName := frows[0][2], frows[0][1]
	secs := regexp.MustCompile(`\(([0-9.]+)s of events\)`).FindStringSubmatch(s)
	if secs == nil {
		t.Fatalf("no time span in the status line:\n%s", s)
	}
	span, _ := strconv.ParseFloat(secs[1], 64)
	// Search for the process's command line: the table scrolls to its row.
	p.keys("/")
	p.typ(set.ioCmd)
	p.keys("Enter")
	s = p.wait("the row of pid "+ioPid, 5*time.Second, func(s string) bool { return rowCell(s, ioPid, "FILE") != "" })
	cell := rowCell(s, ioPid, "FILE")
	if rate := parseHumanBytes(cell); math.Abs(rate-ioBytes/span) > ioBytes/span*0.03 {
		t.Errorf("pid %s FILE %s B/s, want about %.0f (%.0f bytes over %.1fs)", ioPid, cell, ioBytes/span, ioBytes, span)
	}

	// Drill into the process: its files, whose bytes add up to topprocs_file's.
	p.keys("Enter")
	s = p.waitAll(5*time.Second, "Viewing: Files  For: proc.pid="+ioPid, "Replay: done", set.ioFile)
	var in float64
	names := map[string]bool{}
	for _, r := range tableRows(s, "BYTES IN") {
		in += parseHumanBytes(r[0]) + parseHumanBytes(r[1])
		names[r[len(r)-1]] = true
	}
	if math.Abs(in-ioBytes) > ioBytes*0.01 || !names[set.ioFile] {
		t.Errorf("%s's files: %.0f bytes read and written (want %.0f), files %v (want %s among them)\n%s", ioName, in, ioBytes, names, set.ioFile, s)
	}

	// Dig into one file: the raw events.
	p.keys("F6")
	s = p.waitAll(5*time.Second, "Dig: Files  For: proc.pid="+ioPid+" and fd.name=", "Replay: done", ioName+" ("+ioPid+")")
	if !strings.Contains(s, ioName+" ("+ioPid+")") || !strings.Contains(s, "< close res=0") && !strings.Contains(s, "< read res=") {
		t.Errorf("dig shows no events of %s:\n%s", ioName, s)
	}
	p.keys("BSpace")
	p.waitText("Viewing: Files", 5*time.Second)
	p.keys("BSpace")
	p.waitText("Viewing: Processes  For: whole machine", 5*time.Second)

	// Echo the selected process's I/O (the selection came back with Backspace): its reads and
	// writes of files add up to topprocs_file's bytes.
	p.keys("e")
	s = p.waitAll(5*time.Second, "Echo: Processes  For: proc.pid="+ioPid, "Replay: done", "------ ")
	echoed := 0.0
	for _, m := range regexp.MustCompile(`------ (?:Read|Write) (\d+)B (?:from|to) (\S+) \((\S+)\)`).FindAllStringSubmatch(s, -1) {
		n, _ := strconv.ParseFloat(m[1], 64)
		if m[3] != ioName {
			t.Errorf("echo of pid %s shows I/O of %s: %s", ioPid, m[3], m[0])
		}
		if names[m[2]] {
			echoed += n
		}
	}
	if echoed != ioBytes && math.Abs(echoed-ioBytes) > ioBytes*0.01 {
		t.Errorf("echo shows %.0f bytes of %s's file I/O, want %.0f (topprocs_file):\n%s", echoed, ioName, ioBytes, s)
	}
	p.keys("BSpace")
	p.waitText("Viewing: Processes  For: whole machine", 5*time.Second)

	// F4: a filter narrows the rows.
	p.keys("F4")
	p.waitText("Filter: ", 5*time.Second)
	p.typ("proc.name=" + set.only)
	p.keys("Enter")
	s = p.wait("the filtered view", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "Filter: proc.name="+set.only+"  Replay: done")
	})
	rows := tableRows(s, "PID ")
	if len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), set.onlyCmd) {
		t.Fatalf("proc.name=%s should leave %s alone:\n%s", set.only, set.onlyCmd, s)
	}
	// A bad filter: the error, with its column, and the view as it was.
	p.keys("F4", "C-u")
	p.typ("proc.name=" + set.only + " and (")
	p.keys("Enter")
	s = p.waitText("Error: bad filter", 5*time.Second)
	if !strings.Contains(s, "column") || len(tableRows(s, "PID ")) != 1 || !strings.Contains(s, set.onlyCmd) {
		t.Errorf("a bad filter should show its error and keep the view:\n%s", s)
	}
	p.keys("Escape")
	p.waitText("F2Views", 5*time.Second)

	// q: the terminal as it was, with what the shell printed before.
	p.keys("q")
	s = p.waitText("uitest$", 5*time.Second)
	if !strings.Contains(s, "BEFORE-THE-UI") || strings.Contains(s, "Viewing:") {
		t.Errorf("the terminal was not restored:\n%s", s)
	}
}

// rowCell returns the cell of column col in the row of pid of a Processes view ("" when the
// row is not on screen), by the column's place in the header: cells can be empty (USER) and
// the command line has spaces.
func rowCell(s, pid, col string) string {
	at := -1
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "PID ") {
			at = strings.Index(l, col)
		}
		if at >= 0 && strings.HasPrefix(l, pid+" ") && len(l) > at {
			if f := strings.Fields(l[at:]); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// checkCPU compares the Processes view's %CPU with the topprocs_cpu chisel's CPU% per pid
// (summed by pid: threads named apart from their process count for it); it returns the view's
// %CPU and FILE cells by pid.
func checkCPU(t *testing.T, s, bin, trace string) (map[string]float64, map[string]string) {
	t.Helper()
	rows := tableRows(s, "PID ")
	cpu := map[string]float64{}
	file := map[string]string{}
	for _, r := range rows {
		v, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("bad CPU cell in %q", r)
		}
		cpu[r[0]] = v
		file[r[0]] = r[len(r)-4]
	}

	want := map[string]float64{}
	crows, by := chiselTable(t, bin, trace, "topprocs_cpu")
	for _, r := range crows {
		v, _ := strconv.ParseFloat(strings.TrimSuffix(r[0], "%"), 64)
		want[r[2]] += v
	}
	if len(want) == 0 {
		t.Fatalf("%s's topprocs_cpu printed no rows", by)
	}
	for pid, w := range want {
		got, ok := cpu[pid]
		if !ok && w > 0 {
			t.Errorf("pid %s (%.2f%% in %s's topprocs_cpu) is not in the view", pid, w, by)
			continue
		}
		if ok && math.Abs(got-w) > 0.015 {
			t.Errorf("pid %s: view %%CPU %.2f, %s's topprocs_cpu %.2f", pid, got, by, w)
		}
	}
	t.Logf("CPU checked against %s topprocs_cpu: %v", by, want)
	return cpu, file
}

// TestUIViews opens every view on a capture in an 80×24 terminal: each shows its title, its
// columns and the key bar, and --list-views names them all.
func TestUIViews(t *testing.T) {
	needTmux(t)
	bin := buildBinary(t)
	out, err := exec.Command(bin, "ui", "--list-views").CombinedOutput()
	if err != nil {
		t.Fatalf("--list-views: %v\n%s", err, out)
	}
	for _, v := range uiViews {
		if !strings.Contains(string(out), v.id) || !strings.Contains(string(out), v.name) {
			t.Errorf("--list-views lacks %s (%s):\n%s", v.id, v.name, out)
		}
	}
	for _, set := range uiSets(t) {
		t.Run(set.name, func(t *testing.T) { uiViewsOn(t, bin, set) })
	}
}

// uiViews are the views, each with a column of its own.
var uiViews = []struct{ id, name, col string }{
	{"procs", "Processes", "Command"},
	{"procs_cpu", "Processes CPU", "SYSCALLS"},
	{"threads", "Threads", "TID"},
	{"files", "Files", "FILENAME"},
	{"directories", "Directories", "DIRNAME"},
	{"file_opens", "File Opens List", "TIME"},
	{"connections", "Connections", "RPORT"},
	{"sports", "Server Ports", "SPORT"},
	{"syscalls", "System Calls", "SYSCALL"},
	{"errors", "Errors", "ERROR"},
	{"containers", "Containers", "IMAGE"},
	{"spy_users", "Spy Users", "SHELL"},
	{"io_by_type", "I/O by Type", "I/O Type"},
}

func uiViewsOn(t *testing.T, bin string, set uiSet) {
	p := newPane(t, 80, 24, set.dir)
	for _, v := range uiViews {
		p.run(bin + " ui -r " + set.views + " -v " + v.id)
		s := p.waitText("Replay: done", 10*time.Second)
		lines := strings.Split(s, "\n")
		if !strings.HasPrefix(lines[0], "Viewing: "+v.name+"  For: whole machine") || !strings.Contains(s, v.col) {
			t.Errorf("view %s: no title or no %s column:\n%s", v.id, v.col, s)
		}
		if !strings.Contains(s, "F2Views") || !strings.Contains(s, "qQuit") {
			t.Errorf("view %s: no key bar in 80x24:\n%s", v.id, s)
		}
		if row := set.rows[v.id]; row != "" && !strings.Contains(strings.Join(lines[2:len(lines)-3], "\n"), row) {
			t.Errorf("view %s: no row with %q:\n%s", v.id, row, s)
		}
		p.keys("q")
		p.waitText("uitest$", 5*time.Second)
		p.run("clear")
	}
	// A panic restores the terminal before it is reported.
	p.run("GOSYSDIG_UI_TEST_PANIC=1 " + bin + " ui -r " + set.io)
	p.waitText("Replay: done", 10*time.Second)
	p.keys("!")
	s := p.waitText("uitest$", 5*time.Second)
	all := p.tmux("capture-pane", "-t", "ui", "-p", "-S", "-")
	if strings.Contains(s, "Viewing:") || !strings.Contains(all, "panic: test panic") {
		t.Errorf("the terminal was not restored after a panic, or the panic not reported:\n%s", all)
	}
	p.run("clear")

	// A dumb terminal gets the UI without colours (vt100), and back its prompt.
	p.run("TERM=dumb " + bin + " ui -r " + set.io)
	s = p.waitText("Replay: done", 10*time.Second)
	if !strings.Contains(s, "Viewing: Processes") || !strings.Contains(s, set.rows["procs"]) {
		t.Errorf("TERM=dumb: no Processes view:\n%s", s)
	}
	p.keys("q")
	p.waitText("uitest$", 5*time.Second)
	p.run("clear")

	// F2 picks a view; F9 sorts.
	p.run(bin + " ui -r " + set.views)
	p.waitText("Replay: done", 10*time.Second)
	p.keys("F2")
	p.waitText("I/O by Type", 5*time.Second)
	for i := 0; i < 8; i++ {
		p.keys("Down")
	}
	p.keys("Enter")
	p.waitText("Viewing: System Calls", 5*time.Second)
	p.waitText("Replay: done", 5*time.Second)
	p.keys(">")
	p.waitText("Sort by", 5*time.Second)
	p.keys("Down", "Down", "Down", "Enter")
	s = p.waitText("SYSCALL^", 5*time.Second)
	rows := tableRows(s, "CALLS/S")
	for i := 1; i < len(rows); i++ {
		if rows[i-1][len(rows[i-1])-1] > rows[i][len(rows[i])-1] {
			t.Errorf("rows not sorted by SYSCALL:\n%s", s)
			break
		}
	}
	// Mouse: a click on a header sorts by it, a click on a row selects it.
	p.typ("\x1b[<0;3;2M\x1b[<0;3;2m")
	p.waitText("CALLS/Sv", 5*time.Second)
	p.typ("\x1b[<0;3;2M\x1b[<0;3;2m")
	s = p.waitText("CALLS/S^", 5*time.Second)
	rows = tableRows(s, "CALLS/S")
	p.typ("\x1b[<0;3;4M\x1b[<0;3;4m")
	p.keys("Enter")
	p.waitText("Viewing: Processes  For: evt.type="+rows[1][len(rows[1])-1], 5*time.Second)
	p.keys("q")
	p.waitText("uitest$", 5*time.Second)
}

// TestUILive runs the UI live (as root): a process the test starts shows in the Processes view
// within two refreshes.
func TestUILive(t *testing.T) {
	needRoot(t)
	needTmux(t)
	bin := buildBinary(t)
	p := newPane(t, 150, 50, t.TempDir())
	p.run(bin + " ui -d 1000")
	p.wait("the first live refresh", 20*time.Second, func(s string) bool {
		return regexp.MustCompile(`Evts/s: [1-9]`).MatchString(s)
	})
	argv := fmt.Sprintf("30.%d", time.Now().UnixNano()%100000+100000)
	sleep := exec.Command("sleep", argv)
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	want := fmt.Sprintf("%d ", sleep.Process.Pid)
	var s string
	for {
		// Search for the command line: the table scrolls to its row.
		p.keys("/", "C-u")
		p.typ("sleep " + argv)
		p.keys("Enter")
		time.Sleep(300 * time.Millisecond)
		s = p.text()
		found := false
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, want) && strings.Contains(l, "sleep "+argv) {
				found = true
			}
		}
		if found {
			break
		}
		if time.Since(started) > 2*time.Second+1500*time.Millisecond {
			t.Fatalf("sleep %s (pid %d) not in the Processes view after two refreshes:\n%s", argv, sleep.Process.Pid, s)
		}
	}
	t.Logf("sleep %s shown after %v", argv, time.Since(started).Round(10*time.Millisecond))
	// Under load the UI can still be reading the last search's keys: q comes after them.
	p.keys("Escape")
	p.keys("q")
	s = p.waitText("uitest$", 15*time.Second)
	if strings.Contains(s, "Viewing:") {
		t.Errorf("the terminal was not restored:\n%s", s)
	}
}

// TestUIReplayNet captures a TCP transfer live (as root) and browses the capture: the test
// process's NET column is the topprocs_net chisel's bytes over the capture's span.
func TestUIReplayNet(t *testing.T) {
	needRoot(t)
	needTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "net.scap")
	traceLive(t, bin, func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		got := make(chan int64)
		go func() {
			c, err := l.Accept()
			if err != nil {
				got <- -1
				return
			}
			n, _ := io.Copy(io.Discard, c)
			c.Close()
			got <- n
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 30000)
		for i := 0; i < 10; i++ {
			if _, err := c.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		<-got
	}, "-w", capFile)
	pid := strconv.Itoa(os.Getpid())
	var netBytes float64
	rows, by := chiselTable(t, bin, capFile, "topprocs_net")
	for _, r := range rows {
		if r[2] == pid {
			netBytes = parseHumanBytes(strings.TrimSuffix(r[0], "B"))
		}
	}
	if netBytes == 0 {
		t.Fatalf("%s's topprocs_net has no bytes for the test process %s: %v", by, pid, rows)
	}
	p := newPane(t, 120, 30, dir)
	p.run(bin + " ui -r net.scap")
	p.waitText("Replay: done", 20*time.Second)
	p.keys("F4")
	p.typ("proc.pid=" + pid)
	p.keys("Enter")
	s := p.wait("the test process's row", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "Filter: proc.pid="+pid+"  Replay: done")
	})
	m := regexp.MustCompile(`\(([0-9.]+)s of events\)`).FindStringSubmatch(s)
	rs := tableRows(s, "PID ")
	if m == nil || len(rs) != 1 || rs[0][0] != pid {
		t.Fatalf("no row for pid %s:\n%s", pid, s)
	}
	span, _ := strconv.ParseFloat(m[1], 64)
	want := netBytes / span
	cell := rs[0][8]
	if rs[0][3] != "root" {
		cell = rs[0][7] // no user name
	}
	got := parseHumanBytes(cell)
	if math.Abs(got-want) > want*0.01+1 {
		t.Errorf("NET %s (%.0f B/s), want %.0f B/s: %s's topprocs_net %.0f bytes over %.3fs\n%s", cell, got, want, by, netBytes, span, s)
	}
	t.Logf("NET %s = %s topprocs_net %.0f bytes over %.3fs", cell, by, netBytes, span)
	p.keys("q")
	p.waitText("uitest$", 5*time.Second)
}

// parseHumanBytes reads byte counts: 832, 1.50K, 2.25M, 1.00G (the UI's, and the chisels'
// without their B).
func parseHumanBytes(s string) float64 {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	v, _ := strconv.ParseFloat(strings.TrimRight(s, "KMG"), 64)
	return v * mult
}

package chisels_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Live tests: gosysdig runs the project's own chisels on the running system (root needed: the
// probe is eBPF). Outside CI they skip without root; under CI=true they fail instead.

func needLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "live chisel tests need root (eBPF probe)")
	}
}

// liveRun is a running `gosysdig ARGS` live capture, started from an empty folder and HOME so
// that chisels are the embedded ones.
type liveRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

// startLive starts gosysdig and waits for its probe to be attached.
func startLive(t *testing.T, bin string, args ...string) *liveRun {
	t.Helper()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	r := &liveRun{done: make(chan error, 1)}
	r.cmd = exec.Command(bin, append([]string{"--ready-file", ready}, args...)...)
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C", "HOME="+dir)
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return r
		}
		select {
		case err := <-r.done:
			t.Fatalf("gosysdig %v exited before its probe was ready: %v\n%s", args, err, r.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gosysdig %v: probe not ready after 60s\n%s", args, r.stderr.String())
		}
	}
}

// wait waits for the capture to end by itself (-M), at most limit.
func (r *liveRun) wait(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("gosysdig: %v\n%s", err, r.stderr.String())
		}
	case <-time.After(limit):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("gosysdig did not stop within %v\n%s", limit, r.stderr.String())
	}
	return r.stdout.String()
}

// busyProcess runs a copy of yes, renamed to a name of its own, writing to /dev/null until the
// test ends; it returns the name and pid.
func busyProcess(t *testing.T) (string, int) {
	t.Helper()
	yes, err := exec.LookPath("yes")
	if err != nil {
		unavailable(t, "no yes binary: %v", err)
	}
	b, err := os.ReadFile(yes)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("gsbusy%d", os.Getpid()%1000000) // comm keeps 15 characters
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return name, cmd.Process.Pid
}

// tableRows returns the rows of every table a top chisel printed (the lines after each dashed
// separator), split in fields.
func tableRows(out string) [][]string {
	var rows [][]string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "-----"):
			in = true
		case len(strings.Fields(l)) == 0:
		case in && !strings.HasPrefix(strings.Fields(l)[0], "CPU%") && !strings.HasPrefix(l, "# Calls"):
			rows = append(rows, strings.Fields(l))
		}
	}
	return rows
}

// TestLiveTopprocsCPU: a CPU-bound process shows in topprocs_cpu's table, with its pid and a
// CPU share above 10%.
func TestLiveTopprocsCPU(t *testing.T) {
	needLive(t)
	bin := gosysdig(t)
	name, pid := busyProcess(t)
	r := startLive(t, bin, "-M", "4", "-c", "topprocs_cpu")
	out := r.wait(t, 60*time.Second)
	// CPU shares are deltas between procinfo rounds: the first table a process appears in may
	// hold only its baseline, so any of the tables may show the share.
	seen := false
	for _, row := range tableRows(out) {
		// CPU%  Process  PID
		if len(row) == 3 && row[1] == name && row[2] == strconv.Itoa(pid) {
			seen = true
			if pct, err := strconv.ParseFloat(strings.TrimSuffix(row[0], "%"), 64); err == nil && pct > 10 {
				return
			}
		}
	}
	if seen {
		t.Errorf("%s (%d) never shows more than 10%% CPU:\n%s", name, pid, out)
		return
	}
	t.Errorf("busy process %s (%d) missing from topprocs_cpu's tables:\n%s\n--- stderr\n%s", name, pid, out, r.stderr.String())
}

// TestLiveTopscalls: the busy process's system calls, counted by topscalls with a filter on its
// name, are writes first.
func TestLiveTopscalls(t *testing.T) {
	needLive(t)
	bin := gosysdig(t)
	name, _ := busyProcess(t)
	r := startLive(t, bin, "-M", "2", "-c", "topscalls", "proc.name="+name)
	out := r.wait(t, 60*time.Second)
	rows := tableRows(out)
	if len(rows) == 0 {
		t.Fatalf("topscalls printed no rows for %s:\n%s\n--- stderr\n%s", name, out, r.stderr.String())
	}
	// # Calls  Syscall, largest first
	if len(rows[0]) != 2 || rows[0][1] != "write" {
		t.Errorf("topscalls' first row for %s is %v, want write:\n%s", name, rows[0], out)
	}
	if n, err := strconv.Atoi(rows[0][0]); err != nil || n < 1000 {
		t.Errorf("topscalls counts %v writes for %s, want thousands:\n%s", rows[0][0], name, out)
	}
}

// TestLiveSpyUsers: what a shell does during the capture shows in spy_users' output: its cd and
// the commands it runs, with their arguments.
func TestLiveSpyUsers(t *testing.T) {
	needLive(t)
	bin := gosysdig(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		unavailable(t, "no sh: %v", err)
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "spy.scap")
	r := startLive(t, bin, "-M", "3", "-c", "spy_users", "-w", capFile)
	// Other shells moving around first, as under make test (where other packages' tests run
	// scripts): the builtin chisel used to fail ("nil sinsp_filter_check pointer") once two
	// chdirs had been seen before a new shell, where sysdig's carries on.
	for i := 0; i < 2; i++ {
		if out, err := exec.Command(sh, "-c", "cd /; cd /tmp; cd /; /bin/true; exit 0").CombinedOutput(); err != nil {
			t.Fatalf("sh: %v\n%s", err, out)
		}
	}
	mark := fmt.Sprintf("gs-spy-users-%d", os.Getpid())
	// "; exit 0" keeps sh from exec'ing the last command in its own process
	shell := exec.Command(sh, "-c", "cd "+dir+" && /bin/echo "+mark+" > /dev/null && /bin/true "+mark+"; exit 0")
	if out, err := shell.CombinedOutput(); err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	out := r.wait(t, 60*time.Second)
	// spy_users shifts its table of ancestor fields at every chdir of any shell on the machine
	// (its table.insert(fanames, 0, 0)), so whether the marked shell is shown depends on what
	// other shells did meanwhile, in sysdig as here: what it printed live must be what sysdig
	// 0.29.3's spy_users prints from the capture of the same run, and the capture must hold the
	// marked shell's cd and commands.
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		unavailable(t, "sysdig is not installed: %v", err)
	}
	cmd := exec.Command(sysdig, "-r", capFile, "-c", "spy_users")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("sysdig -r %s -c spy_users: %v", capFile, err)
	}
	if out != string(want) {
		t.Errorf("live spy_users differs from sysdig's over the run's capture:\n--- live\n%s\n--- sysdig\n%s", out, want)
	}
	got, err := exec.Command(bin, "-r", capFile, "-p", "*%evt.type %proc.name %evt.arg.path",
		"evt.dir=< and evt.failed=false and ((evt.type=execve and proc.args contains '"+mark+"') or (evt.type=chdir and evt.arg.path='"+dir+"'))").Output()
	if err != nil {
		t.Fatalf("reading the capture back: %v", err)
	}
	for _, w := range []string{"chdir sh " + dir, "execve echo ", "execve true ", "execve sh "} {
		if !strings.Contains(string(got), w) {
			t.Errorf("the capture lacks %q of the marked shell:\n%s", w, got)
		}
	}
	if strings.Contains(string(want), mark) {
		for _, w := range []string{"cd " + dir, "/bin/echo " + mark, "/bin/true " + mark} {
			if !strings.Contains(out, ") "+w) {
				t.Errorf("sysdig's spy_users shows the marked shell, ours lacks %q", w)
			}
		}
	}
}

// TestLiveHTTPChisels captures HTTP requests this test serves and sends itself (gosysdig -w, the
// shared captures having no network payloads), then compares the project's chisels that read
// network data with sysdig's on that capture.
func TestLiveHTTPChisels(t *testing.T) {
	needLive(t)
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		unavailable(t, "sysdig is not installed: %v", err)
	}
	if _, err := os.Stat(stockDir); err != nil {
		unavailable(t, "sysdig's chisels are not installed: %v", err)
	}
	bin := gosysdig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "hello "+r.URL.Path+"\n")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	capFile := filepath.Join(t.TempDir(), "http.scap")
	r := startLive(t, bin, "-M", "3", "-s", "1024", "-w", capFile)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 5; i++ {
		for _, p := range []string{"/index.html", "/missing", "/a/longer/path/" + strconv.Itoa(i)} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+port+p, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			cancel()
		}
	}
	r.wait(t, 60*time.Second)

	only := "fd.port=" + port
	cases := []struct {
		name string
		args []string
	}{
		{"httplog", []string{only}},
		{"httptop", []string{"ncalls", only}},
		{"httptop", []string{"bytes", only}},
		{"httptop", []string{"time", only}},
		{"spy_port", []string{port}},
		{"spy_ip", []string{"127.0.0.1", only}},
		{"netlower", []string{"0", only}},
	}
	empty := t.TempDir()
	for _, tc := range cases {
		want := runTool(sysdig, append([]string{"-r", capFile, "-c", filepath.Join(stockDir, tc.name+".lua")}, tc.args...)...)
		got := runIn(empty, bin, append([]string{"-r", capFile, "-c", tc.name}, tc.args...)...)
		if strings.Count(want, "\n") < 3 {
			t.Errorf("sysdig's %s %v saw no HTTP traffic in the capture:\n%s", tc.name, tc.args, clip(want))
		}
		if !sameOutput(want, got) {
			t.Errorf("builtin %s %v differs from sysdig's on the live HTTP capture\n--- sysdig\n%s\n--- gosysdig\n%s", tc.name, tc.args, clip(want), clip(got))
		}
		// sysdig's own chisel on gosysdig's runtime (LuaJIT's %g in patterns, whole buffers)
		stock := runTool(bin, append([]string{"-r", capFile, "-c", filepath.Join(stockDir, tc.name+".lua")}, tc.args...)...)
		if !sameOutput(want, stock) {
			t.Errorf("sysdig's %s %v run by gosysdig differs from sysdig on the live HTTP capture\n--- sysdig\n%s\n--- gosysdig\n%s", tc.name, tc.args, clip(want), clip(stock))
		}
	}
}

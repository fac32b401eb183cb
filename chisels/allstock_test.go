package chisels_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Every chisel `gosysdig -cl` lists, run over every shared capture, over a capture of a mixed
// workload recorded live, and live: none may fail with a Lua error. The few that fail on purpose
// are listed in chiselRefusals with the reason; everywhere sysdig 0.29.3 can run the same chisel
// on the same capture, both must end the same way, and print the same where the output is
// deterministic.

// chiselRefusals are the listed chisels that end with an error, and the text it must hold.
var chiselRefusals = map[string]struct {
	capture, live string // expected error text on a capture and live ("" = must succeed)
	sysdigFails   bool   // sysdig fails on captures too
}{
	// they draw on a terminal and refuse anything else, as sysdig's do (init() fails)
	"spectrogram":  {"init() for chisel", "init() for chisel", true},
	"subsecoffset": {"init() for chisel", "init() for chisel", true},
	// its own filter mixes and/or without brackets: sysdig refuses it too
	"shellshock_detect": {"expression mixes 'and' and 'or'", "expression mixes 'and' and 'or'", true},
	// span.* fields: sysdig 0.29.3's tracers (writes to /dev/null) do not exist here
	"tracers_2_statsd": {"span/tracer events of sysdig 0.29.3", "span/tracer events of sysdig 0.29.3", false},
	// they refuse live captures themselves (on_capture_start prints why and returns false)
	"udp_extract": {"", "init() for chisel", false},
	"around":      {"", "init() for chisel", false},
}

// chiselArgsFor returns the arguments a listed chisel needs (dir: a scratch folder).
func chiselArgsFor(name, dir string, port int) []string {
	switch name {
	case "fdbytes_by", "fdtime_by":
		return []string{"fd.name"}
	case "fdcount_by":
		return []string{"proc.name"}
	case "around":
		return []string{filepath.Join(dir, "around.scap") + " 100", "evt.type=openat"}
	case "scallslower", "fileslower", "netlower":
		return []string{"0"}
	case "spy_ip":
		return []string{"127.0.0.1"}
	case "spy_port":
		return []string{strconv.Itoa(port)}
	}
	return nil
}

// listedChisels returns the chisels `gosysdig -cl` lists (run where only the embedded and
// sysdig's chisels are found).
func listedChisels(t *testing.T, bin string) []string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, "-cl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gosysdig -cl: %v", err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || l[0] == ' ' || strings.HasPrefix(l, "Category:") || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "Use the") {
			continue
		}
		names = append(names, strings.Fields(l)[0])
	}
	if len(names) < 40 {
		t.Fatalf("gosysdig -cl lists %d chisels:\n%s", len(names), out)
	}
	return names
}

// chiselRun is one run's result.
type chiselRun struct {
	out, errOut string
	code        int
}

func runChisel(dir, bin string, timeout time.Duration, args ...string) chiselRun {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// a run that hangs gets SIGQUIT first: Go programs print their goroutines, for the report
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C", "HOME="+dir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := chiselRun{out: out.String(), errOut: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.errOut += err.Error()
	}
	if ctx.Err() != nil {
		r.code = -1
		r.errOut = fmt.Sprintf("did not end within %v: %s", timeout, r.errOut)
	}
	return r
}

// luaFailure reports a run that failed other than as expected ("" when fine).
func luaFailure(r chiselRun, expect string) string {
	if expect != "" {
		if r.code == 0 || !strings.Contains(r.errOut, expect) {
			return fmt.Sprintf("want a refusal with %q, got exit %d: %s", expect, r.code, r.errOut)
		}
		return ""
	}
	if r.code != 0 || strings.Contains(r.errOut, "chisel error") || strings.Contains(r.errOut, ".lua:") {
		return fmt.Sprintf("exit %d: %s", r.code, clip(r.errOut))
	}
	return ""
}

// workload is a mixed activity run by a shell of its own name (a copy of bash called gswlsh):
// files (cat a > b is copy_file_range on Debian 12), cd, exec, TCP and UDP sockets, syslog
// messages through logger to a /dev/log socket of its own.
type workload struct {
	dir, shell, script string
	tcpPort, udpPort   int
	syslog             *net.UnixConn
	tcp                net.Listener
	udp                net.PacketConn
}

// workloadFilter selects the workload's events (the shell and up to 4 generations below it).
const workloadFilter = "(proc.name=gswlsh or proc.aname[1]=gswlsh or proc.aname[2]=gswlsh or proc.aname[3]=gswlsh or proc.aname[4]=gswlsh)"

func newWorkload(t *testing.T) *workload {
	t.Helper()
	for _, tool := range []string{"bash", "logger", "cat", "ls"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "no %s for the workload: %v", tool, err)
		}
	}
	bash, _ := exec.LookPath("bash")
	w := &workload{dir: t.TempDir()}
	b, err := os.ReadFile(bash)
	if err != nil {
		t.Fatal(err)
	}
	w.shell = filepath.Join(w.dir, "gswlsh")
	if err := os.WriteFile(w.shell, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// sysdig decodes syslog writes to any fd whose name contains /dev/log
	if err := os.MkdirAll(filepath.Join(w.dir, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(w.dir, "dev", "log")
	w.syslog, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: logPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	w.tcp, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.udp, err = net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.tcpPort = w.tcp.Addr().(*net.TCPAddr).Port
	w.udpPort = w.udp.LocalAddr().(*net.UDPAddr).Port
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := w.syslog.Read(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := w.udp.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			c, err := w.tcp.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				n, _ := c.Read(buf)
				c.Write(bytes.ToUpper(buf[:n]))
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { w.syslog.Close(); w.tcp.Close(); w.udp.Close() })
	w.script = fmt.Sprintf(`d=%[1]s
cd /tmp; cd /; ls >/dev/null; cd /etc; cat hostname >/dev/null
cd $d
echo "hello $RANDOM" > a; cat a > b; cat b >/dev/null
printf 'line1\nline2\n' >> c.log
logger -u $d/dev/log -p local3.warning "gosysdig workload message"
logger -u $d/dev/log -p auth.err "second message"
exec 3<>/dev/tcp/127.0.0.1/%[2]d; echo "GET /x HTTP/1.0" >&3; cat <&3 >/dev/null; exec 3>&-
echo "udp datagram" > /dev/udp/127.0.0.1/%[3]d
ls /nonexistent 2>/dev/null
true`, w.dir, w.tcpPort, w.udpPort)
	// one line: chisels print the shell's command line, and line-based comparisons need it whole
	w.script = strings.ReplaceAll(w.script, "\n", "; ")
	return w
}

// once runs the workload one time.
func (w *workload) once(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(w.shell, "-c", w.script).CombinedOutput(); err != nil {
		t.Fatalf("workload: %v\n%s", err, out)
	}
}

// loop runs the workload until stop is closed.
func (w *workload) loop(t *testing.T, stop chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			exec.Command(w.shell, "-c", w.script).Run()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return &wg
}

// recordWorkload captures the workload live with gosysdig -w (its events only) and returns the
// capture's path.
func recordWorkload(t *testing.T, bin string, w *workload) string {
	t.Helper()
	capFile := filepath.Join(t.TempDir(), "workload.scap")
	r := startLive(t, bin, "-M", "3", "-s", "1024", "-w", capFile, workloadFilter)
	for i := 0; i < 3; i++ {
		w.once(t)
	}
	r.wait(t, 60*time.Second)
	return capFile
}

// nondeterministic are the chisels whose output on the live-recorded capture is not compared
// with sysdig's (the shared captures compare them, TestStockChisels and TestBuiltinChisels):
// lsof, netstat and ps list the whole machine's state from the capture header, which holds
// whatever other processes were starting while the probe attached (issue 11, item 2, not this
// package's); the iobytes chisels' per-second lines after the workload's last event depend on
// which internal events end the capture (sysdig prints "in:0 out:0" lines for them that
// gosysdig does not: a known gap); around writes a file.
var nondeterministic = map[string]bool{"around": true, "lsof": true, "netstat": true, "ps": true,
	"iobytes": true, "iobytes_file": true, "iobytes_net": true}

// TestAllListedChiselsOnCaptures runs every chisel -cl lists, sysdig's by path and by name (the
// embedded one where there is one), on every shared capture and on a live-recorded capture of a
// mixed workload; none fails but as chiselRefusals says, each ends as sysdig's does, and on the
// workload capture prints what sysdig prints.
func TestAllListedChiselsOnCaptures(t *testing.T) {
	sysdig, traces, bin := stockSetup(t)
	names := listedChisels(t, bin)
	captures := append([]string(nil), traces...)
	var w *workload
	port := 80
	switch {
	case os.Geteuid() == 0:
		w = newWorkload(t)
		port = w.tcpPort
		captures = append(captures, recordWorkload(t, bin, w))
	case os.Getenv("CI") == "true":
		t.Fatal("recording the workload capture needs root (eBPF probe)")
	default:
		t.Log("not root: the shared captures only, no live-recorded workload capture")
	}
	for _, name := range names {
		name := name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := chiselArgsFor(name, dir, port)
			ref := chiselRefusals[name]
			for _, capFile := range captures {
				base := filepath.Base(capFile)
				stock := append([]string{"-r", capFile, "-c", filepath.Join(stockDir, name+".lua")}, args...)
				want := runChisel(dir, sysdig, 2*time.Minute, stock...)
				got := runChisel(dir, bin, 2*time.Minute, stock...)
				byName := runChisel(dir, bin, 2*time.Minute, append([]string{"-r", capFile, "-c", name}, args...)...)
				for _, r := range []struct {
					how string
					run chiselRun
				}{{"by path", got}, {"by name", byName}} {
					if msg := luaFailure(r.run, ref.capture); msg != "" {
						t.Errorf("%s %s on %s: %s", name, r.how, base, msg)
					}
				}
				if ref.sysdigFails != (want.code != 0) {
					t.Errorf("sysdig's %s on %s: exit %d (expected failure: %v): %s", name, base, want.code, ref.sysdigFails, want.errOut)
				}
				if ref.capture != "" || nondeterministic[name] || !strings.HasPrefix(base, "workload") {
					continue
				}
				if !sameOutput(want.out, got.out) {
					t.Errorf("%s by path on %s differs from sysdig\n%s", name, base, lineDiff(want.out, got.out))
				}
				if !sameOutput(want.out, byName.out) {
					t.Errorf("%s by name on %s differs from sysdig's\n%s", name, base, lineDiff(want.out, byName.out))
				}
			}
		})
	}
	if w == nil {
		return
	}
	// the syslog fields of the workload's logger messages, as sysdig decodes them
	capFile := captures[len(captures)-1]
	format := "%evt.num %syslog.facility.str %syslog.facility %syslog.severity.str %syslog.severity %syslog.message"
	want := runTool(sysdig, "-r", capFile, "-p", format, "syslog.severity exists")
	got := runTool(bin, "-r", capFile, "-p", format, "syslog.severity exists")
	if strings.Count(want, "local3 19 warn 4 ") < 3 || strings.Count(want, "auth 4 err 3 ") < 3 {
		t.Errorf("sysdig decoded too few of the workload's syslog messages:\n%s", clip(want))
	}
	if got != want {
		t.Errorf("syslog fields differ from sysdig's\n--- sysdig\n%s\n--- gosysdig\n%s", clip(want), clip(got))
	}
}

// TestLiveAllListedChisels runs every chisel -cl lists live for 5 s under the mixed workload, by
// name (the embedded one where there is one) and sysdig's by path, a few at a time: none fails but
// as chiselRefusals says.
func TestLiveAllListedChisels(t *testing.T) {
	needLive(t)
	if _, err := os.Stat(stockDir); err != nil {
		unavailable(t, "sysdig's chisels are not installed: %v", err)
	}
	bin := gosysdig(t)
	names := listedChisels(t, bin)
	w := newWorkload(t)
	stop := make(chan struct{})
	wg := w.loop(t, stop)
	defer func() { close(stop); wg.Wait() }()
	var runs [][2]string // name, how to name it to -c
	for _, name := range names {
		runs = append(runs, [2]string{name, name}, [2]string{name, filepath.Join(stockDir, name+".lua")})
	}
	const batch = 8
	for i := 0; i < len(runs); i += batch {
		var mu sync.Mutex
		var group sync.WaitGroup
		for _, run := range runs[i:min(i+batch, len(runs))] {
			name, ref := run[0], run[1]
			group.Add(1)
			go func() {
				defer group.Done()
				dir := t.TempDir()
				args := append([]string{"-M", "5", "-c", ref}, chiselArgsFor(name, dir, w.tcpPort)...)
				r := runChisel(dir, bin, 90*time.Second, args...)
				if msg := luaFailure(r, chiselRefusals[name].live); msg != "" {
					mu.Lock()
					t.Errorf("%s live (-c %s): %s", name, ref, msg)
					mu.Unlock()
				}
			}()
		}
		group.Wait()
	}
}

// lineDiff lists the lines only one of two outputs has (as sets), at most 20 of each.
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	shown := 0
	for l, n := range count {
		if n != 0 && shown < 40 {
			side := "sysdig only:   "
			if n < 0 {
				side = "gosysdig only: "
			}
			fmt.Fprintf(&b, "%s%q\n", side, l)
			shown++
		}
	}
	return b.String()
}

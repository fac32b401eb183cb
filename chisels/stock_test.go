package chisels_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// stockCases are sysdig's own chisels, run by path, with the arguments they need.
var stockCases = []struct {
	name string
	args []string
}{
	{"topprocs_cpu", nil},
	{"topfiles_bytes", nil},
	{"fdcount_by", []string{"proc.name"}},
	{"spy_users", nil},
	{"lsof", nil},
	{"ps", nil},
	{"topscalls", nil},
	{"echo_fds", nil},
	{"netstat", nil},
	{"topconns", nil},
	{"topprocs_net", nil},
	{"topscalls_time", nil},
	{"fdbytes_by", []string{"fd.name"}},
	{"list_login_shells", nil},
	{"topprocs_file", nil},
	{"topfiles_time", nil},
	{"iobytes", nil},
	{"iobytes_file", nil},
	{"spy_file", nil},
	{"proc_exec_time", nil},
	{"topfiles_errors", nil},
	{"topprocs_errors", nil},
	{"fdtime_by", []string{"proc.name"}},
	{"topports_server", nil},
	{"iobytes_net", nil},
	{"stdout", nil},
	{"stderr", nil},
	{"bottlenecks", nil},
	{"scallslower", []string{"0"}},
	{"spy_port", []string{"22"}},
	{"lscontainers", nil},
	{"around", []string{"evt.type=open"}},
	{"lsof", []string{"proc.name=sshd"}},
	{"topcontainers_cpu", nil},
}

const stockDir = "/usr/share/sysdig/chisels"

// unavailable skips the test, or fails it under CI where everything must be present.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func gosysdig(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chisels-stock")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gosysdig")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/gosysdig").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func runTool(bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return fmt.Sprintf("%src=%d\n", out.String(), code)
}

// sameOutput compares as compat/same.py does: rows in any order, and the rows whose first column
// equals the last row's (ties at a top-N cut) by count only.
func sameOutput(want, got string) bool {
	split := func(s string) ([]string, int) {
		var data []string
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			if len(strings.Fields(l)) > 0 && !strings.HasPrefix(l, "---") {
				data = append(data, l)
			}
		}
		var firsts []string
		for _, l := range data {
			firsts = append(firsts, strings.Fields(l)[0])
		}
		last := ""
		switch {
		case len(firsts) > 1 && strings.HasPrefix(firsts[len(firsts)-1], "rc="):
			last = firsts[len(firsts)-2]
		case len(firsts) > 0:
			last = firsts[len(firsts)-1]
		}
		var keep []string
		for _, l := range data {
			if strings.Fields(l)[0] != last {
				keep = append(keep, l)
			}
		}
		sort.Strings(keep)
		return keep, len(data)
	}
	wk, wn := split(want)
	gk, gn := split(got)
	if wn != gn || len(wk) != len(gk) {
		return false
	}
	for i := range wk {
		if wk[i] != gk[i] {
			return false
		}
	}
	return true
}

// stockSetup returns sysdig, the shared captures (absolute paths) and the gosysdig binary,
// reporting what is missing as unavailable does.
func stockSetup(t *testing.T) (sysdig string, traces []string, bin string) {
	t.Helper()
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		unavailable(t, "sysdig is not installed: %v", err)
	}
	if _, err := os.Stat(stockDir); err != nil {
		unavailable(t, "sysdig's chisels are not installed: %v", err)
	}
	traces, from := testcaptures.ForComparison()
	if len(traces) == 0 {
		unavailable(t, "no captures in %s", from)
	}
	for i := range traces {
		traces[i], _ = filepath.Abs(traces[i])
	}
	return sysdig, traces, gosysdig(t)
}

// TestStockChisels runs sysdig's chisels on every shared capture and compares the output with
// sysdig 0.29.3's, ties at a top-N cut ignored.
func TestStockChisels(t *testing.T) {
	sysdig, traces, bin := stockSetup(t)
	for _, tc := range stockCases {
		tc := tc
		name := tc.name
		if len(tc.args) > 0 {
			name += "_" + strings.Join(tc.args, "_")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(stockDir, tc.name+".lua")
			for _, tr := range traces {
				args := append([]string{"-r", tr, "-c", path}, tc.args...)
				want := runTool(sysdig, args...)
				got := runTool(bin, args...)
				if !sameOutput(want, got) {
					t.Errorf("%s on %s differs from sysdig\n--- sysdig\n%s\n--- gosysdig\n%s", tc.name, filepath.Base(tr), clip(want), clip(got))
				}
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "\n..."
	}
	return s
}

// builtinCases are the project's own chisels (chisels/builtin), run by name from a folder without
// ./chisels and a HOME without .chisels, so the embedded ones are found before sysdig's; each
// must print what sysdig's chisel of the same name prints.
var builtinCases = []struct {
	name string
	args []string
}{
	{"topprocs_cpu", nil},
	{"topscalls", nil},
	{"topscalls_time", nil},
	{"topfiles_bytes", nil},
	{"topfiles_time", nil},
	{"topfiles_errors", nil},
	{"topprocs_file", nil},
	{"topprocs_net", nil},
	{"topprocs_errors", nil},
	{"topconns", nil},
	{"topports_server", nil},
	{"topcontainers_cpu", nil},
	{"topcontainers_file", nil},
	{"topcontainers_net", nil},
	{"topcontainers_error", nil},
	// sysdig lists containers, and each one's fields with desc, in Lua hash order: sameOutput
	// compares the rows as a set.
	{"lscontainers", nil},
	{"lscontainers", []string{"desc"}},
	{"lscontainers", []string{"bogus"}},
	{"fdcount_by", []string{"proc.name"}},
	{"fdcount_by", []string{"fd.l4proto"}},
	{"lsof", nil},
	{"lsof", []string{"fd.type=ipv4"}},
	{"ps", nil},
	{"netstat", nil},
	{"fdbytes_by", []string{"fd.name"}},
	{"fdbytes_by", []string{"proc.name,fd.type"}},
	{"fdtime_by", []string{"proc.name"}},
	{"iobytes", nil},
	{"iobytes_file", nil},
	{"iobytes_net", nil},
	{"stdin", nil},
	{"stdout", nil},
	{"stderr", nil},
	{"echo_fds", nil},
	{"echo_fds", []string{"disable_color"}},
	{"spy_users", nil},
	{"spy_users", []string{"1"}},
	{"spy_users", []string{"0 disable_color"}},
	{"spy_file", nil},
	{"spy_file", []string{"R /lib/x86_64-linux-gnu/libc.so.6"}},
	{"spy_file", []string{"W"}},
	{"spy_file", []string{"RW /dev/null"}},
	{"spy_ip", []string{"127.0.0.1"}},
	{"spy_port", []string{"80"}},
	{"spy_port", []string{"22 disable_colors"}},
	{"list_login_shells", nil},
	{"list_login_shells", []string{"cat"}},
	{"list_login_shells", []string{"* null"}},
	{"proc_exec_time", nil},
	{"proc_exec_time", []string{"disable_colors"}},
	{"bottlenecks", nil},
	{"scallslower", []string{"1"}},
	{"scallslower", []string{"0"}},
	{"scallslower", []string{"0 disable_color"}},
	{"fileslower", []string{"1"}},
	{"fileslower", []string{"0"}},
	{"netlower", []string{"1"}},
	{"netlower", []string{"0"}},
	{"httplog", nil},
	{"httptop", nil},
	{"httptop", []string{"bytes"}},
	{"httptop", []string{"time"}},
	{"httptop", []string{"bogus"}},
	// spectrogram draws only on a terminal: on replay to a pipe both print the refusal.
	{"spectrogram", nil},
	{"spectrogram", []string{"100"}},
	// around lists the matches; the file sysdig then writes is not compared.
	{"around", nil},
	{"around", []string{aroundFile + "_a", "evt.type=open"}},
	{"around", []string{aroundFile + "_b 10", "evt.type=read and evt.failed=false"}},
}

// aroundFile is where the around cases have sysdig save the events around the matches.
var aroundFile = filepath.Join(os.TempDir(), "gosysdig-around-test.scap")

func TestBuiltinChisels(t *testing.T) {
	sysdig, traces, bin := stockSetup(t)
	for _, tc := range builtinCases {
		tc := tc
		name := tc.name
		if len(tc.args) > 0 {
			name += "_" + strings.Join(tc.args, "_")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "around" && len(tc.args) > 0 {
				t.Cleanup(func() { os.Remove(strings.Fields(tc.args[0])[0]) })
			}
			empty := t.TempDir()
			for _, tr := range traces {
				want := runTool(sysdig, append([]string{"-r", tr, "-c", filepath.Join(stockDir, tc.name+".lua")}, tc.args...)...)
				cmd := append([]string{"-r", tr, "-c", tc.name}, tc.args...)
				got := runIn(empty, bin, cmd...)
				if !sameOutput(want, got) {
					t.Errorf("builtin %s on %s differs from sysdig's\n--- sysdig\n%s\n--- gosysdig\n%s", tc.name, filepath.Base(tr), clip(want), clip(got))
				}
			}
		})
	}
}

// runIn runs bin in dir with HOME=dir.
func runIn(dir, bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C", "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return fmt.Sprintf("%src=%d\n", out.String(), code)
}

// TestBuiltinSpectrogramTTY replays the shared captures through spectrogram on a pseudo-terminal
// (util-linux's script) of a few widths: the ANSI drawing (one line per refresh period of capture
// time) must be sysdig's, but for the colour reset sysdig itself (not the chisel) writes to a
// terminal when the capture ends.
func TestBuiltinSpectrogramTTY(t *testing.T) {
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		unavailable(t, "sysdig is not installed: %v", err)
	}
	script, err := exec.LookPath("script")
	if err != nil {
		unavailable(t, "script (util-linux) is not installed: %v", err)
	}
	traces, from := testcaptures.ForComparison()
	if len(traces) == 0 {
		unavailable(t, "no captures in %s", from)
	}
	bin, _ := filepath.Abs(gosysdig(t))
	empty := t.TempDir()
	onTTY := func(cols int, cmd string) string {
		c := exec.Command(script, "-qec", fmt.Sprintf("stty cols %d rows 40; %s", cols, cmd), "/dev/null")
		c.Dir = empty
		c.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C", "HOME="+empty)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return string(out)
	}
	for _, tr := range traces {
		tr, _ = filepath.Abs(tr)
		for _, cols := range []int{40, 137} {
			for _, arg := range []string{"", " 100"} {
				want := onTTY(cols, sysdig+" -r "+tr+" -c "+filepath.Join(stockDir, "spectrogram.lua")+arg)
				want = strings.ReplaceAll(want, "\x1b[00m", "")
				got := onTTY(cols, bin+" -r "+tr+" -c spectrogram"+arg)
				if !strings.Contains(want, "|1ns") {
					t.Fatalf("sysdig drew no spectrogram on the terminal:\n%q", clip(want))
				}
				if want != got {
					t.Errorf("spectrogram%s on %s, %d columns, differs from sysdig's\n--- sysdig\n%q\n--- gosysdig\n%q", arg, filepath.Base(tr), cols, clip(want), clip(got))
				}
			}
		}
	}
}

// TestBuiltinChiselsPc runs the table chisels with sysdig's -pc (container columns) on the shared
// captures and compares them with sysdig's stock chisels given the same flag.
func TestBuiltinChiselsPc(t *testing.T) {
	sysdig, traces, bin := stockSetup(t)
	empty := t.TempDir()
	for _, name := range []string{"topprocs_cpu", "topprocs_net", "topprocs_file", "topprocs_errors", "topscalls",
		"topscalls_time", "topfiles_time", "topfiles_errors", "topconns", "topports_server"} {
		for _, tr := range traces {
			want := runTool(sysdig, "-r", tr, "-pc", "-c", filepath.Join(stockDir, name+".lua"))
			got := runIn(empty, bin, "-r", tr, "-pc", "-c", name)
			if !strings.Contains(want, "container.name") {
				t.Fatalf("sysdig's %s -pc has no container column:\n%s", name, clip(want))
			}
			if !sameOutput(want, got) {
				t.Errorf("builtin %s -pc on %s differs from sysdig's\n--- sysdig\n%s\n--- gosysdig\n%s", name, filepath.Base(tr), clip(want), clip(got))
			}
		}
	}
	// echo_fds names the container in each header line: its output is exact.
	for _, tr := range traces {
		want := runTool(sysdig, "-r", tr, "-pc", "-c", filepath.Join(stockDir, "echo_fds.lua"))
		got := runIn(empty, bin, "-r", tr, "-pc", "-c", "echo_fds")
		if got != want {
			t.Errorf("builtin echo_fds -pc on %s differs from sysdig's\n--- sysdig\n%s\n--- gosysdig\n%s", filepath.Base(tr), clip(want), clip(got))
		}
	}
}

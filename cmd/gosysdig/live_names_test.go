package main

import (
	"fmt"
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

// TestLiveStartupNames starts 200 processes, half while gosysdig starts (between its launch
// and its ready file: before, during and after the /proc scan) and half after, each with an
// exe and command line of its own (a symlink to sh named gsdpNNN with a unique argument) that
// reads a file a few times. Every event of theirs must name the process, its exe, its command
// line and its parent (the processes are single-threaded: thread.tid is the pid): live, in the -w capture read back by gosysdig, and by sysdig 0.29.3.
func TestLiveStartupNames(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	const n = 200
	stop := filepath.Join(dir, "stop")
	// Each runs until the stop file appears (after gosysdig is ready), so that those started
	// first live through the whole start-up however long it takes on a loaded machine.
	script := `while [ ! -e "$1" ]; do read x </etc/hostname; sleep 0.25; done`
	start := func(i int) *exec.Cmd {
		link := filepath.Join(dir, fmt.Sprintf("gsdp%03d", i))
		if err := os.Symlink("/bin/sh", link); err != nil {
			t.Error(err)
			return nil
		}
		c := exec.Command(link, "-c", script, fmt.Sprintf("arg%03d", i), stop)
		if err := c.Start(); err != nil {
			t.Error(err)
			return nil
		}
		return c
	}
	format := "%thread.tid\t%proc.name\t%proc.exe\t%proc.cmdline\t%proc.pname"
	// Two tracers start together: one writes a capture, the other prints live.
	ready, ready2 := filepath.Join(dir, "ready"), filepath.Join(dir, "ready2")
	out := filepath.Join(dir, "names.scap")
	cmd := exec.Command(bin, "-v", "--ready-file", ready, "-w", out)
	cmd2 := exec.Command(bin, "-v", "--ready-file", ready2, "-p", format)
	var errb, errb2 strings.Builder
	var live strings.Builder
	cmd.Stderr, cmd2.Stderr, cmd2.Stdout = &errb, &errb2, &live
	for _, c := range []*exec.Cmd{cmd, cmd2} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		c := c
		t.Cleanup(func() {
			if c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		})
	}
	procs := make([]*exec.Cmd, n)
	// The first half starts during gosysdig's start-up, one every few milliseconds.
	inWindow := 0
	for i := 0; i < n/2; i++ {
		procs[i] = start(i)
		if _, err := os.Stat(ready); err != nil {
			inWindow++
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := os.Stat(ready)
		_, err2 := os.Stat(ready2)
		if err == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gosysdig not ready after 30s: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := n / 2; i < n; i++ {
		procs[i] = start(i)
	}
	time.Sleep(time.Second)
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range procs {
		if c != nil {
			wg.Add(1)
			go func(c *exec.Cmd) { defer wg.Done(); c.Wait() }(c)
		}
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd2.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gosysdig -w: %v\n%s", err, errb.String())
	}
	if err := cmd2.Wait(); err != nil {
		t.Fatalf("gosysdig -p: %v\n%s", err, errb2.String())
	}
	t.Logf("%d of the first %d processes started before gosysdig was ready", inWindow, n/2)
	if inWindow == 0 {
		t.Error("no process started during gosysdig's start-up: the test shows nothing")
	}
	pids := map[string]int{}
	for i, c := range procs {
		if c != nil {
			pids[strconv.Itoa(c.Process.Pid)] = i
		}
	}
	parent, _ := os.ReadFile("/proc/self/comm")
	// A process may miss its events only when the probe dropped some (two tracers on a loaded
	// machine): then it is reported, not failed.
	drops := func(stderr string) string {
		_, after, _ := strings.Cut(stderr, "Driver Drops:")
		d, _, _ := strings.Cut(after, "\n")
		return d
	}
	check := func(tool string, b []byte, dropped string) {
		events, bad := 0, 0
		seen := map[int]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Split(l, "\t")
			if len(f) != 5 {
				continue
			}
			i, ok := pids[f[0]]
			if !ok {
				continue
			}
			events++
			name := fmt.Sprintf("gsdp%03d", i)
			me := strings.TrimSpace(string(parent))
			if f[1] == me && f[4] == me {
				continue // the forked child before its execve: a copy of this test, and named so
			}
			if f[1] != name || f[2] != filepath.Join(dir, name) || !strings.HasSuffix(f[3], fmt.Sprintf(" arg%03d %s", i, stop)) ||
				!strings.HasPrefix(f[3], name+" -c ") || f[4] != strings.TrimSpace(string(parent)) {
				if bad < 5 {
					t.Errorf("%s: event of process %d not named: %q", tool, i, l)
				}
				bad++
			}
			seen[i] = true
		}
		t.Logf("%s: %d events of %d processes, %d unnamed", tool, events, len(seen), bad)
		if len(seen) != len(pids) {
			var missing []int
			for _, i := range pids {
				if !seen[i] {
					missing = append(missing, i)
				}
			}
			if dropped == "0" {
				t.Errorf("%s: events of %d processes, want %d; none of %v", tool, len(seen), len(pids), missing)
			} else {
				t.Logf("%s: the probe dropped %s events; no events of processes %v", tool, dropped, missing)
			}
		}
	}
	check("gosysdig live", []byte(live.String()), drops(errb2.String()))
	check("gosysdig -r", runTZ(t, bin, "-r", out, "-p", format), drops(errb.String()))
	if sysdig, err := exec.LookPath("sysdig"); err == nil {
		check("sysdig -r", runTZ(t, sysdig, "-r", out, "-p", format), drops(errb.String()))
	} else if os.Getenv("CI") == "true" {
		t.Fatal("sysdig is needed under CI")
	}
}

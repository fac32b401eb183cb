package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// TestNumEventsWithFilters compares -n with filters over every shared trace (the corpus's comparison set without them) with sysdig 0.29.3,
// byte for byte: -n counts the events that passed the filter, internal ones included.
func TestNumEventsWithFilters(t *testing.T) {
	if _, err := exec.LookPath("sysdig"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sysdig is required under CI")
		}
		t.Skip("sysdig not installed")
	}
	bin := buildBinary(t)
	traces := comparisonTraces(t)
	filters := [][]string{nil, {"evt.type=close"}, {"proc.name=bash"}, {"evt.dir=<"}, {"fd.type=file"},
		{"evt.type=procinfo"}, {"evt.type=container"}}
	for _, tr := range traces {
		for _, f := range filters {
			for _, n := range []string{"1", "7", "40"} {
				args := append([]string{"-r", tr, "-n", n}, f...)
				want := runTZ(t, "sysdig", args...)
				got := runTZ(t, bin, args...)
				if !bytes.Equal(got, want) {
					t.Errorf("%s %v: gosysdig differs from sysdig\n got %d bytes: %.300s\nwant %d bytes: %.300s",
						filepath.Base(tr), args[2:], len(got), got, len(want), want)
				}
			}
		}
	}
}

// TestStopAfterWithFilters: -M ends a replay as sysdig's does, in event time from the first event
// that passed the filter, alone and with -n, over every shared trace (the corpus's comparison set without them).
func TestStopAfterWithFilters(t *testing.T) {
	if _, err := exec.LookPath("sysdig"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sysdig is required under CI")
		}
		t.Skip("sysdig not installed")
	}
	bin := buildBinary(t)
	traces := comparisonTraces(t)
	if testcaptures.SharedDir() == "" {
		// The corpus's captures last under a second: -M 1 would cut none. pidns repeated with
		// shifted times lasts 3.5 s.
		traces = append(traces, bigCapture(t, filepath.Join(testcaptures.CorpusDir(), "pidns.scap"), 2_000_000))
	}
	shorter := 0 // cases where -M cut the output: the test would prove little without them
	for _, tr := range traces {
		full := runTZ(t, "sysdig", "-r", tr)
		for _, f := range [][]string{nil, {"evt.type=read"}, {"proc.name=cat"}, {"evt.dir=<"}} {
			for _, lim := range [][]string{{"-M", "1"}, {"-M", "2"}, {"-M", "1", "-n", "5"}} {
				args := append(append([]string{"-r", tr}, lim...), f...)
				want := runTZ(t, "sysdig", args...)
				got := runTZ(t, bin, args...)
				if !bytes.Equal(got, want) {
					t.Errorf("%s %v: gosysdig differs from sysdig\n got %d bytes: %.300s\nwant %d bytes: %.300s",
						filepath.Base(tr), args[2:], len(got), got, len(want), want)
				}
				if f == nil && len(lim) == 2 && len(want) < len(full) {
					shorter++
				}
			}
		}
	}
	if shorter == 0 {
		t.Error("-M shortened no trace's output: nothing was tested")
	}
}

// TestLivePipeStreams reads a live capture's pipe while it runs: the event of a cat must be in
// the file within a second, long before the capture ends.
func TestLivePipeStreams(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "f")
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command("sh", "-c", `"$0" --ready-file "$1" 'proc.name=cat and fd.name=/etc/hostname' | cat > "$2"`, bin, ready, out)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	waitFile(t, ready)
	exec.Command("cat", "/etc/hostname").Run()
	deadline := time.Now().Add(time.Second)
	for {
		b, _ := os.ReadFile(out)
		if strings.Contains(string(b), "/etc/hostname") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event in the pipe's file 1 s after cat ran: %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear in 30 s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLiveSignalWithBlockedStdout runs gosysdig with a stdout nobody reads (| sleep 60) and
// with -c topprocs_cpu | head -1: SIGINT must end it within 2 s (and a bit of slack), and a
// second SIGINT at once.
func TestLiveSignalWithBlockedStdout(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	for _, tc := range []struct {
		name   string
		args   []string
		reader string
		twice  bool
	}{
		{"sleep", nil, "sleep 60", false},
		{"sleep-twice", nil, "sleep 60", true},
		{"head-topprocs", []string{"-c", "topprocs_cpu"}, "head -1", false},
		{"head-topprocs-twice", []string{"-c", "topprocs_cpu"}, "head -1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ready := filepath.Join(dir, "ready")
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			reader := exec.Command("sh", "-c", tc.reader)
			reader.Stdin = r
			if err := reader.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Process.Kill(); reader.Wait() })
			r.Close()
			g := exec.Command(bin, append([]string{"--ready-file", ready}, tc.args...)...)
			g.Stdout = w
			var errb bytes.Buffer
			g.Stderr = &errb
			if err := g.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			t.Cleanup(func() {
				if g.ProcessState == nil {
					g.Process.Kill()
					g.Wait()
				}
			})
			waitFile(t, ready)
			// Enough events to fill the pipe when nobody reads it.
			exec.Command("sh", "-c", "for i in $(seq 2000); do cat /etc/hostname; done >/dev/null").Run()
			ended := make(chan struct{})
			go func() { g.Wait(); close(ended) }()
			start := time.Now()
			g.Process.Signal(syscall.SIGINT)
			limit := 2500 * time.Millisecond
			if tc.twice {
				time.Sleep(100 * time.Millisecond)
				g.Process.Signal(syscall.SIGINT)
				limit = 600 * time.Millisecond
			}
			select {
			case <-ended:
				t.Logf("ended %v after the first SIGINT: %v", time.Since(start), g.ProcessState)
			case <-time.After(limit):
				t.Fatalf("still running %v after SIGINT; stderr: %s", limit, errb.String())
			}
		})
	}
}

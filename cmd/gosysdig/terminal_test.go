package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs command in a detached tmux session (a real terminal) and returns a function
// that captures its screen.
func tmuxSession(t *testing.T, command string) (name string, screen func() string) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required under CI")
		}
		t.Skip("tmux not installed")
	}
	name = "gosysdig-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	exec.Command("tmux", "kill-session", "-t", name).Run()
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50", command).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", name).Run() })
	return name, func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-S", "-1000", "-t", name).Output()
		return string(out)
	}
}

func waitScreen(t *testing.T, screen func() string, within time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not on the terminal within %v; screen:\n%s", what, within, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTerminalEventWithinASecond: in a terminal, output is line-buffered, so the event of a cat
// run elsewhere shows within a second.
func TestTerminalEventWithinASecond(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	ready := filepath.Join(t.TempDir(), "ready")
	_, screen := tmuxSession(t, bin+" --ready-file "+ready+" 'proc.name=cat and fd.name=/etc/hostname'; sleep 30")
	waitFile(t, ready)
	exec.Command("cat", "/etc/hostname").Run()
	waitScreen(t, screen, time.Second, "the cat's event", func(s string) bool { return strings.Contains(s, "/etc/hostname") })
}

// TestTerminalTopprocsEveryInterval: -c topprocs_cpu prints a table every second live, and
// Ctrl-C prints the last one and ends.
func TestTerminalTopprocsEveryInterval(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	ready := filepath.Join(t.TempDir(), "ready")
	name, screen := tmuxSession(t, bin+" --ready-file "+ready+" -c topprocs_cpu; echo EXITED-$?; sleep 30")
	waitFile(t, ready)
	stopLoad := make(chan struct{})
	go func() { // CPU load and events, so that intervals pass
		for {
			select {
			case <-stopLoad:
				return
			default:
				exec.Command("sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done").Run()
			}
		}
	}()
	defer close(stopLoad)
	tables := func(s string) int { return strings.Count(s, "CPU%") }
	waitScreen(t, screen, 3500*time.Millisecond, "a first table", func(s string) bool { return tables(s) >= 1 })
	n := tables(screen())
	waitScreen(t, screen, 2500*time.Millisecond, "a further table", func(s string) bool { return tables(s) > n })
	exec.Command("tmux", "send-keys", "-t", name, "C-c").Run()
	waitScreen(t, screen, 2500*time.Millisecond, "the end after Ctrl-C", func(s string) bool { return strings.Contains(s, "EXITED-0") })
}

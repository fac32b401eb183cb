package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/procinfo"
)

// TestLiveCaptureCPU burns CPU in a shell loop with a name of its own while a live -w capture
// runs, then checks that sysdig 0.29.3's topprocs_cpu over the file gives the loop a share
// within 10 points of what /proc says it used over the same interval, and that gosysdig prints
// the same table as sysdig.
func TestLiveCaptureCPU(t *testing.T) {
	needRoot(t)
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	burner := filepath.Join(dir, "gsdburn")
	if b, err := os.ReadFile("/bin/sh"); err != nil || os.WriteFile(burner, b, 0o755) != nil {
		t.Fatalf("copying sh: %v", err)
	}
	loop := exec.Command(burner, "-c", "while :; do :; done")
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { loop.Process.Kill(); loop.Wait() }()
	pid := loop.Process.Pid
	ticks := func() uint64 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		u, s, ok := procinfo.ParseStatCPU(b)
		if !ok {
			t.Fatalf("cannot parse %q", b)
		}
		return u + s
	}
	out := filepath.Join(dir, "cpu.scap")
	var before, after uint64
	var start time.Time
	var elapsed time.Duration
	traceLive(t, bin, func() {
		// topprocs_cpu over a file reports the CPU the capture's procinfo events add up to,
		// divided by the capture's length: measure the loop's use over the whole capture, so
		// a load that changes meanwhile changes both figures alike.
		before, start = ticks(), time.Now()
		time.Sleep(4500 * time.Millisecond)
		after, elapsed = ticks(), time.Since(start)
	}, "-w", out)
	procShare := float64(after-before) / elapsed.Seconds() // ticks are 1/100 s: a percentage
	want := runTZ(t, sysdig, "-r", out, "-c", "topprocs_cpu")
	share := -1.0
	for _, l := range strings.Split(string(want), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[1] == "gsdburn" && f[2] == strconv.Itoa(pid) {
			share, _ = strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		}
	}
	if share < 0 {
		t.Fatalf("sysdig's topprocs_cpu does not list the busy loop (pid %d):\n%s", pid, want)
	}
	t.Logf("busy loop: topprocs_cpu %.2f%%, /proc %.2f%%", share, procShare)
	if d := share - procShare; d > 10 || d < -10 {
		t.Errorf("topprocs_cpu gives the loop %.2f%%, /proc %.2f%%: more than 10 points apart\n%s", share, procShare, want)
	}
	// Rows with equal shares come in no defined order in either tool: compare the rows with a
	// share of their own, in order.
	got := runTZ(t, bin, "-r", out, "-c", "topprocs_cpu")
	// The table shows the top 10: rows tied with the last one shown may be cut in either
	// tool, so that share is left out of both.
	cut := map[string]bool{lastShare(got): true, lastShare(want): true}
	if g, w := uniqueShareRows(got, cut), uniqueShareRows(want, cut); !bytes.Equal(g, w) {
		t.Errorf("gosysdig's topprocs_cpu differs from sysdig's:\n%s", firstDiff(g, w))
	}
}

// lastShare is the share of the table's last row.
func lastShare(b []byte) string {
	last := ""
	for _, l := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(l); len(f) > 0 && bytes.HasSuffix(f[0], []byte("%")) {
			last = string(f[0])
		}
	}
	return last
}

// uniqueShareRows keeps the table's rows whose share no other row has and is not in skip.
func uniqueShareRows(b []byte, skip map[string]bool) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	count := map[string]int{}
	for _, l := range lines {
		if f := bytes.Fields(l); len(f) > 0 {
			count[string(f[0])]++
		}
	}
	var out []byte
	for _, l := range lines {
		if f := bytes.Fields(l); len(f) > 0 && count[string(f[0])] == 1 && !skip[string(f[0])] {
			out = append(out, l...)
		}
	}
	return out
}

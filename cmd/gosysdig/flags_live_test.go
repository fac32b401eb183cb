package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
)

// TestLiveCaptureFlagsAgainstSysdig records a live capture of a shell running cat and head
// (the shared traces hold no clone or execve that -U acts on, and sysdig cannot rewrite them),
// then runs -U and --filter-proclist on it under sysdig 0.29.3 and gosysdig.
func TestLiveCaptureFlagsAgainstSysdig(t *testing.T) {
	needRoot(t)
	sysdig := needSysdigOrCI(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "u.scap")
	// sh, cat and head under names of their own: other tests' shells and cats (running at the
	// same time under make test) stay out of the capture.
	for _, c := range [][2]string{{"/bin/sh", "gsfsh"}, {"/bin/cat", "gsfcat"}, {"/usr/bin/head", "gsfhead"}} {
		if b, err := os.ReadFile(c[0]); err != nil || os.WriteFile(filepath.Join(dir, c[1]), b, 0o755) != nil {
			t.Fatalf("copying %s: %v", c[0], err)
		}
	}
	traceLive(t, bin, func() {
		sh(t, fmt.Sprintf("cd %s && ./gsfsh -c './gsfcat /etc/hostname >/dev/null; ./gsfhead -1 /etc/passwd >/dev/null; (./gsfcat /etc/hostname; true) >/dev/null'", dir))
	}, "-w", capFile, "proc.name in (gsfsh, gsfcat, gsfhead)")
	all, _, _ := runOne(t, bin, "-r", capFile, "-p", "%proc.name")
	if !bytes.Contains(all, []byte("gsfcat\n")) || !bytes.Contains(all, []byte("gsfhead\n")) {
		t.Fatalf("the capture has no cat or head events: the test would prove nothing")
	}

	// -U: the same events are dropped, the rest numbered the same, -v counts the same.
	t.Run("suppress-comm", func(t *testing.T) {
		for _, c := range [][]string{{"-U", "gsfcat"}, {"-U", "gsfhead", "--suppress-comm", "gsfcat"}, {"-U", "gsfsh"},
			{"-U", "gsfcat", "-p", "%evt.num %proc.name %evt.type %proc.pname", "evt.dir=<"}} {
			args := append([]string{"-r", capFile}, c...)
			want, _, _ := runOne(t, sysdig, args...)
			got, gerr, ok := runOne(t, bin, args...)
			if !ok {
				t.Fatalf("gosysdig %v: %s", args, gerr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("gosysdig %v differs from sysdig:\n%s", c, firstDiff(got, want))
			}
		}
		_, werr, _ := runOne(t, sysdig, "-r", capFile, "-U", "gsfcat", "-v", "-q")
		_, gerr, _ := runOne(t, bin, "-r", capFile, "-U", "gsfcat", "-v", "-q")
		if w, g := suppressedCount(string(werr)), suppressedCount(string(gerr)); w <= 0 || g != w {
			t.Errorf("Suppressed by Comm: gosysdig %d, sysdig %d", g, w)
		}
	})

	// --filter-proclist: the copies start with the same threads and fds.
	t.Run("filter-proclist", func(t *testing.T) {
		full, err := proclistOf(capFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, flt := range []string{"fd.num < 3", "fd.type=file", "proc.name in (bash, gsfsh, gsfcat)", "not fd.name contains /dev"} {
			ws, gs := filepath.Join(dir, "s.scap"), filepath.Join(dir, "g.scap")
			if _, e, ok := runOne(t, sysdig, "-r", capFile, "--filter-proclist", "-w", ws, flt); !ok {
				t.Fatalf("sysdig --filter-proclist %q: %s", flt, e)
			}
			if _, e, ok := runOne(t, bin, "-r", capFile, "--filter-proclist", "-w", gs, flt); !ok {
				t.Fatalf("gosysdig --filter-proclist %q: %s", flt, e)
			}
			want, err := proclistOf(ws)
			if err != nil {
				t.Fatal(err)
			}
			got, err := proclistOf(gs)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || len(want) == len(full) {
				t.Errorf("%q keeps %d of %d threads in sysdig's copy: the case proves nothing", flt, len(want), len(full))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%q: gosysdig's process table %v\nsysdig's %v", flt, got, want)
			}
		}
	})
}

// proclistOf returns a capture's process table: each thread's fd numbers, sorted.
func proclistOf(path string) (map[int64][]int64, error) {
	r, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	m := map[int64][]int64{}
	for _, th := range r.Header().Threads {
		fds := []int64{}
		for _, fd := range th.FDs {
			fds = append(fds, fd.Fd)
		}
		sort.Slice(fds, func(i, j int) bool { return fds[i] < fds[j] })
		m[th.Tid] = fds
	}
	return m, nil
}

func suppressedCount(stderr string) int {
	_, rest, ok := strings.Cut(stderr, "Suppressed by Comm:")
	if !ok {
		return -1
	}
	n, _ := strconv.Atoi(strings.Fields(rest)[0])
	return n
}

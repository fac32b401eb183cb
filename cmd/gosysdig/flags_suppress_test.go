package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSuppressCommAgainstSysdig records a live capture of a shell running cat and head, then
// replays it with -U (one comm, two comms, the parent shell's) under sysdig 0.29.3 and gosysdig:
// the same events are dropped, the rest are numbered the same, and -v counts the same
// suppressed events. (The shared traces hold no clone or execve that -U acts on.)
func TestSuppressCommAgainstSysdig(t *testing.T) {
	needRoot(t)
	sysdig := needSysdigOrCI(t)
	bin := buildBinary(t)
	capFile := filepath.Join(t.TempDir(), "u.scap")
	traceLive(t, bin, func() {
		sh(t, "sh -c 'cat /etc/hostname >/dev/null; head -1 /etc/passwd >/dev/null; (cat /etc/hostname; true) >/dev/null'")
	}, "-w", capFile, "proc.name in (sh, cat, head)")
	cases := [][]string{{"-U", "cat"}, {"-U", "head", "--suppress-comm", "cat"}, {"-U", "sh"},
		{"-U", "cat", "-p", "%evt.num %proc.name %evt.type %proc.pname", "evt.dir=<"}}
	for _, c := range cases {
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
	all, _, _ := runOne(t, bin, "-r", capFile, "-p", "%proc.name")
	if !bytes.Contains(all, []byte("cat\n")) || !bytes.Contains(all, []byte("head\n")) {
		t.Fatalf("the capture has no cat or head events: the test would prove nothing")
	}
	_, werr, _ := runOne(t, sysdig, "-r", capFile, "-U", "cat", "-v", "-q")
	_, gerr, _ := runOne(t, bin, "-r", capFile, "-U", "cat", "-v", "-q")
	w, g := suppressedCount(string(werr)), suppressedCount(string(gerr))
	if w <= 0 || g != w {
		t.Errorf("Suppressed by Comm: gosysdig %d, sysdig %d", g, w)
	}
}

func suppressedCount(stderr string) int {
	_, rest, ok := strings.Cut(stderr, "Suppressed by Comm:")
	if !ok {
		return -1
	}
	n, _ := strconv.Atoi(strings.Fields(rest)[0])
	return n
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/fields"
)

// capsScript prints, with shell builtins only (no exec after the one traced), the shell's pid
// and the CapInh, CapPrm and CapEff masks of its /proc status.
const capsScript = `while read -r k v; do case $k in CapInh:|CapPrm:|CapEff:) printf '%s ' $v;; esac; done </proc/$$/status; echo $$`

// TestLiveExecveCaps: an execve changes a process's capability sets (here setpriv drops bits
// from the bounding set, switches to nobody, or keeps one capability as ambient across the
// switch); thread.cap_* at the execve's exit show the sets /proc/PID/status gives the new
// program, live and replaying the -w capture, whose exits carry them.
func TestLiveExecveCaps(t *testing.T) {
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	// nobody must reach the shell: TempDir is 0700.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shell := filepath.Join(dir, "gsdcaps")
	if b, err := os.ReadFile("/bin/bash"); err != nil || os.WriteFile(shell, b, 0o755) != nil {
		t.Fatalf("copying bash: %v", err)
	}
	cases := [][]string{
		{"--bounding-set=-net_raw,-sys_admin"},
		{"--reuid=65534", "--regid=65534", "--clear-groups"},
		{"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+net_raw", "--ambient-caps=+net_raw"},
	}
	want := map[string]string{} // pid -> the sets by name, as the fields print them
	workload := func() {
		for _, c := range cases {
			out, err := exec.Command(setpriv, append(c, "--", shell, "-c", capsScript)...).CombinedOutput()
			if err != nil {
				t.Fatalf("setpriv %v: %v\n%s", c, err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 4 {
				t.Fatalf("setpriv %v printed %q", c, out)
			}
			var names []string
			for _, hex := range f[:3] {
				m, err := strconv.ParseUint(hex, 16, 64)
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, string(fields.AppendCaps(nil, m)))
			}
			want[f[3]] = strings.Join(names, "|")
		}
	}
	format := "*%proc.pid|%thread.cap_inheritable|%thread.cap_permitted|%thread.cap_effective"
	filter := "proc.name=gsdcaps and evt.type=execve and evt.dir=<"
	// check compares; it reports false, without failing, when an execve is missing altogether
	// (the probe dropped it: the machine is shared with other live tests), so that the run is
	// made again.
	check := func(how, out string, last bool) bool {
		t.Helper()
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if pid, sets, ok := strings.Cut(l, "|"); ok {
				got[pid] = sets
			}
		}
		for pid := range want {
			if _, ok := got[pid]; !ok && !last {
				t.Logf("%s: no execve of pid %s (dropped?): running again", how, pid)
				return false
			}
		}
		for pid, w := range want {
			if got[pid] != w {
				t.Errorf("%s: pid %s: inheritable|permitted|effective %q, /proc says %q", how, pid, got[pid], w)
			}
		}
		if len(want) != len(cases) || t.Failed() {
			t.Logf("%s output:\n%s", how, out)
		}
		return true
	}
	for try := 1; ; try++ {
		clear(want)
		if check("live", traceLive(t, bin, workload, "-p", format, filter), try == 3) {
			break
		}
	}

	capFile := filepath.Join(dir, "caps.scap")
	for try := 1; ; try++ {
		clear(want)
		traceLive(t, bin, workload, "-w", capFile, "proc.name=gsdcaps or proc.name=setpriv")
		if check("replaying -w", string(runTZ(t, bin, "-r", capFile, "-p", format, filter)), try == 3) {
			break
		}
	}
	if sysdig, err := exec.LookPath("sysdig"); err == nil {
		got, want := runTZ(t, bin, "-r", capFile), runTZ(t, sysdig, "-r", capFile)
		if string(got) != string(want) {
			t.Errorf("gosysdig and sysdig 0.29.3 read the capture differently:\n%s", firstDiff(got, want))
		}
	}
}

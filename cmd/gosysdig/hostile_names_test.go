package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// hostileNames are file names a local user can create: invalid UTF-8 of every kind jsoncpp
// decodes differently, a newline, and an ANSI escape forging a "Critical" line.
var hostileNames = []string{
	"a\xffb", "caf\xc3\xa9", "c\x80d", "e\xc3", "f\xe2\x82", "g\xf0\x9f\x98\x80", "h\xf8\xf9",
	"i\xc3x", "j\xed\xa0\x80", "k\xf7\xbf\xbf\xbf", "l\x7f\x01", "n\nl", "x\x1b[31mCritical fake alert",
}

// TestHostileNamesLiveAndReplay opens files with hostile names under a live trace: live -j lines
// and live text lines must be valid one-line output; the -w capture replayed with -j and as text
// must be byte-identical to sysdig 0.29.3 reading the same capture.
func TestHostileNamesLiveAndReplay(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	files := filepath.Join(dir, "names")
	os.Mkdir(files, 0o755)
	var paths []string
	for _, n := range hostileNames {
		p := filepath.Join(files, n)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// The files are read by a copy of cat with a name of its own: other tests' cat processes
	// (whose parents come and go while this capture starts) stay out of the comparison.
	reader := filepath.Join(dir, "gsdhostcat")
	if b, err := os.ReadFile("/bin/cat"); err != nil || os.WriteFile(reader, b, 0o755) != nil {
		t.Fatalf("copying cat: %v", err)
	}
	filter := "evt.type in (openat, execve) and proc.name=gsdhostcat and (fd.name contains " + filepath.Base(dir) + " or evt.type=execve)"
	capFile := filepath.Join(dir, "hostile.scap")
	workload := func() {
		if out, err := exec.Command(reader, paths...).CombinedOutput(); err != nil {
			t.Fatalf("cat: %v %s", err, out)
		}
	}
	runLive := func(args ...string) string {
		cmd, out, errb := startTraced(t, bin, filepath.Join(t.TempDir(), "ready"), args...)
		workload()
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("gosysdig %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	checkJSON := func(what, out string, min int) {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < min {
			t.Errorf("%s: %d lines, want at least %d", what, len(lines), min)
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) || !utf8.ValidString(l) {
				t.Errorf("%s: invalid JSON line %q", what, l)
			}
		}
	}
	checkText := func(what, out string, min int) {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < min {
			t.Errorf("%s: %d lines, want at least %d", what, len(lines), min)
		}
		for _, l := range lines {
			// Every event line starts with its number; a forged or broken line does not.
			if l == "" || l[0] < '0' || l[0] > '9' || strings.ContainsAny(l, "\x1b\r") {
				t.Errorf("%s: line %q is not a whole event line", what, l)
			}
		}
	}
	n := len(hostileNames)
	checkJSON("live -j", runLive("-j", filter), n)
	checkText("live text", runLive(filter), n)
	runLive("-w", capFile, "proc.name=gsdhostcat")

	replay := func(prog string, args ...string) []byte {
		cmd := exec.Command(prog, append([]string{"-r", capFile}, args...)...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", prog, args, err)
		}
		return out
	}
	jsonArgs := []string{"-j", "-p", "%fd.name %evt.arg.name %proc.args %proc.name %evt.info", filter}
	ours, oursText := replay(bin, jsonArgs...), replay(bin, filter)
	checkJSON("replay -j", string(ours), n)
	checkText("replay text", string(oursText), n)
	// Alerts naming the files: JSON alerts valid, text alerts one line each.
	rulesFile := filepath.Join(dir, "hostile.yaml")
	os.WriteFile(rulesFile, []byte(`- rule: hostile open
  desc: a file with a hostile name opened
  condition: evt.type=openat and evt.dir=< and fd.name contains names/
  output: "Opened %fd.name by %proc.cmdline (%evt.arg.name)"
  priority: WARNING
`), 0o600)
	alerts := func(args ...string) string {
		out, errs, code := runBin(t, bin, append([]string{"rules", "-R", rulesFile, "-r", capFile}, args...)...)
		if code != 0 {
			t.Fatalf("rules %v: exit %d: %s", args, code, errs)
		}
		return out
	}
	checkJSON("alerts -j", alerts("-j"), n)
	for _, l := range strings.Split(strings.TrimSuffix(alerts(), "\n"), "\n") {
		if !strings.Contains(l, "Warning Opened ") || strings.ContainsAny(l, "\x1b\r") {
			t.Errorf("text alert line %q is not one whole alert", l)
		}
	}
	// sysdig prints process arguments raw (here a newline and an escape); ours stay one line
	// per event, the same events as -j.
	argsText := replay(bin, "-p", "%evt.num %proc.args %proc.cmdline %fd.name", filter)
	checkText("replay -p proc.args", string(argsText), n)
	if got, want := bytes.Count(argsText, []byte("\n")), bytes.Count(ours, []byte("\n")); got != want {
		t.Errorf("-p proc.args: %d lines for %d events", got, want)
	}
	if !bytes.Contains(argsText, []byte("names/n.l ")) || !bytes.Contains(argsText, []byte("names/x.[31mCritical")) {
		t.Errorf("-p proc.args: controls not shown as '.': %q", argsText)
	}
	if _, err := exec.LookPath("sysdig"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sysdig 0.29.3 is required under CI")
		}
		t.Skip("sysdig not installed: skipping the byte comparison")
	}
	if want := replay("sysdig", jsonArgs...); !bytes.Equal(ours, want) {
		t.Errorf("-j differs from sysdig:\n ours %q\n want %q", ours, want)
	}
	if want := replay("sysdig", filter); !bytes.Equal(oursText, want) {
		t.Errorf("text differs from sysdig:\n ours %q\n want %q", oursText, want)
	}
}

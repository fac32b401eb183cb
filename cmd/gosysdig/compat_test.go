package main

import (
	"github.com/gosysdig/gosysdig/internal/testcaptures"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir locates ../shared (beside the repository), the reference traces and sysdig 0.29.3's
// goldens. Outside CI a missing folder skips; under CI it fails.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := testcaptures.SharedDir()
	var err error
	if d != "" {
		if _, err = os.Stat(filepath.Join(d, "compat", "check.sh")); err == nil {
			return d
		}
	} else {
		err = os.ErrNotExist
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("../shared is required under CI: %v", err)
	}
	t.Skipf("../shared not found (%v): the shared traces' goldens and check.sh are an extra check there (TestCompatCorpus compares testdata/corpus)", err)
	return ""
}

// sharedOr returns ../shared/traces/shared when ../shared is there, and otherwise the corpus
// capture corpus (testdata/corpus): for tests whose point holds on any capture with what they
// need (a read of a file, an execve...), which a fresh clone runs on the corpus.
func sharedOr(shared, corpus string) string {
	if d := testcaptures.SharedDir(); d != "" {
		return filepath.Join(d, "traces", shared)
	}
	return filepath.Join(testcaptures.CorpusDir(), corpus)
}

// comparisonTraces returns the captures a comparison with sysdig runs over: the shared traces,
// or the corpus's comparison set (testcaptures.ForComparison).
func comparisonTraces(t *testing.T) []string {
	t.Helper()
	traces, from := testcaptures.ForComparison()
	if len(traces) == 0 {
		t.Fatalf("no captures in %s", from)
	}
	return traces
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gosysdig")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCompatNonChisel runs the shared compatibility script over every trace and every
// non-chisel case: each output must be byte-identical to sysdig 0.29.3's.
func TestCompatNonChisel(t *testing.T) {
	shared := sharedDir(t)
	bin := buildBinary(t)
	cmd := exec.Command(filepath.Join(shared, "compat", "check.sh"), filepath.Join(shared, "traces"),
		filepath.Join(shared, "golden"), bin, "^([^c]|c[^_])", "100")
	cmd.Env = append(os.Environ(), "VERBOSE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("compatibility check failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "(100%)") {
		t.Fatalf("not every case is identical:\n%s", out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}

// TestBadFilterExits checks that a malformed filter is reported with its column and a
// non-zero exit, and an unknown field is named.
func TestBadFilterExits(t *testing.T) {
	bin := buildBinary(t)
	trace := filepath.Join(testcaptures.CorpusDir(), "rwvariants.scap")
	for _, tc := range []struct{ filter, want string }{
		{"proc.name = and evt.type=open", "column"},
		{"proc.nme=bash", "unknown field"},
		{"fd.num > abc", "abc is not a valid number"},
		{"(proc.name=bash", "column"},
	} {
		out, err := exec.Command(bin, "-r", trace, tc.filter).CombinedOutput()
		if err == nil {
			t.Errorf("%q: exit 0, want an error", tc.filter)
			continue
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%q: error %q does not mention %q", tc.filter, out, tc.want)
		}
	}
}

// TestMissingCapture checks the error for a capture that does not exist.
func TestMissingCapture(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "-r", filepath.Join(t.TempDir(), "nope.scap")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no such file") {
		t.Fatalf("want a clear error and non-zero exit, got %v: %s", err, out)
	}
}

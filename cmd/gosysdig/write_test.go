package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/internal/difffuzz"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// needSysdig returns the sysdig binary, skipping (or failing under CI) when it is missing.
func needSysdig(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sysdig")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sysdig is required under CI: %v", err)
		}
		t.Skipf("sysdig not installed: %v", err)
	}
	return p
}

// sysdigAndTraces returns sysdig, gosysdig built for the test and the captures to compare
// over: the shared traces, or without ../shared the corpus's (internal/testcaptures).
func sysdigAndTraces(t *testing.T) (sysdig, bin string, traces []string) {
	t.Helper()
	sysdig = needSysdig(t)
	bin = buildBinary(t)
	traces, from := testcaptures.ForComparison()
	if len(traces) == 0 {
		t.Fatalf("no captures in %s", from)
	}
	return sysdig, bin, traces
}

// TestWriteReadBack rewrites every shared trace with -w (plain and -z), then checks that
// sysdig 0.29.3 and gosysdig both print from the copy exactly what sysdig prints from the
// original, and that every compatibility case still holds on the copies.
func TestWriteReadBack(t *testing.T) {
	sysdig, bin, traces := sysdigAndTraces(t)
	shared := testcaptures.SharedDir() // the compat cases need its goldens
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		for _, tr := range traces {
			out := filepath.Join(dir, filepath.Base(tr))
			args := []string{"-r", tr, "-w", out}
			if compress {
				args = append(args, "-z")
			}
			if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, b)
			}
			fi, err := os.Stat(out)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v, err %v; want 0600", out, fi.Mode(), err)
			}
			want := runTZ(t, sysdig, "-r", tr)
			if got := runTZ(t, sysdig, "-r", out); !bytes.Equal(got, want) {
				t.Errorf("%s (compress=%v): sysdig reads the copy differently:\n%s", tr, compress, firstDiff(got, want))
			}
			if got := runTZ(t, bin, "-r", out); !bytes.Equal(got, want) {
				t.Errorf("%s (compress=%v): gosysdig reads the copy differently:\n%s", tr, compress, firstDiff(got, want))
			}
		}
		if shared == "" {
			continue
		}
		cmd := exec.Command(filepath.Join(shared, "compat", "check.sh"), dir, filepath.Join(shared, "golden"), bin, "^([^c]|c[^_])", "100")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("compat cases on rewritten captures (compress=%v): %v\n%s", compress, err, b)
		}
	}
}

// TestWriteFiltered checks that a filtered -F (fatfile) capture keeps only the matching events
// visible while still resolving fd names and process names through the hidden state-changing
// events.
func TestWriteFiltered(t *testing.T) {
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	tr := sharedOr("cat_write.scap", "rwvariants.scap")
	out := filepath.Join(t.TempDir(), "f.scap")
	if b, err := exec.Command(bin, "-r", tr, "-F", "-w", out, "evt.type=read").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// Event numbers restart in the copy, which holds fewer events; the rest must be equal.
	want := dropFirstColumn(runTZ(t, sysdig, "-r", tr, "evt.type=read"))
	if len(want) == 0 {
		t.Fatal("the filter selects nothing: the test would prove nothing")
	}
	sys := runTZ(t, sysdig, "-r", out)
	if got := dropFirstColumn(sys); !bytes.Equal(got, want) {
		t.Errorf("sysdig on the filtered copy:\n%s", firstDiff(got, want))
	}
	if got := runTZ(t, bin, "-r", out); !bytes.Equal(got, sys) {
		t.Errorf("gosysdig and sysdig read the filtered copy differently:\n%s", firstDiff(got, sys))
	}
}

// TestWriteFilteredAsSysdig writes filtered copies of every shared trace with and without -F and
// checks them against sinsp's get_dump_flags (sysdig 0.29.3's own -r ... -w copies cannot be
// compared: it writes their interface lists corrupted and cannot read them back): the visible
// events are those sysdig shows for the filter on the original; without -F nothing else but
// internal events; with -F also the state-changing events the filter dropped, hidden.
func TestWriteFilteredAsSysdig(t *testing.T) {
	sysdig, bin, traces := sysdigAndTraces(t)
	dir := t.TempDir()
	// hidden counts a copy's state-only events, failing on any that does not change state.
	hidden := func(path string) (n int) {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var ev event.Event
		for {
			err := r.Next(&ev)
			if errors.Is(err, io.EOF) {
				return n
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if ev.DumpFlags&capture.DumpStateOnly != 0 {
				n++
				if ev.Info.Flags&event.EFModifiesState == 0 {
					t.Errorf("%s: hidden %s event, which changes no state", path, ev.Info.Name)
				}
			}
		}
	}
	format := []string{"-p", "%evt.type %evt.dir %thread.tid %evt.rawtime"}
	for _, tr := range traces {
		base := filepath.Base(tr)
		for _, flt := range []string{"evt.type=read", "proc.name=cat and evt.type in (open, openat, close)"} {
			want := runTZ(t, sysdig, append(append([]string{"-r", tr}, format...), flt)...)
			for _, fat := range []bool{false, true} {
				out := filepath.Join(dir, "g.scap")
				args := []string{"-r", tr, "-w", out, flt}
				if fat {
					args = append([]string{"-F"}, args...)
				}
				if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("%s %v: %v\n%s", base, args, err, b)
				}
				if got := runTZ(t, sysdig, append([]string{"-r", out}, format...)...); !bytes.Equal(got, want) {
					t.Errorf("%s -F=%v %q: visible events differ:\n%s", base, fat, flt, firstDiff(got, want))
				}
				if n := hidden(out); fat != (n > 0) && len(want) > 0 {
					t.Errorf("%s -F=%v %q: %d hidden state events", base, fat, flt, n)
				}
			}
		}
	}
}

// TestWriteUnwritable checks the error for a path that cannot be created.
func TestWriteUnwritable(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "-r", sharedOr("cat_write.scap", "rwvariants.scap"), "-w", "/nonexistent/dir/x.scap").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot write capture") {
		t.Fatalf("want a clear error and non-zero exit, got %v: %s", err, out)
	}
}

func runTZ(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return stdout.Bytes()
}

func firstDiff(got, want []byte) string {
	i, a, b, ok := diffLine(got, want)
	if !ok {
		return "(lengths differ)"
	}
	return "line " + fmtInt(i) + ":\n got:  " + a + "\n want: " + b
}

// diffLine finds the first line (1-based) where got and want differ, and the two lines.
func diffLine(got, want []byte) (n int, g, w string, ok bool) {
	n, g, w = difffuzz.FirstDiff(got, want)
	return n, g, w, n != 0
}

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

func dropFirstColumn(b []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if i := bytes.IndexByte(line, ' '); i >= 0 {
			line = line[i+1:]
		}
		out = append(out, line...)
	}
	return out
}

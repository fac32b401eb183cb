package fields_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// comparison is one capture of TestFieldsMatchSysdig and the modes it is compared in.
type comparison struct {
	path   string
	from   string // "shared" or "corpus", the subtest's prefix
	filter bool   // also compare every field's "exists" filter, one sysdig run per field
}

// comparisons returns the captures TestFieldsMatchSysdig runs over. Every capture has every field
// printed ("p" mode), which costs two runs per capture (all fields in one format; a difference is
// narrowed down by halves). The "exists" filter ("f" mode) takes one run of each tool per field
// and capture (~15 s of CPU a capture), so it covers the shared traces when they are there and
// the corpus's comparison set otherwise: the package stays within ~3 minutes of go test either
// way on this 2-core machine.
func comparisons(t *testing.T) []comparison {
	t.Helper()
	var cs []comparison
	shared := testcaptures.Shared()
	for _, p := range shared {
		cs = append(cs, comparison{p, "shared", true})
	}
	filterSet := map[string]bool{}
	if len(shared) == 0 {
		set, _ := testcaptures.ForComparison()
		for _, p := range set {
			filterSet[p] = true
		}
	}
	corpus, _ := filepath.Glob(filepath.Join(testcaptures.CorpusDir(), "*.scap"))
	for _, p := range corpus {
		cs = append(cs, comparison{p, "corpus", filterSet[p]})
	}
	if len(cs) == 0 {
		skipOrFail(t, "no capture found (../shared/traces, testdata/corpus)")
	}
	return cs
}

// TestFieldsMatchSysdig prints every field sysdig lists in the evt, process, thread, user, group,
// container and fd classes, and uses it in an "exists" filter, on the shared traces and the
// corpus captures (see comparisons), with both sysdig and gosysdig: outputs must be byte-identical
// except for the known differences (fields_test.go). Each capture is a subtest
// (-run 'TestFieldsMatchSysdig/corpus/threads').
func TestFieldsMatchSysdig(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the sysdig field comparison")
	}
	names := sysdigFields(t)
	cs := comparisons(t)
	bin := filepath.Join(t.TempDir(), "gosysdig")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gosysdig").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var printed []string
	for _, f := range names {
		if !differs(f, "p") {
			printed = append(printed, f)
		}
	}
	for _, c := range cs {
		c := c
		base := strings.TrimSuffix(filepath.Base(c.path), ".scap")
		t.Run(c.from+"/"+base, func(t *testing.T) {
			t.Parallel()
			fs := printed
			if ex := neutralised[base]; c.from == "corpus" && len(ex) > 0 {
				fs = nil
				for _, f := range printed {
					if !slices.Contains(ex, f) {
						fs = append(fs, f)
					}
				}
			}
			var alone []string
			if al := printedAlone[base]; c.from == "corpus" && len(al) > 0 {
				kept := fs[:0:0]
				for _, f := range fs {
					if slices.Contains(al, f) {
						alone = append(alone, f)
					} else {
						kept = append(kept, f)
					}
				}
				fs = kept
			}
			same, diff := 0, 0
			for _, d := range comparePrinted(bin, c.path, fs) {
				diff++
				t.Errorf("%s (p): output differs from sysdig's\n%s", d.fields, d.where)
			}
			for _, f := range alone {
				for _, d := range comparePrinted(bin, c.path, []string{f}) {
					diff++
					t.Errorf("%s (p, alone): output differs from sysdig's\n%s", d.fields, d.where)
				}
			}
			fs = append(fs, alone...)
			same = len(fs) - diff
			if !c.filter {
				t.Logf("%d fields printed as sysdig prints them, %d differ", same, diff)
				return
			}
			for _, f := range names {
				if differs(f, "f") {
					continue
				}
				args := []string{"-r", c.path, "-p", "%evt.num", f + " exists"}
				want, got := run("sysdig", args...), run(bin, args...)
				if bytes.Equal(want, got) {
					same++
					continue
				}
				diff++
				t.Errorf("%s (f): output differs from sysdig's\n%s", f, firstDifference(want, got))
			}
			t.Logf("%d field x mode combinations identical to sysdig, %d differ", same, diff)
		})
	}
}

// printDiff is a set of fields whose printed output differs from sysdig's: one field, or a group
// none of whose fields differs alone.
type printDiff struct{ fields, where string }

// comparePrinted prints fs in one format with both tools and, when the outputs differ, narrows
// the difference down by halves to the fields that differ alone: a handful of runs per differing
// field instead of two per field.
func comparePrinted(bin, trace string, fs []string) []printDiff {
	var b strings.Builder
	b.WriteString("*%evt.num")
	for _, f := range fs {
		b.WriteString(" |%" + f)
	}
	args := []string{"-r", trace, "-p", b.String()}
	want, got := run("sysdig", args...), run(bin, args...)
	if bytes.Equal(want, got) {
		return nil
	}
	if len(fs) > 1 {
		h := len(fs) / 2
		ds := append(comparePrinted(bin, trace, fs[:h]), comparePrinted(bin, trace, fs[h:])...)
		if len(ds) > 0 {
			return ds
		}
	}
	return []printDiff{{strings.Join(fs, ","), firstDifference(want, got)}}
}

// firstDifference shows the first line where two outputs differ, and how many lines differ.
func firstDifference(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	first, n := -1, 0
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	line := func(ls [][]byte) string {
		if first >= len(ls) {
			return "(none)"
		}
		return head(ls[first])
	}
	return fmt.Sprintf("%d lines differ; first, line %d:\nsysdig:   %s\ngosysdig: %s", n, first+1, line(wl), line(gl))
}

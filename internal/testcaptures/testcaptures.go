// Package testcaptures finds the captures the comparison tests run over: the shared reference
// traces (../shared/traces, beside the repository) when they are there, and otherwise the
// project's own corpus (testdata/corpus), so that a fresh clone runs the comparisons too. From
// the corpus it takes the captures with no known difference from sysdig 0.29.3
// (testdata/corpus/known_diffs.tsv): tests that compare every field or every chisel hold on
// those; TestCompatCorpus covers the others, difference by difference.
package testcaptures

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir is ../shared beside the repository ("" when it is not there, or when
// GOSYSDIG_NO_SHARED=1 asks the tests to run as on a fresh clone without it).
func SharedDir() string {
	if os.Getenv("GOSYSDIG_NO_SHARED") == "1" {
		return ""
	}
	d := filepath.Join(Root(), "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "traces")); err != nil {
		return ""
	}
	return d
}

// SharedOrCorpusOnly is SharedDir for a test whose shared traces are an extra check: without
// them it logs "../shared/traces absent: " and what the test does instead, and returns ""; under
// CI, where ../shared is always beside the clone, their absence fails the test.
func SharedOrCorpusOnly(t testing.TB, instead string) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("../shared/traces is required under CI")
		}
		t.Log("../shared/traces absent: " + instead)
	}
	return d
}

// Shared returns the shared traces, or nil.
func Shared() []string {
	d := SharedDir()
	if d == "" {
		return nil
	}
	ts, _ := filepath.Glob(filepath.Join(d, "traces", "*.scap"))
	return ts
}

// CorpusDir is testdata/corpus.
func CorpusDir() string { return filepath.Join(Root(), "testdata", "corpus") }

// Corpus returns the corpus captures with no known difference from sysdig 0.29.3.
func Corpus() []string {
	all, _ := filepath.Glob(filepath.Join(CorpusDir(), "*.scap"))
	known := map[string]bool{}
	if f, err := os.Open(filepath.Join(CorpusDir(), "known_diffs.tsv")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := sc.Text()
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			name, _, _ := strings.Cut(l, "__")
			known[name] = true
		}
		f.Close()
	}
	var out []string
	for _, p := range all {
		if !known[strings.TrimSuffix(filepath.Base(p), ".scap")] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// comparisonSet is the corpus captures the comparisons take without ../shared: six, as many as
// the shared traces (the chisel comparisons run every chisel on each, and must stay within go
// test's ten minutes), of varied activity: processes and shells, threads, files read and
// written every way, pipes, signals, socket pairs.
var comparisonSet = []string{"shell_chain", "threads", "rwvariants", "pipes", "signals", "socketpair"}

// ForComparison returns the shared traces when present, else comparisonSet of the corpus
// (those of it with no known difference), and which it is ("../shared/traces" or
// "testdata/corpus").
func ForComparison() ([]string, string) {
	if ts := Shared(); len(ts) > 0 {
		return ts, "../shared/traces"
	}
	clean := map[string]bool{}
	for _, p := range Corpus() {
		clean[strings.TrimSuffix(filepath.Base(p), ".scap")] = true
	}
	var out []string
	for _, n := range comparisonSet {
		if clean[n] {
			out = append(out, filepath.Join(CorpusDir(), n+".scap"))
		}
	}
	return out, "testdata/corpus"
}

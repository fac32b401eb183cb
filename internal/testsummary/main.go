// Command testsummary reads `go test -json` (standard input, or the files named) and prints what
// a plain `go test` run prints (each package's ok/FAIL line, the output of failed tests, build
// errors), then one summary: "N run, M passed, K skipped, F failed" over the top-level tests,
// each skip reason with the tests it covers, and the failed tests. make test pipes its runs
// through it, so that a fresh clone's log says how much of the suite ran and why the rest did
// not. It always exits 0 on readable input: the caller keeps go test's exit status.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Output     string
}

type key struct{ pkg, test string }

// line is one line of a test's output and the (sub)test that printed it.
type line struct{ test, text string }

// top is the top-level test of a test or subtest.
func top(k key) key {
	name, _, _ := strings.Cut(k.test, "/")
	return key{k.pkg, name}
}

// summary accumulates the results of one or more go test -json streams.
type summary struct {
	out      io.Writer
	logs     map[key][]line // output of top-level tests still running, their subtests' within
	result   map[key]string // pass, fail or skip of each finished test
	order    []key          // tests in the order they finished
	reason   map[key]string // skip reasons
	buildErr []string       // packages that did not build
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, logs: map[key][]line{}, result: map[key]string{}, reason: map[key]string{}}
}

// logLine matches a t.Log/t.Skip line as go test prints it: "    file_test.go:12: text".
var logLine = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)

func (s *summary) add(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
		return
	case "build-fail":
		s.buildErr = append(s.buildErr, e.ImportPath)
		return
	}
	if e.Test == "" {
		// Package lines: ok, FAIL, "no test files", panics outside a test. The verbose
		// framing that -json implies is left out, as plain go test leaves it out.
		if e.Action == "output" && !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" {
			fmt.Fprint(s.out, e.Output)
		}
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "output":
		s.logs[top(k)] = append(s.logs[top(k)], line{e.Test, e.Output})
	case "pass", "fail", "skip":
		s.result[k] = e.Action
		s.order = append(s.order, k)
		if e.Action == "skip" {
			s.reason[k] = skipReason(s.logs[top(k)], e.Test)
		}
		if top(k) != k {
			return
		}
		if e.Action == "fail" {
			// A failed test's output, its subtests' included, as go test prints it.
			for _, l := range s.logs[k] {
				fmt.Fprint(s.out, l.text)
			}
		}
		delete(s.logs, k)
	}
}

// skipReason is the last log line of the skipped test: the message t.Skip printed.
func skipReason(lines []line, test string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].test != test {
			continue
		}
		if m := logLine.FindStringSubmatch(strings.TrimRight(lines[i].text, "\n")); m != nil {
			return m[1]
		}
	}
	return "(no message)"
}

// report prints the summary: the counts over top-level tests, then the skip reasons (subtests'
// too) with the tests they cover, then the failures.
func (s *summary) report() {
	var run, pass, skip, fail, subSkip int
	byReason := map[string][]string{}
	var failed []string
	for _, k := range s.order {
		top := !strings.Contains(k.test, "/")
		r := s.result[k]
		if top {
			run++
			switch r {
			case "pass":
				pass++
			case "skip":
				skip++
			case "fail":
				fail++
			}
		} else if r == "skip" {
			subSkip++
		}
		name := shortPkg(k.pkg) + "." + k.test
		switch r {
		case "skip":
			byReason[s.reason[k]] = append(byReason[s.reason[k]], name)
		case "fail":
			failed = append(failed, name)
		}
	}
	fmt.Fprintf(s.out, "\ntests: %d run, %d passed, %d skipped, %d failed", run, pass, skip, fail)
	if subSkip > 0 {
		fmt.Fprintf(s.out, " (and %d subtests skipped)", subSkip)
	}
	if len(s.buildErr) > 0 {
		fmt.Fprintf(s.out, "; %d packages did not build: %s", len(s.buildErr), strings.Join(s.buildErr, " "))
	}
	fmt.Fprintln(s.out)
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if len(byReason[reasons[i]]) != len(byReason[reasons[j]]) {
			return len(byReason[reasons[i]]) > len(byReason[reasons[j]])
		}
		return reasons[i] < reasons[j]
	})
	for _, r := range reasons {
		fmt.Fprintf(s.out, "skipped %d: %s\n    %s\n", len(byReason[r]), r, strings.Join(byReason[r], " "))
	}
	for _, f := range failed {
		fmt.Fprintf(s.out, "FAILED: %s\n", f)
	}
}

// shortPkg drops the module path from a package path.
func shortPkg(p string) string {
	if rest, ok := strings.CutPrefix(p, "github.com/gosysdig/gosysdig/"); ok {
		return rest
	}
	if p == "github.com/gosysdig/gosysdig" {
		return "."
	}
	return p
}

// read feeds one go test -json stream to s; lines that are not JSON (go vet's, or a
// build's outside -json) are printed as they are.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func main() {
	s := newSummary(os.Stdout)
	if len(os.Args) == 1 {
		if err := s.read(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
	}
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err == nil {
			err = s.read(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
	}
	s.report()
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is go test -json as go 1.26 writes it for a package with a passing test, a test skipped
// with a message, a failing test whose subtest failed, a parent passing with a skipped subtest,
// and a package that did not build.
const stream = `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestOK"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"m/a","Test":"TestOK","Output":"    a_test.go:5: fine\n"}
{"Action":"pass","Package":"m/a","Test":"TestOK"}
{"Action":"run","Package":"m/a","Test":"TestRoot"}
{"Action":"output","Package":"m/a","Test":"TestRoot","Output":"    a_test.go:9: a log line first\n"}
{"Action":"output","Package":"m/a","Test":"TestRoot","Output":"    a_test.go:10: needs root\n"}
{"Action":"output","Package":"m/a","Test":"TestRoot","Output":"--- SKIP: TestRoot (0.00s)\n"}
{"Action":"skip","Package":"m/a","Test":"TestRoot"}
{"Action":"run","Package":"m/a","Test":"TestBad"}
{"Action":"run","Package":"m/a","Test":"TestBad/x"}
{"Action":"output","Package":"m/a","Test":"TestBad/x","Output":"    a_test.go:20: got 1, want 2\n"}
{"Action":"fail","Package":"m/a","Test":"TestBad/x"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"m/a","Test":"TestBad"}
{"Action":"run","Package":"m/a","Test":"TestSub"}
{"Action":"output","Package":"m/a","Test":"TestSub/y","Output":"    a_test.go:30: needs root\n"}
{"Action":"skip","Package":"m/a","Test":"TestSub/y"}
{"Action":"pass","Package":"m/a","Test":"TestSub"}
{"Action":"output","Package":"m/a","Output":"PASS\n"}
{"Action":"output","Package":"m/a","Output":"FAIL\tm/a\t0.01s\n"}
{"Action":"fail","Package":"m/a"}
{"ImportPath":"m/b","Action":"build-output","Output":"b/b.go:3:1: syntax error\n"}
{"ImportPath":"m/b","Action":"build-fail"}
not json: go vet's line
`

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	s.report()
	got := out.String()
	for _, want := range []string{
		"got 1, want 2\n--- FAIL: TestBad", // the failed test's output, its subtest's first
		"FAIL\tm/a\t0.01s\n",               // the package line
		"b/b.go:3:1: syntax error\n",       // the build error
		"not json: go vet's line\n",        // other lines as they are
		"tests: 4 run, 2 passed, 1 skipped, 1 failed (and 1 subtests skipped); 1 packages did not build: m/b\n",
		"skipped 2: needs root\n    m/a.TestRoot m/a.TestSub/y\n",
		"FAILED: m/a.TestBad/x\nFAILED: m/a.TestBad\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"fine", "a log line first", "=== RUN", "PASS\n"} {
		if strings.Contains(got, not) {
			t.Errorf("output has %q (a passing or skipped test's log, or -json's verbose framing):\n%s", not, got)
		}
	}
}

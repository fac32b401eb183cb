package filter

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLargeFiltersCompile: no term-count limit. Long and/or chains, long value lists and
// deep "not" runs compile; compile time and heap allocated are measured and bounded.
func TestLargeFiltersCompile(t *testing.T) {
	var terms []string
	for i := 0; i < 1000; i++ {
		terms = append(terms, "proc.pid="+strconv.Itoa(i))
	}
	var vals []string
	for i := 0; i < 5000; i++ {
		vals = append(vals, strconv.Itoa(i))
	}
	cases := map[string]string{
		"1000-term or":         strings.Join(terms, " or "),
		"1000-term and":        strings.Join(terms, " and "),
		"5000-value in":        "proc.pid in (" + strings.Join(vals, ",") + ")",
		"499 nots":             strings.Repeat("not ", 499) + "proc.pid=1",
		"499 nested brackets":  strings.Repeat("(", 499) + "proc.pid=1" + strings.Repeat(")", 499),
		"1000 terms in groups": "(" + strings.Join(terms[:500], " or ") + ") and not (" + strings.Join(terms[500:], " or ") + ")",
	}
	for name, src := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		if _, err := Compile(src); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d bytes of text, compiled in %v, %d KiB allocated", name, len(src), took, alloc/1024)
		if took > 2*time.Second || alloc > 64<<20 {
			t.Errorf("%s: compile took %v and %d bytes", name, took, alloc)
		}
	}
}

// TestNestingLimitMessage: the one depth limit names the depth it enforces.
func TestNestingLimitMessage(t *testing.T) {
	_, err := Compile(strings.Repeat("not ", maxNesting+1) + "proc.pid=1")
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(maxNesting)) {
		t.Fatalf("501 nots: %v", err)
	}
	_, err = Compile(strings.Repeat("(", maxNesting+1) + "proc.pid=1" + strings.Repeat(")", maxNesting+1))
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(maxNesting)) {
		t.Fatalf("501 brackets: %v", err)
	}
}

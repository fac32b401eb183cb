package rules

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// listBomb is 20 nested lists, each holding the previous one twice: 2^20 (about 10^6) items
// once expanded without sharing.
func listBomb() string {
	var b strings.Builder
	b.WriteString("- list: l0\n  items: [x, y]\n")
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&b, "- list: l%d\n  items: [l%d, l%d]\n", i, i-1, i-1)
	}
	b.WriteString("- rule: r\n  desc: d\n  condition: evt.type=open and proc.name in (l19)\n  output: o\n  priority: INFO\n")
	return b.String()
}

// macroChain is m_i: (m_{i-1} or m_{i-1}), levels deep, used by a rule: 2^levels comparisons
// once expanded without sharing.
func macroChain(levels int) string {
	var b strings.Builder
	b.WriteString("- macro: m0\n  condition: proc.name = x\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "- macro: m%d\n  condition: (m%d or m%d)\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "- rule: r\n  desc: d\n  condition: evt.type=open and m%d\n  output: o\n  priority: INFO\n", levels)
	return b.String()
}

// measureLoad loads text and returns what loading allocated in all and how long it took.
func measureLoad(t *testing.T, text string) (*Set, error, uint64, time.Duration) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	set, err := Load([]Source{{Name: "bomb.yaml", Data: []byte(text)}})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return set, err, after.TotalAlloc - before.TotalAlloc, took
}

// TestRulesBombs: files of a few hundred bytes that expand exponentially are compiled or
// refused within 100 MB and 1 s, and a refusal names the list or macro.
func TestRulesBombs(t *testing.T) {
	cases := []struct {
		name, text string
		refused    string // "" when the file must load
	}{
		{"list bomb", listBomb(), ""},
		{"macro chain 20", macroChain(20), `macro "m17": macro expands to more than 100000 comparisons`},
		{"macro chain 30", macroChain(30), `macro "m17": macro expands to more than 100000 comparisons`},
		{"macro chain 16", macroChain(16), ""},
		{"distinct items referenced many times", distinctItems(1000, 200), `list "big": list expands to more than 100000 items`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err, alloc, took := measureLoad(t, c.text)
			t.Logf("%d bytes of rules: allocated %.1f MB in %v; err: %v", len(c.text), float64(alloc)/1e6, took, err)
			if alloc > 100<<20 || took > time.Second {
				t.Errorf("loading took %.1f MB and %v, want within 100 MB and 1 s", float64(alloc)/1e6, took)
			}
			if c.refused == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(set.NewEngine(Selection{MinPriority: PriorityDebug}).Rules) != 1 {
					t.Fatal("the rule is not enabled")
				}
				if l := set.lists["l19"]; l != nil && strings.Join(l.resolved, ",") != "x,y" {
					t.Fatalf("l19 expands to %d items, want x,y", len(l.resolved))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.refused) {
				t.Fatalf("error %v, want one containing %q", err, c.refused)
			}
		})
	}
}

// distinctItems is a list of n distinct items and a list using it refs times.
func distinctItems(n, refs int) string {
	var b strings.Builder
	b.WriteString("- list: small\n  items: [")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "v%d", i)
	}
	b.WriteString("]\n- list: big\n  items: [")
	for i := 0; i < refs; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("small")
	}
	b.WriteString("]\n- rule: r\n  desc: d\n  condition: evt.type=open and proc.name in (big)\n  output: o\n  priority: INFO\n")
	return b.String()
}

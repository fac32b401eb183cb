package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var falcoRuleDecl = regexp.MustCompile(`(?m)^- rule: *(.+?) *$`)

// TestFalcoRulesTable keeps README's table of Falco's rules true: one row per rule of each of
// the four files, "fires live (tested)" exactly for the rules TestLiveFalcoRules and
// TestLiveFalcoRulesInContainers perform (in
// falco_rules.yaml and falco-incubating_rules.yaml, the files the live test loads them from),
// "loads only" for the others. Without the files (../shared/falco-rules) it checks what it can:
// the rows saying "fires live (tested)" are exactly the live tests' rules.
func TestFalcoRulesTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(readme), "\n") {
		c := strings.Split(l, " | ")
		if len(c) == 3 && strings.HasPrefix(c[0], "| ") && strings.HasSuffix(c[0], ".yaml") {
			rows[strings.TrimPrefix(c[0], "| ")+"\x00"+c[1]] = strings.TrimSuffix(c[2], " |")
		}
	}
	live := map[string]bool{}
	for _, c := range append(append([]falcoLiveCase(nil), FalcoLiveCases...), FalcoContainerCases...) {
		live[c.rule] = true
	}
	liveRows := map[string]bool{}
	for k, v := range rows {
		if f, name, _ := strings.Cut(k, "\x00"); v == "fires live (tested)" {
			liveRows[name] = true
			if f != "falco_rules.yaml" && f != "falco-incubating_rules.yaml" {
				t.Errorf("README says %s: %s fires live, but the live tests load only falco_rules.yaml and falco-incubating_rules.yaml", f, name)
			}
		}
	}
	for r := range live {
		if !liveRows[r] {
			t.Errorf("README has no \"fires live (tested)\" row for %q, which the live tests perform", r)
		}
	}
	for r := range liveRows {
		if !live[r] {
			t.Errorf("README says %q fires live (tested), but no live test performs it", r)
		}
	}
	if len(live) < 30 {
		t.Errorf("only %d rules performed live", len(live))
	}
	dir := falcoRulesDirFor(t, "README's live rows match the live tests; a row per rule of each file needs Falco's rules files in ../shared/falco-rules, which this repository cannot hold")
	n := 0
	for _, f := range []string{"falco_rules-2023.yaml", "falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range falcoRuleDecl.FindAllStringSubmatch(string(b), -1) {
			name := m[1]
			if len(name) >= 2 && (name[0] == '"' || name[0] == '\'') && name[len(name)-1] == name[0] {
				name = name[1 : len(name)-1]
			}
			n++
			want := "loads only"
			if (f == "falco_rules.yaml" || f == "falco-incubating_rules.yaml") && live[name] {
				want = "fires live (tested)"
			}
			got, ok := rows[f+"\x00"+name]
			if !ok {
				t.Errorf("README lacks a row for %s: %s", f, name)
			} else if got != want {
				t.Errorf("README says %s: %s %q, want %q", f, name, got, want)
			}
			delete(rows, f+"\x00"+name)
		}
	}
	for k := range rows {
		t.Errorf("README row for a rule not in the files: %q", k)
	}
	if n < 100 {
		t.Fatalf("only %d rules in the four files", n)
	}
}

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
// "loads only" for the others.
func TestFalcoRulesTable(t *testing.T) {
	dir := falcoRulesDirLive(t)
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

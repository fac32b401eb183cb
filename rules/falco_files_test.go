package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// falcoRulesDir is ../shared/falco-rules, Falco's own rules files (see its README): the 2023
// default file and today's default, incubating and sandbox files from falcosecurity/rules. They
// are Falco's, not this repository's to hold, so a clone without ../shared skips the tests
// that load them (and CI, which has ../shared, fails without them).
func falcoRulesDir(t *testing.T) string {
	t.Helper()
	if d := testcaptures.SharedDir(); d != "" {
		d = filepath.Join(d, "falco-rules")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("../shared/falco-rules (Falco's rules files) is required under CI")
	}
	t.Skip("needs Falco's rules files in ../shared/falco-rules, which this repository cannot hold")
	return ""
}

func falcoRulesFile(t *testing.T, name string) Source {
	t.Helper()
	p := filepath.Join(falcoRulesDir(t), name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("Falco rules file missing from ../shared/falco-rules: %v", err)
	}
	return Source{Name: p, Data: b}
}

var ruleDecl = regexp.MustCompile(`(?m)^- rule: *(.+?) *$`)

// TestFalcoRulesFilesLoad loads each of Falco's files unmodified (and the default and
// incubating pair together) and requires no errors and every declared rule defined with a
// compiled condition and output.
func TestFalcoRulesFilesLoad(t *testing.T) {
	falcoRulesDir(t) // one skip for the whole test without them
	cases := [][]string{
		{"falco_rules-2023.yaml"},
		{"falco_rules.yaml"},
		{"falco-incubating_rules.yaml"},
		{"falco-sandbox_rules.yaml"},
		{"falco_rules.yaml", "falco-incubating_rules.yaml"},
	}
	for _, files := range cases {
		t.Run(filepath.Join(files...), func(t *testing.T) {
			var srcs []Source
			want := map[string]bool{}
			for _, f := range files {
				src := falcoRulesFile(t, f)
				srcs = append(srcs, src)
				for _, m := range ruleDecl.FindAllStringSubmatch(string(src.Data), -1) {
					want[trimYAMLQuotes(m[1])] = true
				}
			}
			set, err := Load(srcs)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if len(set.Errors) != 0 {
				t.Fatalf("%d errors: %v", len(set.Errors), set.Errors)
			}
			got := map[string]*Rule{}
			for _, r := range set.Rules {
				got[r.Name] = r
			}
			for name := range want {
				r := got[name]
				if r == nil {
					t.Errorf("rule %q declared in the file but not loaded", name)
					continue
				}
				if r.flt == nil || r.text == nil {
					t.Errorf("rule %q loaded without a compiled condition or output", name)
				}
			}
			if len(want) < 20 {
				t.Fatalf("only %d rules declared: wrong files?", len(want))
			}
			t.Logf("%d rules, %d warnings", len(want), len(set.Warnings))
		})
	}
}

func trimYAMLQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// TestContainerInfoPlaceholder: Falco's %container.info is not a field; the loader puts the
// container's name and id in its place, as Falco does without -pc/-pk.
func TestContainerInfoPlaceholder(t *testing.T) {
	src := Source{Name: "ci.yaml", Data: []byte(`
- rule: r
  desc: d
  condition: evt.type=open
  output: opened (user=%user.name %container.info)
  priority: WARNING
`)}
	set, err := Load([]Source{src})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Rules[0].Format; got != "opened (user=%user.name %container.name (id=%container.id))" {
		t.Fatalf("expanded output %q", got)
	}
}

// TestPrintSuffixes: Falco's -p, as Falco 0.35 applies it: -pc and -pk (and their gVisor
// forms) take the place of %container.info, or follow an output without it after a space; a
// format of one's own follows every output, whose %container.info gets the default.
func TestPrintSuffixes(t *testing.T) {
	src := Source{Name: "p.yaml", Data: []byte(`
- rule: with info
  desc: d
  condition: evt.type=open
  output: opened (user=%user.name %container.info)
  priority: WARNING
- rule: without info
  desc: d
  condition: evt.type=close
  output: closed %fd.name
  priority: WARNING
`)}
	for _, tc := range []struct {
		p          string
		with, wout string
	}{
		{"", "opened (user=%user.name %container.name (id=%container.id))", "closed %fd.name"},
		{"c", "opened (user=%user.name container=%container.name (id=%container.id))",
			"closed %fd.name container=%container.name (id=%container.id)"},
		{"container", "opened (user=%user.name container=%container.name (id=%container.id))",
			"closed %fd.name container=%container.name (id=%container.id)"},
		{"k", "opened (user=%user.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id)",
			"closed %fd.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id"},
		{"kubernetes", "opened (user=%user.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id)",
			"closed %fd.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id"},
		{"cg", "opened (user=%user.name container=%container.name (id=%container.id) vpid=%proc.vpid vtid=%thread.vtid)",
			"closed %fd.name container=%container.name (id=%container.id) vpid=%proc.vpid vtid=%thread.vtid"},
		{"kg", "opened (user=%user.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id vpid=%proc.vpid vtid=%thread.vtid)",
			"closed %fd.name k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id vpid=%proc.vpid vtid=%thread.vtid"},
		{"pid=%proc.pid", "opened (user=%user.name %container.name (id=%container.id)) pid=%proc.pid",
			"closed %fd.name pid=%proc.pid"},
	} {
		set, err := LoadPrint([]Source{src}, ParsePrint(tc.p))
		if err != nil {
			t.Fatalf("-p %q: %v", tc.p, err)
		}
		if got := set.Rules[0].Format; got != tc.with {
			t.Errorf("-p %q, with %%container.info:\n got  %q\n want %q", tc.p, got, tc.with)
		}
		if got := set.Rules[1].Format; got != tc.wout {
			t.Errorf("-p %q, without %%container.info:\n got  %q\n want %q", tc.p, got, tc.wout)
		}
	}
	if _, err := LoadPrint([]Source{src}, ParsePrint("%no.such_field")); err == nil {
		t.Error("-p with an unknown field: no error")
	}
}

// TestContainerPluginBuiltin: today's rules files require Falco's container plugin, whose
// fields gosysdig has itself: no warning for it; another plugin is still named.
func TestContainerPluginBuiltin(t *testing.T) {
	for _, c := range []struct {
		yaml string
		warn bool
	}{
		{"- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n", false},
		{"- required_plugin_versions:\n    - name: k8saudit\n      version: 0.7.0\n", true},
	} {
		set, err := Load([]Source{{Name: "r.yaml", Data: []byte(c.yaml)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(set.Warnings) > 0; got != c.warn {
			t.Errorf("%q: warnings %v", c.yaml, set.Warnings)
		}
	}
}

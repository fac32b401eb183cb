package rules

import (
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/state"
)

func loadText(t *testing.T, text string) (*Set, error) {
	t.Helper()
	return Load([]Source{{Name: "t.yaml", Data: []byte(text)}})
}

// catCtx is a cat process run as "cat /dev/null".
func catCtx() *fields.Ctx {
	in := state.New()
	th := &state.Thread{Tid: 5, Pid: 5, Ptid: -1, Comm: "cat", Exe: "cat", Args: []string{"/dev/null"}}
	in.AddThread(th)
	in.Thread = th
	return &fields.Ctx{In: in}
}

// TestBareListValue: a list name as the single value of "=" is replaced by its item, as
// Falco's substitution does; a list of several items cannot be one value.
func TestBareListValue(t *testing.T) {
	set, err := loadText(t, `
- list: cat_binaries
  items: [cat]
- rule: r
  desc: d
  condition: proc.name=cat_binaries
  output: o
  priority: WARNING
`)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Rules[0].flt.Match(catCtx()) {
		t.Fatal("proc.name=cat_binaries does not match cat")
	}
	_, err = loadText(t, `
- list: two
  items: [cat, tac]
- rule: r
  desc: d
  condition: evt.type=execve and proc.name=two
  output: o
  priority: WARNING
`)
	if err == nil || !strings.Contains(err.Error(), `list "two" (2 items)`) {
		t.Fatalf("multi-item bare list: %v", err)
	}
}

// TestExceptionQuotedValues: '"cat /dev/null"' in an exception compares as cat /dev/null.
func TestExceptionQuotedValues(t *testing.T) {
	for _, vals := range []string{`[['"cat /dev/null"', cat]]`, `[["cat /dev/null", cat]]`, `[[['"cat /dev/null"', x], cat]]`} {
		op := "="
		if strings.HasPrefix(vals, "[[[") {
			op = "in"
		}
		set, err := loadText(t, `
- rule: r
  desc: d
  condition: proc.name=cat
  output: o
  priority: WARNING
  exceptions:
  - name: e
    fields: [proc.cmdline, proc.name]
    comps: [`+op+`, "="]
    values: `+vals+`
`)
		if err != nil {
			t.Fatalf("%s: %v", vals, err)
		}
		if set.Rules[0].flt.Match(catCtx()) {
			t.Errorf("%s: the exception does not except cat /dev/null", vals)
		}
	}
}

func TestFalcoLanguageRefusals(t *testing.T) {
	cases := []struct{ text, want string }{
		{"- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: INFO\n- rule: r\n  append: true\n  output: more\n",
			"appended rule must have a condition or exceptions"},
		{"- list:\n  items: [a]\n", "list has no name"},
		{"- macro:\n  condition: evt.type=open\n", "macro has no name"},
		{"- list: l1\n  items: [l2]\n- list: l2\n  items: [l1]\n- rule: uses loop\n  desc: d\n  condition: evt.type=open and proc.name in (l1)\n  output: o\n  priority: INFO\n",
			`rule "uses loop": uses list "l1"`},
	}
	for _, c := range cases {
		_, err := loadText(t, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.text, err, c.want)
		}
	}
}

func TestPluginAndSourceWarnings(t *testing.T) {
	set, err := loadText(t, `
- required_engine_version: 0.57.0
- required_plugin_versions:
  - name: k8saudit
    version: 0.1.0
- rule: audit
  desc: d
  condition: ka.verb=create
  output: o
  priority: INFO
  source: k8s_audit
`)
	if err != nil {
		t.Fatal(err)
	}
	var w []string
	for _, d := range set.Warnings {
		w = append(w, d.Item+": "+d.Msg)
	}
	all := strings.Join(w, "\n")
	for _, want := range []string{"plugins k8saudit", `rule "audit": source "k8s_audit"`} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q lack %q", all, want)
		}
	}
	if _, err := loadText(t, "- required_engine_version: 0.58.0\n"); err == nil {
		t.Error("engine version 0.58.0 accepted by a 0.57.0 engine")
	}
}

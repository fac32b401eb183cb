package rules

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
	"github.com/gosysdig/gosysdig/state"
)

// ruleSet is a rules file pair, the plain filters its rules amount to, and the captures the
// tests compare them on: the shared traces' (testdata/base.yaml, amend.yaml, plain.tsv) when
// ../shared/traces is there, and the corpus's (testdata/corpus/) always, so that a fresh clone
// runs the comparisons.
type ruleSet struct {
	name         string
	base, amend  string
	plain        string
	traces       []string // capture paths
	critical     string   // the rule amend.yaml raises to CRITICAL (beside "Disabled rule")
	cat          string   // a capture where cat reads and closes files
	closeTraces  []string // captures holding close enters and exits
	allocTrace   string   // a capture with events no rule of base+amend can match
	folderTraces []string // captures where cat or python close files (testdata/dir)
}

// ruleSets returns the corpus set, and the shared set first when ../shared/traces is there
// (under CI it must be: t.Fatal).
func ruleSets(t *testing.T) []ruleSet {
	t.Helper()
	corpus := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(testcaptures.CorpusDir(), n+".scap"))
		}
		return out
	}
	sets := []ruleSet{{
		name: "corpus", base: "testdata/corpus/base.yaml", amend: "testdata/corpus/amend.yaml", plain: "testdata/corpus/plain.tsv",
		traces: corpus("spawn", "exec_script", "shell_chain"), critical: "Hostname read", cat: corpus("exec_script")[0],
		closeTraces: corpus("exec_script", "shell_chain"), allocTrace: corpus("shell_chain")[0],
		folderTraces: corpus("exec_script", "shell_chain", "spawn"),
	}}
	d := testcaptures.SharedOrCorpusOnly(t, "the rules run over the corpus captures only")
	if d == "" {
		return sets
	}
	shared := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(d, "traces", n+".scap"))
		}
		return out
	}
	return append([]ruleSet{{
		name: "shared", base: "testdata/base.yaml", amend: "testdata/amend.yaml", plain: "testdata/plain.tsv",
		traces: shared("open-multiple-files", "cat_write", "syscall"), critical: "Dev null read", cat: shared("cat_write")[0],
		closeTraces: shared("open-multiple-files", "cat_write"), // syscall has no close
		allocTrace:  shared("cat_write")[0], folderTraces: shared("open-multiple-files", "cat_write", "syscall"),
	}}, sets...)
}

// replay feeds every shown event of a trace to fn, as the CLI's pipeline does: state first,
// state-only events skipped.
func replay(t *testing.T, trace string, fn func(c *fields.Ctx)) {
	t.Helper()
	r, err := capture.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := state.New()
	in.LoadHeader(r.Header())
	var ev event.Event
	c := &fields.Ctx{In: in, Ev: &ev, MaxLen: 80}
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			return
		}
		if errors.Is(err, capture.ErrNewSection) {
			in.Reset()
			in.LoadHeader(r.Header())
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", trace, err)
		}
		in.Process(&ev)
		if ev.DumpFlags&capture.DumpStateOnly != 0 {
			continue
		}
		fn(c)
	}
}

// filterCount counts the events of a trace the plain filter selects.
func filterCount(t *testing.T, trace, expr string) int {
	t.Helper()
	f, err := filter.Compile(expr)
	if err != nil {
		t.Fatalf("filter %q: %v", expr, err)
	}
	n := 0
	replay(t, trace, func(c *fields.Ctx) {
		if f.MayMatch(c.Ev.Type) && f.Match(c) {
			n++
		}
	})
	return n
}

// ruleCounts counts alerts per rule on a trace.
func ruleCounts(t *testing.T, trace string, eng *Engine) map[string]int {
	t.Helper()
	out := map[string]int{}
	replay(t, trace, func(c *fields.Ctx) {
		for _, r := range eng.Match(c) {
			out[r.Name]++
			if a := r.NewAlert(c); a.Output == "" || !strings.HasPrefix(string(a.Fields), "{") {
				t.Errorf("rule %s: bad alert %+v", r.Name, a)
			}
		}
	})
	return out
}

func load(t *testing.T, paths ...string) *Set {
	t.Helper()
	srcs, err := ReadPaths(paths)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(srcs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plainRule is a rule of base.yaml + amend.yaml and the plain filter it amounts to.
type plainRule struct{ rule, filter string }

// readPlain reads a plain.tsv (also read by the CLI's tests).
func readPlain(t *testing.T, path string) []plainRule {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []plainRule
	for _, l := range strings.Split(string(b), "\n") {
		if r, f, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(l, "#") {
			out = append(out, plainRule{r, f})
		}
	}
	return out
}

func TestTraceCountsMatchPlainFilters(t *testing.T) {
	for _, rs := range ruleSets(t) {
		t.Run(rs.name, func(t *testing.T) { traceCountsMatchPlainFilters(t, rs) })
	}
}

func traceCountsMatchPlainFilters(t *testing.T, rs ruleSet) {
	s := load(t, rs.base, rs.amend)
	if len(s.Warnings) > 0 {
		t.Errorf("unexpected warnings: %v", s.Warnings)
	}
	eng := s.NewEngine(Selection{MinPriority: PriorityDebug, MatchAll: true})
	plain := readPlain(t, rs.plain)
	totals := map[string]int{}
	for _, tr := range rs.traces {
		got := ruleCounts(t, tr, eng)
		for _, p := range plain {
			want := filterCount(t, tr, p.filter)
			totals[p.rule] += want
			if p.rule == "Cat mmap" {
				want = 0
			}
			if got[p.rule] != want {
				t.Errorf("%s: rule %q fired %d times, its plain filter selects %d", filepath.Base(tr), p.rule, got[p.rule], want)
			}
		}
	}
	for _, p := range plain {
		if totals[p.rule] == 0 {
			t.Errorf("rule %q: its filter selects nothing on the traces: the test proves nothing", p.rule)
		}
	}
	r := s.rules[rs.critical]
	if r.Priority != PriorityCritical || !strings.HasSuffix(r.Condition, "and evt.dir = <") {
		t.Errorf("override of %s not applied: %v %q", rs.critical, r.Priority, r.Condition)
	}
	if r := s.rules["Disabled rule"]; !r.Enabled || !slices.Equal(r.Tags, []string{"late"}) {
		t.Errorf("override of Disabled rule not applied: %v %v", r.Enabled, r.Tags)
	}
	if r := s.rules["Any open"]; r.Output != "open %fd.name %proc.name" {
		t.Errorf("output append: %q", r.Output)
	}
}

func TestFirstMatching(t *testing.T) {
	for _, rs := range ruleSets(t) {
		t.Run(rs.name, func(t *testing.T) {
			s := load(t, rs.base, rs.amend)
			eng := s.NewEngine(Selection{MinPriority: PriorityDebug})
			plain := readPlain(t, rs.plain)
			for _, tr := range rs.traces {
				got := ruleCounts(t, tr, eng)
				var earlier []string
				for _, p := range plain {
					if p.rule == "Cat mmap" {
						continue
					}
					f := "(" + p.filter + ")"
					for _, e := range earlier {
						f += " and not (" + e + ")"
					}
					earlier = append(earlier, p.filter)
					if want := filterCount(t, tr, f); got[p.rule] != want {
						t.Errorf("%s: first matching: rule %q fired %d times, want %d", filepath.Base(tr), p.rule, got[p.rule], want)
					}
				}
			}
		})
	}
}

func names(e *Engine) []string {
	var out []string
	for _, r := range e.Rules {
		out = append(out, r.Name)
	}
	return out
}

func TestSelection(t *testing.T) {
	s := load(t, "testdata/base.yaml", "testdata/amend.yaml")
	cases := []struct {
		name string
		sel  Selection
		want []string
	}{
		{"all", Selection{MinPriority: PriorityDebug},
			[]string{"Open tmp file", "Library opened", "Close", "Dev null read", "Any open", "Disabled rule"}},
		{"-t files", Selection{MinPriority: PriorityDebug, Tags: []string{"files"}},
			[]string{"Open tmp file", "Library opened", "Dev null read", "Any open"}},
		{"-t memory (disabled rule stays off)", Selection{MinPriority: PriorityDebug, Tags: []string{"memory"}}, nil},
		{"-T noisy -T libs", Selection{MinPriority: PriorityDebug, DisableTags: []string{"noisy", "libs"}},
			[]string{"Open tmp file", "Dev null read", "Any open", "Disabled rule"}},
		{"-D open (substring)", Selection{MinPriority: PriorityDebug, Disable: []*regexp.Regexp{regexp.MustCompile("open")}},
			[]string{"Open tmp file", "Close", "Dev null read", "Disabled rule"}},
		{"-D ^(Close|Disabled)", Selection{MinPriority: PriorityDebug, Disable: []*regexp.Regexp{regexp.MustCompile("^(Close|Disabled)")}},
			[]string{"Open tmp file", "Library opened", "Dev null read", "Any open"}},
		{"--priority warning", Selection{MinPriority: PriorityWarning},
			[]string{"Open tmp file", "Dev null read", "Any open", "Disabled rule"}},
		{"--priority critical", Selection{MinPriority: PriorityCritical},
			[]string{"Dev null read", "Disabled rule"}},
	}
	for _, c := range cases {
		if got := names(s.NewEngine(c.sel)); !slices.Equal(got, c.want) {
			t.Errorf("%s: rules %q, want %q", c.name, got, c.want)
		}
	}
	// Alerts follow the selection: with --priority critical on a capture where cat reads, only
	// the two critical rules fire.
	for _, rs := range ruleSets(t) {
		s := load(t, rs.base, rs.amend)
		plain := map[string]string{}
		for _, p := range readPlain(t, rs.plain) {
			plain[p.rule] = p.filter
		}
		got := ruleCounts(t, rs.cat, s.NewEngine(Selection{MinPriority: PriorityCritical, MatchAll: true}))
		want := map[string]int{
			rs.critical:     filterCount(t, rs.cat, plain[rs.critical]),
			"Disabled rule": filterCount(t, rs.cat, plain["Disabled rule"]),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || want[rs.critical] == 0 {
			t.Errorf("--priority critical on %s: %v, want %v (none zero)", filepath.Base(rs.cat), got, want)
		}
	}
}

func TestFolderInNameOrder(t *testing.T) {
	s := load(t, "testdata/dir")
	if len(s.Warnings) > 0 {
		t.Errorf("warnings: %v", s.Warnings)
	}
	eng := s.NewEngine(Selection{MinPriority: PriorityDebug})
	total := 0
	for _, rs := range ruleSets(t) {
		for _, tr := range rs.folderTraces {
			got := ruleCounts(t, tr, eng)["Named close"]
			want := filterCount(t, tr, "evt.type = close and evt.dir = < and proc.name in (cat, python)")
			if got != want {
				t.Errorf("%s: Named close %d, want %d", filepath.Base(tr), got, want)
			}
			total += want
		}
	}
	if total == 0 {
		t.Error("no close by cat or python in the captures: the test proves nothing")
	}
	// The other order fails: 02 appends to a list 01 defines.
	srcs, _ := ReadPaths([]string{"testdata/dir/02_rules.yaml", "testdata/dir/01_lists.yaml"})
	if _, err := Load(srcs); err == nil || !strings.Contains(err.Error(), `list "names": append/override: no list "names" defined before`) {
		t.Errorf("reverse order: %v", err)
	}
}

func TestInvalidFiles(t *testing.T) {
	for file, want := range invalidFiles {
		srcs, err := ReadPaths([]string{filepath.Join("testdata/invalid", file)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(srcs)
		if err == nil {
			t.Errorf("%s: loaded without error", file)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error does not say %q:\n%v", file, w, err)
			}
		}
	}
}

// invalidFiles maps each file of testdata/invalid to what its error must say: the file and
// position, the item, the problem.
var invalidFiles = map[string][]string{
	"not_yaml.yaml":        {"not_yaml.yaml:2:", "not valid YAML"},
	"not_list.yaml":        {"not_list.yaml:1:1", "must be a list of items", "a mapping"},
	"missing_key.yaml":     {"missing_key.yaml:1:3", `rule "no condition"`, `missing key "condition"`},
	"undefined_macro.yaml": {"undefined_macro.yaml:5:14", `rule "uses undefined"`, `undefined macro "not_defined_anywhere"`, "column 15"},
	"list_loop.yaml":       {"list_loop.yaml:1:3", `list "list_a"`, "list loop: list_a -> list_b -> list_a"},
	"macro_loop.yaml":      {"macro_loop.yaml:1:3", `macro "macro_a"`, "macro loop: macro_a -> macro_b -> macro_a"},
	"bad_condition.yaml":   {"bad_condition.yaml:3:14", `rule "bad syntax"`, "column 21", "not closed"},
	"bad_output.yaml":      {"bad_output.yaml:4:11", `rule "bad output field"`, `unknown field "proc.no_such_field"`},
	"engine_version.yaml":  {"engine_version.yaml:1:28", "required_engine_version", "99.0.0"},
	"unknown_field.yaml":   {"unknown_field.yaml:3:14", `rule "unknown field"`, `unknown field "proc.nosuch"`},
}

func TestWarnings(t *testing.T) {
	src := `
- list: unused_list
  items: [a]
- macro: unused_macro
  condition: proc.name = x
- rule: every type
  desc: no evt.type restriction
  condition: proc.name = cat
  output: x
  priority: debug
- rule: every type, quietly
  desc: no evt.type restriction, and no warning wanted
  condition: proc.name = cat
  output: x
  priority: debug
  warn_evttypes: false
- rule: other source
  desc: not syscall
  condition: ka.verb = get
  output: x
  priority: debug
  source: k8s_audit
`
	s, err := Load([]Source{{Name: "w.yaml", Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	all := fmt.Sprint(s.Warnings)
	if strings.Contains(all, "quietly") {
		t.Errorf("warn_evttypes: false did not silence the warning: %v", all)
	}
	for _, w := range []string{`list "unused_list": list is not used`, `macro "unused_macro": macro is not used`,
		`rule "every type": rule matches every event type`, `rule "other source": source "k8s_audit" is not supported`} {
		if !strings.Contains(all, w) {
			t.Errorf("no warning %q in %v", w, all)
		}
	}
}

func TestDefaultRules(t *testing.T) {
	s, err := Load([]Source{{Name: DefaultRulesName, Data: DefaultRules}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) > 0 {
		t.Errorf("default rules have warnings: %v", s.Warnings)
	}
	want := []string{"Terminal shell in container", "Write below binary dir", "Change thread namespace",
		"Create files below dev", "Camera access"}
	if got := names(s.NewEngine(Selection{MinPriority: PriorityDebug})); !slices.Equal(got, want) {
		t.Errorf("default rules %q, want %q", got, want)
	}
	for _, r := range s.Rules {
		if r.EventTypes() == nil {
			t.Errorf("%s: no event-type restriction", r.Name)
		}
		for _, f := range []string{"%user.name", "%proc.cmdline", "%container.id", "%container.name"} {
			if !strings.Contains(r.Output, f) {
				t.Errorf("%s: output lacks %s", r.Name, f)
			}
		}
	}
}

func TestNoAllocationForUnmatchableEvents(t *testing.T) {
	for _, rs := range ruleSets(t) {
		s := load(t, rs.base, rs.amend)
		eng := s.NewEngine(Selection{MinPriority: PriorityDebug, MatchAll: true})
		checked := 0
		replay(t, rs.allocTrace, func(c *fields.Ctx) {
			if len(eng.byType[c.Ev.Type]) > 0 || checked > 3 {
				return
			}
			checked++
			if n := testing.AllocsPerRun(100, func() { eng.Match(c) }); n != 0 {
				t.Errorf("%s: %s: %v allocations per unmatchable event", rs.name, c.Ev.Info.Name, n)
			}
		})
		if checked == 0 {
			t.Fatalf("%s: no unmatchable event in %s", rs.name, rs.allocTrace)
		}
	}
}

func TestAlertFormats(t *testing.T) {
	a := &Alert{Rule: "R \"x\"", Priority: PriorityInformational, Source: "syscall", Tags: []string{"b", "a"},
		Output: "out\tput", Fields: []byte(`{"proc.name":"cat"}`)}
	if !strings.HasSuffix(a.Text(), ": Informational out\tput") || len(strings.SplitN(a.Text(), ":", 4)[2]) != len("00.000000000") {
		t.Errorf("text %q", a.Text())
	}
	js := string(a.JSON("h"))
	for _, w := range []string{`{"hostname":"h","output":"`, `,"output_fields":{"proc.name":"cat"},"priority":"Informational","rule":"R \"x\"","source":"syscall","tags":["a","b"],"time":"`} {
		if !strings.Contains(js, w) {
			t.Errorf("JSON %s lacks %s", js, w)
		}
	}
	for i, n := range []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"} {
		p, err := ParsePriority(strings.ToUpper(n))
		if err != nil || p != Priority(i) || p.String() != n {
			t.Errorf("priority %s: %v %v", n, p, err)
		}
	}
}

func TestAmendErrors(t *testing.T) {
	base := "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: debug\n"
	cases := map[string]string{
		"- rule: nope\n  condition: and proc.name = x\n  append: true\n":                         `rule "nope": append/override: no rule "nope" defined before`,
		"- rule: nope\n  enabled: false\n":                                                       `rule "nope": enabled: no rule "nope" defined before`,
		"- rule: r\n  priority: error\n  override:\n    priority: append\n":                      `key "priority" cannot be appended to`,
		"- rule: r\n  override:\n    output: replace\n":                                          `override names key "output", which the item does not set`,
		"- rule: r\n  output: x\n  desc: y\n  override:\n    output: replace\n":                  `key "desc" is set but not named in override`,
		"- macro: m\n  condition: x\n  append: true\n":                                           `macro "m": append/override: no macro "m" defined before`,
		"- list: l\n  items: [a]\n  override:\n    items: merge\n":                               `override of "items" must be append or replace`,
		"- rule: r\n  exceptions:\n    - name: e\n      values: [[a]]\n  append: true\n":         `exception "e": missing key "fields"`,
		"- rule: r2\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: severe\n": `unknown priority "severe"`,
	}
	for src, want := range cases {
		_, err := Load([]Source{{Name: "a.yaml", Data: []byte(base)}, {Name: "b.yaml", Data: []byte(src)}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "b.yaml:") {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

// TestExitOnlyWithEnterArgs holds today's Falco's view of system calls: a rule sees each call
// once, at its exit, and reads the enter's parameters there (close's fd, read's size), while a
// plain filter (sysdig's) sees the enter as well and finds those parameters on it only.
func TestExitOnlyWithEnterArgs(t *testing.T) {
	s, err := Load([]Source{{Name: "t.yaml", Data: []byte(`
- rule: Close of an fd
  desc: d
  condition: evt.type = close and evt.arg.fd >= 0
  output: "closed %evt.arg.fd res=%evt.res"
  priority: INFO
- rule: Any close
  desc: d
  condition: evt.type = close
  output: "close"
  priority: INFO
`)}})
	if err != nil {
		t.Fatal(err)
	}
	eng := s.NewEngine(Selection{MinPriority: PriorityDebug, MatchAll: true})
	var closeTraces []string
	for _, rs := range ruleSets(t) {
		closeTraces = append(closeTraces, rs.closeTraces...)
	}
	for _, path := range closeTraces {
		tr := filepath.Base(path)
		got := ruleCounts(t, path, eng)
		exits := filterCount(t, path, "evt.type = close and evt.dir = <")
		enters := filterCount(t, path, "evt.type = close and evt.dir = > and evt.arg.fd >= 0")
		if got["Any close"] != exits {
			t.Errorf("%s: a condition without evt.dir fired %d times, want once per close exit (%d)", tr, got["Any close"], exits)
		}
		// Every close exit whose enter the capture holds reads its fd from the enter.
		if got["Close of an fd"] == 0 || got["Close of an fd"] > exits || got["Close of an fd"] < enters-1 {
			t.Errorf("%s: the fd of the enter was read on %d exits (%d exits, %d enters)", tr, got["Close of an fd"], exits, enters)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
	"github.com/gosysdig/gosysdig/rules"
)

const (
	rulesTestdata = "../../rules/testdata"
	baseRules     = rulesTestdata + "/base.yaml"
	amendRules    = rulesTestdata + "/amend.yaml"
)

// runBin runs the binary and returns stdout, stderr and the exit code.
func runBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errb.String(), 0
}

// cliRuleSet is a rules pair with its plain filters (rules/testdata, see rules/rules_test.go)
// and the captures the CLI's rules tests run it over: the corpus's always, the shared traces'
// as well when ../shared is there.
type cliRuleSet struct {
	name               string
	base, amend, plain string
	traces             []string // compared rule by rule with the plain filters
	text               string   // a capture for the text alerts
	textAlert          string   // an alert line it gives (after the time), fields as sysdig prints them
	sel                string   // a capture where Any open, Close, critical, Disabled rule and Library opened fire
	critical           string   // the rule amend.yaml raises to Critical (tags io, files)
}

func cliRuleSets(t *testing.T) []cliRuleSet {
	t.Helper()
	corpus := func(n string) string { return filepath.Join(testcaptures.CorpusDir(), n+".scap") }
	sets := []cliRuleSet{{
		name: "corpus", base: rulesTestdata + "/corpus/base.yaml", amend: rulesTestdata + "/corpus/amend.yaml",
		plain:  rulesTestdata + "/corpus/plain.tsv",
		traces: []string{corpus("spawn"), corpus("exec_script"), corpus("shell_chain")},
		text:   corpus("exec_script"),
		// sysdig -r exec_script.scap -p "%evt.time file=%fd.name proc=%proc.name
		// cmd=%proc.cmdline user=%user.name" on script.py's open of locale.alias
		textAlert: ": Warning config opened (file=/usr/share/locale/locale.alias proc=script.py cmd=script.py /tmp/cwl-exec_script/script.py user=root)\n",
		sel:       corpus("setid"), critical: "Hostname read",
	}}
	d := testcaptures.SharedOrCorpusOnly(t, "the rules run over the corpus captures only")
	if d == "" {
		return sets
	}
	shared := func(n string) string { return filepath.Join(d, "traces", n+".scap") }
	return append(sets, cliRuleSet{
		name: "shared", base: baseRules, amend: amendRules, plain: rulesTestdata + "/plain.tsv",
		traces:    []string{shared("open-multiple-files"), shared("cat_write"), shared("syscall")},
		text:      shared("open-multiple-files"),
		textAlert: ": Warning tmp file opened (file=/tmp/file-1 proc=python cmd=python open.py user=mstemm)\n",
		sel:       shared("cat_write"), critical: "Dev null read",
	})
}

// jsonAlert is what a -j alert line holds.
type jsonAlert struct {
	Hostname     string         `json:"hostname"`
	Output       string         `json:"output"`
	OutputFields map[string]any `json:"output_fields"`
	Priority     string         `json:"priority"`
	Rule         string         `json:"rule"`
	Source       string         `json:"source"`
	Tags         []string       `json:"tags"`
	Time         string         `json:"time"`
}

func parseAlerts(t *testing.T, out string) []jsonAlert {
	t.Helper()
	var as []jsonAlert
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var a jsonAlert
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("alert %q: %v", l, err)
		}
		if a.Rule == "" || a.Priority == "" || a.Source != "syscall" || a.Hostname == "" || a.OutputFields == nil ||
			!strings.HasSuffix(a.Time, "Z") || !strings.Contains(a.Output, ": "+a.Priority+" ") {
			t.Errorf("incomplete alert %s", l)
		}
		as = append(as, a)
	}
	return as
}

func countByRule(as []jsonAlert) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.Rule]++
	}
	return m
}

// plainFilters reads a plain.tsv: each rule of base+amend and its plain filter.
func plainFilters(t *testing.T, path string) [][2]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, l := range strings.Split(string(b), "\n") {
		if r, f, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(l, "#") {
			out = append(out, [2]string{r, f})
		}
	}
	return out
}

// filterLines counts the events the binary's own filter selects on a trace.
func filterLines(t *testing.T, bin, tr, filter string) int {
	out, errs, code := runBin(t, bin, "-r", tr, "-p", "%evt.num", filter)
	if code != 0 {
		t.Fatalf("filter %q: exit %d: %s", filter, code, errs)
	}
	return strings.Count(out, "\n")
}

func TestRulesCaptureCountsMatchFilters(t *testing.T) {
	bin := buildBinary(t)
	for _, set := range cliRuleSets(t) {
		t.Run(set.name, func(t *testing.T) { rulesCaptureCountsMatchFilters(t, bin, set) })
	}
}

func rulesCaptureCountsMatchFilters(t *testing.T, bin string, set cliRuleSet) {
	for _, tr := range set.traces {
		name := filepath.Base(tr)
		out, errs, code := runBin(t, bin, "rules", "-R", set.base, "-R", set.amend, "-r", tr, "--matching", "all", "-j")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		got := countByRule(parseAlerts(t, out))
		for _, p := range plainFilters(t, set.plain) {
			want := filterLines(t, bin, tr, p[1])
			if p[0] == "Cat mmap" {
				want = 0 // disabled by amend.yaml
			}
			if got[p[0]] != want {
				t.Errorf("%s: rule %q: %d alerts, its filter selects %d events", name, p[0], got[p[0]], want)
			}
			if want > 0 && !strings.Contains(errs, fmt.Sprintf("   %s: %d\n", p[0], want)) {
				t.Errorf("%s: summary lacks %q: %s", name, p[0], errs)
			}
		}
	}
	// Text alerts: "HH:MM:SS.nnnnnnnnn: Priority output", in local time.
	out, _, _ := runBin(t, bin, "rules", "-R", set.base, "-R", set.amend, "-r", set.text)
	line := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{9}: (Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug) \S`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("alert line %q", l)
		}
	}
	if !strings.Contains(out, set.textAlert) {
		t.Errorf("no alert %q:\n%s", set.textAlert, out)
	}
}

func TestRulesSelectionFlags(t *testing.T) {
	bin := buildBinary(t)
	for _, set := range cliRuleSets(t) {
		t.Run(set.name, func(t *testing.T) { rulesSelectionFlags(t, bin, set) })
	}
}

func rulesSelectionFlags(t *testing.T, bin string, set cliRuleSet) {
	tr := set.sel
	fired := func(args ...string) map[string]int {
		t.Helper()
		out, errs, code := runBin(t, bin, append([]string{"rules", "-R", set.base, "-R", set.amend, "-r", tr, "-j"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return countByRule(parseAlerts(t, out))
	}
	keys := func(m map[string]int) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	all := fired("--matching", "all")
	first := fired()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--matching", "all"}, "Any open,Close,Dev null read,Disabled rule,Library opened"},
		{[]string{"--matching", "all", "-t", "io"}, "Dev null read"},
		{[]string{"--matching", "all", "-t", "libs", "-t", "noisy"}, "Close,Library opened"},
		{[]string{"--matching", "all", "-T", "files", "-T", "late"}, "Close"},
		{[]string{"--matching", "all", "-D", "open"}, "Close,Dev null read,Disabled rule"},
		{[]string{"--matching", "all", "-D", "^(Close|Any)"}, "Dev null read,Disabled rule,Library opened"},
		{[]string{"--matching", "all", "--priority", "critical"}, "Dev null read,Disabled rule"},
		{[]string{"--matching", "all", "--priority", "ERROR"}, "Any open,Dev null read,Disabled rule"},
	}
	for _, c := range cases {
		got := fired(c.args...)
		// The cases name the shared set's critical rule; the sets' rules are named alike
		// otherwise.
		want := strings.Split(strings.ReplaceAll(c.want, "Dev null read", set.critical), ",")
		sort.Strings(want)
		if keys(got) != strings.Join(want, ",") {
			t.Errorf("%v: rules fired %s, want %s", c.args, keys(got), strings.Join(want, ","))
		}
		for r, n := range got {
			if n != all[r] {
				t.Errorf("%v: %s fired %d times, %d without selection", c.args, r, n, all[r])
			}
		}
	}
	// First matching: Close comes before Disabled rule (both match close exits), so Disabled
	// rule keeps only close entries; the overlapping opens go to Library opened before Any open.
	if first["Close"] != all["Close"] || first["Disabled rule"] != all["Disabled rule"]-all["Close"] ||
		first["Any open"] != all["Any open"]-all["Library opened"] {
		t.Errorf("first matching %v, all %v", first, all)
	}
	for _, bad := range [][]string{{"-t", "io", "-T", "noisy"}, {"-t", "io", "-D", "x"}} {
		_, errs, code := runBin(t, bin, append([]string{"rules", "-r", tr}, bad...)...)
		if code != 1 || !strings.Contains(errs, "-t cannot be combined with -T or -D") {
			t.Errorf("%v: exit %d, %s", bad, code, errs)
		}
	}
}

func TestRulesValidateAndList(t *testing.T) {
	bin := buildBinary(t)
	out, _, code := runBin(t, bin, "rules", "--validate", "-R", baseRules, "-R", amendRules)
	if code != 0 || !strings.HasSuffix(out, "\nOk\n") {
		t.Errorf("valid files: exit %d\n%s", code, out)
	}
	out, _, code = runBin(t, bin, "rules", "--validate", "-R", rulesTestdata+"/dir")
	if code != 0 || !strings.Contains(out, "01_lists.yaml\n   "+rulesTestdata+"/dir/02_rules.yaml\nOk\n") {
		t.Errorf("folder: exit %d\n%s", code, out)
	}
	out, _, code = runBin(t, bin, "rules", "--validate", "-R", rulesTestdata+"/invalid/macro_loop.yaml")
	if code != 1 || !strings.Contains(out, "Invalid") || !strings.Contains(out, `macro "macro_a": macro loop`) {
		t.Errorf("invalid file: exit %d\n%s", code, out)
	}
	out, _, code = runBin(t, bin, "rules", "--validate")
	if code != 0 || !strings.HasSuffix(out, "\nOk\n") {
		t.Errorf("default rules: exit %d\n%s", code, out)
	}
	out, _, code = runBin(t, bin, "rules", "--list", "-R", baseRules, "-R", amendRules, "-T", "noisy")
	if code != 0 || !regexp.MustCompile(`(?m)^Close +Debug +no +noisy$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Dev null read +Critical +yes +io,files$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Cat mmap +Notice +no +memory$`).MatchString(out) {
		t.Errorf("--list: exit %d\n%s", code, out)
	}
	out, _, _ = runBin(t, bin, "rules", "--list")
	for _, r := range []string{"Terminal shell in container", "Write below binary dir", "Change thread namespace", "Create files below dev", "Camera access"} {
		if !strings.Contains(out, r) {
			t.Errorf("default rules lack %q:\n%s", r, out)
		}
	}
}

func TestRulesInvalidFiles(t *testing.T) {
	bin := buildBinary(t)
	want := map[string]string{
		"not_yaml.yaml":        "not valid YAML",
		"not_list.yaml":        "must be a list of items",
		"missing_key.yaml":     `rule "no condition": missing key "condition"`,
		"undefined_macro.yaml": `rule "uses undefined": condition: column 15: undefined macro "not_defined_anywhere"`,
		"list_loop.yaml":       `list "list_a": list loop`,
		"macro_loop.yaml":      `macro "macro_a": macro loop`,
		"bad_condition.yaml":   `rule "bad syntax": condition: column 21`,
		"bad_output.yaml":      `rule "bad output field": output: invalid output format: unknown field "proc.no_such_field"`,
		"engine_version.yaml":  "required_engine_version: rules require engine version 99.0.0",
		"unknown_field.yaml":   `rule "unknown field": condition: column 21: unknown field "proc.nosuch"`,
	}
	files, _ := filepath.Glob(rulesTestdata + "/invalid/*.yaml")
	if len(files) != len(want) {
		t.Errorf("%d invalid files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		out, errs, code := runBin(t, bin, "rules", "-R", f, "-r", "/nonexistent.scap")
		w := want[filepath.Base(f)]
		if code != 1 || out != "" || !strings.Contains(errs, f+":") || w == "" || !strings.Contains(errs, w) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %q", f, code, errs, w)
		}
	}
}

// syslogListener stands in for /dev/log: a unix datagram socket collecting messages.
func syslogListener(t *testing.T) (string, func() []string) {
	path := filepath.Join(t.TempDir(), "log.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var msgs []string
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, string(buf[:n]))
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return path, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

func TestRulesOutputs(t *testing.T) {
	bin := buildBinary(t)
	for _, set := range cliRuleSets(t) {
		t.Run(set.name, func(t *testing.T) { rulesOutputs(t, bin, set) })
	}
}

func rulesOutputs(t *testing.T, bin string, set cliRuleSet) {
	tr := set.sel
	dir := t.TempDir()
	var mu sync.Mutex
	var posts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.Method == "POST" && r.Header.Get("Content-Type") == "application/json" {
			posts = append(posts, string(b))
		}
		mu.Unlock()
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // nothing listens there any more: that output fails, the others must not mind
	sock, syslogMsgs := syslogListener(t)
	file := filepath.Join(dir, "alerts.txt")
	rec := filepath.Join(dir, "program.txt")
	prog := fmt.Sprintf("echo started >> %s; cat >> %s", rec, rec)
	out, errs, code := runBin(t, bin, "rules", "-R", set.base, "-R", set.amend, "-r", tr, "--matching", "all",
		"--out-file", file, "--out-program", prog, "--out-syslog", "--syslog-socket", sock,
		"--out-http", deadURL, "--out-http", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.SplitAfter(out, "\n")
	lines = lines[:len(lines)-1]
	if len(lines) < 15 { // 18 on cat_write, 164 on setid: each output must carry a good number
		t.Fatalf("only %d alerts on stdout:\n%s", len(lines), out)
	}
	if b, _ := os.ReadFile(file); string(b) != out {
		t.Errorf("file output differs from stdout:\n%s", b)
	}
	if b, _ := os.ReadFile(rec); string(b) != "started\n"+out {
		t.Errorf("program output (started once, then every alert) differs:\n%s", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(syslogMsgs()) < len(lines) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	msgs := syslogMsgs()
	if len(msgs) != len(lines) {
		t.Errorf("syslog got %d messages, want %d", len(msgs), len(lines))
	}
	sev := map[string]int{"Emergency": 0, "Alert": 1, "Critical": 2, "Error": 3, "Warning": 4, "Notice": 5, "Informational": 6, "Debug": 7}
	head := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d gosysdig\[\d+\]: (\S+: (\w+) .*)$`)
	for i, m := range msgs {
		g := head.FindStringSubmatch(m)
		if g == nil || g[1] != fmt.Sprint(8+sev[g[3]]) || i < len(lines) && g[2]+"\n" != lines[i] {
			t.Errorf("syslog message %q (want facility user, the priority's severity, alert %q)", m, lines[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != len(lines) {
		t.Errorf("HTTP got %d posts, want %d", len(posts), len(lines))
	}
	for i, p := range posts {
		var a jsonAlert
		if err := json.Unmarshal([]byte(p), &a); err != nil || a.Output+"\n" != lines[i] {
			t.Errorf("post %q: %v", p, err)
		}
	}
	lost := regexp.MustCompile(fmt.Sprintf(`output http %s: %d alert\(s\) raised \(0 internal\), 0 delivered, %d lost`, regexp.QuoteMeta(deadURL), len(lines), len(lines)))
	if !strings.Contains(errs, "output http "+deadURL+" failed") || !lost.MatchString(errs) {
		t.Errorf("the dead HTTP output is not reported:\n%s", errs)
	}
}

// Live: each default rule but the container shell fires on a real action; a host bash does not
// fire the shell rule.
func TestRulesLiveDefaultRules(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	out := traceLive(t, bin, func() {
		sh(t, `set -e
echo gosysdig > /usr/bin/gosysdig_rules_test; rm -f /usr/bin/gosysdig_rules_test
nsenter -t $$ -m true
touch /dev/gosysdig_rules_test; rm -f /dev/gosysdig_rules_test
made=0; if [ ! -e /dev/video0 ]; then mknod /dev/video0 c 1 3; made=1; fi
dd if=/dev/video0 of=/dev/null count=0 status=none
if [ $made = 1 ]; then rm -f /dev/video0; fi
bash -c 'true'`)
	}, "rules")
	want := []string{
		`: Error File below a known binary directory written (user=root command=bash -c `,
		`file=/usr/bin/gosysdig_rules_test container_id=host container_name=host)`,
		`: Notice Namespace change (setns) by unexpected program (user=root command=nsenter -t `,
		`: Error File created below /dev by untrusted program (user=root command=touch /dev/gosysdig_rules_test file=/dev/gosysdig_rules_test container_id=host`,
		`: Warning Video camera opened by unexpected program (user=root command=dd if=/dev/video0 of=/dev/null count=0 status=none file=/dev/video0 container_id=host`,
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in:\n%s", w, out)
		}
	}
	if strings.Contains(out, "A shell was spawned in a container") {
		t.Errorf("a host bash fired the container shell rule:\n%s", out)
	}
}

// Live: a ring buffer too small for the load drops events, and an alert says how many.
func TestRulesLiveDropAlert(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	out := traceLive(t, bin, func() {
		sh(t, "dd if=/dev/zero of=/dev/null bs=1 count=300000 status=none; sleep 1.5")
	}, "rules", "--ring-bytes", "4096", "-j")
	re := regexp.MustCompile(`"output":"[^"]*: Debug Falco internal: syscall event drop\. [1-9]\d* system calls dropped in last second\.","output_fields":\{"ebpf_enabled":"1","n_drops":"[1-9]`)
	if !re.MatchString(out) {
		t.Errorf("no drop alert:\n%.2000s", out)
	}
}

// The sink costs no allocation for events no rule can match.
func TestRulesSinkNoAllocationForUnmatchableEvents(t *testing.T) {
	set, err := rules.Load([]rules.Source{{Name: rules.DefaultRulesName, Data: rules.DefaultRules}})
	if err != nil {
		t.Fatal(err)
	}
	eng := set.NewEngine(rules.Selection{MinPriority: rules.PriorityDebug, MatchAll: true})
	rs := &rulesSink{eng: eng, counts: map[string]*atomic.Int64{}}
	types := eng.EventTypes()
	n := 0
	for typ := range types {
		info := event.Lookup(uint16(typ))
		if types[typ] || info == nil {
			continue
		}
		n++
		c := &fields.Ctx{Ev: &event.Event{Type: uint16(typ), Info: info}}
		if a := testing.AllocsPerRun(100, func() { _ = rs.Event(c) }); a != 0 {
			t.Errorf("%s: %v allocations", info.Name, a)
		}
	}
	if n < 100 {
		t.Errorf("only %d event types are unmatchable by the default rules", n)
	}
}

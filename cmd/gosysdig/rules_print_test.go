package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesPrintSuffixes: `gosysdig rules -pc/-pk/-p FORMAT` renders every alert with the text
// Falco 0.35 puts in place of %container.info or after the output (the corpus capture's two
// execs of cat, on the host), in text and in JSON, whose output_fields gain the fields.
func TestRulesPrintSuffixes(t *testing.T) {
	bin := buildBinary(t)
	rulesFile := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(rulesFile, []byte(`
- rule: exec cat
  desc: cat runs
  condition: evt.type=execve and proc.name=cat
  output: exec %proc.name (%container.info)
  priority: WARNING
- rule: cat opens hostname
  desc: no %container.info in the output
  condition: evt.type=openat and proc.name=cat and fd.name=/etc/hostname
  output: open %fd.name
  priority: NOTICE
`), 0o644); err != nil {
		t.Fatal(err)
	}
	capFile := filepath.Join("..", "..", "testdata", "corpus", "exec_script.scap")
	for _, tc := range []struct {
		args       []string
		exec, open string
	}{
		{nil, "exec cat (host (id=host))", "open /etc/hostname"},
		{[]string{"-pc"}, "exec cat (container=host (id=host))", "open /etc/hostname container=host (id=host)"},
		{[]string{"-pcontainer"}, "exec cat (container=host (id=host))", "open /etc/hostname container=host (id=host)"},
		{[]string{"-pk"}, "exec cat (k8s.ns=<NA> k8s.pod=<NA> container=host)", "open /etc/hostname k8s.ns=<NA> k8s.pod=<NA> container=host"},
		{[]string{"-pkubernetes"}, "exec cat (k8s.ns=<NA> k8s.pod=<NA> container=host)", "open /etc/hostname k8s.ns=<NA> k8s.pod=<NA> container=host"},
		{[]string{"-p", "user=%user.name"}, "exec cat (host (id=host)) user=root", "open /etc/hostname user=root"},
	} {
		out, errOut, code := runBin(t, bin, append([]string{"rules", "-R", rulesFile, "-r", capFile}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		var execs, opens int
		for _, l := range strings.Split(out, "\n") {
			switch {
			case strings.Contains(l, ": Warning "):
				execs++
				if !strings.HasSuffix(l, ": Warning "+tc.exec) {
					t.Errorf("%v: %q, want it to end %q", tc.args, l, tc.exec)
				}
			case strings.Contains(l, ": Notice "):
				opens++
				if !strings.HasSuffix(l, ": Notice "+tc.open) {
					t.Errorf("%v: %q, want it to end %q", tc.args, l, tc.open)
				}
			}
		}
		if execs != 2 || opens != 2 {
			t.Errorf("%v: %d exec and %d open alerts, want 2 and 2:\n%s", tc.args, execs, opens, out)
		}
	}
	out, errOut, code := runBin(t, bin, "rules", "-R", rulesFile, "-r", capFile, "-pk", "-j")
	if code != 0 {
		t.Fatalf("-pk -j: exit %d: %s", code, errOut)
	}
	as := parseAlerts(t, out)
	if len(as) != 4 {
		t.Fatalf("-pk -j: %d alerts, want 4", len(as))
	}
	for _, a := range as {
		b, _ := json.Marshal(a.OutputFields)
		if string(b) != `{"container.id":"host","fd.name":"/etc/hostname","k8s.ns.name":null,"k8s.pod.name":null}` &&
			string(b) != `{"container.id":"host","k8s.ns.name":null,"k8s.pod.name":null,"proc.name":"cat"}` {
			t.Errorf("-pk -j output_fields %s", b)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runBoth runs sysdig and gosysdig with the same arguments (TZ=UTC) and returns stdout,
// stderr and whether each exited 0.
func runOne(t *testing.T, bin string, args ...string) (stdout, stderr []byte, ok bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.Bytes(), e.Bytes(), err == nil
}

// TestSysdigFlagsAgainstSysdig compares the flags issue 11 added with sysdig 0.29.3 on every
// shared trace, where sysdig's output is deterministic: -t in its five modes, -d (with -n and
// -t D, whose state the display filter must not disturb), -E, -P's progress on stderr, -pp
// and --libs-version.
func TestSysdigFlagsAgainstSysdig(t *testing.T) {
	sysdig := needSysdigOrCI(t)
	bin := buildBinary(t)
	traces := comparisonTraces(t)
	var cases [][]string
	for _, tt := range []string{"h", "a", "r", "d", "D"} {
		cases = append(cases, []string{"-t", tt}, []string{"--timetype=" + tt, "-p", "%evt.num %evt.outputtime %evt.latency %evt.deltatime", "evt.dir=<"})
	}
	for _, f := range []string{"evt.type=read", "evt.dir=<", "proc.name=cat or fd.type=ipv4"} {
		cases = append(cases, []string{"-d", f}, []string{"-d", "-n", "150", f}, []string{"--displayflt", "-t", "D", f},
			[]string{"-d", "-p", "%evt.num %evt.deltatime %fd.name", f})
	}
	cases = append(cases, []string{"-E", "-p", "*%evt.num %user.name %group.name %user.uid %user.homedir"},
		[]string{"-E", "-j", "-p", "*%user.name %user.uid"}, []string{"-E", "user.name exists"},
		[]string{"-t", "a", "-j"})
	compared := 0
	for _, tr := range traces {
		for _, c := range cases {
			args := append([]string{"-r", tr}, c...)
			want, _, wok := runOne(t, sysdig, args...)
			got, gerr, gok := runOne(t, bin, args...)
			if gok != wok {
				t.Errorf("%v: gosysdig exit ok=%v, sysdig ok=%v\n%s", args, gok, wok, gerr)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("gosysdig %v differs from sysdig:\n%s", args, firstDiff(got, want))
			}
			if len(want) > 0 {
				compared++
			}
		}
		// -P prints its progress on stderr (the events still go to stdout).
		_, want, _ := runOne(t, sysdig, "-P", "-q", "-r", tr)
		_, got, _ := runOne(t, bin, "-P", "-q", "-r", tr)
		if !bytes.Equal(got, want) {
			t.Errorf("-P on %s: stderr %q, sysdig's %q", tr, got, want)
		}
	}
	if compared < len(traces)*len(cases)/2 {
		t.Errorf("only %d of %d comparisons had output: the cases prove too little", compared, len(traces)*len(cases))
	}
	for _, args := range [][]string{{"--libs-version"}, {"-pp"}, {"-t", "x", "-r", traces[0]}, {"-P"},
		{"--filter-proclist", "-r", traces[0]}, {"--filter-proclist", "proc.name=cat"}} {
		want, werr, wok := runOne(t, sysdig, args...)
		got, gerr, gok := runOne(t, bin, args...)
		if !bytes.Equal(got, want) || gok != wok || !bytes.Contains(gerr, bytes.TrimSpace(werr)) {
			t.Errorf("%v: gosysdig %q %q ok=%v, sysdig %q %q ok=%v", args, got, gerr, gok, want, werr, wok)
		}
	}
}

// TestListMarkdown checks --list-markdown has libsinsp's layout and lists exactly -l's fields.
func TestListMarkdown(t *testing.T) {
	var md, plain bytes.Buffer
	if err := listFieldsMarkdown(&md, false); err != nil {
		t.Fatal(err)
	}
	if err := listFields(&plain, false); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^`([a-z0-9_.]+)` \\| [A-Z0-9]+ \\| .+$")
	heading := regexp.MustCompile(`^## Field Class: [a-z0-9_]+$`)
	var names []string
	lines := strings.Split(strings.TrimSuffix(md.String(), "\n"), "\n")
	for i, l := range lines {
		switch {
		case heading.MatchString(l):
			// "\n## Field Class: %s\n\n%s\n\nName | Type | Description\n:----|:-----|:-----------\n"
			if i < 1 || lines[i-1] != "" || lines[i+1] != "" || lines[i+3] != "" ||
				lines[i+4] != "Name | Type | Description" || lines[i+5] != ":----|:-----|:-----------" {
				t.Errorf("class heading %q is not in libsinsp's markdown layout", l)
			}
		case row.MatchString(l):
			names = append(names, row.FindStringSubmatch(l)[1])
		case l == "" || l == "Name | Type | Description" || l == ":----|:-----|:-----------":
		default:
			t.Errorf("unexpected markdown line %q", l)
		}
	}
	var want []string
	for _, f := range fieldsInClassOrder() {
		want = append(want, f.Name)
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("markdown lists %d fields, -l %d", len(names), len(want))
	}
	if !strings.Contains(plain.String(), "evt.num") || len(names) < 100 {
		t.Errorf("too few fields: %d", len(names))
	}
}

// TestFlagsCLI covers the parts of the command line that need no reference: refused flags say
// why and exit 1, sysdig's abbreviations, subcommands, the man pages and ui without a terminal.
func TestFlagsCLI(t *testing.T) {
	bin := buildBinary(t)
	for _, r := range refusedFlags {
		args := []string{"--" + r.long}
		if r.arg != "" {
			args = append(args, "x")
		}
		_, stderr, ok := runOne(t, bin, args...)
		if ok || !strings.Contains(string(stderr), r.reason) {
			t.Errorf("%v: ok=%v, stderr %q lacks %q", args, ok, stderr, r.reason)
		}
	}
	if _, stderr, ok := runOne(t, bin, "-B/tmp/probe.o"); ok || !strings.Contains(string(stderr), "own CO-RE eBPF probe") {
		t.Errorf("-B FILE: ok=%v %s", ok, stderr)
	}
	if _, stderr, ok := runOne(t, bin, "--print-h", "x"); ok || !strings.Contains(string(stderr), "unknown flag") {
		t.Errorf("an ambiguous prefix was accepted: %s", stderr)
	}
	if _, stderr, ok := runOne(t, bin, "-r", "a.scap", "-r", "b.scap"); ok || !strings.Contains(string(stderr), "one capture per run") {
		t.Errorf("two -r: ok=%v %s", ok, stderr)
	}
	out, _, ok := runOne(t, bin, "version")
	if !ok || string(out) != "gosysdig version "+version+"\n" {
		t.Errorf("gosysdig version: %q", out)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, stderr, ok := runOne(t, bin, "completion", sh)
		if !ok || !bytes.Contains(out, []byte("gosysdig")) {
			t.Errorf("completion %s: %s", sh, stderr)
		}
	}
	if out, _, _ := runOne(t, bin, "__complete", "-t", ""); !bytes.Contains(out, []byte("D\tdelta from the previous event")) {
		t.Errorf("-t's modes are not completed: %s", out)
	}
	if out, _, _ := runOne(t, bin, "__complete", "-c", ""); !bytes.Contains(out, []byte("topprocs_cpu\t")) {
		t.Errorf("chisel names are not completed: %.300s", out)
	}
	if _, _, ok := runOne(t, bin, "completion", "tcsh"); ok {
		t.Error("completion tcsh succeeded")
	}
	dir := t.TempDir()
	if _, stderr, ok := runOne(t, bin, "man", dir); !ok {
		t.Fatalf("man: %s", stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, "gosysdig.8"))
	if err != nil {
		t.Fatal(err)
	}
	for long := range sysdigFlags {
		if long != "help" && !bytes.Contains(page, []byte("--"+long)) {
			t.Errorf("gosysdig.8 does not document --%s", long)
		}
	}
	for _, sub := range []string{"rules", "ui", "version", "completion", "man"} {
		if _, err := os.Stat(filepath.Join(dir, "gosysdig-"+sub+".8")); err != nil {
			t.Errorf("no man page for %s: %v", sub, err)
		}
	}
}

// TestUINeedsTerminal: without a terminal the UI exits 1 with a clear message, not a panic.
func TestUINeedsTerminal(t *testing.T) {
	bin := buildBinary(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, args := range [][]string{{"ui"}, {"ui", "-r", "/nonexistent-but-unread.scap"}} {
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, nil, &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if args[len(args)-1] != "ui" {
			// A capture that cannot be opened is reported first, as before.
			if !ok || ee.ExitCode() != 1 {
				t.Errorf("%v: %v %s", args, err, stderr.String())
			}
			continue
		}
		if !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "needs a terminal") || strings.Contains(stderr.String(), "panic") {
			t.Errorf("%v without a terminal: %v, stderr %q", args, err, stderr.String())
		}
	}
}

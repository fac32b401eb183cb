package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// sysdigFlags is sysdig 0.29.3's option table (userspace/sysdig/sysdig.cpp, long_options and
// the getopt string): long name → short letter ("" when it has none). -M has no long name.
var sysdigFlags = map[string]string{
	"print-ascii": "A", "print-base64": "b", "bpf": "B", "chisel": "c", "list-chisels": "",
	"cri": "", "cri-timeout": "", "displayflt": "d", "debug": "D", "exclude-users": "E",
	"event-limit": "e", "fatfile": "F", "filter-proclist": "", "seconds": "G", "help": "h",
	"plugin": "H", "input": "I", "chisel-info": "i", "file-size": "C", "json": "j",
	"k8s-api": "k", "node-name": "", "k8s-api-cert": "K", "large-environment": "", "list": "l",
	"list-events": "L", "list-markdown": "", "libs-version": "", "mesos-api": "m",
	"numevents": "n", "page-faults": "", "plugin-config-file": "", "progress": "P", "print": "p",
	"quiet": "q", "resolve-ports": "R", "readfile": "r", "snaplen": "s", "summary": "S",
	"suppress-comm": "U", "udig": "u", "timetype": "t", "force-tracers-capture": "T",
	"unbuffered": "", "verbose": "v", "version": "", "writefile": "w", "limit": "W",
	"print-hex": "x", "print-hex-ascii": "X", "compress": "z",
}

type readmeRow struct {
	short, long, status, notes string
}

var rowFlag = regexp.MustCompile("^`(-[A-Za-z])`(?:, `--([a-z0-9-]+)`)?$|^`--([a-z0-9-]+)`$")

func readmeFlagRows(t *testing.T) []readmeRow {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "## sysdig 0.29.3's flags")
	if !ok {
		t.Fatal("README.md has no \"## sysdig 0.29.3's flags\" section")
	}
	var rows []readmeRow
	for _, l := range strings.Split(table, "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(l, "|"), " | ")
		if len(cols) != 3 {
			t.Fatalf("README flag row %q: want 3 columns", l)
		}
		m := rowFlag.FindStringSubmatch(strings.TrimSpace(cols[0]))
		if m == nil {
			t.Fatalf("README flag row %q: cannot read the flag", l)
		}
		r := readmeRow{short: strings.TrimPrefix(m[1], "-"), long: m[2] + m[3], status: strings.TrimSpace(cols[1]), notes: cols[2]}
		rows = append(rows, r)
	}
	return rows
}

// TestReadmeFlagTable keeps the README's table of sysdig's flags true: one row per sysdig flag
// with sysdig's names, and each row's claim holds in gosysdig's flag set.
func TestReadmeFlagTable(t *testing.T) {
	rows := readmeFlagRows(t)
	fs := newRootCmd().Flags()
	refused := map[string]bool{}
	for _, r := range refusedFlags {
		refused[r.long] = true
	}
	seen := map[string]bool{}
	for _, r := range rows {
		key := r.long
		if key == "" {
			key = "-" + r.short
		}
		if seen[key] {
			t.Errorf("%s has two rows", key)
		}
		seen[key] = true
		if r.long != "" {
			short, ok := sysdigFlags[r.long]
			if !ok {
				t.Errorf("--%s is not a flag of sysdig 0.29.3", r.long)
			} else if short != r.short {
				t.Errorf("--%s: the row says -%s, sysdig's is -%s", r.long, r.short, short)
			}
		}
		switch r.status {
		case "same", "differs", "refused":
		default:
			t.Errorf("%s: status %q is not same, differs or refused", key, r.status)
		}
		if r.status == "refused" != refused[r.long] {
			t.Errorf("%s: the README says %s, refusedFlags disagrees", key, r.status)
		}
		if r.long == "help" {
			continue // cobra adds --help when the command runs
		}
		var fl = fs.ShorthandLookup(r.short)
		if r.long != "" {
			fl = fs.Lookup(r.long)
			if fl == nil {
				t.Errorf("gosysdig has no --%s", r.long)
				continue
			}
			if fl.Shorthand != r.short {
				t.Errorf("gosysdig's --%s has short -%s, sysdig's -%s", r.long, fl.Shorthand, r.short)
			}
		} else if fl == nil {
			t.Errorf("gosysdig has no -%s", r.short)
		}
	}
	for long := range sysdigFlags {
		if !seen[long] {
			t.Errorf("sysdig's --%s has no row in README.md", long)
		}
	}
	if !seen["-M"] {
		t.Error("sysdig's -M has no row in README.md")
	}
}

// TestSysdigHelpFlagsKnown checks the option table above against the installed sysdig: every
// long flag its --help names is one of them (or, like --read, a prefix getopt accepts).
func TestSysdigHelpFlagsKnown(t *testing.T) {
	sysdig := needSysdigOrCI(t)
	out, _ := exec.Command(sysdig, "--help").CombinedOutput()
	if !strings.Contains(string(out), "sysdig version 0.29.3") {
		t.Fatalf("not sysdig 0.29.3:\n%.200s", out)
	}
	names := regexp.MustCompile(`(?m)^ (?:-\S+, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1)
	if len(names) < 30 {
		t.Fatalf("found only %d long flags in sysdig --help", len(names))
	}
	for _, m := range names {
		n := 0
		for long := range sysdigFlags {
			if strings.HasPrefix(long, m[1]) {
				n++
			}
		}
		if _, exact := sysdigFlags[m[1]]; !exact && n != 1 {
			t.Errorf("sysdig --help names --%s, which is not one of its options (or a unique prefix of one)", m[1])
		}
		// gosysdig accepts it the same way.
		if m[1] != "help" && newRootCmd().Flags().Lookup(m[1]) == nil {
			t.Errorf("gosysdig does not accept --%s, which sysdig --help documents", m[1])
		}
	}
}

// needSysdigOrCI returns sysdig's path; without it, the test skips outside CI and fails in CI.
func needSysdigOrCI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sysdig")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sysdig 0.29.3 is needed under CI")
		}
		t.Skip("sysdig not installed: skipping the comparison with sysdig 0.29.3")
	}
	return p
}

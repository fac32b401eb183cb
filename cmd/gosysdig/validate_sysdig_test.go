package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestValidationAgainstSysdig runs each class of bad filter and -p format that libsinsp
// 0.29.3 refuses, and a valid neighbour of each that it accepts, through sysdig and gosysdig
// on a shared trace: both must refuse (sysdig prints its error and nothing else; gosysdig
// exits 1) with the same message after the position prefix, or both accept with the same
// output.
func TestValidationAgainstSysdig(t *testing.T) {
	sysdig := needSysdigOrCI(t)
	bin := buildBinary(t)
	trace := sharedOr("cat_write.scap", "shell_chain.scap")
	prefix := regexp.MustCompile(`^filter error at (position|column) \d+: `)
	cases := [][]string{
		{"evt.type=opne"}, {"evt.type in (open, zzz)"}, {"evt.type contains zzz"}, {"evt.type=mlock"},
		{"fd.port=abc"}, {"fd.port=http"}, {"proc.pid=x"}, {"proc.pid>x"}, {"proc.pid in (1, y)"},
		{"fd.ip=1.2.3"}, {"fd.net=1.2.3.0/99"}, {"fd.net=127.0.0.0/8"},
		{"evt.failed=x"}, {"evt.failed=true"}, {"evt.rawtime=x"},
		{"evt.arg.nosuch=1"}, {"evt.arg.fd=3"},
		{"-p", "%evt.arg.nosuch"}, {"-p", "%evt.num %evt.arg.fd"},
	}
	// Large filters, evaluated: the output must be sysdig's. (Odd runs of "not" only: sysdig
	// 0.29.3 reads "not not X" as "not X", a parser quirk gosysdig does not copy.)
	var ors, ands, names []string
	for i := 0; i < 999; i++ {
		ors = append(ors, fmt.Sprintf("proc.pid=%d", i))
		ands = append(ands, fmt.Sprintf("proc.pid!=%d", i))
	}
	for i := 0; i < 4999; i++ {
		names = append(names, fmt.Sprintf("name%d", i))
	}
	cases = append(cases,
		[]string{strings.Join(append(ors, "proc.name=cat"), " or ")},
		[]string{strings.Join(append(ands, "evt.type=read"), " and ")},
		[]string{"proc.name in (" + strings.Join(append(names, "cat"), ",") + ")"},
		[]string{strings.Repeat("not ", 499) + "evt.type=read"},
		[]string{strings.Repeat("not ", 497) + "evt.type=read"})
	for _, c := range cases {
		args := append([]string{"-r", trace}, c...)
		so, se, sok := runOne(t, sysdig, args...)
		gso, gse, gok := runOne(t, bin, args...)
		sysErr := ""
		if !sok {
			sysErr = prefix.ReplaceAllString(strings.TrimSpace(string(se)), "")
		}
		if sysErr == "" {
			if !gok || string(gso) != string(so) {
				t.Errorf("%q: sysdig accepts (%d bytes of output), gosysdig ok=%v stderr %q, %d bytes", c, len(so), gok, gse, len(gso))
			}
			continue
		}
		if gok {
			t.Errorf("%q: sysdig refuses (%q), gosysdig exits 0", c, sysErr)
			continue
		}
		first, _, _ := strings.Cut(string(gse), "\n")
		got := prefix.ReplaceAllString(first, "")
		got = strings.TrimPrefix(got, "invalid output format: ")
		if got != sysErr {
			t.Errorf("%q: message %q, sysdig %q", c, got, sysErr)
		}
	}
}

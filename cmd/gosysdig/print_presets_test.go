package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrintPresetsAndQuiet compares with sysdig 0.29.3 on every shared trace: -pc and -pcontainer
// (the container-friendly format), -pk and -pkubernetes (the pod, <NA> in these traces as in
// sysdig), -q (nothing printed), -w with -p (-w implies -q) and a chisel
// with -p (only the chisel prints).
func TestPrintPresetsAndQuiet(t *testing.T) {
	sysdig, bin, traces := sysdigAndTraces(t)
	for _, tr := range traces {
		out := filepath.Join(t.TempDir(), "out.scap")
		for _, args := range [][]string{
			{"-pc"},
			{"-pcontainer", "evt.type=execve"},
			{"-pk"},
			{"-pkubernetes", "evt.type=execve"},
			{"-q"},
			{"-w", out, "-p", "%evt.num"},
			{"-p", "%evt.num", "-c", "topfiles_bytes"},
		} {
			args := append([]string{"-r", tr}, args...)
			want := runTZ(t, sysdig, args...)
			got := runTZ(t, bin, args...)
			// A chisel's table may order rows tied at its top-N cut differently.
			if !bytes.Equal(got, want) && !(args[len(args)-2] == "-c" && sameChisel(want, got)) {
				t.Errorf("%s: gosysdig differs from sysdig:\n%s", strings.Join(args, " "), firstDiff(got, want))
			}
		}
	}
	if b, err := exec.Command(bin, "-r", traces[0], "-pm").CombinedOutput(); err == nil || !strings.Contains(string(b), "Mesos") {
		t.Errorf("-pm: want an error naming the missing Mesos fields, got %v: %s", err, b)
	}
}

package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrintPresetsAndQuiet compares with sysdig 0.29.3 on every shared trace: -pc and -pcontainer
// (the container-friendly format), -q (nothing printed), -w with -p (-w implies -q) and a chisel
// with -p (only the chisel prints).
func TestPrintPresetsAndQuiet(t *testing.T) {
	sysdig, bin, traces := sysdigAndTraces(t)
	for _, tr := range traces {
		out := filepath.Join(t.TempDir(), "out.scap")
		for _, args := range [][]string{
			{"-pc"},
			{"-pcontainer", "evt.type=execve"},
			{"-q"},
			{"-w", out, "-p", "%evt.num"},
			{"-p", "%evt.num", "-c", "topfiles_bytes"},
		} {
			args := append([]string{"-r", tr}, args...)
			want := runTZ(t, sysdig, args...)
			got := runTZ(t, bin, args...)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: gosysdig differs from sysdig:\n%s", strings.Join(args, " "), firstDiff(got, want))
			}
		}
	}
	if b, err := exec.Command(bin, "-r", traces[0], "-pk").CombinedOutput(); err == nil || !strings.Contains(string(b), "Kubernetes") {
		t.Errorf("-pk: want an error naming the missing Kubernetes fields, got %v: %s", err, b)
	}
}

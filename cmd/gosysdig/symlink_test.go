package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputFilesRefuseSymlinks plants a symbolic link at every kind of output path (-w, a
// rotated -w name, --pcap, rules --out-file): each run must exit 1 naming the link, and the
// file the link points to must stay untouched. Without a link, each output is created 0600.
func TestOutputFilesRefuseSymlinks(t *testing.T) {
	bin := buildBinary(t)
	tr := sharedOr("syscall.scap", "tcp4.scap")
	rulesFile, err := filepath.Abs("../../rules/testdata/base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		planted string // the path name the run opens first
		args    func(out string) []string
	}{
		{"write", "out.scap", func(o string) []string { return []string{"-r", tr, "-w", o} }},
		{"rotated", "out.scap0", func(o string) []string {
			return []string{"-r", tr, "-w", strings.TrimSuffix(o, "0"), "-C", "1", "-W", "2"}
		}},
		{"pcap", "out.pcap", func(o string) []string { return []string{"-r", tr, "--pcap", o} }},
		{"out-file", "alerts.txt", func(o string) []string {
			return []string{"rules", "-R", rulesFile, "-r", tr, "--out-file", o}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "precious")
			if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, c.planted)
			if err := os.Symlink(target, out); err != nil {
				t.Fatal(err)
			}
			_, errs, code := runBin(t, bin, c.args(out)...)
			if code != 1 || !strings.Contains(errs, "symbolic link") {
				t.Errorf("exit %d, stderr %q: want exit 1 and a message about the link", code, errs)
			}
			if b, _ := os.ReadFile(target); string(b) != "keep me" {
				t.Errorf("link target changed to %q", b)
			}
			os.Remove(out)
			if _, errs, code = runBin(t, bin, c.args(out)...); code != 0 {
				t.Fatalf("without the link: exit %d: %s", code, errs)
			}
			fi, err := os.Lstat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
				t.Errorf("%s: mode %v, want a regular file 0600", out, fi.Mode())
			}
		})
	}
}

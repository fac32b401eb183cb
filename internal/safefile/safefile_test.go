package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefusesSymlinkAndCreates0600(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(string) (*os.File, error)
	}{{"Create", Create}, {"Append", Append}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "target")
			if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "out")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if f, err := tc.open(link); err == nil {
				f.Close()
				t.Fatal("opened through a symlink")
			} else if !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("error %q does not say why", err)
			}
			if b, _ := os.ReadFile(target); string(b) != "precious" {
				t.Errorf("target changed to %q", b)
			}
			fresh := filepath.Join(dir, "fresh")
			f, err := tc.open(fresh)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			fi, err := os.Stat(fresh)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %o, want 600", fi.Mode().Perm())
			}
		})
	}
}

func TestAppendKeepsContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alerts")
	if err := os.WriteFile(p, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Append(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("b\n")
	f.Close()
	if b, _ := os.ReadFile(p); string(b) != "a\nb\n" {
		t.Errorf("got %q", b)
	}
}

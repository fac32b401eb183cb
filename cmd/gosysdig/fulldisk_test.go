package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// TestWriteFullDisk writes a capture onto a tiny tmpfs: the write must fail with a clear error
// and a non-zero exit, and what reached the disk must still read as a capture up to the damage.
func TestWriteFullDisk(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	// The tmpfs holds the capture's header (the process list, most of it) and 64 KiB more, of
	// the 190 KiB of events after it.
	src := filepath.Join(testcaptures.CorpusDir(), "pidns.scap")
	head := filepath.Join(t.TempDir(), "head.scap")
	if b, err := exec.Command(bin, "-r", src, "-n", "1", "-w", head).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	fi, err := os.Stat(head)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dk", fi.Size()/1024+64)); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	out := filepath.Join(dir, "full.scap")
	b, err := exec.Command(bin, "-r", src, "-w", out).CombinedOutput()
	if err == nil {
		t.Fatal("writing past a full disk succeeded")
	}
	if !strings.Contains(string(b), "no space left on device") || strings.Contains(string(b), "panic") {
		t.Fatalf("unclear error: %s", b)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("nothing of the capture reached the disk: %v", err)
	}
	// gosysdig reads what was written, then says where the file ends early.
	got, err := exec.Command(bin, "-r", out, "-D", "-p", "%evt.num").Output() // -D: the first events are internal ones
	if len(got) == 0 {
		t.Errorf("no event of the partial capture could be read (%v)", err)
	}
}

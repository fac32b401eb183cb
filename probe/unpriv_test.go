package probe

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadUnprivileged re-runs this test binary as nobody and checks that
// Load fails with an error that names the privileges it needs.
func TestLoadUnprivileged(t *testing.T) {
	if os.Getenv("PROBE_UNPRIV_CHILD") == "1" {
		_, err := Load(Options{})
		if err == nil {
			t.Fatal("Load succeeded without privileges")
		}
		if !strings.Contains(err.Error(), "root or CAP_BPF+CAP_PERFMON") {
			t.Fatalf("error does not name the privileges: %v", err)
		}
		return
	}
	needRoot(t)
	// The test binary lives in a root-only build directory: copy it
	// somewhere nobody can execute it.
	dir, err := os.MkdirTemp("", "probe-unpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "probe.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestLoadUnprivileged$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PROBE_UNPRIV_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err == nil {
		if err != nil {
			t.Fatalf("unprivileged Load check failed:\n%s", out)
		}
		if !strings.Contains(string(out), "PASS") {
			t.Fatalf("child did not run the check:\n%s", out)
		}
		return
	}
	t.Skipf("cannot run the test binary as nobody: %v", err)
}

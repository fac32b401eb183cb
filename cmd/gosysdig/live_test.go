package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTraced starts gosysdig live with args and returns once its probe is attached.
func startTraced(t *testing.T, bin, ready string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--ready-file", ready}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A test that fails before stopping the capture must not leave its probe attached.
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd, &out, &errb
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("probe not ready after 30s: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// needRoot skips live tests without root outside CI and fails them under CI.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("live tests need root under CI")
		}
		t.Skip("live tests need root")
	}
}

// traceLive runs gosysdig live with args, waits until the probe is attached, runs the workload,
// then stops gosysdig with SIGINT and returns what it printed.
func traceLive(t *testing.T, bin string, workload func(), args ...string) string {
	t.Helper()
	cmd, out, errb := startTraced(t, bin, filepath.Join(t.TempDir(), "ready"), args...)
	workload()
	time.Sleep(300 * time.Millisecond) // let the reader drain the ring buffer
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gosysdig %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func sh(t *testing.T, script string) {
	t.Helper()
	if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func TestLiveCatHostname(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	out := traceLive(t, bin, func() { sh(t, "cat /etc/hostname >/dev/null; true") },
		"-p", "*%evt.type %evt.dir %fd.name %proc.name %proc.pname %user.name %proc.cmdline",
		"proc.name=cat and ((evt.type in (open, openat) and evt.dir=< and fd.name=/etc/hostname) or (evt.type=execve and evt.dir=<))")
	if !strings.Contains(out, "execve < <NA> cat bash root cat /etc/hostname") {
		t.Errorf("no execve of cat with its full command line:\n%s", out)
	}
	if !strings.Contains(out, "< /etc/hostname cat bash root cat /etc/hostname") {
		t.Errorf("no open of /etc/hostname by cat, child of bash, as root:\n%s", out)
	}
}

func TestLiveHostShellIsNotInContainer(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	work := func() { sh(t, "bash -c 'echo hi >/dev/null; exit 0'") }
	if out := traceLive(t, bin, work, "container.id != host and proc.name = bash"); strings.TrimSpace(out) != "" {
		t.Errorf("a host bash matched the container rule:\n%s", firstLines(out, 5))
	}
	out := traceLive(t, bin, work, "-p", "%container.id %proc.name", "proc.name = bash")
	if !strings.Contains(out, "host bash") {
		t.Errorf("container.id of a host bash is not host:\n%s", firstLines(out, 5))
	}
}

func TestLiveWriteBelowBinary(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	target := "/usr/bin/gosysdig-livetest-" + fmtInt(os.Getpid())
	defer os.Remove(target)
	out := traceLive(t, bin, func() { sh(t, "echo payload > "+target) },
		"-p", "%evt.type %fd.name", "fd.directory in (/bin, /sbin, /usr/bin, /usr/sbin) and evt.type=write")
	if !strings.Contains(out, "write "+target) {
		t.Errorf("no write to %s:\n%s", target, firstLines(out, 5))
	}
}

func TestLiveSetns(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("nsenter not installed")
	}
	bin := buildBinary(t)
	// The shell's own namespaces: pid 1's may be out of reach in a sandbox.
	out := traceLive(t, bin, func() { sh(t, "nsenter -t $$ -m true") },
		"-p", "%evt.type %proc.name", "evt.type = setns and not proc.name in (docker, sysdig)")
	if !strings.Contains(out, "setns nsenter") {
		t.Errorf("no setns by nsenter:\n%s", firstLines(out, 5))
	}
}

func TestLiveCreateInDev(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	target := "/dev/gosysdig-livetest-" + fmtInt(os.Getpid())
	defer os.Remove(target)
	out := traceLive(t, bin, func() { sh(t, "touch "+target) },
		"-p", "%evt.type %fd.name %evt.arg.flags",
		"(evt.type = creat or evt.arg.flags contains O_CREAT) and proc.name != blkid and fd.directory = /dev and fd.name != /dev/null")
	if !strings.Contains(out, target) || !strings.Contains(out, "O_CREAT") {
		t.Errorf("no O_CREAT open of %s:\n%s", target, firstLines(out, 5))
	}
}

func TestLiveCameraAccess(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	if _, err := os.Stat("/dev/video0"); os.IsNotExist(err) {
		// A character device node standing in for a camera (the same device as /dev/null).
		if err := syscall.Mknod("/dev/video0", syscall.S_IFCHR|0o600, 1<<8|3); err != nil {
			t.Fatalf("mknod /dev/video0: %v", err)
		}
		defer os.Remove("/dev/video0")
	}
	out := traceLive(t, bin, func() { sh(t, "head -c 0 /dev/video0") },
		"-p", "%evt.type %fd.name %proc.name",
		"evt.type in (open, openat) and fd.name = /dev/video0 and not proc.name in (skype, webex)")
	if !strings.Contains(out, "/dev/video0 head") {
		t.Errorf("no open of /dev/video0 by head:\n%s", firstLines(out, 5))
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

// TestLiveUnprivileged runs a live capture as nobody: a clear error naming the privileges
// needed and a non-zero exit, no panic.
func TestLiveUnprivileged(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	// A folder nobody can reach (t.TempDir's parents are private to root).
	dir, err := os.MkdirTemp("", "gosysdig-nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	cp := filepath.Join(dir, "gosysdig")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cp, "-M", "1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a live capture as nobody succeeded:\n%s", out)
	}
	if strings.Contains(string(out), "panic") || !strings.Contains(string(out), "CAP_BPF") || !strings.Contains(string(out), "root") {
		t.Fatalf("unclear error:\n%s", out)
	}
}

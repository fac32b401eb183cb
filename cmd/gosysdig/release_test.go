package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRelease runs `make release`: static linux binaries for amd64 and arm64, the version
// stamped, checksums beside them. The amd64 one is run; the arm64 one is checked as an ELF file.
func TestMakeRelease(t *testing.T) {
	needTool(t, "make")
	dist := t.TempDir()
	const ver = "9.8.7-releasetest"
	out, err := exec.Command("make", "-C", "../..", "release", "DIST="+dist, "VERSION="+ver).CombinedOutput()
	if err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		bin := filepath.Join(dist, "gosysdig-linux-"+arch)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		if f.Machine != machine {
			t.Errorf("%s: machine %v, want %v", bin, f.Machine, machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is not static: it has a %v segment", bin, p.Type)
			}
		}
		f.Close()
	}
	got, err := exec.Command(filepath.Join(dist, "gosysdig-linux-amd64"), "version").Output()
	if err != nil || string(got) != "gosysdig version "+ver+"\n" {
		t.Errorf("version of the release binary: %q, %v", got, err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || !bytes.Contains(sums, []byte("gosysdig-linux-amd64")) || !bytes.Contains(sums, []byte("gosysdig-linux-arm64")) {
		t.Errorf("SHA256SUMS: %q, %v", sums, err)
	}
}

// TestGoInstall installs the command by its module path, as a user of the module would.
func TestGoInstall(t *testing.T) {
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/gosysdig/gosysdig/cmd/gosysdig")
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(gobin, "gosysdig"), "version").Output(); err != nil || !strings.HasPrefix(string(out), "gosysdig version ") {
		t.Errorf("installed gosysdig version: %q, %v", out, err)
	}
}

// imageRunFlags are what README's "Running in a container" gives podman: the host's PID
// namespace (its /proc), the capabilities the probe uses, and a seccomp profile that lets
// bpf() through (podman's default allows it only with CAP_SYS_ADMIN).
var imageRunFlags = []string{"--pid=host", "--security-opt", "seccomp=unconfined",
	"--cap-drop=all", "--cap-add=BPF,PERFMON,SYS_RESOURCE,SYS_PTRACE"}

// TestImageTracesHost builds the image with `make image` and runs it as README says: it traces
// a process started on the host, named with its executable and parent.
func TestImageTracesHost(t *testing.T) {
	needRoot(t)
	needTool(t, "make", "podman", "runc")
	env, _ := podmanSetup(t)
	image := "localhost/gosysdig-imagetest-" + randomHex(t, 6)
	mk := exec.Command("make", "-C", "../..", "image", "DIST="+t.TempDir(), "IMAGE="+image, "VERSION=1.0.0-imagetest")
	mk.Env = append(os.Environ(), env...)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		rmi := exec.Command("podman", "rmi", "-f", image+":latest", image+":1.0.0-imagetest")
		rmi.Env = append(os.Environ(), env...)
		rmi.Run()
	})
	dir := t.TempDir()
	tracee := filepath.Join(dir, "gsdimgcat")
	if b, err := os.ReadFile("/bin/cat"); err != nil || os.WriteFile(tracee, b, 0o755) != nil {
		t.Fatalf("copying cat: %v", err)
	}
	name := "gosysdig-imagetest-" + randomHex(t, 6)
	args := append([]string{"run", "--rm", "--name", name, "-v", dir + ":/ready"}, imageRunFlags...)
	args = append(args, image+":latest", "--ready-file", "/ready/ready",
		"-p", "%proc.name %proc.exe %proc.pname %fd.name", "proc.name=gsdimgcat and evt.type=openat and evt.dir=< and fd.name contains hostname")
	run := exec.Command("podman", args...)
	run.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	run.Stdout, run.Stderr = &out, &errb
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container's probe was not ready after 60 s:\n%s", errb.String())
		}
	}
	if out, err := exec.Command("sh", "-c", tracee+" /etc/hostname >/dev/null").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	kill := exec.Command("podman", "kill", "--signal", "INT", name)
	kill.Env = append(os.Environ(), env...)
	if b, err := kill.CombinedOutput(); err != nil {
		t.Fatalf("podman kill: %v %s", err, b)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the container exited with %v:\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		run.Process.Signal(syscall.SIGKILL)
		t.Fatal("the container did not end 20 s after SIGINT")
	}
	want := "gsdimgcat " + tracee + " sh /etc/hostname\n"
	if out.String() != want {
		t.Errorf("the container printed %q, want %q\nstderr: %s", out.String(), want, errb.String())
	}
}

package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveCaptureReadBack captures a real workload (cat, ls, a TCP exchange with a listener in
// this test) and checks that sysdig 0.29.3 and gosysdig read the file identically, with the
// workload's events there and their fds named.
func TestLiveCaptureReadBack(t *testing.T) {
	needRoot(t)
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 16)
		c.Read(buf)
		c.Write([]byte("pong\n"))
		c.Close()
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	out := filepath.Join(t.TempDir(), "live.scap")
	// The workload runs in a shell with a name of its own, so that other shells on the machine
	// (tests of other packages run at the same time) stay out of what is compared.
	shell := filepath.Join(t.TempDir(), "gsdwork")
	if b, err := os.ReadFile("/bin/bash"); err != nil || os.WriteFile(shell, b, 0o755) != nil {
		t.Fatalf("copying bash: %v", err)
	}
	script := fmt.Sprintf("cat /etc/hostname >/dev/null; ls / >/dev/null; exec 3<>/dev/tcp/127.0.0.1/%d; echo ping >&3; head -c 5 <&3 >/dev/null", port)
	traceLive(t, bin, func() {
		if b, err := exec.Command(shell, "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("workload: %v\n%s", err, b)
		}
	}, "-w", out, "proc.name=gsdwork or proc.pname=gsdwork")
	want := runTZ(t, sysdig, "-r", out)
	got := runTZ(t, bin, "-r", out)
	if !bytes.Equal(got, want) {
		t.Fatalf("gosysdig and sysdig read the live capture differently:\n%s", firstDiff(got, want))
	}
	for _, s := range []string{
		"gsdwork (", "cat (", "< openat fd=3(<f>/etc/hostname)",
		"ls (", "getdents64 fd=3(<d>/)",
		"< connect res=0 tuple=127.0.0.1:",
		fmt.Sprintf("->127.0.0.1:%d", port),
	} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("the capture lacks %q", s)
		}
	}
	// The same context fields from both tools.
	format := "*%evt.num %proc.name %proc.pname %proc.cmdline %fd.name %fd.typechar %user.name %evt.res"
	if got, want := runTZ(t, bin, "-r", out, "-p", format), runTZ(t, sysdig, "-r", out, "-p", format); !bytes.Equal(got, want) {
		t.Errorf("fields differ:\n%s", firstDiff(got, want))
	}
}

// TestLiveCaptureSigint stops live captures with SIGINT at random moments: every file must be a
// complete capture sysdig reads without error.
func TestLiveCaptureSigint(t *testing.T) {
	needRoot(t)
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < 20; i++ {
		out := filepath.Join(dir, fmt.Sprintf("c%02d.scap", i))
		ready := filepath.Join(dir, fmt.Sprintf("ready%02d", i))
		cmd, _, errb := startTraced(t, bin, ready, "-w", out)
		load := exec.Command("bash", "-c", "for i in $(seq 200); do cat /etc/hostname >/dev/null; done")
		load.Start()
		time.Sleep(time.Duration(rng.Intn(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("capture %d: %v\n%s", i, err, errb.String())
		}
		load.Wait()
		if b, err := exec.Command(sysdig, "-r", out).CombinedOutput(); err != nil {
			t.Fatalf("capture %d: sysdig cannot read it: %v\n%s", i, err, lastLines(b))
		}
	}
}

// TestLiveCaptureKilled kills a live capture with SIGKILL: the file must still end on a whole
// block, so sysdig reads it to the end without error.
func TestLiveCaptureKilled(t *testing.T) {
	needRoot(t)
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "k.scap")
	ready := filepath.Join(dir, "ready")
	cmd, _, _ := startTraced(t, bin, ready, "-w", out)
	sh(t, "for i in $(seq 300); do cat /etc/hostname >/dev/null; done")
	time.Sleep(2500 * time.Millisecond) // past at least one periodic flush
	cmd.Process.Kill()
	cmd.Wait()
	// Whole blocks reach the file, but SIGKILL can still cut the very last write(2) short; then
	// sysdig and gosysdig read everything before it and say the file is truncated, nothing else.
	b, err := exec.Command(sysdig, "-r", out).CombinedOutput()
	if err != nil && !strings.Contains(string(b), "truncated") {
		t.Fatalf("sysdig on a killed capture: %v\n%s", err, lastLines(b))
	}
	if !strings.Contains(string(b), "cat") {
		t.Errorf("the killed capture lost the workload's events")
	}
	g, err := exec.Command(bin, "-r", out).CombinedOutput()
	if err != nil && !strings.Contains(string(g), "truncated capture") {
		t.Fatalf("gosysdig on a killed capture: %v\n%s", err, lastLines(g))
	}
	if !strings.Contains(string(g), "cat") {
		t.Errorf("gosysdig lost the workload's events of the killed capture")
	}
}

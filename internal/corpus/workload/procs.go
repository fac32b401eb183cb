package main

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	reg("threads", threads)
	reg("leader_exit", leaderExit)
	reg("shell_chain", shellChain)
	reg("spawn", spawn)
	reg("clone3", clone3)
	reg("execve_fail", execveFail)
	reg("exec_script", execScript)
	reg("setid", setid)
	reg("setid_child", setidChild)
	reg("signals", signals)
	reg("child_killed", childKilled)
}

func threads() error {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread() // the thread exits with the goroutine
			fd, _ := unix.Open("/etc/hostname", unix.O_RDONLY, 0)
			unix.Read(fd, make([]byte, 64))
			unix.Gettid()
			unix.Close(fd)
		}(i)
	}
	wg.Wait()
	return nil
}

// leaderExit: the main thread leaves with exit(2) (not exit_group) while another thread of
// the process goes on opening files and ends the process.
func leaderExit() error {
	runtime.LockOSThread()
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		<-done
		time.Sleep(100 * time.Millisecond)
		for i := 0; i < 3; i++ {
			fd, _ := unix.Open("/etc/hostname", unix.O_RDONLY, 0)
			unix.Close(fd)
		}
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}()
	time.Sleep(10 * time.Millisecond)
	close(done)
	unix.RawSyscall(unix.SYS_EXIT, 0, 0, 0)
	return nil
}

func shellChain() error {
	return exec.Command("/bin/sh", "-c", "echo one | cat | wc -c; (sh -c 'sh -c \"ls /tmp >/dev/null\"') ; true & wait; exit 3").Run()
}

// spawn: Go's os/exec (clone with CLONE_VFORK|CLONE_VM), python's posix_spawn (glibc's
// clone3) and fork, and a grandchild that outlives its parent.
func spawn() error {
	exec.Command("/bin/true").Run()
	exec.Command("/usr/bin/python3", "-c", "import os,sys\np=os.posix_spawn('/bin/true',['true'],os.environ)\nos.waitpid(p,0)\nq=os.fork()\nif q==0:\n  os._exit(0)\nos.waitpid(q,0)\nr=os.fork()\nif r==0:\n  os.execv('/bin/sleep',['sleep','0.2'])\n").Run()
	exec.Command("/bin/sh", "-c", "(sleep 0.1; cat /etc/hostname >/dev/null) & exit 0").Run()
	time.Sleep(300 * time.Millisecond)
	return nil
}

type cloneArgs struct {
	flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls, setTid, setTidSize, cgroup uint64
}

// clone3 makes a child directly with clone3 (no stack: fork-like); the child exits at once
// without touching the Go runtime.
func clone3() error {
	args := cloneArgs{exitSignal: uint64(syscall.SIGCHLD)}
	runtime.LockOSThread()
	pid, _, errno := unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args), 0)
	if errno == 0 && pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 7, 0, 0)
	}
	runtime.UnlockOSThread()
	if errno != 0 {
		return errno
	}
	var ws unix.WaitStatus
	unix.Wait4(int(pid), &ws, 0, nil)
	bad := cloneArgs{flags: unix.CLONE_THREAD} // EINVAL without CLONE_SIGHAND|CLONE_VM
	unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&bad)), unsafe.Sizeof(bad), 0)
	exec.Command("/bin/sh", "-c", "/bin/true").Run()
	return nil
}

func execveFail() error {
	d := scratch("execve_fail")
	os.WriteFile(d+"/noexec", []byte("#!/bin/sh\necho hi\n"), 0o644)
	os.WriteFile(d+"/garbage", []byte("\x01\x02not an executable"), 0o755)
	os.WriteFile(d+"/badinterp", []byte("#!/nonexistent/interp\n"), 0o755)
	for _, p := range []string{"/nonexistent/binary", d + "/noexec", d + "/garbage", d + "/badinterp", d} {
		exec.Command(p, "arg1").Run()
	}
	// A failed execve in the process itself, then it goes on.
	unix.Exec("/nonexistent/self", []string{"self"}, nil)
	return nil
}

func execScript() error {
	d := scratch("exec_script")
	os.WriteFile(d+"/script.sh", []byte("#!/bin/sh\ncat /etc/hostname > /dev/null\nexec /bin/echo done in script\n"), 0o755)
	os.WriteFile(d+"/script.py", []byte("#!/usr/bin/python3\nopen('/etc/hostname').read()\n"), 0o755)
	exec.Command(d+"/script.sh", "first arg", "second").Run()
	exec.Command(d + "/script.py").Run()
	exec.Command("/bin/sh", d+"/script.sh").Run()
	return nil
}

func setid() error {
	return exec.Command("/proc/self/exe", "setid_child").Run()
}

// setidChild drops to nobody in steps. Go's wrappers apply to every thread (one event per
// thread); the raw calls on one thread show the single-thread case first.
func setidChild() error {
	runtime.LockOSThread()
	unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0)
	unix.RawSyscall(unix.SYS_SETRESGID, 65534, 65534, 65534)
	unix.RawSyscall(unix.SYS_SETREGID, ^uintptr(0), 65534, 0)
	unix.RawSyscall(unix.SYS_SETGID, 65534, 0, 0)
	unix.RawSyscall(unix.SYS_SETFSUID, 1000, 0, 0)
	unix.RawSyscall(unix.SYS_SETRESUID, 65534, 65534, 65534)
	unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0) // EPERM now
	fd, _ := unix.Open("/etc/hostname", unix.O_RDONLY, 0)
	unix.Close(fd)
	unix.Open("/root/.profile", unix.O_RDONLY, 0)
	cmd := exec.Command("/bin/cat", "/etc/hostname")
	cmd.Run()
	return nil
}

func signals() error {
	c := make(chan os.Signal, 4)
	signalNotify(c)
	unix.Kill(os.Getpid(), unix.SIGUSR1)
	<-c
	unix.Tgkill(os.Getpid(), unix.Gettid(), unix.SIGUSR2)
	<-c
	unix.Kill(999999, unix.SIGTERM) // ESRCH
	unix.Kill(1, 0)
	return nil
}

func childKilled() error {
	cmd := exec.Command("/bin/sleep", "5")
	cmd.Start()
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	cmd = exec.Command("/bin/sh", "-c", "kill -SEGV $$")
	cmd.Run()
	return nil
}

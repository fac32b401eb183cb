package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// atFDCWD is AT_FDCWD (-100) as a raw system call argument.
var atFDCWD = ^uintptr(99)

func init() {
	reg("pidns", pidns)
	reg("pidns_init", pidnsInit)
}

// pidns runs pidns_init as the first process of a new PID namespace (as a container's first
// process runs): inside it every thread has two ids, the host's (tid, pid, ptid) and the
// namespace's (vtid, vpid), and clone, fork, vfork and clone3 return the namespace's.
func pidns() error {
	cmd := exec.Command("/proc/self/exe", "pidns_init")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	return cmd.Run()
}

// pidnsInit is pid 1 of the namespace: it forks a shell that runs two commands, forks a raw
// child (clone with SIGCHLD) and a clone3 child that each open a file, starts a thread that
// writes one, and vforks a true (os/exec).
func pidnsInit() error {
	dir := scratch("pidns")
	exec.Command("/bin/sh", "-c", "/bin/true; cat /etc/hostname >/dev/null").Run()
	exec.Command("/bin/true").Run()

	name := filepath.Join(dir, "child")
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		fd, _, _ := unix.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)), unix.O_CREAT|unix.O_WRONLY, 0o644, 0, 0)
		unix.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	runtime.UnlockOSThread()
	if errno == 0 {
		var ws unix.WaitStatus
		unix.Wait4(int(pid), &ws, 0, nil)
	}

	args := cloneArgs{exitSignal: uint64(syscall.SIGCHLD)}
	runtime.LockOSThread()
	pid, _, errno = unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args), 0)
	if errno == 0 && pid == 0 {
		fd, _, _ := unix.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)), unix.O_RDONLY, 0, 0, 0)
		unix.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 3, 0, 0)
	}
	runtime.UnlockOSThread()
	if errno == 0 {
		var ws unix.WaitStatus
		unix.Wait4(int(pid), &ws, 0, nil)
	}

	done := make(chan error)
	go func() {
		runtime.LockOSThread() // a thread of its own, ended with the goroutine
		done <- os.WriteFile(filepath.Join(dir, "from_thread"), []byte("t\n"), 0o644)
	}()
	return <-done
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	reg("podman_init", podmanInit)
}

// podmanInit is the entry point of the podman capture's container (scripts/corpus-record.sh
// runs it with podman run, never directly): pid 1 of the container's own PID namespace, in
// the container's cgroups. A shell writes a file and runs a subshell that forks two cats; a
// raw fork child opens and writes a file; two threads each write one.
func podmanInit() error {
	dir := scratch("podman")
	out := filepath.Join(dir, "from_sh")
	if err := exec.Command("/bin/sh", "-c", "echo from sh >"+out+"; (cat "+out+"; cat /etc/hostname) >/dev/null").Run(); err != nil {
		return err
	}

	name := filepath.Join(dir, "from_child")
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	msg := []byte("child\n")
	runtime.LockOSThread()
	pid, _, errno := unix.RawSyscall6(unix.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno == 0 && pid == 0 {
		// The child touches nothing of the Go runtime: raw calls only.
		fd, _, _ := unix.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)), unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, 0o644, 0, 0)
		unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
		unix.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	runtime.UnlockOSThread()
	if errno != 0 {
		return errno
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(int(pid), &ws, 0, nil); err != nil {
		return err
	}

	// Both threads hold their OS thread until both have written, so that they are two.
	var wg, started sync.WaitGroup
	errs := make([]error, 2)
	started.Add(2)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread() // the thread ends with the goroutine
			started.Done()
			started.Wait()
			errs[i] = os.WriteFile(filepath.Join(dir, "from_thread"+string(rune('1'+i))), []byte("t\n"), 0o644)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

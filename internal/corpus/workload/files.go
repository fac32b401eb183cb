package main

import (
	"os"
	"os/exec"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	reg("pipes", pipes)
	reg("fifo", fifo)
	reg("dup", dups)
	reg("openflags", openFlags)
	reg("openat2", openat2)
	reg("creat", creat)
	reg("fileops", fileOps)
	reg("chdir", chdirs)
	reg("names", names)
	reg("bigwrite", bigWrite)
	reg("mid_files", midFiles)
	reg("rwvariants", rwVariants)
	reg("stat", stats)
	reg("specialfds", specialFds)
	reg("mmap", mmaps)
	reg("poll", polls)
	reg("sendfile", sendFile)
	reg("prlimit", prlimits)
}

func pipes() error {
	var p [2]int
	must(unix.Pipe2(p[:], unix.O_CLOEXEC))
	for i := 0; i < 3; i++ {
		unix.Write(p[1], []byte("through the pipe\n"))
		buf := make([]byte, 64)
		unix.Read(p[0], buf)
	}
	unix.Close(p[1])
	buf := make([]byte, 8)
	unix.Read(p[0], buf) // EOF
	unix.Close(p[0])
	must(unix.Pipe(p[:]))
	unix.Close(p[0])
	unix.Write(p[1], []byte("nobody reads")) // EPIPE
	unix.Close(p[1])
	return nil
}

func fifo() error {
	d := scratch("fifo")
	path := d + "/the fifo"
	must(unix.Mkfifo(path, 0o644))
	r, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	must(err)
	w, err := unix.Open(path, unix.O_WRONLY, 0)
	must(err)
	unix.Write(w, []byte("fifo data\n"))
	buf := make([]byte, 64)
	unix.Read(r, buf)
	unix.Close(w)
	unix.Close(r)
	unix.Mknod(d+"/node", unix.S_IFIFO|0o600, 0)
	unix.Unlink(path)
	return nil
}

func dups() error {
	d := scratch("dup")
	fd, err := unix.Open(d+"/dupfile", unix.O_CREAT|unix.O_RDWR, 0o644)
	must(err)
	a, _ := unix.Dup(fd)
	must(unix.Dup2(fd, 20))
	must(unix.Dup3(fd, 21, unix.O_CLOEXEC))
	unix.Dup2(fd, fd)    // same fd
	unix.Dup3(fd, fd, 0) // EINVAL
	unix.Dup(999)        // EBADF
	b, _ := unix.FcntlInt(uintptr(fd), unix.F_DUPFD, 30)
	c, _ := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 40)
	unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_APPEND|unix.O_NONBLOCK)
	unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	for _, x := range []int{a, 20, 21, b, c} {
		unix.Write(x, []byte("via a duplicate\n"))
	}
	// dup2 over an open fd closes it.
	p := make([]int, 2)
	unix.Pipe(p)
	unix.Write(p[1], []byte("p"))
	unix.Dup2(p[0], fd)
	unix.Read(fd, make([]byte, 1))
	for _, x := range []int{a, 20, 21, b, c, fd, p[0], p[1]} {
		unix.Close(x)
	}
	return nil
}

func openFlags() error {
	d := scratch("openflags")
	f := d + "/file"
	type o struct {
		flags int
		mode  uint32
	}
	for _, x := range []o{
		{unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, 0o644},
		{unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, 0o600}, // EEXIST
		{unix.O_RDONLY, 0},
		{unix.O_RDWR | unix.O_APPEND, 0},
		{unix.O_WRONLY | unix.O_SYNC | unix.O_DSYNC, 0},
		{unix.O_RDONLY | unix.O_DIRECTORY, 0}, // ENOTDIR
		{unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC, 0},
		{unix.O_RDONLY | unix.O_NOATIME | unix.O_NONBLOCK, 0},
		{unix.O_PATH, 0},
		{unix.O_RDONLY | unix.O_DIRECT, 0},
		{unix.O_WRONLY | unix.O_NOCTTY | unix.O_ASYNC, 0},
	} {
		if fd, err := unix.Open(f, x.flags, x.mode); err == nil {
			unix.Close(fd)
		}
	}
	if fd, err := unix.Open(d, unix.O_TMPFILE|unix.O_RDWR, 0o600); err == nil {
		unix.Write(fd, []byte("tmpfile"))
		unix.Close(fd)
	}
	dir, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(err)
	for _, name := range []string{"file", "rel/missing", "/etc/hostname", "../cwl-openflags/file"} {
		if fd, err := unix.Openat(dir, name, unix.O_RDONLY, 0); err == nil {
			unix.Close(fd)
		}
	}
	if fd, err := unix.Openat(unix.AT_FDCWD, "relative-from-cwd", unix.O_CREAT|unix.O_WRONLY, 0o644); err == nil {
		unix.Close(fd)
		unix.Unlink("relative-from-cwd")
	}
	unix.Open("/nonexistent/dir/file", unix.O_RDONLY, 0)
	unix.Open("/root/../proc/self/status", unix.O_RDONLY, 0)
	unix.Close(dir)
	return nil
}

func openat2() error {
	d := scratch("openat2")
	os.WriteFile(d+"/file", []byte("x"), 0o644)
	os.Symlink("/etc/hostname", d+"/link")
	dir, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(err)
	for _, how := range []unix.OpenHow{
		{Flags: unix.O_RDONLY},
		{Flags: unix.O_RDONLY, Resolve: unix.RESOLVE_BENEATH},
		{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o640, Resolve: unix.RESOLVE_NO_SYMLINKS},
		{Flags: unix.O_RDONLY, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS},
	} {
		for _, name := range []string{"file", "link", "../escape", "new"} {
			if fd, err := unix.Openat2(dir, name, &how); err == nil {
				unix.Close(fd)
			}
		}
	}
	unix.Close(dir)
	return nil
}

func creat() error {
	d := scratch("creat")
	for _, n := range []string{d + "/a", d + "/a", d + "/missing/b"} {
		p, _ := unix.BytePtrFromString(n)
		fd, _, errno := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(p)), 0o640, 0)
		if errno == 0 {
			unix.Write(int(fd), []byte("created"))
			unix.Close(int(fd))
		}
	}
	return nil
}

func fileOps() error {
	d := scratch("fileops")
	os.WriteFile(d+"/a", []byte("a"), 0o644)
	must(unix.Mkdir(d+"/sub", 0o755))
	unix.Mkdir(d+"/sub", 0o755) // EEXIST
	dir, _ := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	unix.Mkdirat(dir, "sub2", 0o700)
	unix.Rename(d+"/a", d+"/b")
	unix.Renameat(dir, "b", dir, "sub/c")
	unix.Renameat2(dir, "sub/c", dir, "d", unix.RENAME_NOREPLACE)
	unix.Rename(d+"/missing", d+"/x")
	unix.Symlink(d+"/d", d+"/sym")
	unix.Symlinkat("d", dir, "relsym")
	unix.Link(d+"/d", d+"/hard")
	unix.Linkat(dir, "d", dir, "hard2", 0)
	unix.Link(d+"/missing", d+"/hard3")
	unix.Unlink(d + "/sym")
	unix.Unlinkat(dir, "relsym", 0)
	unix.Unlinkat(dir, "sub2", unix.AT_REMOVEDIR)
	unix.Rmdir(d + "/sub")
	unix.Unlink(d + "/nothing")
	unix.Fchmodat(dir, "d", 0o600, 0)
	unix.Chmod(d+"/hard", 0o644)
	unix.Fchownat(dir, "d", 0, 0, 0)
	unix.Close(dir)
	return nil
}

func chdirs() error {
	d := scratch("chdir")
	os.MkdirAll(d+"/one/two", 0o755)
	must(unix.Chdir(d))
	fd, _ := unix.Open("one/rel.txt", unix.O_CREAT|unix.O_WRONLY, 0o644)
	unix.Close(fd)
	unix.Chdir("one/two")
	fd, _ = unix.Open("../rel.txt", unix.O_RDONLY, 0)
	unix.Close(fd)
	unix.Chdir("/nonexistent")
	dfd, _ := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	unix.Fchdir(dfd)
	fd, _ = unix.Open("one/rel.txt", unix.O_RDONLY, 0)
	unix.Close(fd)
	unix.Fchdir(999)
	unix.Close(dfd)
	buf := make([]byte, 256)
	unix.Getcwd(buf)
	// A child inherits the cwd.
	exec.Command("/bin/cat", "one/rel.txt").Run()
	unix.Chdir("/")
	return nil
}

// names: files, directories and arguments whose names hold control characters and bytes
// >= 0x80 (valid and invalid UTF-8), and a thread renamed to such a name.
func names() error {
	d := scratch("names")
	for _, n := range []string{"tab\there", "new\nline", "esc\x1b[31mred", "del\x7f", "latin\xe9\xff", "utf8-\xc3\xa9t\xc3\xa9", "bell\a", "cr\rret", "sp ace", "quote\"'"} {
		fd, err := unix.Open(d+"/"+n, unix.O_CREAT|unix.O_WRONLY, 0o644)
		if err == nil {
			unix.Write(fd, []byte("name: "+n+"\n\x00\x01\x02\xfe"))
			unix.Close(fd)
		}
		unix.Rename(d+"/"+n, d+"/"+n+".moved")
		unix.Mkdir(d+"/dir-"+n, 0o755)
	}
	exec.Command("/bin/echo", "arg\twith\ttabs", "arg\nnewline", "high\xe9\xff").Run()
	exec.Command("/bin/sh", "-c", "printf 'x\\n' > '"+d+"/from sh\ttab'").Run()
	// A child whose comm holds control characters.
	exec.Command("/proc/self/exe", "renamed_child").Run()
	return nil
}

func init() {
	reg("renamed_child", func() error {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("n\tm\xe9\x01\x00")[0])), 0, 0, 0)
		fd, _ := unix.Open("/etc/hostname", unix.O_RDONLY, 0)
		unix.Read(fd, make([]byte, 64))
		unix.Close(fd)
		return nil
	})
}

func bigWrite() error {
	d := scratch("bigwrite")
	big := []byte(strings.Repeat("0123456789abcdef\n\t\x00\xff", 4096))
	fd, _ := unix.Open(d+"/big", unix.O_CREAT|unix.O_RDWR|unix.O_TRUNC, 0o644)
	unix.Write(fd, big)
	unix.Pwrite(fd, big[:5000], 100)
	unix.Seek(fd, 0, 0)
	buf := make([]byte, len(big))
	unix.Read(fd, buf)
	unix.Close(fd)
	p := make([]int, 2)
	unix.Pipe(p)
	unix.Write(p[1], big[:60000])
	unix.Read(p[0], buf)
	unix.Close(p[0])
	unix.Close(p[1])
	s, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.Write(s[0], big[:30000])
	unix.Read(s[1], buf)
	unix.Close(s[0])
	unix.Close(s[1])
	return nil
}

func midFiles() error {
	d := scratch("mid_files")
	f, _ := unix.Open(d+"/opened-before", unix.O_CREAT|unix.O_RDWR, 0o644)
	p := make([]int, 2)
	unix.Pipe(p)
	unix.Chdir(d)
	waitGo(d)
	unix.Write(f, []byte("after start\n"))
	unix.Write(p[1], []byte("pipe after start"))
	unix.Read(p[0], make([]byte, 64))
	g, _ := unix.Open("relative-after", unix.O_CREAT|unix.O_WRONLY, 0o644)
	unix.Close(g)
	for _, x := range []int{f, p[0], p[1]} {
		unix.Close(x)
	}
	exec.Command("/bin/true").Run()
	return nil
}

func rwVariants() error {
	d := scratch("rwvariants")
	fd, _ := unix.Open(d+"/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	unix.Writev(fd, [][]byte{[]byte("first iov "), []byte("second iov\n")})
	unix.Pwritev(fd, [][]byte{[]byte("at 100")}, 100)
	unix.Pwrite(fd, []byte("pwrite at 50"), 50)
	buf := make([]byte, 32)
	unix.Pread(fd, buf, 0)
	unix.Seek(fd, 0, 0)
	unix.Readv(fd, [][]byte{buf[:8], buf[8:]})
	unix.Preadv(fd, [][]byte{buf}, 10)
	unix.Ftruncate(fd, 10)
	unix.Fsync(fd)
	unix.Fdatasync(fd)
	unix.Read(fd, buf)
	unix.Close(fd)
	unix.Read(fd, buf) // EBADF
	unix.Write(-1, buf)
	return nil
}

func stats() error {
	var st unix.Stat_t
	unix.Stat("/etc/passwd", &st)
	unix.Lstat("/bin", &st)
	unix.Stat("/missing", &st)
	fd, _ := unix.Open("/etc/passwd", unix.O_RDONLY, 0)
	unix.Fstat(fd, &st)
	unix.Close(fd)
	unix.Access("/etc/shadow", unix.R_OK)
	unix.Faccessat(unix.AT_FDCWD, "/etc", unix.X_OK, 0)
	buf := make([]byte, 256)
	unix.Readlink("/proc/self/exe", buf)
	var sx unix.Statx_t
	unix.Statx(unix.AT_FDCWD, "/etc/hosts", 0, unix.STATX_ALL, &sx)
	var sfs unix.Statfs_t
	unix.Statfs("/", &sfs)
	return nil
}

func specialFds() error {
	e, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
	unix.Write(e, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	unix.Read(e, make([]byte, 8))
	t, _ := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, 0)
	unix.TimerfdSettime(t, 0, &unix.ItimerSpec{Value: unix.Timespec{Nsec: 1000000}}, nil)
	unix.Read(t, make([]byte, 8))
	in, _ := unix.InotifyInit1(0)
	unix.InotifyAddWatch(in, "/tmp", unix.IN_CREATE)
	var set unix.Sigset_t
	set.Val[0] = 1 << (unix.SIGUSR2 - 1)
	sfd, _ := unix.Signalfd(-1, &set, 0)
	ep, _ := unix.EpollCreate1(0)
	mfd, _ := unix.MemfdCreate("cwl-memfd", 0)
	unix.Write(mfd, []byte("memfd"))
	for _, x := range []int{e, t, in, sfd, ep, mfd} {
		unix.Close(x)
	}
	return nil
}

func mmaps() error {
	b, _ := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	b[0] = 1
	unix.Mprotect(b[:4096], unix.PROT_READ)
	unix.Munmap(b)
	fd, _ := unix.Open("/etc/passwd", unix.O_RDONLY, 0)
	m, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
	if err == nil {
		unix.Munmap(m)
	}
	unix.Mmap(999, 0, 4096, unix.PROT_READ, unix.MAP_SHARED) // EBADF
	unix.Close(fd)
	cur, _, _ := unix.Syscall(unix.SYS_BRK, 0, 0, 0)
	unix.Syscall(unix.SYS_BRK, cur+65536, 0, 0)
	unix.Syscall(unix.SYS_BRK, cur, 0, 0)
	unix.Madvise(b, unix.MADV_DONTNEED)
	return nil
}

func polls() error {
	p := make([]int, 2)
	unix.Pipe(p)
	unix.Write(p[1], []byte("x"))
	unix.Poll([]unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}, {Fd: int32(p[1]), Events: unix.POLLOUT}}, 100)
	unix.Poll([]unix.PollFd{{Fd: int32(p[1]), Events: unix.POLLIN}}, 10) // timeout
	unix.Ppoll([]unix.PollFd{{Fd: int32(p[0]), Events: unix.POLLIN}}, &unix.Timespec{Nsec: 1000}, nil)
	ep, _ := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, p[0], &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(p[0])})
	evs := make([]unix.EpollEvent, 4)
	unix.EpollWait(ep, evs, 100)
	unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, p[0], nil)
	unix.EpollWait(ep, evs, 5)
	var rs unix.FdSet
	rs.Set(p[0])
	unix.Select(p[0]+1, &rs, nil, nil, &unix.Timeval{Usec: 1000})
	unix.Pselect(p[0]+1, &rs, nil, nil, &unix.Timespec{Nsec: 1000}, nil)
	for _, x := range []int{ep, p[0], p[1]} {
		unix.Close(x)
	}
	return nil
}

func sendFile() error {
	d := scratch("sendfile")
	os.WriteFile(d+"/src", []byte(strings.Repeat("sendfile payload\n", 200)), 0o644)
	in, _ := unix.Open(d+"/src", unix.O_RDONLY, 0)
	out, _ := unix.Open(d+"/dst", unix.O_CREAT|unix.O_WRONLY, 0o644)
	off := int64(10)
	unix.Sendfile(out, in, &off, 1000)
	unix.Sendfile(out, in, nil, 500)
	unix.Sendfile(out, 999, nil, 10) // EBADF
	s, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.Sendfile(s[0], in, nil, 300)
	unix.Splice(s[1], nil, out, nil, 300, 0)
	for _, x := range []int{in, out, s[0], s[1]} {
		unix.Close(x)
	}
	return nil
}

func prlimits() error {
	var r unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &r)
	old := r
	r.Cur = 512
	unix.Setrlimit(unix.RLIMIT_NOFILE, &r)
	unix.Prlimit(0, unix.RLIMIT_NOFILE, &old, &r)
	unix.Prlimit(0, unix.RLIMIT_CORE, nil, &r)
	unix.Prlimit(999999, unix.RLIMIT_CORE, nil, &r) // ESRCH
	bad := unix.Rlimit{Cur: 10, Max: 5}
	unix.Setrlimit(unix.RLIMIT_STACK, &bad) // EINVAL
	return nil
}

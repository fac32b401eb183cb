// Package procfs reads the live system's state from /proc (threads, their fds with names and
// socket tuples, users, groups, interfaces, machine info) in the form a capture header holds, so
// live tracing starts with the same context a replay gets from a capture's list blocks.
package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosysdig/gosysdig/capture"
)

// Scan reads every process and thread under root (normally "/proc").
func Scan(root string) (*capture.Header, error) {
	h := &capture.Header{Major: 1, Minor: 2}
	h.Machine = machineInfo(root)
	socks := readSockets(root)
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	for _, e := range ents {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		pdir := filepath.Join(root, e.Name())
		tasks, err := os.ReadDir(filepath.Join(pdir, "task"))
		if err != nil {
			continue // the process exited while we looked
		}
		for _, te := range tasks {
			tid, err := strconv.ParseInt(te.Name(), 10, 64)
			if err != nil {
				continue
			}
			th, ok := readThread(pdir, filepath.Join(pdir, "task", te.Name()), pid, tid)
			if !ok {
				continue
			}
			if tid == pid {
				th.FDs = readFDs(pdir, socks)
			}
			h.Threads = append(h.Threads, th)
		}
	}
	h.Users, h.Groups = readUsers("/etc/passwd"), readGroups("/etc/group")
	h.Interfaces = interfaces()
	return h, nil
}

func machineInfo(root string) *capture.MachineInfo {
	mi := &capture.MachineInfo{NumCPUs: uint32(runtime.NumCPU())}
	mi.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile(filepath.Join(root, "meminfo")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				mi.MemBytes = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "sys/kernel/pid_max")); err == nil {
		mi.MaxPid, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
	return mi
}

func readNul(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	b = bytes.TrimRight(b, "\x00")
	return strings.Split(string(b), "\x00")
}

// ReadProcess reads one process's main thread (without its fds, which need the whole socket
// tables) from root (normally "/proc"); ok is false when the process is gone.
func ReadProcess(root string, pid int64) (capture.Thread, bool) {
	pdir := filepath.Join(root, strconv.FormatInt(pid, 10))
	return readThread(pdir, pdir, pid, pid)
}

// readThread fills one process-list entry the way libscap's /proc scan does.
func readThread(pdir, tdir string, pid, tid int64) (capture.Thread, bool) {
	th := capture.Thread{Tid: tid, Pid: pid, LoginUid: -1, Vtid: tid, Vpid: pid}
	comm, err := os.ReadFile(filepath.Join(tdir, "comm"))
	if err != nil {
		return th, false
	}
	th.Comm = strings.TrimSuffix(string(comm), "\n")
	args := readNul(filepath.Join(pdir, "cmdline"))
	// A user process caught in the middle of an execve has its new comm but no command line
	// yet for a moment; kernel threads (no exe) never have one.
	for try := 0; len(args) == 0 && try < 5; try++ {
		if _, err := os.Readlink(filepath.Join(pdir, "exe")); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
		args = readNul(filepath.Join(pdir, "cmdline"))
	}
	if len(args) > 0 {
		th.Exe = args[0]
		th.Args = args[1:]
	} else {
		th.Exe = th.Comm
	}
	th.Exepath, _ = os.Readlink(filepath.Join(pdir, "exe"))
	statExe(filepath.Join(pdir, "exe"), &th)
	if cwd, err := os.Readlink(filepath.Join(pdir, "cwd")); err == nil {
		th.Cwd = cwd
		if !strings.HasSuffix(th.Cwd, "/") {
			th.Cwd += "/"
		}
	}
	th.Root, _ = os.Readlink(filepath.Join(pdir, "root"))
	th.Env = readNul(filepath.Join(pdir, "environ"))
	th.FdLimit = fdLimit(pdir)
	readStatus(tdir, &th)
	readStat(tdir, &th)
	th.Cgroups = readCgroups(filepath.Join(tdir, "cgroup"))
	if b, err := os.ReadFile(filepath.Join(pdir, "loginuid")); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil {
			th.LoginUid = int32(uint32(v))
		}
	}
	if tid != pid {
		// Threads share their process's files, as PPM_CL_CLONE_THREAD|CLONE_FILES says.
		th.Flags = 8192 | 1
	}
	return th, true
}

func fdLimit(pdir string) int64 {
	b, err := os.ReadFile(filepath.Join(pdir, "limits"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max open files") {
			f := strings.Fields(l[len("Max open files"):])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

func readStatus(tdir string, th *capture.Thread) {
	f, err := os.Open(filepath.Join(tdir, "status"))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		num := func(i int) uint64 {
			if i >= len(fs) {
				return 0
			}
			n, _ := strconv.ParseUint(fs[i], 10, 64)
			return n
		}
		switch k {
		case "PPid":
			th.Ptid = int64(num(0))
		case "Uid":
			th.Uid = uint32(num(1)) // effective
		case "Gid":
			th.Gid = uint32(num(1))
		case "CapInh":
			th.CapInheritable, _ = strconv.ParseUint(fs[0], 16, 64)
		case "CapPrm":
			th.CapPermitted, _ = strconv.ParseUint(fs[0], 16, 64)
		case "CapEff":
			th.CapEffective, _ = strconv.ParseUint(fs[0], 16, 64)
			th.CapsKnown = true
		case "VmSize":
			th.VmSizeKB = uint32(num(0))
		case "VmRSS":
			th.VmRssKB = uint32(num(0))
		case "VmSwap":
			th.VmSwapKB = uint32(num(0))
		case "NSpid":
			th.Vtid = int64(num(len(fs) - 1))
		case "NStgid":
			th.Vpid = int64(num(len(fs) - 1))
		}
	}
}

// readStat takes page faults, session and process group from /proc/PID/stat.
func readStat(tdir string, th *capture.Thread) {
	b, err := os.ReadFile(filepath.Join(tdir, "stat"))
	if err != nil {
		return
	}
	// The comm field may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return
	}
	f := strings.Fields(string(b[i+1:]))
	get := func(n int) int64 { // n: 1-based field number of proc(5)
		idx := n - 3
		if idx < 0 || idx >= len(f) {
			return 0
		}
		v, _ := strconv.ParseInt(f[idx], 10, 64)
		return v
	}
	th.Vpgid = get(5)
	th.Sid = get(6)
	th.PfMinor = uint64(get(10))
	th.PfMajor = uint64(get(12))
}

// readCgroups turns /proc/PID/cgroup into sysdig's "subsystem=path" items.
func readCgroups(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" { // cgroup v2: one hierarchy for every controller
			for _, c := range []string{"cpuset", "cpu", "cpuacct", "io", "memory", "devices", "freezer", "net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"} {
				out = append(out, c+"="+parts[2])
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out = append(out, strings.TrimPrefix(c, "name=")+"="+parts[2])
		}
	}
	return out
}

func readUsers(path string) []capture.User {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var us []capture.User
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 7 {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		us = append(us, capture.User{Uid: uint32(uid), Gid: uint32(gid), Name: f[0], Home: f[5], Shell: f[6]})
	}
	return us
}

func readGroups(path string) []capture.Group {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var gs []capture.Group
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 3 {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		gs = append(gs, capture.Group{Gid: uint32(gid), Name: f[0]})
	}
	return gs
}

func interfaces() []capture.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []capture.Interface
	for _, nif := range ifs {
		addrs, _ := nif.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			var it capture.Interface
			it.Name = nif.Name
			if v4 := ipn.IP.To4(); v4 != nil {
				it.Type = 1
				copy(it.Addr[:], v4)
				copy(it.Netmask[:], net.IP(ipn.Mask).To4())
				for i := 0; i < 4; i++ {
					it.Bcast[i] = v4[i] | ^ipn.Mask[len(ipn.Mask)-4+i]
				}
			} else {
				it.Type = 2
				copy(it.Addr[:], ipn.IP.To16())
				copy(it.Netmask[:], ipn.Mask)
			}
			out = append(out, it)
		}
	}
	return out
}

// ReadThread reads one thread, found by its tid alone, from root (normally "/proc"), with its
// process's fds (sockets without their tuples: those need the whole socket tables, which is
// too dear for one lookup). ok is false when the thread is gone. Live tracing calls it the
// first time an event names a thread the start-up scan did not see.
func ReadThread(root string, tid int64) (capture.Thread, bool) {
	// /proc/TID exists for every thread, though only process ids are listed; its status
	// names the process.
	tdir := filepath.Join(root, strconv.FormatInt(tid, 10))
	pid := int64(-1)
	if b, err := os.ReadFile(filepath.Join(tdir, "status")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
				pid, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				break
			}
		}
	}
	if pid <= 0 {
		return capture.Thread{}, false
	}
	pdir := filepath.Join(root, strconv.FormatInt(pid, 10))
	th, ok := readThread(pdir, filepath.Join(pdir, "task", strconv.FormatInt(tid, 10)), pid, tid)
	if !ok {
		return th, false
	}
	if tid == pid {
		th.FDs = readFDs(pdir, nil)
	}
	return th, true
}

// statExe takes the executable's inode, ctime and mtime from a stat through /proc/PID/exe.
func statExe(path string, th *capture.Thread) {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return
	}
	th.ExeIno = st.Ino
	th.ExeInoCtime = uint64(st.Ctim.Sec)*1e9 + uint64(st.Ctim.Nsec)
	th.ExeInoMtime = uint64(st.Mtim.Sec)*1e9 + uint64(st.Mtim.Nsec)
}

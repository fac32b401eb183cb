package difffuzz

import (
	"math/rand"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// favourites are the enter events of state-changing syscalls (open/openat, close, socket, bind,
// connect, listen, accept, sendto/recvfrom, socketpair, pipe, chdir, dup, fcntl, clone/fork/
// vfork/clone3, execve), chosen more often than the rest so that chains change the state.
var favourites = []uint16{2, 4, 18, 20, 22, 24, 30, 34, 42, 60, 94, 124, 150, 222, 224, 226, 230,
	288, 306, 248, 334}

// pidBase lifts every generated thread and process id above any host's pid_max (at most
// 2^22): replaying a relative path whose directory fd its thread's table lacks, sysdig 0.29.3
// reads the link /proc/<pid>/fd/<fd> of the machine it runs on, so a generated pid that a
// live process has would name the path after that process's file, differently from run to run.
const pidBase = 1 << 22

// singles are events with no exit: sched switch, procinfo, procexit.
var singles = []uint16{152, 234, 186}

var clones = map[uint16]bool{15: true, 157: true, 183: true, 185: true, 223: true, 225: true, 227: true, 335: true, 217: true, 219: true, 221: true}

// Generate builds the capture for one seed: the same seed gives the same capture.
func Generate(seed int64) *Capture {
	r := rand.New(rand.NewSource(seed))
	g := &gen{r: r, ts: 1600000000000000000 + uint64(r.Intn(1e9)), types: usableTypes(),
		pid: map[int64]int64{}, ptid: map[int64]int64{}}
	c := &Capture{}
	h := &c.Header
	h.Machine = &capture.MachineInfo{NumCPUs: 4, MemBytes: 8 << 30, MaxPid: 4194304, Hostname: "fuzz"}
	h.Interfaces = []capture.Interface{
		{Type: 1, Name: "lo", Addr: [16]byte{127, 0, 0, 1}, Netmask: [16]byte{255}},
		{Type: 1, Name: "eth0", Addr: [16]byte{10, 0, 0, 1}, Netmask: [16]byte{255, 255, 255}},
		{Type: 2, Name: "lo", Addr: [16]byte{15: 1}},
	}
	h.Users = []capture.User{{Uid: 0, Gid: 0, Name: "root", Home: "/root", Shell: "/bin/sh"},
		{Uid: 1000, Gid: 1000, Name: "alice", Home: "/home/alice", Shell: "/bin/bash"}}
	h.Groups = []capture.Group{{Gid: 0, Name: "root"}, {Gid: 1000, Name: "alice"}}
	g.fds = []int64{0, 1, 2}
	nproc := 1 + r.Intn(4)
	tid := pidBase + int64(100+r.Intn(1000))
	for p := 0; p < nproc; p++ {
		pid := tid
		nthreads := 1 + r.Intn(3)
		for k := 0; k < nthreads; k++ {
			comm := []string{"bash", "cat", "curl", "nginx", "we\xffird", "sp ace"}[r.Intn(6)]
			th := capture.Thread{Tid: tid, Pid: pid, Ptid: 1, Sid: pid, Vpgid: pid, Comm: comm,
				Exe: "/usr/bin/" + comm, Exepath: "/usr/bin/" + comm, Args: []string{"-x", g.name()},
				Cwd: "/home/alice/", FdLimit: 1024, Uid: uint32([]int{0, 1000}[r.Intn(2)]),
				Gid: 1000, Vtid: tid, Vpid: pid, Root: "/", LoginUid: -1,
				Env: []string{"HOME=/root"}}
			if k == 0 {
				th.FDs = g.fdTable()
			}
			h.Threads = append(h.Threads, th)
			g.tids = append(g.tids, tid)
			g.pid[tid], g.ptid[tid] = pid, 1
			tid += int64(1 + r.Intn(3))
		}
		tid += int64(r.Intn(50))
	}
	// tids no process list holds
	for i := r.Intn(3); i > 0; i-- {
		g.tids = append(g.tids, pidBase+int64(5000+r.Intn(1000)))
	}
	nev := 5 + r.Intn(60)
	for i := 0; i < nev; i++ {
		t := g.tid()
		switch x := r.Intn(20); {
		case x < 2:
			s := singles[r.Intn(len(singles))]
			c.Events = append(c.Events, g.ev(s, t, nil))
			continue
		case x < 11:
			g.pair(c, favourites[r.Intn(len(favourites))], t)
		default:
			g.pair(c, g.types[r.Intn(len(g.types))], t)
		}
	}
	return c
}

// pair emits an enter/exit pair (sometimes only one of them, sometimes with a switch or another
// thread's event between).
func (g *gen) pair(c *Capture, t uint16, tid int64) {
	r := g.r
	// An old-version openat exit (type 103, written by drivers before 0.29) without its enter
	// segfaults sysdig 0.29.3: its parser reads the name from the enter it did not find. Old
	// versions carry their enter always, as the drivers that wrote them did.
	if r.Intn(10) > 0 || event.Lookup(t).Flags&event.EFOldVersion != 0 {
		var over map[int][]byte
		if event.Lookup(t).Name == "execveat" {
			// sysdig 0.29.3 segfaults on every execveat exit whose enter has a relative
			// pathname (with AT_FDCWD, a known or an unknown dirfd alike): its exit parser
			// resolves the dirfd through the stored enter event, which has no thread. A
			// kernel does record such calls; the generator keeps execveat's pathname absolute
			// so that the capture is not refused (relative paths are fuzzed in openat & co).
			over = map[int][]byte{1: append([]byte("/"+g.name()), 0)}
		}
		c.Events = append(c.Events, g.ev(t, tid, over))
	}
	if r.Intn(6) == 0 {
		c.Events = append(c.Events, g.ev(152, g.tid(), nil))
	}
	if r.Intn(10) == 0 {
		return
	}
	x := t + 1
	info := event.Lookup(x)
	var over map[int][]byte
	if info.Flags&event.EFCreatesFd != 0 && len(info.Params) > 0 && r.Intn(4) > 0 {
		fd := int64(3 + r.Intn(30))
		g.fds = append(g.fds, fd)
		over = map[int][]byte{0: le(8, uint64(fd))}
	}
	if clones[x] {
		// The kernel fills a clone exit's tid, pid and ptid from the thread that returns:
		// random values there are inputs no capture holds, so they follow the event's thread
		// (parent) or the new thread (child: pid is the parent's for CLONE_THREAD, else its own).
		child := pidBase + int64(2000+r.Intn(100))
		if r.Intn(4) == 0 {
			child = g.tid()
		}
		ppid := g.pidOf(tid)
		c.Events = append(c.Events, g.ev(x, tid, map[int][]byte{0: le(8, uint64(child)),
			3: le(8, uint64(tid)), 4: le(8, uint64(ppid)), 5: le(8, uint64(g.ptid[tid]))}))
		if r.Intn(4) > 0 {
			cpid := child
			if r.Intn(3) == 0 {
				cpid = ppid
			}
			g.tids = append(g.tids, child)
			g.pid[child], g.ptid[child] = cpid, tid
			c.Events = append(c.Events, g.ev(x, child, map[int][]byte{0: le(8, 0),
				3: le(8, uint64(child)), 4: le(8, uint64(cpid)), 5: le(8, uint64(tid))}))
		}
		return
	}
	c.Events = append(c.Events, g.ev(x, tid, over))
}

// fdTable gives a process files, IPv4/IPv6 sockets and servers, unix sockets and pipes.
func (g *gen) fdTable() []capture.FD {
	r := g.r
	var fds []capture.FD
	n := r.Intn(8)
	for i := 0; i < n; i++ {
		fd := capture.FD{Fd: int64(3 + i), Ino: uint64(r.Intn(100000))}
		switch r.Intn(7) {
		case 0:
			fd.Type, fd.Name, fd.OpenFlags = capture.FDFile, g.name(), uint32(r.Intn(4096))
		case 1:
			fd.Type, fd.L4Proto = capture.FDIPv4Sock, uint8(1+r.Intn(4))
			copy(fd.Sip[:], g.ip4())
			copy(fd.Dip[:], g.ip4())
			fd.Sport, fd.Dport = uint16(r.Intn(65536)), uint16([]int{80, 443, 53}[r.Intn(3)])
		case 2:
			fd.Type, fd.L4Proto = capture.FDIPv6Sock, uint8(1+r.Intn(4))
			copy(fd.Sip[:], g.ip6())
			copy(fd.Dip[:], g.ip6())
			fd.Sport, fd.Dport = uint16(r.Intn(65536)), 443
		case 3:
			fd.Type, fd.L4Proto, fd.Sport = capture.FDIPv4Server, 1, 8080
			copy(fd.Sip[:], g.ip4())
		case 4:
			fd.Type, fd.L4Proto, fd.Sport = capture.FDIPv6Server, 1, 8443
			copy(fd.Sip[:], g.ip6())
		case 5:
			fd.Type, fd.Source, fd.Dest, fd.Name = capture.FDUnixSock, r.Uint64(), r.Uint64()>>8, g.name()
		default:
			fd.Type, fd.Name = capture.FDFifo, "pipe:[1234]"
		}
		fds = append(fds, fd)
		g.fds = append(g.fds, fd.Fd)
	}
	return fds
}

// pidOf is a thread's process id: its own id for threads no process list or clone made.
func (g *gen) pidOf(tid int64) int64 {
	if p, ok := g.pid[tid]; ok {
		return p
	}
	return tid
}

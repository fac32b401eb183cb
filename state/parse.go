package state

import (
	"strings"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// PPM values the parsers need.
const (
	ppmODirectory    = 1 << 10
	ppmAFUnix        = 1
	ppmAFInet        = 2
	ppmAFInet6       = 10
	ppmAFNetlink     = 16
	atFdcwd          = -100
	ppmFDupfd        = 1  // fcntl_commands PPM_FCNTL_F_DUPFD
	ppmFDupfdCloexec = 26 // PPM_FCNTL_F_DUPFD_CLOEXEC (ppm_events_public.h; the probe maps 1030 to it)
)

func (in *Inspector) parseExit(ev *event.Event, t *Thread) {
	switch ev.Type {
	case 3, 59, 103, 307, 327: // open, creat, openat, openat_2, openat2
		in.parseOpen(ev, t)
	case 5: // close
		if res, ok := ev.Int(0); ok && res >= 0 && t.lastValid {
			in.pendingFD, in.pendingFDT = t.lastFd, t.fdt
		}
	case 19: // socket
		in.parseSocket(ev, t)
	case 23: // connect
		in.parseConnect(ev, t)
	case 27, 57, 247, 249: // accept, accept4
		in.parseAccept(ev, t)
	case 21: // bind
		in.parseBind(ev, t)
	case 7, 9, 29, 31, 33, 35, 49, 53, 113, 115, 117, 119, 121, 123: // read/write family
		in.parseRW(ev, t)
	case 47: // getsockopt
		in.parseGetsockopt(ev, t)
	case 61: // pipe
		if res, _ := ev.Int(0); res >= 0 {
			ino, _ := ev.Uint(3)
			for _, i := range []int{1, 2} {
				if fd, ok := ev.Int(i); ok {
					in.newFD(t, &FD{Num: fd, Type: capture.FDFifo, Ino: ino})
				}
			}
		}
	case 43: // socketpair
		in.parseSocketpair(ev, t)
	case 63: // eventfd
		in.addSimple(ev, t, capture.FDEvent)
	case 127: // signalfd
		in.addSimple(ev, t, capture.FDSignalfd)
	case 137: // timerfd_create
		in.addSimple(ev, t, capture.FDTimerfd)
	case 139: // inotify_init
		in.addSimple(ev, t, capture.FDInotify)
	case 125: // dup
		in.parseDup(ev, t, 0)
	case 151: // fcntl
		// libsinsp dups when the enter it kept is an fcntl's, and it keeps only F_DUPFD ones;
		// one kept past a filtered-out exit is reused by the next fcntl (see storedEnter).
		if t.lastValid && t.storedEnter == 150 {
			in.parseDup(ev, t, 0)
		}
	case 95: // chdir
		if res, _ := ev.Int(0); res >= 0 {
			in.setCwd(t, string(event.CString(ev.Param(1))), len(ev.Param(1)))
		}
	case 93: // getcwd: libsinsp takes the reported directory as the cwd
		if res, _ := ev.Int(0); res >= 0 {
			in.setCwd(t, string(event.CString(ev.Param(1))), len(ev.Param(1)))
		}
	case 97: // fchdir
		if res, _ := ev.Int(0); res >= 0 && in.FD != nil {
			in.setCwd(t, in.FD.Name, len(in.FD.Name))
		}
	case 267: // chroot: the calling thread's root, the path as resolved for printing
		if res, _ := ev.Int(0); res == 0 {
			p := event.CString(ev.Param(1))
			if len(p) > 0 && p[0] != '/' {
				t.Root = string(event.AppendJoinPath(nil, in.Cwd(t), p))
			} else {
				t.Root = string(p)
			}
		}
	case 13, 155, 173, 215, 231, 283, 289, 293, 331: // execve family
		in.parseExecve(ev, t)
	case 15, 157, 217, 223, 183, 219, 225, 185, 221, 227, 335: // clone family
		in.parseClone(ev, t)
	case 141, 143: // getrlimit, setrlimit
		in.parseRlimit(ev, t)
	case 145: // prlimit
		in.parsePrlimit(ev, t)
	case 159, 161, 163, 165: // brk, mmap, mmap2, munmap report memory sizes
		if v, ok := ev.Uint(1); ok {
			t.VmSizeKB = uint32(v)
		}
		if v, ok := ev.Uint(2); ok {
			t.VmRssKB = uint32(v)
		}
		if v, ok := ev.Uint(3); ok {
			t.VmSwapKB = uint32(v)
		}
	case 199, 201, 193, 195: // setuid, setgid, setresuid, setresgid
		in.parseSetID(ev, t)
	case 275: // setsid
		if res, _ := ev.Int(0); res >= 0 {
			t.Sid = res
		}
	}
}

// parseEnterState handles the enter events that change state by themselves.
func (in *Inspector) parseEnterState(ev *event.Event, t *Thread) {
	switch ev.Type {
	case 22: // connect: the destination is known before the call returns
		in.parseConnectEnter(ev)
	case 30: // sendto on an fd never seen: libsinsp assumes a UDP socket
		in.inferSendto(ev, t)
	case 152: // switch: the thread's page faults, its process's memory
		in.parseSwitch(ev, t)
	case 16, 186: // procexit: the thread goes away once this event has been seen
		in.pendingThread, in.hasPendingT = t.Tid, true
	}
}

func (in *Inspector) addSimple(ev *event.Event, t *Thread, typ uint8) {
	if fd, ok := ev.Int(0); ok && fd >= 0 {
		in.newFD(t, &FD{Num: fd, Type: typ})
	}
}

// scapMaxPathSize is SCAP_MAX_PATH_SIZE, the buffer libsinsp's parsers join paths into.
const scapMaxPathSize = 1024

// pathTooLong is sinsp_utils::concatenate_paths' check: a directory of dirLen bytes and a
// parameter of rawLen bytes (as stored: its NUL included) do not fit the buffer, and the path
// becomes "/PATH_TOO_LONG". The directory counts even when the name is absolute.
func pathTooLong(dirLen, rawLen int) bool { return dirLen+rawLen+1 > scapMaxPathSize }

const pathTooLongName = "/PATH_TOO_LONG"

// setCwd applies a chdir (rawLen: the path parameter's stored length), keeping sysdig's
// trailing slash.
func (in *Inspector) setCwd(t *Thread, path string, rawLen int) {
	m := in.mainOrPlaceholder(t)
	if m == nil {
		return
	}
	var full string
	if pathTooLong(len(in.Cwd(t)), rawLen) {
		full = pathTooLongName
	} else if rawLen == 0 {
		// concatenate_paths takes a path of no bytes (an fd with no name: fchdir to an
		// inotify fd) as an absolute one: the cwd becomes "" and then "/".
		full = "/"
	} else if strings.HasPrefix(path, "/") {
		full = string(event.AppendJoinPath(nil, "/", []byte(path[1:])))
	} else {
		full = string(event.AppendJoinPath(nil, in.Cwd(t), []byte(path)))
	}
	if !strings.HasSuffix(full, "/") {
		full += "/"
	}
	m.Cwd = full
}

// fullPath resolves an opened name against the cwd or a directory fd, as sysdig names files.
// The directory's length in the PATH_TOO_LONG check is parse_dirfd's: "." for an absolute name
// with a dirfd, the cwd without one (open, creat), the fd's name and '/' (always added).
func (in *Inspector) fullPath(t *Thread, name []byte, dirfd int64, hasDirfd bool) string {
	if len(name) > 0 && name[0] == '/' {
		dirLen := 1
		if !hasDirfd {
			dirLen = len(in.Cwd(t))
		}
		if pathTooLong(dirLen, len(name)+1) {
			return pathTooLongName
		}
		return string(event.AppendJoinPath(nil, "/", name[1:]))
	}
	// The cwd only when it is the base: get_cwd makes a placeholder main thread for a
	// process the table lacks, which later events would name.
	var base string
	if !hasDirfd || dirfd == atFdcwd {
		base = in.Cwd(t)
	} else if f := in.fdOf(t, dirfd); f != nil {
		if pathTooLong(len(f.Name)+1, len(name)+1) {
			return pathTooLongName
		}
		// parse_dirfd means to add a '/' only when the name has none at its end, but
		// tests the byte past the end (the NUL): it always adds one ("/" becomes "//").
		base = f.Name + "/"
	} else {
		// libsinsp's parse_dirfd names a directory fd it does not know "<UNKNOWN>",
		// which the name is appended to with no separator: a ".." in the name takes
		// it away with the name's first part.
		if pathTooLong(len("<UNKNOWN>"), len(name)+1) {
			return pathTooLongName
		}
		return unknownDirPath(name)
	}
	if pathTooLong(len(base), len(name)+1) {
		return pathTooLongName
	}
	return string(event.AppendJoinPath(nil, base, name))
}

// usableEnterName is libsinsp's test for an entry's path parameter overriding the exit's: any
// stored value (an empty string is one byte, its NUL) except the driver's "(NULL)".
func usableEnterName(raw []byte) bool {
	return len(raw) != 0 && string(event.CString(raw)) != "(NULL)"
}

func (in *Inspector) parseOpen(ev *event.Event, t *Thread) {
	fd, ok := ev.Int(0)
	if !ok {
		return
	}
	var name []byte
	var flags uint64
	var dirfd int64
	hasDirfd := false
	var dev uint64
	src := ev
	var enter event.Event
	switch ev.Type {
	case 3: // open: fd, name, flags, mode, dev
		if ev.NParams() < 3 {
			if !in.enterEvent(t, &enter) {
				return
			}
			src = &enter
			name = event.CString(src.Param(0))
			flags, _ = src.Uint(1)
		} else {
			name = event.CString(ev.Param(1))
			flags, _ = ev.Uint(2)
			dev, _ = ev.Uint(4)
		}
	case 59: // creat: fd, name, mode, dev
		if ev.NParams() < 2 {
			if !in.enterEvent(t, &enter) {
				return
			}
			name = event.CString(enter.Param(0))
		} else {
			name = event.CString(ev.Param(1))
			dev, _ = ev.Uint(3)
		}
		flags = 4 | 2 | 256 // creat is open(O_CREAT|O_WRONLY|O_TRUNC), in PPM bits
	case 103: // old openat: the exit has only the fd
		if !in.enterEvent(t, &enter) {
			return
		}
		dirfd, _ = enter.Int(0)
		hasDirfd = true
		name = event.CString(enter.Param(1))
		flags, _ = enter.Uint(2)
	case 307, 327: // openat_2, openat2: fd, dirfd, name, flags, mode, ...
		dirfd, _ = ev.Int(1)
		hasDirfd = true
		name = event.CString(ev.Param(2))
		flags, _ = ev.Uint(3)
		if ev.Type == 307 {
			dev, _ = ev.Uint(5)
		}
		if in.enterEvent(t, &enter) && enter.Type == ev.Type-1 && enter.NParams() >= 3 && usableEnterName(enter.Param(1)) {
			name = event.CString(enter.Param(1))
			flags, _ = enter.Uint(2)
			dirfd, _ = enter.Int(0)
		}
	}
	// open and creat: sysdig prefers the entry's name (and flags) to the exit's whenever the
	// entry holds one, even an empty string the probe could not read at entry.
	if (ev.Type == 3 || ev.Type == 59) && ev.NParams() >= 2 && in.enterEvent(t, &enter) && enter.Type == ev.Type-1 &&
		enter.NParams() >= 1 && usableEnterName(enter.Param(0)) {
		name = event.CString(enter.Param(0))
		if ev.Type == 3 && enter.NParams() >= 2 {
			flags, _ = enter.Uint(1)
		}
	}
	if fd < 0 {
		// libsinsp's parse_dirfd made the directory fd of a relative name the event's fd,
		// and a failed open leaves it there: the event's fd.* fields are the directory's.
		if hasDirfd && dirfd != atFdcwd && (len(name) == 0 || name[0] != '/') {
			in.FD = in.fdOf(t, dirfd)
		}
		return
	}
	f := &FD{Num: fd, Type: capture.FDFile, OpenFlags: uint32(flags), Dev: uint32(dev)}
	if flags&ppmODirectory != 0 {
		f.Type = capture.FDDirectory
	}
	f.Name = in.fullPath(t, name, dirfd, hasDirfd)
	in.newFD(t, f)
}

func (in *Inspector) parseDup(ev *event.Event, t *Thread, _ int) {
	nfd, ok := ev.Int(0)
	if !ok || nfd < 0 || in.FD == nil {
		return
	}
	c := *in.FD
	c.Num = nfd
	in.newFD(t, &c)
}

func (in *Inspector) parseSetID(ev *event.Event, t *Thread) {
	if res, _ := ev.Int(0); res < 0 {
		return
	}
	var enter event.Event
	if !in.enterEvent(t, &enter) {
		return
	}
	v, ok := enter.Uint(0)
	if !ok {
		return
	}
	// libsinsp sets the ids of the calling thread only (glibc makes every thread of the
	// process make the call).
	m := t
	switch ev.Type {
	case 199:
		m.Uid = uint32(v)
	case 201:
		m.Gid = uint32(v)
	case 193:
		if e, ok := enter.Uint(1); ok && uint32(e) != 0xffffffff {
			m.Uid = uint32(e)
		}
	case 195:
		if e, ok := enter.Uint(1); ok && uint32(e) != 0xffffffff {
			m.Gid = uint32(e)
		}
	}
}

// unknownDirPath is libsinsp's concatenate_paths of "<UNKNOWN>" and a relative name: the name's
// segments are appended with no separator before the first, "." ones dropped, and a ".." takes
// away what precedes it up to a '/', "<UNKNOWN>" included.
func unknownDirPath(name []byte) string {
	for {
		switch {
		case len(name) > 0 && name[0] == '/':
			name = name[1:]
		case len(name) == 1 && name[0] == '.', len(name) > 1 && name[0] == '.' && name[1] == '/':
			name = name[1:]
		default:
			if len(name) >= 2 && name[0] == '.' && name[1] == '.' && (len(name) == 2 || name[2] == '/') {
				return string(event.AppendJoinPath(nil, "", name))
			}
			return string(event.AppendJoinPath(nil, "", append([]byte("<UNKNOWN>"), name...)))
		}
	}
}

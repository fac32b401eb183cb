package procfs

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosysdig/gosysdig/capture"
)

// readSockets indexes the system's sockets by inode from /proc/net.
func readSockets(root string) map[uint64]capture.FD {
	m := map[uint64]capture.FD{}
	for _, p := range []struct {
		file string
		v6   bool
		l4   uint8
	}{{"tcp", false, 2}, {"tcp6", true, 2}, {"udp", false, 3}, {"udp6", true, 3}, {"raw", false, 5}, {"raw6", true, 5}} {
		readInet(filepath.Join(root, "net", p.file), p.v6, p.l4, m)
	}
	readUnix(filepath.Join(root, "net", "unix"), m)
	readNetlink(filepath.Join(root, "net", "netlink"), m)
	return m
}

// parseAddr decodes /proc/net's "ADDR:PORT" (address words in host byte order).
func parseAddr(s string, v6 bool) ([16]byte, uint16, bool) {
	var ip [16]byte
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return ip, 0, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return ip, 0, false
	}
	// Each 32-bit word is printed as a host-order number: reverse each word's bytes.
	for w := 0; w+4 <= len(raw); w += 4 {
		v := binary.BigEndian.Uint32(raw[w:])
		binary.LittleEndian.PutUint32(ip[w:], v)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return ip, 0, false
	}
	return ip, uint16(port), true
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// eachRow calls fn with the fields of every row of a /proc/net table that has at least min of
// them, after the header line.
func eachRow(path string, min int, fn func(fs []string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= min {
			fn(fs)
		}
	}
}

func readInet(path string, v6 bool, l4 uint8, m map[uint64]capture.FD) {
	eachRow(path, 10, func(fs []string) {
		lip, lport, ok1 := parseAddr(fs[1], v6)
		rip, rport, ok2 := parseAddr(fs[2], v6)
		ino, err := strconv.ParseUint(fs[9], 10, 64)
		if !ok1 || !ok2 || err != nil || ino == 0 {
			return
		}
		size := 4
		if v6 {
			size = 16
		}
		fd := capture.FD{Ino: ino, L4Proto: l4}
		listening := (l4 == 2 && fs[3] == "0A") || (l4 != 2 && isZero(rip[:size]) && rport == 0)
		switch {
		case listening && !v6:
			fd.Type = capture.FDIPv4Server
		case listening:
			fd.Type = capture.FDIPv6Server
		case !v6:
			fd.Type = capture.FDIPv4Sock
		default:
			fd.Type = capture.FDIPv6Sock
		}
		if listening {
			fd.Sip, fd.Sport = lip, lport
		} else {
			fd.Sip, fd.Sport, fd.Dip, fd.Dport = lip, lport, rip, rport
		}
		m[ino] = fd
	})
}

func readUnix(path string, m map[uint64]capture.FD) {
	eachRow(path, 7, func(fs []string) {
		ino, err := strconv.ParseUint(fs[6], 10, 64)
		if err != nil {
			return
		}
		src, _ := strconv.ParseUint(strings.TrimSuffix(fs[0], ":"), 16, 64)
		fd := capture.FD{Type: capture.FDUnixSock, Ino: ino, Source: src}
		if len(fs) >= 8 {
			fd.Name = fs[7]
		}
		m[ino] = fd
	})
}

func readNetlink(path string, m map[uint64]capture.FD) {
	eachRow(path, 10, func(fs []string) {
		if ino, err := strconv.ParseUint(fs[len(fs)-1], 10, 64); err == nil {
			m[ino] = capture.FD{Type: capture.FDNetlink, Ino: ino}
		}
	})
}

// readFDs lists a process's fds with their names, types and open flags.
func readFDs(pdir string, socks map[uint64]capture.FD) []capture.FD {
	ents, err := os.ReadDir(filepath.Join(pdir, "fd"))
	if err != nil {
		return nil
	}
	var out []capture.FD
	for _, e := range ents {
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(pdir, "fd", e.Name()))
		if err != nil {
			continue
		}
		fd := capture.FD{Fd: n, Name: target}
		flags, ino := fdinfo(filepath.Join(pdir, "fdinfo", e.Name()))
		fd.Ino = ino
		switch {
		case strings.HasPrefix(target, "socket:["):
			sino, _ := strconv.ParseUint(strings.TrimSuffix(target[8:], "]"), 10, 64)
			s, ok := socks[sino]
			if !ok {
				fd.Type = capture.FDUnsupported
				break
			}
			s.Fd = n
			fd = s
		case strings.HasPrefix(target, "pipe:["):
			fd.Type = capture.FDFifo
		case target == "anon_inode:[eventfd]":
			fd.Type = capture.FDEvent
		case target == "anon_inode:[eventpoll]":
			fd.Type = capture.FDEventpoll
		case target == "anon_inode:inotify":
			fd.Type = capture.FDInotify
		case target == "anon_inode:[signalfd]":
			fd.Type = capture.FDSignalfd
		case target == "anon_inode:[timerfd]":
			fd.Type = capture.FDTimerfd
		case strings.HasPrefix(target, "/"):
			fd.Type = capture.FDFile
			if st, err := os.Stat(filepath.Join(pdir, "fd", e.Name())); err == nil && st.IsDir() {
				fd.Type = capture.FDDirectory
			}
			fd.OpenFlags = PPMOpenFlags(flags)
		default:
			fd.Type = capture.FDUnsupported
		}
		out = append(out, fd)
	}
	return out
}

func fdinfo(path string) (flags uint32, ino uint64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "flags":
			f, _ := strconv.ParseUint(v, 8, 32)
			flags = uint32(f)
		case "ino":
			ino, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	return flags, ino
}

// PPMOpenFlags converts Linux open(2) flags to sysdig's PPM_O_* bits.
func PPMOpenFlags(f uint32) uint32 {
	var r uint32
	switch f & 3 {
	case 0:
		r = 1 // O_RDONLY
	case 1:
		r = 2 // O_WRONLY
	case 2:
		r = 3 // O_RDWR
	}
	for _, m := range [...]struct{ linux, ppm uint32 }{
		{0o100, 4},         // O_CREAT
		{0o200, 32},        // O_EXCL
		{0o1000, 256},      // O_TRUNC
		{0o2000, 8},        // O_APPEND
		{0o4000, 64},       // O_NONBLOCK
		{0o10000, 16},      // O_DSYNC
		{0o40000, 512},     // O_DIRECT
		{0o100000, 2048},   // O_LARGEFILE
		{0o200000, 1024},   // O_DIRECTORY
		{0o2000000, 4096},  // O_CLOEXEC
		{0o4010000, 128},   // O_SYNC (includes O_DSYNC's bit)
		{0o20200000, 8192}, // O_TMPFILE (includes O_DIRECTORY's bit)
	} {
		if f&m.linux == m.linux {
			r |= m.ppm
		}
	}
	return r
}

package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

var (
	errShort     = errors.New("entry runs past the block")
	errTruncated = fmt.Errorf("the stream ends inside the block: %w", io.ErrUnexpectedEOF)
)

// cursor reads a header block (or one entry of it) straight from the capture stream, as libscap
// reads its lists field by field: memory holds the entries parsed, never the block, so a
// process list of any size costs what its threads cost, and a block that claims gigabytes of
// padding costs nothing. Every read checks the block's bounds, so corrupt input gives an
// error. A slice take returns is valid until the cursor's next read.
type cursor struct {
	r    *bufio.Reader
	left int64  // bytes of the block (or entry) not read yet
	off  *int64 // the Reader's offset, advanced as bytes are read
	err  error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || int64(n) > c.left {
		c.err = errShort
		return nil
	}
	if n > c.r.Size() {
		c.err = fmt.Errorf("field of %d bytes exceeds %d", n, c.r.Size())
		return nil
	}
	b, err := c.r.Peek(n)
	if err != nil {
		c.err = errTruncated
		return nil
	}
	c.r.Discard(n)
	c.left -= int64(n)
	*c.off += int64(n)
	return b
}

// sub is a cursor over the next n bytes: one length-prefixed entry.
func (c *cursor) sub(n int64) cursor {
	if c.err == nil && (n < 0 || n > c.left) {
		c.err = errShort
	}
	if c.err != nil {
		return cursor{err: c.err}
	}
	c.left -= n
	return cursor{r: c.r, left: n, off: c.off}
}

// skipRest passes over what is left of the cursor's bytes (fields a newer writer added to an
// entry, a block's padding), as libscap skips them.
func (c *cursor) skipRest() {
	if c.err != nil || c.left == 0 {
		return
	}
	n, err := c.r.Discard(int(c.left))
	*c.off += int64(n)
	c.left -= int64(n)
	if err != nil {
		c.err = errTruncated
	}
}

func (c *cursor) u8() uint8 {
	if b := c.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if b := c.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if b := c.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if b := c.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// str reads a u16-length string of at most max bytes, as libscap limits them.
func (c *cursor) str(max int) string {
	n := int(c.u16())
	if c.err == nil && n > max {
		c.err = fmt.Errorf("string of %d bytes exceeds %d", n, max)
		return ""
	}
	return string(c.take(n))
}

// list reads a u16-length run of NUL-terminated items (args, env, cgroups).
func (c *cursor) list(max int) []string {
	s := c.str(max)
	return splitNul(s)
}

func splitNul(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func (r *Reader) parseHeaderBlock(t uint32, b *cursor) error {
	switch {
	case t == blockMI || t == blockMIInt:
		return r.parseMI(b)
	case plVersion(t) > 0:
		return r.parsePL(b, plVersion(t))
	case t == blockFDL || t == blockFDLInt || t == blockFDLV2:
		return r.parseFDL(b, t == blockFDLV2)
	case t == blockIL || t == blockILInt || t == blockILV2:
		return r.parseIL(b, t == blockILV2)
	case t == blockUL || t == blockULInt || t == blockULV2:
		return r.parseUL(b, t == blockULV2)
	}
	return nil // unknown header blocks are skipped, as libscap does
}

func (r *Reader) parseMI(c *cursor) error {
	mi := &MachineInfo{NumCPUs: c.u32(), MemBytes: c.u64(), MaxPid: c.u64()}
	host := c.take(128)
	if c.err != nil {
		return fmt.Errorf("machine info: %w", c.err)
	}
	mi.Hostname = string(cstr(host))
	c.skipRest()
	r.hdr.Machine = mi
	return nil
}

func cstr(b []byte) []byte {
	for i, x := range b {
		if x == 0 {
			return b[:i]
		}
	}
	return b
}

func (r *Reader) parsePL(c *cursor, v int) error {
	for c.left >= 4 && c.err == nil {
		var th Thread
		ec := c
		var entry cursor
		if v >= 9 {
			n := int64(c.u32())
			entry = c.sub(n - 4)
			if c.err != nil {
				return fmt.Errorf("process list: %w", c.err)
			}
			ec = &entry
		}
		th.Tid = int64(ec.u64())
		th.Pid = int64(ec.u64())
		th.Ptid = int64(ec.u64())
		// Fields older lists do not carry are unknown (-1), as libscap leaves them.
		th.Sid, th.Vpgid, th.Vtid, th.Vpid = -1, -1, -1, -1
		if v >= 6 {
			th.Sid = int64(ec.u64())
		}
		if v >= 8 {
			th.Vpgid = int64(ec.u64())
		}
		th.Comm = ec.str(1024)
		th.Exe = ec.str(1024)
		if v >= 7 {
			th.Exepath = ec.str(1024)
		}
		th.Args = ec.list(4096)
		th.Cwd = ec.str(1024)
		th.FdLimit = int64(ec.u64())
		th.Flags = ec.u32()
		th.Uid = ec.u32()
		th.Gid = ec.u32()
		if v >= 2 {
			th.VmSizeKB = ec.u32()
			th.VmRssKB = ec.u32()
			th.VmSwapKB = ec.u32()
			th.PfMajor = ec.u64()
			th.PfMinor = ec.u64()
		}
		if v >= 3 {
			th.Env = ec.list(4096)
		}
		if v >= 4 {
			th.Vtid = int64(ec.u64())
			th.Vpid = int64(ec.u64())
			th.Cgroups = ec.list(4096)
		}
		if v >= 5 {
			th.Root = ec.str(1024)
		}
		th.LoginUid = -1
		if v >= 9 && ec.left >= 4 {
			th.LoginUid = int32(ec.u32())
			if ec.left >= 1 {
				th.ExeWritable = ec.u8() != 0
			}
		}
		if v >= 9 {
			ec.skipRest()
		}
		if ec.err != nil {
			return fmt.Errorf("process list entry: %w", ec.err)
		}
		r.addThread(th)
	}
	if c.err != nil {
		return fmt.Errorf("process list: %w", c.err)
	}
	return nil
}

// addThread adds a process-list entry; a later entry for a tid replaces the earlier one, as
// sinsp's thread table keeps one thread per tid (and memory stays bounded by distinct tids).
func (r *Reader) addThread(th Thread) {
	if r.tidIndex == nil {
		r.tidIndex = map[int64]int{}
	}
	if i, ok := r.tidIndex[th.Tid]; ok {
		r.hdr.Threads[i] = th
		return
	}
	r.tidIndex[th.Tid] = len(r.hdr.Threads)
	r.hdr.Threads = append(r.hdr.Threads, th)
}

func (r *Reader) findThread(tid int64) *Thread {
	if i, ok := r.tidIndex[tid]; ok {
		return &r.hdr.Threads[i]
	}
	return nil
}

func (r *Reader) parseFDL(c *cursor, v2 bool) error {
	tid := int64(c.u64())
	th := r.findThread(tid)
	if c.err == nil && th == nil {
		return fmt.Errorf("fd list references thread %d, which no process list holds", tid)
	}
	// A later entry for an fd number replaces the earlier one, as sinsp's fd table does.
	fdIndex := map[int64]int{}
	if th != nil {
		for i := range th.FDs {
			fdIndex[th.FDs[i].Fd] = i
		}
	}
	for c.left >= 4 && c.err == nil {
		ec := c
		var entry cursor
		if v2 {
			n := int64(c.u32())
			entry = c.sub(n - 4)
			ec = &entry
		}
		var fd FD
		fd.Fd = int64(ec.u64())
		fd.Ino = ec.u64()
		fd.Type = ec.u8()
		switch fd.Type {
		case FDIPv4Sock:
			copy(fd.Sip[:], ec.take(4))
			copy(fd.Dip[:], ec.take(4))
			fd.Sport, fd.Dport, fd.L4Proto = ec.u16(), ec.u16(), ec.u8()
		case FDIPv6Sock:
			copy(fd.Sip[:], ec.take(16))
			copy(fd.Dip[:], ec.take(16))
			fd.Sport, fd.Dport, fd.L4Proto = ec.u16(), ec.u16(), ec.u8()
		case FDIPv4Server:
			copy(fd.Sip[:], ec.take(4))
			fd.Sport, fd.L4Proto = ec.u16(), ec.u8()
		case FDIPv6Server:
			copy(fd.Sip[:], ec.take(16))
			fd.Sport, fd.L4Proto = ec.u16(), ec.u8()
		case FDUnixSock:
			fd.Source, fd.Dest = ec.u64(), ec.u64()
			fd.Name = ec.str(1024)
		case FDFileV2:
			fd.Type = FDFile
			fd.OpenFlags = ec.u32()
			fd.Name = ec.str(1024)
			if v2 && ec.left >= 4 {
				fd.Dev = ec.u32()
			}
		case FDFile, FDDirectory, FDFifo, FDEvent, FDUnsupported, FDSignalfd, FDEventpoll,
			FDInotify, FDTimerfd, FDNetlink:
			fd.Name = ec.str(1024)
		default:
			if ec.err == nil {
				return fmt.Errorf("fd list: unknown fd type %d", fd.Type)
			}
		}
		if v2 {
			ec.skipRest()
		}
		if ec.err != nil {
			return fmt.Errorf("fd list entry: %w", ec.err)
		}
		if i, ok := fdIndex[fd.Fd]; ok {
			th.FDs[i] = fd
			continue
		}
		fdIndex[fd.Fd] = len(th.FDs)
		th.FDs = append(th.FDs, fd)
	}
	if c.err != nil {
		return fmt.Errorf("fd list: %w", c.err)
	}
	return nil
}

func (r *Reader) parseIL(c *cursor, v2 bool) error {
	var ifs []Interface
	for c.left >= 4 && c.err == nil {
		ec := c
		var entry cursor
		if v2 {
			// The V2 entry length excludes its own four bytes, unlike the other lists.
			n := int64(c.u32())
			entry = c.sub(n)
			ec = &entry
		}
		var it Interface
		it.Type = ec.u16()
		nameLen := int(ec.u16())
		switch it.Type {
		case 1, 3:
			copy(it.Addr[:], ec.take(4))
			copy(it.Netmask[:], ec.take(4))
			copy(it.Bcast[:], ec.take(4))
		case 2, 4:
			copy(it.Addr[:], ec.take(16))
			copy(it.Netmask[:], ec.take(16))
			copy(it.Bcast[:], ec.take(16))
		default:
			if ec.err == nil {
				return fmt.Errorf("interface list: unknown interface type %d", it.Type)
			}
		}
		if it.Type == 1 || it.Type == 2 {
			it.LinkSpeed = ec.u64()
		}
		if nameLen >= 1024 {
			return fmt.Errorf("interface list: name of %d bytes", nameLen)
		}
		it.Name = string(ec.take(nameLen))
		if v2 {
			ec.skipRest()
		}
		if ec.err != nil {
			return fmt.Errorf("interface list: %w", ec.err)
		}
		ifs = append(ifs, it)
	}
	if c.err != nil {
		return fmt.Errorf("interface list: %w", c.err)
	}
	r.hdr.Interfaces = ifs
	return nil
}

func (r *Reader) parseUL(c *cursor, v2 bool) error {
	var users []User
	var groups []Group
	// A later entry for a uid or gid replaces the earlier one, as sinsp's user and group
	// tables do.
	uidIndex, gidIndex := map[uint32]int{}, map[uint32]int{}
	for c.left >= 4 && c.err == nil {
		ec := c
		var entry cursor
		if v2 {
			n := int64(c.u32())
			entry = c.sub(n - 4)
			ec = &entry
		}
		kind := ec.u8()
		if kind == 0 {
			u := User{Uid: ec.u32(), Gid: ec.u32()}
			u.Name = ec.str(255)
			u.Home = ec.str(255)
			u.Shell = ec.str(255)
			if i, ok := uidIndex[u.Uid]; ok {
				users[i] = u
			} else if ec.err == nil {
				uidIndex[u.Uid] = len(users)
				users = append(users, u)
			}
		} else {
			g := Group{Gid: ec.u32()}
			g.Name = ec.str(255)
			if i, ok := gidIndex[g.Gid]; ok {
				groups[i] = g
			} else if ec.err == nil {
				gidIndex[g.Gid] = len(groups)
				groups = append(groups, g)
			}
		}
		if v2 {
			ec.skipRest()
		}
		if ec.err != nil {
			return fmt.Errorf("user list: %w", ec.err)
		}
	}
	if c.err != nil {
		return fmt.Errorf("user list: %w", c.err)
	}
	r.hdr.Users, r.hdr.Groups = users, groups
	return nil
}

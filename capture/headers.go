package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errShort = errors.New("entry runs past the block")

// cursor walks a block body; every read checks the bounds so corrupt input gives an error.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b) {
		c.err = errShort
		c.b = nil
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
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

func (r *Reader) parseHeaderBlock(t uint32, b []byte) error {
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

func (r *Reader) parseMI(b []byte) error {
	c := cursor{b: b}
	mi := &MachineInfo{NumCPUs: c.u32(), MemBytes: c.u64(), MaxPid: c.u64()}
	host := c.take(128)
	if c.err != nil {
		return fmt.Errorf("machine info: %w", c.err)
	}
	mi.Hostname = string(cstr(host))
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

func (r *Reader) parsePL(b []byte, v int) error {
	c := cursor{b: b}
	for len(c.b) >= 4 && c.err == nil {
		var th Thread
		ec := &c
		var entry cursor
		if v >= 9 {
			n := int(c.u32())
			body := c.take(n - 4)
			if c.err != nil {
				return fmt.Errorf("process list: %w", c.err)
			}
			entry = cursor{b: body}
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
		if v >= 9 && len(ec.b) >= 4 {
			th.LoginUid = int32(ec.u32())
			if len(ec.b) >= 1 {
				th.ExeWritable = ec.u8() != 0
			}
		}
		if ec.err != nil {
			return fmt.Errorf("process list entry: %w", ec.err)
		}
		r.hdr.Threads = append(r.hdr.Threads, th)
	}
	if c.err != nil {
		return fmt.Errorf("process list: %w", c.err)
	}
	return nil
}

func (r *Reader) findThread(tid int64) *Thread {
	for i := len(r.hdr.Threads) - 1; i >= 0; i-- {
		if r.hdr.Threads[i].Tid == tid {
			return &r.hdr.Threads[i]
		}
	}
	return nil
}

func (r *Reader) parseFDL(b []byte, v2 bool) error {
	c := cursor{b: b}
	tid := int64(c.u64())
	th := r.findThread(tid)
	if c.err == nil && th == nil {
		return fmt.Errorf("fd list references thread %d, which no process list holds", tid)
	}
	for len(c.b) >= 4 && c.err == nil {
		ec := &c
		var entry cursor
		if v2 {
			n := int(c.u32())
			body := c.take(n - 4)
			entry = cursor{b: body}
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
			if v2 && len(ec.b) >= 4 {
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
		if ec.err != nil {
			return fmt.Errorf("fd list entry: %w", ec.err)
		}
		th.FDs = append(th.FDs, fd)
	}
	if c.err != nil {
		return fmt.Errorf("fd list: %w", c.err)
	}
	return nil
}

func (r *Reader) parseIL(b []byte, v2 bool) error {
	c := cursor{b: b}
	var ifs []Interface
	for len(c.b) >= 4 && c.err == nil {
		ec := &c
		var entry cursor
		if v2 {
			// The V2 entry length excludes its own four bytes, unlike the other lists.
			n := int(c.u32())
			entry = cursor{b: c.take(n)}
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

func (r *Reader) parseUL(b []byte, v2 bool) error {
	c := cursor{b: b}
	var users []User
	var groups []Group
	for len(c.b) >= 4 && c.err == nil {
		ec := &c
		var entry cursor
		if v2 {
			n := int(c.u32())
			entry = cursor{b: c.take(n - 4)}
			ec = &entry
		}
		kind := ec.u8()
		if kind == 0 {
			u := User{Uid: ec.u32(), Gid: ec.u32()}
			u.Name = ec.str(255)
			u.Home = ec.str(255)
			u.Shell = ec.str(255)
			users = append(users, u)
		} else {
			g := Group{Gid: ec.u32()}
			g.Name = ec.str(255)
			groups = append(groups, g)
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

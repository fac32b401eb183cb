package capture

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gosysdig/gosysdig/event"
)

// Dump flags stored with EVF blocks.
const (
	DumpStateOnly = 1 // the event updates state but is hidden from output
)

// Writer writes a scap capture in the block versions sysdig 0.29.3 writes: SHB 1.2, MI,
// IL_V2, UL_V2, one PL_V9, one FDL_V2 per thread, then EV_V2 (EVF_V2 with flags) blocks.
//
// Blocks are buffered and handed to the destination whole, so a process killed at any moment
// leaves a plain capture that ends on a block boundary.
type Writer struct {
	out  io.Writer // dst, or the gzip stream over it
	gz   *gzip.Writer
	dst  io.Writer
	buf  []byte // the block being built
	pend []byte // whole blocks not yet written
	n    int64  // bytes written (uncompressed)
	err  error
}

const pendingMax = 256 << 10

// NewWriter starts a capture on dst (gzip-compressed when compress is set) and writes the header
// blocks describing h.
func NewWriter(dst io.Writer, h *Header, compress bool) (*Writer, error) {
	wr := &Writer{dst: dst, out: dst, pend: make([]byte, 0, pendingMax)}
	if compress {
		wr.gz = gzip.NewWriter(dst)
		wr.out = wr.gz
	}
	wr.writeHeader(h)
	if wr.err != nil {
		return nil, wr.err
	}
	return wr, nil
}

// Written is the number of (uncompressed) bytes written so far.
func (wr *Writer) Written() int64 { return wr.n }

// write queues one whole block, writing out the queue first when the block would not fit.
func (wr *Writer) write(b []byte) {
	if wr.err != nil {
		return
	}
	if len(wr.pend)+len(b) > pendingMax {
		wr.drain()
	}
	wr.n += int64(len(b))
	if len(b) > pendingMax {
		wr.emit(b)
		return
	}
	wr.pend = append(wr.pend, b...)
}

func (wr *Writer) drain() {
	if len(wr.pend) > 0 {
		wr.emit(wr.pend)
		wr.pend = wr.pend[:0]
	}
}

func (wr *Writer) emit(b []byte) {
	if wr.err != nil {
		return
	}
	if _, err := wr.out.Write(b); err != nil {
		wr.err = fmt.Errorf("writing capture: %w", err)
	}
}

// block writes one block whose body is wr.buf[8:].
func (wr *Writer) block(typ uint32) {
	body := len(wr.buf) - 8
	pad := (4 - body%4) % 4
	for i := 0; i < pad; i++ {
		wr.buf = append(wr.buf, 0)
	}
	total := uint32(len(wr.buf) + 4)
	binary.LittleEndian.PutUint32(wr.buf[0:], typ)
	binary.LittleEndian.PutUint32(wr.buf[4:], total)
	wr.buf = binary.LittleEndian.AppendUint32(wr.buf, total)
	wr.write(wr.buf)
}

func (wr *Writer) start() { wr.buf = append(wr.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0) }

func (wr *Writer) u8(v uint8)   { wr.buf = append(wr.buf, v) }
func (wr *Writer) u16(v uint16) { wr.buf = binary.LittleEndian.AppendUint16(wr.buf, v) }
func (wr *Writer) u32(v uint32) { wr.buf = binary.LittleEndian.AppendUint32(wr.buf, v) }
func (wr *Writer) u64(v uint64) { wr.buf = binary.LittleEndian.AppendUint64(wr.buf, v) }

func (wr *Writer) str(s string, max int) {
	if len(s) > max {
		s = s[:max]
	}
	wr.u16(uint16(len(s)))
	wr.buf = append(wr.buf, s...)
}

// list writes NUL-terminated items as one u16-length string, cut at max bytes.
func (wr *Writer) list(items []string, max int) {
	start := len(wr.buf)
	wr.u16(0)
	for _, it := range items {
		if len(wr.buf)-start-2+len(it)+1 > max {
			break
		}
		wr.buf = append(wr.buf, it...)
		wr.buf = append(wr.buf, 0)
	}
	binary.LittleEndian.PutUint16(wr.buf[start:], uint16(len(wr.buf)-start-2))
}

// entry starts a length-prefixed list entry and returns where its length goes.
func (wr *Writer) entry() int {
	at := len(wr.buf)
	wr.u32(0)
	return at
}

func (wr *Writer) endEntry(at int, includeSelf bool) {
	n := len(wr.buf) - at
	if !includeSelf {
		n -= 4
	}
	binary.LittleEndian.PutUint32(wr.buf[at:], uint32(n))
}

func (wr *Writer) writeHeader(h *Header) {
	wr.start()
	wr.u32(shbMagic)
	wr.u16(1)
	wr.u16(2)
	wr.u64(^uint64(0))
	wr.block(blockSHB)

	mi := h.Machine
	if mi == nil {
		mi = &MachineInfo{}
	}
	wr.start()
	wr.u32(mi.NumCPUs)
	wr.u64(mi.MemBytes)
	wr.u64(mi.MaxPid)
	var host [128]byte
	copy(host[:127], mi.Hostname)
	wr.buf = append(wr.buf, host[:]...)
	for i := 0; i < 4; i++ {
		wr.u64(0)
	}
	wr.block(blockMI)

	wr.start()
	for _, it := range h.Interfaces {
		at := wr.entry()
		typ := it.Type
		wr.u16(typ)
		wr.u16(uint16(len(it.Name)))
		size := 4
		if typ == 2 || typ == 4 {
			size = 16
		}
		wr.buf = append(wr.buf, it.Addr[:size]...)
		wr.buf = append(wr.buf, it.Netmask[:size]...)
		wr.buf = append(wr.buf, it.Bcast[:size]...)
		if typ == 1 || typ == 2 {
			wr.u64(it.LinkSpeed)
		}
		wr.buf = append(wr.buf, it.Name...)
		wr.endEntry(at, false)
	}
	wr.block(blockILV2)

	wr.start()
	for _, u := range h.Users {
		at := wr.entry()
		wr.u8(0)
		wr.u32(u.Uid)
		wr.u32(u.Gid)
		wr.str(u.Name, 255)
		wr.str(u.Home, 255)
		wr.str(u.Shell, 255)
		wr.endEntry(at, true)
	}
	for _, g := range h.Groups {
		at := wr.entry()
		wr.u8(1)
		wr.u32(g.Gid)
		wr.str(g.Name, 255)
		wr.endEntry(at, true)
	}
	wr.block(blockULV2)

	wr.start()
	for i := range h.Threads {
		t := &h.Threads[i]
		at := wr.entry()
		wr.u64(uint64(t.Tid))
		wr.u64(uint64(t.Pid))
		wr.u64(uint64(t.Ptid))
		wr.u64(uint64(t.Sid))
		wr.u64(uint64(t.Vpgid))
		wr.str(t.Comm, 1024)
		wr.str(t.Exe, 1024)
		wr.str(t.Exepath, 1024)
		wr.list(t.Args, 4096)
		wr.str(t.Cwd, 1024)
		wr.u64(uint64(t.FdLimit))
		wr.u32(t.Flags)
		wr.u32(t.Uid)
		wr.u32(t.Gid)
		wr.u32(t.VmSizeKB)
		wr.u32(t.VmRssKB)
		wr.u32(t.VmSwapKB)
		wr.u64(t.PfMajor)
		wr.u64(t.PfMinor)
		wr.list(t.Env, 4096)
		wr.u64(uint64(t.Vtid))
		wr.u64(uint64(t.Vpid))
		wr.list(t.Cgroups, 4096)
		wr.str(t.Root, 1024)
		wr.u32(uint32(t.LoginUid))
		if t.ExeWritable {
			wr.u8(1)
		} else {
			wr.u8(0)
		}
		wr.endEntry(at, true)
	}
	wr.block(blockPLV9)

	for i := range h.Threads {
		t := &h.Threads[i]
		if len(t.FDs) == 0 {
			continue
		}
		wr.start()
		wr.u64(uint64(t.Tid))
		for j := range t.FDs {
			f := &t.FDs[j]
			at := wr.entry()
			wr.u64(uint64(f.Fd))
			wr.u64(f.Ino)
			typ := f.Type
			if typ == FDFile {
				typ = FDFileV2
			}
			wr.u8(typ)
			switch typ {
			case FDIPv4Sock:
				wr.buf = append(wr.buf, f.Sip[:4]...)
				wr.buf = append(wr.buf, f.Dip[:4]...)
				wr.u16(f.Sport)
				wr.u16(f.Dport)
				wr.u8(f.L4Proto)
			case FDIPv6Sock:
				wr.buf = append(wr.buf, f.Sip[:]...)
				wr.buf = append(wr.buf, f.Dip[:]...)
				wr.u16(f.Sport)
				wr.u16(f.Dport)
				wr.u8(f.L4Proto)
			case FDIPv4Server:
				wr.buf = append(wr.buf, f.Sip[:4]...)
				wr.u16(f.Sport)
				wr.u8(f.L4Proto)
			case FDIPv6Server:
				wr.buf = append(wr.buf, f.Sip[:]...)
				wr.u16(f.Sport)
				wr.u8(f.L4Proto)
			case FDUnixSock:
				wr.u64(f.Source)
				wr.u64(f.Dest)
				wr.str(f.Name, 1023)
			case FDFileV2:
				wr.u32(f.OpenFlags)
				wr.str(f.Name, 1023)
				wr.u32(f.Dev)
			default:
				wr.str(f.Name, 1023)
			}
			wr.endEntry(at, true)
		}
		wr.block(blockFDLV2)
	}
}

// WriteEvent writes one event (any header version) as an EV_V2 block, or EVF_V2 when flags
// is non-zero; large-payload types go in the LARGE variants.
func (wr *Writer) WriteEvent(ev *event.Event, flags uint32) error {
	if wr.err != nil {
		return wr.err
	}
	large := ev.Info.Large()
	typ := uint32(blockEVV2)
	switch {
	case large && flags != 0:
		typ = blockEVFV2Large
	case large:
		typ = blockEVV2Large
	case flags != 0:
		typ = blockEVFV2
	}
	raw := ev.Raw()
	wr.start()
	wr.u16(ev.CPU)
	if flags != 0 {
		wr.u32(flags)
	}
	if ev.HeaderLen() == event.HeaderV2 {
		evLen := binary.LittleEndian.Uint32(raw[16:])
		wr.buf = append(wr.buf, raw[:evLen]...)
	} else {
		// A v1 event gains its parameter count; everything else is copied unchanged.
		n := ev.StoredParams()
		lw := 2
		if large {
			lw = 4
		}
		lens := raw[event.HeaderV1 : event.HeaderV1+n*lw]
		data := raw[event.HeaderV1+n*lw : binary.LittleEndian.Uint32(raw[16:])]
		wr.buf = append(wr.buf, raw[:20]...)
		newLen := uint32(event.HeaderV2 + len(lens) + len(data))
		binary.LittleEndian.PutUint32(wr.buf[len(wr.buf)-4:], newLen)
		wr.u16(ev.Type)
		wr.u32(uint32(n))
		wr.buf = append(wr.buf, lens...)
		wr.buf = append(wr.buf, data...)
	}
	wr.block(typ)
	return wr.err
}

// Flush pushes buffered blocks to the destination (whole blocks only).
func (wr *Writer) Flush() error {
	if wr.err != nil {
		return wr.err
	}
	wr.drain()
	if wr.err != nil {
		return wr.err
	}
	if wr.gz != nil {
		if err := wr.gz.Flush(); err != nil {
			wr.err = fmt.Errorf("writing capture: %w", err)
		}
	}
	return wr.err
}

// Close flushes and ends the capture (the gzip stream, not the destination).
func (wr *Writer) Close() error {
	err := wr.Flush()
	if wr.gz != nil {
		if cerr := wr.gz.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing capture: %w", cerr)
		}
	}
	return err
}

// ContainerEventType is CONTAINER_JSON_2, the container event sysdig 0.29.3 writes.
const ContainerEventType = 324

// ContainerEvent builds a CONTAINER_JSON_2 event (v2 header, tid -1, one u32-length parameter:
// the JSON text and a NUL) at timestamp ts, appending it to dst.
func ContainerEvent(dst []byte, ts uint64, json []byte) []byte {
	const hdr = 26
	n := hdr + 4 + len(json) + 1
	dst = binary.LittleEndian.AppendUint64(dst, ts)
	dst = binary.LittleEndian.AppendUint64(dst, ^uint64(0)) // tid -1
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint16(dst, ContainerEventType)
	dst = binary.LittleEndian.AppendUint32(dst, 1)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(json)+1))
	dst = append(dst, json...)
	return append(dst, 0)
}

// WriteContainer writes one container's JSON (sysdig's {"container":{...}}) as a
// CONTAINER_JSON_2 event in an EV_V2_LARGE block, as sysdig writes the containers it knows when
// a capture file opens.
func (wr *Writer) WriteContainer(ts uint64, json []byte) error {
	if wr.err != nil {
		return wr.err
	}
	wr.start()
	wr.u16(0) // cpu
	wr.buf = ContainerEvent(wr.buf, ts, json)
	wr.block(blockEVV2Large)
	return wr.err
}

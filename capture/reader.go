package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gosysdig/gosysdig/event"
)

// ErrNewSection is returned by Next when a concatenated capture starts a new section: the header
// has been replaced and the caller should reset what it derived from the old one.
var ErrNewSection = errors.New("capture: new section")

// Reader reads a scap capture, plain or gzip, block by block.
type Reader struct {
	r      *bufio.Reader
	closer io.Closer
	off    int64 // offset in the uncompressed stream of the next byte to read
	hdr    Header
	buf    []byte
	peeked bool // a block header has been read ahead (the first event block)
	pType  uint32
	pLen   uint32
	evnum  uint64
	name   string
	hdrBuf [8]byte // block header scratch: kept here so reading a block allocates nothing
	// tidIndex locates the section's process-list threads by tid (duplicates replace).
	tidIndex map[int64]int
}

// Open opens a capture file and reads its header blocks.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	r.name = path
	return r, nil
}

// NewReader reads a capture from src, detecting gzip by its magic bytes.
func NewReader(src io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(src, 256<<10)
	magic, err := br.Peek(2)
	if err != nil && len(magic) == 0 {
		return nil, fmt.Errorf("empty capture: %w", io.ErrUnexpectedEOF)
	}
	rd := &Reader{buf: make([]byte, 0, 64<<10)}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bad gzip stream: %w", err)
		}
		rd.r = bufio.NewReaderSize(zr, 256<<10)
	} else {
		rd.r = br
	}
	if err := rd.readSection(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Header returns what the current section's header blocks said.
func (r *Reader) Header() *Header { return &r.hdr }

// Offset is how many bytes of the (uncompressed) capture have been read: sysdig -P's progress.
func (r *Reader) Offset() int64 { return r.off }

// Close closes the underlying file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

func (r *Reader) readFull(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("truncated capture: expected %d bytes at offset %d, got %d: %w", len(b), r.off-int64(n), n, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("reading capture at offset %d: %w", r.off, err)
	}
	return nil
}

// blockHeader reads the next block's type and total length; io.EOF at a clean end.
func (r *Reader) blockHeader() (uint32, uint32, error) {
	if r.peeked {
		r.peeked = false
		return r.pType, r.pLen, nil
	}
	h := r.hdrBuf[:]
	n, err := io.ReadFull(r.r, h)
	r.off += int64(n)
	if n == 0 && errors.Is(err, io.EOF) {
		return 0, 0, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, 0, fmt.Errorf("truncated capture: block header at offset %d cut after %d bytes: %w", r.off-int64(n), n, io.ErrUnexpectedEOF)
		}
		return 0, 0, fmt.Errorf("reading capture at offset %d: %w", r.off, err)
	}
	t := binary.LittleEndian.Uint32(h[0:])
	l := binary.LittleEndian.Uint32(h[4:])
	if l < 12 || l%4 != 0 {
		return 0, 0, fmt.Errorf("corrupted capture: block 0x%x at offset %d has bad length %d", t, r.off-8, l)
	}
	return t, l, nil
}

// maxBlockLen bounds a large event block's total length; a larger length field is corruption,
// not data. (Header blocks stream and have no such cap.)
const maxBlockLen = 256 << 20

// readerBufSize is libscap's READER_BUF_SIZE: the most a non-large event block may hold after
// its 8-byte block header (body and trailer), since such events have 16-bit parameter lengths.
// sysdig refuses bigger ones; refusing before reading keeps a tiny compressed capture that
// claims a huge block from costing memory.
const readerBufSize = 1 << 16

// checkEventBlockLen applies sysdig's caps on event blocks (scap_next_offline at e5c53d64): a
// non-large block's contents may not exceed the read buffer, and a v1 block must still fit once
// its header gains the 4-byte parameter count.
func checkEventBlockLen(t, total uint32, off int64) error {
	if t == blockEVV2Large || t == blockEVFV2Large {
		return nil
	}
	readlen := total - 8
	if readlen > readerBufSize {
		return fmt.Errorf("corrupted capture: event block at offset %d has length %d: %d bytes greater than NON-LARGE read buffer size %d", off, total, readlen, readerBufSize)
	}
	if (t == blockEV || t == blockEVInt || t == blockEVF) && readlen+4 > readerBufSize {
		return fmt.Errorf("corrupted capture: event block at offset %d: cannot convert v1 event block to v2 (%d greater than read buffer size %d)", off, readlen+4, readerBufSize)
	}
	return nil
}

// body reads a block's body and trailer, returning the body (padding included) and the trailer.
func (r *Reader) body(total uint32) ([]byte, uint32, error) {
	if total > maxBlockLen {
		return nil, 0, fmt.Errorf("corrupted capture: block at offset %d has length %d, more than %d", r.off-8, total, maxBlockLen)
	}
	n := int(total) - 12
	start := r.off
	// Grow the buffer as bytes arrive, so a length field larger than the stream fails at its end
	// instead of allocating the whole length first.
	b := r.buf[:0]
	for len(b) < n+4 {
		chunk := n + 4 - len(b)
		if cap(b) < n+4 {
			chunk = min(chunk, max(len(b), 1<<20))
		}
		if cap(b)-len(b) < chunk {
			nb := make([]byte, len(b), len(b)+chunk)
			copy(nb, b)
			b = nb
		}
		if err := r.readFull(b[len(b) : len(b)+chunk]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, 0, fmt.Errorf("truncated capture: block at offset %d needs %d bytes, stream ends after %d: %w", start-8, total, 8+r.off-start, io.ErrUnexpectedEOF)
			}
			return nil, 0, err
		}
		b = b[:len(b)+chunk]
	}
	if cap(b) > cap(r.buf) {
		r.buf = b
	}
	return b[:n], binary.LittleEndian.Uint32(b[n:]), nil
}

// readSection reads an SHB and the header blocks after it, stopping before the first event.
func (r *Reader) readSection() error {
	if !r.peeked {
		// Anything that does not start with a section header is not a capture at all: say so
		// rather than describe its first bytes as a damaged block.
		if h, err := r.r.Peek(4); err == nil && binary.LittleEndian.Uint32(h) != blockSHB {
			return fmt.Errorf("not a scap capture: its first block is not a section header")
		}
	}
	t, l, err := r.blockHeader()
	if err == io.EOF {
		return fmt.Errorf("empty capture: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if t != blockSHB {
		return fmt.Errorf("not a scap capture: first block type 0x%x is not a section header", t)
	}
	if l != 28 {
		return fmt.Errorf("corrupted section header: length %d, want 28", l)
	}
	b, trailer, err := r.body(l)
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(b) != shbMagic {
		return fmt.Errorf("not a scap capture: invalid magic number 0x%x", binary.LittleEndian.Uint32(b))
	}
	r.hdr = Header{Major: binary.LittleEndian.Uint16(b[4:]), Minor: binary.LittleEndian.Uint16(b[6:])}
	r.tidIndex = nil
	if r.hdr.Major > 1 {
		return fmt.Errorf("unsupported capture version %d.%d", r.hdr.Major, r.hdr.Minor)
	}
	if trailer != l {
		return fmt.Errorf("corrupted section header: trailer %d, header %d", trailer, l)
	}
	for {
		start := r.off
		t, l, err := r.blockHeader()
		if err == io.EOF {
			return fmt.Errorf("no events in capture")
		}
		if err != nil {
			return err
		}
		if isEventBlock(t) {
			r.peeked, r.pType, r.pLen = true, t, l
			return nil
		}
		// Header blocks are parsed as they stream in (see cursor): no cap on their length
		// but the entries' own, as libscap has none.
		c := &cursor{r: r.r, left: int64(l) - 12, off: &r.off}
		err = r.parseHeaderBlock(t, c)
		if err == nil {
			c.skipRest() // padding, and blocks libscap does not read
			err = c.err
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("truncated capture: block 0x%x at offset %d needs %d bytes, stream ends after %d: %w", t, start, l, r.off-start, io.ErrUnexpectedEOF)
			}
			return fmt.Errorf("corrupted capture: block 0x%x at offset %d: %w", t, start, err)
		}
		var tb [4]byte
		if err := r.readFull(tb[:]); err != nil {
			return err
		}
		if trailer := binary.LittleEndian.Uint32(tb[:]); trailer != l {
			return fmt.Errorf("corrupted capture: block 0x%x at offset %d: length %d, trailer %d", t, start, l, trailer)
		}
	}
}

// Next reads the next event into ev. It returns io.EOF at the end of the capture and
// ErrNewSection when a concatenated capture begins a new section. Event types 0.29.3 does not
// know are skipped, as sysdig does.
func (r *Reader) Next(ev *event.Event) error {
	for {
		start := r.off
		t, l, err := r.blockHeader()
		if err != nil {
			return err
		}
		if t == blockSHB {
			r.peeked, r.pType, r.pLen = true, t, l
			if err := r.readSection(); err != nil {
				return err
			}
			return ErrNewSection
		}
		if !isEventBlock(t) {
			return fmt.Errorf("corrupted capture: unexpected block 0x%x at offset %d among events", t, start)
		}
		if err := checkEventBlockLen(t, l, start); err != nil {
			return err
		}
		b, _, err := r.body(l)
		if err != nil {
			return err
		}
		var flags uint32
		hdrLen := event.HeaderV2
		p := 2
		switch t {
		case blockEV, blockEVInt:
			hdrLen = event.HeaderV1
		case blockEVF:
			hdrLen = event.HeaderV1
			p = 6
		case blockEVFV2, blockEVFV2Large:
			p = 6
		}
		if len(b) < p+hdrLen {
			return fmt.Errorf("corrupted capture: event block at offset %d too short (%d bytes)", start, len(b))
		}
		cpu := binary.LittleEndian.Uint16(b)
		if p == 6 {
			flags = binary.LittleEndian.Uint32(b[2:])
		}
		raw := b[p:]
		typ := binary.LittleEndian.Uint16(raw[20:])
		info := event.Lookup(typ)
		if info == nil {
			continue
		}
		if err := ev.Set(raw, hdrLen, info); err != nil {
			return fmt.Errorf("corrupted capture: event block at offset %d: %w", start, err)
		}
		r.evnum++
		ev.Num = r.evnum
		ev.CPU = cpu
		ev.DumpFlags = flags
		return nil
	}
}

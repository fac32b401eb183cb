package event

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxParams bounds the parameters one event may carry; the largest 0.29.3 event has 27.
const MaxParams = 64

// Header sizes of the two scap event header versions.
const (
	HeaderV1 = 22 // ts, tid, len, type
	HeaderV2 = 26 // ts, tid, len, type, nparams
)

// ErrCorrupt reports an event whose lengths do not fit its bytes.
var ErrCorrupt = errors.New("corrupted event")

// Event is a view over one scap event held in a buffer owned by its source. It stays valid until
// the source's next Next call. Parameters are located once, when the event is set, and decoded only
// when a field or the output asks for them, so reading an event allocates nothing.
type Event struct {
	Num       uint64 // 1-based position in the stream, as evt.num
	TS        uint64 // nanoseconds since the epoch
	Tid       int64
	CPU       uint16
	Type      uint16
	DumpFlags uint32
	Info      *Info

	nparams int                   // parameters usable: min(table, event)
	offs    [MaxParams + 1]uint32 // parameter i is data[offs[i]:offs[i+1]]
	data    []byte
	raw     []byte // the whole event as stored: header, lengths, values
	hdr     int    // header size of raw: HeaderV1 or HeaderV2
	stored  int    // parameters the event carries (may exceed the table's)
}

// Set points the event at raw, a scap event with a v1 or v2 header (hdrLen), as read from a
// capture block or the probe. info must be the table entry of the event's type.
func (e *Event) Set(raw []byte, hdrLen int, info *Info) error {
	if len(raw) < hdrLen {
		return fmt.Errorf("%w: %d bytes, header needs %d", ErrCorrupt, len(raw), hdrLen)
	}
	e.TS = binary.LittleEndian.Uint64(raw[0:])
	e.Tid = int64(binary.LittleEndian.Uint64(raw[8:]))
	evLen := int(binary.LittleEndian.Uint32(raw[16:]))
	e.Type = binary.LittleEndian.Uint16(raw[20:])
	e.Info = info
	e.raw = raw
	e.hdr = hdrLen
	if evLen > len(raw) || evLen < hdrLen {
		return fmt.Errorf("%w: length %d outside block of %d bytes", ErrCorrupt, evLen, len(raw))
	}
	raw = raw[:evLen]
	lw := 2
	if info.Large() {
		lw = 4
	}
	tableN := len(info.Params)
	var n int
	if hdrLen == HeaderV2 {
		n = int(binary.LittleEndian.Uint32(raw[22:]))
		if n > MaxParams || hdrLen+n*lw > evLen {
			return fmt.Errorf("%w: %d parameters in %d bytes", ErrCorrupt, n, evLen)
		}
	} else {
		// v1 events do not say how many parameters they carry: take the largest count whose
		// lengths add up to the event's length, as libscap does.
		n = -1
		for c := 0; c <= tableN && hdrLen+c*lw <= evLen; c++ {
			sum := hdrLen + c*lw
			for i := 0; i < c; i++ {
				sum += int(paramLen(raw[hdrLen:], i, lw))
			}
			if sum == evLen {
				n = c
			}
		}
		if n < 0 {
			return fmt.Errorf("%w: no parameter count fits length %d", ErrCorrupt, evLen)
		}
	}
	dataStart := hdrLen + n*lw
	e.data = raw[dataStart:]
	off := uint32(0)
	use := n
	if use > tableN {
		use = tableN
	}
	for i := 0; i < n; i++ {
		l := paramLen(raw[hdrLen:], i, lw)
		if i < use {
			e.offs[i] = off
		}
		off += l
		if int(off) > len(e.data) || off < l {
			return fmt.Errorf("%w: parameter %d of %s runs past the event", ErrCorrupt, i, info.Name)
		}
		if i < use {
			e.offs[i+1] = off
		}
	}
	if use == 0 {
		e.offs[0] = 0
	}
	e.nparams = use
	e.stored = n
	return nil
}

func paramLen(lens []byte, i, lw int) uint32 {
	if lw == 4 {
		return binary.LittleEndian.Uint32(lens[i*4:])
	}
	return uint32(binary.LittleEndian.Uint16(lens[i*2:]))
}

// Raw returns the event's bytes as stored (header, lengths, values).
func (e *Event) Raw() []byte { return e.raw }

// HeaderLen is the size of the event's header (HeaderV1 or HeaderV2).
func (e *Event) HeaderLen() int { return e.hdr }

// StoredParams is the number of parameters the event carries, known to the table or not.
func (e *Event) StoredParams() int { return e.stored }

// NParams is the number of parameters that can be read.
func (e *Event) NParams() int { return e.nparams }

// Param returns parameter i's bytes, or nil when the event does not carry it.
func (e *Event) Param(i int) []byte {
	if i < 0 || i >= e.nparams {
		return nil
	}
	return e.data[e.offs[i]:e.offs[i+1]]
}

// StoredParam returns parameter i as the event stores it, counting those beyond the table's
// (later libs' parameters, which 0.29.3 and Param skip), or nil when the event carries fewer.
// The table does not describe them: their meaning is the caller's.
func (e *Event) StoredParam(i int) []byte {
	if i < e.nparams {
		return e.Param(i)
	}
	if i >= e.stored {
		return nil
	}
	lw := 2
	if e.Info.Large() {
		lw = 4
	}
	lens := e.raw[e.hdr:]
	off := e.offs[e.nparams] // Set checked every stored length against the event's size
	for j := e.nparams; j < i; j++ {
		off += paramLen(lens, j, lw)
	}
	return e.data[off : off+paramLen(lens, i, lw)]
}

// ParamIndex returns the index of the parameter called name, or -1.
func (e *Event) ParamIndex(name string) int {
	for i := 0; i < e.nparams; i++ {
		if e.Info.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// DataParam is the index of the event's I/O buffer parameter ("data"), or -1.
func (e *Event) DataParam() int {
	for i := 0; i < e.nparams; i++ {
		if p := &e.Info.Params[i]; p.Type == PTBytebuf && p.Name == "data" {
			return i
		}
	}
	return -1
}

// IsEnter reports whether this is a syscall's enter event.
func (e *Event) IsEnter() bool { return e.Type%2 == 0 }

// Int returns a fixed-size integer parameter, sign-extended by its width. ok is false when the
// parameter is absent or its size is not 1, 2, 4 or 8 bytes.
func (e *Event) Int(i int) (int64, bool) {
	return DecodeInt(e.Param(i))
}

// Uint returns a fixed-size integer parameter zero-extended.
func (e *Event) Uint(i int) (uint64, bool) {
	return DecodeUint(e.Param(i))
}

// DecodeInt reads a little-endian signed integer of 1, 2, 4 or 8 bytes.
func DecodeInt(b []byte) (int64, bool) {
	switch len(b) {
	case 1:
		return int64(int8(b[0])), true
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b))), true
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b))), true
	case 8:
		return int64(binary.LittleEndian.Uint64(b)), true
	}
	return 0, false
}

// DecodeUint reads a little-endian unsigned integer of 1, 2, 4 or 8 bytes.
func DecodeUint(b []byte) (uint64, bool) {
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), true
	case 8:
		return binary.LittleEndian.Uint64(b), true
	}
	return 0, false
}

// CString returns a string parameter up to its first NUL, without copying.
func CString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

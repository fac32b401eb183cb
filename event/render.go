package event

import (
	"encoding/binary"
	"math"
	"strconv"
)

// BufFormat selects how byte buffers render, as sysdig's -A, -x, -X, -b and -j do.
type BufFormat uint8

const (
	BufNormal   BufFormat = iota // non-printable bytes as '.'
	BufASCII                     // -A: printable bytes and newlines only, on a new line
	BufHex                       // -x
	BufHexASCII                  // -X
	BufBase64                    // -b
	BufJSON                      // -j: like normal, never truncated
	BufJSONHex
	BufJSONHexASCII
	BufJSONASCII
	BufJSONBase64
)

// Resolver supplies the state a parameter's rendering needs: the event thread's fds and cwd, and
// the names of threads, users and groups.
type Resolver interface {
	// FD returns the event thread's fd's type character, its L4 protocol character (0 if none)
	// and its name.
	FD(fd int64) (typeChar, l4Char byte, name string, ok bool)
	Comm(tid int64) (string, bool)
	User(uid uint32) (string, bool)
	Group(gid uint32) (string, bool)
	// Cwd is the event thread's working directory, ending in '/'; ok is false when the event has
	// no thread.
	Cwd() (string, bool)
	// DirFdPath is the path of a directory fd, ending in '/', or "".
	DirFdPath(fd int64) string
	// Storage is libsinsp's parameter string storage for this inspector, or nil.
	Storage() *Storage
}

// Storage holds the sizes of libsinsp's two parameter string buffers (event.cpp at e5c53d64:
// m_paramstr_storage and m_resolved_paramstr_storage, 1024 bytes each at first). One event
// object renders every event, so the sizes live as long as the inspector: a value and a resolved
// form print cut to size - 1 bytes, and rendering a longer string, buffer, path, fd name or
// comm grows them for the rest of the capture, so a cut depends on what printed before.
type Storage struct{ Param, Resolved int }

// NewStorage is the storage as an inspector starts.
func NewStorage() Storage { return Storage{1024, 1024} }

// cut keeps at most n - 1 bytes of what was appended after start, as a snprintf into a buffer
// of n bytes does.
func cut(b []byte, start, n int) []byte {
	if len(b)-start > n-1 {
		b = b[:start+n-1]
	}
	return b
}

func storage(r Resolver) *Storage {
	if r == nil {
		return nil
	}
	return r.Storage()
}

// PPM address families as stored in sockaddr and tuple parameters.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
	atFdcwd = -100
)

// AppendParam renders parameter i the way sysdig prints it: the value goes to val, and the
// resolved form (what sysdig prints in parentheses) to res, which stays empty when there is none.
// maxLen truncates byte buffers in normal format (sysdig's 80-character limit; 0 = none).
func (e *Event) AppendParam(val, res []byte, i int, f BufFormat, maxLen int, r Resolver) ([]byte, []byte) {
	p := e.Param(i)
	if p == nil && i >= e.nparams {
		return val, res
	}
	pi := &e.Info.Params[i]
	if len(p) == 0 {
		switch pi.Type {
		case PTSockaddr, PTSocktuple:
			return append(val, "NULL"...), res
		}
		return val, res
	}
	fmtOuter := pi.Fmt
	if pi.Type == PTDyn && len(pi.Dyn) > 0 {
		idx := int(p[0])
		if idx < len(pi.Dyn) {
			p = p[1:]
			pi = &pi.Dyn[idx]
		}
	}
	return e.appendTyped(val, res, i, pi, fmtOuter, p, f, maxLen, r)
}

func (e *Event) appendTyped(val, res []byte, i int, pi *Param, pf PrintFmt, p []byte, f BufFormat, maxLen int, r Resolver) ([]byte, []byte) {
	switch pi.Type {
	case PTInt8, PTInt16, PTInt32, PTInt64:
		v, _ := DecodeInt(p)
		return appendNum(val, v, uint64(v), len(p), pf, true), res
	case PTUint8, PTUint16, PTUint32, PTUint64:
		u, _ := DecodeUint(p)
		// sysdig prints unsigned values through signed conversions.
		v, _ := DecodeInt(p)
		if len(p) < 4 {
			v = int64(u)
		}
		return appendNum(val, v, u, len(p), pf, false), res
	case PTFd:
		fd, _ := DecodeInt(p)
		val = strconv.AppendInt(val, fd, 10)
		if r == nil {
			return val, res
		}
		if fd >= 0 {
			if tc, l4, name, ok := r.FD(fd); ok {
				start := len(res)
				res = append(res, '<')
				if tc != 0 {
					res = append(res, tc)
				}
				if l4 != 0 {
					res = append(res, l4)
				}
				res = append(res, '>')
				n := len(res)
				res = appendSanitized(res, name)
				// render_fd grows the resolved storage to the name alone: "<f>" and a
				// name of 1021 bytes or more lose their last bytes.
				if st := r.Storage(); st != nil {
					if l := len(res) - n; l >= st.Resolved {
						st.Resolved = l + 1
					}
					res = cut(res, start, st.Resolved)
				}
			}
		} else if fd == atFdcwd {
			res = append(res, "AT_FDCWD"...)
		} else if n := ErrnoName(-fd); n != "" {
			res = append(res, n...)
		}
		return val, res
	case PTPid:
		pid, _ := DecodeInt(p)
		val = strconv.AppendInt(val, pid, 10)
		if r != nil {
			if c, ok := r.Comm(pid); ok {
				if st := r.Storage(); st != nil && len(c) >= st.Resolved {
					st.Resolved = len(c) + 1
				}
				res = append(res, c...)
			}
		}
		return val, res
	case PTErrno:
		v, _ := DecodeInt(p)
		val = strconv.AppendInt(val, v, 10)
		if v < 0 {
			if n := ErrnoName(-int64(int32(v))); n != "" {
				res = append(res, n...)
			}
		}
		return val, res
	case PTCharbuf:
		// The storage grows to the stored length (its NUL included) before the copy: a
		// string is never cut, but later paths may then be longer.
		if st := storage(r); st != nil && len(p) > st.Param {
			st.Param = len(p)
		}
		return append(val, CString(p)...), res
	case PTFspath, PTFsrelpath:
		s := CString(p)
		start := len(val)
		val = appendSanitizedBytes(val, s)
		if r == nil {
			return val, res
		}
		st := r.Storage()
		if st != nil {
			val = cut(val, start, st.Param)
		}
		cwd, ok := r.Cwd()
		if !ok {
			return val, append(res, val[start:]...)
		}
		if string(s) == "<NA>" {
			return val, res
		}
		absolute := len(s) > 0 && s[0] == '/'
		// get_base_dir: the dirfd index must name an fd parameter (openat2's enter names its
		// own name parameter: the cwd then).
		if pi.Type == PTFsrelpath && pi.DirFd >= 0 && pi.DirFd < e.nparams && e.Info.Params[pi.DirFd].Type == PTFd {
			if dfd, ok := DecodeInt(e.Param(pi.DirFd)); ok && dfd != atFdcwd {
				cwd = r.DirFdPath(dfd)
			}
		}
		// The resolved storage grows to hold the directory and the stored parameter (its
		// NUL included), absolute or not, so concatenate_paths never finds it too short.
		if st != nil && len(p)+len(cwd) >= st.Resolved {
			st.Resolved = len(p) + len(cwd) + 1
		}
		if absolute {
			return val, res
		}
		return val, AppendJoinPath(res, cwd, s)
	case PTBytebuf:
		start := len(val)
		val = AppendBuffer(val, p, f)
		// binary_buffer_to_string fills the storage and it doubles while the rendering
		// does not fit (reaches size - 1).
		if st := storage(r); st != nil {
			for len(val)-start >= st.Param-1 {
				st.Param *= 2
			}
		}
		if maxLen > 0 && f == BufNormal && len(val)-start > maxLen {
			val = val[:start+maxLen]
			if maxLen > 3 {
				copy(val[start+maxLen-3:], "...")
			}
		}
		return val, res
	case PTSockaddr, PTSocktuple:
		start := len(val)
		if pi.Type == PTSockaddr {
			val = appendSockaddr(val, p)
		} else {
			val = appendTuple(val, p)
		}
		if st := storage(r); st != nil {
			val = cut(val, start, st.Param)
		}
		return val, res
	case PTFdlist:
		if r == nil || len(p) < 2 {
			return val, res
		}
		n := int(binary.LittleEndian.Uint16(p))
		pos := 2
		for j := 0; j < n && pos+10 <= len(p); j++ {
			fd := int64(binary.LittleEndian.Uint64(p[pos:]))
			fl := uint32(int16(binary.LittleEndian.Uint16(p[pos+8:])))
			if j > 0 {
				val = append(val, ' ')
			}
			val = strconv.AppendUint(val, uint64(fd), 10)
			val = append(val, ':')
			if tc, _, _, ok := r.FD(fd); ok {
				val = append(val, tc)
			} else {
				val = append(val, '?')
			}
			val = strconv.AppendUint(val, uint64(fl), 16)
			pos += 10
		}
		return val, res
	case PTSyscallid:
		code, _ := DecodeUint(p)
		val = strconv.AppendUint(val, code, 10)
		return val, append(res, SyscallName(uint16(code))...)
	case PTSigtype:
		s, _ := DecodeUint(p)
		val = strconv.AppendUint(val, s, 10)
		return val, append(res, SignalName(s)...)
	case PTReltime:
		v, _ := DecodeUint(p)
		if v == math.MaxUint64 {
			return append(val, "none"...), res
		}
		val = strconv.AppendUint(val, v, 10)
		res = appendG(res, float64(v)/1e9)
		return val, append(res, 's')
	case PTFlags8, PTFlags16, PTFlags32, PTEnumflags8, PTEnumflags16, PTEnumflags32:
		v, _ := DecodeUint(p)
		val = strconv.AppendUint(val, uint64(uint32(v)), 10)
		return val, AppendFlags(res, pi.Flags, uint32(v))
	case PTMode:
		v, _ := DecodeUint(p)
		val = appendNum(val, int64(int32(v)), v, 4, pf, false)
		return val, AppendFlags(res, pi.Flags, uint32(v))
	case PTUid, PTGid:
		v, _ := DecodeUint(p)
		if uint32(v) == math.MaxUint32 {
			return append(val, "-1"...), append(res, "<NONE>"...)
		}
		val = strconv.AppendInt(val, int64(int32(v)), 10)
		if r == nil {
			return val, res
		}
		var name string
		var ok bool
		if pi.Type == PTUid {
			name, ok = r.User(uint32(v))
		} else {
			name, ok = r.Group(uint32(v))
		}
		if !ok {
			name = "<NA>"
		}
		return val, append(res, name...)
	case PTSigset:
		v, _ := DecodeUint(p)
		first := true
		for s := 0; s < 32; s++ {
			if v&(1<<s) != 0 {
				if n := SignalName(uint64(s + 1)); n != "" {
					if !first {
						val = append(val, ' ')
					}
					val = append(val, n...)
					first = false
				}
			}
		}
		return val, res
	case PTDyn:
		return append(val, "INVALID DYNAMIC PARAMETER"...), res
	}
	return append(val, "(n.a.)"...), res
}

// appendNum prints an integer per its print format, as sysdig's printf formats do.
func appendNum(dst []byte, v int64, u uint64, size int, pf PrintFmt, signed bool) []byte {
	switch pf {
	case PFOct:
		if u == 0 {
			return append(dst, '0')
		}
		dst = append(dst, '0')
		return strconv.AppendUint(dst, maskTo(u, size), 8)
	case PFHex:
		return appendUpperHex(dst, maskTo(u, size))
	case PF10PaddedDec:
		s := strconv.AppendInt(nil, v, 10)
		for n := len(s); n < 9; n++ {
			dst = append(dst, '0')
		}
		return append(dst, s...)
	}
	return strconv.AppendInt(dst, v, 10)
}

func maskTo(u uint64, size int) uint64 {
	if size >= 8 {
		return u
	}
	return u & (1<<(8*uint(size)) - 1)
}

func appendUpperHex(dst []byte, u uint64) []byte {
	start := len(dst)
	dst = strconv.AppendUint(dst, u, 16)
	for i := start; i < len(dst); i++ {
		if dst[i] >= 'a' && dst[i] <= 'f' {
			dst[i] -= 'a' - 'A'
		}
	}
	return dst
}

// appendG formats like C's %lg: 6 significant digits, trailing zeros of the fraction dropped,
// at least two exponent digits (2e-05, 1.5e+10), inf and nan in lower case.
func appendG(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	start := len(dst)
	// Go's 'g' with a precision picks the same form and exponent width as C's; it keeps the
	// fraction's trailing zeros, which C's %g drops.
	dst = strconv.AppendFloat(dst, f, 'g', 6, 64)
	s := dst[start:]
	mantEnd := len(s)
	dot := -1
	for i, c := range s {
		if c == 'e' {
			mantEnd = i
			break
		}
		if c == '.' {
			dot = i
		}
	}
	if dot < 0 {
		return dst
	}
	j := mantEnd
	for j > dot+1 && s[j-1] == '0' {
		j--
	}
	if j == dot+1 {
		j = dot
	}
	n := copy(s[j:], s[mantEnd:])
	return dst[:start+j+n]
}

// AppendFlags renders a flag value's names the way sysdig walks its flag tables: in table order,
// stopping at an entry equal to the whole value; a zero entry matches only zero.
func AppendFlags(dst []byte, table []Flag, v uint32) []byte {
	if table == nil {
		return dst
	}
	rest := v
	sep := false
	for _, fl := range table {
		fv := uint32(fl.Value)
		if fv == v {
			if sep {
				dst = append(dst, '|')
			}
			return append(dst, fl.Name...)
		}
		if (fv == 0 && v == 0) || (fv != 0 && rest&fv == fv && rest != 0) {
			if sep {
				dst = append(dst, '|')
			}
			dst = append(dst, fl.Name...)
			sep = true
			rest &^= fv
		}
	}
	return dst
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

// appendSanitized copies s without the bytes sysdig treats as invalid in names.
func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !invalidChar(s[i]) {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// AppendSanitized appends s without the bytes libsinsp's sanitize_string drops.
func AppendSanitized(dst, s []byte) []byte { return appendSanitizedBytes(dst, s) }

func appendSanitizedBytes(dst []byte, s []byte) []byte {
	for _, c := range s {
		if !invalidChar(c) {
			dst = append(dst, c)
		}
	}
	return dst
}

// invalidChar is libsinsp's g_invalidchar (utils.h at e5c53d64): every byte isprint rejects in
// the C locale, i.e. outside 0x20..0x7e. Control characters, DEL and every non-ASCII byte count,
// so a hostile file name cannot add a line or an escape sequence to the output.
func invalidChar(c byte) bool {
	return c < 0x20 || c > 0x7e
}

// AppendBuffer renders a byte buffer in the given format.
func AppendBuffer(dst, p []byte, f BufFormat) []byte {
	if len(p) == 0 {
		return dst
	}
	switch f {
	case BufHex, BufHexASCII, BufJSONHex, BufJSONHexASCII:
		return appendHexDump(dst, p, f == BufHexASCII || f == BufJSONHexASCII)
	case BufBase64, BufJSONBase64:
		return appendBase64(dst, p)
	case BufASCII, BufJSONASCII:
		dst = append(dst, '\n')
		for j, c := range p {
			switch {
			case isPrint(c):
				dst = append(dst, c)
			case c == '\r':
				dst = append(dst, '\n')
			case c == '\n':
				if j > 0 && p[j-1] != '\r' {
					dst = append(dst, c)
				}
			}
		}
		return dst
	}
	for _, c := range p {
		if isPrint(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '.')
		}
	}
	return dst
}

const hexdigits = "0123456789abcdef"

func appendHexDump(dst, p []byte, ascii bool) []byte {
	for j := 0; j < len(p); j += 16 {
		dst = append(dst, "\n\t0x"...)
		dst = append(dst, hexdigits[(j>>12)&15], hexdigits[(j>>8)&15], hexdigits[(j>>4)&15], hexdigits[j&15], ':')
		chunks := 0
		for k := j; chunks < 8 && k < len(p); k += 2 {
			dst = append(dst, ' ', hexdigits[p[k]>>4], hexdigits[p[k]&15])
			if k+1 < len(p) {
				dst = append(dst, hexdigits[p[k+1]>>4], hexdigits[p[k+1]&15])
			}
			chunks++
		}
		if ascii {
			for ; chunks < 8; chunks++ {
				dst = append(dst, "     "...)
			}
			dst = append(dst, ' ', ' ')
			for k := j; k < j+16 && k < len(p); k++ {
				if isPrint(p[k]) {
					dst = append(dst, p[k])
				} else {
					dst = append(dst, '.')
				}
			}
		}
	}
	return append(dst, '\n')
}

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func appendBase64(dst, p []byte) []byte {
	start := len(dst)
	for j := 0; j < len(p); {
		var a, b, c uint32
		a = uint32(p[j])
		j++
		if j < len(p) {
			b = uint32(p[j])
			j++
		}
		if j < len(p) {
			c = uint32(p[j])
			j++
		}
		t := a<<16 | b<<8 | c
		dst = append(dst, b64[t>>18&63], b64[t>>12&63], b64[t>>6&63], b64[t&63])
	}
	pad := [3]int{0, 2, 1}[len(p)%3]
	for k := 0; k < pad; k++ {
		dst[len(dst)-1-k] = '='
	}
	_ = start
	return dst
}

// AppendJoinPath joins a directory and a relative path as libsinsp's concatenate_paths does
// (utils.cpp at e5c53d64, copy_and_sanitize_path), byte by byte on the joined buffer: the
// directory is copied as it is, then the path: "./" and a final "." vanish, "../" and a final
// ".." go back to the '/' before the last one written (never before the buffer's second byte,
// and into the directory too), a '/' after a '/' is dropped, a byte g_invalidchar rejects becomes
// '.', and one final '/' is removed unless it is the only byte. A ".." followed by anything else
// stays. A caller joins an absolute path as "/" and the path's rest.
func AppendJoinPath(dst []byte, dir string, rel []byte) []byte {
	base := len(dst)
	dst = append(dst, dir...)
	at := func(i int) byte { // the path's byte i, NUL past its end
		if i < len(rel) {
			return rel[i]
		}
		return 0
	}
	// rewind_to_parent_path
	rewind := func() {
		tc := len(dst)
		if tc <= base+1 {
			return
		}
		tc--
		for tc >= base+1 && dst[tc-1] != '/' {
			tc--
		}
		dst = dst[:tc]
	}
	for pc := 0; ; {
		c := at(pc)
		switch {
		case c == 0:
			if n := len(dst); n > base+1 && dst[n-1] == '/' {
				dst = dst[:n-1]
			}
			return dst
		case invalidChar(c):
			dst = append(dst, '.')
			pc++
		case c == '.' && at(pc+1) == '.' && at(pc+2) == '/':
			rewind()
			pc += 3
		case c == '.' && at(pc+1) == '.':
			if at(pc+2) == 0 {
				rewind()
			} else {
				dst = append(dst, '.', '.')
			}
			pc += 2
		case c == '.' && at(pc+1) == '/':
			pc += 2
		case c == '.':
			if at(pc+1) != 0 {
				dst = append(dst, '.')
			}
			pc++
		case c == '/':
			if n := len(dst); !(n > base && dst[n-1] == '/') {
				dst = append(dst, '/')
			}
			pc++
		default:
			dst = append(dst, c)
			pc++
		}
	}
}

func appendIPv4(dst []byte, b []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(b[i]), 10)
	}
	return dst
}

// AppendIPv6 prints an IPv6 address as inet_ntop does (longest zero run compressed, v4-mapped
// addresses with a dotted quad).
func AppendIPv6(dst []byte, b []byte) []byte {
	isMapped := true
	for i := 0; i < 10; i++ {
		if b[i] != 0 {
			isMapped = false
		}
	}
	if isMapped && b[10] == 0xff && b[11] == 0xff {
		dst = append(dst, "::ffff:"...)
		return appendIPv4(dst, b[12:])
	}
	var w [8]uint16
	for i := range w {
		w[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen && j-i >= 2 {
			best, bestLen = i, j-i
		}
		i = j
	}
	for i := 0; i < 8; i++ {
		if i == best {
			dst = append(dst, ':', ':')
			i += bestLen - 1
			continue
		}
		if i > 0 && !(best >= 0 && i == best+bestLen) {
			dst = append(dst, ':')
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	return dst
}

// tupleV4 is libsinsp's is_ipv4_mapped_ipv6, which decides whether an IPv6 tuple prints as
// IPv4: a v4-mapped address, or the all-zero one (an unbound end, "assumed IPv4").
func tupleV4(b []byte) bool {
	if isV4Mapped(b) {
		return true
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isV4Mapped(b []byte) bool {
	for i := 0; i < 10; i++ {
		if b[i] != 0 {
			return false
		}
	}
	return b[10] == 0xff && b[11] == 0xff
}

// AppendSockaddr renders a PT_SOCKADDR value as sysdig prints it (the name libsinsp gives a
// socket at bind).
func AppendSockaddr(dst, p []byte) []byte { return appendSockaddr(dst, p) }

func appendSockaddr(dst, p []byte) []byte {
	switch p[0] {
	case afUnix:
		return appendSanitizedBytes(dst, CString(p[1:]))
	case afInet:
		if len(p) != 7 {
			return append(dst, "INVALID IPv4"...)
		}
		dst = appendIPv4(dst, p[1:5])
		dst = append(dst, ':')
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[5:])), 10)
	case afInet6:
		if len(p) != 19 {
			return append(dst, "INVALID IPv6"...)
		}
		// libsinsp prints any IPv6 address with inet_ntop, a v4-mapped one as ::ffff:a.b.c.d.
		dst = AppendIPv6(dst, p[1:17])
		dst = append(dst, ':')
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[17:])), 10)
	}
	dst = append(dst, "family "...)
	return strconv.AppendInt(dst, int64(int8(p[0])), 10)
}

func appendTuple(dst, p []byte) []byte {
	switch p[0] {
	case afInet:
		if len(p) != 13 {
			return append(dst, "INVALID IPv4"...)
		}
		dst = appendIPv4(dst, p[1:5])
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[5:])), 10)
		dst = append(dst, "->"...)
		dst = appendIPv4(dst, p[7:11])
		dst = append(dst, ':')
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[11:])), 10)
	case afInet6:
		if len(p) != 37 {
			return append(dst, "INVALID IPv6"...)
		}
		sip, dip := p[1:17], p[19:35]
		v4 := tupleV4(sip) && tupleV4(dip)
		if v4 {
			dst = appendIPv4(dst, sip[12:])
		} else {
			dst = AppendIPv6(dst, sip)
		}
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[17:])), 10)
		dst = append(dst, "->"...)
		if v4 {
			dst = appendIPv4(dst, dip[12:])
		} else {
			dst = AppendIPv6(dst, dip)
		}
		dst = append(dst, ':')
		return strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(p[35:])), 10)
	case afUnix:
		if len(p) < 17 {
			return append(dst, "INVALID UNIX"...)
		}
		dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(p[1:]), 16)
		dst = append(dst, "->"...)
		dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(p[9:]), 16)
		dst = append(dst, ' ')
		return appendSanitizedBytes(dst, CString(p[17:]))
	}
	dst = append(dst, "family "...)
	return strconv.AppendInt(dst, int64(int8(p[0])), 10)
}

// AppendArgs renders every parameter as sysdig's evt.args does: "name=value " or
// "name=value(resolved) " each. Generic events print nothing.
func (e *Event) AppendArgs(dst []byte, scratch []byte, f BufFormat, maxLen int, r Resolver) ([]byte, []byte) {
	if e.Type <= 1 {
		return dst, scratch
	}
	for i := 0; i < e.nparams; i++ {
		dst = append(dst, e.Info.Params[i].Name...)
		dst = append(dst, '=')
		var res []byte
		dst, res = e.AppendParam(dst, scratch[:0], i, f, maxLen, r)
		if len(res) > 0 {
			dst = append(dst, '(')
			dst = append(dst, res...)
			dst = append(dst, ')')
		}
		dst = append(dst, ' ')
		scratch = res
	}
	return dst, scratch
}

// AppendTuple renders a PT_SOCKTUPLE value as sysdig prints it (the name libsinsp gives a
// socket from an accept or a datagram's tuple).
func AppendTuple(dst, p []byte) []byte { return appendTuple(dst, p) }

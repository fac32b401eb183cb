package output

// JSON string escaping as sysdig 0.29.3 writes it: sysdig serialises through jsoncpp's writer
// with emitUTF8 off, so every byte sequence becomes ASCII-only JSON. jsoncpp decodes each
// non-ASCII sequence by its lead byte (without checking continuation bytes), writes the code
// point as \uXXXX (a surrogate pair above the BMP), and writes U+FFFD for sequences that are
// truncated, overlong, surrogates or have no valid lead byte. The result is valid JSON and valid
// UTF-8 for any input bytes; names of files and processes are attacker-controlled.

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a quoted JSON string, escaped as sysdig's jsoncpp writer does.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		var n int
		b, n = appendJSONSeq(b, s[i], s[i:])
		i += n
	}
	return append(b, '"')
}

// AppendJSONBytes is AppendJSONString for a byte slice.
func AppendJSONBytes(b []byte, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		var n int
		b, n = appendJSONSeq(b, s[i], string(s[i:min(len(s), i+4)]))
		i += n
	}
	return append(b, '"')
}

// appendJSONSeq escapes the sequence starting at rest (whose first byte is c) and reports how
// many bytes it consumed. Only the first four bytes of rest are read, so callers may pass a
// short window (the conversion of a ≤4-byte slice to a string does not allocate).
func appendJSONSeq(b []byte, c byte, rest string) ([]byte, int) {
	switch c {
	case '"':
		return append(b, '\\', '"'), 1
	case '\\':
		return append(b, '\\', '\\'), 1
	case '\b':
		return append(b, '\\', 'b'), 1
	case '\f':
		return append(b, '\\', 'f'), 1
	case '\n':
		return append(b, '\\', 'n'), 1
	case '\r':
		return append(b, '\\', 'r'), 1
	case '\t':
		return append(b, '\\', 't'), 1
	}
	if c < 0x20 {
		return appendU(b, uint32(c)), 1
	}
	if c < 0x80 {
		return append(b, c), 1
	}
	cp, n := jsoncppCodepoint(rest)
	if cp < 0x10000 {
		return appendU(b, cp), n
	}
	cp -= 0x10000
	b = appendU(b, 0xd800+((cp>>10)&0x3ff))
	return appendU(b, 0xdc00+(cp&0x3ff)), n
}

func appendU(b []byte, v uint32) []byte {
	return append(b, '\\', 'u', hexDigits[v>>12&15], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15])
}

// jsoncppCodepoint is jsoncpp's utf8ToCodepoint: the lead byte alone decides the length; a
// truncated sequence yields U+FFFD and consumes one byte, an overlong or surrogate one yields
// U+FFFD and consumes its whole length.
func jsoncppCodepoint(s string) (uint32, int) {
	const repl = 0xfffd
	first := uint32(s[0])
	switch {
	case first < 0x80:
		return first, 1
	case first < 0xe0:
		if len(s) < 2 {
			return repl, 1
		}
		cp := (first&0x1f)<<6 | uint32(s[1])&0x3f
		if cp < 0x80 {
			return repl, 2
		}
		return cp, 2
	case first < 0xf0:
		if len(s) < 3 {
			return repl, 1
		}
		cp := (first&0x0f)<<12 | (uint32(s[1])&0x3f)<<6 | uint32(s[2])&0x3f
		if cp >= 0xd800 && cp <= 0xdfff || cp < 0x800 {
			return repl, 3
		}
		return cp, 3
	case first < 0xf8:
		if len(s) < 4 {
			return repl, 1
		}
		cp := (first&0x07)<<18 | (uint32(s[1])&0x3f)<<12 | (uint32(s[2])&0x3f)<<6 | uint32(s[3])&0x3f
		if cp < 0x10000 {
			return repl, 4
		}
		return cp, 4
	}
	return repl, 1
}

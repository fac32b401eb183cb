// Package output renders events as sysdig's text lines, -p formats and JSON.
package output

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// DefaultFormat is sysdig's default line.
const DefaultFormat = "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info"

type chunk struct {
	lit string
	ref *fields.Ref
	// jsonIdx is the field's place in jsonRefs (-j).
	jsonIdx int
	// oneLine: the field's text comes from names processes choose (process, thread, fd, user,
	// group, container fields) and must not add lines or terminal escapes to the output.
	oneLine bool
}

// Formatter turns events into lines of text or JSON.
type Formatter struct {
	chunks   []chunk
	all      bool // '*' prefix: print events whose fields are missing, with <NA>
	json     bool
	jsonRefs []*fields.Ref // sorted by name
	jsonVals []jsonSpan    // per jsonRefs entry: its rendering in jsonBuf
	jsonBuf  []byte
	buf      []byte
}

// jsonSpan is where one field's JSON value lies in Formatter.jsonBuf; set is false for a field
// that printed null.
type jsonSpan struct {
	start, end int
	set        bool
}

// New compiles a -p format (or the default one when format is "").
func New(format string, json bool) (*Formatter, error) {
	f := &Formatter{json: json}
	if format == "" {
		format = DefaultFormat // -j alone prints the default format's fields
	}
	if len(format) > 0 && format[0] == '*' {
		f.all = true
		format = format[1:]
	}
	lit := []byte{}
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit = append(lit, c)
			i++
			continue
		}
		j := i + 1
		for j < len(format) && isFieldChar(format[j]) {
			j++
		}
		if j < len(format) && format[j] == '[' {
			k := j
			for k < len(format) && format[k] != ']' {
				k++
			}
			if k < len(format) {
				j = k + 1
			}
		}
		name := format[i+1 : j]
		// A trailing dot belongs to the text, not the field name.
		for len(name) > 0 && name[len(name)-1] == '.' {
			name = name[:len(name)-1]
			j--
		}
		if name == "" {
			lit = append(lit, c)
			i++
			continue
		}
		r, err := fields.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("invalid output format: %w", err)
		}
		if r.F.FilterOnly {
			// sysdig's words, naming the format from the field on.
			return nil, fmt.Errorf("%s is filter only and cannot be used as a display field", format[i+1:])
		}
		if len(lit) > 0 {
			f.chunks = append(f.chunks, chunk{lit: string(lit)})
			lit = lit[:0]
		}
		f.chunks = append(f.chunks, chunk{ref: r, oneLine: !strings.HasPrefix(name, "evt.")})
		i = j
	}
	if len(lit) > 0 {
		f.chunks = append(f.chunks, chunk{lit: string(lit)})
	}
	if json {
		seen := map[string]bool{}
		for _, ch := range f.chunks {
			if ch.ref != nil && !seen[ch.ref.Text] {
				seen[ch.ref.Text] = true
				f.jsonRefs = append(f.jsonRefs, ch.ref)
			}
		}
		sort.Slice(f.jsonRefs, func(a, b int) bool { return f.jsonRefs[a].Text < f.jsonRefs[b].Text })
		for i := range f.chunks {
			if ch := &f.chunks[i]; ch.ref != nil {
				ch.jsonIdx = sort.Search(len(f.jsonRefs), func(k int) bool { return f.jsonRefs[k].Text >= ch.ref.Text })
			}
		}
		f.jsonVals = make([]jsonSpan, len(f.jsonRefs))
	}
	return f, nil
}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// Format renders one event; ok is false when the event must not be printed (a field is missing
// and the format did not start with '*'). The returned line ends with a newline and is valid
// until the next call.
//
// Fields are extracted as sysdig's formatter (eventformatter.cpp at e5c53d64) extracts them,
// because rendering a parameter can grow libsinsp's string storage (event.Storage) and so change
// how later strings are cut: in format order, every field even after one is found missing (the
// event is then not printed), and with -j each field twice, the second value kept.
func (f *Formatter) Format(c *fields.Ctx) ([]byte, bool) {
	if f.json {
		return f.formatJSON(c)
	}
	b := f.buf[:0]
	printed := true
	for _, ch := range f.chunks {
		if ch.ref == nil {
			b = append(b, ch.lit...)
			continue
		}
		v, ok := ch.ref.Extract(c)
		if !printed {
			continue
		}
		if !ok {
			if !f.all {
				printed = false
				continue
			}
			b = append(b, "<NA>"...)
			continue
		}
		start := len(b)
		b = fields.AppendText(b, v)
		// evt.* text is sysdig's rendering of the parameters: with -A/-x/-X buffers span
		// lines by design, but in the normal form sysdig has already shown every buffer byte
		// it cannot print as '.', and a control left is one a process put in a path or name
		// (a charbuf: openat's name, execve's exe, a rename's paths), which sysdig prints
		// raw: a file named "a\n1 ... Critical" would forge an event line. (A container
		// event's JSON is jsoncpp's, control characters escaped; its layout newlines are
		// sysdig's output as it is.)
		if ch.oneLine || c.Buf == event.BufNormal && !isContainerEvent(c) {
			neutraliseControls(b[start:])
		}
	}
	f.buf = b
	if !printed {
		return nil, false
	}
	b = append(b, '\n')
	f.buf = b
	return b, true
}

// formatJSON renders the event as one JSON object, its keys sorted (jsoncpp's order). A field
// named twice keeps its last value, as the formatter's map does.
func (f *Formatter) formatJSON(c *fields.Ctx) ([]byte, bool) {
	vals := f.jsonBuf[:0]
	for i := range f.jsonVals {
		f.jsonVals[i] = jsonSpan{}
	}
	printed := true
	for _, ch := range f.chunks {
		if ch.ref == nil {
			continue
		}
		_, ok := ch.ref.Extract(c)
		if !printed {
			continue
		}
		if !ok && !f.all {
			printed = false
			continue
		}
		v, ok := ch.ref.Extract(c)
		if !ok {
			f.jsonVals[ch.jsonIdx] = jsonSpan{}
			continue
		}
		start := len(vals)
		vals = appendJSONValue(vals, v)
		f.jsonVals[ch.jsonIdx] = jsonSpan{start, len(vals), true}
	}
	f.jsonBuf = vals
	if !printed {
		return nil, false
	}
	b := append(f.buf[:0], '{')
	for i, r := range f.jsonRefs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, r.Text)
		b = append(b, ':')
		if sp := f.jsonVals[i]; sp.set {
			b = append(b, vals[sp.start:sp.end]...)
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, '}', '\n')
	f.buf = b
	return b, true
}

func appendJSONValue(b []byte, v fields.Value) []byte {
	switch v.Kind {
	case fields.KInt, fields.KPort, fields.KRelTime:
		return strconv.AppendInt(b, v.Int, 10)
	case fields.KUint, fields.KAbsTime:
		return strconv.AppendUint(b, uint64(v.Int), 10)
	case fields.KBool:
		if v.Int != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case fields.KDouble:
		return strconv.AppendFloat(b, v.F, 'g', -1, 64)
	}
	var tmp [64]byte
	return AppendJSONBytes(b, fields.AppendText(tmp[:0], v))
}

// neutraliseControls replaces control characters and DEL with '.', the character sysdig writes
// for unprintable bytes in names and buffers. sysdig 0.29.3 prints process arguments and names
// raw, so a process could otherwise forge whole output lines (or alerts) and terminal escapes;
// UTF-8 text is left alone, and so is a tab, which sysdig prints raw too and which neither
// ends a line nor moves the cursor back over one.
func neutraliseControls(b []byte) {
	for i, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			b[i] = '.'
		}
	}
}

func isContainerEvent(c *fields.Ctx) bool {
	return c.Ev != nil && c.Ev.Info != nil && c.Ev.Info.Name == "container"
}

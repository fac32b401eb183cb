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

// defaultJSONFields are the fields sysdig's -j prints without -p.
var defaultJSONFields = []string{"evt.cpu", "evt.dir", "evt.info", "evt.num", "evt.outputtime", "evt.type", "proc.name", "thread.tid"}

type chunk struct {
	lit string
	ref *fields.Ref
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
	buf      []byte
}

// New compiles a -p format (or the default one when format is "").
func New(format string, json bool) (*Formatter, error) {
	f := &Formatter{json: json}
	if format == "" {
		if json {
			for _, n := range defaultJSONFields {
				r, _ := fields.Parse(n)
				f.jsonRefs = append(f.jsonRefs, r)
			}
			f.all = true
			return f, nil
		}
		format = DefaultFormat
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
	}
	return f, nil
}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// Format renders one event; ok is false when the event must not be printed (a field is missing
// and the format did not start with '*'). The returned line ends with a newline and is valid
// until the next call.
func (f *Formatter) Format(c *fields.Ctx) ([]byte, bool) {
	b := f.buf[:0]
	if f.json {
		b = append(b, '{')
		for i, r := range f.jsonRefs {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, r.Text)
			b = append(b, ':')
			v, ok := r.Extract(c)
			if !ok {
				if !f.all {
					f.buf = b
					return nil, false
				}
				b = append(b, "null"...)
				continue
			}
			b = appendJSONValue(b, v)
		}
		b = append(b, '}', '\n')
		f.buf = b
		return b, true
	}
	for _, ch := range f.chunks {
		if ch.ref == nil {
			b = append(b, ch.lit...)
			continue
		}
		v, ok := ch.ref.Extract(c)
		if !ok {
			if !f.all {
				f.buf = b
				return nil, false
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
	b = append(b, '\n')
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

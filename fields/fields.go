// Package fields is the registry of named event fields (evt.*, proc.*, thread.*, fd.*, user.*,
// group.*, container.*) that filters, -p formats, chisels and rules read. Each field extracts a
// typed value from the current event and the inspector's state without allocating.
package fields

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// Kind is a field value's type.
type Kind uint8

const (
	KString Kind = iota
	KInt
	KUint
	KBool
	KIP      // Str holds 4 or 16 address bytes
	KNet     // filter-only: IP network
	KPort    // Int holds the port
	KRelTime // Int holds nanoseconds
	KAbsTime // Int holds nanoseconds since the epoch
	KDouble
	KBytes
)

// Value is an extracted value. Str may point into buffers reused by the next extraction.
type Value struct {
	Kind Kind
	Int  int64
	Str  []byte
	F    float64
	// Pad zero-pads integer text to this many digits (sysdig's 9-digit nanosecond parts).
	Pad uint8
}

// Ctx is what an extraction reads: the event, the inspector and the output settings.
type Ctx struct {
	Ev     *event.Event
	In     *state.Inspector
	Buf    event.BufFormat
	MaxLen int // byte-buffer truncation in evt.info/evt.args (sysdig's 80; 0 = none)
	// PrevTS is the timestamp of the previous shown event, for evt.deltatime.
	PrevTS  uint64
	FirstTS uint64
	// TimeType is sysdig's -t, how evt.outputtime prints: 0 (or 'h') clock time, 'a' absolute,
	// 'r' relative to the first event, 'd' the thread's enter-to-exit latency, 'D' delta from
	// the previous event formatted.
	TimeType byte
	// ExitArgsFromEnter makes evt.arg and evt.rawarg of an exit event read a parameter the
	// exit lacks from its enter event, as today's Falco, whose exit events carry the enter's
	// parameters (the rules engine sets it; sysdig 0.29.3 does not do this).
	ExitArgsFromEnter bool
	// InspectorFilter is set while the command line's filter (libsinsp's inspector filter)
	// runs: libsinsp evaluates it before it marks the event's fd name change, so
	// fd.name_changed is false there.
	InspectorFilter bool

	enter   event.Event // the exit's enter event, decoded for ExitArgsFromEnter
	scratch [4][]byte
	more    ctxMore // state of fields that remember earlier events (fields/evt_more.go)
}

// ArgMode says whether a field takes an argument.
type ArgMode uint8

const (
	ArgNone ArgMode = iota
	ArgOptional
	ArgRequired
)

// Field is one registered field.
type Field struct {
	Name    string
	Kind    Kind
	Desc    string
	Arg     ArgMode
	Extract func(c *Ctx, a *Arg) (Value, bool)
	// FilterOnly fields (fd.ip, fd.net...) can be used in filters but not in -p formats.
	FilterOnly bool
	// Each, when set, yields every value of a multi-valued field used without an index
	// (proc.aname, proc.apid, proc.aexe, proc.aexepath: one per ancestor); a filter comparison
	// holds when it holds for any of them, as Falco compares these fields. It stops early
	// when yield returns false.
	Each func(c *Ctx, a *Arg, yield func(Value) bool)
	// Types lists the event types a field can hold a value for (nil: any); the filter uses it to
	// know which events a condition can match.
	Class string
}

// Arg is a parsed field argument: proc.aname[2] (N=2), evt.arg.flags (Name="flags"), evt.arg[1].
type Arg struct {
	Raw  string
	N    int
	HasN bool
	Name string
	// last is the value this reference extracted last, for fields whose sysdig filtercheck
	// returns its previous value when it has nothing to read (each field in a format or a
	// filter is a filtercheck of its own, as each Ref here).
	last []byte
	// rawType is the type of the parameter evt.rawarg.NAME resolved to: the first of that
	// name in the event table, whatever event is read (argname.go).
	rawType event.ParamType
}

// Ref is a field with its argument, ready to extract.
type Ref struct {
	F    *Field
	A    Arg
	Text string // as written
}

// Extract reads the field's value from c.
func (r *Ref) Extract(c *Ctx) (Value, bool) { return r.F.Extract(c, &r.A) }

var registry = map[string]*Field{}
var order []*Field

func register(class string, fs ...*Field) {
	// Fields of a class registered in several files stay together, after the class's others.
	at := len(order)
	for i := len(order) - 1; i >= 0; i-- {
		if order[i].Class == class {
			at = i + 1
			break
		}
	}
	for _, f := range fs {
		f.Class = class
		registry[f.Name] = f
	}
	order = append(order[:at], append(append([]*Field(nil), fs...), order[at:]...)...)
}

// All returns every field in registration order.
func All() []*Field { return order }

// Lookup resolves a field name with an optional bracket argument: "proc.aname" + "2",
// "evt.arg.flags" (dotted argument) or "evt.arg" + "1".
func Lookup(name, bracket string, hasBracket bool) (*Ref, error) {
	f := registry[name]
	var a Arg
	if f == nil {
		// Dotted arguments: evt.arg.NAME, evt.rawarg.NAME and the like.
		for i := len(name) - 1; i > 0; i-- {
			if name[i] == '.' {
				if g := registry[name[:i]]; g != nil && g.Arg != ArgNone {
					f = g
					a.Name = name[i+1:]
					a.Raw = a.Name
					break
				}
			}
		}
		if f == nil {
			return nil, fmt.Errorf("unknown field %q", name)
		}
	}
	if hasBracket {
		if f.Name == "evt.rawarg" {
			return nil, fmt.Errorf("evt.arg fields must be expressed explicitly")
		}
		if f.Arg == ArgNone {
			return nil, fmt.Errorf("field %q does not take an argument", name)
		}
		a.Raw = bracket
		if n, err := strconv.Atoi(bracket); err == nil {
			a.N, a.HasN = n, true
		} else {
			a.Name = bracket
		}
	}
	if f.Arg == ArgRequired && a.Raw == "" {
		return nil, fmt.Errorf("field %q requires an argument", name)
	}
	text := name
	if hasBracket {
		text += "[" + bracket + "]"
	}
	r := &Ref{F: f, A: a, Text: text}
	if err := checkArgName(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Parse resolves a field as written in a format or filter, e.g. "proc.aname[2]".
func Parse(s string) (*Ref, error) {
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		return Lookup(s[:i], s[i+1:len(s)-1], true)
	}
	return Lookup(s, "", false)
}

// Names returns the registered names sorted, for listings.
func Names() []string {
	n := make([]string, 0, len(registry))
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func str(s string) (Value, bool)  { return Value{Kind: KString, Str: []byte(s)}, true }
func bstr(b []byte) (Value, bool) { return Value{Kind: KString, Str: b}, true }
func i64(v int64) (Value, bool)   { return Value{Kind: KInt, Int: v}, true }
func u64(v uint64) (Value, bool)  { return Value{Kind: KUint, Int: int64(v)}, true }
func boolean(b bool) (Value, bool) {
	if b {
		return Value{Kind: KBool, Int: 1}, true
	}
	return Value{Kind: KBool}, true
}

// sstr returns a string value without allocating: the string's bytes are only read.
func sstr(s string) (Value, bool) {
	return Value{Kind: KString, Str: unsafeBytes(s)}, true
}

// AppendText renders a value as sysdig prints it in -p formats.
func AppendText(dst []byte, v Value) []byte {
	switch v.Kind {
	case KString, KBytes:
		return append(dst, v.Str...)
	case KInt, KRelTime, KPort:
		if v.Pad > 0 && v.Int >= 0 {
			return appendPadded(dst, uint64(v.Int), int(v.Pad))
		}
		return strconv.AppendInt(dst, v.Int, 10)
	case KUint:
		if v.Pad > 0 {
			return appendPadded(dst, uint64(v.Int), int(v.Pad))
		}
		return strconv.AppendUint(dst, uint64(v.Int), 10)
	case KBool:
		if v.Int != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KIP:
		if len(v.Str) == 16 {
			return event.AppendIPv6(dst, v.Str)
		}
		for i := 0; i < len(v.Str); i++ {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(v.Str[i]), 10)
		}
		return dst
	case KAbsTime:
		if v.Str != nil { // evt.outputtime under -t: the text, Int keeping the timestamp for JSON
			return append(dst, v.Str...)
		}
		return AppendClock(dst, uint64(v.Int))
	case KDouble:
		return strconv.AppendFloat(dst, v.F, 'f', 1, 64) // sysdig prints doubles with %.1lf
	}
	return dst
}

// AppendClock prints a timestamp as sysdig's evt.time: local HH:MM:SS.nnnnnnnnn.
func AppendClock(dst []byte, ns uint64) []byte {
	sec := int64(ns / 1e9)
	c := lastClock.Load()
	if c == nil || c.sec != sec {
		// The local-time conversion is the costly part and events come in bursts within one
		// second: remember the last second's text.
		h, m, s := time.Unix(sec, 0).Clock()
		c = &clockText{sec: sec}
		b := append2(c.text[:0], h)
		b = append(b, ':')
		b = append2(b, m)
		b = append(b, ':')
		append2(b, s)
		lastClock.Store(c)
	}
	dst = append(dst, c.text[:]...)
	dst = append(dst, '.')
	frac := ns % 1e9
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, buf[:]...)
}

type clockText struct {
	sec  int64
	text [8]byte // HH:MM:SS
}

var lastClock atomic.Pointer[clockText]

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

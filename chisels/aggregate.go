package chisels

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// aggregator is the per-event loop of gs_common.top run in Go: for each event that passes the
// chisel's filter it joins the key fields into one string and adds the value field to that
// key's sum, exactly as the Lua on_event did (same nil rules, float64 sums, keys joined with
// SEP, numbers stringified as tostring does), without entering the Lua VM per event. The Lua
// side takes the sums as a table at each interval and at capture end.
//
// Why: the Lua on_event of the table chisels (topscalls, fdcount_by, ...) cost ~3 µs an event
// in gopher-lua (call frames, evt.field boxing, string concatenation), 3x sysdig's LuaJIT.
type aggregator struct {
	keys  []*field
	value *field
	scale float64 // 0: no scale, values <= 0 are skipped
	sep   string

	sums  map[string]int // key -> index in order/vals
	order []string       // keys in first-seen order (the Lua table's iteration order)
	vals  []float64
	kbuf  []byte
}

// chiselAggregate is chisel.aggregate(key_fields, value_field, scale, sep): it replaces the
// chisel's on_event with the Go aggregator.
func (c *Chisel) chiselAggregate(L *lua.LState) int {
	kt := L.CheckTable(1)
	a := &aggregator{sums: map[string]int{}}
	for i := 1; i <= kt.Len(); i++ {
		f, ok := userField(kt.RawGetInt(i))
		if !ok {
			L.RaiseError("chisel.aggregate: key %d is not a field handle", i)
		}
		a.keys = append(a.keys, f)
	}
	f, ok := userField(L.Get(2))
	if !ok {
		L.RaiseError("chisel.aggregate: value is not a field handle")
	}
	a.value = f
	if n, ok := L.Get(3).(lua.LNumber); ok {
		a.scale = float64(n)
	}
	a.sep = L.OptString(4, "")
	c.agg = a
	c.onEvent = nil
	return 0
}

// chiselAggregateTake is chisel.aggregate_take(): the sums so far as a Lua table (keys in
// first-seen order), and a fresh start.
func (c *Chisel) chiselAggregateTake(L *lua.LState) int {
	t := L.NewTable()
	if a := c.agg; a != nil {
		for i, k := range a.order {
			t.RawSetString(k, lua.LNumber(a.vals[i]))
		}
		clear(a.sums)
		a.order, a.vals = a.order[:0], a.vals[:0]
	}
	L.Push(t)
	return 1
}

func userField(v lua.LValue) (*field, bool) {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil, false
	}
	f, ok := ud.Value.(*field)
	return f, ok
}

// add runs one event through the aggregator.
func (c *Chisel) aggregate(a *aggregator) error {
	a.kbuf = a.kbuf[:0]
	for i, f := range a.keys {
		if i > 0 {
			a.kbuf = append(a.kbuf, a.sep...)
		}
		var ok bool
		if a.kbuf, ok = c.appendFieldString(a.kbuf, f); !ok {
			return nil
		}
	}
	v, isNum, ok := c.fieldNumber(a.value)
	if !ok {
		return nil
	}
	if !isNum {
		return fmt.Errorf("%s chisel error: value field is not a number", c.fileName())
	}
	if a.scale != 0 {
		v *= a.scale
	} else if v <= 0 {
		return nil
	}
	if i, ok := a.sums[string(a.kbuf)]; ok {
		a.vals[i] += v
		return nil
	}
	k := string(a.kbuf)
	a.sums[k] = len(a.order)
	a.order = append(a.order, k)
	a.vals = append(a.vals, v)
	return nil
}

// extractPlain extracts a field as evt.field does, or reports that the field needs the general
// path (extra fields, raw byte buffers).
func (c *Chisel) extractPlain(f *field) (fields.Value, bool, bool) {
	if f.extra != extraNone || f.rawArg {
		return fields.Value{}, false, false
	}
	maxLen := c.ctx.MaxLen
	c.ctx.MaxLen = 0
	v, ok := f.ref.Extract(c.ctx)
	c.ctx.MaxLen = maxLen
	return v, ok, true
}

// appendFieldString appends tostring(evt.field(f)); ok is false when the field is nil.
func (c *Chisel) appendFieldString(b []byte, f *field) ([]byte, bool) {
	v, ok, plain := c.extractPlain(f)
	if !plain {
		lv := c.fieldValue(f)
		switch lv := lv.(type) {
		case *lua.LNilType:
			return b, false
		case lua.LNumber:
			return append(b, numberString(float64(lv))...), true
		default:
			return append(b, lv.String()...), true
		}
	}
	if !ok {
		return b, false
	}
	switch v.Kind {
	case fields.KString:
		return append(b, v.Str...), true
	case fields.KBytes:
		return event.AppendBuffer(b, []byte(v.Str), c.ctx.Buf), true
	case fields.KInt, fields.KRelTime, fields.KAbsTime, fields.KPort:
		return append(b, numberString(float64(v.Int))...), true
	case fields.KUint:
		return append(b, numberString(float64(uint64(v.Int)))...), true
	case fields.KBool:
		if v.Int != 0 {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case fields.KDouble:
		return append(b, numberString(v.F)...), true
	default:
		return fields.AppendText(b, v), true
	}
}

// fieldNumber is evt.field(f) for a value field: the number, whether it is one, and ok false
// when the field is nil.
func (c *Chisel) fieldNumber(f *field) (float64, bool, bool) {
	v, ok, plain := c.extractPlain(f)
	if !plain {
		switch lv := c.fieldValue(f).(type) {
		case *lua.LNilType:
			return 0, false, false
		case lua.LNumber:
			return float64(lv), true, true
		default:
			return 0, false, true
		}
	}
	if !ok {
		return 0, false, false
	}
	switch v.Kind {
	case fields.KInt, fields.KRelTime, fields.KAbsTime, fields.KPort:
		return float64(v.Int), true, true
	case fields.KUint:
		return float64(uint64(v.Int)), true, true
	case fields.KDouble:
		return v.F, true, true
	}
	return 0, false, true
}

package filter

import (
	"bytes"

	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// Filter is a compiled filter: a predicate over the current event and the event types it can
// possibly match, so the caller can skip the others cheaply.
type Filter struct {
	match func(c *fields.Ctx) bool
	types *typeSet
}

// Match reports whether the event in c passes the filter.
func (f *Filter) Match(c *fields.Ctx) bool { return f.match(c) }

// MayMatch reports whether an event of this type can pass at all.
func (f *Filter) MayMatch(typ uint16) bool { return f.types == nil || f.types[typ] }

// EventTypes returns, per event id, whether the filter can match it (nil: every type).
func (f *Filter) EventTypes() []bool {
	if f.types == nil {
		return nil
	}
	out := make([]bool, event.MaxType)
	copy(out, f.types[:])
	return out
}

type typeSet [event.MaxType]bool

// Macros resolves bare identifiers (Falco macros and lists); nil in plain sysdig filters.
type Macros interface {
	Macro(name string) (Expr, bool)
}

// CompileError is a filter that parses but cannot be compiled (unknown field, bad value).
type CompileError struct {
	Column int
	Msg    string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("filter error at column %d: %s", e.Column, e.Msg)
}

// Compile parses and compiles a filter with sysdig's command-line rules (see ParseStrict).
func Compile(s string) (*Filter, error) {
	e, err := ParseStrict(s)
	if err != nil {
		return nil, err
	}
	return CompileExpr(e, nil)
}

// CompileExpr compiles a parsed filter, expanding identifiers through macros.
func CompileExpr(e Expr, m Macros) (*Filter, error) {
	c := compiler{macros: m}
	fn, ts, err := c.expr(e, 0)
	if err != nil {
		return nil, err
	}
	return &Filter{match: fn, types: ts}, nil
}

type compiler struct {
	macros Macros
}

type pred = func(c *fields.Ctx) bool

// maxDepth bounds the nesting the compiler recurses through: "not", parentheses of a
// different operator and macro expansions. The parser already stops parentheses and "not"
// runs at maxNesting; the margin is for macros, whose chains a rules file controls. Chains of
// one operator (a or b or c ...) are compiled in a loop and cost no depth, however long.
const maxDepth = 2 * maxNesting

func (c *compiler) expr(e Expr, depth int) (pred, *typeSet, error) {
	if depth > maxDepth {
		return nil, nil, &CompileError{Column: e.Pos(), Msg: fmt.Sprintf("filter nests deeper than %d levels (not, parentheses and macro expansions counted)", maxDepth)}
	}
	switch n := e.(type) {
	case *BoolOp:
		terms := flatten(n, nil)
		preds := make([]pred, len(terms))
		var ts *typeSet
		for i, t := range terms {
			p, tt, err := c.expr(t, depth+1)
			if err != nil {
				return nil, nil, err
			}
			preds[i] = p
			switch {
			case i == 0:
				ts = tt
			case n.Op == "and":
				ts = intersect(ts, tt)
			default:
				ts = union(ts, tt)
			}
		}
		if len(preds) == 2 {
			x, y := preds[0], preds[1]
			if n.Op == "and" {
				return func(ctx *fields.Ctx) bool { return x(ctx) && y(ctx) }, ts, nil
			}
			return func(ctx *fields.Ctx) bool { return x(ctx) || y(ctx) }, ts, nil
		}
		if n.Op == "and" {
			return func(ctx *fields.Ctx) bool {
				for _, p := range preds {
					if !p(ctx) {
						return false
					}
				}
				return true
			}, ts, nil
		}
		return func(ctx *fields.Ctx) bool {
			for _, p := range preds {
				if p(ctx) {
					return true
				}
			}
			return false
		}, ts, nil
	case *Not:
		x, tx, err := c.expr(n.X, depth+1)
		if err != nil {
			return nil, nil, err
		}
		return func(ctx *fields.Ctx) bool { return !x(ctx) }, complement(tx, n.X), nil
	case *Ident:
		if c.macros != nil {
			if m, ok := c.macros.Macro(n.Name); ok {
				return c.expr(m, depth+1)
			}
		}
		return nil, nil, &CompileError{Column: n.Column, Msg: fmt.Sprintf("%q is not a field comparison (no operator) nor a known macro", n.Name)}
	case *Compare:
		return c.compare(n)
	}
	return nil, nil, &CompileError{Column: e.Pos(), Msg: "unsupported expression"}
}

// flatten lists the operands of a chain of one boolean operator in source order, without
// recursion: a 1,000-term "or" is one level, not 1,000.
func flatten(root *BoolOp, out []Expr) []Expr {
	stack := []Expr{root}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b, ok := e.(*BoolOp); ok && b.Op == root.Op {
			stack = append(stack, b.Y, b.X)
			continue
		}
		out = append(out, e)
	}
	return out
}

func intersect(a, b *typeSet) *typeSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var r typeSet
	for i := range r {
		r[i] = a[i] && b[i]
	}
	return &r
}

func union(a, b *typeSet) *typeSet {
	if a == nil || b == nil {
		return nil
	}
	var r typeSet
	for i := range r {
		r[i] = a[i] || b[i]
	}
	return &r
}

// complement narrows "not X" only when X is a plain event-type test; anything else may match
// every type.
func complement(t *typeSet, x Expr) *typeSet {
	if t == nil {
		return nil
	}
	if cmp, ok := x.(*Compare); ok && cmp.Field == "evt.type" && (cmp.Op == "=" || cmp.Op == "==" || cmp.Op == "in") {
		var r typeSet
		for i := range r {
			r[i] = !t[i]
		}
		r[0], r[1] = true, true // generic events carry any syscall name
		return &r
	}
	return nil
}

// typesNamed returns the event ids whose sysdig name is one of names. Generic events (ids 0
// and 1) can carry any syscall name, so they stay possible.
func typesNamed(names []string) *typeSet {
	var r typeSet
	r[0], r[1] = true, true
	for i := 2; i < event.MaxType; i++ {
		info := event.Lookup(uint16(i))
		if info == nil {
			continue
		}
		for _, n := range names {
			if info.Name == n {
				r[i] = true
			}
		}
	}
	return &r
}

// operand is a comparison value prepared for every kind of field.
type operand struct {
	s     string
	b     []byte
	lower []byte
	n     int64
	isNum bool
	ip    net.IP
	ipnet *net.IPNet
	bytes []byte // bcontains/bstartswith: hex-decoded
}

func prepare(v string, op string) (operand, error) {
	o := operand{s: v, b: []byte(v), lower: bytes.ToLower([]byte(v))}
	if n, err := strconv.ParseInt(v, 0, 64); err == nil {
		o.n, o.isNum = n, true
	} else if u, err := strconv.ParseUint(v, 0, 64); err == nil {
		o.n, o.isNum = int64(u), true
	} else if v == "true" {
		o.n, o.isNum = 1, true
	} else if v == "false" {
		o.n, o.isNum = 0, true
	}
	if strings.Contains(v, "/") {
		if _, nw, err := net.ParseCIDR(v); err == nil {
			o.ipnet = nw
		}
	} else if ip := net.ParseIP(v); ip != nil {
		o.ip = ip
	}
	if op == "bcontains" || op == "bstartswith" {
		h := strings.ReplaceAll(v, " ", "")
		b := make([]byte, len(h)/2)
		for i := range b {
			x, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				return o, fmt.Errorf("%q is not a hex string", v)
			}
			b[i] = byte(x)
		}
		if len(h)%2 != 0 {
			return o, fmt.Errorf("%q is not a hex string", v)
		}
		o.bytes = b
	}
	return o, nil
}

func isNumeric(k fields.Kind) bool {
	switch k {
	case fields.KInt, fields.KUint, fields.KBool, fields.KPort, fields.KRelTime, fields.KAbsTime:
		return true
	}
	return false
}

func (c *compiler) compare(n *Compare) (pred, *typeSet, error) {
	ref, err := fields.Lookup(n.Field, n.Arg, n.HasArg)
	if err != nil {
		return nil, nil, &CompileError{Column: n.Column, Msg: err.Error()}
	}
	var ts *typeSet
	if n.Field == "evt.type" && (n.Op == "=" || n.Op == "==" || n.Op == "in") {
		ts = typesNamed(n.Values)
	}
	// predFor makes the predicate that test holds for the field's value, or, for a
	// multi-valued field used without an index (proc.aname), for any of its values, as Falco
	// compares them. The plain case stays one extraction and one test per event.
	predFor := func(test func(fields.Value) bool) pred {
		if ref.F.Each != nil && !ref.A.HasN {
			return func(ctx *fields.Ctx) bool {
				found := false
				ref.F.Each(ctx, &ref.A, func(v fields.Value) bool {
					found = test(v)
					return !found
				})
				return found
			}
		}
		return func(ctx *fields.Ctx) bool {
			v, ok := ref.Extract(ctx)
			return ok && test(v)
		}
	}
	if n.Op == "exists" {
		return predFor(func(fields.Value) bool { return true }), ts, nil
	}
	ops := make([]operand, 0, len(n.Values))
	for _, v := range n.Values {
		if err := checkValue(n.Field, ref.F.Kind, n.Op, v); err != nil {
			return nil, nil, &CompileError{Column: n.ValueColumn, Msg: err.Error()}
		}
		o, err := prepare(v, n.Op)
		if err != nil {
			return nil, nil, &CompileError{Column: n.ValueColumn, Msg: err.Error()}
		}
		if isNumeric(ref.F.Kind) && !o.isNum && isOrdered(n.Op) {
			return nil, nil, &CompileError{Column: n.ValueColumn, Msg: fmt.Sprintf("%q is not a number, as %s needs", v, n.Field)}
		}
		if ref.F.Kind == fields.KIP && o.ip == nil && o.ipnet == nil && isOrdered(n.Op) {
			return nil, nil, &CompileError{Column: n.ValueColumn, Msg: fmt.Sprintf("%q is not an IP address or network, as %s needs", v, n.Field)}
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 && n.Op != "in" && n.Op != "intersects" && n.Op != "pmatch" {
		return nil, nil, &CompileError{Column: n.Column, Msg: "missing value"}
	}
	op := n.Op
	if op == "==" {
		op = "="
	}
	switch op {
	case "=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith", "glob":
		o := ops[0]
		neg := op == "!="
		if neg {
			op = "="
		}
		test := func(v fields.Value) bool { return cmpOne(v, op, &o) != neg }
		return predFor(test), ts, nil
	case "in", "intersects":
		test := func(v fields.Value) bool {
			for i := range ops {
				if cmpOne(v, "=", &ops[i]) {
					return true
				}
			}
			return false
		}
		return predFor(test), ts, nil
	case "pmatch":
		test := func(v fields.Value) bool {
			var tmp [256]byte
			s := fields.AppendText(tmp[:0], v)
			for i := range ops {
				p := ops[i].b
				if bytes.HasPrefix(s, p) && (len(s) == len(p) || s[len(p)] == '/' || (len(p) > 0 && p[len(p)-1] == '/')) {
					return true
				}
			}
			return false
		}
		return predFor(test), ts, nil
	}
	return nil, nil, &CompileError{Column: n.Column, Msg: fmt.Sprintf("unknown operator %q", n.Op)}
}

func isOrdered(op string) bool {
	switch op {
	case "<", "<=", ">", ">=":
		return true
	}
	return false
}

// cmpOne compares an extracted value with one operand.
func cmpOne(v fields.Value, op string, o *operand) bool {
	switch v.Kind {
	case fields.KInt, fields.KBool, fields.KPort, fields.KRelTime:
		if !o.isNum {
			return textCmp(v, op, o)
		}
		r, _ := orderCmp(v.Int, o.n, op)
		return r
	case fields.KUint, fields.KAbsTime:
		if !o.isNum {
			return textCmp(v, op, o)
		}
		if r, ok := orderCmp(uint64(v.Int), uint64(o.n), op); ok {
			return r
		}
		return textCmp(v, op, o)
	case fields.KIP:
		if op == "=" {
			if o.ipnet != nil {
				return o.ipnet.Contains(net.IP(v.Str))
			}
			if o.ip != nil {
				return o.ip.Equal(net.IP(v.Str))
			}
			return false
		}
		return textCmp(v, op, o)
	}
	return textCmp(v, op, o)
}

// orderCmp applies "=" or an order operator; ok is false for any other operator.
func orderCmp[T int64 | uint64](a, b T, op string) (result, ok bool) {
	switch op {
	case "=":
		return a == b, true
	case "<":
		return a < b, true
	case "<=":
		return a <= b, true
	case ">":
		return a > b, true
	case ">=":
		return a >= b, true
	}
	return false, false
}

func textCmp(v fields.Value, op string, o *operand) bool {
	var tmp [64]byte
	s := v.Str
	if v.Kind != fields.KString && v.Kind != fields.KBytes {
		s = fields.AppendText(tmp[:0], v)
	}
	switch op {
	case "=":
		return string(s) == o.s
	case "contains":
		return bytes.Contains(s, o.b)
	case "icontains":
		return containsFold(s, o.lower)
	case "startswith":
		return bytes.HasPrefix(s, o.b)
	case "endswith":
		return bytes.HasSuffix(s, o.b)
	case "bcontains":
		return bytes.Contains(s, o.bytes)
	case "bstartswith":
		return bytes.HasPrefix(s, o.bytes)
	case "glob":
		return Glob(o.b, s)
	case "<":
		return string(s) < o.s
	case "<=":
		return string(s) <= o.s
	case ">":
		return string(s) > o.s
	case ">=":
		return string(s) >= o.s
	}
	return false
}

// containsFold is a case-insensitive bytes.Contains for an already lower-cased needle.
func containsFold(s, lowerNeedle []byte) bool {
	n := len(lowerNeedle)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		match := true
		for j := 0; j < n; j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerNeedle[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

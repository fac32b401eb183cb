package rules

import (
	"fmt"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
)

// condition is a compiled rule or macro condition. Macros are compiled once: every condition
// that uses a macro shares its condition instead of compiling the macro's text again, so a
// chain of macros that each use the previous one twice stays as small as the text.
type condition struct {
	match func(c *fields.Ctx) bool
	types []bool // per event id, whether the condition can match; nil: any type
	// cost is the number of comparisons the condition holds with every macro counted at each
	// use, capped just past maxCondCost: what one event may have to evaluate.
	cost int
}

// Match reports whether the event in c satisfies the condition.
func (c *condition) Match(ctx *fields.Ctx) bool { return c.match(ctx) }

// MayMatch reports whether an event of this type can satisfy the condition at all.
func (c *condition) MayMatch(typ uint16) bool {
	return c.types == nil || int(typ) < len(c.types) && c.types[typ]
}

// compileCond compiles e, whose macros are all resolved. The parts that use no macro are
// compiled by the filter package as they are; the parts around macro references are joined
// here, with the same event-type narrowing as the filter compiler: "and" intersects, "or"
// unites, and "not" of anything but a plain comparison may match any type.
func (s *Set) compileCond(e filter.Expr) (*condition, error) {
	c, pure, err := s.joinMacros(e)
	if err != nil || !pure {
		return c, err
	}
	return compileLeaf(e)
}

// joinMacros compiles the parts of e around macro references; pure reports that e holds no
// macro reference (and was left for the caller to compile whole).
func (s *Set) joinMacros(e filter.Expr) (c *condition, pure bool, err error) {
	switch n := e.(type) {
	case *filter.BoolOp:
		x, xPure, err := s.joinMacros(n.X)
		if err != nil {
			return nil, false, err
		}
		y, yPure, err := s.joinMacros(n.Y)
		if err != nil {
			if xPure { // report the leftmost error, as the filter compiler does
				if _, xErr := compileLeaf(n.X); xErr != nil {
					return nil, false, xErr
				}
			}
			return nil, false, err
		}
		if xPure && yPure {
			return nil, true, nil
		}
		if xPure {
			if x, err = compileLeaf(n.X); err != nil {
				return nil, false, err
			}
		}
		if yPure {
			if y, err = compileLeaf(n.Y); err != nil {
				return nil, false, err
			}
		}
		xm, ym := x.match, y.match
		c := &condition{cost: capCost(x.cost + y.cost)}
		if n.Op == "and" {
			c.match = func(ctx *fields.Ctx) bool { return xm(ctx) && ym(ctx) }
			c.types = intersectTypes(x.types, y.types)
		} else {
			c.match = func(ctx *fields.Ctx) bool { return xm(ctx) || ym(ctx) }
			c.types = uniteTypes(x.types, y.types)
		}
		return c, false, nil
	case *filter.Not:
		x, xPure, err := s.joinMacros(n.X)
		if err != nil || xPure {
			return nil, xPure, err
		}
		xm := x.match
		return &condition{match: func(ctx *fields.Ctx) bool { return !xm(ctx) }, cost: x.cost}, false, nil
	case *filter.Ident:
		if m := s.macros[n.Name]; m != nil && m.state == stDone && m.flt != nil {
			return m.flt, false, nil
		}
		return nil, false, &filter.CompileError{Column: n.Column, Msg: fmt.Sprintf("undefined macro %q", n.Name)}
	}
	return nil, true, nil
}

// compileLeaf compiles a part of a condition that uses no macro.
func compileLeaf(e filter.Expr) (*condition, error) {
	f, err := filter.CompileExpr(e, nil)
	if err != nil {
		return nil, err
	}
	return &condition{match: f.Match, types: f.EventTypes(), cost: capCost(comparisons(e))}, nil
}

func comparisons(e filter.Expr) int {
	switch n := e.(type) {
	case *filter.BoolOp:
		return comparisons(n.X) + comparisons(n.Y)
	case *filter.Not:
		return comparisons(n.X)
	}
	return 1
}

func capCost(n int) int { return min(n, maxCondCost+1) }

func intersectTypes(a, b []bool) []bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	r := make([]bool, event.MaxType)
	for i := range r {
		r[i] = a[i] && b[i]
	}
	return r
}

func uniteTypes(a, b []bool) []bool {
	if a == nil || b == nil {
		return nil
	}
	r := make([]bool, event.MaxType)
	for i := range r {
		r[i] = a[i] || b[i]
	}
	return r
}

package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
)

const (
	stNew = iota
	stResolving
	stDone
	stBad
)

// compile resolves lists and macros, then compiles every rule's condition and output.
func (s *Set) compile() {
	for _, l := range s.Lists {
		s.resolveList(l, nil)
	}
	for _, m := range s.Macros {
		s.resolveMacro(m, nil)
	}
	for _, r := range s.Rules {
		s.compileRule(r)
	}
	for _, l := range s.Lists {
		if !l.used {
			s.warnf(l.Pos, fmt.Sprintf("list %q", l.Name), "list is not used by any rule, macro or list")
		}
	}
	for _, m := range s.Macros {
		if !m.used {
			s.warnf(m.Pos, fmt.Sprintf("macro %q", m.Name), "macro is not used by any rule or macro")
		}
	}
}

// resolveList expands the items that name other lists, once per list: every list keeps its
// own expansion, deduplicated, and lists that use it copy from it. A list whose items (before
// deduplication) pass maxListItems is refused, naming it, as is a rules load whose list
// expansions together pass expandBudget: nested lists cannot grow exponentially.
func (s *Set) resolveList(l *List, stack []string) bool {
	switch l.state {
	case stDone:
		return true
	case stBad:
		return false
	case stResolving:
		s.errorf(l.Pos, fmt.Sprintf("list %q", l.Name), "list loop: %s -> %s", strings.Join(stack, " -> "), l.Name)
		l.state = stBad
		return false
	}
	l.state = stResolving
	stack = append(stack, l.Name)
	item := fmt.Sprintf("list %q", l.Name)
	raw := 0
	for _, it := range l.Items {
		sub := s.lists[it]
		if sub == nil {
			raw++
			continue
		}
		sub.used = true
		if !s.resolveList(sub, stack) {
			l.state = stBad
			return false
		}
		raw += len(sub.resolved)
		if raw > maxListItems {
			s.errorf(l.Pos, item, "list expands to more than %d items (list %q is used in it and holds %d)", maxListItems, sub.Name, len(sub.resolved))
			l.state = stBad
			return false
		}
	}
	if l.state == stBad {
		return false
	}
	if !s.spend(l.Pos, item, raw) {
		l.state = stBad
		return false
	}
	out := newUniqueValues(raw)
	for _, it := range l.Items {
		if sub := s.lists[it]; sub != nil {
			for _, v := range sub.resolved {
				out.add(v)
			}
			continue
		}
		out.add(it)
	}
	l.resolved, l.state = out.values, stDone
	return true
}

// Limits on what a rules file can make the loader build; see resolveList, expandLists and
// compileCond.
const (
	// maxListItems bounds one list, or one value list of a condition, after its lists are
	// expanded (Falco's largest lists hold a few hundred items).
	maxListItems = 100_000
	// expandBudget bounds the list items copied while loading, all lists and conditions
	// together.
	expandBudget = 2_000_000
	// maxCondCost bounds the comparisons one condition can evaluate per event once its macros
	// are counted at every use (Falco's longest conditions are a few hundred).
	maxCondCost = 100_000
)

// spend takes n items from the load's expansion budget; it reports (once) and returns false
// when the budget is exhausted.
func (s *Set) spend(pos Pos, item string, n int) bool {
	s.expanded += n
	if s.expanded <= expandBudget {
		return true
	}
	if !s.overBudget {
		s.overBudget = true
		s.errorf(pos, item, "list expansions pass the limit of %d items for all the rules files together", expandBudget)
	}
	return false
}

// expandLists replaces list names inside in/intersects/pmatch values with the lists' items,
// deduplicated (the operators are set operations). It returns false, having reported it, when
// a value list grows past the limits.
func (s *Set) expandLists(item string, pos Pos, e filter.Expr) bool {
	switch n := e.(type) {
	case *filter.BoolOp:
		return s.expandLists(item, pos, n.X) && s.expandLists(item, pos, n.Y)
	case *filter.Not:
		return s.expandLists(item, pos, n.X)
	case *filter.Compare:
		for _, v := range n.Values {
			if l := s.lists[v]; l != nil && l.state == stBad {
				s.errorf(pos, item, "uses list %q, which cannot be expanded (see its error)", v)
				return false
			}
		}
		if n.Op != "in" && n.Op != "intersects" && n.Op != "pmatch" {
			return s.substituteBareList(item, pos, n)
		}
		raw, changed := 0, false
		for _, v := range n.Values {
			if l := s.lists[v]; l != nil && l.state == stDone {
				raw += len(l.resolved)
				changed = true
				continue
			}
			raw++
		}
		if !changed {
			return true
		}
		if raw > maxListItems {
			s.errorf(pos, item, "the values of %s %s expand to more than %d items", n.Field, n.Op, maxListItems)
			return false
		}
		if !s.spend(pos, item, raw) {
			return false
		}
		out := newUniqueValues(raw)
		for _, v := range n.Values {
			if l := s.lists[v]; l != nil && l.state == stDone {
				l.used = true
				for _, x := range l.resolved {
					out.add(unquoteItem(x))
				}
				continue
			}
			out.add(v)
		}
		n.Values, n.List = out.values, true
	}
	return true
}

// uniqueValues collects list items in first-seen order without duplicates, as lists and
// value lists are expanded.
type uniqueValues struct {
	values []string
	seen   map[string]struct{}
}

func newUniqueValues(n int) *uniqueValues {
	return &uniqueValues{values: make([]string, 0, n), seen: make(map[string]struct{}, n)}
}

func (u *uniqueValues) add(v string) {
	if _, dup := u.seen[v]; !dup {
		u.seen[v] = struct{}{}
		u.values = append(u.values, v)
	}
}

// unquoteItem strips the quotes of a list item written quoted ('"10.0.0.0/8"'), as Falco's
// textual expansion of lists into the condition does.
func unquoteItem(x string) string {
	if len(x) >= 2 && (x[0] == '"' || x[0] == '\'') && x[len(x)-1] == x[0] {
		return x[1 : len(x)-1]
	}
	return x
}

// idents returns the bare identifiers of e (macro references), in order.
func idents(e filter.Expr, out []*filter.Ident) []*filter.Ident {
	switch n := e.(type) {
	case *filter.BoolOp:
		return idents(n.Y, idents(n.X, out))
	case *filter.Not:
		return idents(n.X, out)
	case *filter.Ident:
		return append(out, n)
	}
	return out
}

// Macro implements filter.Macros over the resolved macros. The rules themselves do not use it:
// compiling through it would compile a macro again at every use (see compileCond).
func (s *Set) Macro(name string) (filter.Expr, bool) {
	m := s.macros[name]
	if m == nil || m.state != stDone {
		return nil, false
	}
	return m.expr, true
}

// condError reports a filter error in a (possibly appended) condition: the position of the
// piece the column falls in, the column within it, and the text with a caret.
func (s *Set) condError(item string, segs []segment, text string, err error) {
	col := 0
	var se *filter.SyntaxError
	var ce *filter.CompileError
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		col, msg = se.Column, se.Msg
	case errors.As(err, &ce):
		col, msg = ce.Column, ce.Msg
	}
	seg := segs[0]
	for _, sg := range segs {
		if col-1 >= sg.off {
			seg = sg
		}
	}
	flat := strings.NewReplacer("\n", " ", "\t", " ").Replace(text)
	caret := ""
	if col > 0 && col <= len(flat)+1 {
		caret = fmt.Sprintf("\n    %s\n    %s^", flat, strings.Repeat(" ", col-1))
	}
	s.errorf(seg.pos, item, "condition: column %d: %s%s", col-seg.off, msg, caret)
}

// checkIdents reports identifiers that are not macros and marks the macros used. It returns
// false when one of them is undefined or invalid.
func (s *Set) checkIdents(item string, segs []segment, text string, e filter.Expr, stack []string) bool {
	ok := true
	for _, id := range idents(e, nil) {
		m := s.macros[id.Name]
		if m == nil {
			msg := fmt.Sprintf("undefined macro %q", id.Name)
			if s.lists[id.Name] != nil {
				msg = fmt.Sprintf("%q is a list, not a macro: use it in a value list, e.g. in (%s)", id.Name, id.Name)
			}
			s.condError(item, segs, text, &filter.CompileError{Column: id.Column, Msg: msg})
			ok = false
			continue
		}
		m.used = true
		if !s.resolveMacro(m, stack) {
			ok = false
		}
	}
	return ok
}

func (s *Set) resolveMacro(m *Macro, stack []string) bool {
	name := fmt.Sprintf("macro %q", m.Name)
	switch m.state {
	case stDone:
		return true
	case stBad:
		return false
	case stResolving:
		s.errorf(m.Pos, name, "macro loop: %s -> %s", strings.Join(stack, " -> "), m.Name)
		m.state = stBad
		return false
	}
	m.state = stResolving
	e, err := filter.Parse(m.Condition)
	if err != nil {
		s.condError(name, m.cond, m.Condition, err)
		m.state = stBad
		return false
	}
	if !s.expandLists(name, m.Pos, e) {
		m.state = stBad
		return false
	}
	if !s.checkIdents(name, m.cond, m.Condition, e, append(stack, m.Name)) || m.state == stBad {
		m.state = stBad
		return false
	}
	c, err := s.compileCond(e)
	if err != nil {
		s.condError(name, m.cond, m.Condition, err)
		m.state = stBad
		return false
	}
	if c.cost > maxCondCost {
		s.errorf(m.Pos, name, "macro expands to more than %d comparisons (each macro it uses counted at every use)", maxCondCost)
		m.state = stBad
		return false
	}
	m.expr, m.flt, m.state = e, c, stDone
	return true
}

func (s *Set) compileRule(r *Rule) {
	name := fmt.Sprintf("rule %q", r.Name)
	if r.Source != "syscall" {
		s.warnf(r.Pos, name, "source %q is not supported (only syscall): rule skipped", r.Source)
		r.skipped = true
		return
	}
	e, err := filter.Parse(r.Condition)
	if err != nil {
		s.condError(name, r.cond, r.Condition, err)
		return
	}
	if !s.checkIdents(name, r.cond, r.Condition, e, nil) {
		return
	}
	if len(r.Exceptions) > 0 {
		ex, ok := s.exceptionExpr(name, r)
		if !ok {
			return
		}
		if ex != nil {
			e = &filter.BoolOp{Op: "and", X: e, Y: ex, Column: e.Pos()}
		}
	}
	if !s.expandLists(name, r.Pos, e) {
		return
	}
	f, err := s.compileCond(e)
	if err != nil {
		if r.skipUnknown && strings.Contains(err.Error(), "unknown field") {
			s.warnf(r.Pos, name, "skipped (skip-if-unknown-filter): %v", err)
			r.skipped = true
			return
		}
		s.condError(name, r.cond, r.Condition, err)
		return
	}
	if f.cost > maxCondCost {
		s.errorf(r.Pos, name, "condition expands to more than %d comparisons (each macro it uses counted at every use)", maxCondCost)
		return
	}
	r.flt = f
	if r.Enabled && !r.quietTypes && f.types == nil {
		s.warnf(r.Pos, name, "rule matches every event type (its condition does not restrict evt.type): each event is checked against it, a significant cost")
	}
	out := s.print.apply(r.Output)
	r.Format = out
	if r.text, err = output.New("*"+out, false); err == nil {
		r.json, err = output.New("*"+out, true)
	}
	if err != nil {
		s.errorf(r.outPos, name, "output: %v", err)
		r.flt = nil
	}
}

// exceptionExpr builds "not (tuple or tuple...) and not (...)" for the rule's exceptions.
func (s *Set) exceptionExpr(item string, r *Rule) (filter.Expr, bool) {
	var all filter.Expr
	for _, ex := range r.Exceptions {
		refs := make([]*filter.Compare, len(ex.Fields))
		for i, f := range ex.Fields {
			c := &filter.Compare{Field: f, Op: ex.Comps[i]}
			if j := strings.IndexByte(f, '['); j > 0 && strings.HasSuffix(f, "]") {
				c.Field, c.Arg, c.HasArg = f[:j], f[j+1:len(f)-1], true
			}
			if _, err := fields.Lookup(c.Field, c.Arg, c.HasArg); err != nil {
				s.errorf(ex.Pos, item, "exception %q: %v", ex.Name, err)
				return nil, false
			}
			if !validComp(c.Op) {
				s.errorf(ex.Pos, item, "exception %q: unknown comparison %q", ex.Name, c.Op)
				return nil, false
			}
			refs[i] = c
		}
		var any filter.Expr
		if ex.Single {
			// One field: the values form one list ("proc.name in (a, b)"), or one comparison
			// per value for scalar comparisons.
			var vals []string
			for _, t := range ex.Values {
				vals = append(vals, unquoteValue(t[0].(string)))
			}
			if isListOp(refs[0].Op) && len(vals) > 0 {
				c := *refs[0]
				c.Values, c.List = vals, true
				any = &c
			} else {
				for _, v := range vals {
					c := *refs[0]
					c.Values = []string{v}
					any = joinExpr("or", any, &c)
				}
			}
		}
		for _, tuple := range ex.Values {
			if ex.Single {
				break
			}
			var and filter.Expr
			for i, v := range tuple {
				c := *refs[i]
				switch v := v.(type) {
				case string:
					c.Values = []string{unquoteValue(v)}
				case []string:
					vs := make([]string, len(v))
					for i := range v {
						vs[i] = unquoteValue(v[i])
					}
					c.Values, c.List = vs, true
				}
				if isListOp(c.Op) {
					c.List = true
				} else if len(c.Values) != 1 {
					s.errorf(ex.Pos, item, "exception %q: %s takes one value", ex.Name, c.Op)
					return nil, false
				}
				and = joinExpr("and", and, &c)
			}
			any = joinExpr("or", any, and)
		}
		if any != nil {
			all = joinExpr("and", all, &filter.Not{X: any})
		}
	}
	return all, true
}

func joinExpr(op string, a, b filter.Expr) filter.Expr {
	if a == nil {
		return b
	}
	return &filter.BoolOp{Op: op, X: a, Y: b}
}

func isListOp(op string) bool { return op == "in" || op == "intersects" || op == "pmatch" }

func validComp(op string) bool {
	switch op {
	case "=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains", "startswith",
		"bstartswith", "endswith", "glob", "in", "intersects", "pmatch":
		return true
	}
	return false
}

// substituteBareList replaces a list name used as the single value of a comparison
// (proc.name=cat_binaries) with the list's item, as Falco's textual list substitution did; a
// list of other than one item cannot stand for one value and is refused, naming it.
func (s *Set) substituteBareList(item string, pos Pos, n *filter.Compare) bool {
	if len(n.Values) != 1 || n.List {
		return true
	}
	l := s.lists[n.Values[0]]
	if l == nil || l.state != stDone {
		return true
	}
	l.used = true
	if len(l.resolved) != 1 {
		s.errorf(pos, item, "list %q (%d items) is the single value of %s %s: use in (...)", l.Name, len(l.resolved), n.Field, n.Op)
		return false
	}
	n.Values = []string{l.resolved[0]}
	return true
}

// unquoteValue reads an exception value as Falco does: Falco writes each value into the
// condition text, quoting it only when it holds a space and is not quoted already, so a value
// written '"cat /dev/null"' compares as cat /dev/null.
func unquoteValue(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

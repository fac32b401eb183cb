// Package filter parses sysdig/Falco filter expressions (the language of
// `sysdig 'proc.name=bash and evt.type=open'` and of Falco rule conditions)
// into an AST that compile.go turns into an event predicate.
package filter

import (
	"fmt"
	"strings"
)

// Expr is a node of a parsed filter.
type Expr interface {
	// Pos is the 1-based column (byte offset+1) in the original filter text
	// where the node starts. Parentheses are not nodes, so a node written
	// as "(a or b)" starts at "a".
	Pos() int
}

// BoolOp is "X and Y" or "X or Y". Chains are left-associative:
// "a and b and c" is BoolOp{and, BoolOp{and, a, b}, c}.
type BoolOp struct {
	Op     string // "and" | "or"
	X, Y   Expr
	Column int // column of X: a BoolOp starts where its left operand starts
}

// Not is "not X".
type Not struct {
	X      Expr
	Column int // column of the "not" keyword
}

// Compare is FIELD OP [VALUE], e.g. proc.name=bash, fd.num >= 3,
// evt.type in (open, openat) or evt.arg.fd exists.
type Compare struct {
	Field  string   // field name as written, without the bracket argument
	Arg    string   // bracket argument without brackets, raw; "" if none
	HasArg bool     // the field had a bracket argument (possibly empty: "x[]")
	Op     string   // "=", "==", "!=", "<", "<=", ">", ">=", "contains", ..., "exists"
	Values []string // unquoted values; one for scalar ops, list items for lists, none for exists
	List   bool     // the value was written as a parenthesised list

	Column      int // column of the field
	ValueColumn int // column of the value or of the list's "("; 0 for exists
}

// Ident is a bare identifier with no operator: a Falco macro or list
// reference ("spawned_process and container"). The parser accepts any
// field-like name here; the compiler decides whether it is allowed.
type Ident struct {
	Name   string
	Column int
}

// Pos implements Expr.
func (e *BoolOp) Pos() int { return e.Column }

// Pos implements Expr.
func (e *Not) Pos() int { return e.Column }

// Pos implements Expr.
func (e *Compare) Pos() int { return e.Column }

// Pos implements Expr.
func (e *Ident) Pos() int { return e.Column }

// SyntaxError is the error Parse returns for malformed filters.
type SyntaxError struct {
	Column int // 1-based column (byte offset+1) of the offending text
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter error at column %d: %s", e.Column, e.Msg)
}

// Format prints e as canonical filter text: single spaces around operators
// and keywords, parentheses only where precedence or associativity needs
// them, values quoted only when they could not be read back as bare words.
// Parse(Format(e)) yields e again, apart from the columns.
func Format(e Expr) string {
	var b strings.Builder
	format(&b, e)
	return b.String()
}

// Precedence levels: a child with a lower level than its context needs
// parentheses.
const (
	precOr = iota + 1
	precAnd
	precUnary // not, comparisons, identifiers
)

func prec(e Expr) int {
	if b, ok := e.(*BoolOp); ok {
		if b.Op == "or" {
			return precOr
		}
		return precAnd
	}
	return precUnary
}

func format(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *BoolOp:
		p := prec(e)
		// The parser builds left-associative chains, so only the left
		// operand may have the same precedence without parentheses;
		// "a or (b or c)" must keep its parentheses to keep its shape.
		formatChild(b, e.X, prec(e.X) < p)
		b.WriteByte(' ')
		b.WriteString(e.Op)
		b.WriteByte(' ')
		formatChild(b, e.Y, prec(e.Y) <= p)
	case *Not:
		b.WriteString("not ")
		formatChild(b, e.X, prec(e.X) < precUnary)
	case *Compare:
		b.WriteString(e.Field)
		if e.HasArg {
			b.WriteByte('[')
			b.WriteString(e.Arg)
			b.WriteByte(']')
		}
		b.WriteByte(' ')
		b.WriteString(e.Op)
		if e.Op == "exists" {
			return
		}
		b.WriteByte(' ')
		if !e.List {
			if len(e.Values) > 0 {
				b.WriteString(quoteValue(e.Values[0]))
			} else {
				// Not produced by Parse; print something that fails to
				// parse rather than something that parses differently.
				b.WriteString(`""`)
			}
			return
		}
		b.WriteByte('(')
		for i, v := range e.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteValue(v))
		}
		b.WriteByte(')')
	case *Ident:
		b.WriteString(e.Name)
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

func formatChild(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	format(b, e)
	if paren {
		b.WriteByte(')')
	}
}

// quoteValue returns v as written in a filter: bare when the lexer would
// read it back unchanged as one bare word, double-quoted otherwise.
func quoteValue(v string) string {
	if isBareValue(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isBareValue reports whether v can be written without quotes. It is
// stricter than the lexer (which allows quotes and "(" after the first
// byte) to keep canonical text easy to read.
func isBareValue(v string) bool {
	if v == "" || isKeyword(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isSpace(c), c == '(', c == ')', c == ',', c == '"', c == '\'':
			return false
		}
	}
	return true
}

package filter

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parsing is split between a hand-written, context-sensitive lexer and a
// participle grammar over its tokens.
//
// The lexer has to know the context because the same text means different
// things in different places: in "evt.dir=<" the "<" is a value, in
// "fd.num<3" an operator; "in" is an operator after a field but may be a
// macro name elsewhere; bare values run up to whitespace, ")" or "," and so
// may contain "=", "<", ":" or "/" ("<NA>", "127.0.0.1:80", "10.0.0.0/8").
// participle's regexp-driven stateful lexer cannot express this: after the
// ")" closing a value list it would have to leave two states at once.
//
// The grammar is strict (LL(1), no optional values), so participle's
// "deepest error" is the first offending token; parse errors are then
// reworded from the surrounding tokens into messages that say what was
// expected (see describeError).

// Token types of the filter lexer.
const (
	tokKeyword   lexer.TokenType = iota + 1 // and, or, not
	tokLParen                               // "(" opening a group
	tokRParen                               // ")" closing a group
	tokListOpen                             // "(" opening a value list
	tokListClose                            // ")" closing a value list
	tokComma                                // "," between list items
	tokField                                // field or identifier, with its bracket argument
	tokOp                                   // operator taking one value
	tokListOp                               // in, intersects, pmatch: a list or one value
	tokUnary                                // exists: no value
	tokWord                                 // bare value
	tokString                               // quoted value, quotes included
	tokBad                                  // text that cannot start a token here
)

var tokenNames = map[string]lexer.TokenType{
	"EOF":       lexer.EOF,
	"Keyword":   tokKeyword,
	"LParen":    tokLParen,
	"RParen":    tokRParen,
	"ListOpen":  tokListOpen,
	"ListClose": tokListClose,
	"Comma":     tokComma,
	"Field":     tokField,
	"Op":        tokOp,
	"ListOp":    tokListOp,
	"Unary":     tokUnary,
	"Word":      tokWord,
	"String":    tokString,
	"Bad":       tokBad,
}

// Operators, all lower-case and case-sensitive as in sysdig.
var (
	symbolicOps = []string{"==", "!=", "<=", ">=", "=", "<", ">"} // longest first
	wordOps     = map[string]lexer.TokenType{
		"contains":    tokOp,
		"icontains":   tokOp,
		"bcontains":   tokOp,
		"startswith":  tokOp,
		"bstartswith": tokOp,
		"endswith":    tokOp,
		"glob":        tokOp,
		"in":          tokListOp,
		"intersects":  tokListOp,
		"pmatch":      tokListOp,
		"exists":      tokUnary,
	}
)

// maxNesting bounds parenthesis depth and runs of "not": participle parses
// recursively, and a hostile filter must not exhaust the goroutine stack
// (which kills the process instead of panicking).
const maxNesting = 500

// --- lexer ---------------------------------------------------------------

type lexState int

const (
	stTerm       lexState = iota // expecting a term, or and/or/")" after one
	stAfterField                 // after a field: operators are recognized here only
	stValue                      // after an operator: one value or a list
	stList                       // inside a value list
)

// scanner turns filter text into tokens. It never fails: text that cannot
// start a token becomes a tokBad token (with a reason when the lexer knows
// better than the grammar what went wrong) so that the grammar reports the
// first error in the text.
type scanner struct {
	src   string
	pos   int
	toks  []lexer.Token
	why   map[int]string // reason for a tokBad token, by token index
	state lexState
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || ('0' <= c && c <= '9') || c == '.'
}

func isKeyword(s string) bool { return s == "and" || s == "or" || s == "not" }

func position(offset int) lexer.Position {
	return lexer.Position{Offset: offset, Line: 1, Column: offset + 1}
}

func (s *scanner) emit(t lexer.TokenType, end int) {
	s.toks = append(s.toks, lexer.Token{Type: t, Value: s.src[s.pos:end], Pos: position(s.pos)})
	s.pos = end
}

func (s *scanner) bad(end int, why string) {
	if why != "" {
		if s.why == nil {
			s.why = map[int]string{}
		}
		s.why[len(s.toks)] = why
	}
	s.emit(tokBad, end)
	s.state = stTerm
}

// scanWhile returns the end of the run of bytes from start satisfying ok.
func (s *scanner) scanWhile(start int, ok func(byte) bool) int {
	i := start
	for i < len(s.src) && ok(s.src[i]) {
		i++
	}
	return i
}

// bareEnd returns the end of a bare value starting at s.pos: values run up
// to whitespace, ")" or ",".
func (s *scanner) bareEnd() int {
	return s.scanWhile(s.pos, func(c byte) bool { return !isSpace(c) && c != ')' && c != ',' })
}

// quoted scans a '...' or "..." string at s.pos; backslash escapes the next
// byte. ok is false if the string is not terminated.
func (s *scanner) quoted() (end int, ok bool) {
	q := s.src[s.pos]
	for i := s.pos + 1; i < len(s.src); i++ {
		switch s.src[i] {
		case '\\':
			i++
		case q:
			return i + 1, true
		}
	}
	return len(s.src), false
}

// value lexes one quoted or bare value. Inside a list and/or/not are plain
// words: there they cannot be mistaken for a missing value.
func (s *scanner) value(inList bool) {
	c := s.src[s.pos]
	if c == '"' || c == '\'' {
		end, ok := s.quoted()
		if !ok {
			s.bad(end, "unterminated quoted string")
			return
		}
		s.emit(tokString, end)
	} else {
		end := s.bareEnd()
		if !inList && isKeyword(s.src[s.pos:end]) {
			// "proc.name= and x=y" is a missing value, not the value
			// "and"; quote the word to compare against it.
			s.emit(tokKeyword, end)
		} else {
			s.emit(tokWord, end)
		}
	}
	if !inList {
		s.state = stTerm
	}
}

func lex(src string) ([]lexer.Token, map[int]string, error) {
	s := &scanner{src: src}
	depth, nots := 0, 0
	for {
		s.pos = s.scanWhile(s.pos, isSpace)
		if s.pos >= len(src) {
			s.toks = append(s.toks, lexer.EOFToken(position(len(src))))
			return s.toks, s.why, nil
		}
		c := src[s.pos]
		n := len(s.toks)
		switch s.state {
		case stTerm, stAfterField:
			if s.state == stAfterField && s.operator() {
				break
			}
			switch {
			case c == '(':
				depth++
				if depth > maxNesting {
					return nil, nil, &SyntaxError{Column: s.pos + 1, Msg: fmt.Sprintf("parentheses nested deeper than %d", maxNesting)}
				}
				s.emit(tokLParen, s.pos+1)
				s.state = stTerm
			case c == ')':
				depth--
				s.emit(tokRParen, s.pos+1)
				s.state = stTerm
			case isIdentStart(c):
				s.field()
			default:
				// Run up to a delimiter so that the message quotes a
				// meaningful chunk ("~" or "=bash").
				end := s.scanWhile(s.pos, func(c byte) bool { return !isSpace(c) && c != '(' && c != ')' })
				s.bad(end, "")
			}
		case stValue:
			switch c {
			case '(':
				s.emit(tokListOpen, s.pos+1)
				s.state = stList
			case ')':
				depth--
				s.emit(tokRParen, s.pos+1)
				s.state = stTerm
			case ',':
				s.bad(s.pos+1, "")
			default:
				s.value(false)
			}
		case stList:
			switch c {
			case ',':
				s.emit(tokComma, s.pos+1)
			case ')':
				s.emit(tokListClose, s.pos+1)
				s.state = stTerm
			case '(':
				s.bad(s.pos+1, `unexpected "(" inside a value list (quote the value if it starts with "(")`)
			default:
				s.value(true)
			}
		}
		if t := s.toks[n]; t.Type == tokKeyword && t.Value == "not" {
			nots++
			if nots > maxNesting {
				return nil, nil, &SyntaxError{Column: t.Pos.Column, Msg: fmt.Sprintf(`more than %d consecutive "not"`, maxNesting)}
			}
		} else {
			nots = 0
		}
	}
}

// operator lexes an operator after a field, if there is one.
func (s *scanner) operator() bool {
	rest := s.src[s.pos:]
	for _, op := range symbolicOps {
		if strings.HasPrefix(rest, op) {
			s.emit(tokOp, s.pos+len(op))
			s.state = stValue
			return true
		}
	}
	end := s.scanWhile(s.pos, isIdentChar)
	t, ok := wordOps[s.src[s.pos:end]]
	if !ok {
		return false
	}
	s.emit(t, end)
	s.state = stValue
	if t == tokUnary {
		s.state = stTerm
	}
	return true
}

// field lexes a keyword, or a field/identifier with its optional bracket
// argument ("proc.aname[2]", "evt.type[x y]").
func (s *scanner) field() {
	end := s.scanWhile(s.pos, isIdentChar)
	if isKeyword(s.src[s.pos:end]) {
		s.emit(tokKeyword, end)
		s.state = stTerm
		return
	}
	if end < len(s.src) && s.src[end] == '[' {
		close := strings.IndexByte(s.src[end:], ']')
		if close < 0 {
			s.bad(len(s.src), fmt.Sprintf(`missing "]" after the argument of field %q`, s.src[s.pos:end]))
			return
		}
		end += close + 1
	}
	s.emit(tokField, end)
	s.state = stAfterField
}

// tokenLexer replays already lexed tokens to participle.
type tokenLexer struct{ toks []lexer.Token }

func (l *tokenLexer) Next() (lexer.Token, error) {
	t := l.toks[0]
	if len(l.toks) > 1 {
		l.toks = l.toks[1:]
	}
	return t, nil
}

// lexDef makes the scanner a participle lexer.Definition (participle needs
// the token names to build the grammar).
type lexDef struct{}

func (lexDef) Symbols() map[string]lexer.TokenType { return tokenNames }

func (lexDef) Lex(_ string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	toks, _, err := lex(string(b))
	if err != nil {
		return nil, err
	}
	return &tokenLexer{toks}, nil
}

// --- grammar ---------------------------------------------------------------

// Precedence, loosest first: or, and, not; parentheses group.
type gOr struct {
	Left  *gAnd   `parser:"@@"`
	Right []*gAnd `parser:"( \"or\":Keyword @@ )*"`
}

type gAnd struct {
	Pos   lexer.Position
	Left  *gNot   `parser:"@@"`
	Right []*gNot `parser:"( \"and\":Keyword @@ )*"`
}

type gNot struct {
	Pos  lexer.Position
	Not  *gNot  `parser:"  \"not\":Keyword @@"`
	Term *gTerm `parser:"| @@"`
}

type gTerm struct {
	Group *gOr    `parser:"  LParen @@ RParen"`
	Check *gCheck `parser:"| @@"`
}

// gCheck is a comparison, or a bare identifier when Cond is nil.
type gCheck struct {
	Pos   lexer.Position
	Field string `parser:"@Field"`
	Cond  *gCond `parser:"@@?"`
}

type gCond struct {
	Unary  string      `parser:"  @Unary"`
	ListOp string      `parser:"| @ListOp"`
	Values *gListValue `parser:"  @@"`
	Op     string      `parser:"| @Op"`
	Value  *gScalar    `parser:"  @@"`
}

// gListValue is the operand of in/intersects/pmatch: a list, or one value.
type gListValue struct {
	Pos    lexer.Position
	List   bool       `parser:"(  @ListOpen"`
	Items  []*gScalar `parser:"   ( @@ ( Comma? @@ )* )? ListClose"`
	Single *gScalar   `parser:"| @@ )"`
}

type gScalar struct {
	Pos    lexer.Position
	Word   *string `parser:"  @Word"`
	Quoted *string `parser:"| @String"`
}

// The grammar is LL(1): the first token of every alternative and optional
// part decides it. Lookahead 0 makes participle commit to a branch once it
// has consumed a token, so an error is reported where it occurs (at ")" in
// "(a=)") instead of after backtracking to the start of the branch (at "=").
var grammar = participle.MustBuild[gOr](participle.Lexer(lexDef{}), participle.UseLookahead(0))

// --- AST -----------------------------------------------------------------

// Parse parses a sysdig/Falco filter expression. Errors are *SyntaxError. "and" binds tighter
// than "or", as in Falco's rule conditions.
func Parse(s string) (Expr, error) {
	return parse(s, false)
}

// ParseStrict parses a filter as sysdig 0.29.3's command line does: "and" and "or" mixed at
// one level without brackets are refused as ambiguous.
func ParseStrict(s string) (Expr, error) {
	return parse(s, true)
}

func parse(s string, strict bool) (Expr, error) {
	toks, why, err := lex(s)
	if err != nil {
		return nil, err
	}
	peek, err := lexer.Upgrade(&tokenLexer{toks})
	if err != nil {
		return nil, &SyntaxError{Column: 1, Msg: err.Error()}
	}
	g, err := grammar.ParseFromLexer(peek)
	if err != nil {
		return nil, describeError(err, toks, why)
	}
	if strict {
		if col := mixedColumn(g); col > 0 {
			return nil, &SyntaxError{Column: col, Msg: "expression mixes 'and' and 'or' in an ambiguous way. Please use brackets."}
		}
	}
	return buildOr(g)
}

// mixedColumn finds an "or" whose operands contain an unbracketed "and", returning the column
// where that operand starts (0: none). Bracketed groups are checked on their own.
func mixedColumn(g *gOr) int {
	ands := append([]*gAnd{g.Left}, g.Right...)
	for _, a := range ands {
		if len(g.Right) > 0 && len(a.Right) > 0 {
			return a.Pos.Column
		}
		for _, n := range append([]*gNot{a.Left}, a.Right...) {
			for n.Not != nil {
				n = n.Not
			}
			if n.Term != nil && n.Term.Group != nil {
				if c := mixedColumn(n.Term.Group); c > 0 {
					return c
				}
			}
		}
	}
	return 0
}

func buildOr(g *gOr) (Expr, error) {
	x, err := buildAnd(g.Left)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		y, err := buildAnd(r)
		if err != nil {
			return nil, err
		}
		x = &BoolOp{Op: "or", X: x, Y: y, Column: x.Pos()}
	}
	return x, nil
}

func buildAnd(g *gAnd) (Expr, error) {
	x, err := buildNot(g.Left)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		y, err := buildNot(r)
		if err != nil {
			return nil, err
		}
		x = &BoolOp{Op: "and", X: x, Y: y, Column: x.Pos()}
	}
	return x, nil
}

func buildNot(g *gNot) (Expr, error) {
	if g.Not != nil {
		x, err := buildNot(g.Not)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Column: g.Pos.Column}, nil
	}
	if g.Term.Group != nil {
		return buildOr(g.Term.Group)
	}
	return buildCheck(g.Term.Check)
}

func buildCheck(g *gCheck) (Expr, error) {
	name, arg, hasArg := g.Field, "", false
	if i := strings.IndexByte(name, '['); i >= 0 {
		name, arg, hasArg = name[:i], name[i+1:len(name)-1], true
	}
	if g.Cond == nil {
		if hasArg {
			// Ident has no argument: a macro cannot take one, and a
			// field needs an operator.
			return nil, &SyntaxError{Column: g.Pos.Column + len(g.Field),
				Msg: fmt.Sprintf("expected an operator after %q", g.Field)}
		}
		return &Ident{Name: name, Column: g.Pos.Column}, nil
	}
	c := &Compare{Field: name, Arg: arg, HasArg: hasArg, Column: g.Pos.Column}
	switch cond := g.Cond; {
	case cond.Unary != "":
		c.Op = cond.Unary
	case cond.Op != "":
		c.Op = cond.Op
		c.Values = []string{cond.Value.text()}
		c.ValueColumn = cond.Value.Pos.Column
	default:
		c.Op = cond.ListOp
		c.ValueColumn = cond.Values.Pos.Column
		if cond.Values.List {
			c.List = true
			c.Values = make([]string, 0, len(cond.Values.Items))
			for _, it := range cond.Values.Items {
				c.Values = append(c.Values, it.text())
			}
		} else {
			c.Values = []string{cond.Values.Single.text()}
		}
	}
	// Operators are lexed case-sensitively, so they already are lower-case.
	return c, nil
}

// text returns the value with quotes removed and \", \' and \\ unescaped;
// other backslashes are kept, so '\d' stays \d for glob/regex-like values.
func (g *gScalar) text() string {
	if g.Word != nil {
		return *g.Word
	}
	q := *g.Quoted
	q = q[1 : len(q)-1]
	if strings.IndexByte(q, '\\') < 0 {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' && i+1 < len(q) && (q[i+1] == '"' || q[i+1] == '\'' || q[i+1] == '\\') {
			i++
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// --- errors --------------------------------------------------------------

// describeError turns a participle error into a SyntaxError that says what
// was expected. The grammar is LL(1), so the error is at the first token
// that does not fit, and the token before it tells what was expected.
func describeError(err error, toks []lexer.Token, why map[int]string) error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &SyntaxError{Column: 1, Msg: err.Error()}
	}
	off := perr.Position().Offset
	i := 0
	for i < len(toks)-1 && toks[i].Pos.Offset < off {
		i++
	}
	if toks[i].Pos.Offset != off {
		return &SyntaxError{Column: off + 1, Msg: perr.Message()}
	}
	t := toks[i]
	col := t.Pos.Column
	errf := func(format string, args ...any) error {
		return &SyntaxError{Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	if w, ok := why[i]; ok {
		return errf("%s", w)
	}
	const termStart = `a field, a macro name, "not" or "("`
	if i == 0 {
		if t.EOF() {
			return errf("empty filter")
		}
		return errf("expected %s %s", termStart, near(t))
	}
	p := toks[i-1]
	switch p.Type {
	case tokKeyword, tokLParen:
		return errf("expected %s after %q %s", termStart, p.Value, near(t))
	case tokOp:
		if t.Type == tokListOpen {
			return errf("operator %q takes a single value, not a list", p.Value)
		}
		return errf("expected a value after %q %s", p.Value, near(t))
	case tokListOp:
		return errf("expected a value or a list after %q %s", p.Value, near(t))
	case tokField:
		if t.EOF() {
			// Cannot happen: a lone field is an identifier.
			break
		}
		if t.Type == tokBad || t.Type == tokField {
			return errf(`unknown operator %q after %q; expected a comparison operator, "and", "or" or ")"`, t.Value, p.Value)
		}
		return errf(`expected an operator, "and", "or" or ")" after %q %s`, p.Value, near(t))
	case tokListOpen, tokComma:
		if t.EOF() {
			return errf(`unterminated list: expected ")" %s`, near(t))
		}
		return errf(`expected a list item after %q %s`, p.Value, near(t))
	}
	// p ended a term (or is a list item). Find what is still open.
	var groups []lexer.Token
	inList := false
	for _, q := range toks[:i] {
		switch q.Type {
		case tokLParen:
			groups = append(groups, q)
		case tokRParen:
			if len(groups) > 0 {
				groups = groups[:len(groups)-1]
			}
		case tokListOpen:
			inList = true
		case tokListClose:
			inList = false
		}
	}
	switch {
	case inList && t.EOF():
		return errf(`unterminated list: expected ")" %s`, near(t))
	case inList:
		return errf(`expected ",", a list item or ")" %s`, near(t))
	case t.EOF() && len(groups) > 0:
		open := groups[len(groups)-1]
		col = open.Pos.Column
		return errf(`unbalanced parentheses: "(" at column %d is not closed`, col)
	case t.Type == tokRParen && len(groups) == 0:
		return errf(`unbalanced parentheses: unexpected ")"`)
	case len(groups) > 0:
		return errf(`expected "and", "or" or ")" %s`, near(t))
	default:
		return errf(`expected "and", "or" or end of filter %s`, near(t))
	}
}

// near quotes the offending token for a message, shortened if long.
func near(t lexer.Token) string {
	if t.EOF() {
		return "at end of filter"
	}
	v := t.Value
	if len(v) > 24 {
		v = v[:24] + "..."
	}
	return fmt.Sprintf("near %q", v)
}

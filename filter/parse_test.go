package filter

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// sexpr prints the shape of an AST compactly for table tests:
// (and X Y), (not X), (OP field[arg] "value"), (in field ["a" "b"]),
// (exists field), ident. Values are %q-quoted, so it is unambiguous.
func sexpr(e Expr) string {
	switch e := e.(type) {
	case *BoolOp:
		return fmt.Sprintf("(%s %s %s)", e.Op, sexpr(e.X), sexpr(e.Y))
	case *Not:
		return fmt.Sprintf("(not %s)", sexpr(e.X))
	case *Compare:
		f := e.Field
		if e.HasArg {
			f += "[" + e.Arg + "]"
		}
		if e.Op == "exists" {
			return fmt.Sprintf("(exists %s)", f)
		}
		var vs []string
		for _, v := range e.Values {
			vs = append(vs, fmt.Sprintf("%q", v))
		}
		if e.List {
			return fmt.Sprintf("(%s %s [%s])", e.Op, f, strings.Join(vs, " "))
		}
		return fmt.Sprintf("(%s %s %s)", e.Op, f, strings.Join(vs, " "))
	case *Ident:
		return e.Name
	}
	return fmt.Sprintf("<%T>", e)
}

// withoutColumns returns a deep copy of e with all columns zeroed, to
// compare ASTs parsed from differently laid out text.
func withoutColumns(e Expr) Expr {
	switch e := e.(type) {
	case *BoolOp:
		return &BoolOp{Op: e.Op, X: withoutColumns(e.X), Y: withoutColumns(e.Y)}
	case *Not:
		return &Not{X: withoutColumns(e.X)}
	case *Compare:
		c := *e
		c.Column, c.ValueColumn = 0, 0
		return &c
	case *Ident:
		return &Ident{Name: e.Name}
	}
	return e
}

func TestParseValid(t *testing.T) {
	tests := []struct{ in, want string }{
		// The filters from sysdig's documentation and chisels.
		{`proc.name=bash and container.id!=host`,
			`(and (= proc.name "bash") (!= container.id "host"))`},
		{`evt.type in (open, openat, close) and evt.dir=<`,
			`(and (in evt.type ["open" "openat" "close"]) (= evt.dir "<"))`},
		{`fd.typechar=f and evt.is_io=true`,
			`(and (= fd.typechar "f") (= evt.is_io "true"))`},
		{`not evt.type in (mmap, brk, mprotect, munmap, switch) and proc.name contains a`,
			`(and (not (in evt.type ["mmap" "brk" "mprotect" "munmap" "switch"])) (contains proc.name "a"))`},
		{`(evt.type=open or evt.type=openat) and not fd.name glob '/lib/*'`,
			`(and (or (= evt.type "open") (= evt.type "openat")) (not (glob fd.name "/lib/*")))`},
		{`fd.num >= 3 and fd.num < 6 and evt.rawarg.res != 0`,
			`(and (and (>= fd.num "3") (< fd.num "6")) (!= evt.rawarg.res "0"))`},
		{`fd.name icontains LOCALE or fd.name pmatch (/tmp, /var)`,
			`(or (icontains fd.name "LOCALE") (pmatch fd.name ["/tmp" "/var"]))`},
		{`evt.arg.fd exists and evt.dir=>`,
			`(and (exists evt.arg.fd) (= evt.dir ">"))`},
		{`evt.dir=< and evt.latency > 5000`,
			`(and (= evt.dir "<") (> evt.latency "5000"))`},
		{`proc.aname[2]=bash`, `(= proc.aname[2] "bash")`},
		{`fd.directory in (/bin, /sbin, /usr/bin, /usr/sbin) and evt.type=write`,
			`(and (in fd.directory ["/bin" "/sbin" "/usr/bin" "/usr/sbin"]) (= evt.type "write"))`},
		{`(evt.type = creat or evt.arg.flags contains O_CREAT) and proc.name != blkid and fd.directory = /dev and fd.name != /dev/null`,
			`(and (and (and (or (= evt.type "creat") (contains evt.arg.flags "O_CREAT")) (!= proc.name "blkid")) (= fd.directory "/dev")) (!= fd.name "/dev/null"))`},
		{`fd.sip=127.0.0.1 and fd.net=10.0.0.0/8`,
			`(and (= fd.sip "127.0.0.1") (= fd.net "10.0.0.0/8"))`},
		{`evt.type = setns and not proc.name in (docker, sysdig)`,
			`(and (= evt.type "setns") (not (in proc.name ["docker" "sysdig"])))`},

		// Precedence: not > and > or; chains are left-associative.
		{`a=1 or b=2 and c=3`, `(or (= a "1") (and (= b "2") (= c "3")))`},
		{`a=1 and b=2 or c=3`, `(or (and (= a "1") (= b "2")) (= c "3"))`},
		{`a=1 or b=2 or c=3`, `(or (or (= a "1") (= b "2")) (= c "3"))`},
		{`a=1 or (b=2 or c=3)`, `(or (= a "1") (or (= b "2") (= c "3")))`},
		{`not a=1 and b=2`, `(and (not (= a "1")) (= b "2"))`},
		{`not (a=1 and b=2)`, `(not (and (= a "1") (= b "2")))`},
		{`not not a=1`, `(not (not (= a "1")))`},
		{`a=1 and not b=2 or not c=3`, `(or (and (= a "1") (not (= b "2"))) (not (= c "3")))`},
		{`((a=1))`, `(= a "1")`},
		// sysdig allows a keyword directly before "(".
		{`not(a=1)and(b=2)or(c=3)`, `(or (and (not (= a "1")) (= b "2")) (= c "3"))`},

		// Identifiers: Falco macro and list references.
		{`spawned_process and container`, `(and spawned_process container)`},
		{`not never_true`, `(not never_true)`},
		{`open_write and not (fd.name startswith /dev or user_known_write)`,
			`(and open_write (not (or (startswith fd.name "/dev") user_known_write)))`},
		{`proc.name in (shell_binaries)`, `(in proc.name ["shell_binaries"])`},
		{`proc.name in shell_binaries`, `(in proc.name "shell_binaries")`},
		// Operator words are operators only after a field.
		{`in and exists or contains`, `(or (and in exists) contains)`},
		{`in in (in)`, `(in in ["in"])`},
		{`glob = glob`, `(= glob "glob")`},
		// Keywords and operators are case-sensitive: these are identifiers.
		{`AND`, `AND`},
		{`Not`, `Not`},

		// All operators.
		{`a==1`, `(== a "1")`},
		{`a<=1`, `(<= a "1")`},
		{`a>1`, `(> a "1")`},
		{`a bcontains 2f2f`, `(bcontains a "2f2f")`},
		{`a bstartswith 7f454c46`, `(bstartswith a "7f454c46")`},
		{`a endswith .so`, `(endswith a ".so")`},
		{`a intersects (x, y)`, `(intersects a ["x" "y"])`},

		// Values.
		{`fd.name=<NA>`, `(= fd.name "<NA>")`},
		{`fd.name = 127.0.0.1:80`, `(= fd.name "127.0.0.1:80")`},
		{`evt.res=-1`, `(= evt.res "-1")`},
		{`fd.name glob *.so`, `(glob fd.name "*.so")`},
		{`evt.dir=<=`, `(= evt.dir "<=")`},
		{`a>==`, `(>= a "=")`},
		{`a = =b`, `(= a "=b")`},
		{`a=f(x`, `(= a "f(x")`},
		{`a=it's`, `(= a "it's")`},
		{`a=C:\dir`, `(= a "C:\\dir")`},
		{`a = "two words"`, `(= a "two words")`},
		{`a = 'single'`, `(= a "single")`},
		{`a = ""`, `(= a "")`},
		{`a = "and"`, `(= a "and")`},
		{`a = "q\"q" or b = 'q\'q' or c = "b\\s"`, `(or (or (= a "q\"q") (= b "q'q")) (= c "b\\s"))`},
		{`a = "\d"`, `(= a "\\d")`},
		{`a = "x)y,z"`, `(= a "x)y,z")`},

		// Lists.
		{`a in ()`, `(in a [])`},
		{`a in ( )`, `(in a [])`},
		{`a in (x)`, `(in a ["x"])`},
		{`a in (x y z)`, `(in a ["x" "y" "z"])`},
		{`a in (x,y , z)`, `(in a ["x" "y" "z"])`},
		{`a in ("x y", 'z', w)`, `(in a ["x y" "z" "w"])`},
		{`a in (and, or, not)`, `(in a ["and" "or" "not"])`},
		{`a in (<,>)`, `(in a ["<" ">"])`},
		{"a in (x,\n\ty)", `(in a ["x" "y"])`},

		// Field arguments.
		{`evt.arg[0] = 3`, `(= evt.arg[0] "3")`},
		{`evt.type[x y]=1`, `(= evt.type[x y] "1")`},
		{`a[] exists`, `(exists a[])`},
		{`k.image[0] in (x)`, `(in k.image[0] ["x"])`},

		// Whitespace.
		{"  \tproc.name\n=\r\nbash  ", `(= proc.name "bash")`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := sexpr(e); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		// Canonical text must parse back to the same tree.
		f := Format(e)
		e2, err := Parse(f)
		if err != nil {
			t.Errorf("Parse(Format(%q)) = Parse(%q): %v", tt.in, f, err)
			continue
		}
		if !reflect.DeepEqual(withoutColumns(e), withoutColumns(e2)) {
			t.Errorf("Format(%q) = %q parses as %s", tt.in, f, sexpr(e2))
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		col int
		msg string
	}{
		{``, 1, `empty filter`},
		{`   `, 4, `empty filter`},
		{`proc.name=`, 11, `expected a value after "=" at end of filter`},
		{`proc.name = and x=1`, 13, `expected a value after "=" near "and"`},
		{`proc.name=bash and`, 19, `expected a field, a macro name, "not" or "(" after "and" at end of filter`},
		{`proc.name=bash or or x`, 19, `after "or" near "or"`},
		{`not`, 4, `after "not" at end of filter`},
		{`proc.name ~ x`, 11, `unknown operator "~" after "proc.name"`},
		{`proc.name like x`, 11, `unknown operator "like" after "proc.name"`},
		{`proc.name CONTAINS x`, 11, `unknown operator "CONTAINS"`},
		{`proc.name=bash AND x=1`, 16, `expected "and", "or" or end of filter near "AND"`},
		{`proc.name=bash x=1`, 16, `expected "and", "or" or end of filter near "x"`},
		{`(proc.name=bash x=1)`, 17, `expected "and", "or" or ")" near "x"`},
		{`a exists b`, 10, `expected "and", "or" or end of filter near "b"`},
		{`(a=1`, 1, `unbalanced parentheses: "(" at column 1 is not closed`},
		{`(a=1 and (b=2)`, 1, `"(" at column 1 is not closed`},
		{`a=1)`, 4, `unbalanced parentheses: unexpected ")"`},
		{`(a=1))`, 6, `unbalanced parentheses: unexpected ")"`},
		{`()`, 2, `expected a field, a macro name, "not" or "(" after "(" near ")"`},
		{`(a=)`, 4, `expected a value after "=" near ")"`},
		{`a=,`, 3, `expected a value after "=" near ","`},
		{`= x`, 1, `expected a field, a macro name, "not" or "(" near "="`},
		{`a and 3=3`, 7, `near "3=3"`},
		{`a = (x)`, 5, `operator "=" takes a single value, not a list`},
		{`a contains (x, y)`, 12, `operator "contains" takes a single value`},
		{`a in`, 5, `expected a value or a list after "in" at end of filter`},
		{`a in (x`, 8, `unterminated list: expected ")" at end of filter`},
		{`a in (x,`, 9, `unterminated list`},
		{`a in (x,)`, 9, `expected a list item after "," near ")"`},
		{`a in (,x)`, 7, `expected a list item after "(" near ","`},
		{`a in (x,,y)`, 9, `expected a list item after "," near ","`},
		{`a in ((x))`, 7, `unexpected "(" inside a value list`},
		{`a in (x) y`, 10, `expected "and", "or" or end of filter near "y"`},
		{`a = 'x`, 5, `unterminated quoted string`},
		{`a = "x\"`, 5, `unterminated quoted string`},
		{`a in ("x)`, 7, `unterminated quoted string`},
		{`proc.aname[2`, 1, `missing "]" after the argument of field "proc.aname"`},
		{`proc.aname[2]`, 14, `expected an operator after "proc.aname[2]"`},
		{`a=1 and b[x] or c=1`, 13, `expected an operator after "b[x]"`},
		{`a b`, 3, `unknown operator "b" after "a"`},
		{`a (b)`, 3, `expected an operator, "and", "or" or ")" after "a" near "("`},
		{strings.Repeat("(", maxNesting+1) + "a" + strings.Repeat(")", maxNesting+1), maxNesting + 1, `nested deeper than`},
		{strings.Repeat("not ", maxNesting+1) + "a", maxNesting*4 + 1, `consecutive "not"`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error", tt.in, sexpr(e))
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T %v, want *SyntaxError", tt.in, err, err)
			continue
		}
		if se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %v\nwant column %d, message containing %q", tt.in, err, tt.col, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("filter error at column %d: ", se.Column)) {
			t.Errorf("Parse(%q): Error() = %q", tt.in, err.Error())
		}
	}
}

func TestParseColumns(t *testing.T) {
	//          1234567890123456789012345678901234567890
	const in = `(a = x or not b) and c in ( y ) and d exists`
	e, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	and2 := e.(*BoolOp)
	and1 := and2.X.(*BoolOp)
	or := and1.X.(*BoolOp)
	a := or.X.(*Compare)
	not := or.Y.(*Not)
	b := not.X.(*Ident)
	c := and1.Y.(*Compare)
	d := and2.Y.(*Compare)
	for _, tt := range []struct {
		name      string
		got, want int
	}{
		{"and2", and2.Pos(), 2}, // a BoolOp starts at its left operand, inside "("
		{"and1", and1.Pos(), 2},
		{"or", or.Pos(), 2},
		{"a", a.Pos(), 2},
		{"a value", a.ValueColumn, 6},
		{"not", not.Pos(), 11},
		{"b", b.Pos(), 15},
		{"c", c.Pos(), 22},
		{"c list", c.ValueColumn, 27},
		{"d", d.Pos(), 37},
		{"d value", d.ValueColumn, 0},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: column %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{`proc.name=bash and container.id!=host`, `proc.name = bash and container.id != host`},
		{`(a=1 or b=2) and (c=3 or d=4)`, `(a = 1 or b = 2) and (c = 3 or d = 4)`},
		{`a=1 or (b=2 or c=3)`, `a = 1 or (b = 2 or c = 3)`},
		{`(a=1 or b=2) or c=3`, `a = 1 or b = 2 or c = 3`},
		{`a=1 and (b=2 and c=3)`, `a = 1 and (b = 2 and c = 3)`},
		{`not (a=1 or b) and not not c`, `not (a = 1 or b) and not not c`},
		{`a in (x,y,'z w')`, `a in (x, y, "z w")`},
		{`a in ()`, `a in ()`},
		{`a in x`, `a in x`},
		{`a = 'and'`, `a = "and"`},
		{`a = ''`, `a = ""`},
		{`a = 'say "hi"\\'`, `a = "say \"hi\"\\"`},
		{`a = 'x,y'`, `a = "x,y"`},
		{`a[x y] exists`, `a[x y] exists`},
		{`evt.dir=<`, `evt.dir = <`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := Format(e); got != tt.want {
			t.Errorf("Format(Parse(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

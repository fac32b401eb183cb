package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that errors are *SyntaxError
// with a column inside the text, that node columns point at the node's
// text, and that Format prints text which parses back to the same tree.
// Interesting inputs found by the fuzzer are kept in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`proc.name=bash and container.id!=host`,
		`evt.type in (open, openat, close) and evt.dir=<`,
		`not evt.type in (mmap, brk) and proc.name contains a`,
		`(evt.type=open or evt.type=openat) and not fd.name glob '/lib/*'`,
		`fd.num >= 3 and fd.num < 6 and evt.rawarg.res != 0`,
		`evt.arg.fd exists and evt.dir=>`,
		`proc.aname[2]=bash`,
		`evt.type[x y] = "a \"b\" c\\" or x in ('and', "", (a)`,
		`spawned_process and not (container or a pmatch (/tmp /var))`,
		`a in ()`,
		`(a=)`,
		`proc.name ~ x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", s, err, err)
			}
			if se.Column < 1 || se.Column > len(s)+1 || se.Msg == "" {
				t.Fatalf("Parse(%q) = %v: column outside the text or empty message", s, err)
			}
			return
		}
		checkColumns(t, s, e)
		text := Format(e)
		e2, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse(Format) = Parse(%q): %v", s, text, err)
		}
		if !reflect.DeepEqual(withoutColumns(e), withoutColumns(e2)) {
			t.Fatalf("Parse(%q) = %s\nFormat = %q parses as %s", s, sexpr(e), text, sexpr(e2))
		}
		if text2 := Format(e2); text2 != text {
			t.Fatalf("Format not canonical: %q then %q", text, text2)
		}
	})
}

// checkColumns checks that each node's column points at its text in s.
func checkColumns(t *testing.T, s string, e Expr) {
	t.Helper()
	at := func(col int) string {
		if col < 1 || col > len(s) {
			t.Fatalf("Parse(%q): column %d outside the text in %s", s, col, sexpr(e))
		}
		return s[col-1:]
	}
	switch n := e.(type) {
	case *BoolOp:
		if n.Column != n.X.Pos() {
			t.Fatalf("Parse(%q): %s starts at %d, its left operand at %d", s, sexpr(n), n.Column, n.X.Pos())
		}
		checkColumns(t, s, n.X)
		checkColumns(t, s, n.Y)
	case *Not:
		if !strings.HasPrefix(at(n.Column), "not") {
			t.Fatalf("Parse(%q): not at column %d", s, n.Column)
		}
		checkColumns(t, s, n.X)
	case *Compare:
		if !strings.HasPrefix(at(n.Column), n.Field) {
			t.Fatalf("Parse(%q): field %q at column %d", s, n.Field, n.Column)
		}
		if n.Op != "exists" {
			at(n.ValueColumn)
		}
	case *Ident:
		if !strings.HasPrefix(at(n.Column), n.Name) {
			t.Fatalf("Parse(%q): identifier %q at column %d", s, n.Name, n.Column)
		}
	default:
		t.Fatalf("Parse(%q): unexpected node %T", s, e)
	}
}

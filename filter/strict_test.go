package filter

import (
	"strings"
	"testing"
)

// sysdig 0.29.3's command line refuses "and" and "or" mixed without brackets; Falco-style
// conditions give "and" the higher precedence.
func TestParseStrictMixing(t *testing.T) {
	for _, tc := range []struct {
		f   string
		bad bool
	}{
		{"a=1 or b=2 and c=3", true},
		{"a=1 and b=2 or c=3", true},
		{"(a=1 or b=2) and c=3", false},
		{"a=1 or (b=2 and c=3)", false},
		{"a=1 and b=2 and c=3", false},
		{"a=1 or b=2 or c=3", false},
		{"not a=1 and b=2", false},
		{"x=1 and (a=1 or b=2 and c=3)", true},
		{"not (a=1 or b=2 and c=3)", true},
	} {
		_, err := ParseStrict(tc.f)
		if tc.bad != (err != nil) {
			t.Errorf("%q: error %v, want error %v", tc.f, err, tc.bad)
		}
		if err != nil && !strings.Contains(err.Error(), "ambiguous") {
			t.Errorf("%q: %v", tc.f, err)
		}
		if _, err := Parse(tc.f); err != nil {
			t.Errorf("%q: Falco-style parse failed: %v", tc.f, err)
		}
	}
}

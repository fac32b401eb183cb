package output

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// Expected bytes are sysdig 0.29.3's -j output for the same names (see
// cmd/gosysdig TestHostileNamesLiveAndReplay, which compares whole lines with sysdig).
func TestJSONStringAsJsoncpp(t *testing.T) {
	for in, want := range map[string]string{
		"a\xffb":                `"a\ufffdb"`,
		"caf\xc3\xa9":           `"caf\u00e9"`,
		"c\x80d":                `"c\ufffd"`, // lone continuation byte read as a 2-byte lead
		"e\xc3 ":                `"e\u00e0"`,
		"e\xc3":                 `"e\ufffd"`,
		"g\xf0\x9f\x98\x80":     `"g\ud83d\ude00"`,
		"j\xed\xa0\x80":         `"j\ufffd"`,
		"k\xf7\xbf\xbf\xbf":     `"k\udbbf\udfff"`,
		"l\x7f\x01":             "\"l\x7f\\u0001\"",
		"n\nl\t\"\\/\b\f\r\x1b": `"n\nl\t\"\\/\b\f\r\u001b"`,
	} {
		got := string(AppendJSONString(nil, in))
		if got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
		if b := string(AppendJSONBytes(nil, []byte(in))); b != got {
			t.Errorf("%q: bytes form %s differs from string form %s", in, b, got)
		}
		if !json.Valid([]byte(got)) || !utf8.ValidString(got) {
			t.Errorf("%q: %s is not valid JSON", in, got)
		}
	}
}

// Any bytes at all give valid JSON.
func FuzzJSONString(f *testing.F) {
	f.Add([]byte("a\xffb\xc3"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendJSONBytes(nil, s)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("%q -> %s", s, out)
		}
	})
}

func TestJSONStringAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 256)
	in := []byte("caf\xc3\xa9 \xff\xf0\x9f\x98\x80 \n")
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSONBytes(buf[:0], in) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

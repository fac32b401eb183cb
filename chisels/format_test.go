package chisels

import (
	"bytes"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestLuaCompat checks the places where sysdig's Lua (LuaJIT, Lua 5.1) and gopher-lua differ and
// the runtime replaces gopher-lua's behaviour.
func TestLuaCompat(t *testing.T) {
	var out bytes.Buffer
	c := &Chisel{cfg: &Config{Out: &out}}
	c.L = lua.NewState()
	defer c.L.Close()
	c.installLibs()
	code := `
print(string.format("%.2f|%8.2f|%-8.2f|%08.3f|%.2f%%", 7.125, 90.625, -1.005, 3.14159, 99.995))
print(string.format("%d|%5d|%-5d|%u|%.9u|%02u|%x|%s|%10s|%-4s|%.3s|%q", 3.7, 42, 42, 7, 5, 3.9, 255, 1.5, "ab", "x", "abcdef", 'a"b'))
print(tostring(1/3), 1e15, 1e14, 0.1, 100, 2^53)
io.write("a", 1, "\n")
local t = {}
print(#t, type(pairs(t)))
local f = {}
for j = 0, 4 do f[j] = "a" .. j end
table.insert(f, 0, 0)
table.insert(f, 0, 0)
table.insert(f, 3, "x")
table.insert(f, "y")
print(#f, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8])
`
	if err := c.L.DoString(code); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"7.13|   90.63|-1.00   |0003.142|100.00%",
		`3|   42|42   |7|000000005|03|ff|1.5|        ab|x   |abc|"a\"b"`,
		"0.33333333333333\t1e+15\t100000000000000\t0.1\t100\t9.007199254741e+15",
		"a1",
		"0\tfunction",
		// LuaJIT moves t[#t]..t[pos] up for any position, 0 included (spy_users' fanames)
		"8\t0\t0\ta0\tx\ta1\ta2\ta3\ta4\ty",
		"",
	}, "\n")
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestLJOrder checks the LuaJIT traversal order emulation on small integer keys, where LuaJIT
// keeps keys 0..n in the array part (ascending) and the rest in the hash part.
func TestLJOrder(t *testing.T) {
	got := ljOrder([]int64{3, 1, 2, 0})
	want := []int64{0, 1, 2, 3}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	keys := []int64{1019, 634, 809, 1840, 830, 1803, 827, 936, 497, 415, 828, 826, 829}
	if o := ljOrder(keys); len(o) != len(keys) {
		t.Fatalf("lost keys: %v", o)
	}
}

// TestStdOrder checks the std::unordered_map emulation: with one bucket per key the iteration
// order is the reverse of the insertion order for keys in distinct buckets.
func TestStdOrder(t *testing.T) {
	got := stdOrder([]int64{1, 2, 3})
	want := []int64{3, 2, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

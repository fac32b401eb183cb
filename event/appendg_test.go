package event

import (
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAppendGMatchesCPrintf checks appendG against what C's printf("%g") prints (the table was
// produced by glibc's printf; issue 11: 2e-05, not 2e-005).
func TestAppendGMatchesCPrintf(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{2e-5, "2e-05"}, {1, "1"}, {0, "0"}, {100, "100"}, {123456, "123456"},
		{1234567, "1.23457e+06"}, {0.0001, "0.0001"}, {0.00012345678, "0.000123457"},
		{1.5e10, "1.5e+10"}, {1e100, "1e+100"}, {3.14159265, "3.14159"}, {0.1, "0.1"},
		{1e-300, "1e-300"}, {999999.5, "1e+06"}, {2.5e-7, "2.5e-07"}, {60, "60"},
		{0.000999, "0.000999"}, {12.5, "12.5"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	} {
		if got := string(appendG([]byte("x="), tc.v)); got != "x="+tc.want {
			t.Errorf("appendG(%v) = %q, want %q", tc.v, got, "x="+tc.want)
		}
	}
}

// TestAppendGAgainstCompiledC compares appendG with the C library's %g over random values of
// every magnitude, when a C compiler is at hand.
func TestAppendGAgainstCompiledC(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler: the fixed table in TestAppendGMatchesCPrintf still runs")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "g.c")
	prog := `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf("%g\n", strtod(argv[i], 0)); return 0; }
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "g")
	if out, err := exec.Command(cc, "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("cannot compile the C reference: %v\n%s", err, out)
	}
	r := rand.New(rand.NewSource(1))
	var vals []float64
	for i := 0; i < 2000; i++ {
		// Reltimes are ns/1e9: whole numbers of nanoseconds over many magnitudes, and some
		// values with 6- and 7-digit mantissas that round at the edge.
		ns := uint64(r.Int63n(1 << uint(r.Intn(62)+1)))
		vals = append(vals, float64(ns)/1e9, r.NormFloat64()*math.Pow(10, float64(r.Intn(40)-20)))
	}
	args := make([]string, len(vals))
	for i, v := range vals {
		args[i] = strconv.FormatFloat(v, 'g', -1, 64) // exact round trip through strtod
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(vals) {
		t.Fatalf("C printed %d lines for %d values", len(want), len(vals))
	}
	bad := 0
	for i, v := range vals {
		if got := string(appendG(nil, v)); got != want[i] && bad < 10 {
			bad++
			t.Errorf("appendG(%s) = %q, C's %%g = %q", args[i], got, want[i])
		}
	}
}

func TestAppendGAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = appendG(buf[:0], 2.5e-7) }); n != 0 {
		t.Errorf("appendG allocates %v times per call", n)
	}
}

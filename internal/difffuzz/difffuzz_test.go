package difffuzz

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const casesDir = "../../testdata/difffuzz"

// buildGosysdig builds the CLI from the tree into the test's temporary directory.
func buildGosysdig(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gosysdig")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/gosysdig")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building gosysdig: %v\n%s", err, b)
	}
	return bin
}

// needSysdig returns sysdig's path: without it the test skips outside CI and fails under CI.
func needSysdig(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sysdig")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sysdig 0.29.3 is required under CI: %v", err)
		}
		t.Skipf("sysdig not installed: skipping the differential fuzzer: %v", err)
	}
	return p
}

// TestGenerateDeterministic: a seed gives the same bytes every time.
func TestGenerateDeterministic(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		a, err := Generate(seed).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(seed).Bytes()
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: two different captures", seed)
		}
	}
}

// TestDiffFuzz generates captures for DIFFFUZZ_TIME (default 4m, so that make test and CI run it
// bounded: the fixed seeds take about 2; make difffuzz runs longer), compares sysdig 0.29.3 and gosysdig on each in every mode,
// and fails on any difference. The first seed of each kind of difference (Signature) is
// minimised and saved: under testdata/difffuzz when DIFFFUZZ_TIME is set (make difffuzz), else in
// a temporary directory the log names (a bounded run leaves the tree alone); DIFFFUZZ_SAVE
// overrides both. Minimisation shares the time budget.
// ciSeeds is how many fixed seeds make test replays.
const ciSeeds = 400

func TestDiffFuzz(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short: the differential fuzzer runs for minutes")
	}
	sysdig := needSysdig(t)
	budget := 4 * time.Minute
	save := ""
	if s := os.Getenv("DIFFFUZZ_TIME"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("DIFFFUZZ_TIME: %v", err)
		}
		budget, save = d, casesDir
	}
	if s := os.Getenv("DIFFFUZZ_SAVE"); s != "" {
		save = s
	}
	if save == "" {
		var err error
		if save, err = os.MkdirTemp("", "difffuzz-"); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(budget)
	bin := buildGosysdig(t)
	dir := t.TempDir()
	checkModes(t, sysdig, dir)
	// make test and CI replay a fixed range of seeds (every one identical to sysdig when it was
	// set: a difference there is a regression); make difffuzz (DIFFFUZZ_TIME) explores new
	// seeds from the clock, and still finds new kinds of difference every few hundred seeds.
	seed0, last := time.Now().UnixNano(), int64(math.MaxInt64)
	if os.Getenv("DIFFFUZZ_TIME") == "" {
		seed0, last = 1, ciSeeds
	}
	if s := os.Getenv("DIFFFUZZ_SEED"); s != "" {
		fmt.Sscan(s, &seed0)
	}
	var tried, refused, differs int
	kinds := map[string]int{}
	for seed := seed0; seed <= last && time.Now().Before(end); seed++ {
		r, err := Compare(sysdig, bin, dir, Generate(seed))
		if err != nil {
			t.Fatal(err)
		}
		tried++
		switch r.Outcome {
		case Refused:
			// A refused capture is wasted fuzzing: the generator steers around every cause
			// known (gen.go avoided, generate.go pair); a new one is worth a look.
			refused++
			if refused <= 3 {
				t.Logf("seed %d refused by sysdig (mode %d): %v", seed, r.Mode, r.Refusal)
			}
		case Differs:
			differs++
			sig := Signature(r)
			kinds[sig]++
			n, g, w := FirstDiff(r.Got, r.Want)
			if kinds[sig] > 1 {
				t.Errorf("seed %d: differs (%s, seen before), line %d\n got: %.300q\nwant: %.300q", seed, sig, n, g, w)
				continue
			}
			m := Minimize(sysdig, bin, dir, Generate(seed), r.Mode, end)
			name := fmt.Sprintf("%s_seed%d", sig, seed)
			if err := Save(sysdig, save, name, m, r.Mode); err != nil {
				t.Fatal(err)
			}
			t.Errorf("seed %d: differs (%s), line %d\n got: %.300q\nwant: %.300q\nminimised to %d events in %s",
				seed, sig, n, g, w, len(m.Events), filepath.Join(save, name))
		}
	}
	fig := fmt.Sprintf("difffuzz: seeds tried %d (from %d), sysdig-refused %d, compared %d, differences %d (%d kinds)",
		tried, seed0, refused, tried-refused, differs, len(kinds))
	t.Log(fig)
	fmt.Println(fig)
	for k, n := range kinds {
		fmt.Printf("difffuzz: %4d %s\n", n, k)
	}
}

// checkModes fails the run when sysdig refuses a mode on a plain capture: the modes' arguments
// are wrong (a filter-only field in Fields once made every capture a refusal).
func checkModes(t *testing.T, sysdig, dir string) {
	t.Helper()
	b := netBase()
	b.ev(4, i8(4)) // close enter
	b.ev(5, i8(0)) // close exit
	file, err := write(dir, b.c)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Modes {
		if _, err := Run(sysdig, file, m); err != nil {
			t.Fatalf("sysdig refuses mode %q on a plain capture: %v", m, err)
		}
	}
}

// TestDiffFuzzCases replays every saved case with gosysdig: its output must be sysdig's, saved
// with the case. No sysdig needed.
func TestDiffFuzzCases(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join(casesDir, "*", "capture.scap"))
	if len(cases) == 0 {
		t.Skip("no saved difffuzz cases")
	}
	bin := buildGosysdig(t)
	for _, f := range cases {
		d := filepath.Dir(f)
		t.Run(filepath.Base(d), func(t *testing.T) {
			if why, open := knownOpen[filepath.Base(d)]; open {
				t.Skip("open difference (issue 12): " + why)
			}
			a, err := os.ReadFile(filepath.Join(d, "args"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(d, "expected"))
			if err != nil {
				t.Fatal(err)
			}
			var args []string
			if s := strings.TrimSuffix(string(a), "\n"); s != "" {
				args = strings.Split(s, "\n")
			}
			got, _ := Run(bin, f, args)
			if !bytes.Equal(got, want) {
				n, g, w := FirstDiff(got, want)
				t.Errorf("gosysdig %v differs from sysdig 0.29.3's saved output: line %d\n got: %q\nwant: %q", args, n, g, w)
			}
		})
	}
}

// knownOpen are saved cases whose difference is not fixed yet, each with its cause: listed so
// that the fixed ones guard against regressions meanwhile. Remove an entry with its fix.
var knownOpen = map[string]string{}

// firstDiff renders FirstDiff for a test message.
func firstDiff(got, want []byte) string {
	i, g, w := FirstDiff(got, want)
	if i == 0 {
		return "(same lines)"
	}
	return fmt.Sprintf("line %d\n got: %q\nwant: %q", i, g, w)
}

package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRulesLoad feeds arbitrary YAML to the loader and compiler: no panic, errors are a
// *LoadError naming at least one problem, the engine builds on what loaded, and no input takes
// long (the expansion limits bound lists and macros). Interesting inputs found by the fuzzer
// are kept in testdata/fuzz/FuzzRulesLoad.
func FuzzRulesLoad(f *testing.F) {
	f.Add(DefaultRules)
	f.Add([]byte(listBomb()))
	f.Add([]byte(macroChain(24)))
	f.Add([]byte(distinctItems(50, 3000)))
	f.Add([]byte("- list: a\n  items: [b]\n- list: b\n  items: [a]\n"))
	f.Add([]byte("- macro: a\n  condition: b\n- macro: b\n  condition: a\n"))
	f.Add([]byte("- rule: r\n  desc: d\n  condition: evt.type=open\n  output: o %proc.name\n  priority: INFO\n" +
		"  exceptions:\n  - name: e\n    fields: [proc.name, fd.name]\n    comps: [=, in]\n    values: [[a, [b, c]]]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	for _, dir := range []string{"testdata", "testdata/invalid", "testdata/dir"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip("rules files past 64 KiB are not fuzzed: the limits under test are per item")
		}
		start := time.Now()
		// A hang never returns to the check below: the watchdog reports it with the input.
		wd := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("loading %d bytes takes more than 10 s: %q", len(data), data))
		})
		set, err := Load([]Source{{Name: "fuzz.yaml", Data: data}})
		wd.Stop()
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("loading %d bytes took %v", len(data), took)
		}
		if set == nil {
			t.Fatal("Load returned no Set")
		}
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Errors) == 0 || err.Error() == "" {
				t.Fatalf("error %T %v: want a *LoadError with at least one error", err, err)
			}
			return
		}
		eng := set.NewEngine(Selection{MinPriority: PriorityDebug, MatchAll: true})
		_ = eng.EventTypes()
		for _, r := range eng.Rules {
			_ = r.EventTypes()
		}
	})
}

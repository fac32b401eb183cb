package rules

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestLargeConditionsLoad: a 1,000-term condition, a 500-value exception and a 499-not
// condition load (issue 17 item 7 refused all three), within bounded time and memory; a quoted
// list item ('"10.0.0.0/8"', as Falco's rfc_1918_addresses) is compared unquoted.
func TestLargeConditionsLoad(t *testing.T) {
	var terms, vals []string
	for i := 0; i < 1000; i++ {
		terms = append(terms, fmt.Sprintf("proc.pid=%d", i))
	}
	for i := 0; i < 500; i++ {
		vals = append(vals, fmt.Sprintf("n%d", i))
	}
	yaml := fmt.Sprintf(`- list: nets
  items: ['"10.0.0.0/8"', "192.168.0.0/16"]
- rule: big
  desc: big
  condition: evt.type=open and (%s)
  output: x %%proc.name
  priority: WARNING
  exceptions:
    - name: names
      fields: proc.name
      comps: in
      values: [%s]
- rule: nots
  desc: nots
  condition: evt.type=open and %s proc.pid=1
  output: x
  priority: WARNING
- rule: quoted
  desc: quoted
  condition: evt.type=connect and fd.snet in (nets)
  output: x
  priority: WARNING
`, strings.Join(terms, " or "), strings.Join(vals, ", "), strings.Repeat("not ", 499))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, err := Load([]Source{{Name: "large.yaml", Data: []byte(yaml)}})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of rules loaded in %v, %d KiB allocated", len(yaml), took, alloc/1024)
	if took > 2*time.Second || alloc > 100<<20 {
		t.Fatalf("load took %v and %d bytes", took, alloc)
	}
	_ = s
}

package metrics

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestWriteText checks the exposition: families in name order with HELP and TYPE, labels
// escaped (a rule name is attacker-chosen text), numeric labels in numeric order.
func TestWriteText(t *testing.T) {
	reg := NewRegistry()
	if err := reg.Register("b_total", "B.\nnext", Counter, []string{"rule", "cpu"}, func() []Sample {
		return []Sample{{Labels: []string{"x", "10"}, Value: 2}, {Labels: []string{"x", "9"}, Value: 1},
			{Labels: []string{"q\"\\\n\xff", "0"}, Value: 3}}
	}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("a_seconds", "A.", Gauge, nil, Value(func() float64 { return 0.25 })); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	reg.WriteText(&b)
	want := "# HELP a_seconds A.\n# TYPE a_seconds gauge\na_seconds 0.25\n" +
		"# HELP b_total B.\\nnext\n# TYPE b_total counter\n" +
		"b_total{rule=\"q\\\"\\\\\\n\uFFFD\",cpu=\"0\"} 3\nb_total{rule=\"x\",cpu=\"9\"} 1\nb_total{rule=\"x\",cpu=\"10\"} 2\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestRegisterRefusesBadNames holds the naming conventions: counters end in _total, gauges do
// not, names and labels are valid, a name is registered once.
func TestRegisterRefusesBadNames(t *testing.T) {
	reg := NewRegistry()
	f := Value(func() float64 { return 0 })
	for _, c := range []struct {
		name   string
		kind   Kind
		labels []string
	}{
		{"events", Counter, nil}, {"events_total", Gauge, nil}, {"1events_total", Counter, nil},
		{"x_total", Counter, []string{"__reserved"}}, {"y_total", Counter, []string{"a-b"}},
	} {
		if err := reg.Register(c.name, "h", c.kind, c.labels, f); err == nil {
			t.Errorf("%s (%s, %v) registered", c.name, c.kind, c.labels)
		}
	}
	if err := reg.Register("ok_total", "h", Counter, nil, f); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("ok_total", "h", Counter, nil, f); err == nil {
		t.Error("a name registered twice")
	}
}

// TestServe serves a registry and a failing health check.
func TestServe(t *testing.T) {
	reg := NewRegistry()
	reg.Register("up", "Up.", Gauge, nil, Value(func() float64 { return 1 }))
	var healthy atomic.Bool
	s, err := Serve("127.0.0.1:0", reg, func() error {
		if !healthy.Load() {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 503 {
		t.Errorf("unhealthy /healthz: %d", code)
	}
	healthy.Store(true)
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthy /healthz: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || body != "# HELP up Up.\n# TYPE up gauge\nup 1\n" {
		t.Errorf("/metrics: %d %q", code, body)
	}
	if _, err := Serve(s.Addr(), reg, nil); err == nil {
		t.Error("a second server on the same address")
	}
}

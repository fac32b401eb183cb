// Package metrics exposes a running capture's figures to Prometheus: the text exposition
// format on /metrics and a health check on /healthz. Values are read when scraped, from
// callbacks over counters the capture keeps anyway (atomics, the probe's maps), so serving
// metrics adds nothing to the per-event path.
package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Kind is a metric's Prometheus type.
type Kind string

const (
	Counter Kind = "counter"
	Gauge   Kind = "gauge"
)

// Sample is one value of a family, with its label values (in the family's label order).
type Sample struct {
	Labels []string
	Value  float64
}

type family struct {
	name, help string
	kind       Kind
	labels     []string
	collect    func() []Sample
}

// Registry holds metric families; it is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	families []*family
	names    map[string]bool
	closers  []func()
}

// onClose runs f when the server serving the registry closes (a sampler's goroutine ends).
func (r *Registry) onClose(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closers = append(r.closers, f)
}

// Close ends what the registry's families run in the background; Server.Close calls it.
func (r *Registry) Close() {
	r.mu.Lock()
	fs := r.closers
	r.closers = nil
	r.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

var (
	nameRE  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Register adds a family whose samples collect returns at each scrape. Names follow
// Prometheus conventions: counters end in _total, units are base units (seconds, bytes).
func (r *Registry) Register(name, help string, kind Kind, labels []string, collect func() []Sample) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("metrics: bad metric name %q", name)
	}
	if (kind == Counter) != (len(name) > 6 && name[len(name)-6:] == "_total") {
		return fmt.Errorf("metrics: %s: counters, and only they, end in _total", name)
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) || (len(l) > 1 && l[:2] == "__") {
			return fmt.Errorf("metrics: %s: bad label name %q", name, l)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		return fmt.Errorf("metrics: %s registered twice", name)
	}
	r.names[name] = true
	r.families = append(r.families, &family{name: name, help: help, kind: kind, labels: labels, collect: collect})
	return nil
}

// Value is a collect function for a family without labels.
func Value(f func() float64) func() []Sample {
	return func() []Sample { return []Sample{{Value: f()}} }
}

// WriteText writes every family in the text exposition format (version 0.0.4), families in
// name order, samples in label order.
func (r *Registry) WriteText(b *bytes.Buffer) {
	r.mu.Lock()
	fams := append([]*family(nil), r.families...)
	r.mu.Unlock()
	sort.Slice(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	for _, f := range fams {
		samples := f.collect()
		sort.SliceStable(samples, func(i, j int) bool { return lessLabels(samples[i].Labels, samples[j].Labels) })
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		for _, s := range samples {
			b.WriteString(f.name)
			if len(f.labels) > 0 {
				b.WriteByte('{')
				for i, l := range f.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					v := ""
					if i < len(s.Labels) {
						v = s.Labels[i]
					}
					b.WriteString(l)
					b.WriteString(`="`)
					b.WriteString(escapeLabel(v))
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatValue(s.Value))
			b.WriteByte('\n')
		}
	}
}

func lessLabels(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			// Numeric labels (cpu) sort as numbers.
			x, e1 := strconv.Atoi(a[i])
			y, e2 := strconv.Atoi(b[i])
			if e1 == nil && e2 == nil {
				return x < y
			}
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeLabel escapes a label value: backslash, double quote and newline; invalid UTF-8 (rule
// names come from files) is replaced, so the exposition stays valid.
func escapeLabel(s string) string { return escape(s, true) }

// escapeHelp escapes a HELP text: backslash and newline (quotes stay as they are).
func escapeHelp(s string) string { return escape(s, false) }

func escape(s string, quote bool) string {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteRune(r) // an invalid byte comes as U+FFFD
		}
	}
	return b.String()
}

// Server serves /metrics and /healthz.
type Server struct {
	srv *http.Server
	ln  net.Listener
	reg *Registry
}

// Serve listens on addr (host:port; port 0 picks one, see Addr) and serves reg on /metrics;
// /healthz answers 200 "ok" while health returns nil, 503 with its error otherwise.
func Serve(addr string, reg *Registry, health func() error) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		reg.WriteText(&b)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := health(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s := &Server{ln: ln, reg: reg, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, waiting at most a second for scrapes in progress.
func (s *Server) Close() error {
	defer s.reg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/gosysdig/gosysdig/alerts"
	"github.com/gosysdig/gosysdig/container/watch"
	"github.com/gosysdig/gosysdig/session"
)

// The families gosysdig exposes. Each Register* function adds one part; the CLI registers the
// parts its command has (the probe only live, alerts only for rules).

// RegisterLoop adds the capture loop's figures: events read and passed on, events per second
// over the last second, and the state's table sizes. loop returns the running loop (nil before
// it starts).
func RegisterLoop(reg *Registry, loop func() *session.Loop) error {
	read := func() uint64 {
		if l := loop(); l != nil {
			return l.Stats.Read.Load()
		}
		return 0
	}
	stop := make(chan struct{})
	reg.onClose(func() { close(stop) })
	rate := newRate(read, stop)
	return registerScalars(reg, []scalar{
		{"gosysdig_events_read_total", "Events the capture loop read (the probe's, procinfo and container events).", Counter,
			func() float64 { return float64(read()) }},
		{"gosysdig_events_matched_total", "Events that passed the filter (all of them for rules, which filter per rule).", Counter,
			func() float64 {
				if l := loop(); l != nil {
					return float64(l.Stats.Matched.Load())
				}
				return 0
			}},
		{"gosysdig_events_per_second", "Events the capture loop read over the last second.", Gauge, rate.value},
		{"gosysdig_state_threads", "Threads in the state's thread table.", Gauge, sized(loop, func(s *session.LoopStats) int64 { return s.Threads.Load() })},
		{"gosysdig_state_fds", "Open fds in the state's fd tables.", Gauge, sized(loop, func(s *session.LoopStats) int64 { return s.FDs.Load() })},
		{"gosysdig_state_containers", "Containers in the state's container table.", Gauge, sized(loop, func(s *session.LoopStats) int64 { return s.Containers.Load() })},
	})
}

func sized(loop func() *session.Loop, f func(*session.LoopStats) int64) func() float64 {
	return func() float64 {
		if l := loop(); l != nil {
			return float64(f(&l.Stats))
		}
		return 0
	}
}

// RegisterState adds what the state's limits kept out of its tables and the threads the live
// scan removed (their exits were lost). dropped is read while the loop runs: it must be safe
// for that (state.Inspector.Dropped is).
func RegisterState(reg *Registry, dropped func() (threads, fds, containers, purged int64)) error {
	return reg.Register("gosysdig_state_evictions_total",
		"Entries kept out of the state's tables by their limits (thread, fd, container) or removed by the scan for threads whose exit was lost (thread_exit_lost).",
		Counter, []string{"table"}, func() []Sample {
			th, fd, ct, pu := dropped()
			return []Sample{{Labels: []string{"container"}, Value: float64(ct)}, {Labels: []string{"fd"}, Value: float64(fd)},
				{Labels: []string{"thread"}, Value: float64(th)}, {Labels: []string{"thread_exit_lost"}, Value: float64(pu)}}
		})
}

// RegisterProbe adds the probe's per-CPU counters: events it sent and events it dropped
// because the ring buffer was full. perCPU reports ok false once the probe is gone.
func RegisterProbe(reg *Registry, perCPU func() (events, drops []uint64, ok bool)) error {
	collect := func(drops bool) func() []Sample {
		return func() []Sample {
			ev, dr, ok := perCPU()
			if !ok {
				return nil
			}
			v := ev
			if drops {
				v = dr
			}
			out := make([]Sample, len(v))
			for i, n := range v {
				out[i] = Sample{Labels: []string{strconv.Itoa(i)}, Value: float64(n)}
			}
			return out
		}
	}
	if err := reg.Register("gosysdig_probe_events_total", "Events the probe sent, per CPU.", Counter, []string{"cpu"}, collect(false)); err != nil {
		return err
	}
	return reg.Register("gosysdig_probe_drops_total", "Events the probe dropped because the ring buffer was full, per CPU.", Counter, []string{"cpu"}, collect(true))
}

// RuleCount is how many alerts one rule raised.
type RuleCount struct {
	Rule, Priority string
	Count          int64
}

// RegisterRules adds the rules' figures: alerts per rule and priority, every output's alert
// outcomes, and how long loading the rules took.
func RegisterRules(reg *Registry, counts func() []RuleCount, outputs func() []alerts.Stats, load time.Duration, rules int) error {
	err := reg.Register("gosysdig_alerts_total", "Alerts raised, per rule and priority.", Counter, []string{"rule", "priority"},
		func() []Sample {
			var out []Sample
			for _, c := range counts() {
				out = append(out, Sample{Labels: []string{c.Rule, c.Priority}, Value: float64(c.Count)})
			}
			return out
		})
	if err != nil {
		return err
	}
	err = reg.Register("gosysdig_output_alerts_total",
		"Alerts per output and outcome: raised (handed to it), delivered, dropped (queue full), failed (retries exhausted), unsent (left queued at exit), unread (a program exited before reading them).",
		Counter, []string{"output", "outcome"}, func() []Sample {
			var out []Sample
			for _, s := range outputs() {
				for _, o := range []struct {
					name string
					n    int64
				}{{"raised", s.Raised}, {"delivered", s.Delivered}, {"dropped", s.Dropped}, {"failed", s.Failed}, {"unsent", s.Unsent}, {"unread", s.Unread}} {
					out = append(out, Sample{Labels: []string{s.Output, o.name}, Value: float64(o.n)})
				}
			}
			return out
		})
	if err != nil {
		return err
	}
	if err := reg.Register("gosysdig_rules_load_seconds", "How long reading and compiling the rules files took.", Gauge, nil,
		Value(func() float64 { return load.Seconds() })); err != nil {
		return err
	}
	return reg.Register("gosysdig_rules_enabled", "Rules that run.", Gauge, nil, Value(func() float64 { return float64(rules) }))
}

// RegisterContainers adds the container runtime lookups: finished with metadata, failed, in
// flight.
func RegisterContainers(reg *Registry, stats func() (found, failed, pending int64)) error {
	err := reg.Register("gosysdig_container_lookups_total", "Container metadata lookups finished, per result (found, failed).", Counter,
		[]string{"result"}, func() []Sample {
			f, x, _ := stats()
			return []Sample{{Labels: []string{"failed"}, Value: float64(x)}, {Labels: []string{"found"}, Value: float64(f)}}
		})
	if err != nil {
		return err
	}
	return reg.Register("gosysdig_container_lookups_pending", "Container metadata lookups in flight.", Gauge, nil,
		Value(func() float64 { _, _, p := stats(); return float64(p) }))
}

// RegisterHolds adds what waiting for new containers' metadata cost (watch.Holder).
func RegisterHolds(reg *Registry, h *watch.HoldStats) error {
	return registerScalars(reg, []scalar{
		{"gosysdig_container_holds_total", "New containers whose events waited for their metadata.", Counter, func() float64 { return float64(h.Containers.Load()) }},
		{"gosysdig_container_held_events_total", "Events that waited for their container's metadata.", Counter, func() float64 { return float64(h.Events.Load()) }},
		{"gosysdig_container_hold_timeouts_total", "Containers whose events went without metadata after --container-hold.", Counter, func() float64 { return float64(h.TimedOut.Load()) }},
		{"gosysdig_container_hold_overflows_total", "Containers whose events went without waiting longer, the held events past their memory bound.", Counter, func() float64 { return float64(h.Overflow.Load()) }},
		{"gosysdig_container_hold_longest_seconds", "The longest a container's events waited for its metadata.", Gauge, func() float64 { return float64(h.Longest.Load()) / 1e9 }},
	})
}

// scalar is a family of one unlabelled sample.
type scalar struct {
	name, help string
	kind       Kind
	f          func() float64
}

func registerScalars(reg *Registry, fams []scalar) error {
	for _, m := range fams {
		if err := reg.Register(m.name, m.help, m.kind, nil, Value(m.f)); err != nil {
			return err
		}
	}
	return nil
}

// rate is a counter's increase over the last whole second, sampled by a goroutine of its own
// until stop is closed.
type rate struct {
	mu   sync.Mutex
	last float64
}

func newRate(f func() uint64, stop <-chan struct{}) *rate {
	r := &rate{}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		prev := f()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := f()
				r.mu.Lock()
				r.last = float64(n - prev)
				r.mu.Unlock()
				prev = n
			}
		}
	}()
	return r
}

func (r *rate) value() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

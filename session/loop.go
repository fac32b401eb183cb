package session

import (
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/state"
)

// Source yields events: a capture reader or the live probe. io.EOF ends the capture;
// capture.ErrNewSection starts a concatenated capture's next section.
type Source interface {
	Next(ev *event.Event) error
}

// Sink receives every event that passed the filter, internal events included.
type Sink interface {
	Event(c *fields.Ctx) error
}

// Dumper writes events to a -w file with the given dump flags.
type Dumper interface {
	Write(ev *event.Event, flags uint32) error
}

// ErrStop, returned by a sink or the dumper, ends the capture quietly (a chisel's
// end_capture, the last file of a -G/-W rotation).
var ErrStop = errors.New("stop")

// SourceError is a failure to read the next event (a damaged capture, the probe).
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// Loop is the capture loop, sysdig's do_inspect over libsinsp's next(): every event read updates
// the state and may reach the -w file; those that pass the filter are counted and go to the
// sinks. It owns what sysdig's loop decides: what -n counts, when -M ends the capture, which
// events the file keeps, the first event's timestamp (evt.reltime's origin), stopping on a
// signal. The CLI builds the sinks and reports the outcome.
type Loop struct {
	Src   Source
	State *state.Inspector
	Ctx   *fields.Ctx // Ev is set by Run
	// Filter selects the events counted and passed on; nil selects every event.
	Filter *filter.Filter
	Sinks  []Sink
	// Dump, when set, receives what a -w file keeps (see DumpFlags); Fatfile is -F.
	Dump    Dumper
	Fatfile bool
	// MaxEvents is -n: the run ends once that many events passed the filter (0: no limit).
	MaxEvents int64
	// Duration is -M, in event time as sysdig measures it: from the first event that passed the
	// filter, the first one at least Duration later ends the capture (it is written to the -w
	// file, not counted or passed on). 0: no limit.
	Duration time.Duration
	// NewSection is called when a concatenated capture starts a new section.
	NewSection func()
	// OnEvent, when set, sees every event read (sysdig's -P progress).
	OnEvent func(ev *event.Event)
	// OnFirstMatch, when set, is called with the first event that passed the filter (live
	// captures start a wall-clock fallback for -M from it).
	OnFirstMatch func(ts uint64)

	// Captured counts the events that passed the filter; Elapsed is how long Run ran (the
	// capture itself: not the loading before it nor the outputs' draining after it).
	Captured uint64
	Elapsed  time.Duration
	// Span is the event time from the first event read to the last: rates over it measure
	// how many events were kept up with, unaffected by start-up and draining.
	Span time.Duration

	// Stats may be read from other goroutines while Run runs (metrics).
	Stats LoopStats

	stopped    atomic.Bool
	ev         event.Event
	lastSample time.Time
}

// LoopStats are the loop's counters, kept with atomics so other goroutines can read them while
// it runs: events read and events that passed the filter, and the state's table sizes sampled
// about once a second (walking the tables per event would cost too much).
type LoopStats struct {
	Read, Matched            atomic.Uint64
	Threads, FDs, Containers atomic.Int64
}

// sampleSizes stores the state's table sizes, at most once a second, looking at the clock
// every 1024 events only.
func (l *Loop) sampleSizes(read uint64) {
	if read&1023 != 1 {
		return
	}
	if now := time.Now(); now.Sub(l.lastSample) >= time.Second {
		l.lastSample = now
		th, fds, ct := l.State.Sizes()
		l.Stats.Threads.Store(int64(th))
		l.Stats.FDs.Store(int64(fds))
		l.Stats.Containers.Store(int64(ct))
	}
}

// Stop makes Run return before reading another event; safe from any goroutine.
func (l *Loop) Stop() { l.stopped.Store(true) }

// Run reads the source to its end, -n, -M or Stop. It returns nil then, and on ErrStop or
// ErrBrokenPipe from a sink; a *SourceError when reading fails; a sink's or the dumper's error
// otherwise.
func (l *Loop) Run() error {
	start := time.Now()
	defer func() { l.Elapsed = time.Since(start) }()
	ev := &l.ev
	ctx := l.Ctx
	ctx.Ev = ev
	var matchStart uint64 // timestamp of the first event that passed the filter
	var first, last uint64
	defer func() {
		if last > first {
			l.Span = time.Duration(last - first)
		}
	}()
	leading := true // container events before the first other event are consumed silently
	l.State.SetFiltered(l.Filter != nil)
	for {
		if l.stopped.Load() {
			return nil
		}
		err := l.Src.Next(ev)
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, capture.ErrNewSection) {
			if l.NewSection != nil {
				l.NewSection()
			}
			continue
		}
		if err != nil {
			return &SourceError{Err: err}
		}
		if first == 0 {
			first = ev.TS
		}
		last = max(last, ev.TS)
		l.sampleSizes(l.Stats.Read.Add(1))
		if l.OnEvent != nil {
			l.OnEvent(ev)
		}
		l.State.Process(ev)
		if ctx.FirstTS == 0 {
			ctx.FirstTS = ev.TS
		}
		isContainer := ev.Type == 228 || ev.Type == 272 || ev.Type == capture.ContainerEventType
		if leading && isContainer {
			if l.Dump != nil {
				if err := l.Dump.Write(ev, ev.DumpFlags); err != nil {
					return quiet(err)
				}
			}
			continue
		}
		leading = false
		// The filter sees the event before the parsers of events that do not modify the state
		// (state.Inspector.Parsed), and before the fd's name change is marked.
		ctx.InspectorFilter = true
		pass := l.Filter == nil || (l.Filter.MayMatch(ev.Type) && l.Filter.Match(ctx))
		ctx.InspectorFilter = false
		if pass {
			l.State.Parsed()
		} else {
			l.State.FilterRejected()
		}
		// State-only events update state and are not shown.
		matched := pass && ev.DumpFlags&capture.DumpStateOnly == 0
		if l.Dump != nil {
			if flags, keep := DumpFlags(ev, matched, l.Fatfile); keep {
				if err := l.Dump.Write(ev, flags); err != nil {
					return quiet(err)
				}
			}
		}
		if !matched {
			l.State.FilteredOut()
			continue
		}
		if matchStart == 0 {
			matchStart = ev.TS
			if l.OnFirstMatch != nil {
				l.OnFirstMatch(ev.TS)
			}
		} else if l.Duration > 0 && ev.TS-matchStart >= uint64(l.Duration) {
			return nil
		}
		l.Captured++
		l.Stats.Matched.Add(1)
		for _, s := range l.Sinks {
			if err := s.Event(ctx); err != nil {
				return quiet(err)
			}
		}
		// -n counts what sysdig's do_inspect counts: the events its inspector returns, those
		// that passed the filter, internal ones (procinfo, container) included even though
		// they print only with -D.
		if l.MaxEvents > 0 && int64(l.Captured) >= l.MaxEvents {
			return nil
		}
	}
}

// quiet is nil for the errors that end a capture without failing it.
func quiet(err error) error {
	if errors.Is(err, ErrStop) || errors.Is(err, ErrBrokenPipe) {
		return nil
	}
	return err
}

// DumpFlags is what -w keeps of an event, as sinsp's get_dump_flags decides: every event that
// passed the filter; of the filtered-out ones, with -F (fatfile) those that change state, hidden
// (state only), so that a filtered capture still resolves processes and fds; and internal events
// (procinfo) always, as they are. Container events are metadata, kept whatever the filter (the
// containers at the head of every file are): without them a filtered capture could not name the
// containers its events ran in.
func DumpFlags(ev *event.Event, matched, fatfile bool) (uint32, bool) {
	flags := ev.DumpFlags
	if matched || ev.Type == capture.ContainerEventType {
		return flags, true
	}
	if fatfile && ev.Info.Flags&event.EFModifiesState != 0 {
		return flags | capture.DumpStateOnly, true
	}
	return flags &^ capture.DumpStateOnly, ev.Info.Category&event.ECInternal != 0
}

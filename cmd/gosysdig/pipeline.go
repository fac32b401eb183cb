package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/container/watch"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/metrics"
	"github.com/gosysdig/gosysdig/output"
	"github.com/gosysdig/gosysdig/session"
	"github.com/gosysdig/gosysdig/state"
)

// source yields events: a capture reader or the live probe.
type source interface {
	Next(ev *event.Event) error
}

// sink receives every event that passed the filter, internal events included.
type sink interface {
	Event(c *fields.Ctx) error
	Close() error
}

// pipeline wires source → state → filter → sinks, as sysdig's inspector loop does.
type pipeline struct {
	o     *options
	in    *state.Inspector
	ctx   *fields.Ctx
	flt   *filter.Filter
	sinks []sink
	bw    *session.Output // stdout, streamed as events happen (package session)
	sum   *summary
	dump  *dumper

	captured    uint64                        // events that passed the filter
	elapsed     time.Duration                 // how long the capture loop ran
	span        time.Duration                 // the event time it covered
	driverStats func() (events, drops uint64) // live only
	holds       *watch.HoldStats              // live only: new containers' events held for their metadata
	stderr      io.Writer

	// wrap, when set, wraps the source run reads (the UI adds live procinfo events: ui.go).
	wrap func(source) source

	// sysdig flags (flags_sysdig.go): -U's dropped events, -P's progress over offset().
	suppress   *suppressSource
	suppressed uint64
	progress   *progress
	offset     func() int64

	// stopped is set by the first SIGINT or SIGTERM: the loop reads no further event.
	stopped atomic.Bool
	loop    atomic.Pointer[session.Loop] // the capture loop of the current run
	// firstMatch, when set, is called with the first event that passed the filter (live -M).
	firstMatch func(ts uint64)
	// metrics, when set, registers the command's own metric families (rules: alerts).
	metrics func(*metrics.Registry) error
}

// newOutput wraps w the way sysdig's stdio would: line-buffered on a terminal, per event with
// --unbuffered, flushed every 100 ms otherwise.
func newOutput(w io.Writer, o *options) *session.Output {
	f, _ := w.(*os.File)
	mode := session.ModeFor(f, o.unbuffered)
	if f == nil && o.unbuffered {
		mode = session.Unbuffered
	}
	return session.NewOutput(w, mode)
}

// bufFormat picks how buffers render from -x, -X, -A and -b, in the JSON variant with -j.
func bufFormat(o *options) event.BufFormat {
	plain, inJSON := event.BufNormal, event.BufJSON
	switch {
	case o.hexASCII:
		plain, inJSON = event.BufHexASCII, event.BufJSONHexASCII
	case o.hex:
		plain, inJSON = event.BufHex, event.BufJSONHex
	case o.ascii:
		plain, inJSON = event.BufASCII, event.BufJSONASCII
	case o.base64:
		plain, inJSON = event.BufBase64, event.BufJSONBase64
	}
	if o.json {
		return inJSON
	}
	return plain
}

func newPipeline(w io.Writer, o *options, args []string) (*pipeline, error) {
	p := &pipeline{o: o, in: newState(), bw: newOutput(w, o), stderr: o.stderr}
	if p.stderr == nil {
		p.stderr = os.Stderr
	}
	p.ctx = &fields.Ctx{In: p.in, Buf: bufFormat(o), MaxLen: 80, TimeType: timeType(o)}
	if o.verbose {
		p.ctx.MaxLen = 0
	}
	if o.chisel != "" {
		cs, rest, err := newChiselSink(o.chisel, args, p)
		if err != nil {
			return nil, err
		}
		args = rest
		p.sinks = append(p.sinks, cs)
	}
	filterText := strings.Join(args, " ")
	if strings.TrimSpace(filterText) != "" {
		flt, err := filter.Compile(filterText)
		if err != nil {
			return nil, &exitError{code: 1, msg: fmt.Sprintf("%v\nfilter: %s", err, filterText)}
		}
		p.flt = flt
	}
	// -d: the filter only selects the printed events; -n, -w, -S and chisels see them all.
	var display *filter.Filter
	if o.displayFilter {
		display, p.flt = p.flt, nil
	}
	if o.pcap != "" {
		ps, err := newPcapSink(o.pcap)
		if err != nil {
			return nil, &exitError{code: 1, msg: err.Error()}
		}
		p.sinks = append(p.sinks, ps)
	}
	// Like sysdig, events are printed unless -q, -w (which implies -q) or a chisel (which
	// prints what it wants) says otherwise, with -p or without.
	if !o.quiet && o.chisel == "" && o.write == "" {
		formatter, err := output.New(o.format, o.json)
		if err != nil {
			return nil, &exitError{code: 1, msg: err.Error()}
		}
		p.sinks = append(p.sinks, &printer{f: formatter, w: p.bw, debug: o.debug, display: display})
	}
	if o.summary {
		p.sum = &summary{}
	}
	return p, nil
}

// printer writes formatted events; internal events show only with -D.
type printer struct {
	f       *output.Formatter
	w       io.Writer
	debug   bool
	display *filter.Filter // -d
}

func (pr *printer) Event(c *fields.Ctx) error {
	if c.Ev.Info.Category&event.ECInternal != 0 && !pr.debug {
		return nil
	}
	line, ok := pr.f.Format(c)
	// As sysdig's formatter, every event formatted moves evt.deltatime on, whether its line
	// is printed or not (a field without a value, -d's display filter).
	c.PrevTS = c.Ev.TS
	if !ok {
		return nil
	}
	if pr.display != nil && !(pr.display.MayMatch(c.Ev.Type) && pr.display.Match(c)) {
		return nil
	}
	_, err := pr.w.Write(line)
	return err
}

func (pr *printer) Close() error { return nil }

// run drains src. reset is called when a concatenated capture starts a new section.
func (p *pipeline) run(src source, name string, reset func()) (err error) {
	if len(p.o.suppressComm) > 0 {
		src = p.suppressing(src)
	}
	if p.wrap != nil {
		src = p.wrap(src)
	}
	defer func() {
		if p.progress != nil {
			p.progress.end(p.offset())
		}
		if p.o.verbose {
			p.writeStats(p.elapsed)
		}
		if derr := p.dump.Close(); derr != nil && err == nil {
			err = &exitError{code: 1, msg: derr.Error()}
		}
		for _, s := range p.sinks {
			if cerr := s.Close(); cerr != nil && err == nil && !errors.Is(cerr, session.ErrBrokenPipe) {
				err = &exitError{code: 1, msg: cerr.Error()}
			}
		}
		if p.sum != nil {
			p.sum.write(p.bw)
		}
		if ferr := p.bw.Close(); ferr != nil && err == nil && !errors.Is(ferr, session.ErrBrokenPipe) {
			err = &exitError{code: 1, msg: fmt.Sprintf("writing output: %v", ferr)}
		}
	}()
	loop := &session.Loop{Src: src, State: p.in, Ctx: p.ctx, Filter: p.flt, Fatfile: p.o.fatfile,
		MaxEvents: p.o.numEvents, Duration: time.Duration(p.o.duration) * time.Second,
		NewSection: reset, OnFirstMatch: p.onFirstMatch}
	if p.sum != nil {
		loop.Sinks = append(loop.Sinks, p.sum)
	}
	for _, s := range p.sinks {
		loop.Sinks = append(loop.Sinks, s)
	}
	if p.dump != nil {
		loop.Dump = p.dump
	}
	if p.progress != nil {
		loop.OnEvent = func(ev *event.Event) { p.progress.event(ev.Num, p.offset()) }
	}
	p.loop.Store(loop)
	if p.stopped.Load() { // a signal before the loop existed
		loop.Stop()
	}
	err = loop.Run()
	p.captured, p.elapsed, p.span = loop.Captured, loop.Elapsed, loop.Span
	var se *session.SourceError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", name, se.Err)}
	default:
		return &exitError{code: 1, msg: err.Error()}
	}
}

func (p *pipeline) onFirstMatch(ts uint64) {
	if p.firstMatch != nil {
		p.firstMatch(ts)
	}
}

// eventsRead is how many events the capture loop has read (the drain's progress).
func (p *pipeline) eventsRead() uint64 {
	if l := p.loop.Load(); l != nil {
		return l.Stats.Read.Load()
	}
	return 0
}

// stop ends the run before the next event (SIGINT, SIGTERM).
func (p *pipeline) stop() {
	p.stopped.Store(true)
	if l := p.loop.Load(); l != nil {
		l.Stop()
	}
}

// writeStats prints sysdig's -v capture statistics on stderr.
func (p *pipeline) writeStats(elapsed time.Duration) {
	var events, drops uint64
	if p.driverStats != nil {
		events, drops = p.driverStats()
		// sysdig's driver counts an event before trying to put it in the ring, so its
		// "Driver Events" include the dropped ones; the probe counts them apart.
		events += drops
	}
	secs := elapsed.Seconds()
	eps := 0.0
	if secs > 0 {
		eps = float64(p.captured) / secs
	}
	fmt.Fprintf(p.stderr, "Driver Events:%d\nDriver Drops:%d\nSuppressed by Comm:%d\nElapsed time: %.3f, Captured Events: %d, %.2f eps\n",
		events, drops, p.suppressed, secs, p.captured, eps)
	p.writeHolds(p.stderr)
}

// writeHolds prints, live, what waiting for new containers' metadata cost (see watch.Holder).
func (p *pipeline) writeHolds(w io.Writer) {
	if h := p.holds; h != nil {
		fmt.Fprintf(w, "Container holds: %d containers, %d events held, longest %.1f ms, %d released without metadata after --container-hold, %d early past the memory bound\n",
			h.Containers.Load(), h.Events.Load(), float64(h.Longest.Load())/1e6, h.TimedOut.Load(), h.Overflow.Load())
	}
}

// errStop is returned by a sink to end the capture early (a chisel's end_capture).
var errStop = session.ErrStop

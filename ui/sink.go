package ui

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
)

// Mode is what the sink collects: a view's table, or lines of a stream.
type Mode uint8

const (
	ModeTable Mode = iota
	ModeDig        // the events, formatted as gosysdig prints them (F6)
	ModeEcho       // the data the events read and wrote (F5)
)

const maxListRows = 5000
const maxLines = 20000

// Query is what the UI asks the sink to collect.
type Query struct {
	View   *View
	Mode   Mode
	Filter string // the whole sysdig filter: view, drill-downs and the user's
}

// Row is one aggregated row of a snapshot.
type Row struct {
	Cells []string  // one per visible column
	Nums  []float64 // sort values, one per visible column
	Drill string    // the drill-down field's value
	Pid   int64     // the row's process for thread views (-1: none)
}

// Table is a snapshot of a view or a stream.
type Table struct {
	Query Query
	Cols  []Col // visible columns
	Rows  []Row
	Lines []string // streams
	Secs  float64  // seconds the snapshot covers
	Final bool     // replay: the capture has been read to the end
}

type group struct {
	num      []float64
	cnt      []int64
	text     []string
	distinct []map[string]struct{}
	drill    string
	pid      int64
	seq      uint64
}

// Sink aggregates the pipeline's events for the UI's current query. Event runs on the pipeline
// goroutine; the UI reads snapshots from its own.
type Sink struct {
	mu       sync.Mutex
	q        Query
	flt      *filter.Filter
	ext      []extractor
	drillExt extractor
	cpu      cpuSplit
	groups   map[string]*group
	order    []string // list views: keys in arrival order
	seq      uint64
	lines    []string
	fmtr     *output.Formatter
	bufRef   *fields.Ref
	nameRef  *fields.Ref
	procRef  *fields.Ref

	firstTS, lastTS uint64 // event time of this aggregation
	nextPub         uint64
	events          uint64 // events seen (for the rate)

	gen, runGen uint64 // replay: the query generation the running replay serves
	stopErr     error
	// Publish, when set, receives replay snapshots as event time passes and at the end.
	Publish  func(*Table)
	interval uint64
	replay   bool
	key      []byte
}

// NewSink returns a sink; stop is the error that ends a replay early (the pipeline's errStop).
func NewSink(replay bool, intervalNS uint64, stop error) *Sink {
	s := &Sink{replay: replay, interval: intervalNS, stopErr: stop, groups: map[string]*group{}}
	s.fmtr, _ = output.New("", false)
	s.bufRef = mustRef("evt.buffer")
	s.nameRef = mustRef("fd.name")
	s.procRef = mustRef("proc.name")
	return s
}

// CompileQuery checks a query's filter and columns, returning what SetQuery needs.
func compileQuery(q Query, cpu *cpuSplit) (*filter.Filter, []extractor, extractor, error) {
	var flt *filter.Filter
	if strings.TrimSpace(q.Filter) != "" {
		f, err := filter.Compile(q.Filter)
		if err != nil {
			return nil, nil, nil, err
		}
		flt = f
	}
	var exts []extractor
	var drill extractor
	if q.Mode == ModeTable {
		for _, c := range q.View.Cols {
			e, err := resolve(c.Field, cpu)
			if err != nil {
				return nil, nil, nil, err
			}
			exts = append(exts, e)
		}
		if f := q.View.drillField(); f != "" {
			e, err := resolve(f, cpu)
			if err != nil {
				return nil, nil, nil, err
			}
			drill = e
		}
	}
	return flt, exts, drill, nil
}

// SetQuery switches the sink to a new query and clears what it had collected.
func (s *Sink) SetQuery(q Query) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	flt, exts, drill, err := compileQuery(q, &s.cpu)
	if err != nil {
		return err
	}
	s.q, s.flt, s.ext, s.drillExt = q, flt, exts, drill
	s.gen++
	s.resetLocked()
	s.firstTS, s.lastTS, s.nextPub = 0, 0, 0
	return nil
}

// BeginRun starts a replay of the current query; it returns false if there is none.
func (s *Sink) BeginRun() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runGen = s.gen
	s.resetLocked()
	s.firstTS, s.lastTS, s.nextPub = 0, 0, 0
	s.cpu = cpuSplit{}
}

// Stale reports that the query changed since the running replay began.
func (s *Sink) Stale() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen != s.runGen
}

func (s *Sink) resetLocked() {
	s.groups = map[string]*group{}
	s.order = s.order[:0]
	s.lines = nil
	s.events = 0
}

// Event aggregates one event that passed the pipeline's filter.
func (s *Sink) Event(c *fields.Ctx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replay && s.gen != s.runGen {
		return s.stopErr
	}
	ts := c.Ev.TS
	if s.firstTS == 0 {
		s.firstTS = ts
		s.nextPub = ts + s.interval
	}
	if ts > s.lastTS {
		s.lastTS = ts
	}
	s.events++
	if s.q.View == nil {
		return nil
	}
	if s.flt == nil || (s.flt.MayMatch(c.Ev.Type) && s.flt.Match(c)) {
		switch s.q.Mode {
		case ModeTable:
			s.aggregate(c)
		case ModeDig:
			if c.Ev.Info.Category&event.ECInternal == 0 {
				if line, ok := s.fmtr.Format(c); ok {
					s.addLine(string(bytes.TrimRight(line, "\n")))
				}
			}
		case ModeEcho:
			s.echo(c)
		}
	}
	if s.replay && s.Publish != nil && ts >= s.nextPub {
		s.nextPub = ts + s.interval
		t := s.snapshotLocked(false)
		s.mu.Unlock()
		s.Publish(t)
		s.mu.Lock()
	}
	return nil
}

func (s *Sink) addLine(l string) {
	if len(s.lines) >= maxLines {
		copy(s.lines, s.lines[len(s.lines)-maxLines/2:])
		s.lines = s.lines[:maxLines/2]
	}
	s.lines = append(s.lines, l)
}

// echo adds the data of an I/O event, as the echo_fds chisel shows it.
func (s *Sink) echo(c *fields.Ctx) {
	n, read, _, ok := ioBytes(c)
	if !ok {
		return
	}
	buf, ok := s.bufRef.Extract(c)
	if !ok {
		return
	}
	name, _ := s.nameRef.Extract(c)
	proc, _ := s.procRef.Extract(c)
	dir := "Write " + strconv.FormatInt(n, 10) + "B to  "
	if read {
		dir = "Read " + strconv.FormatInt(n, 10) + "B from"
	}
	s.addLine(fmt.Sprintf("------ %s %s (%s)", dir, name.Str, proc.Str))
	for _, l := range strings.Split(strings.TrimRight(printable(buf.Str), "\n"), "\n") {
		s.addLine(l)
	}
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if (c < 32 || c > 126) && c != '\n' && c != '\t' {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

func (s *Sink) aggregate(c *fields.Ctx) {
	v := s.q.View
	if v.Threads && (c.In.Thread == nil || c.In.Thread.Tid < 0) {
		return // container events and the like belong to no process
	}
	var drill string
	if s.drillExt != nil {
		dv, ok := s.drillExt(c)
		if !ok {
			return // no key: the event does not belong to a row
		}
		drill = string(fields.AppendText(nil, dv))
	}
	var key string
	if v.IsList() {
		s.seq++
		key = strconv.FormatUint(s.seq, 10)
	} else {
		key = drill
	}
	g := s.groups[key]
	if g == nil {
		if v.IsList() && len(s.order) >= maxListRows {
			delete(s.groups, s.order[0])
			s.order = s.order[1:]
		}
		n := len(v.Cols)
		g = &group{num: make([]float64, n), cnt: make([]int64, n), text: make([]string, n), drill: drill, pid: -1, seq: s.seq}
		s.groups[key] = g
		if v.IsList() {
			s.order = append(s.order, key)
		}
	}
	if v.Threads && c.In.Thread != nil {
		g.pid = c.In.Thread.Pid
	}
	for i, col := range v.Cols {
		val, ok := s.ext[i](c)
		if !ok {
			continue
		}
		switch col.Agg {
		case AggLast:
			if val.Kind == fields.KString || val.Kind == fields.KBytes {
				if len(val.Str) > 0 || g.text[i] == "" {
					g.text[i] = string(val.Str)
				}
			} else {
				s.key = fields.AppendText(s.key[:0], val)
				g.text[i] = string(s.key)
			}
			g.num[i] = number(val)
		case AggSum, AggTimeAvg, AggAvg:
			g.num[i] += number(val)
		case AggMax:
			if f := number(val); f > g.num[i] || g.cnt[i] == 0 {
				g.num[i] = f
			}
		case AggDistinct:
			if g.distinct == nil {
				g.distinct = make([]map[string]struct{}, len(v.Cols))
			}
			if g.distinct[i] == nil {
				g.distinct[i] = map[string]struct{}{}
			}
			s.key = fields.AppendText(s.key[:0], val)
			if len(s.key) > 0 && s.key[0] == '-' {
				continue // no process (-1)
			}
			if _, seen := g.distinct[i][string(s.key)]; !seen {
				g.distinct[i][string(s.key)] = struct{}{}
			}
			g.num[i] = float64(len(g.distinct[i]))
		}
		g.cnt[i]++
	}
}

// Snapshot returns the table collected so far; with reset (live), the next interval starts
// empty. secs is the interval's length (live: wall time); 0 uses the events' time span.
func (s *Sink) Snapshot(reset bool, secs float64) (*Table, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.snapshotLockedSecs(false, secs)
	n := s.events
	if reset {
		s.resetLocked()
		s.firstTS = 0
	}
	return t, n
}

// Final returns the snapshot of a replay that read its capture to the end.
func (s *Sink) Final() *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked(true)
}

func (s *Sink) snapshotLocked(final bool) *Table {
	return s.snapshotLockedSecs(final, 0)
}

func (s *Sink) snapshotLockedSecs(final bool, secs float64) *Table {
	if secs == 0 && s.lastTS > s.firstTS {
		secs = float64(s.lastTS-s.firstTS) / 1e9
	}
	t := &Table{Query: s.q, Secs: secs, Final: final}
	if s.q.View == nil {
		return t
	}
	if s.q.Mode != ModeTable {
		t.Lines = append([]string(nil), s.lines...)
		return t
	}
	v := s.q.View
	var vis []int
	for i, c := range v.Cols {
		if c.Width >= 0 {
			vis = append(vis, i)
			t.Cols = append(t.Cols, c)
		}
	}
	keys := s.order
	if !v.IsList() {
		keys = make([]string, 0, len(s.groups))
		for k := range s.groups {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		g := s.groups[k]
		r := Row{Drill: g.drill, Pid: g.pid}
		for _, i := range vis {
			col := v.Cols[i]
			f := g.num[i]
			switch col.Agg {
			case AggTimeAvg:
				if secs > 0 {
					f /= secs
				} else {
					f = 0
				}
			case AggAvg:
				if g.cnt[i] > 0 {
					f /= float64(g.cnt[i])
				}
			}
			if col.Div > 0 {
				if d := g.num[col.Div]; d > 0 {
					f /= d
				}
			}
			r.Nums = append(r.Nums, f)
			if col.Agg == AggLast && col.Fmt == FmtText {
				r.Cells = append(r.Cells, g.text[i])
			} else if col.Agg == AggLast && g.cnt[i] == 0 {
				r.Cells = append(r.Cells, "")
			} else {
				r.Cells = append(r.Cells, formatValue(col.Fmt, f))
			}
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// Close is the sink's end: the capture has been read.
func (s *Sink) Close() error { return nil }

package session

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/state"
)

// rawEvent builds a v2 event with 8-byte parameters.
func rawEvent(ts uint64, tid int64, typ uint16, params ...uint64) []byte {
	n := 26 + 10*len(params)
	b := binary.LittleEndian.AppendUint64(nil, ts)
	b = binary.LittleEndian.AppendUint64(b, uint64(tid))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(params)))
	for range params {
		b = binary.LittleEndian.AppendUint16(b, 8)
	}
	for _, p := range params {
		b = binary.LittleEndian.AppendUint64(b, p)
	}
	return b
}

// fakeSource replays raw events, with dump flags, then io.EOF; err, when set, comes instead of
// the event at index errAt.
type fakeSource struct {
	raws  [][]byte
	flags []uint32
	i     int
	errAt int
	err   error
}

func (f *fakeSource) Next(ev *event.Event) error {
	if f.err != nil && f.i == f.errAt {
		return f.err
	}
	if f.i >= len(f.raws) {
		return io.EOF
	}
	raw := f.raws[f.i]
	if err := ev.Set(raw, event.HeaderV2, event.Lookup(binary.LittleEndian.Uint16(raw[20:]))); err != nil {
		return err
	}
	ev.DumpFlags = 0
	if f.flags != nil {
		ev.DumpFlags = f.flags[f.i]
	}
	f.i++
	ev.Num = uint64(f.i)
	return nil
}

type countSink struct {
	nums []uint64
	err  error
}

func (s *countSink) Event(c *fields.Ctx) error {
	s.nums = append(s.nums, c.Ev.Num)
	return s.err
}

type recDump struct{ got []string }

func (d *recDump) Write(ev *event.Event, flags uint32) error {
	d.got = append(d.got, ev.Info.Name+string(ev.Info.Dir)+map[bool]string{true: "(hidden)", false: ""}[flags&capture.DumpStateOnly != 0])
	return nil
}

// workload: close enter/exit pairs of tids 1 and 2, a second apart, and a procinfo of tid 2.
func workload() *fakeSource {
	f := &fakeSource{}
	for i := uint64(0); i < 5; i++ {
		f.raws = append(f.raws,
			rawEvent(1e9*i+1, 1, 4, 3),      // close > (tid 1)
			rawEvent(1e9*i+2, 1, 5, 0),      // close <
			rawEvent(1e9*i+3, 2, 4, 4),      // close > (tid 2)
			rawEvent(1e9*i+4, 2, 5, 0),      // close <
			rawEvent(1e9*i+5, 2, 234, 1, 2)) // procinfo (internal)
	}
	return f
}

func newLoop(t *testing.T, src Source, flt string) (*Loop, *countSink) {
	t.Helper()
	in := state.New()
	l := &Loop{Src: src, State: in, Ctx: &fields.Ctx{In: in}}
	if flt != "" {
		f, err := filter.Compile(flt)
		if err != nil {
			t.Fatal(err)
		}
		l.Filter = f
	}
	s := &countSink{}
	l.Sinks = []Sink{s}
	return l, s
}

func TestLoopCountsFilteredEvents(t *testing.T) {
	l, s := newLoop(t, workload(), "thread.tid=2 and evt.type=close")
	l.MaxEvents = 3
	if err := l.Run(); err != nil {
		t.Fatal(err)
	}
	// -n counts events that passed the filter: tid 2's close events 3, 4 and 8.
	if want := []uint64{3, 4, 8}; !slices.Equal(s.nums, want) || l.Captured != 3 {
		t.Errorf("events %v (captured %d), want %v", s.nums, l.Captured, want)
	}
	if l.Ctx.FirstTS != 1 {
		t.Errorf("first timestamp %d, want the first event's, filtered out or not", l.Ctx.FirstTS)
	}
}

func TestLoopStopAfterInEventTime(t *testing.T) {
	l, s := newLoop(t, workload(), "thread.tid=2 and evt.dir=<")
	l.Duration = 2e9
	if err := l.Run(); err != nil {
		t.Fatal(err)
	}
	// From the first match (event 4, ts 4), events before ts 2e9+4 pass: 4 and 9 (ts 1e9+4);
	// the next match, event 14 at ts 2e9+4, ends the capture.
	if want := []uint64{4, 9}; !slices.Equal(s.nums, want) {
		t.Errorf("events %v, want %v", s.nums, want)
	}
}

func TestLoopDumpFlags(t *testing.T) {
	for _, fat := range []bool{false, true} {
		src := &fakeSource{raws: [][]byte{
			rawEvent(1, 1, 4, 3), rawEvent(2, 1, 5, 0), // close of tid 1: filtered out, changes state
			rawEvent(3, 2, 4, 4), rawEvent(4, 2, 5, 0), // close of tid 2: passes
			rawEvent(5, 1, 234, 1, 2), // procinfo: internal
			rawEvent(6, 1, 8, 1, 2),   // write > of tid 1: filtered out, changes no state
		}}
		l, _ := newLoop(t, src, "thread.tid=2")
		d := &recDump{}
		l.Dump, l.Fatfile = d, fat
		if err := l.Run(); err != nil {
			t.Fatal(err)
		}
		want := []string{"close>", "close<", "procinfo>"}
		if fat {
			want = []string{"close>(hidden)", "close<(hidden)", "close>", "close<", "procinfo>"}
		}
		if !slices.Equal(d.got, want) {
			t.Errorf("fatfile %v: wrote %v, want %v", fat, d.got, want)
		}
	}
}

func TestLoopEndings(t *testing.T) {
	// A sink's ErrStop and a broken pipe end the run quietly, another error is returned.
	for _, c := range []struct {
		err  error
		want error
	}{{ErrStop, nil}, {ErrBrokenPipe, nil}, {io.ErrShortWrite, io.ErrShortWrite}} {
		l, s := newLoop(t, workload(), "")
		s.err = c.err
		if err := l.Run(); !errors.Is(err, c.want) || len(s.nums) != 1 {
			t.Errorf("sink error %v: Run %v after %d events", c.err, err, len(s.nums))
		}
	}
	// A source error is a SourceError; Stop ends the run before the next event.
	src := workload()
	src.err, src.errAt = io.ErrUnexpectedEOF, 3
	l, _ := newLoop(t, src, "")
	var se *SourceError
	if err := l.Run(); !errors.As(err, &se) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("source error: Run %v", err)
	}
	l, s := newLoop(t, workload(), "")
	s.err = nil
	l.Stop()
	if err := l.Run(); err != nil || len(s.nums) != 0 {
		t.Errorf("stopped: Run %v after %d events", err, len(s.nums))
	}
}

// The per-event path allocates nothing once the state knows the threads.
func TestLoopAllocatesNothing(t *testing.T) {
	src := workload()
	l, _ := newLoop(t, src, "evt.type=close and thread.tid=2")
	l.Sinks = []Sink{nopSink{}}
	l.Run() // the threads enter the state
	allocs := testing.AllocsPerRun(20, func() {
		src.i = 0
		l.Run()
	})
	if perEvent := allocs / float64(len(src.raws)); perEvent > 0 {
		t.Errorf("%.2f allocations per event", perEvent)
	}
}

type nopSink struct{}

func (nopSink) Event(*fields.Ctx) error { return nil }

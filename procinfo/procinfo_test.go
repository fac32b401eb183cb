package procinfo

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/event"
)

func TestParseStatCPU(t *testing.T) {
	stat := "4242 (a) b (c)) R 1 4242 4242 0 -1 4194304 100 0 0 0 731 29 0 0 20 0 1 0 1000 1000 100\n"
	usr, sys, ok := ParseStatCPU([]byte(stat))
	if !ok || usr != 731 || sys != 29 {
		t.Errorf("ParseStatCPU = %d %d %v, want 731 29", usr, sys, ok)
	}
	if _, _, ok := ParseStatCPU([]byte("4242 (x) R 1 2")); ok {
		t.Error("a truncated stat parsed")
	}
}

// writeStat writes ROOT/PID/task/TID/stat.
func writeStat(t *testing.T, root string, pid, tid int64, stat string) {
	t.Helper()
	dir := filepath.Join(root, strconv.FormatInt(pid, 10), "task", strconv.FormatInt(tid, 10))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
}

type fakeSource struct{ n int }

func (f *fakeSource) Next(ev *event.Event) error {
	if f.n == 0 {
		return io.EOF
	}
	f.n--
	raw := Append(nil, uint64(1000+f.n), 1, 0, 0)
	return ev.Set(raw, event.HeaderV2, event.Lookup(234))
}

// TestSourceRound checks that a round emits one procinfo event per thread /proc has, with
// its ticks, numbered in sequence with the wrapped source's events, and skips gone threads.
func TestSourceRound(t *testing.T) {
	root := t.TempDir()
	writeStat(t, root, 10, 11, "11 (w) R 1 10 10 0 -1 0 0 0 0 0 50 7 0 0\n")
	clock := time.Unix(100, 0)
	s := &Source{Src: &fakeSource{n: 2}, Root: root, now: func() time.Time { return clock },
		Threads: func(fn func(tid, pid int64)) { fn(11, 10); fn(12, 10) }}
	var ev event.Event
	var got []uint64
	for {
		err := s.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Num)
		if ev.Tid == 11 {
			usr, _ := ev.Uint(0)
			sys, _ := ev.Uint(1)
			if usr != 50 || sys != 7 {
				t.Errorf("procinfo of 11: %d %d", usr, sys)
			}
		}
		if ev.Tid == 12 {
			t.Error("a thread /proc does not have got a procinfo event")
		}
	}
	// event 1 from the source, then the round (one thread), then the source's second, then
	// the last round at the source's end.
	if len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Errorf("event numbers %v, want [1 2 3 4]", got)
	}
	if ev.Tid != 11 || ev.Type != 234 {
		t.Errorf("the last event is %d of tid %d, want the last round's procinfo of 11", ev.Type, ev.Tid)
	}
}

// TestSourceOrderAndCadence checks that every round reports the threads in tid order whatever
// order the state gives them in, and that rounds keep a one-second cadence from the first one
// (a late round does not push the next ones later), so a thread's consecutive reads are a
// second apart and thread.cpu's capped tick delta is its share.
func TestSourceOrderAndCadence(t *testing.T) {
	root := t.TempDir()
	tids := []int64{30, 7, 19, 3, 25}
	for _, tid := range tids {
		writeStat(t, root, 3, tid, strconv.FormatInt(tid, 10)+" (w) R 1 3 3 0 -1 0 0 0 0 0 10 1 0 0\n")
	}
	clock := time.Unix(100, 0)
	s := &Source{Src: &fakeSource{n: 1 << 20}, Root: root, now: func() time.Time { return clock }, clockEvery: 1,
		Threads: func(fn func(tid, pid int64)) {
			for _, tid := range tids { // not in tid order
				fn(tid, 3)
			}
		}}
	var ev event.Event
	var rounds []time.Time
	var order []int64
	// Each source event advances the clock 10 ms; one round is late by 300 ms.
	for i := 0; i < 700; i++ {
		if err := s.Next(&ev); err != nil {
			t.Fatal(err)
		}
		if ev.Tid != 1 {
			if len(order) == 0 || ev.Tid < order[len(order)-1] {
				rounds = append(rounds, clock)
			}
			order = append(order, ev.Tid)
			continue
		}
		clock = clock.Add(10 * time.Millisecond)
		if i == 250 {
			clock = clock.Add(300 * time.Millisecond)
		}
	}
	for i := 0; i < len(order); i += len(tids) {
		if r := order[i:min(i+len(tids), len(order))]; !slices.IsSorted(r) {
			t.Errorf("round %d reports tids %v, want them in order", i/len(tids), r)
		}
	}
	if len(rounds) < 5 {
		t.Fatalf("%d rounds in 7 s", len(rounds))
	}
	start := rounds[0]
	for i, r := range rounds {
		// Round i starts within one event (10 ms) of start+i s, but for the late one.
		late := r.Sub(start) - time.Duration(i)*time.Second
		if late > 20*time.Millisecond && !(late <= 320*time.Millisecond && i == 3) {
			t.Errorf("round %d started %v after its second", i, late)
		}
	}
}

// quietSource has one event and then nothing more until its deadline, each time: the machine
// is quiet (a busy loop makes no system calls, gosysdig's own are not traced).
type quietSource struct {
	clock    *time.Time
	sent     bool
	deadline time.Time
	horizon  uint64
	idles    int
}

func (q *quietSource) Next(ev *event.Event) error {
	if !q.sent {
		q.sent = true
		return ev.Set(Append(nil, 5_000_000_000, 1, 0, 0), event.HeaderV2, event.Lookup(234))
	}
	if q.deadline.IsZero() || q.idles == 8 {
		return io.EOF
	}
	q.idles++
	// The wait ends at the deadline; meanwhile the source's events became complete up to then.
	q.horizon += uint64(q.deadline.Sub(*q.clock))
	*q.clock = q.deadline
	return os.ErrDeadlineExceeded
}

func (q *quietSource) SetDeadline(t time.Time) { q.deadline = t }
func (q *quietSource) Horizon() uint64         { return q.horizon }

// TestSourceRoundsWhenQuiet checks that with an IdleSource the rounds come every second while
// no event does, each stamped with the source's horizon (later than the last event, in order):
// before, a round waited for the next event, and a round late by seconds lost all but one
// second of a busy thread's CPU to thread.cpu's cap (topprocs_cpu gave a busy loop 27%).
func TestSourceRoundsWhenQuiet(t *testing.T) {
	root := t.TempDir()
	writeStat(t, root, 8, 8, "8 (w) R 1 8 8 0 -1 0 0 0 0 0 50 7 0 0\n")
	clock := time.Unix(100, 0)
	q := &quietSource{clock: &clock, horizon: 5_000_000_000}
	s := &Source{Src: q, Root: root, now: func() time.Time { return clock },
		Threads: func(fn func(tid, pid int64)) { fn(8, 8) }}
	var ev event.Event
	var stamps []uint64
	var at []time.Time
	for {
		err := s.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Tid == 8 {
			stamps = append(stamps, ev.TS)
			at = append(at, clock)
		}
	}
	// The first round right after the event, one per idle second, the last at the end.
	if len(stamps) != 10 {
		t.Fatalf("%d rounds over 8 quiet seconds, want 10 (at %v)", len(stamps), at)
	}
	for i := 1; i < len(stamps)-1; i++ {
		if d := at[i].Sub(at[i-1]); d != time.Second {
			t.Errorf("round %d came %v after the one before, want 1s", i, d)
		}
		if stamps[i] != 5_000_000_000+uint64(i)*1e9 {
			t.Errorf("round %d stamped %d, want the horizon %d", i, stamps[i], 5_000_000_000+uint64(i)*1e9)
		}
	}
}

// clockSource's events carry the (fake) clock's time, as the live probe's carry the wall
// clock's, and each advances it by step.
type clockSource struct {
	clock *time.Time
	step  time.Duration
	n     int
}

func (c *clockSource) Next(ev *event.Event) error {
	if c.n == 0 {
		return io.EOF
	}
	c.n--
	*c.clock = c.clock.Add(c.step)
	raw := Append(nil, uint64(c.clock.UnixNano()), 1, 0, 0)
	return ev.Set(raw, event.HeaderV2, event.Lookup(234))
}

// TestSourceReadsClockRarely: at a high event rate the clock is read about once per
// clockEvery events, not per event, and the rounds still come on time, because the events'
// own times say when one is due.
func TestSourceReadsClockRarely(t *testing.T) {
	root := t.TempDir()
	writeStat(t, root, 8, 8, "8 (w) R 1 8 8 0 -1 0 0 0 0 0 50 7 0 0\n")
	clock := time.Unix(100, 0)
	reads := 0
	const n = 3_000_000 // 3 s at 1M events/s
	s := &Source{Src: &clockSource{clock: &clock, step: time.Microsecond, n: n}, Root: root,
		now:     func() time.Time { reads++; return clock },
		Threads: func(fn func(tid, pid int64)) { fn(8, 8) }}
	var ev event.Event
	var rounds []time.Time
	for {
		err := s.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Tid == 8 && !s.ended {
			rounds = append(rounds, clock)
		}
	}
	if reads > n/clockEvery+len(rounds)+10 {
		t.Errorf("%d clock reads for %d events", reads, n)
	}
	if len(rounds) != 3 {
		t.Fatalf("%d rounds in 3 s: %v", len(rounds), rounds)
	}
	for i := 1; i < len(rounds); i++ {
		if d := rounds[i].Sub(rounds[i-1]); d < time.Second || d > time.Second+10*time.Microsecond {
			t.Errorf("round %d came %v after the one before", i, d)
		}
	}
}

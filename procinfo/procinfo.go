// Package procinfo adds to a live event stream the procinfo events sysdig's driver emits: per
// thread, its user and system CPU time in clock ticks, so that thread.cpu, the topprocs_cpu and
// topcontainers_cpu chisels and the UI's CPU columns have figures live, in -w files and when
// sysdig reads those files. The probe does not emit them: they are read from /proc once per
// interval (a second, the period sysdig's thread.cpu percentages assume) for every thread the
// state knows, and interleaved with the probe's events at the stream's current timestamp.
package procinfo

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/gosysdig/gosysdig/event"
)

// EventSource is what Source wraps: the live probe's source.
type EventSource interface {
	Next(ev *event.Event) error
}

// IdleSource is an EventSource that can stop waiting: after SetDeadline(t), Next returns an
// error wrapping os.ErrDeadlineExceeded when no event came by t, and Horizon is the timestamp up
// to which its events are complete. A Src that is one gets its rounds on time on a quiet machine
// too; otherwise a round waits for the next event, and a round late by more than a second loses
// CPU time to thread.cpu's cap.
type IdleSource interface {
	EventSource
	SetDeadline(t time.Time)
	Horizon() uint64
}

// Source interleaves procinfo events with Src's. It also numbers every event it returns (the
// procinfo events count as events, as the driver's do).
type Source struct {
	Src EventSource
	// Threads calls fn for every thread the state knows (tid and pid).
	Threads func(fn func(tid, pid int64))
	// Refresh, when set, is called before each round (the UI adds processes the state misses).
	Refresh func()
	// Root is the proc file system ("" means /proc); Interval the period (0 means a second).
	Root     string
	Interval time.Duration

	now         func() time.Time
	next        time.Time
	nextTS      uint64     // next in the events' time base (ns since the epoch)
	sinceClock  int        // events since the clock was last read
	deadlineSet time.Time  // the deadline last given to an IdleSource Src
	clockEvery  int        // 0: clockEvery (tests whose events' times are not the clock's set 1)
	pending     [][2]int64 // tid, pid pairs still to report in this round, by tid
	lastTS      uint64
	ended       bool // the last round, at the source's end, is done
	num         uint64
	raw         []byte
	buf         []byte
	path        []byte
}

var procinfoInfo = event.Lookup(234)

// Next returns the next event: a procinfo event of the current round, or Src's next.
func (s *Source) Next(ev *event.Event) error {
	if s.now == nil {
		s.now = time.Now
	}
	// The clock is read when the events' own time says the round may be due, or every
	// clockEvery events: reading it for each event cost an eighth of the live path at 1M
	// events/s. (A quiet source gets its rounds from the deadline below.)
	s.sinceClock++
	every := s.clockEvery
	if every <= 0 {
		every = clockEvery
	}
	due := len(s.pending) == 0 && s.lastTS != 0 && (s.next.IsZero() || s.sinceClock >= every || s.lastTS >= s.nextTS)
	if due {
		s.sinceClock = 0
		if now := s.now(); !now.Before(s.next) {
			s.startRound(now)
		}
	}
	for len(s.pending) > 0 {
		tid, pid := s.pending[0][0], s.pending[0][1]
		s.pending = s.pending[1:]
		usr, sys, ok := s.threadCPU(pid, tid)
		if !ok {
			continue
		}
		s.raw = Append(s.raw[:0], s.lastTS, tid, usr, sys)
		if err := ev.Set(s.raw, event.HeaderV2, procinfoInfo); err != nil {
			continue
		}
		s.num++
		ev.Num, ev.CPU, ev.DumpFlags = s.num, 0, 0
		return nil
	}
	idle, _ := s.Src.(IdleSource)
	if idle != nil && s.lastTS != 0 && !s.ended && !s.deadlineSet.Equal(s.next) {
		idle.SetDeadline(s.next)
		s.deadlineSet = s.next
	}
	err := s.Src.Next(ev)
	if err == nil {
		s.lastTS = ev.TS
		s.num++
		ev.Num = s.num
		return nil
	}
	if idle != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// Nothing happened before the round was due: it goes now, stamped with the time
		// the source's events are complete up to, so it stays in order with them.
		idle.SetDeadline(time.Time{})
		s.deadlineSet = time.Time{}
		s.sinceClock = max(s.clockEvery, clockEvery) // the round is due: read the clock
		if h := idle.Horizon(); h > s.lastTS {
			s.lastTS = h
		}
		return s.Next(ev)
	}
	if errors.Is(err, io.EOF) && !s.ended && s.lastTS != 0 {
		// A last round when the source ends: the CPU used since the last round is in the
		// capture too, so a capture's thread.cpu sums (topprocs_cpu over a file) cover all of
		// it rather than stopping up to a second short.
		s.ended = true
		s.queueThreads()
		return s.Next(ev)
	}
	return err
}

// clockEvery bounds the events between two reads of the clock (about a millisecond at 1M
// events/s).
const clockEvery = 1024

// startRound schedules the next round a period after this one and queues this one's reads.
func (s *Source) startRound(now time.Time) {
	iv := s.Interval
	if iv <= 0 {
		iv = time.Second
	}
	// Rounds keep a one-second cadence (not a second after a late round) and visit the
	// threads in one order, tid by tid: thread.cpu is the tick delta between a thread's
	// consecutive reads, capped at 100 as sysdig caps it, so a thread read early in one
	// round and late in the next (a map's order) would report a busy thread's 100% as
	// 80% or lose what a long gap adds above the cap.
	if s.next = s.next.Add(iv); s.next.Before(now) {
		s.next = now.Add(iv)
	}
	s.nextTS = uint64(s.next.UnixNano())
	if s.Refresh != nil {
		s.Refresh()
	}
	s.queueThreads()
}

// queueThreads queues a round's reads: every thread the state knows, in tid order.
func (s *Source) queueThreads() {
	s.Threads(func(tid, pid int64) { s.pending = append(s.pending, [2]int64{tid, pid}) })
	slices.SortFunc(s.pending, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
}

// threadCPU reads a thread's utime and stime (clock ticks) from ROOT/PID/task/TID/stat.
func (s *Source) threadCPU(pid, tid int64) (usr, sys uint64, ok bool) {
	root := s.Root
	if root == "" {
		root = "/proc"
	}
	s.path = append(s.path[:0], root...)
	s.path = append(s.path, '/')
	s.path = strconv.AppendInt(s.path, pid, 10)
	s.path = append(s.path, "/task/"...)
	s.path = strconv.AppendInt(s.path, tid, 10)
	s.path = append(s.path, "/stat"...)
	f, err := os.Open(string(s.path))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	if cap(s.buf) < 1024 {
		s.buf = make([]byte, 1024)
	}
	n, _ := f.Read(s.buf[:cap(s.buf)])
	return ParseStatCPU(s.buf[:n])
}

// ParseStatCPU takes utime and stime (fields 14 and 15 of proc(5)) from a stat file's text.
func ParseStatCPU(b []byte) (usr, sys uint64, ok bool) {
	// comm may hold spaces and parentheses: the fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	b = b[i+1:]
	field := 2 // the state, field 3, comes next
	var ok1, ok2 bool
	for len(b) > 0 && field < 15 {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			j = len(b)
		}
		field++
		tok := bytes.TrimSpace(b[:j])
		b = b[j:]
		switch field {
		case 14:
			usr, ok1 = parseUint(tok)
		case 15:
			sys, ok2 = parseUint(tok)
		}
	}
	return usr, sys, ok1 && ok2
}

func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// Append encodes a procinfo event (type 234: cpu_usr, cpu_sys) with a v2 header.
func Append(b []byte, ts uint64, tid int64, usr, sys uint64) []byte {
	const n = event.HeaderV2 + 2*2 + 2*8
	b = binary.LittleEndian.AppendUint64(b, ts)
	b = binary.LittleEndian.AppendUint64(b, uint64(tid))
	b = binary.LittleEndian.AppendUint32(b, n)
	b = binary.LittleEndian.AppendUint16(b, 234)
	b = binary.LittleEndian.AppendUint32(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint64(b, usr)
	return binary.LittleEndian.AppendUint64(b, sys)
}

package state

import (
	"testing"
	"time"
)

// TestFDLimit keeps at most MaxFDs fds per table: an fd opened past it is not kept and its
// event has no fd information (as sysdig's fd table, 4096 by default); replacing an fd that
// is in the table still works; every one kept out is counted.
func TestFDLimit(t *testing.T) {
	f := newFeeder(t)
	f.in.SetLimits(Limits{MaxFDs: 3}) // fd 0 is there already
	for fd := int64(3); fd < 7; fd++ {
		f.ev(100, 2, str("a"), u32(1), u32(0))
		f.ev(100, 3, i64(fd), str("a"), u32(1), u32(0))
	}
	tbl := f.in.Lookup(100).FDs()
	if tbl.Len() != 3 || f.in.Lookup(100).FD(5) != nil {
		t.Fatalf("%d fds kept, fd 5 %+v: want 0, 3 and 4", tbl.Len(), f.in.Lookup(100).FD(5))
	}
	if f.in.FD != nil || f.in.FDNum != 6 {
		t.Errorf("the open past the limit shows fd %+v (%d)", f.in.FD, f.in.FDNum)
	}
	// dup2 over a kept fd replaces it in place.
	f.ev(100, 124, i64(0))
	f.ev(100, 125, i64(4))
	if _, fds, _, _ := f.in.Dropped(); fds != 2 || tbl.Len() != 3 {
		t.Errorf("%d fds counted dropped (want 2), %d in the table", fds, tbl.Len())
	}
}

// TestThreadLimit keeps at most MaxThreads threads: clones past it are not kept, counted.
func TestThreadLimit(t *testing.T) {
	f := newFeeder(t) // threads 100 and 101
	f.in.SetLimits(Limits{MaxThreads: 3})
	for tid := int64(300); tid < 303; tid++ {
		f.ev(tid, 4, i64(0)) // a thread first seen in its event
	}
	if f.in.Lookup(300) == nil || f.in.Lookup(301) != nil || f.in.Lookup(302) != nil {
		t.Errorf("threads kept past the limit")
	}
	if th, _, _, _ := f.in.Dropped(); th != 2 {
		t.Errorf("%d threads counted dropped, want 2", th)
	}
	if f.in.Thread == nil || f.in.Thread.Tid != 302 {
		t.Error("an event of a thread kept out has no thread")
	}
}

// TestThreadScan removes, live, the threads whose exit was never seen: no event for the
// timeout and gone from the system; a quiet thread that still exists stays.
func TestThreadScan(t *testing.T) {
	f := newFeeder(t) // 100 and 101 from the header, 400 and 401 from events
	f.in.SetLimits(Limits{ThreadTimeout: 10 * time.Second})
	gone := map[int64]bool{101: true, 400: true}
	f.in.SetThreadAlive(func(pid, tid int64) bool { return !gone[tid] })
	f.ev(400, 4, i64(0))
	f.ev(401, 4, i64(0))
	f.ts += uint64(11 * time.Second) // the first scan is due; 400 and 401 quiet for 11 s
	f.ev(100, 4, i64(0))
	for tid, want := range map[int64]bool{100: true, 101: false, 400: false, 401: true} {
		if (f.in.Lookup(tid) != nil) != want {
			t.Errorf("thread %d kept %v, want %v", tid, !want, want)
		}
	}
	if _, _, _, purged := f.in.Dropped(); purged != 2 {
		t.Errorf("%d threads purged, want 2", purged)
	}
}

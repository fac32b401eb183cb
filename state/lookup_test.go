package state

import (
	"testing"

	"github.com/gosysdig/gosysdig/capture"
)

// TestThreadLookup checks the live thread lookup: an unknown tid is looked up once and then
// known (its process's fd table shared by a new thread of it), a tid that is gone is asked
// about once however many events name it, and without a lookup (replay) a placeholder is made.
func TestThreadLookup(t *testing.T) {
	f := newFeeder(t)
	asked := map[int64]int{}
	f.in.SetThreadLookup(LookupFromProcessList(func(tid int64) (capture.Thread, bool) {
		asked[tid]++
		switch tid {
		case 200:
			return capture.Thread{Tid: 200, Pid: 200, Ptid: 100, Comm: "late", Exe: "/usr/bin/late",
				Args: []string{"-x"}, LoginUid: -1}, true
		case 102: // a new thread of the scanned process 100
			return capture.Thread{Tid: 102, Pid: 100, Ptid: 1, Comm: "bash", Flags: clCloneThread | clCloneFiles, LoginUid: -1}, true
		}
		return capture.Thread{}, false
	}))
	for i := 0; i < 3; i++ {
		f.ev(200, 2, str("/etc/hostname"), u32(1), u32(0))
		f.ev(300, 2, str("/etc/hostname"), u32(1), u32(0))
	}
	if asked[200] != 1 || asked[300] != 1 {
		t.Errorf("lookups: %v, want one for each tid", asked)
	}
	th := f.in.Lookup(200)
	if th == nil || th.Comm != "late" || th.Exe != "/usr/bin/late" || len(th.Args) != 1 {
		t.Fatalf("looked-up thread = %+v", th)
	}
	if p := f.in.Parent(th); p == nil || p.Comm != "bash" {
		t.Errorf("parent of the looked-up thread = %+v", p)
	}
	if th := f.in.Lookup(300); th == nil || th.Comm != "<NA>" {
		t.Errorf("a thread /proc does not have is not a placeholder: %+v", th)
	}
	f.ev(102, 2, str("/etc/hostname"), u32(1), u32(0))
	if th := f.in.Lookup(102); th == nil || th.FDs() != f.in.Lookup(100).FDs() {
		t.Error("a looked-up thread does not share its process's fd table")
	}
	// A clone that reuses a tid remembered as gone makes it known again.
	f.ev(100, 223, cloneExit(t, 300, 100, 100, 1, 100, 100, 0, "x")...)
	if _, gone := f.in.missing[300]; gone {
		t.Error("a tid reused by a clone stays in the negative cache")
	}

	// Replay: no lookup, placeholders.
	g := newFeeder(t)
	g.ev(200, 2, str("/etc/hostname"), u32(1), u32(0))
	if th := g.in.Lookup(200); th == nil || th.Comm != "<NA>" {
		t.Errorf("without a lookup an unknown thread is %+v", th)
	}
}

// TestThreadLookupBounded checks that the negative cache stays bounded under tid churn.
func TestThreadLookupBounded(t *testing.T) {
	in := New()
	in.SetThreadLookup(func(int64) *Thread { return nil })
	for tid := int64(1); tid <= 3*maxMissing; tid++ {
		in.lookUp(tid)
	}
	if len(in.missing) > maxMissing {
		t.Errorf("negative cache holds %d tids, more than %d", len(in.missing), maxMissing)
	}
}

package state

import (
	"fmt"
	"testing"
)

// TestPurgeContainers checks libsinsp's live container removal: every 30 s of event time (the
// first time 30 s after the first event) the containers no thread is in are dropped, those
// with a thread stay; offline nothing is dropped; under churn the table stays bounded.
func TestPurgeContainers(t *testing.T) {
	f := newFeeder(t)
	f.in.PurgeContainers(true)
	in := f.in
	in.Containers.Add(&Container{ID: "aaaaaaaaaaaa"})
	in.Containers.Add(&Container{ID: "bbbbbbbbbbbb"})
	in.Lookup(100).ContainerID = "aaaaaaaaaaaa"
	f.ev(100, 2, str("/etc/hostname"), u32(1), u32(0)) // first event: the clock starts
	f.ts += ContainerScanInterval - 5000
	f.ev(100, 2, str("/etc/hostname"), u32(1), u32(0))
	if in.Containers.Get("bbbbbbbbbbbb") == nil {
		t.Fatal("a container was dropped before 30 s of event time")
	}
	f.ts += 10000
	f.ev(100, 2, str("/etc/hostname"), u32(1), u32(0))
	if in.Containers.Get("bbbbbbbbbbbb") != nil {
		t.Error("a container without threads was kept after 30 s")
	}
	if in.Containers.Get("aaaaaaaaaaaa") == nil {
		t.Error("a container with a thread was dropped")
	}

	// Churn: a thousand containers each with one short-lived thread.
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("%012x", i)
		in.Containers.Add(&Container{ID: id})
		tid := int64(1000 + i)
		f.ev(tid, 2, str("/etc/hostname"), u32(1), u32(0))
		in.Lookup(tid).ContainerID = id
		f.ev(tid, 186, i64(0), i64(0), u32(0), u32(0), u32(0)) // procexit_1
		f.ts += ContainerScanInterval / 10
	}
	f.ev(100, 2, str("/etc/hostname"), u32(1), u32(0))
	n := 0
	in.Containers.Each(func(*Container) { n++ })
	if n > 15 {
		t.Errorf("%d containers kept under churn, want at most the last 30 s's", n)
	}

	// Offline (a replay): containers stay.
	g := newFeeder(t)
	g.in.Containers.Add(&Container{ID: "cccccccccccc"})
	g.ev(100, 2, str("/etc/hostname"), u32(1), u32(0))
	g.ts += 2 * ContainerScanInterval
	g.ev(100, 2, str("/etc/hostname"), u32(1), u32(0))
	if g.in.Containers.Get("cccccccccccc") == nil {
		t.Error("a replay dropped a container")
	}
}

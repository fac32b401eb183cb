package state

import (
	"slices"
	"testing"
)

func TestSinspCgroups(t *testing.T) {
	got := sinspCgroups([]string{"cpuset=/", "io=/a", "perf=/", "mem=/m", "net_cls_cgroup=/x", "pids=/a=b", "memory=/k", "nosep"})
	want := []string{"cpuset=/", "blkio=/a", "perf_event=/", "memory=/m", "net_cls=/x", "pids=/a=b", "memory=/k", "nosep"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

package main

import (
	"encoding/binary"
	"fmt"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/state"
)

// checkFilterProclist applies sysdig's conditions on --filter-proclist.
func checkFilterProclist(o *options, args []string) error {
	if !o.filterProclist {
		return nil
	}
	if len(args) == 0 {
		return &exitError{code: 1, msg: "you must specify a filter if you use --filter-proclist."}
	}
	if o.read == "" {
		return &exitError{code: 1, msg: "--filter-proclist not supported with live captures."}
	}
	return nil
}

// filteredProclist is --filter-proclist: the process table a -w copy starts with keeps only
// what the filter selects, as libsinsp's sinsp_threadinfo::init does when saving. Each fd of
// each thread is tested as a fake read exit of that thread on that fd (no arguments, time 0);
// the fds that do not match are left out, and so is a thread none of whose fds matches (a
// thread without fds included). in must hold the header's threads (LoadHeader).
func filteredProclist(h *capture.Header, flt *filter.Filter, in *state.Inspector, ctx *fields.Ctx) (*capture.Header, error) {
	readX := -1
	for t := 0; t < event.MaxType; t++ {
		if info := event.Lookup(uint16(t)); info != nil && info.Name == "read" && info.Dir == '<' && info.Flags&event.EFOldVersion == 0 {
			readX = t
			break
		}
	}
	if readX < 0 {
		return nil, fmt.Errorf("--filter-proclist: no read exit event in the event table")
	}
	raw := make([]byte, event.HeaderV2)
	binary.LittleEndian.PutUint32(raw[16:], event.HeaderV2)
	binary.LittleEndian.PutUint16(raw[20:], uint16(readX))
	var ev event.Event
	savedEv, savedThread, savedFD, savedNum := ctx.Ev, in.Thread, in.FD, in.FDNum
	defer func() { ctx.Ev, in.Thread, in.FD, in.FDNum = savedEv, savedThread, savedFD, savedNum }()
	out := *h
	out.Threads = nil
	for i := range h.Threads {
		ct := h.Threads[i]
		t := in.Lookup(ct.Tid)
		if t == nil {
			continue
		}
		binary.LittleEndian.PutUint64(raw[8:], uint64(ct.Tid))
		if err := ev.Set(raw, event.HeaderV2, event.Lookup(uint16(readX))); err != nil {
			return nil, fmt.Errorf("--filter-proclist: %w", err)
		}
		ctx.Ev = &ev
		var kept []capture.FD
		for _, fd := range ct.FDs {
			in.Thread, in.FD, in.FDNum = t, t.FD(fd.Fd), fd.Fd
			if in.FD != nil && flt.Match(ctx) {
				kept = append(kept, fd)
			}
		}
		if len(kept) > 0 {
			ct.FDs = kept
			out.Threads = append(out.Threads, ct)
		}
	}
	return &out, nil
}

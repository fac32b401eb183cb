package state

import "github.com/gosysdig/gosysdig/event"

// With a filter (sysdig's inspector filter, the command line's), libsinsp runs the filter
// ahead of the parsers for every event that does not modify the state (EF_MODIFIES_STATE
// unset in the event table: reads and writes, brk/mmap/munmap, switches, getcwd, the rlimit
// calls...). An event the filter rejects is then never parsed: its memory sizes, page faults,
// fd limit, cwd or socket flags do not reach the state. The loop follows that order: Process
// parses such an event only up to the filter's needs (thread, fd, pairing), Parsed finishes it
// once the filter accepted it, and FilterRejected drops it.

// SetFiltered tells the inspector whether a filter selects the events it processes.
func (in *Inspector) SetFiltered(on bool) { in.filtered = on }

// deferParse reports whether ev's parsers wait for the filter, and keeps it for Parsed.
func (in *Inspector) deferParse(ev *event.Event, t *Thread, exit bool) bool {
	if !in.filtered || ev.Info.Flags&event.EFModifiesState != 0 {
		return false
	}
	in.deferred, in.deferredT, in.deferredExit = ev, t, exit
	return true
}

// Parsed runs the parsers the last event deferred (deferParse) now that the filter accepted
// it; the event must still be the one Process saw.
func (in *Inspector) Parsed() {
	ev, t := in.deferred, in.deferredT
	if ev == nil {
		return
	}
	in.deferred, in.deferredT = nil, nil
	if !in.deferredExit {
		in.parseEnter(ev, t)
		in.setNameChanged()
		return
	}
	if in.FDFallback {
		// The parsers see the event's own fd only; the fields' fallback comes after.
		in.FD, in.FDFallback = nil, false
	}
	in.parseExit(ev, t)
	in.fallbackFD(t, ev.Info)
	in.setNameChanged()
}

// FilterRejected tells the inspector that the filter rejected the event it processed last.
// Its deferred parsers never run, and, as libsinsp marks the thread of an event its filter
// rejects before parsing as having no call in progress (m_lastevent_type = PPM_EVENT_MAX; not
// for events that skip the parse reset nor for switches), the exit that follows a rejected
// enter is unpaired: no fd of its own, no enter parameters (with "evt.count.error.file exists"
// the exit of an ioctl whose enter the filter rejected is no file error).
func (in *Inspector) FilterRejected() {
	in.deferred, in.deferredT = nil, nil
	info, t := in.evInfo, in.Thread
	if info == nil || t == nil || in.NoEventThread {
		return
	}
	if info.Flags&(event.EFModifiesState|event.EFSkipParseReset) != 0 || info == event.Lookup(152) {
		return
	}
	t.lastType = event.MaxType
}

// filteredWriteFD is the lookup libsinsp makes for the filter before parsing a write exit
// (looking for its tracer fds): a write exit without an fd of its own (its enter unseen or
// rejected by the filter) takes its thread's last fd as the event's fd, not only as the fd
// fields' fallback, so evt.buflen and the evt.count.error fields read it.
func (in *Inspector) filteredWriteFD(ev *event.Event) {
	if in.filtered && ev.Type == 9 && in.FDFallback {
		in.FDFallback = false
	}
}

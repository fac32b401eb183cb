package state

import "github.com/gosysdig/gosysdig/event"

// unpairFiltered is what sysdig's filter does to an event it rejects before parsing it: libsinsp
// runs the filter ahead of the parsers for every event that does not modify the state
// (EF_MODIFIES_STATE unset) and, when the filter rejects one, marks its thread as having no
// call in progress (m_lastevent_type = PPM_EVENT_MAX; not for events that skip the parse reset
// nor for switch events). The exit that follows a rejected enter is then unpaired: it has no
// fd of its own and no enter parameters, so with "evt.count.error.file exists" the exit of an
// ioctl whose enter the filter rejected does not count as a file error.
//
// (libsinsp also skips the rejected event's parsers; the parsers here have run already, which
// only matters for the few state-reading parsers of non-state-modifying events: brk/mmap memory
// sizes, rlimit fd limits, getcwd.)
func (in *Inspector) unpairFiltered() {
	info, t := in.evInfo, in.Thread
	if info == nil || t == nil || in.NoEventThread {
		return
	}
	if info.Flags&(event.EFModifiesState|event.EFSkipParseReset) != 0 || info == event.Lookup(152) {
		return
	}
	t.lastType = event.MaxType
}

// SetFiltered tells the inspector whether a filter selects the events it processes (sysdig's
// inspector filter: the command line's). libsinsp's parser looks the event's fd up differently
// then (filteredWriteFD).
func (in *Inspector) SetFiltered(on bool) { in.filtered = on }

// filteredWriteFD is the lookup libsinsp makes for the filter before parsing a write exit
// (looking for its tracer fds): a write exit without an fd of its own (its enter unseen or
// rejected by the filter) takes its thread's last fd as the event's fd, not only as the fd
// fields' fallback, so evt.buflen and the evt.count.error fields read it.
func (in *Inspector) filteredWriteFD(ev *event.Event) {
	if in.filtered && ev.Type == 9 && in.FDFallback {
		in.FDFallback = false
	}
}

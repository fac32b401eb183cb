package state

import "github.com/gosysdig/gosysdig/event"

// ReplaceEventFD makes f the event's fd for the fields read after this call, as libsinsp's
// evt.abspath does: resolving a path relative to a directory fd, it stores that fd's info as
// the event's (evt->m_fdinfo), so the fd fields that follow it in a format or a filter read the
// directory. An unknown f leaves the event no fd of its own: the fd fields fall back to the
// thread's last fd, as for any fd-related event without one (fallbackFD).
func (in *Inspector) ReplaceEventFD(f *FD, info *event.Info) {
	in.FD, in.FDFallback = f, false
	if f == nil && in.Thread != nil {
		in.fallbackFD(in.Thread, info)
	}
}

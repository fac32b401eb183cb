package state

import "github.com/gosysdig/gosysdig/event"

// Process updates the state with one event and sets the inspector's event context.
//
// FDNameChanged follows libsinsp's rule: once the event is parsed, the event's fd has changed
// name when its name differs from the one it had when the event looked it up (fd.oldName, set
// by Thread.FD). A new fd starts with no old name, so an open or accept that names it changes
// its name, a socket or pipe with an empty name does not, and a dup's copy, which keeps its
// source's old name, does not either. The fd an exit only falls back to (FDFallback: the
// thread's last fd, read by the fields, not by the parser) is not the event's: no change.
func (in *Inspector) Process(ev *event.Event) {
	in.evInfo, in.deferred = ev.Info, nil
	in.process(ev)
	in.filteredWriteFD(ev)
	in.setNameChanged()
}

func (in *Inspector) setNameChanged() {
	in.FDNameChanged = in.FD != nil && !in.FDFallback && in.FD.Name != in.FD.oldName
}

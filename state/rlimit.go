package state

import "github.com/gosysdig/gosysdig/event"

// ppmRlimitNofile is PPM_RLIMIT_NOFILE, the resource whose limit is the process's fd limit.
const ppmRlimitNofile = 7

// parseRlimit is libsinsp's parse_getrlimit_setrlimit_exit: a successful getrlimit or
// setrlimit of RLIMIT_NOFILE (the resource is the enter's) makes the exit's current value the
// process's fd limit (its main thread's), unless it is -1 (unlimited, which libsinsp never
// stores).
func (in *Inspector) parseRlimit(ev *event.Event, t *Thread) {
	var enter event.Event
	if res, _ := ev.Int(0); res < 0 || !in.enterEvent(t, &enter) {
		return
	}
	if r, ok := enter.Uint(0); !ok || r != ppmRlimitNofile {
		return
	}
	setFdLimit(in.MainThread(t), ev)
}

// parsePrlimit is parse_prlimit_exit: the same for prlimit's new current value, on the process
// the enter's pid names (0: the caller's thread). A thread the state does not know is only
// looked up by libsinsp (the limit goes to a temporary copy): nothing changes.
func (in *Inspector) parsePrlimit(ev *event.Event, t *Thread) {
	var enter event.Event
	if res, _ := ev.Int(0); res < 0 || !in.enterEvent(t, &enter) {
		return
	}
	if r, ok := enter.Uint(1); !ok || r != ppmRlimitNofile {
		return
	}
	tid, _ := enter.Int(0)
	target := t
	if tid != 0 {
		target = in.threads[tid]
	}
	if target != nil {
		setFdLimit(in.MainThread(target), ev)
	}
}

// setFdLimit stores an rlimit exit's current value (parameter 1) in m, unless it is -1.
func setFdLimit(m *Thread, ev *event.Event) {
	if v, ok := ev.Int(1); ok && v != -1 && m != nil {
		m.FdLimit = v
	}
}

package state

import "github.com/gosysdig/gosysdig/event"

// The thread table's bookkeeping as libsinsp 0.29.3's thread manager keeps it: a main thread
// counts its process's other threads (nchilds), and an exiting main thread that still has
// some is kept, so that they, and events naming its pid, still find it.

// countProcess is how many threads of the table have pid as their process: libsinsp's count
// for a thread created out of thin air (a placeholder, or one read from /proc).
func (in *Inspector) countProcess(pid int64) int64 {
	var n int64
	for _, t := range in.threads {
		if t.Pid == pid {
			n++
		}
	}
	return n
}

// countChild adds t to its main thread's count, creating a placeholder main thread when the
// table has none (libsinsp's increment_mainthread_childcount).
func (in *Inspector) countChild(t *Thread) {
	if t.Flags&clCloneThread == 0 {
		return
	}
	if m := in.threadOrPlaceholder(t.Pid); m != nil {
		m.nchilds++
	}
}

// addThread puts a thread a clone created into the table, counted by its main thread; a thread
// sharing its process's files uses the main thread's table.
func (in *Inspector) addThread(t *Thread) {
	if len(in.threads) >= in.limits.MaxThreads {
		in.dropped.threads.Add(1)
		return
	}
	in.countChild(t)
	if t.Flags&clCloneThread != 0 && t.Flags&clCloneFiles != 0 && !t.IsMain() {
		if m := in.threads[t.Pid]; m != nil && m != t {
			t.shareFDs(m.ownTable())
		}
	}
	in.threads[t.Tid] = t
	in.last = nil
}

// createChildDeps counts every main thread's threads, as libsinsp does once the capture's
// process list is loaded and after a forced removal (create_child_dependencies).
func (in *Inspector) createChildDeps() {
	threads := make([]*Thread, 0, len(in.threads))
	for _, t := range in.threads {
		threads = append(threads, t)
	}
	for _, t := range threads {
		in.countChild(t)
	}
}

// removeThread is libsinsp's remove_thread: a thread goes unless it is a main thread with
// threads left, which only force removes (a tid reused, a stale clone); forcing one out
// recounts the table, which gives its threads a placeholder main thread.
func (in *Inspector) removeThread(tid int64, force bool) {
	t := in.threads[tid]
	if t == nil {
		return
	}
	n := t.nchilds
	if n != 0 && !force {
		return
	}
	in.dropThread(t)
	if n != 0 {
		for _, o := range in.threads {
			o.nchilds = 0
			o.main = nil // libsinsp's clear_thread_pointers
		}
		in.createChildDeps()
		for _, o := range in.threads {
			// The threads find their process's fds in the new main thread's table.
			if o.Flags&clCloneThread != 0 && o.Flags&clCloneFiles != 0 && !o.IsMain() {
				if m := in.threads[o.Pid]; m != nil && m != o {
					o.shareFDs(m.ownTable())
				}
			}
		}
	}
}

// dropThread takes t out of the table, uncounted from its main thread.
func (in *Inspector) dropThread(t *Thread) {
	if t.Flags&clCloneThread != 0 {
		if m := in.threads[t.Pid]; m != nil && m.nchilds > 0 {
			m.nchilds--
		}
	}
	delete(in.threads, t.Tid)
	if in.last == t {
		in.last = nil
	}
}

// FilteredOut tells the inspector that the event it processed last did not pass the filter.
// sysdig then skips that event's cleanup: the enter event its thread kept for the exit
// parsers stays, and a later exit of the same call reuses it (a filtered-out fcntl F_DUPFD
// makes the next fcntl on the thread a dup too).
func (in *Inspector) FilteredOut() { in.cleanup = nil }

// storesEnter reports the enter events libsinsp keeps for their exit's parser (store_event):
// fcntl only for F_DUPFD and F_DUPFD_CLOEXEC.
func storesEnter(ev *event.Event) bool {
	switch ev.Type {
	case 2, 58, 102, 306, 326, // open, creat, openat, openat_2, openat2
		18, 30, 36, 48, // socket, sendto, shutdown, sendmsg
		62, 94, 96, // eventfd, chdir, fchdir
		140, 142, 144, 188, // getrlimit, setrlimit, prlimit, sendfile
		192, 194, 198, 200, // setresuid, setresgid, setuid, setgid
		288, 292, 330, 294: // execve 18/19, execveat, setpgid
		return true
	case 150: // fcntl
		cmd, ok := ev.Uint(1)
		return ok && (cmd == ppmFDupfd || cmd == ppmFDupfdCloexec)
	}
	return false
}

// NChilds is libsinsp's m_nchilds: for a main thread, how many of its process's other threads
// the table holds (an exited one is kept while it has some); 0 for other threads.
func (t *Thread) NChilds() int64 { return t.nchilds }

// mainOrPlaceholder is libsinsp's get_main_thread: a thread's main thread, created as a
// placeholder when the table lacks it (the lookup asks the OS, which offline has nothing).
// ProcessThread is the thread libsinsp's process fields read (proc.ppid, proc.env, proc.fdlimit,
// the ancestors...): the thread itself when it is a main thread, else its main thread as
// get_main_thread finds it, which makes a "<NA>" placeholder for a process the table lacks.
// nil only when the table is full or t is not in it.
func (in *Inspector) ProcessThread(t *Thread) *Thread {
	if t == nil || t.IsMain() {
		return t
	}
	return in.mainOrPlaceholder(t)
}

func (in *Inspector) mainOrPlaceholder(t *Thread) *Thread {
	if m := in.MainThread(t); m != nil {
		return m
	}
	if t.Pid < 0 || in.threads[t.Tid] != t {
		return nil // a thread outside the table (a container event's) has no process
	}
	m := in.threadOrPlaceholder(t.Pid)
	t.main = m
	return m
}

// parseSwitch is libsinsp's parse_context_switch: the page faults are the thread's, the
// memory sizes its process's (its main thread, made a placeholder when missing).
func (in *Inspector) parseSwitch(ev *event.Event, t *Thread) {
	if ev.NParams() < 6 {
		return
	}
	t.PfMajor, _ = ev.Uint(1)
	t.PfMinor, _ = ev.Uint(2)
	if m := in.mainOrPlaceholder(t); m != nil {
		v, _ := ev.Uint(3)
		m.VmSizeKB = uint32(v)
		v, _ = ev.Uint(4)
		m.VmRssKB = uint32(v)
		v, _ = ev.Uint(5)
		m.VmSwapKB = uint32(v)
	}
}

package state

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// User and Group as the user list gives them.
type User struct {
	Uid, Gid          uint32
	Name, Home, Shell string
}

type Group struct {
	Gid  uint32
	Name string
}

// Inspector holds the system state and updates it from events. After Process, Thread and FD
// describe the event just processed, as sysdig's event thread and fd info do.
type Inspector struct {
	storage    event.Storage // event.Resolver's Storage
	threads    map[int64]*Thread
	users      map[uint32]*User
	groups     map[uint32]*Group
	Containers *Containers
	Machine    *capture.MachineInfo
	Interfaces []capture.Interface

	// Context of the current event.
	Thread  *Thread
	FD      *FD
	FDNum   int64
	ErrCode int32
	// FDFallback: FD is not the event's own but the thread's last fd, which sysdig's fd fields
	// read while the event itself has no fd (an exit whose enter was not seen).
	FDFallback bool
	// FDNameChanged reports that the event renamed the fd it uses (e.g. a new UDP tuple).
	FDNameChanged bool
	// NoEventThread: Thread is the tid's thread found for the event's fields only; libsinsp's
	// event had no thread of its own (m_tinfo NULL: a page fault, a switch, the clone exit of
	// a thread not yet known), so per-event thread state such as the latency reads 0.
	NoEventThread bool

	pendingFD     int64
	pendingFDT    *FDTable
	sockName      []byte // scratch for socket names, so an unchanged name costs nothing
	pendingThread int64
	hasPendingT   bool

	containerThread Thread // synthetic thread of container events

	// cleanup is the thread of the last exit, whose stored enter goes before the next event
	// unless the filter rejected that exit (FilteredOut).
	cleanup *Thread
	// evInfo is the last event's table entry, for FilterRejected (filterpass.go).
	evInfo   *event.Info
	filtered bool // a filter selects the events (SetFiltered)
	// deferred is the event whose parsers wait for the filter (filterpass.go), on thread
	// deferredT, an exit when deferredExit.
	deferred     *event.Event
	deferredT    *Thread
	deferredExit bool

	last *Thread // the last thread looked up: consecutive events mostly share one

	// lookup, when set (live only, never on replay), finds a thread the state does not know
	// (one started while the /proc scan ran, or whose clone the probe dropped) the first time
	// an event names it; missing remembers the tids it could not find, so an exited thread's
	// late events cost a map probe, not a /proc read.
	lookup  ThreadLookup
	missing map[int64]struct{}

	// Live only: containers no thread belongs to any more are dropped every
	// ContainerScanInterval of event time, as libsinsp's remove_inactive_containers does.
	purgeContainers bool
	nextPurgeTS     uint64

	// limits bound the tables (SetLimits); alive, set live, says whether a thread still
	// exists, for the scan that drops threads whose exit was never seen.
	limits         Limits
	alive          func(pid, tid int64) bool
	nextThreadScan uint64
	dropped        droppedCounts
}

// Limits bound the state's tables on a busy machine. Zero fields take sysdig's defaults.
type Limits struct {
	// MaxThreads: past it, new threads are not kept (their events show <NA>), as sysdig's
	// thread table (131072).
	MaxThreads int
	// MaxFDs: per fd table (a process's), past it new fds are not kept, as sysdig's (4096).
	MaxFDs int
	// MaxContainers: past it, new containers are not kept (65536).
	MaxContainers int
	// ThreadTimeout: live, a thread without an event for this long whose /proc entry is gone
	// (its exit was dropped) is removed, as sysdig's inactive thread scan (30 min). The scan
	// runs every min(ThreadTimeout, 20 min) of event time, the first time 30 s in.
	ThreadTimeout time.Duration
}

// Default limits: sysdig 0.29.3's.
const (
	DefaultMaxThreads    = 131072
	DefaultMaxFDs        = 4096
	DefaultMaxContainers = 65536
	DefaultThreadTimeout = 30 * time.Minute
	maxThreadScanPeriod  = 20 * time.Minute
	firstThreadScan      = 30 * time.Second
)

func (l Limits) withDefaults() Limits {
	if l.MaxThreads <= 0 {
		l.MaxThreads = DefaultMaxThreads
	}
	if l.MaxFDs <= 0 {
		l.MaxFDs = DefaultMaxFDs
	}
	if l.MaxContainers <= 0 {
		l.MaxContainers = DefaultMaxContainers
	}
	if l.ThreadTimeout <= 0 {
		l.ThreadTimeout = DefaultThreadTimeout
	}
	return l
}

// SetLimits sets the tables' limits (see Limits).
func (in *Inspector) SetLimits(l Limits) { in.limits = l.withDefaults() }

// SetThreadAlive turns on, live, the scan that removes threads whose exit was not seen:
// alive reports whether a thread still exists.
func (in *Inspector) SetThreadAlive(alive func(pid, tid int64) bool) { in.alive = alive }

// droppedCounts are atomics: metrics read them while the loop runs.
type droppedCounts struct {
	threads, fds, containers, purged atomic.Int64
}

// Dropped counts what the limits kept out of the tables (threads, fds, containers) and the
// threads the live scan removed (purged).
func (in *Inspector) Dropped() (threads, fds, containers, purged int64) {
	d := &in.dropped
	return d.threads.Load(), d.fds.Load(), d.containers.Load(), d.purged.Load()
}

// keepThread reports whether a new thread fits in the table, counting it when not.
func (in *Inspector) keepThread() bool {
	if len(in.threads) < in.limits.MaxThreads {
		return true
	}
	in.dropped.threads.Add(1)
	return false
}

// newFD adds f to t's fd table, within the limit, and makes it the event's fd, as sysdig's
// creators do. Past the limit the fd is not kept and the event has no fd information, as in
// sysdig.
func (in *Inspector) newFD(t *Thread, f *FD) {
	in.syncFDs(t)
	t.lastFd = f.Num
	in.FDNum = f.Num
	if t.fdt != nil && t.fdt.Get(f.Num) == nil && t.fdt.Len() >= in.limits.MaxFDs {
		in.dropped.fds.Add(1)
		in.FD = nil
		return
	}
	in.FD = t.addFD(f)
}

// maybeScanThreads removes, every scan period of event time, the threads with no event for
// ThreadTimeout that no longer exist: their exits were dropped.
func (in *Inspector) maybeScanThreads(ts uint64) {
	if ts < in.nextThreadScan { // every event but one in millions leaves here
		return
	}
	period := min(in.limits.ThreadTimeout, maxThreadScanPeriod)
	if in.nextThreadScan == 0 {
		in.nextThreadScan = ts + uint64(min(firstThreadScan, period))
		return
	}
	in.nextThreadScan = ts + uint64(period)
	timeout := uint64(in.limits.ThreadTimeout)
	for tid, t := range in.threads {
		if t.lastEventTS+timeout < ts && !in.alive(t.Pid, tid) {
			in.dropThread(t)
			in.dropped.purged.Add(1)
		}
	}
}

// ContainerScanInterval is how often, in event time, a live inspector drops the containers
// that have no threads left (libsinsp's default inactive container scan time, 30 s).
const ContainerScanInterval = 30 * 1e9

// PurgeContainers makes the inspector drop containers whose threads are all gone, as sysdig
// does live (never offline: a capture's containers stay, as in sysdig).
func (in *Inspector) PurgeContainers(on bool) { in.purgeContainers = on }

// ThreadLookup returns the thread tid as the system has it now, or nil when it is gone.
type ThreadLookup func(tid int64) *Thread

// maxMissing bounds the negative lookup cache: past it the cache starts over, so a churn of
// short-lived threads cannot grow it without end.
const maxMissing = 1 << 16

// SetThreadLookup makes the inspector ask lookup for threads it does not know (nil: never, as
// on a replay, where an unknown thread is a placeholder as in sysdig offline).
func (in *Inspector) SetThreadLookup(lookup ThreadLookup) {
	in.lookup = lookup
	in.missing = nil
}

// New returns an empty inspector.
func New() *Inspector {
	return &Inspector{
		threads:    map[int64]*Thread{},
		users:      map[uint32]*User{},
		groups:     map[uint32]*Group{},
		Containers: newContainers(),
		pendingFD:  -1,
		limits:     Limits{}.withDefaults(),
		storage:    event.NewStorage(),
	}
}

// Reset drops everything, as when a concatenated capture starts a new section.
func (in *Inspector) Reset() {
	c, lookup, purge, limits, alive, st := in.Containers, in.lookup, in.purgeContainers, in.limits, in.alive, in.storage
	*in = *New()
	in.Containers, in.lookup, in.purgeContainers, in.limits, in.alive = c, lookup, purge, limits, alive
	in.storage = st // the rendering event outlives a section
}

// LoadHeader seeds the tables from a capture's header blocks.
func (in *Inspector) LoadHeader(h *capture.Header) {
	in.Machine = h.Machine
	in.Interfaces = h.Interfaces
	for i := range h.Users {
		u := &h.Users[i]
		in.users[u.Uid] = &User{Uid: u.Uid, Gid: u.Gid, Name: u.Name, Home: u.Home, Shell: u.Shell}
	}
	for i := range h.Groups {
		g := &h.Groups[i]
		in.groups[g.Gid] = &Group{Gid: g.Gid, Name: g.Name}
	}
	for i := range h.Threads {
		t := threadFromCapture(&h.Threads[i])
		t.ContainerID = containerIDFromCgroups(t.Cgroups)
		if in.threads[t.Tid] == nil && !in.keepThread() {
			continue
		}
		in.threads[t.Tid] = t
	}
	// Threads of one process share the main thread's fd table when they were cloned with
	// CLONE_FILES, as sysdig's get_fd_table does.
	for _, t := range in.threads {
		if !t.IsMain() && t.Flags&clCloneFiles != 0 {
			if m := in.threads[t.Pid]; m != nil && m != t {
				t.shareFDs(m.ownTable())
			}
		}
	}
	in.createChildDeps()
	in.fixServerSockets()
}

// AddThread inserts a thread (for /proc scans).
func (in *Inspector) AddThread(t *Thread) {
	if t.fdt == nil {
		t.fdt = newFDTable()
	}
	if in.threads[t.Tid] == nil && !in.keepThread() {
		return
	}
	in.threads[t.Tid] = t
	in.last = nil
}

// AddUser and AddGroup insert users and groups (for /proc scans).
func (in *Inspector) AddUser(u User)   { in.users[u.Uid] = &u }
func (in *Inspector) AddGroup(g Group) { in.groups[g.Gid] = &g }

// Lookup returns a thread or nil, without creating one.
func (in *Inspector) Lookup(tid int64) *Thread { return in.threads[tid] }

// EachThread calls fn for every thread.
func (in *Inspector) EachThread(fn func(*Thread)) {
	for _, t := range in.threads {
		fn(t)
	}
}

// User returns a user by uid, or nil.
func (in *Inspector) User(uid uint32) *User { return in.users[uid] }

// Group returns a group by gid, or nil.
func (in *Inspector) Group(gid uint32) *Group { return in.groups[gid] }

// MainThread returns the thread's process main thread (itself when it is one, or unknown).
// As libsinsp's get_main_thread, the main thread found is kept for as long as it stays in the
// table, ahead of the thread's pid: after an execve changed the pid, or once the thread is a
// main thread itself, it is still the process the thread found first.
func (in *Inspector) MainThread(t *Thread) *Thread {
	if t == nil {
		return nil
	}
	if m := t.main; m != nil && in.threads[m.Tid] == m {
		return m
	}
	if t.IsMain() || t.Pid < 0 {
		return t
	}
	if m := in.threads[t.Pid]; m != nil {
		t.main = m
		return m
	}
	return nil
}

// Parent returns the thread that created t (the thread its ptid names), or nil: libsinsp's
// get_parent_thread. It is a thread, not its process's main thread: a child forked by a
// non-leader thread has that thread as parent, and the walk up goes on from its ptid.
func (in *Inspector) Parent(t *Thread) *Thread {
	if t == nil {
		return nil
	}
	return in.threads[t.Ptid]
}

// getThread returns the event's thread, creating a placeholder for one never seen, as sysdig does
// offline: comm and exe "<NA>", no parent, unknown user.
func (in *Inspector) getThread(tid int64) *Thread {
	if in.last != nil && in.last.Tid == tid {
		return in.last
	}
	if t := in.threads[tid]; t != nil {
		in.last = t
		return t
	}
	if t := in.lookUp(tid); t != nil {
		t.nchilds = in.countProcess(tid)
		if in.keepThread() {
			in.threads[tid] = t
		}
		in.last = t
		return t
	}
	t := &Thread{Tid: tid, Pid: tid, Ptid: -1, Sid: -1, Vpgid: -1, Vtid: -1, Vpid: -1, FdLimit: -1,
		Comm: "<NA>", Exe: "<NA>", Uid: 0xffffffff,
		Gid: 0xffffffff, LoginUid: 0xffffffff, fdt: newFDTable(), ContainerID: ""}
	t.nchilds = in.countProcess(tid)
	if in.keepThread() {
		in.threads[tid] = t
	}
	in.last = t
	return t
}

// lookUp asks the thread lookup about tid once: a thread found is fully known from then on,
// one not found is remembered as missing.
func (in *Inspector) lookUp(tid int64) *Thread {
	if in.lookup == nil || tid <= 0 {
		return nil
	}
	if _, gone := in.missing[tid]; gone {
		return nil
	}
	t := in.lookup(tid)
	if t == nil {
		if in.missing == nil || len(in.missing) >= maxMissing {
			in.missing = make(map[int64]struct{})
		}
		in.missing[tid] = struct{}{}
		return nil
	}
	t.Tid = tid
	if t.fdt == nil {
		t.fdt = newFDTable()
	}
	// A thread of a known process shares its fd table, as the scan's threads do.
	if t.Tid != t.Pid && t.Flags&clCloneFiles != 0 {
		if m := in.threads[t.Pid]; m != nil && m != t {
			t.shareFDs(m.ownTable())
		}
	}
	return t
}

// forgetMissing drops tid from the negative cache: a clone just created a thread with that id.
func (in *Inspector) forgetMissing(tid int64) {
	if in.missing != nil {
		delete(in.missing, tid)
	}
}

// maybePurgeContainers drops, every ContainerScanInterval (the first time that long after the
// first event), the containers no thread is in.
func (in *Inspector) maybePurgeContainers(ts uint64) {
	if in.nextPurgeTS == 0 {
		in.nextPurgeTS = ts + ContainerScanInterval
		return
	}
	if ts <= in.nextPurgeTS {
		return
	}
	in.nextPurgeTS = ts + ContainerScanInterval
	used := make(map[string]struct{}, len(in.Containers.byID))
	for _, t := range in.threads {
		if t.ContainerID != "" {
			used[t.ContainerID] = struct{}{}
		}
	}
	for id := range in.Containers.byID {
		if _, ok := used[id]; !ok {
			delete(in.Containers.byID, id)
		}
	}
}

// fdLocation is the enter parameter that holds the fd for fd-using events.
func fdLocation(typ uint16) int {
	switch typ {
	case 160, 162: // mmap, mmap2
		return 4
	}
	return 0
}

// process updates the state with one event and sets the inspector's event context (Process,
// namechange.go, adds fd.name_changed).
func (in *Inspector) process(ev *event.Event) {
	in.flushPending()
	in.Thread, in.FD, in.FDNum, in.ErrCode = nil, nil, -1, 0
	in.FDFallback = false
	if in.purgeContainers {
		in.maybePurgeContainers(ev.TS)
	}
	if in.alive != nil {
		in.maybeScanThreads(ev.TS)
	}
	in.NoEventThread = false
	info := ev.Info
	if info.Flags&event.EFSkipParseReset != 0 {
		// libsinsp gives these events no thread (procinfo excepted) but its fields still
		// look the tid up, without creating it: the thread's fields print, its latency not.
		in.Thread = in.threads[ev.Tid]
		in.NoEventThread = ev.Type != 234
		if ev.Type == 234 { // procinfo
			in.parseProcinfo(ev)
		}
		return
	}
	switch ev.Type {
	case 228, 272, 324: // container events belong to no real thread
		in.parseContainer(ev)
		return
	}
	if ev.Type == 146 || ev.Type == 152 {
		// libsinsp resets a switch event without asking the OS for its thread (query_os off),
		// so a tid never seen gets no placeholder: the event has no thread, and the tid stays
		// unknown to PID parameters (next=TID prints no comm) and later events.
		if in.threads[ev.Tid] == nil {
			if t := in.lookUp(ev.Tid); t != nil {
				in.threads[ev.Tid] = t
			} else {
				return
			}
		}
	}
	if isCloneExit(ev.Type) && in.threads[ev.Tid] == nil {
		// libsinsp looks a clone exit's thread up without creating it: a child's own exit
		// may be the first event of its thread, and the parser creates the thread then.
		in.Thread = nil
		in.parseClone(ev, nil)
		if in.Thread == nil {
			in.Thread = in.threads[ev.Tid]
			in.NoEventThread = in.Thread != nil
		}
		return
	}
	t := in.getThread(ev.Tid)
	in.Thread = t
	t.lastEventTS = ev.TS
	if ev.Type == 152 {
		// libsinsp's reset stops at a switch: the thread's last call, its fd, its enter time
		// and so the pairing and latency of the exit to come stay as they were.
		if !in.deferParse(ev, t, false) {
			in.parseEnter(ev, t)
		}
		return
	}
	if ev.IsEnter() {
		t.lastFd = -1
		t.lastType = ev.Type
		if info.Flags&event.EFUsesFd != 0 {
			if fd, ok := ev.Int(fdLocation(ev.Type)); ok {
				t.lastFd = fd
				in.FD = in.fdOf(t, fd)
			}
		}
		in.FDNum = t.lastFd
		t.Latency = 0
		t.lastEnterTS = ev.TS
		t.lastEnter = append(t.lastEnter[:0], ev.Raw()...)
		t.lastEnterHdr = ev.HeaderLen()
		t.lastValid = false
		if storesEnter(ev) {
			t.storedEnter = ev.Type
		}
		if !in.deferParse(ev, t, false) {
			in.parseEnter(ev, t)
		}
		return
	}
	in.cleanup = t
	if t.lastEnterTS != 0 {
		t.Latency = ev.TS - t.lastEnterTS
	}
	if ev.Type == t.lastType+1 {
		t.lastValid = true
	} else {
		t.lastValid = false
		in.FDNum = t.lastFd
		if !in.deferParse(ev, t, true) {
			in.parseExit(ev, t)
		}
		in.fallbackFD(t, info)
		return
	}
	if info.Params != nil && len(info.Params) > 0 && (info.Params[0].Name == "res" || info.Params[0].Name == "fd") {
		if res, ok := ev.Int(0); ok && res < 0 {
			in.ErrCode = int32(-res)
		}
	}
	if info.Flags&event.EFUsesFd != 0 {
		if ev.Type == copyFileRangeExit {
			// copy_file_range uses two fds: like sysdig, its exit is about the output fd
			if fd, ok := ev.Int(1); ok {
				t.lastFd = fd
			}
		}
		in.FD = in.fdOf(t, t.lastFd)
	}
	in.FDNum = t.lastFd
	if !in.deferParse(ev, t, true) {
		in.parseExit(ev, t)
	}
	in.fallbackFD(t, info)
}

// copyFileRangeExit is PPME_SYSCALL_COPY_FILE_RANGE_X.
const copyFileRangeExit = 333

// fallbackFD gives an fd-related exit without an fd of its own the thread's last fd, as
// sysdig's fd fields do: an exit whose enter was not seen (the capture started in the middle
// of the call) still reads the fd the thread last used (0 for threads from the process list).
func (in *Inspector) fallbackFD(t *Thread, info *event.Info) {
	if in.FD == nil && t.lastFd != -1 && info.Flags&(event.EFCreatesFd|event.EFUsesFd|event.EFDestroysFd) != 0 {
		in.FD = in.fdOf(t, t.lastFd)
		in.FDFallback = in.FD != nil
	}
}

func (in *Inspector) flushPending() {
	if in.cleanup != nil {
		// libsinsp's event_cleanup frees the enter event an exit used: a second exit of the
		// same call (no enter between) finds none and uses its own parameters.
		in.cleanup.storedEnter = 0
		in.cleanup.lastEnter = in.cleanup.lastEnter[:0]
		in.cleanup = nil
	}
	if in.pendingFD >= 0 && in.pendingFDT != nil {
		delete(in.pendingFDT.fds, in.pendingFD)
	}
	in.pendingFD, in.pendingFDT = -1, nil
	if in.hasPendingT {
		in.removeThread(in.pendingThread, false)
		in.hasPendingT = false
	}
}

// enterEvent decodes the stored enter event of the current exit, when it matches.
func (in *Inspector) enterEvent(t *Thread, e *event.Event) bool {
	// libsinsp's retrieve_enter_event reads the copy store_event made, which only the enter
	// events it stores have and every exit's cleanup drops: a second exit of the same call,
	// or the exit of an enter it does not store, has no enter to read.
	if t.storedEnter != t.lastType {
		return false
	}
	return in.lastEnterEvent(t, e)
}

// lastEnterEvent decodes the thread's last enter event when the current exit pairs with it.
func (in *Inspector) lastEnterEvent(t *Thread, e *event.Event) bool {
	if !t.lastValid || len(t.lastEnter) < t.lastEnterHdr {
		return false
	}
	info := event.Lookup(t.lastType)
	if info == nil {
		return false
	}
	return e.Set(t.lastEnter, t.lastEnterHdr, info) == nil
}

// EnterOf decodes into e the enter event the current event (an exit) pairs with, when the
// state kept it: today's Falco reads an exit's enter parameters from the exit itself.
func (in *Inspector) EnterOf(e *event.Event) bool {
	return in.Thread != nil && in.lastEnterEvent(in.Thread, e)
}

func (in *Inspector) parseProcinfo(ev *event.Event) {}

func (in *Inspector) parseEnter(ev *event.Event, t *Thread) { in.parseEnterState(ev, t) }

// Resolver adapts the inspector's current event context to event rendering.
type Resolver struct{ In *Inspector }

func (r Resolver) FD(fd int64) (byte, byte, string, bool) {
	t := r.In.Thread
	if t == nil {
		return 0, 0, "", false
	}
	f := r.In.fdOf(t, fd)
	if f == nil {
		return 0, 0, "", false
	}
	var l4 byte
	if f.IsIP() {
		switch f.L4() {
		case L4TCP:
			l4 = 't'
		case L4UDP:
			l4 = 'u'
		case L4ICMP:
			l4 = 'i'
		case L4Raw:
			l4 = 'r'
		}
	}
	return f.TypeChar(), l4, f.Name, true
}

func (r Resolver) Comm(tid int64) (string, bool) {
	if t := r.In.threads[tid]; t != nil {
		return t.Comm, true
	}
	return "", false
}

func (r Resolver) User(uid uint32) (string, bool) {
	if u := r.In.users[uid]; u != nil {
		return u.Name, true
	}
	return "", false
}

func (r Resolver) Group(gid uint32) (string, bool) {
	if g := r.In.groups[gid]; g != nil {
		return g.Name, true
	}
	return "", false
}

func (r Resolver) Cwd() (string, bool) {
	t := r.In.Thread
	if t == nil {
		return "", false
	}
	return r.In.Cwd(t), true
}

// Storage is libsinsp's parameter string storage, which lives as long as the inspector (one
// sinsp_evt renders every event).
func (r Resolver) Storage() *event.Storage { return &r.In.storage }

func (r Resolver) DirFdPath(fd int64) string {
	t := r.In.Thread
	if t == nil {
		return ""
	}
	f := r.In.fdOf(t, fd)
	if f == nil || f.Name == "" {
		return ""
	}
	// sysdig's get_base_dir: the fd's name without the bytes it cannot print, then '/'
	// (a second one after a name that already ends with it).
	return string(append(event.AppendSanitized(nil, []byte(f.Name)), '/'))
}

// Cwd is the thread's working directory, kept by its main thread. As libsinsp's get_cwd, a
// thread whose main thread the table lacks gets a placeholder one (whose cwd is empty): the
// placeholder then names the pid in later events.
func (in *Inspector) Cwd(t *Thread) string {
	if m := in.mainOrPlaceholder(t); m != nil {
		return m.Cwd
	}
	return "./"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// LookupFromProcessList makes a ThreadLookup of a reader of process-list entries, such as
// procfs.ReadThread over /proc.
func LookupFromProcessList(read func(tid int64) (capture.Thread, bool)) ThreadLookup {
	return func(tid int64) *Thread {
		ct, ok := read(tid)
		if !ok {
			return nil
		}
		return ThreadFromCapture(&ct)
	}
}

// Sizes is how big the state's tables are: threads, the fds of their distinct fd tables (a
// process's threads share one), containers. It walks the tables: callers sample it (metrics),
// not per event.
func (in *Inspector) Sizes() (threads, fds, containers int) {
	seen := make(map[*FDTable]struct{}, len(in.threads))
	for _, t := range in.threads {
		if t.fdt == nil {
			continue
		}
		if _, ok := seen[t.fdt]; !ok {
			seen[t.fdt] = struct{}{}
			fds += t.fdt.Len()
		}
	}
	if in.Containers != nil {
		containers = len(in.Containers.byID)
	}
	return len(in.threads), fds, containers
}

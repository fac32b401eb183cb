package watch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// Source yields events (the live probe, as the capture loop reads it).
type Source interface {
	Next(ev *event.Event) error
}

// idleSource is a Source that can stop waiting (procinfo.IdleSource): Next returns an error
// wrapping os.ErrDeadlineExceeded when nothing came by the deadline.
type idleSource interface {
	Source
	SetDeadline(t time.Time)
	Horizon() uint64
}

// DefaultHold is how long a new container's events wait for its metadata by default: long
// enough for a runtime's inspect on a busy node (tens of ms), short enough that a user watching
// sees no lag.
const DefaultHold = 300 * time.Millisecond

// DefaultMaxHeldBytes is the default bound of the held events' memory.
const DefaultMaxHeldBytes = 64 << 20

// Holder is the live event stream with the Watcher's container events in it, and the
// guarantee that makes them useful: an event of a container whose lookup is still running is
// held back, with every later event of its threads, until the metadata is in (then the
// container event goes first and the held events follow, in their order) or until Limit has
// passed (then they go without it). Only that container's events wait; the rest of the stream
// flows on, so no event is dropped and no other event is delayed. Without it the first
// execve of a new container, the one a rule about a shell in a container fires on, always
// showed container.name=<NA>.
//
// A Holder belongs to the goroutine that runs the event loop.
type Holder struct {
	Src   Source
	W     *Watcher
	Limit time.Duration // longest hold; 0 holds nothing
	// MaxHeldBytes bounds the memory the held events take (0: DefaultMaxHeldBytes): past it,
	// the container held longest goes without waiting longer.
	MaxHeldBytes int
	// Now is the clock (tests set it); nil is time.Now.
	Now func() time.Time

	held     map[string]*heldContainer // containers whose events wait, by id
	heldTids map[int64]*heldContainer  // their threads
	given    map[string]bool           // containers not held any more: found, failed or timed out
	release  *heldContainer            // the container whose events are going out
	free     [][]byte                  // copy buffers of released events, for reuse
	deadline time.Time                 // the caller's deadline (idle sources)
	lastTS   uint64
	heldB    int                 // bytes of the held events
	num      uint64              // events returned: evt.num, in the order they go out
	ended    bool                // the source has ended; held events are going out
	cg       [event.MaxType]int8 // index+1 of a type's cgroups parameter, -1 none, 0 unknown yet
	// The thread of the last event checked (containerOf).
	lastTid    int64
	lastThread *state.Thread

	Stats HoldStats
}

// HoldStats counts the holds. The fields are atomic: metrics read them while the loop runs.
type HoldStats struct {
	Containers atomic.Int64 // containers whose events were held
	Events     atomic.Int64 // events held
	TimedOut   atomic.Int64 // containers released by Limit without metadata
	Overflow   atomic.Int64 // containers released early, the held events past MaxHeldBytes
	Longest    atomic.Int64 // longest hold, in nanoseconds
}

type heldContainer struct {
	id    string
	since time.Time
	evs   []heldEvent
	next  int // the next event to release
}

type heldEvent struct {
	raw  []byte
	cpu  uint16
	info *event.Info
}

func (h *Holder) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Next returns the next event: a container event the Watcher has ready, a held event being
// released, or the source's next event that need not wait.
func (h *Holder) Next(ev *event.Event) error {
	err := h.next(ev)
	if err == nil {
		h.num++
		ev.Num = h.num
	}
	return err
}

func (h *Holder) next(ev *event.Event) error {
	if h.held == nil {
		h.held, h.heldTids, h.given = map[string]*heldContainer{}, map[int64]*heldContainer{}, map[string]bool{}
	}
	for {
		if ok, err := h.pending(ev); ok || err != nil {
			return err
		}
		err := h.read(ev)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && len(h.held) > 0 &&
				(h.deadline.IsZero() || h.now().Before(h.deadline)) {
				continue // our own wake-up, to release what is due
			}
			if errors.Is(err, io.EOF) && len(h.held) > 0 {
				// The capture is ending: what waits goes now, with what is known.
				h.ended = true
				for id := range h.held {
					h.given[id] = true
				}
				continue
			}
			return err
		}
		if h.Limit <= 0 || !h.hold(ev) {
			h.lastTS = ev.TS
			return nil
		}
	}
}

// pending fills ev with what must go before the next source event, if anything.
func (h *Holder) pending(ev *event.Event) (bool, error) {
	if r := h.release; r != nil {
		if r.next < len(r.evs) {
			he := &r.evs[r.next]
			r.next++
			if err := ev.Set(he.raw, event.HeaderV2, he.info); err != nil {
				return false, err
			}
			ev.CPU = he.cpu
			ev.DumpFlags = 0
			if ev.TS > h.lastTS {
				h.lastTS = ev.TS
			}
			return true, nil
		}
		h.finishRelease()
	}
	// A container event (of a held container: stamped as its first held event, so that it
	// comes before them in time as well).
	ts := h.lastTS
	if len(h.held) > 0 {
		if q := h.W.queued(); q != "" {
			if c := h.held[q]; c != nil && len(c.evs) > 0 {
				ts = min(ts, binary.LittleEndian.Uint64(c.evs[0].raw))
			}
		}
	}
	id, ok := h.W.next(ev, ts)
	for _, f := range h.W.takeFinished() {
		h.given[f] = true
		if c := h.held[f]; c != nil {
			h.startRelease(c) // not found or failed: its events go without metadata
		}
	}
	if ok {
		h.given[id] = true
		if c := h.held[id]; c != nil {
			h.startRelease(c)
		}
		return true, nil
	}
	if h.release != nil {
		return h.pending(ev)
	}
	// Holds past their limit, or past the memory bound.
	if len(h.held) > 0 {
		now := h.now()
		if max := h.MaxHeldBytes; h.heldB > max && max > 0 || max == 0 && h.heldB > DefaultMaxHeldBytes {
			var oldest *heldContainer
			for _, c := range h.held {
				if oldest == nil || c.since.Before(oldest.since) {
					oldest = c
				}
			}
			h.Stats.Overflow.Add(1)
			h.given[oldest.id] = true
			h.startRelease(oldest)
			return h.pending(ev)
		}
		for _, c := range h.held {
			if h.given[c.id] { // the source ended
				h.startRelease(c)
				return h.pending(ev)
			}
			if now.Sub(c.since) >= h.Limit {
				if h.W.fromHint(c.id) {
					// The lookup is slow but the runtime's announcement names the
					// container: that goes first (the lookup's answer follows later).
					return h.pending(ev)
				}
				h.Stats.TimedOut.Add(1)
				h.given[c.id] = true
				h.startRelease(c)
				return h.pending(ev)
			}
		}
	}
	return false, nil
}

func (h *Holder) startRelease(c *heldContainer) {
	if h.release != nil {
		return // one at a time; the next pending call takes the others
	}
	delete(h.held, c.id)
	for i := range c.evs {
		h.heldB -= len(c.evs[i].raw)
	}
	for tid, hc := range h.heldTids {
		if hc == c {
			delete(h.heldTids, tid)
		}
	}
	if d := int64(h.now().Sub(c.since)); d > h.Stats.Longest.Load() {
		h.Stats.Longest.Store(d)
	}
	h.release = c
}

func (h *Holder) finishRelease() {
	for i := range h.release.evs {
		h.free = append(h.free, h.release.evs[i].raw[:0])
	}
	h.release = nil
	// Another container may have finished or timed out meanwhile.
	for _, c := range h.held {
		if h.given[c.id] {
			h.startRelease(c)
			return
		}
	}
}

// read reads the source, waking up in time to release holds that come due.
func (h *Holder) read(ev *event.Event) error {
	if h.ended {
		return io.EOF
	}
	if len(h.held) == 0 {
		return h.Src.Next(ev)
	}
	if idle, ok := h.Src.(idleSource); ok {
		// Wake up often enough to see a lookup finish and a hold expire.
		wake := h.now().Add(10 * time.Millisecond)
		if !h.deadline.IsZero() && h.deadline.Before(wake) {
			wake = h.deadline
		}
		idle.SetDeadline(wake)
		defer idle.SetDeadline(h.deadline)
	}
	return h.Src.Next(ev)
}

// hold decides whether ev belongs to a container whose metadata is not in yet; if so it keeps
// a copy and reports true.
func (h *Holder) hold(ev *event.Event) bool {
	var c *heldContainer
	if len(h.heldTids) > 0 {
		c = h.heldTids[ev.Tid]
	}
	if c == nil {
		id, typ := h.containerOf(ev)
		if id == "" || h.given[id] || h.W.in.Containers.Get(id) != nil {
			return false
		}
		c = h.held[id]
		if c == nil {
			c = &heldContainer{id: id, since: h.now()}
			h.held[id] = c
			h.Stats.Containers.Add(1)
			h.W.request(id, typ)
		}
		h.heldTids[ev.Tid] = c
	}
	var buf []byte
	if n := len(h.free); n > 0 {
		buf, h.free = h.free[n-1], h.free[:n-1]
	}
	c.evs = append(c.evs, heldEvent{raw: append(buf, ev.Raw()...), cpu: ev.CPU, info: ev.Info})
	h.heldB += len(ev.Raw())
	h.Stats.Events.Add(1)
	return true
}

// containerOf is the container ev belongs to before the state has parsed it: the cgroups a
// clone or execve exit carries (a new container's first process shows up so), else the
// thread's as the state knows it.
func (h *Holder) containerOf(ev *event.Event) (string, container.Type) {
	if ev.Type < event.MaxType && !ev.IsEnter() {
		i := h.cg[ev.Type]
		if i == 0 {
			i = -1
			if j := ev.ParamIndex("cgroups"); j >= 0 {
				i = int8(j + 1)
			}
			h.cg[ev.Type] = i
		}
		if i > 0 && int(i) <= ev.NParams() {
			h.lastTid = 0 // a clone or exec: the thread may be new or change containers
			return idFromCgroupsParam(ev.Param(int(i) - 1))
		}
	}
	// The thread of the last event is kept: at high rates most events come in runs of one
	// thread, and the map lookup was a few percent of the live path.
	t := h.lastThread
	if ev.Tid != h.lastTid || t == nil {
		t = h.W.in.Lookup(ev.Tid)
		h.lastTid, h.lastThread = ev.Tid, t
	}
	if t == nil || t.ContainerID == "" || h.given[t.ContainerID] || h.W.in.Containers.Get(t.ContainerID) != nil {
		return "", container.Docker // the usual case, decided without parsing cgroups
	}
	if id, typ := container.FromCgroups(t.Cgroups); id == t.ContainerID {
		return id, typ
	}
	return t.ContainerID, container.Docker
}

// idFromCgroupsParam reads the NUL-separated "controller=path" list of a cgroups parameter.
func idFromCgroupsParam(p []byte) (string, container.Type) {
	var cgs [16]string
	list := cgs[:0]
	for len(p) > 0 && len(list) < cap(cgs) {
		s := p
		if i := bytes.IndexByte(p, 0); i >= 0 {
			s, p = p[:i], p[i+1:]
		} else {
			p = nil
		}
		if len(s) > 0 {
			list = append(list, string(s))
		}
	}
	return container.FromCgroups(list)
}

// SetDeadline and Horizon make the Holder an idle source when Src is one.
func (h *Holder) SetDeadline(t time.Time) {
	h.deadline = t
	if idle, ok := h.Src.(idleSource); ok {
		idle.SetDeadline(t)
	}
}

func (h *Holder) Horizon() uint64 {
	if idle, ok := h.Src.(idleSource); ok {
		return max(idle.Horizon(), h.lastTS)
	}
	return h.lastTS
}

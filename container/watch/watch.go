// Package watch connects container lookups to a live event stream: it notices threads of
// containers the state does not know yet, has a container.Resolver look them up in the
// background, and hands back each container found as a CONTAINER_JSON_2 event to insert in the
// stream, so that state, output and -w files get it exactly as they get a capture's container
// events. It never waits for a runtime.
package watch

import (
	"sort"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// Watcher belongs to the goroutine that runs the event loop.
type Watcher struct {
	in     *state.Inspector
	res    *container.Resolver
	warn   func(r container.Result) // a runtime failed (called once per socket)
	asked  map[string]bool
	last   string // container of the last thread checked
	warned map[string]bool
	queue  []*container.Info
	// finished are the ids whose lookup ended without metadata since the Holder last looked.
	finished []string
	hinted   map[string]bool // containers named from an announcement (fromHint)
	buf      []byte
	info     *event.Info
}

// New makes a watcher over in's thread table. warn, if set, is called once per runtime socket
// that failed with something other than "no such container".
func New(in *state.Inspector, res *container.Resolver, warn func(container.Result)) *Watcher {
	return &Watcher{in: in, res: res, warn: warn, asked: map[string]bool{}, warned: map[string]bool{},
		info: event.Lookup(capture.ContainerEventType)}
}

// Request asks for the container whose cgroups these are (a no-op for host cgroups).
func (w *Watcher) Request(cgroups []string) {
	id, typ := container.FromCgroups(cgroups)
	w.request(id, typ)
}

func (w *Watcher) request(id string, typ container.Type) {
	if id == "" || w.asked[id] {
		return
	}
	w.asked[id] = true
	w.res.Request(id, typ)
}

// Drain moves the lookups finished so far straight into the state (for containers found
// before the first event: they go at the head of a -w file, not in the stream).
func (w *Watcher) Drain() {
	w.poll()
	for _, i := range w.queue {
		if ct, ok := state.ParseContainerJSON(i.JSON()); ok {
			w.in.Containers.Add(ct)
		}
	}
	w.queue = w.queue[:0]
}

func (w *Watcher) poll() {
	for _, r := range w.res.Poll() {
		if r.Info == nil {
			w.finished = append(w.finished, r.ID)
		}
		switch {
		case r.Info != nil:
			w.queue = append(w.queue, r.Info)
		case r.NotFound():
		default:
			if w.warn != nil && !w.warned[r.Socket] {
				w.warned[r.Socket] = true
				w.warn(r)
			}
		}
	}
}

// next is called before each event is read, with the timestamp of the last one. It checks the
// thread of the previous event (as the state left it) for a container not asked for yet, and
// when a lookup has finished fills ev with that container's event and returns its id and true:
// the caller returns ev instead of reading one.
func (w *Watcher) next(ev *event.Event, ts uint64) (string, bool) {
	if t := w.in.Thread; t != nil && t.ContainerID != "" && t.ContainerID != w.last {
		w.last = t.ContainerID
		if !w.asked[t.ContainerID] && w.in.Containers.Get(t.ContainerID) == nil {
			id, typ := container.FromCgroups(t.Cgroups)
			if id == "" {
				id = t.ContainerID
			}
			w.request(id, typ)
		}
	}
	if len(w.queue) == 0 {
		w.poll()
		if len(w.queue) == 0 {
			return "", false
		}
	}
	i := w.queue[0]
	w.queue = w.queue[1:]
	w.buf = capture.ContainerEvent(w.buf[:0], ts, i.JSON())
	if err := ev.Set(w.buf, event.HeaderV2, w.info); err != nil {
		return i.ID, false
	}
	ev.CPU = 0
	ev.DumpFlags = 0
	return i.ID, true
}

// fromHint queues the container event of id from its runtime's announcement, if there was one
// (see container.Resolver.Follow), ahead of the others.
func (w *Watcher) fromHint(id string) bool {
	if w.hinted[id] {
		return false
	}
	info := w.res.Hint(id)
	if info == nil {
		return false
	}
	if w.hinted == nil {
		w.hinted = map[string]bool{}
	}
	w.hinted[id] = true
	w.queue = append([]*container.Info{info}, w.queue...)
	return true
}

// queued is the id of the container event next() returns next, if one is ready.
func (w *Watcher) queued() string {
	if len(w.queue) == 0 {
		w.poll()
		if len(w.queue) == 0 {
			return ""
		}
	}
	return w.queue[0].ID
}

// takeFinished returns the ids whose lookups ended without metadata since the last call.
func (w *Watcher) takeFinished() []string {
	if len(w.finished) == 0 {
		return nil
	}
	f := w.finished
	w.finished = w.finished[:0]
	return f
}

// JSON renders a state container as sysdig's container JSON, for the head of a -w file.
func JSON(ct *state.Container) []byte {
	i := &container.Info{ID: ct.ID, Type: container.Type(ct.Type), Name: ct.Name, Image: ct.Image,
		ImageID: ct.ImageID, ImageRepo: ct.ImageRepo, ImageTag: ct.ImageTag, ImageDigest: ct.ImageDigest,
		Privileged: ct.Privileged, IP: ct.IP, Labels: ct.Labels, CreatedTime: ct.CreatedTime, PodLabels: ct.PodLabels}
	for _, m := range ct.Mounts {
		i.Mounts = append(i.Mounts, container.Mount{Source: m.Source, Dest: m.Dest, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation})
	}
	return i.JSON()
}

// Known returns the JSON of every container the state knows, by id.
func Known(in *state.Inspector) [][]byte {
	var cts []*state.Container
	in.Containers.Each(func(ct *state.Container) { cts = append(cts, ct) })
	sort.Slice(cts, func(i, j int) bool { return cts[i].ID < cts[j].ID })
	out := make([][]byte, 0, len(cts))
	for _, ct := range cts {
		out = append(out, JSON(ct))
	}
	return out
}

// State is the inspector the watcher feeds.
func (w *Watcher) State() *state.Inspector { return w.in }

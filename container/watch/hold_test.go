package watch

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

// typeOf finds an event type by name and direction in the event table (the latest version).
func typeOf(t *testing.T, name string, exit bool) uint16 {
	for ty := event.MaxType - 1; ty >= 0; ty-- {
		if i := event.Lookup(uint16(ty)); i != nil && i.Name == name && (ty%2 == 1) == exit {
			return uint16(ty)
		}
	}
	t.Fatalf("no event %s", name)
	return 0
}

func rawEv(ts uint64, tid int64, typ uint16, params ...[]byte) []byte {
	return event.AppendV2(nil, ts, tid, typ, params...)
}

func le64(v int64) []byte  { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func cz(s string) []byte   { return append([]byte(s), 0) }

// execveExit is an execve exit of tid in the cgroups given.
func execveExit(t *testing.T, ts uint64, tid int64, exe, cgroups string) []byte {
	return rawEv(ts, tid, typeOf(t, "execve", true), le64(0), cz(exe), cz(exe), le64(tid), le64(tid), le64(1),
		cz("/"), le64(1024), le64(0), le64(0), le32(0), le32(0), le32(0), cz(filepath.Base(exe)),
		cz("cpu="+cgroups), nil, le32(0), le64(tid), le32(0), le32(0))
}

// script is a source over a fixed list of events, each available from a time on (a live
// stream: Next blocks until then, or returns os.ErrDeadlineExceeded at the deadline).
type script struct {
	t        *testing.T
	evs      [][]byte
	at       []time.Time
	i        int
	deadline time.Time
}

func (s *script) Next(ev *event.Event) error {
	if s.i == len(s.evs) {
		return io.EOF
	}
	for time.Now().Before(s.at[s.i]) {
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			return errDeadline
		}
		time.Sleep(time.Millisecond)
	}
	raw := s.evs[s.i]
	s.i++
	return ev.Set(raw, event.HeaderV2, event.Lookup(binary.LittleEndian.Uint16(raw[20:])))
}
func (s *script) SetDeadline(t time.Time) { s.deadline = t }
func (s *script) Horizon() uint64         { return 0 }

var errDeadline = &deadlineErr{}

type deadlineErr struct{}

func (*deadlineErr) Error() string   { return "deadline" }
func (*deadlineErr) Timeout() bool   { return true }
func (*deadlineErr) Is(e error) bool { return e == os.ErrDeadlineExceeded }

// slowDocker serves docker's inspect for fullID after delay (never, if delay < 0).
func slowDocker(t *testing.T, delay time.Duration) string {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay < 0 {
			<-r.Context().Done()
			return
		}
		time.Sleep(delay)
		if strings.HasPrefix(r.URL.Path, "/containers/"+fullID[:12]) {
			io.WriteString(w, `{"Id":"`+fullID+`","Name":"/web","Config":{"Image":"nginx:1"}}`)
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// dockerRuntime is a resolver over a docker API that answers after delay (never if < 0),
// closed with the test, and an empty state.
func dockerRuntime(t *testing.T, delay time.Duration) (*container.Resolver, *state.Inspector) {
	res := container.NewResolver(container.Config{DockerSocket: slowDocker(t, delay), Timeout: 10 * time.Second})
	t.Cleanup(res.Close)
	return res, state.New()
}

type seen struct {
	tid  int64
	typ  uint16
	name string // container.name as the state has it after the event
	at   time.Duration
}

// run reads the holder to its end, feeding the state as the capture loop does.
func run(t *testing.T, h *Holder, in *state.Inspector) []seen {
	var out []seen
	start := time.Now()
	var ev event.Event
	for {
		err := h.Next(&ev)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		in.Process(&ev)
		s := seen{tid: ev.Tid, typ: ev.Type, at: time.Since(start)}
		if in.Thread != nil {
			if ct := in.Containers.Get(in.Thread.ContainerID); ct != nil {
				s.name = ct.Name
			}
		}
		out = append(out, s)
	}
}

// TestHoldNamesFirstEvent: a new container's execve and the events after it wait for the
// runtime's answer (80 ms) and then come out after the container event, named; the host's
// events meanwhile are not delayed.
func TestHoldNamesFirstEvent(t *testing.T) {
	res, in := dockerRuntime(t, 80*time.Millisecond)
	closeX := typeOf(t, "close", true)
	now := time.Now()
	s := &script{t: t,
		evs: [][]byte{
			rawEv(1, 10, closeX, le64(0)),                      // host
			execveExit(t, 2, 20, "/bin/sh", "/docker/"+fullID), // the container's first event
			rawEv(3, 20, closeX, le64(0)),                      // its next one
			rawEv(4, 10, closeX, le64(0)),                      // host, 20 ms later
			rawEv(5, 20, closeX, le64(0)),                      // the container again, at 300 ms
		},
		at: []time.Time{now, now, now, now.Add(20 * time.Millisecond), now.Add(300 * time.Millisecond)},
	}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: time.Second}
	got := run(t, h, in)
	if len(got) != 6 {
		t.Fatalf("%d events out, want 5 and the container event: %+v", len(got), got)
	}
	want := []struct {
		tid  int64
		name string
	}{{10, ""}, {10, ""}, {-1, "web"}, {20, "web"}, {20, "web"}, {20, "web"}}
	for i, w := range want {
		if got[i].tid != w.tid || got[i].name != w.name {
			t.Errorf("event %d: tid %d container %q, want tid %d container %q", i, got[i].tid, got[i].name, w.tid, w.name)
		}
	}
	if got[1].at > 60*time.Millisecond {
		t.Errorf("the host event waited %v for another container's lookup", got[1].at)
	}
	if got[3].at < 70*time.Millisecond {
		t.Errorf("the container's execve came out after %v, before its metadata", got[3].at)
	}
	if n, e, to := h.Stats.Containers.Load(), h.Stats.Events.Load(), h.Stats.TimedOut.Load(); n != 1 || e != 2 || to != 0 {
		t.Errorf("held %d containers, %d events, %d timed out; want 1, 2, 0", n, e, to)
	}
	if l := time.Duration(h.Stats.Longest.Load()); l < 70*time.Millisecond || l > 500*time.Millisecond {
		t.Errorf("longest hold %v", l)
	}
}

// TestHoldLimit: a runtime that never answers holds the container's events for Limit only,
// and none is lost.
func TestHoldLimit(t *testing.T) {
	res, in := dockerRuntime(t, -1)
	closeX := typeOf(t, "close", true)
	now := time.Now()
	s := &script{t: t,
		evs: [][]byte{
			execveExit(t, 1, 20, "/bin/sh", "/docker/"+fullID),
			rawEv(2, 20, closeX, le64(0)),
			rawEv(3, 10, closeX, le64(0)),
			rawEv(4, 10, closeX, le64(0)),
		},
		at: []time.Time{now, now, now, now.Add(400 * time.Millisecond)},
	}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: 100 * time.Millisecond}
	got := run(t, h, in)
	var tids []int64
	for _, g := range got {
		tids = append(tids, g.tid)
	}
	if len(got) != 4 || tids[0] != 10 || tids[1] != 20 || tids[2] != 20 || tids[3] != 10 {
		t.Fatalf("events out by tid %v, want [10 20 20 10]", tids)
	}
	if got[1].at < 90*time.Millisecond || got[1].at > 300*time.Millisecond {
		t.Errorf("held events released after %v, want about the 100 ms limit (and before the next event)", got[1].at)
	}
	if h.Stats.TimedOut.Load() != 1 || h.Stats.Events.Load() != 2 {
		t.Errorf("timed out %d, held %d", h.Stats.TimedOut.Load(), h.Stats.Events.Load())
	}
}

// TestHoldNotFound: a container the runtime does not know is released as soon as it says so.
func TestHoldNotFound(t *testing.T) {
	res, in := dockerRuntime(t, 0)
	other := strings.Repeat("e", 64)
	s := &script{t: t, evs: [][]byte{execveExit(t, 1, 20, "/bin/sh", "/docker/"+other)}, at: []time.Time{time.Now()}}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: 5 * time.Second}
	got := run(t, h, in)
	if len(got) != 1 || got[0].at > time.Second {
		t.Fatalf("got %+v", got)
	}
	if h.Stats.TimedOut.Load() != 0 {
		t.Error("counted as timed out")
	}
}

// TestHoldEnd: when the capture ends, the events still waiting come out; none is lost.
func TestHoldEnd(t *testing.T) {
	res, in := dockerRuntime(t, -1)
	closeX := typeOf(t, "close", true)
	now := time.Now()
	s := &script{t: t, evs: [][]byte{execveExit(t, 1, 20, "/bin/sh", "/docker/"+fullID), rawEv(2, 20, closeX, le64(0))},
		at: []time.Time{now, now}}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: time.Hour}
	start := time.Now()
	if got := run(t, h, in); len(got) != 2 || time.Since(start) > time.Second {
		t.Fatalf("%d events after %v", len(got), time.Since(start))
	}
}

// loopSource returns the same events over and over.
type loopSource struct {
	evs [][]byte
	i   int
}

func (s *loopSource) Next(ev *event.Event) error {
	raw := s.evs[s.i%len(s.evs)]
	s.i++
	return ev.Set(raw, event.HeaderV2, event.Lookup(binary.LittleEndian.Uint16(raw[20:])))
}

// TestHolderAllocatesNothing: events of the host and of known containers go through the
// holder without an allocation (the per-event path).
func TestHolderAllocatesNothing(t *testing.T) {
	res := container.NewResolver(container.Config{})
	defer res.Close()
	in := state.New()
	in.AddThread(&state.Thread{Tid: 10, Pid: 10})
	in.AddThread(&state.Thread{Tid: 20, Pid: 20, ContainerID: fullID[:12], Cgroups: []string{"cpu=/docker/" + fullID}})
	in.Containers.Add(&state.Container{ID: fullID[:12], Name: "web"})
	closeX := typeOf(t, "close", true)
	src := &loopSource{evs: [][]byte{rawEv(1, 10, closeX, le64(0)), rawEv(2, 20, closeX, le64(0))}}
	h := &Holder{Src: src, W: New(in, res, nil), Limit: time.Second}
	var ev event.Event
	h.Next(&ev)
	if a := testing.AllocsPerRun(1000, func() {
		if err := h.Next(&ev); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%.1f allocations per event", a)
	}
}

// TestHoldMemoryBound: past MaxHeldBytes the container held longest goes on without waiting.
func TestHoldMemoryBound(t *testing.T) {
	res, in := dockerRuntime(t, -1)
	closeX := typeOf(t, "close", true)
	now := time.Now()
	evs := [][]byte{execveExit(t, 1, 20, "/bin/sh", "/docker/"+fullID)}
	for i := 0; i < 50; i++ {
		evs = append(evs, rawEv(uint64(2+i), 20, closeX, le64(0)))
	}
	evs = append(evs, rawEv(100, 10, closeX, le64(0)))
	at := make([]time.Time, len(evs))
	for i := range at {
		at[i] = now
	}
	at[len(at)-1] = now.Add(200 * time.Millisecond)
	s := &script{t: t, evs: evs, at: at}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: time.Hour, MaxHeldBytes: 1000}
	got := run(t, h, in)
	if len(got) != len(evs) || got[len(got)-1].tid != 10 {
		t.Fatalf("%d events out of %d, the host's last", len(got), len(evs))
	}
	if got[0].at > 100*time.Millisecond || h.Stats.Overflow.Load() != 1 {
		t.Errorf("first event out after %v, %d overflows", got[0].at, h.Stats.Overflow.Load())
	}
}

// TestHoldNamesFromAnnouncement: the runtime announced the container on its event stream but
// its inspect never answers: when the hold's limit comes, the announcement names the events.
func TestHoldNamesFromAnnouncement(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "podman.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			io.WriteString(w, `{"Type":"container","Action":"create","Actor":{"ID":"`+fullID+`","Attributes":{"name":"announced","image":"localhost/app:3"}}}`+"\n")
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done() // inspect never answers
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	res := container.NewResolver(container.Config{PodmanSocket: sock, Timeout: 10 * time.Second})
	defer res.Close()
	res.Follow()
	for deadline := time.Now().Add(5 * time.Second); res.Announced() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no announcement")
		}
	}
	in := state.New()
	closeX := typeOf(t, "close", true)
	now := time.Now()
	s := &script{t: t, evs: [][]byte{execveExit(t, 1, 20, "/bin/sh", "/machine.slice/libpod-"+fullID+".scope"), rawEv(2, 20, closeX, le64(0)),
		rawEv(3, 10, closeX, le64(0))},
		at: []time.Time{now, now, now.Add(300 * time.Millisecond)}}
	h := &Holder{Src: s, W: New(in, res, nil), Limit: 100 * time.Millisecond}
	got := run(t, h, in)
	if len(got) != 4 || got[0].tid != -1 || got[1].name != "announced" || got[2].name != "announced" || got[1].at < 90*time.Millisecond {
		t.Fatalf("got %+v", got)
	}
	if h.Stats.TimedOut.Load() != 0 {
		t.Errorf("%d timed out", h.Stats.TimedOut.Load())
	}
}

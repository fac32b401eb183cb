package watch

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/state"
)

const fullID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestWatcherInjectsContainerEvent(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // a slow runtime
		if strings.HasPrefix(r.URL.Path, "/containers/") {
			io.WriteString(w, `{"Id":"`+fullID+`","Name":"/web","Config":{"Image":"nginx:1"}}`)
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(l)
	defer srv.Close()
	res := container.NewResolver(container.Config{DockerSocket: sock, Timeout: 5 * time.Second})
	defer res.Close()
	in := state.New()
	warned := 0
	w := New(in, res, func(container.Result) { warned++ })
	th := &state.Thread{Tid: 7, Pid: 7, ContainerID: fullID[:12], Cgroups: []string{"cpu=/docker/" + fullID}}
	in.Thread = th
	var ev event.Event
	// The runtime has not answered: the event loop goes on at once.
	start := time.Now()
	for i := 0; i < 1000; i++ {
		if nextOK(w, &ev, 42) {
			t.Fatal("an event before the runtime answered")
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("1000 calls took %v while the runtime was slow", d)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for !nextOK(w, &ev, 42) {
		if time.Now().After(deadline) {
			t.Fatal("no container event")
		}
		time.Sleep(time.Millisecond)
	}
	if ev.Type != 324 || ev.Tid != -1 || ev.TS != 42 {
		t.Fatalf("event type %d tid %d ts %d", ev.Type, ev.Tid, ev.TS)
	}
	in.Process(&ev)
	ct := in.Containers.Get(fullID[:12])
	if ct == nil || ct.Name != "web" || ct.Image != "nginx:1" || ct.ImageTag != "1" {
		t.Fatalf("container in state: %+v", ct)
	}
	if got := Known(in); len(got) != 1 || !strings.Contains(string(got[0]), `"name":"web"`) {
		t.Errorf("Known: %q", got)
	}
	in.Thread = th
	if nextOK(w, &ev, 43) || warned != 0 {
		t.Errorf("a second event or a warning for a known container")
	}
}

// nextOK reports whether the watcher filled ev with a container event.
func nextOK(w *Watcher, ev *event.Event, ts uint64) bool {
	_, ok := w.next(ev, ts)
	return ok
}

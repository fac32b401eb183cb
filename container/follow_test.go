package container

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// waitResult polls r until the lookup of id finishes.
func waitResult(t *testing.T, r *Resolver, id string) Result {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, x := range r.Poll() {
			if x.ID == id {
				return x
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no lookup of %s finished", id)
	return Result{}
}

// criFrame is one gRPC message frame.
func criFrame(msg []byte) []byte {
	f := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(f[1:], uint32(len(msg)))
	return append(f, msg...)
}

// criCreated is a ContainerEventResponse for the creation of container id, its status and its
// pod sandbox's (with the pod's labels).
func criCreated(id, name, image, pod, ns string) []byte {
	var st []byte
	st = pbString(st, 1, id)
	st = pbMsg(st, 2, pbString(nil, 1, name))
	st = pbMsg(st, 8, pbString(nil, 1, image))
	st = pbMsg(st, 12, pbString(pbString(nil, 1, "io.kubernetes.pod.name"), 2, pod))
	st = pbMsg(st, 12, pbString(pbString(nil, 1, "io.kubernetes.pod.namespace"), 2, ns))
	sb := pbString(nil, 1, "sandbox-"+pod)
	sb = pbMsg(sb, 7, pbString(pbString(nil, 1, "app"), 2, "web"))
	sb = pbMsg(sb, 7, pbString(pbString(nil, 1, "tier"), 2, "front"))
	ev := pbString(nil, 1, id) // container_event_type CREATED is 0: not on the wire
	ev = pbVarint(ev, 3, uint64(time.Now().UnixNano()))
	ev = pbMsg(ev, 4, sb)
	return pbMsg(ev, 5, st)
}

// TestFollowCRIEvents serves a CRI runtime (containerd, then CRI-O) whose GetContainerEvents
// stream first breaks after one event that is not a creation, then, on the resolver's
// reconnection, announces a container that its ContainerStatus no longer knows (it ran and was
// removed): the container is named all the same, with its pod's labels, from the announcement.
func TestFollowCRIEvents(t *testing.T) {
	for _, rt := range []struct {
		version string
		typ     Type
		cfg     func(sock string) Config
	}{
		{"containerd", Containerd, func(s string) Config { return Config{ContainerdSocket: s} }},
		{"cri-o", CRIO, func(s string) Config { return Config{CRIOSocket: s} }},
	} {
		t.Run(rt.version, func(t *testing.T) {
			id := strings.Repeat("ab", 32)
			var streams atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("/runtime.v1.RuntimeService/Version", func(w http.ResponseWriter, r *http.Request) {
				grpcReply(w, pbString(pbString(nil, 1, "0.1.0"), 2, rt.version))
			})
			mux.HandleFunc("/runtime.v1.RuntimeService/ContainerStatus", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc")
				w.Header().Set("Grpc-Status", "5")
				w.Header().Set("Grpc-Message", "container gone")
			})
			mux.HandleFunc("/runtime.v1.RuntimeService/GetContainerEvents", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc")
				w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
				if streams.Add(1) == 1 {
					started := pbVarint(pbString(nil, 1, strings.Repeat("cd", 32)), 2, 1) // STARTED
					w.Write(criFrame(started))
					w.Header().Set("Grpc-Status", "14")
					w.Header().Set("Grpc-Message", "runtime restarting")
					return
				}
				w.Write(criFrame(criCreated(id, "app", "registry.local/app:2.1", "web-7", "prod")))
				w.(http.Flusher).Flush()
				<-r.Context().Done() // a stream stays open
			})
			sock := serveUnix(t, mux, true)
			r := NewResolver(rt.cfg(sock))
			defer r.Close()
			r.Follow()
			x := waitResult(t, r, id[:12])
			if x.Err != nil {
				t.Fatal(x.Err)
			}
			i := x.Info
			if i.Type != rt.typ || i.Name != "app" || i.Image != "registry.local/app:2.1" || i.ImageTag != "2.1" ||
				i.Labels["io.kubernetes.pod.name"] != "web-7" || i.Labels["io.kubernetes.pod.namespace"] != "prod" ||
				i.PodLabels["app"] != "web" || i.PodLabels["tier"] != "front" || i.CreatedTime == 0 {
				t.Errorf("info %+v", i)
			}
			if streams.Load() != 2 || r.Announced() != 1 {
				t.Errorf("%d streams, %d announced; want 2 and 1", streams.Load(), r.Announced())
			}
			if !strings.Contains(string(i.JSON()), `"pod_sandbox_labels":{"app":"web","tier":"front"}`) {
				t.Errorf("container JSON %s", i.JSON())
			}
		})
	}
}

// TestFollowDockerEvents serves the Docker API's /events stream (docker's and podman's): a
// container created and gone before its inspect is named from the create event's attributes
// (its name, image and labels); other actions are not announcements.
func TestFollowDockerEvents(t *testing.T) {
	id := strings.Repeat("12", 32)
	mux := http.NewServeMux()
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Query().Get("filters"), `"create"`) {
			t.Errorf("filters %q", r.URL.Query().Get("filters"))
		}
		fmt.Fprintf(w, `{"status":"start","id":"%s","Type":"container","Action":"start","Actor":{"ID":"%s","Attributes":{"name":"other"}}}`+"\n", strings.Repeat("9", 64), strings.Repeat("9", 64))
		fmt.Fprintf(w, `{"status":"create","id":"%s","from":"localhost/job:1","Type":"container","Action":"create","Actor":{"ID":"%s","Attributes":{"containerExitCode":"0","image":"localhost/job:1","io.kubernetes.pod.name":"batch-1","name":"job-1","podId":""}},"time":1796365169,"timeNano":1796365169084470765}`+"\n", id, id)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/", http.NotFound) // inspect: gone
	sock := serveUnix(t, mux, false)
	r := NewResolver(Config{PodmanSocket: sock})
	defer r.Close()
	r.Follow()
	x := waitResult(t, r, id[:12])
	if x.Err != nil {
		t.Fatal(x.Err)
	}
	i := x.Info
	if i.Type != Podman || i.Name != "job-1" || i.Image != "localhost/job:1" || i.ImageTag != "1" ||
		i.Labels["io.kubernetes.pod.name"] != "batch-1" || len(i.Labels) != 1 || i.CreatedTime != 1796365169 {
		t.Errorf("info %+v", i)
	}
	if r.Announced() != 1 {
		t.Errorf("%d announced", r.Announced())
	}
}

package container

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const hexID = "3f4bd6c0a5e1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b"

func TestFromCgroups(t *testing.T) {
	cases := []struct {
		name    string
		cgroups []string
		id      string
		typ     Type
	}{
		{"host", []string{"cpu=/", "memory=/user.slice/user-0.slice/session-1.scope", "0::/"}, "", Docker},
		{"docker v1", []string{"cpuset=/", "cpu=/docker/" + hexID}, hexID[:12], Docker},
		{"docker v2 systemd", []string{"0::/system.slice/docker-" + hexID + ".scope"}, hexID[:12], Docker},
		{"docker proc line", []string{"4:memory:/docker/" + hexID}, hexID[:12], Docker},
		{"podman cgroupfs v1", []string{"pids=/libpod_parent/libpod-" + hexID}, hexID[:12], Podman},
		{"podman cgroupfs nested", []string{"0::/libpod_parent/libpod-" + hexID + "/container"}, hexID[:12], Podman},
		{"podman systemd", []string{"0::/machine.slice/libpod-" + hexID + ".scope"}, hexID[:12], Podman},
		{"podman systemd container", []string{"0::/machine.slice/libpod-" + hexID + ".scope/container"}, hexID[:12], Podman},
		{"podman rootless", []string{"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + hexID + ".scope"}, hexID[:12], Podman},
		{"podman conmon is host", []string{"0::/machine.slice/libpod-conmon-" + hexID + ".scope"}, "", Docker},
		{"kubepods cgroupfs", []string{"cpu=/kubepods/besteffort/pod0c4d5e6f-1a2b-3c4d-5e6f-7a8b9c0d1e2f/" + hexID}, hexID[:12], CRI},
		{"kubepods burstable", []string{"memory=/kubepods/burstable/pod0c4d5e6f/" + hexID}, hexID[:12], CRI},
		{"containerd systemd", []string{"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c4d5e6f.slice/cri-containerd-" + hexID + ".scope"}, hexID[:12], Containerd},
		{"containerd system.slice", []string{"0::/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:" + hexID}, "", Docker},
		{"crio", []string{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/crio-" + hexID + ".scope"}, hexID[:12], CRIO},
		{"crio conmon is host", []string{"0::/kubepods.slice/crio-conmon-" + hexID + ".scope"}, "", Docker},
		{"short id is host", []string{"cpu=/docker/abc123"}, "", Docker},
		{"upper case is host", []string{"cpu=/docker/" + strings.ToUpper(hexID)}, "", Docker},
		{"first match wins", []string{"cpu=/", "pids=/docker/" + hexID, "memory=/libpod_parent/libpod-" + strings.Repeat("a", 64)}, hexID[:12], Docker},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, typ := FromCgroups(c.cgroups)
			if id != c.id || (id != "" && typ != c.typ) {
				t.Errorf("FromCgroups(%q) = %q, %v; want %q, %v", c.cgroups, id, typ, c.id, c.typ)
			}
		})
	}
}

func TestSplitImage(t *testing.T) {
	cases := []struct{ in, repo, tag, digest string }{
		{"nginx", "nginx", "latest", ""},
		{"nginx:1.25", "nginx", "1.25", ""},
		{"localhost/gsd-test:latest", "localhost/gsd-test", "latest", ""},
		{"registry:5000/team/app:v2", "registry:5000/team/app", "v2", ""},
		{"registry:5000/team/app", "registry:5000/team/app", "latest", ""},
		{"nginx@sha256:abcd", "nginx", "", "sha256:abcd"},
		{"nginx:1@sha256:abcd", "nginx", "1", "sha256:abcd"},
	}
	for _, c := range cases {
		r, tg, d := splitImage(c.in)
		if r != c.repo || tg != c.tag || d != c.digest {
			t.Errorf("splitImage(%q) = %q %q %q, want %q %q %q", c.in, r, tg, d, c.repo, c.tag, c.digest)
		}
	}
}

func TestJSON(t *testing.T) {
	i := &Info{ID: "9dbcbd0c435f", Name: "epic_cray", Image: "nginx:latest", ImageRepo: "nginx", ImageTag: "latest",
		ImageID: "f68d", Privileged: true, IP: "172.17.0.2", Labels: map[string]string{"a": "<b>"},
		Mounts: []Mount{{Source: "/h", Dest: "/c", Mode: "ro", RW: false, Propagation: "rprivate"}}}
	want := `{"container":{"Mounts":[{"Destination":"/c","Mode":"ro","Propagation":"rprivate","RW":false,"Source":"/h"}],"cpu_period":100000,"cpu_quota":0,"cpu_shares":1024,"env":[],"id":"9dbcbd0c435f","image":"nginx:latest","imagedigest":"","imageid":"f68d","imagerepo":"nginx","imagetag":"latest","ip":"172.17.0.2","is_pod_sandbox":false,"labels":{"a":"<b>"},"memory_limit":0,"metadata_deadline":0,"name":"epic_cray","port_mappings":[],"privileged":true,"swap_limit":0,"type":0}}`
	if got := string(i.JSON()); got != want {
		t.Errorf("JSON:\n%s\nwant\n%s", got, want)
	}
}

func serveUnix(t *testing.T, h http.Handler, h2c bool) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "rt.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	if h2c {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestDockerLookup(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != hexID[:12] {
			http.Error(w, `{"message":"no such container"}`, http.StatusNotFound)
			return
		}
		io.WriteString(w, `{"Id":"`+hexID+`","Name":"/web","Image":"sha256:`+strings.Repeat("b", 64)+`",
			"Config":{"Image":"nginx:1.25","Labels":{"app":"web"}},"HostConfig":{"Privileged":true},
			"NetworkSettings":{"IPAddress":"","Networks":{"bridge":{"IPAddress":"10.88.0.5"}}},
			"Mounts":[{"Type":"bind","Source":"/srv","Destination":"/data","Mode":"ro","RW":false,"Propagation":"rprivate"}]}`)
	})
	mux.HandleFunc("/images/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"RepoTags":["nginx:1.25"],"RepoDigests":["nginx@sha256:cafe"]}`)
	})
	sock := serveUnix(t, mux, false)
	r := NewResolver(Config{DockerSocket: sock, Timeout: 2 * time.Second})
	defer r.Close()
	r.Request(hexID[:12], Docker)
	r.Request(hexID[:12], Docker) // once only
	r.Request("000000000000", Docker)
	r.Wait(3 * time.Second)
	res := r.Poll()
	if len(res) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(res), res)
	}
	for _, x := range res {
		switch x.ID {
		case hexID[:12]:
			if x.Err != nil {
				t.Fatal(x.Err)
			}
			i := x.Info
			if i.Name != "web" || i.Image != "nginx:1.25" || i.ImageRepo != "nginx" || i.ImageTag != "1.25" ||
				i.ImageDigest != "sha256:cafe" || i.ImageID != strings.Repeat("b", 64) || !i.Privileged ||
				i.IP != "10.88.0.5" || i.Labels["app"] != "web" || len(i.Mounts) != 1 || i.Mounts[0].Dest != "/data" {
				t.Errorf("info %+v", i)
			}
		default:
			if !x.NotFound() {
				t.Errorf("unknown container: %v, want not found", x.Err)
			}
		}
	}
	if r.Poll() != nil {
		t.Error("second Poll returned results")
	}
}

func TestUnreachable(t *testing.T) {
	r := NewResolver(Config{PodmanSocket: filepath.Join(t.TempDir(), "none.sock"), Timeout: time.Second})
	defer r.Close()
	start := time.Now()
	r.Request(hexID[:12], Podman)
	if time.Since(start) > 50*time.Millisecond {
		t.Error("Request blocked")
	}
	r.Wait(2 * time.Second)
	res := r.Poll()
	if len(res) != 1 || res[0].Err == nil || res[0].Info != nil || res[0].NotFound() || res[0].Runtime != "podman" {
		t.Fatalf("results %+v", res)
	}
}

// grpcReply writes one gRPC response message.
func grpcReply(w http.ResponseWriter, msg []byte) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status")
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	w.Write(append(frame, msg...))
	w.Header().Set("Grpc-Status", "0")
}

func pbMsg(b []byte, field int, m []byte) []byte { return pbString(b, field, string(m)) }

func TestCRILookup(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/runtime.v1.RuntimeService/Version", func(w http.ResponseWriter, r *http.Request) {
		grpcReply(w, pbString(pbString(nil, 1, "0.1.0"), 2, "containerd"))
	})
	mux.HandleFunc("/runtime.v1.RuntimeService/ContainerStatus", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var id string
		pbEach(body[5:], func(f, wt int, _ uint64, b []byte) {
			if f == 1 {
				id = string(b)
			}
		})
		if id != hexID[:12] {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "5")
			w.Header().Set("Grpc-Message", "not found")
			return
		}
		var st []byte
		st = pbString(st, 1, hexID)
		st = pbMsg(st, 2, pbString(nil, 1, "nginx-ctr"))
		st = pbMsg(st, 8, pbString(nil, 1, "docker.io/library/nginx:1.25"))
		st = pbString(st, 9, "docker.io/library/nginx@sha256:beef")
		st = pbMsg(st, 12, pbString(pbString(nil, 1, "io.kubernetes.pod.name"), 2, "web-0"))
		st = pbMsg(st, 14, pbVarint(pbString(pbString(nil, 1, "/data"), 2, "/srv"), 3, 1))
		info, _ := json.Marshal(map[string]any{"sandboxID": "sb1", "privileged": true})
		resp := pbMsg(nil, 1, st)
		resp = pbMsg(resp, 2, pbString(pbString(nil, 1, "info"), 2, string(info)))
		grpcReply(w, resp)
	})
	mux.HandleFunc("/runtime.v1.RuntimeService/PodSandboxStatus", func(w http.ResponseWriter, r *http.Request) {
		grpcReply(w, pbMsg(nil, 1, pbMsg(pbString(nil, 1, "sb1"), 5, pbString(nil, 1, "10.1.2.3"))))
	})
	sock := serveUnix(t, mux, true)
	r := NewResolver(Config{ContainerdSocket: sock, Timeout: 2 * time.Second})
	defer r.Close()
	r.Request(hexID[:12], Containerd)
	r.Request("111111111111", CRI)
	r.Wait(3 * time.Second)
	for _, x := range r.Poll() {
		if x.ID != hexID[:12] {
			if !x.NotFound() {
				t.Errorf("unknown: %v", x.Err)
			}
			continue
		}
		if x.Err != nil {
			t.Fatal(x.Err)
		}
		i := x.Info
		if i.Type != Containerd || i.Name != "nginx-ctr" || i.Image != "docker.io/library/nginx:1.25" ||
			i.ImageRepo != "docker.io/library/nginx" || i.ImageTag != "1.25" || i.ImageDigest != "sha256:beef" ||
			!i.Privileged || i.IP != "10.1.2.3" || i.Labels["io.kubernetes.pod.name"] != "web-0" ||
			len(i.Mounts) != 1 || i.Mounts[0].RW || i.Mounts[0].Source != "/srv" {
			t.Errorf("info %+v", i)
		}
	}
}

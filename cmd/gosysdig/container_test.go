package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// Live container tests. TestLivePodmanContainer runs a real container (podman with runc and
// cgroupfs, an image made from the host's busybox and bash, no registry, no network); the
// others put a shell in a docker-style cgroup by hand and answer (or not) for the runtime with a
// fake Docker API server, so they need root but no container runtime.

// containerFormat is the format, with every event printed (the leading *): a new
// container's events wait for its metadata (watch.Holder), so none shows <NA>.
const containerFormat = "*%container.id %container.name %container.image %proc.name"
const containerFilter = "proc.name=bash and container.id!=host"

// needTool skips without the program outside CI and fails under CI.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed under CI (apt-get install podman runc busybox-static)", n)
			}
			t.Skipf("%s not installed: skipping", n)
		}
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func runCmd(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// podmanSetup writes a containers.conf (runc, cgroupfs, file events: what works on these
// machines) and imports an image holding the host's busybox and bash with bash's libraries.
// It returns the environment to run podman in and the image's name.
func podmanSetup(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	err := os.WriteFile(conf, []byte(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"CONTAINERS_CONF=" + conf}
	root := filepath.Join(dir, "root")
	for _, d := range []string{"bin", "tmp", "proc", "sys", "dev", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	busybox, _ := exec.LookPath("busybox")
	bash, _ := exec.LookPath("bash")
	files := []string{busybox, bash}
	for _, f := range regexp.MustCompile(`(/\S+) \(0x`).FindAllStringSubmatch(runCmd(t, nil, "ldd", bash), -1) {
		files = append(files, f[1])
	}
	for i, f := range files {
		dst := filepath.Join(root, f)
		if i < 2 {
			dst = filepath.Join(root, "bin", filepath.Base(f))
		}
		b, err := os.ReadFile(f) // follows symlinks
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"sh", "sleep", "echo", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	tarball := filepath.Join(dir, "image.tar")
	runCmd(t, nil, "tar", "-C", root, "-cf", tarball, ".")
	image := "localhost/gosysdig-test-" + randomHex(t, 8) + ":latest"
	runCmd(t, env, "podman", "import", "-q", tarball, image)
	t.Cleanup(func() {
		rmi := exec.Command("podman", "rmi", "-f", image)
		rmi.Env = append(os.Environ(), env...)
		rmi.Run()
	})
	return env, image
}

// removeContainers removes the named podman containers when the test ends, whatever happened.
func removeContainers(t *testing.T, env []string, names ...string) {
	t.Cleanup(func() {
		for _, n := range names {
			rm := exec.Command("podman", "rm", "-f", "--ignore", n)
			rm.Env = append(os.Environ(), env...)
			rm.Run()
		}
	})
}

// podmanService starts podman's Docker-compatible API on a socket of its own and returns it.
func podmanService(t *testing.T, env []string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "podman.sock")
	cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	client := unixClient(sock)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := client.Get("http://d/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return sock
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman system service did not answer on %s: %v\n%s", sock, err, errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
}

// stopTraced stops a gosysdig started by startTraced and checks it exited 0.
func stopTraced(t *testing.T, cmd *exec.Cmd, errb fmt.Stringer) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gosysdig: %v\n%s", err, errb.String())
	}
}

// checkContainerLines checks gosysdig's output of containerFormat: every line is a bash of
// container id, named, from the first one.
func checkContainerLines(t *testing.T, out, id, name, image string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != id || f[3] != "bash" {
			t.Errorf("line %q: want a bash of container %s (no host bash)", l, id)
			continue
		}
		if f[1] != name || f[2] != image {
			t.Errorf("line %q: want name %s and image %s", l, name, image)
		}
	}
	t.Logf("%d lines; first ones:\n%s", len(lines), firstLines(out, 3))
}

func TestLivePodmanContainer(t *testing.T) {
	needRoot(t)
	needTool(t, "podman", "runc", "busybox", "tar", "ldd")
	env, image := podmanSetup(t)
	sock := podmanService(t, env)
	bin := buildBinary(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "live.scap")
	// -w prints nothing (as sysdig's): the checks read the file back.
	cmd, _, errb := startTraced(t, bin, filepath.Join(dir, "ready"), "--podman-socket", sock,
		"-w", capFile, containerFilter)
	name := "gosysdig-test-" + randomHex(t, 8)
	cidFile := filepath.Join(dir, "cid")
	removeContainers(t, env, name)
	runCmd(t, env, "podman", "run", "--rm", "--name", name, "--cidfile", cidFile, "--network", "none",
		image, "/bin/bash", "-c", "echo in the container; sleep 1; echo done")
	runCmd(t, nil, "bash", "-c", "echo on the host; sleep 0.2; echo done") // must not show
	stopTraced(t, cmd, errb)
	cid, err := os.ReadFile(cidFile)
	if err != nil || len(cid) < 12 {
		t.Fatalf("container id: %v %q", err, cid)
	}
	id := string(cid[:12])
	if strings.Contains(errb.String(), "warning") {
		t.Errorf("unexpected warning:\n%s", errb.String())
	}

	// The -w file has the container's event: gosysdig -r shows the name on bash's events and
	// sysdig -r shows the container event.
	back, err := exec.Command(bin, "-r", capFile, "-p", containerFormat, containerFilter).Output()
	if err != nil {
		t.Fatalf("gosysdig -r: %v", err)
	}
	checkContainerLines(t, string(back), id, name, image)
	if _, err := exec.LookPath("sysdig"); err == nil {
		// sysdig 0.29.3 knows podman's cgroups only in systemd's form (libpod-<id>.scope), so
		// it puts no thread in this (cgroupfs) container, but it reads the container's event.
		sd, err := exec.Command("sysdig", "-r", capFile, "-p", "%container.id|%container.name|%container.image", "evt.type=container").Output()
		if err != nil {
			t.Fatalf("sysdig -r: %v", err)
		}
		if want := id + "|" + name + "|" + image; !strings.Contains(string(sd), want) {
			t.Errorf("sysdig -r %s: no %q in\n%s", capFile, want, sd)
		}
		t.Logf("sysdig -r: %s", strings.TrimSpace(string(sd)))
	}
}

// fakeDocker serves the Docker API's container and image inspection for one container.
func fakeDocker(t *testing.T, fullID, name, image string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(fullID, r.PathValue("id")) {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"Id":%q,"Name":"/%s","Image":"sha256:%s","Config":{"Image":%q,"Labels":{"team":"gosysdig"}},
			"HostConfig":{"Privileged":true},"NetworkSettings":{"IPAddress":"172.17.0.9"},
			"Mounts":[{"Source":"/srv/data","Destination":"/data","Mode":"ro","RW":false,"Propagation":"rprivate"},
			{"Source":"/srv/logs","Destination":"/logs","Mode":"","RW":true,"Propagation":"rslave"}]}`,
			fullID, name, strings.Repeat("c", 64), image)
	})
	mux.HandleFunc("/images/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"RepoTags":["`+image+`"],"RepoDigests":[]}`)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// dockerCgroup makes a docker-style cgroup (/docker/<id>) and returns the script prefix that
// moves a shell into it.
func dockerCgroup(t *testing.T, fullID string) string {
	t.Helper()
	base := "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(base, "cgroup.controllers")); err != nil {
		base = filepath.Join(base, "pids") // cgroup v1: one hierarchy is enough
	}
	dir := filepath.Join(base, "docker", fullID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		os.Remove(filepath.Dir(dir)) // fails while other tests use it
	})
	return "echo $$ > " + filepath.Join(dir, "cgroup.procs") + " && exec "
}

func TestLiveContainerDockerAPI(t *testing.T) {
	needRoot(t)
	fullID := randomHex(t, 64)
	id, name, image := fullID[:12], "fake-web", "example.com/team/web:1.0"
	enter := dockerCgroup(t, fullID)
	sock := fakeDocker(t, fullID, name, image)
	bin := buildBinary(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "live.scap")
	// A process already in the container when gosysdig starts: the container is looked up
	// before the first event and heads the -w file.
	early := exec.Command("sh", "-c", enter+"sleep 6")
	if err := early.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { early.Process.Kill(); early.Wait() }()
	time.Sleep(200 * time.Millisecond)
	// -w prints nothing (as sysdig's): the checks read the file back.
	cmd, _, errb := startTraced(t, bin, filepath.Join(dir, "ready"), "--docker-socket", sock, "--podman-socket", "",
		"-w", capFile, containerFilter)
	sh(t, enter+"bash -c 'echo in; sleep 1; echo out' >/dev/null")
	sh(t, "bash -c 'echo host' >/dev/null")
	stopTraced(t, cmd, errb)
	if strings.Contains(errb.String(), "warning") {
		t.Errorf("unexpected warning:\n%s", errb.String())
	}
	back, err := exec.Command(bin, "-r", capFile, "-p", containerFormat, containerFilter).Output()
	if err != nil {
		t.Fatalf("gosysdig -r: %v", err)
	}
	checkContainerLines(t, string(back), id, name, image)
	// The container's event comes before the first event of its threads (at the head of the
	// file when the runtime answered before the capture began, as it usually does).
	r, err := capture.Open(capFile)
	if err != nil {
		t.Fatal(err)
	}
	ctEvent, firstOwn := -1, -1
	in := newState()
	in.LoadHeader(r.Header())
	var ev event.Event
	for i := 0; r.Next(&ev) == nil; i++ {
		if ev.Type == capture.ContainerEventType && ctEvent < 0 && strings.Contains(string(ev.Param(0)), `"name":"fake-web"`) {
			ctEvent = i
		}
		in.Process(&ev)
		if firstOwn < 0 && ev.Type != capture.ContainerEventType && in.Thread != nil && in.Thread.ContainerID == id {
			firstOwn = i
		}
	}
	r.Close()
	if ctEvent < 0 || firstOwn >= 0 && firstOwn < ctEvent {
		t.Errorf("the container's event (at %d) is not ahead of its threads' first event (at %d)", ctEvent, firstOwn)
	}

	// sysdig reads the capture's container event and, for this cgroup layout, puts bash in it.
	if _, err := exec.LookPath("sysdig"); err != nil {
		return
	}
	all := "%container.id|%container.name|%container.image|%container.image.repository|%container.image.tag|%container.image.id|%container.type|%container.privileged|%container.mounts|%proc.name"
	want, err := exec.Command("sysdig", "-r", capFile, "-p", all, containerFilter).Output()
	if err != nil {
		t.Fatalf("sysdig -r: %v", err)
	}
	got, err := exec.Command(bin, "-r", capFile, "-p", all, containerFilter).Output()
	if err != nil {
		t.Fatalf("gosysdig -r: %v", err)
	}
	named := id + "|" + name + "|" + image + "|example.com/team/web|1.0|" + strings.Repeat("c", 64) + "|docker|true|/srv/data:/data:ro:false:rprivate,/srv/logs:/logs::true:rslave|bash"
	if !strings.Contains(string(want), named) {
		t.Errorf("sysdig -r shows no %q:\n%s", named, firstLines(string(want), 5))
	}
	if string(got) != string(want) {
		t.Errorf("gosysdig -r and sysdig -r differ:\n%s\n---\n%s", firstLines(string(got), 5), firstLines(string(want), 5))
	}
	t.Logf("sysdig -r, first line: %s", firstLines(string(want), 1))
}

func TestLiveContainerRuntimeUnreachable(t *testing.T) {
	needRoot(t)
	id1, id2 := randomHex(t, 64), randomHex(t, 64)
	enter1, enter2 := dockerCgroup(t, id1), dockerCgroup(t, id2)
	bin := buildBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "nobody-listens.sock")
	cmd, out, errb := startTraced(t, bin, filepath.Join(dir, "ready"), "--docker-socket", sock,
		"-p", "*%container.id|%container.name|%container.image|%proc.name", containerFilter)
	sh(t, enter1+"bash -c 'echo one; sleep 0.5' >/dev/null")
	sh(t, enter2+"bash -c 'echo two; sleep 0.5' >/dev/null")
	stopTraced(t, cmd, errb) // exit 0
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 4 || (f[0] != id1[:12] && f[0] != id2[:12]) || f[1] != "<NA>" || f[2] != "<NA>" || f[3] != "bash" {
			t.Errorf("line %q: want a bash of one of the containers, name and image <NA>", l)
			continue
		}
		seen[f[0]] = true
	}
	if len(seen) != 2 {
		t.Errorf("want the bash of both containers:\n%s", out.String())
	}
	warnings := strings.Count(errb.String(), "warning:")
	if warnings != 1 || !strings.Contains(errb.String(), sock) {
		t.Errorf("want one warning naming %s, got:\n%s", sock, errb.String())
	}
	t.Logf("stderr: %s", strings.TrimSpace(errb.String()))
}

package deploytest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// need skips without a tool (or root) outside CI and fails under CI.
func need(t *testing.T, root bool, tools ...string) {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (needed under CI)", why)
		}
		t.Skip(why + ": skipping")
	}
	if root && os.Geteuid() != 0 {
		skip("the pod test needs root")
	}
	for _, n := range tools {
		if _, err := exec.LookPath(n); err != nil {
			skip(n + " is not installed")
		}
	}
}

func randomName(t *testing.T) string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// podmanEnv is a containers.conf for these machines (runc, cgroupfs, file events, limits the
// machine allows).
func podmanEnv(t *testing.T) []string {
	conf := filepath.Join(t.TempDir(), "containers.conf")
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
	return []string{"CONTAINERS_CONF=" + conf}
}

// shellImage imports an image holding only busybox, its sh among its names.
func shellImage(t *testing.T, env []string) string {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bb)
	if err != nil || os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755) != nil {
		t.Fatalf("copying busybox: %v", err)
	}
	for _, a := range []string{"sh", "true"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	tarball := filepath.Join(t.TempDir(), "shell.tar")
	run(t, nil, "tar", "-C", root, "-cf", tarball, ".")
	image := "localhost/gosysdig-kubetest-shell-" + randomName(t) + ":latest"
	run(t, env, "podman", "import", "-q", tarball, image)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", image).Run() })
	return image
}

// falcoAlert is Falco's JSON alert, as Falcosidekick reads it.
type falcoAlert struct {
	Time         time.Time      `json:"time"`
	Rule         string         `json:"rule"`
	Priority     string         `json:"priority"`
	Source       string         `json:"source"`
	Output       string         `json:"output"`
	OutputFields map[string]any `json:"output_fields"`
	Tags         []string       `json:"tags"`
	Hostname     string         `json:"hostname"`
}

// receiver stands in for Falcosidekick: it decodes every POST as Falco's JSON, strictly.
type receiver struct {
	mu     sync.Mutex
	alerts []falcoAlert
	bad    []string
	url    string
}

func startReceiver(t *testing.T) *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var a falcoAlert
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := dec.Decode(&a); err != nil || req.Header.Get("Content-Type") != "application/json" {
			r.bad = append(r.bad, string(body))
		} else {
			r.alerts = append(r.alerts, a)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

// TestKubePlayDaemonSetPod runs the DaemonSet's pod, as the chart renders it, with `podman kube
// play` on this machine (the image built by `make image`, the receiver standing in for
// Falcosidekick on the node's loopback): a shell started in another container raises the
// container-shell alert, delivered as Falco's JSON with the container's id and the node's name.
func TestKubePlayDaemonSetPod(t *testing.T) {
	need(t, true, "podman", "runc", "make", "busybox", "tar")
	env := podmanEnv(t)
	tag := "kubetest-" + randomName(t)
	const repo = "localhost/gosysdig-kubetest"
	run(t, env, "make", "-C", "../..", "image", "IMAGE="+repo, "VERSION="+tag, "DIST="+t.TempDir())
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", repo+":"+tag).Run() })
	shell := shellImage(t, env)
	rc := startReceiver(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o, err := Render("gosysdig", "gosysdig", map[string]any{
		"metrics":     map[string]any{"port": metricsPort},
		"image":       map[string]any{"repository": repo, "tag": tag, "pullPolicy": "Never"},
		"hostNetwork": true, // the receiver listens on the node's loopback
		"outputs":     map[string]any{"http": []any{rc.url}},
		"runtimes":    map[string]any{"containerd": "", "crio": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	// podman kube play (4.3) does not resolve spec.nodeName: the node is this machine, so its
	// name goes in, as the kubelet would put it.
	node, _ := os.Hostname()
	node += "-node"
	for i, e := range o.DaemonSet.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			o.DaemonSet.Spec.Template.Spec.Containers[0].Env[i] = corev1.EnvVar{Name: e.Name, Value: node}
		}
	}
	// podman kube play (4.3) reads a container's seccomp profile from the annotation form
	// Kubernetes had before securityContext.seccompProfile: the same setting, in that form.
	annotations := map[string]string{}
	for _, c := range o.DaemonSet.Spec.Template.Spec.Containers {
		if sp := c.SecurityContext.SeccompProfile; sp != nil && sp.Type == corev1.SeccompProfileTypeUnconfined {
			annotations["container.seccomp.security.alpha.kubernetes.io/"+c.Name] = "unconfined"
		}
	}
	// podman maps a containerPort as a published port, which it refuses on the host's network;
	// in Kubernetes a host-network pod's containerPort is the node's port as it is. The same
	// without the mapping: the port list goes, the probes name the port by number.
	for i := range o.DaemonSet.Spec.Template.Spec.Containers {
		c := &o.DaemonSet.Spec.Template.Spec.Containers[i]
		if !o.DaemonSet.Spec.Template.Spec.HostNetwork {
			continue
		}
		for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
			if pr != nil && pr.HTTPGet != nil {
				pr.HTTPGet.Port = intstr.FromInt32(int32(metricsPort))
			}
		}
		c.Ports = nil
	}
	podName := "gosysdig-kubetest-" + randomName(t)
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: podName, Labels: o.DaemonSet.Spec.Template.Labels, Annotations: annotations},
		Spec:       o.DaemonSet.Spec.Template.Spec,
	}
	podYAML, err := yaml.Marshal(&pod)
	if err != nil {
		t.Fatal(err)
	}
	kubeFile := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(kubeFile, podYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, env, "podman", "kube", "play", kubeFile)
	t.Cleanup(func() {
		cmd := exec.Command("podman", "kube", "down", kubeFile)
		cmd.Env = append(os.Environ(), env...)
		cmd.Run()
	})

	// The probe attaches within seconds of the pod's start: shells are started until one is
	// seen, each in a container of its own.
	var ids []string
	var got *falcoAlert
	for deadline := time.Now().Add(90 * time.Second); got == nil && time.Now().Before(deadline); {
		name := "gosysdig-kubetest-sh-" + randomName(t)
		cid := strings.TrimSpace(run(t, env, "podman", "run", "-d", "--name", name, "--network", "none", shell, "/bin/sh", "-c", "/bin/true"))
		ids = append(ids, cid[:12])
		run(t, env, "podman", "wait", name)
		run(t, env, "podman", "rm", "-f", name)
		time.Sleep(2 * time.Second)
		rc.mu.Lock()
		for i := range rc.alerts {
			if rc.alerts[i].Rule == "Terminal shell in container" {
				got = &rc.alerts[i]
				break
			}
		}
		rc.mu.Unlock()
	}
	logs := func() string {
		cmd := exec.Command("podman", "logs", podName+"-gosysdig")
		cmd.Env = append(os.Environ(), env...)
		b, _ := cmd.CombinedOutput()
		return string(b)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Errorf("%d posts did not decode as Falco's JSON, e.g. %q", len(rc.bad), rc.bad[0])
	}
	if got == nil {
		t.Fatalf("no container-shell alert reached the receiver (%d alerts); the pod's log:\n%s", len(rc.alerts), logs())
	}
	id, _ := got.OutputFields["container.id"].(string)
	if !strings.Contains(strings.Join(ids, " "), id) || id == "" || id == "host" {
		t.Errorf("alert for container %q, the shells ran in %v: %+v", id, ids, got)
	}
	if got.Hostname != node {
		t.Errorf("alert from host %q, want the node's name %q (FALCO_HOSTNAME)", got.Hostname, node)
	}
	if got.Source != "syscall" || got.Priority != "Notice" || got.Time.IsZero() || len(got.Tags) == 0 {
		t.Errorf("alert fields: %+v", got)
	}
	// The pod's metrics, on the node's network: the alert is counted, the check is healthy.
	for _, c := range []struct{ path, want string }{
		{"/healthz", "ok\n"},
		{"/metrics", `gosysdig_alerts_total{rule="Terminal shell in container",priority="Notice"} `},
	} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", metricsPort, c.path))
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d, no %q in\n%s", c.path, resp.StatusCode, c.want, b)
		}
	}
	t.Logf("%d alerts received; the container-shell one: %+v", len(rc.alerts), *got)
}

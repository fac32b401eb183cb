package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The execve format of the tests below: every field, <NA> included (the leading *).
const execveFormat = "*%container.id|%container.name|%container.image|%k8s.pod.name|%k8s.ns.name|%proc.name"
const execveFilter = "evt.type=execve and evt.dir=< and container.id!=host"

type shortContainer struct {
	name, id, pod, ns string
}

// TestLiveShortLivedContainersNamed is issue 14's check: 50 short-lived podman containers (each
// `sh -c 'cat /etc/hostname'`, five at a time, every third labelled with a Kubernetes pod and
// namespace as the CRI labels them) and one that exits at once run while gosysdig prints every
// execve in a container (and writes them with -w) and gosysdig rules runs the built-in
// shell-in-container rule. Every execve line and every alert of those containers carries the id,
// name and image (and the pod and namespace where labelled): none shows <NA>, because a new
// container's events wait for its metadata (watch.Holder). -v reports the holds.
func TestLiveShortLivedContainersNamed(t *testing.T) {
	needRoot(t)
	needTool(t, "podman", "runc", "busybox", "tar", "ldd")
	env, image := podmanSetup(t)
	sock := podmanService(t, env)
	bin := buildBinary(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "c.scap")
	tracer, out, errb := startTraced(t, bin, filepath.Join(dir, "ready"), "-v", "--podman-socket", sock,
		"-p", execveFormat, execveFilter)
	writer, _, werrb := startTraced(t, bin, filepath.Join(dir, "ready-w"), "--podman-socket", sock, "-w", capFile, execveFilter)
	rules, alerts, rerrb := startTraced(t, bin, filepath.Join(dir, "ready-r"), "rules", "-v", "-pk", "--podman-socket", sock)

	var cts []shortContainer
	for i := 0; i < 51; i++ {
		c := shortContainer{name: fmt.Sprintf("gsd-short-%s-%d", randomHex(t, 6), i)}
		if i%3 == 0 {
			c.pod, c.ns = fmt.Sprintf("web-%d", i), "team-"+randomHex(t, 4)
		}
		cts = append(cts, c)
	}
	for _, c := range cts {
		removeContainers(t, env, c.name)
	}
	run := func(i int) {
		c := &cts[i]
		cidFile := filepath.Join(dir, c.name+".cid")
		args := []string{"run", "--rm", "--name", c.name, "--cidfile", cidFile, "--network", "none"}
		if c.pod != "" {
			args = append(args, "--label", "io.kubernetes.pod.name="+c.pod, "--label", "io.kubernetes.pod.namespace="+c.ns)
		}
		cmdline := "cat /etc/hostname"
		if i == 50 {
			cmdline = "exit 0" // the container that exits at once
		}
		args = append(args, image, "/bin/sh", "-c", cmdline)
		cmd := exec.Command("podman", args...)
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, b)
			return
		}
		b, err := os.ReadFile(cidFile)
		if err != nil || len(b) < 12 {
			t.Errorf("%s: container id: %v", c.name, err)
			return
		}
		c.id = string(b[:12])
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 5; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				run(i)
			}
		}()
	}
	for i := 0; i < 50; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	run(50)
	stopTraced(t, tracer, errb)
	stopTraced(t, writer, werrb)
	stopTraced(t, rules, rerrb)
	if t.Failed() {
		return
	}

	byID := map[string]*shortContainer{}
	for i := range cts {
		byID[cts[i].id] = &cts[i]
	}
	check := func(what, text string) {
		t.Helper()
		execs := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			f := strings.Split(l, "|")
			if len(f) != 6 {
				t.Errorf("%s: line %q", what, l)
				continue
			}
			c := byID[f[0]]
			if c == nil {
				continue // another container on the machine
			}
			execs[c.id]++
			pod, ns := c.pod, c.ns
			if pod == "" {
				pod, ns = "<NA>", "<NA>"
			}
			if f[1] != c.name || f[2] != image || f[3] != pod || f[4] != ns {
				t.Errorf("%s: %q, want %s|%s|%s|%s|%s", what, l, c.id, c.name, image, pod, ns)
			}
		}
		for _, c := range cts {
			if execs[c.id] == 0 {
				t.Errorf("%s: no execve of container %s (%s)", what, c.name, c.id)
			}
		}
		t.Logf("%s: %d containers, execve lines %v", what, len(execs), execs)
	}
	check("live", out.String())
	back, err := exec.Command(bin, "-r", capFile, "-p", execveFormat, execveFilter).CombinedOutput()
	if err != nil {
		t.Fatalf("gosysdig -r: %v\n%s", err, back)
	}
	check("-w file read back", string(back))

	// -pk, sysdig's Kubernetes format: the pod's name, then the container id.
	pk, err := exec.Command(bin, "-r", capFile, "-pk", execveFilter).CombinedOutput()
	if err != nil {
		t.Fatalf("gosysdig -r -pk: %v\n%s", err, pk)
	}
	for _, c := range cts {
		want := " <NA> (" + c.id + ") "
		if c.pod != "" {
			want = " " + c.pod + " (" + c.id + ") "
		}
		if !strings.Contains(string(pk), want) {
			t.Errorf("-pk: no line with %q", want)
		}
	}

	// The rule fires for every container's shell, each alert named, with the pod and namespace
	// (Falco's -pk) where labelled.
	alertRE := regexp.MustCompile(`A shell was spawned in a container .*container_id=(\S+) container_name=(\S+) image=(\S+)\) k8s.ns=(\S+) k8s.pod=(\S+) container=(\S+)`)
	fired := map[string]int{}
	for _, m := range alertRE.FindAllStringSubmatch(alerts.String(), -1) {
		c := byID[m[1]]
		if c == nil {
			continue
		}
		fired[c.id]++
		pod, ns := c.pod, c.ns
		if pod == "" {
			pod, ns = "<NA>", "<NA>"
		}
		if m[2] != c.name || m[3] != image || m[4] != ns || m[5] != pod || m[6] != c.id {
			t.Errorf("alert %q: want container_name=%s image=%s k8s.ns=%s k8s.pod=%s container=%s", m[0], c.name, image, ns, pod, c.id)
		}
	}
	for _, c := range cts {
		if fired[c.id] == 0 {
			t.Errorf("no shell alert for container %s (%s)", c.name, c.id)
		}
	}

	// -v reports what the holds cost.
	holdRE := regexp.MustCompile(`Container holds: (\d+) containers, (\d+) events held, longest ([0-9.]+) ms, (\d+) released`)
	for what, s := range map[string]string{"gosysdig -v": errb.String(), "gosysdig rules -v": rerrb.String()} {
		m := holdRE.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("%s printed no hold figures:\n%s", what, s)
			continue
		}
		t.Logf("%s: %s", what, m[0])
	}
}

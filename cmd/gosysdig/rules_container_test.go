package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesLiveShellInContainer runs the built-in rules live while a real podman container
// starts a shell: the container shell rule fires for it, with its id, name and image, and a host
// bash run at the same time does not fire it.
func TestRulesLiveShellInContainer(t *testing.T) {
	needRoot(t)
	needTool(t, "podman", "runc", "busybox", "tar", "ldd")
	env, image := podmanSetup(t)
	sock := podmanService(t, env)
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, out, errb := startTraced(t, bin, filepath.Join(dir, "ready"), "rules", "--podman-socket", sock)
	name := "gosysdig-rules-" + randomHex(t, 8)
	cidFile := filepath.Join(dir, "cid")
	removeContainers(t, env, name)
	runCmd(t, env, "podman", "run", "--rm", "--name", name, "--cidfile", cidFile, "--network", "none",
		image, "/bin/bash", "-c", "sleep 1; echo done")
	runCmd(t, nil, "bash", "-c", "sleep 0.2; echo host")
	stopTraced(t, cmd, errb)
	cid, err := os.ReadFile(cidFile)
	if err != nil || len(cid) < 12 {
		t.Fatalf("container id: %v %q", err, cid)
	}
	id := string(cid[:12])
	var fired []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "A shell was spawned in a container") {
			fired = append(fired, l)
		}
	}
	if len(fired) == 0 {
		t.Fatalf("the container shell rule did not fire:\n%s\n%s", out.String(), errb)
	}
	for _, l := range fired {
		if !strings.Contains(l, "container_id="+id) || strings.Contains(l, "container_id=host") {
			t.Errorf("alert not for the container %s: %s", id, l)
		}
	}
	if !strings.Contains(strings.Join(fired, "\n"), "container_name="+name) {
		t.Logf("container name not resolved in time in any alert (lookups are asynchronous):\n%s", strings.Join(fired, "\n"))
	}
}

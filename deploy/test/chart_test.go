package deploytest

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite ../kubernetes/gosysdig.yaml from the chart")

// TestChartLints runs Helm's own linter over the chart with its default values.
func TestChartLints(t *testing.T) {
	l := lint.RunAll(ChartDir, nil, "gosysdig")
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m.Error())
		}
	}
}

// TestChartDefaults renders the chart with its defaults: a DaemonSet on every node with the
// host's PID namespace, only the probe's capabilities, bpf() let through, the runtimes'
// socket folders mounted and their sockets given to gosysdig, the node's name in alerts.
func TestChartDefaults(t *testing.T) {
	o, err := Render("gosysdig", "gosysdig", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.ConfigMap != nil {
		t.Error("a rules ConfigMap without rules files")
	}
	spec := o.DaemonSet.Spec.Template.Spec
	if !spec.HostPID || spec.HostNetwork {
		t.Errorf("hostPID %v hostNetwork %v, want the host's PID namespace only", spec.HostPID, spec.HostNetwork)
	}
	if !slices.ContainsFunc(spec.Tolerations, func(tl corev1.Toleration) bool {
		return tl.Operator == corev1.TolerationOpExists && tl.Key == "" && tl.Effect == ""
	}) {
		t.Errorf("tolerations %v do not tolerate every taint", spec.Tolerations)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it does not use")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.Capabilities == nil {
		t.Fatalf("security context %+v: want unprivileged with capabilities", sc)
	}
	var add []string
	for _, c := range sc.Capabilities.Add {
		add = append(add, string(c))
	}
	if !slices.Equal(add, []string{"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"}) || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities add %v drop %v", add, sc.Capabilities.Drop)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined {
		t.Errorf("seccomp %+v: bpf() needs it unconfined", sc.SeccompProfile)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"rules", "--json", "--containerd-socket=/host/run/containerd/containerd.sock",
		"--crio-socket=/host/var/run/crio/crio.sock", "--docker-socket= ", "--podman-socket="} {
		if !strings.Contains(args+" ", want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if strings.Contains(args, "--rules") {
		t.Errorf("args %q load rules files though none are given (the built-in rules run)", args)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		if v.HostPath.Type == nil || *v.HostPath.Type != corev1.HostPathDirectoryOrCreate {
			t.Errorf("volume %s: a missing runtime must not keep the pod from starting", v.Name)
		}
		if mounts[v.Name] != "/host"+v.HostPath.Path {
			t.Errorf("volume %s (%s) mounted at %q", v.Name, v.HostPath.Path, mounts[v.Name])
		}
	}
	if len(mounts) != 2 {
		t.Errorf("mounts %v, want containerd's and CRI-O's folders", mounts)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "FALCO_HOSTNAME" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("env %+v: want FALCO_HOSTNAME from the node's name", c.Env)
	}
	if !strings.Contains(args+" ", "--metrics-addr=:8765 ") || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8765 ||
		c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe == nil ||
		o.DaemonSet.Spec.Template.Annotations["prometheus.io/port"] != "8765" {
		t.Errorf("metrics: args %q ports %+v probes %+v %+v annotations %v", args, c.Ports, c.ReadinessProbe, c.LivenessProbe, o.DaemonSet.Spec.Template.Annotations)
	}
	if q := c.Resources.Limits.Memory(); q.IsZero() {
		t.Error("no memory limit")
	}
	sel := o.DaemonSet.Spec.Selector.MatchLabels
	for k, v := range sel {
		if o.DaemonSet.Spec.Template.Labels[k] != v {
			t.Errorf("the selector's %s=%s is not on the pod template", k, v)
		}
	}
}

// TestChartValues renders the values users set: rules files (a ConfigMap mounted and loaded),
// HTTP outputs (Falcosidekick), privileged as the fallback, node selection, the image.
func TestChartValues(t *testing.T) {
	o, err := Render("tracer", "security", map[string]any{
		"image":        map[string]any{"repository": "registry.example/gosysdig", "tag": "1.2.3"},
		"rules":        map[string]any{"files": map[string]any{"a_rules.yaml": "- list: x\n  items: [a]\n"}},
		"outputs":      map[string]any{"http": []any{"http://falcosidekick.falco.svc:2801/"}, "json": false, "priority": "warning"},
		"privileged":   true,
		"nodeSelector": map[string]any{"kubernetes.io/os": "linux"},
		"runtimes":     map[string]any{"crio": "", "podman": "/run/podman/podman.sock"},
		"extraArgs":    []any{"--matching=all"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.DaemonSet.Namespace != "security" || o.DaemonSet.Name != "tracer" {
		t.Errorf("DaemonSet %s/%s", o.DaemonSet.Namespace, o.DaemonSet.Name)
	}
	if o.ConfigMap == nil || o.ConfigMap.Data["a_rules.yaml"] != "- list: x\n  items: [a]" {
		t.Fatalf("rules ConfigMap %+v", o.ConfigMap)
	}
	spec := o.DaemonSet.Spec.Template.Spec
	c := spec.Containers[0]
	if c.Image != "registry.example/gosysdig:1.2.3" {
		t.Errorf("image %s", c.Image)
	}
	args := strings.Join(c.Args, " ") + " "
	for _, want := range []string{"--rules=/etc/gosysdig/rules.d ", "--out-http=http://falcosidekick.falco.svc:2801/ ",
		"--priority=warning ", "--crio-socket= ", "--podman-socket=/host/run/podman/podman.sock ", "--matching=all "} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if strings.Contains(args, "--json") {
		t.Errorf("args %q: json is off", args)
	}
	if sc := c.SecurityContext; sc.Privileged == nil || !*sc.Privileged || sc.Capabilities != nil {
		t.Errorf("privileged: %+v", sc)
	}
	if spec.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("node selector %v", spec.NodeSelector)
	}
	found := false
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "tracer-rules" {
			found = true
		}
	}
	if !found || !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/etc/gosysdig/rules.d" && m.ReadOnly }) {
		t.Errorf("the rules ConfigMap is not mounted: %+v %+v", spec.Volumes, c.VolumeMounts)
	}
}

// staticManifest is deploy/kubernetes/gosysdig.yaml: a namespace and the chart rendered with
// gosysdig's default rules in the ConfigMap, for users without Helm.
func staticManifest(t *testing.T) []byte {
	t.Helper()
	rules, err := os.ReadFile("../../rules/default_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Render("gosysdig", "gosysdig", map[string]any{
		"rules": map[string]any{"files": map[string]any{"gosysdig_rules.yaml": string(rules)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	head := "# gosysdig on every node: kubectl apply -f gosysdig.yaml\n" +
		"# Rendered from ../helm/gosysdig with gosysdig's default rules in the ConfigMap (edit them there);\n" +
		"# regenerate with: cd deploy/test && go test -run TestStaticManifest -update\n" +
		"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: gosysdig\n"
	return append([]byte(head), o.YAML...)
}

// TestStaticManifest keeps ../kubernetes/gosysdig.yaml what the chart renders.
func TestStaticManifest(t *testing.T) {
	want := staticManifest(t)
	const path = "../kubernetes/gosysdig.yaml"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s is not what the chart renders: regenerate it with go test -run TestStaticManifest -update", path)
	}
}

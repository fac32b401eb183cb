package fields_test

import (
	"testing"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/state"
)

// lineage builds sshd(1) -> bash(10) -> python3(20) -> cat(30, the event's thread), cat with
// capabilities CAP_CHOWN|CAP_SYS_ADMIN permitted and in a process group it leads.
func lineage(t *testing.T) *fields.Ctx {
	t.Helper()
	in := state.New()
	add := func(tid, ptid int64, comm, exe, exepath string) *state.Thread {
		th := &state.Thread{Tid: tid, Pid: tid, Ptid: ptid, Comm: comm, Exe: exe, Exepath: exepath, Vtid: tid, Vpid: tid, Vpgid: 1}
		in.AddThread(th)
		return th
	}
	add(1, 0, "sshd", "/usr/sbin/sshd", "/usr/sbin/sshd")
	add(10, 1, "bash", "-bash", "/usr/bin/bash")
	add(20, 10, "python3", "python3", "/usr/bin/python3.11")
	cat := add(30, 20, "cat", "cat", "/memfd:x (deleted)")
	cat.Vpgid = 30
	cat.CapsKnown = true
	cat.CapPermitted = 1<<0 | 1<<21
	in.Thread = cat
	return &fields.Ctx{In: in}
}

func TestFalcoAncestorFields(t *testing.T) {
	c := lineage(t)
	cases := []struct {
		filter string
		want   bool
	}{
		{"proc.aname=sshd", true},             // any ancestor, as Falco
		{"proc.aname=cat", false},             // the process itself is not its ancestor
		{"proc.aname in (nginx, bash)", true}, // list against every ancestor
		{"proc.aname[1]=python3", true},
		{"proc.aname[1]=sshd", false},
		{"proc.aname[3]=sshd", true},
		{"proc.aname != sshd", true}, // bash is an ancestor that is not sshd
		{"proc.apid=10", true},
		{"proc.apid=30", false},
		{"proc.aexe=-bash", true},
		{"proc.aexepath startswith /usr/sbin", true},
		{"proc.aexepath[2]=/usr/bin/bash", true},
		{"proc.pexe=python3", true},
		{"proc.pexepath=/usr/bin/python3.11", true},
		{"proc.is_vpgid_leader=true", true},
		{"proc.is_exe_from_memfd=true", true},
		{"proc.is_exe_upper_layer=true", false},
		{"thread.cap_permitted contains CAP_SYS_ADMIN", true},
		{"thread.cap_permitted contains CAP_SYS_MODULE", false},
		{"thread.cap_effective contains CAP_CHOWN", false},
		{"thread.cap_effective exists", true},
		{"k8s.pod.name exists", false}, // host process: no pod
	}
	for _, tc := range cases {
		f, err := filter.Compile(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := f.Match(c); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestFalcoCapsText(t *testing.T) {
	c := lineage(t)
	ref, err := fields.Lookup("thread.cap_permitted", "", false)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := ref.Extract(c)
	if !ok || string(v.Str) != "CAP_CHOWN CAP_SYS_ADMIN" {
		t.Fatalf("thread.cap_permitted = %q, %v", v.Str, ok)
	}
	// Without index, proc.aname prints the parent's name.
	ref, _ = fields.Lookup("proc.aname", "", false)
	if v, ok := ref.Extract(c); !ok || string(v.Str) != "python3" {
		t.Fatalf("proc.aname = %q, %v", v.Str, ok)
	}
}

func TestFalcoK8sFieldsFromCRILabels(t *testing.T) {
	c := lineage(t)
	c.In.Thread.ContainerID = "0123456789ab"
	ct, ok := state.ParseContainerJSON([]byte(`{"container":{"id":"0123456789ab","name":"k8s_app","type":7,"created_time":1700000000,
		"labels":{"io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"prod","io.kubernetes.container.name":"app"},
		"pod_sandbox_labels":{"tier":"front","app":"web"}}}`))
	if !ok {
		t.Fatal("container JSON refused")
	}
	c.In.Containers.Add(ct)
	c.Ev = &event.Event{TS: 1700000005e9} // 5 s after the container's start
	for _, s := range []string{"k8s.pod.name=web-1", "k8s.ns.name=prod", "k8s.container.name=app", "container.start_ts=1700000000000000000",
		"k8s.pod.labels=\"app:web, tier:front\"", "k8s.pod.label[tier]=front", "not k8s.pod.label[nosuch] exists",
		"container.duration=5000000000"} {
		f, err := filter.Compile(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if !f.Match(c) {
			t.Errorf("%s does not hold", s)
		}
	}
}

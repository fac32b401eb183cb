// Package container finds the container a process runs in from its cgroup paths, and fetches
// that container's metadata (name, image, labels, ...) from the runtime that started it: docker
// and podman through their Docker-compatible HTTP API, containerd and CRI-O through the CRI gRPC
// API. Lookups run in the background; nothing here blocks the caller for longer than a map
// lookup.
package container

import "strings"

// Type is a container runtime, numbered as sysdig's sinsp_container_type (the "type" of a
// container event's JSON).
type Type int

// The runtimes sysdig 0.29.3 (libsinsp 0.1.1dev, 2022-03) knows.
const (
	Docker     Type = 0
	LXC        Type = 1
	LibvirtLXC Type = 2
	Mesos      Type = 3
	Rkt        Type = 4
	Custom     Type = 5
	CRI        Type = 6
	Containerd Type = 7
	CRIO       Type = 8
	BPM        Type = 9
	Static     Type = 10
	Podman     Type = 11
)

// String is the runtime's name as container.type shows it. sysdig 0.29.3 has no name for the
// static and podman types (it prints "unknown" for them, as checked with sysdig -r on a capture
// holding a podman container event); gosysdig does the same so that its output matches.
func (t Type) String() string {
	switch t {
	case Docker:
		return "docker"
	case LXC:
		return "lxc"
	case LibvirtLXC:
		return "libvirt-lxc"
	case Mesos:
		return "mesos"
	case Rkt:
		return "rkt"
	case Custom:
		return "custom"
	case CRI:
		return "cri"
	case Containerd:
		return "containerd"
	case CRIO:
		return "cri-o"
	case BPM:
		return "bpm"
	}
	return "unknown"
}

// IDLen is the length of the container ids sysdig shows: the first 12 hex digits.
const IDLen = 12

// FromCgroups returns the (12-character) id and the runtime of the container whose cgroups
// these are, or "" for a host process. Each entry is "controllers=path" (sysdig's form in
// thread lists and events) or a bare path; "N:controllers:path" lines from /proc/PID/cgroup
// work too. The forms recognised are those of sysdig's resolvers:
//
//	docker      /docker/<id>, /system.slice/docker-<id>.scope
//	podman      /libpod_parent/libpod-<id>, /machine.slice/libpod-<id>.scope, .../libpod-<id>.scope/container
//	containerd  .../cri-containerd-<id>.scope, /kubepods/.../<id> (cri: any CRI runtime)
//	cri-o       .../crio-<id>.scope
//
// where <id> is 64 hex digits.
func FromCgroups(cgroups []string) (string, Type) {
	for _, cg := range cgroups {
		path := cg
		if i := strings.IndexByte(path, '='); i >= 0 {
			path = path[i+1:]
		} else if i := strings.IndexByte(path, '/'); i > 0 {
			// "N:controllers:/path"
			path = path[i:]
		}
		if id, t := fromPath(path); id != "" {
			return id, t
		}
	}
	return "", Docker
}

// fromPath looks for a container id in one cgroup path, component by component.
func fromPath(path string) (string, Type) {
	kube := strings.Contains(path, "kubepods")
	prev := ""
	for rest := path; rest != ""; {
		var s string
		s, rest, _ = strings.Cut(rest, "/")
		if s == "" {
			continue
		}
		t, ok := Docker, false
		name := strings.TrimSuffix(s, ".scope")
		for _, p := range prefixes {
			if strings.HasPrefix(name, p.prefix) {
				name, t, ok = name[len(p.prefix):], p.typ, true
				break
			}
		}
		if isID(name) {
			switch {
			case ok:
			case prev == "docker":
				t = Docker
			case kube:
				t = CRI
			default:
				// A bare 64-hex component elsewhere: docker's default cgroup parent can be
				// changed (--cgroup-parent), and sysdig's docker resolver takes it.
				t = Docker
			}
			return name[:IDLen], t
		}
		prev = s
	}
	return "", Docker
}

var prefixes = []struct {
	prefix string
	typ    Type
}{
	{"docker-", Docker},
	{"cri-containerd-", Containerd},
	{"crio-", CRIO},
	{"libpod-", Podman},
}

func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

package state

import (
	"encoding/json"

	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/event"
)

// Container is what the capture or a runtime says about one container.
type Container struct {
	ID, Name, Image, ImageRepo, ImageTag, ImageDigest, ImageID string
	Type                                                       int
	Privileged                                                 bool
	IP                                                         string
	Labels                                                     map[string]string
	CreatedTime                                                int64 // seconds since the epoch; 0 unknown
	Mounts                                                     []Mount
	HealthProbes                                               []HealthProbe
	PodLabels                                                  map[string]string // the pod sandbox's (CRI)
}

// HealthProbe is a command a container runs to check its health (Type: 1 healthcheck,
// 2 liveness probe, 3 readiness probe).
type HealthProbe struct {
	Type int
	Exe  string
	Args []string
}

type probeJSON struct {
	Exe  string   `json:"exe"`
	Args []string `json:"args"`
}

// Mount is one container mount.
type Mount struct {
	Source, Dest, Mode string
	RW                 bool
	Propagation        string
}

// Containers indexes containers by id.
type Containers struct {
	byID map[string]*Container
}

func newContainers() *Containers { return &Containers{byID: map[string]*Container{}} }

// Get returns a container or nil.
func (c *Containers) Get(id string) *Container { return c.byID[id] }

// Add stores or replaces a container.
func (c *Containers) Add(ct *Container) { c.byID[ct.ID] = ct }

// Each calls fn for every container.
func (c *Containers) Each(fn func(*Container)) {
	for _, ct := range c.byID {
		fn(ct)
	}
}

type containerJSON struct {
	Container struct {
		ID          string            `json:"id"`
		Name        string            `json:"name"`
		Image       string            `json:"image"`
		ImageRepo   string            `json:"imagerepo"`
		ImageTag    string            `json:"imagetag"`
		ImageDigest string            `json:"imagedigest"`
		ImageID     string            `json:"imageid"`
		Type        int               `json:"type"`
		Privileged  bool              `json:"privileged"`
		IP          string            `json:"ip"`
		Labels      map[string]string `json:"labels"`
		CreatedTime int64             `json:"created_time"`
		PodLabels   map[string]string `json:"pod_sandbox_labels"`
		Mounts      []struct {
			Source      string `json:"Source"`
			Destination string `json:"Destination"`
			Mode        string `json:"Mode"`
			RW          bool   `json:"RW"`
			Propagation string `json:"Propagation"`
		} `json:"Mounts"`
		Healthcheck    *probeJSON `json:"Healthcheck"`
		LivenessProbe  *probeJSON `json:"LivenessProbe"`
		ReadinessProbe *probeJSON `json:"ReadinessProbe"`
	} `json:"container"`
}

// ParseContainerJSON reads a container event's JSON.
func ParseContainerJSON(b []byte) (*Container, bool) {
	var cj containerJSON
	if err := json.Unmarshal(b, &cj); err != nil || cj.Container.ID == "" {
		return nil, false
	}
	c := cj.Container
	ct := &Container{ID: c.ID, Name: c.Name, Image: c.Image, ImageRepo: c.ImageRepo, ImageTag: c.ImageTag,
		ImageDigest: c.ImageDigest, ImageID: c.ImageID, Type: c.Type, Privileged: c.Privileged, IP: c.IP,
		Labels: c.Labels, CreatedTime: c.CreatedTime, PodLabels: c.PodLabels}
	for _, m := range c.Mounts {
		ct.Mounts = append(ct.Mounts, Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation})
	}
	for i, p := range []*probeJSON{c.Healthcheck, c.LivenessProbe, c.ReadinessProbe} {
		if p != nil {
			ct.HealthProbes = append(ct.HealthProbes, HealthProbe{Type: i + 1, Exe: p.Exe, Args: p.Args})
		}
	}
	return ct, true
}

func (in *Inspector) parseContainer(ev *event.Event) {
	var ct *Container
	switch ev.Type {
	case 228:
		ct = &Container{ID: string(event.CString(ev.Param(0))), Name: string(event.CString(ev.Param(2))),
			Image: string(event.CString(ev.Param(3)))}
		if v, ok := ev.Uint(1); ok {
			ct.Type = int(v)
		}
	default:
		var ok bool
		ct, ok = ParseContainerJSON(event.CString(ev.Param(0)))
		if !ok {
			return
		}
	}
	if in.Containers.Get(ct.ID) == nil && len(in.Containers.byID) >= in.limits.MaxContainers {
		in.dropped.containers.Add(1)
	} else {
		in.Containers.Add(ct)
	}
	// Container events show a thread of their own, named after the container.
	// sysdig gives it the ids of root, no exe, and -1 for what it cannot know.
	in.containerThread = Thread{Tid: -1, Pid: -1, Ptid: 0, Sid: -1, Vpgid: -1, Vtid: -2, Vpid: -2,
		FdLimit: -1, Comm: "container:" + ct.ID, ContainerID: ct.ID, fdt: newFDTable()}
	in.Thread = &in.containerThread
}

// containerIDFromCgroups finds a container id in a thread's cgroups (see container.FromCgroups):
// the 12-character id, or "" for host threads.
func containerIDFromCgroups(cgroups []string) string {
	id, _ := container.FromCgroups(cgroups)
	return id
}

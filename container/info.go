package container

import (
	"encoding/json"
	"strings"
)

// Info is what a runtime says about one container.
type Info struct {
	ID          string // 12 hex digits
	Type        Type
	Name        string
	Image       string // as the container was started: repo[:tag][@digest]
	ImageID     string // 64 hex digits, no "sha256:"
	ImageRepo   string
	ImageTag    string
	ImageDigest string
	Privileged  bool
	IP          string
	Labels      map[string]string
	Mounts      []Mount
	// CreatedTime is when the runtime created the container, in seconds since the epoch
	// (0: unknown): libs' m_created_time, which container.start_ts reads.
	CreatedTime int64
	// PodLabels are the labels of the container's pod sandbox (CRI runtimes), which Falco's
	// k8s.pod.labels reads.
	PodLabels map[string]string
}

// Mount is one container mount.
type Mount struct {
	Source, Dest, Mode string
	RW                 bool
	Propagation        string
}

type mountJSON struct {
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	Propagation string `json:"Propagation"`
	RW          bool   `json:"RW"`
	Source      string `json:"Source"`
}

// infoJSON is sysdig's container JSON, keys in the (sorted) order jsoncpp writes them.
type infoJSON struct {
	Mounts           []mountJSON       `json:"Mounts"`
	CPUPeriod        int64             `json:"cpu_period"`
	CPUQuota         int64             `json:"cpu_quota"`
	CPUShares        int64             `json:"cpu_shares"`
	CreatedTime      int64             `json:"created_time,omitempty"`
	Env              []string          `json:"env"`
	ID               string            `json:"id"`
	Image            string            `json:"image"`
	ImageDigest      string            `json:"imagedigest"`
	ImageID          string            `json:"imageid"`
	ImageRepo        string            `json:"imagerepo"`
	ImageTag         string            `json:"imagetag"`
	IP               string            `json:"ip"`
	IsPodSandbox     bool              `json:"is_pod_sandbox"`
	Labels           map[string]string `json:"labels"`
	MemoryLimit      int64             `json:"memory_limit"`
	MetadataDeadline int64             `json:"metadata_deadline"`
	Name             string            `json:"name"`
	PodSandboxLabels map[string]string `json:"pod_sandbox_labels,omitempty"`
	PortMappings     []struct{}        `json:"port_mappings"`
	Privileged       bool              `json:"privileged"`
	SwapLimit        int64             `json:"swap_limit"`
	Type             int               `json:"type"`
}

// JSON is the container as sysdig writes it in a container event:
// {"container":{"Mounts":[...],...,"type":N}}.
func (i *Info) JSON() []byte {
	j := infoJSON{Mounts: []mountJSON{}, CPUPeriod: 100000, CPUShares: 1024, Env: []string{}, ID: i.ID,
		Image: i.Image, ImageDigest: i.ImageDigest, ImageID: i.ImageID, ImageRepo: i.ImageRepo,
		ImageTag: i.ImageTag, IP: i.IP, Labels: i.Labels, Name: i.Name, PortMappings: []struct{}{},
		Privileged: i.Privileged, Type: int(i.Type), CreatedTime: i.CreatedTime, PodSandboxLabels: i.PodLabels}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	for _, m := range i.Mounts {
		j.Mounts = append(j.Mounts, mountJSON{Destination: m.Dest, Mode: m.Mode, Propagation: m.Propagation, RW: m.RW, Source: m.Source})
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Container infoJSON `json:"container"`
	}{j})
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// splitImage splits an image reference (host[:port]/name[:tag][@digest]) into its repository,
// tag and digest, as sysdig's docker resolver does; a reference without a tag or digest is
// tagged latest.
func splitImage(image string) (repo, tag, digest string) {
	repo = image
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo, digest = repo[:i], repo[i+1:]
	}
	slash := strings.LastIndexByte(repo, '/')
	if i := strings.LastIndexByte(repo, ':'); i > slash {
		repo, tag = repo[:i], repo[i+1:]
	}
	if tag == "" && digest == "" {
		tag = "latest"
	}
	return repo, tag, digest
}

package container

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// dockerAPI talks to a Docker-compatible engine API (docker, podman's service) on a unix socket.
type dockerAPI struct {
	socket string
	client *http.Client
}

func newDockerAPI(socket string) *dockerAPI {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 2,
		DisableCompression:  true,
	}
	return &dockerAPI{socket: socket, client: &http.Client{Transport: tr}}
}

type dockerContainer struct {
	ID      string `json:"Id"`
	Name    string `json:"Name"`
	Image   string `json:"Image"`
	Created string `json:"Created"`
	Config  struct {
		Image  string            `json:"Image"`
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	HostConfig struct {
		Privileged bool `json:"Privileged"`
	} `json:"HostConfig"`
	NetworkSettings struct {
		IPAddress string `json:"IPAddress"`
		Networks  map[string]struct {
			IPAddress string `json:"IPAddress"`
		} `json:"Networks"`
	} `json:"NetworkSettings"`
	Mounts []struct {
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
		Mode        string `json:"Mode"`
		RW          bool   `json:"RW"`
		Propagation string `json:"Propagation"`
	} `json:"Mounts"`
}

type dockerImage struct {
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
}

// errNotFound is a runtime answering that it does not know the container: it is reachable,
// the container is someone else's.
var errNotFound = fmt.Errorf("no such container")

func (d *dockerAPI) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+path, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}

// inspect fetches one container (by its 12-character id, which the API takes as a prefix).
func (d *dockerAPI) inspect(ctx context.Context, id string, typ Type) (*Info, error) {
	var c dockerContainer
	if err := d.get(ctx, "/containers/"+url.PathEscape(id)+"/json", &c); err != nil {
		return nil, err
	}
	info := &Info{ID: id, Type: typ, Name: strings.TrimPrefix(c.Name, "/"), Image: c.Config.Image,
		Privileged: c.HostConfig.Privileged, Labels: c.Config.Labels, IP: c.NetworkSettings.IPAddress}
	if t, err := time.Parse(time.RFC3339Nano, c.Created); err == nil {
		info.CreatedTime = t.Unix()
	}
	if info.IP == "" {
		for _, n := range c.NetworkSettings.Networks {
			if n.IPAddress != "" {
				info.IP = n.IPAddress
				break
			}
		}
	}
	info.ImageID = strings.TrimPrefix(c.Image, "sha256:")
	for _, m := range c.Mounts {
		info.Mounts = append(info.Mounts, Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation})
	}
	// The image: its tags and digests come from the image itself.
	var img dockerImage
	if info.ImageID != "" {
		if err := d.get(ctx, "/images/"+url.PathEscape(info.ImageID)+"/json", &img); err != nil {
			img = dockerImage{}
		}
	}
	image := info.Image
	if image == "" || strings.HasPrefix(image, "sha256:") || isID(image) {
		// Started from an image id: name it after the image's first tag, as sysdig does.
		if len(img.RepoTags) > 0 {
			image = img.RepoTags[0]
		}
		if info.Image == "" {
			info.Image = image
		}
	}
	info.ImageRepo, info.ImageTag, info.ImageDigest = splitImage(image)
	if info.ImageDigest == "" {
		for _, rd := range img.RepoDigests {
			if repo, dg, ok := strings.Cut(rd, "@"); ok && repo == info.ImageRepo {
				info.ImageDigest = dg
				break
			}
		}
	}
	return info, nil
}

package container

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Following the runtimes' event streams: a container is announced when it is created, about a
// hundred milliseconds before its first process runs (podman: create, init, start), so a lookup
// started then is usually finished when that process's first event arrives. The announcement
// itself says enough to name the container (docker and podman: name, image and labels; the
// CRI: the whole container status), and is kept as the fallback for a lookup that fails: a
// container that ran one command and was removed (--rm) before its lookup ran is still named.

// Follow starts following the event streams of the configured runtimes, until Close. A runtime
// that is not there is tried again every few seconds, quietly: it may start later.
func (r *Resolver) Follow() {
	follow := func(stream func(ctx context.Context) error) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			wait := 100 * time.Millisecond
			for r.ctx.Err() == nil {
				start := time.Now()
				_ = stream(r.ctx) // a runtime that is not there, or went away: try again
				if time.Since(start) > 10*time.Second {
					wait = 100 * time.Millisecond // it ran a while: a new problem
				}
				select {
				case <-r.ctx.Done():
				case <-time.After(wait):
				}
				wait = min(wait*2, 5*time.Second)
			}
		}()
	}
	if r.docker != nil {
		follow(func(ctx context.Context) error { return r.docker.events(ctx, Docker, r.announce) })
	}
	if r.podman != nil {
		follow(func(ctx context.Context) error { return r.podman.events(ctx, Podman, r.announce) })
	}
	if r.containerd != nil {
		follow(func(ctx context.Context) error { return r.containerd.events(ctx, r.announce) })
	}
	if r.crio != nil {
		follow(func(ctx context.Context) error { return r.crio.events(ctx, r.announce) })
	}
}

// announce records what a runtime's event said about a new container and starts its lookup.
func (r *Resolver) announce(info *Info) {
	if len(info.ID) < IDLen {
		return
	}
	info.ID = info.ID[:IDLen]
	r.announced.Add(1)
	r.mu.Lock()
	if len(r.hints) >= maxHints {
		clear(r.hints) // a bound, not a cache: a hint is needed for a second at most
	}
	r.hints[info.ID] = info
	r.mu.Unlock()
	r.Request(info.ID, info.Type)
}

const maxHints = 4096

// hint is what the runtime's event said about id, if anything.
func (r *Resolver) hint(id string) *Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hints[id]
}

// Announced counts the containers the event streams announced.
func (r *Resolver) Announced() int64 { return r.announced.Load() }

// dockerEvent is one object of the Docker API's /events stream.
type dockerEvent struct {
	Type   string `json:"Type"`
	Action string `json:"Action"`
	ID     string `json:"id"`
	From   string `json:"from"`
	Actor  struct {
		ID         string            `json:"ID"`
		Attributes map[string]string `json:"Attributes"`
	} `json:"Actor"`
	TimeNano int64 `json:"timeNano"`
}

// Attributes of a docker or podman container event that are not the container's labels.
var notLabels = map[string]bool{"name": true, "image": true, "containerExitCode": true, "exitCode": true, "podId": true}

// events follows /events for container creations, until ctx ends or the stream breaks.
func (d *dockerAPI) events(ctx context.Context, typ Type, announce func(*Info)) error {
	filters := url.QueryEscape(`{"type":["container"],"event":["create"]}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/events?filters="+filters, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /events: %s", resp.Status)
	}
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var ev dockerEvent
		if err := dec.Decode(&ev); err != nil {
			return fmt.Errorf("%s events: %w", d.socket, err)
		}
		if ev.Type != "container" || ev.Action != "create" {
			continue
		}
		id := ev.Actor.ID
		if id == "" {
			id = ev.ID
		}
		attrs := ev.Actor.Attributes
		info := &Info{ID: id, Type: typ, Name: attrs["name"], Image: attrs["image"], Labels: map[string]string{}}
		if info.Image == "" {
			info.Image = ev.From
		}
		for k, v := range attrs {
			if !notLabels[k] {
				info.Labels[k] = v
			}
		}
		info.ImageRepo, info.ImageTag, info.ImageDigest = splitImage(info.Image)
		info.CreatedTime = ev.TimeNano / 1e9
		announce(info)
	}
}

// CRI container event types (k8s.io/cri-api ContainerEventType).
const criContainerCreated = 0

// events follows the CRI's GetContainerEvents stream for container creations: each carries
// the container's status and its pod sandbox's.
func (c *criAPI) events(ctx context.Context, announce func(*Info)) error {
	if err := c.probe(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	typ := c.typ
	c.mu.Unlock()
	resp, err := c.post(ctx, "GetContainerEvents", nil) // an empty GetEventsRequest
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GetContainerEvents: HTTP %s", resp.Status)
	}
	if s := resp.Header.Get("Grpc-Status"); s != "" && s != "0" { // trailers only: refused
		return &grpcError{Msg: "GetContainerEvents: " + resp.Header.Get("Grpc-Message")}
	}
	br := bufio.NewReader(resp.Body)
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				if s := resp.Trailer.Get("Grpc-Status"); s != "" && s != "0" {
					return &grpcError{Msg: "GetContainerEvents: " + resp.Trailer.Get("Grpc-Message")}
				}
			}
			return fmt.Errorf("%s events: %w", c.socket, err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if hdr[0] != 0 || n > 16<<20 {
			return fmt.Errorf("%s events: bad gRPC frame", c.socket)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return fmt.Errorf("%s events: %w", c.socket, err)
		}
		if info := parseCRIEvent(msg, typ); info != nil {
			announce(info)
		}
	}
}

// parseCRIEvent reads a ContainerEventResponse: the container's id, the event type, the pod
// sandbox's status and the container's. It returns the container of a creation, else nil.
func parseCRIEvent(msg []byte, typ Type) *Info {
	info := &Info{Type: typ, Labels: map[string]string{}}
	evType := uint64(criContainerCreated)
	pbEach(msg, func(f, wt int, v uint64, b []byte) {
		switch {
		case f == 1 && wt == 2:
			info.ID = string(b)
		case f == 2 && wt == 0:
			evType = v
		case f == 3 && wt == 0 && info.CreatedTime == 0: // the event's time, in ns
			info.CreatedTime = int64(v) / 1e9
		case f == 4 && wt == 2: // PodSandboxStatus: its labels are the pod's
			pbEach(b, func(f, wt int, _ uint64, b []byte) {
				if f == 7 && wt == 2 {
					if info.PodLabels == nil {
						info.PodLabels = map[string]string{}
					}
					k, v := pbMapEntry(b)
					info.PodLabels[k] = v
				}
			})
		case f == 5 && wt == 2: // ContainerStatus
			parseCRIStatus(b, info)
		}
	})
	if evType != criContainerCreated || info.ID == "" {
		return nil
	}
	return info
}

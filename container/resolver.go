package container

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Default runtime sockets.
const (
	DefaultDockerSocket     = "/var/run/docker.sock"
	DefaultPodmanSocket     = "/run/podman/podman.sock"
	DefaultContainerdSocket = "/run/containerd/containerd.sock"
	DefaultCRIOSocket       = "/var/run/crio/crio.sock"
)

// Config says where the runtimes listen and how long a lookup may take.
type Config struct {
	DockerSocket, PodmanSocket, ContainerdSocket, CRIOSocket string
	Timeout                                                  time.Duration // per lookup (default 5s)
	Parallel                                                 int           // lookups at once (default 4)
}

// DefaultConfig uses the runtimes' usual sockets.
func DefaultConfig() Config {
	return Config{DockerSocket: DefaultDockerSocket, PodmanSocket: DefaultPodmanSocket,
		ContainerdSocket: DefaultContainerdSocket, CRIOSocket: DefaultCRIOSocket}
}

// Result is the outcome of one lookup: Info, or the error of the last runtime asked.
type Result struct {
	ID      string
	Type    Type
	Info    *Info
	Err     error
	Runtime string // the runtime that answered or failed ("docker", "podman", ...)
	Socket  string // its socket
}

// NotFound reports whether the runtime was reachable but does not know the container.
func (r *Result) NotFound() bool { return errors.Is(r.Err, errNotFound) }

// Resolver looks containers up in the background, once per id.
type Resolver struct {
	cfg  Config
	ctx  context.Context
	stop context.CancelFunc
	sem  chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	seen    map[string]bool
	done    []Result
	ready   atomic.Bool // done is not empty
	pending atomic.Int64
	// found and failed count finished lookups (metrics).
	found, failed atomic.Int64

	docker, podman   *dockerAPI
	containerd, crio *criAPI

	// Following the runtimes' event streams (follow.go): what their announcements said, by id.
	hints     map[string]*Info
	announced atomic.Int64
}

// NewResolver makes a resolver; an empty socket in cfg disables that runtime.
func NewResolver(cfg Config) *Resolver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &Resolver{cfg: cfg, ctx: ctx, stop: stop, sem: make(chan struct{}, cfg.Parallel), seen: map[string]bool{},
		hints: map[string]*Info{}}
	if cfg.DockerSocket != "" {
		r.docker = newDockerAPI(cfg.DockerSocket)
	}
	if cfg.PodmanSocket != "" {
		r.podman = newDockerAPI(cfg.PodmanSocket)
	}
	if cfg.ContainerdSocket != "" {
		r.containerd = newCRIAPI(cfg.ContainerdSocket, Containerd)
	}
	if cfg.CRIOSocket != "" {
		r.crio = newCRIAPI(cfg.CRIOSocket, CRIO)
	}
	return r
}

// Request starts looking id up unless it already was; it never waits for the runtime.
func (r *Resolver) Request(id string, typ Type) {
	r.mu.Lock()
	if r.seen[id] {
		r.mu.Unlock()
		return
	}
	r.seen[id] = true
	r.mu.Unlock()
	r.pending.Add(1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			r.finish(Result{ID: id, Type: typ, Err: r.ctx.Err()})
			return
		}
		res := r.lookup(id, typ)
		<-r.sem
		r.finish(res)
	}()
}

func (r *Resolver) finish(res Result) {
	if res.Err != nil {
		r.failed.Add(1)
	} else {
		r.found.Add(1)
	}
	r.mu.Lock()
	r.done = append(r.done, res)
	r.ready.Store(true)
	r.mu.Unlock()
	r.pending.Add(-1)
}

// Stats counts the lookups: finished with metadata, finished with an error, and in flight.
func (r *Resolver) Stats() (found, failed, pending int64) {
	return r.found.Load(), r.failed.Load(), r.pending.Load()
}

// Requested reports whether id was asked for already.
func (r *Resolver) Requested(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// Poll returns the lookups finished since the last call; when there are none it costs one
// atomic load.
func (r *Resolver) Poll() []Result {
	if !r.ready.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.done
	r.done = nil
	r.ready.Store(false)
	return out
}

// Wait waits up to d for the lookups in flight to finish.
func (r *Resolver) Wait(d time.Duration) {
	deadline := time.Now().Add(d)
	for r.pending.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// Close abandons the lookups in flight.
func (r *Resolver) Close() {
	r.stop()
	r.wg.Wait()
}

type runtime struct {
	name, socket string
	inspect      func(ctx context.Context) (*Info, error)
}

// runtimesFor lists the runtimes that may know a container of type typ, in the order to ask.
func (r *Resolver) runtimesFor(id string, typ Type) []runtime {
	var out []runtime
	dock := func(name string, a *dockerAPI, t Type) {
		if a != nil {
			out = append(out, runtime{name, a.socket, func(ctx context.Context) (*Info, error) { return a.inspect(ctx, id, t) }})
		}
	}
	cri := func(name string, a *criAPI) {
		if a != nil {
			out = append(out, runtime{name, a.socket, func(ctx context.Context) (*Info, error) { return a.inspect(ctx, id) }})
		}
	}
	switch typ {
	case Docker:
		dock("docker", r.docker, Docker)
	case Podman:
		dock("podman", r.podman, Podman)
	case Containerd:
		cri("containerd", r.containerd)
	case CRIO:
		cri("cri-o", r.crio)
	default:
		cri("containerd", r.containerd)
		cri("cri-o", r.crio)
		dock("docker", r.docker, Docker)
	}
	return out
}

func (r *Resolver) lookup(id string, typ Type) Result {
	res := Result{ID: id, Type: typ, Err: errors.New("no runtime configured for " + typ.String() + " containers")}
	for _, rt := range r.runtimesFor(id, typ) {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		info, err := rt.inspect(ctx)
		cancel()
		res.Runtime, res.Socket = rt.name, rt.socket
		if err == nil {
			res.Info, res.Err, res.Type = info, nil, info.Type
			return res
		}
		res.Err = err
	}
	if h := r.hint(id); h != nil {
		// Gone already (a container that ran one command, --rm), or the runtime is slow:
		// its announcement still names it.
		res.Info, res.Err, res.Type = h, nil, h.Type
	}
	return res
}

// Hint is what a runtime's event stream said about container id when it was created, or nil.
func (r *Resolver) Hint(id string) *Info { return r.hint(id) }

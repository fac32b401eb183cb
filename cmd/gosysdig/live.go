package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/container"
	"github.com/gosysdig/gosysdig/container/watch"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/metrics"
	"github.com/gosysdig/gosysdig/probe"
	"github.com/gosysdig/gosysdig/procfs"
	"github.com/gosysdig/gosysdig/procinfo"
	"github.com/gosysdig/gosysdig/session"
	"github.com/gosysdig/gosysdig/state"
)

// liveSource turns probe records into events. Its events are numbered by the source that
// wraps it (procinfo.Source), since container events and held events change the order.
type liveSource struct {
	p      *probe.Probe
	bad    uint64 // records that did not decode (reported at the end)
	lastTS uint64
}

func (s *liveSource) Next(ev *event.Event) error {
	for {
		cpu, raw, err := s.p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return err
		}
		info := event.Lookup(binary.LittleEndian.Uint16(raw[20:]))
		if info == nil {
			s.bad++
			continue
		}
		if err := ev.Set(raw, event.HeaderV2, info); err != nil {
			s.bad++
			continue
		}
		ev.CPU = cpu
		ev.DumpFlags = 0
		s.lastTS = ev.TS
		return nil
	}
}

// SetDeadline and Horizon let procinfo rounds run on time when no event comes (see
// procinfo.IdleSource).
func (s *liveSource) SetDeadline(t time.Time) { s.p.SetDeadline(t) }
func (s *liveSource) Horizon() uint64         { return max(s.p.Horizon(), s.lastTS) }

// liveEventTypes is what the probe must send: the types the filter can match, plus every
// type that changes state (processes, fds), without which context would be wrong.
func liveEventTypes(match []bool) []bool {
	if match == nil {
		return nil
	}
	types := make([]bool, event.MaxType)
	for t := 0; t < event.MaxType; t++ {
		info := event.Lookup(uint16(t))
		if info == nil {
			continue
		}
		types[t] = match[t] || info.Flags&(event.EFModifiesState|event.EFCreatesFd|event.EFDestroysFd) != 0 ||
			info.Category&event.ECProcess != 0
	}
	return types
}

func runLive(w io.Writer, o *options, args []string) error {
	p, err := newPipeline(w, o, args)
	if err != nil {
		return err
	}
	var match []bool
	if p.flt != nil && o.write == "" {
		match = p.flt.EventTypes()
	}
	if o.chisel != "" {
		match = nil // chisels set their own filters
	}
	// Chisels such as topprocs_cpu, -w files read by sysdig and the UI read per-thread CPU
	// from procinfo events, which sysdig's driver emits and the probe does not.
	p.wrap = func(src source) source { return newProcinfoSource(src, p.in) }
	return runLivePipeline(p, o, match, nil)
}

// runLivePipeline runs p on the live probe, which sends the types in match (nil: all) and those
// that change state, until SIGINT, SIGTERM or -M. everySecond, when set, is called about once a
// second, from another goroutine, with the probe's event and drop counters.
func runLivePipeline(p *pipeline, o *options, match []bool, everySecond func(events, drops uint64)) error {
	// The probe attaches before /proc is scanned, so that no process started meanwhile is
	// missed: the events that arrive during the scan wait in the ring and are applied after
	// the scan's state, so an exec, clone or exit the probe saw wins over what /proc said.
	pr, err := probe.Load(probe.Options{
		RingBytes:  o.ringBytes,
		Snaplen:    uint32(o.snaplen),
		IgnoreTgid: uint32(os.Getpid()),
		EventTypes: liveEventTypes(match),
	})
	if err != nil {
		return &exitError{code: 1, msg: liveLoadError(err)}
	}
	h, err := procfs.Scan("/proc")
	if err != nil {
		pr.Close()
		return &exitError{code: 1, msg: err.Error()}
	}
	ctr := startLiveContainers(p, h)
	defer ctr.close()
	p.in.LoadHeader(withoutUsers(o, h))
	p.seedSuppressed(h)
	// A thread first named by an event (started during the scan, or whose clone was
	// dropped) is read from /proc then, once.
	p.in.SetThreadLookup(state.LookupFromProcessList(func(tid int64) (capture.Thread, bool) {
		return procfs.ReadThread("/proc", tid)
	}))
	p.in.PurgeContainers(true)       // containers whose threads are gone leave the state, as in sysdig live
	p.in.SetThreadAlive(threadAlive) // and threads whose exit was lost, after --thread-timeout
	ctr.w.Drain()
	if o.write != "" {
		d, err := openDumper(o.write, withoutUsers(o, h), o.compress, o.rotation(), p.in.Snapshot)
		if err != nil {
			pr.Close()
			return &exitError{code: 1, msg: err.Error()}
		}
		p.dump = d
		ctr.attach(d)
	}
	// SIGINT, SIGTERM and -M end the capture by stopping the probe: the pipeline reads what is
	// still in the ring, sees the end of its source, flushes the output and the capture file,
	// and prints the summary. Signals are watched apart from the ticks below (which may write on
	// stderr): a second signal, or a drain that reads no event for session.DrainLimit (a stdout
	// nobody reads), ends the process; a drain that progresses finishes, so the events in the
	// ring reach the output and the -w file.
	stats := &finalStats{warn: p.stderr}
	release := session.InterruptsProgress(func() {
		go stats.stop(pr) // the probe's end wakes a loop waiting for events
	}, p.eventsRead)
	defer release()
	done := make(chan struct{})
	defer close(done)
	go func() {
		var tick <-chan time.Time
		if everySecond != nil {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-tick:
				if ev, dr, ok := stats.poll(pr); ok {
					everySecond(ev, dr)
				}
			}
		}
	}()
	// -M is measured in event time by the loop, from the first event that passed the filter,
	// as sysdig does; should events stop coming, the probe is stopped a second after that
	// time has passed on the clock, so that a quiet filter does not hold the capture open.
	if o.duration > 0 {
		var once sync.Once
		p.firstMatch = func(uint64) {
			once.Do(func() {
				t := time.AfterFunc(time.Duration(o.duration)*time.Second+time.Second, func() { stats.stop(pr) })
				go func() { <-done; t.Stop() }()
			})
		}
	}
	src := &liveSource{p: pr}
	// Container events enter the stream there, and a new container's events wait for them
	// (see watch.Holder).
	hold := &watch.Holder{Src: src, W: ctr.w, Limit: containerHold}
	p.holds = &hold.Stats
	if o.metricsAddr != "" {
		srv, err := serveMetrics(o.metricsAddr, p, stats, pr, ctr.res, &hold.Stats)
		if err != nil {
			pr.Close()
			return &exitError{code: 1, msg: err.Error()}
		}
		defer srv.Close()
	}
	// Ready once everything is up, metrics included.
	if o.readyFile != "" {
		if err := os.WriteFile(o.readyFile, []byte("ready\n"), 0o644); err != nil {
			pr.Close()
			return &exitError{code: 1, msg: fmt.Sprintf("ready file: %v", err)}
		}
	}
	// -v's counters are read when the loop ends, -n's stop included: the probe is stopped
	// then, so the count is final.
	p.driverStats = func() (uint64, uint64) { stats.stop(pr); return stats.get() }
	err = p.run(hold, "live capture", func() {})
	stats.stop(pr)
	pr.Close()
	if err == nil && src.bad > 0 {
		err = &exitError{code: 1, msg: fmt.Sprintf("live capture: %d probe records could not be decoded", src.bad)}
	}
	return err
}

// serveMetrics serves --metrics-addr for a live run: the loop's, the probe's, the container
// lookups' and the command's own families; /healthz is healthy while the probe is attached and
// the loop runs.
func serveMetrics(addr string, p *pipeline, stats *finalStats, pr *probe.Probe, res *container.Resolver, holds *watch.HoldStats) (*metrics.Server, error) {
	reg := metrics.NewRegistry()
	err := errors.Join(
		metrics.RegisterLoop(reg, p.loop.Load),
		metrics.RegisterProbe(reg, func() ([]uint64, []uint64, bool) { return stats.pollPerCPU(pr) }),
		metrics.RegisterContainers(reg, res.Stats),
		metrics.RegisterHolds(reg, holds),
		metrics.RegisterState(reg, p.in.Dropped))
	if err == nil && p.metrics != nil {
		err = p.metrics(reg)
	}
	if err != nil {
		reg.Close()
		return nil, err
	}
	srv, err := metrics.Serve(addr, reg, func() error {
		stats.mu.Lock()
		stopped := stats.stopped
		stats.mu.Unlock()
		switch {
		case stopped:
			return errors.New("the capture is ending")
		case p.loop.Load() == nil:
			return errors.New("the capture loop has not started")
		}
		return nil
	})
	if err != nil {
		reg.Close()
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	return srv, nil
}

// liveLoadError explains the usual reason a probe does not load.
func liveLoadError(err error) string {
	if errors.Is(err, probe.ErrUnsupportedArch) {
		return err.Error()
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || os.Geteuid() != 0 {
		return fmt.Sprintf("cannot load the eBPF probe: %v\nlive capture needs root, or the CAP_BPF and CAP_PERFMON capabilities", err)
	}
	return fmt.Sprintf("cannot load the eBPF probe: %v", err)
}

// finalStats keeps the probe's counters as they were when it was closed, so the summary
// printed after the capture ends still has them.
type finalStats struct {
	warn          io.Writer // where a failure to stop cleanly is reported
	mu            sync.Mutex
	stopped       bool
	events, drops uint64
}

// stop stops the probe (the pipeline then reads what is left in the ring and sees its end)
// and keeps its final counters.
func (f *finalStats) stop(pr *probe.Probe) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		if err := pr.Stop(); err != nil {
			// Tracing has ended all the same; only the read/write enters in flight at
			// that moment may be missing.
			fmt.Fprintf(f.warn, "warning: %v\n", err)
		}
		f.events, f.drops, _ = pr.Stats()
		f.stopped = true
	}
}

// pollPerCPU reads the probe's per-CPU counters while it is still open.
func (f *finalStats) pollPerCPU(pr *probe.Probe) (events, drops []uint64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return nil, nil, false
	}
	events, drops, err := pr.StatsPerCPU()
	return events, drops, err == nil
}

// poll reads the probe's counters while it is still open.
func (f *finalStats) poll(pr *probe.Probe) (events, drops uint64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return 0, 0, false
	}
	events, drops, err := pr.Stats()
	return events, drops, err == nil
}

func (f *finalStats) get() (uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events, f.drops
}

// ---- Container metadata (live only: a replay takes it from the capture's container events).

// containerFlags are --docker-socket, --podman-socket, --containerd-socket and --crio-socket
// (an empty value turns that runtime off).
var containerFlags = container.DefaultConfig()

// containerHold is --container-hold: how long a new container's events may wait for its
// metadata (watch.Holder).
var containerHold = watch.DefaultHold

func addContainerFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&containerFlags.DockerSocket, "docker-socket", containerFlags.DockerSocket, "docker's API socket, for container names and images in live captures (empty: off)")
	f.StringVar(&containerFlags.PodmanSocket, "podman-socket", containerFlags.PodmanSocket, "podman's API socket (podman system service), for container metadata in live captures (empty: off)")
	f.StringVar(&containerFlags.ContainerdSocket, "containerd-socket", containerFlags.ContainerdSocket, "containerd's CRI socket, for container metadata in live captures (empty: off)")
	f.StringVar(&containerFlags.CRIOSocket, "crio-socket", containerFlags.CRIOSocket, "CRI-O's socket, for container metadata in live captures (empty: off)")
	f.DurationVar(&containerHold, "container-hold", containerHold, "how long a new container's events may wait for its metadata from the runtime, so that its first events are named (0: never wait; other events never wait)")
}

// liveContainers looks up the containers of a live capture in the background.
type liveContainers struct {
	res *container.Resolver
	w   *watch.Watcher
}

// startLiveContainers asks for the containers of the threads in h (the /proc scan) and gives the
// runtimes up to a second to answer, before the probe starts, so that containers already
// running are known when the first event arrives and head the -w file. Later containers are
// looked up as their threads show up, without waiting.
func startLiveContainers(p *pipeline, h *capture.Header) *liveContainers {
	res := container.NewResolver(containerFlags)
	stderr := p.stderr
	w := watch.New(p.in, res, func(r container.Result) {
		fmt.Fprintf(stderr, "warning: cannot get container metadata from %s (%s): %v; container.name, container.image and the like show <NA> for its containers\n",
			r.Runtime, r.Socket, r.Err)
	})
	res.Follow() // containers created from now on are announced by their runtime
	for i := range h.Threads {
		w.Request(h.Threads[i].Cgroups)
	}
	res.Wait(time.Second)
	return &liveContainers{res: res, w: w}
}

// attach makes the -w file start with the containers known (and each rotated file too).
func (c *liveContainers) attach(d *dumper) {
	d.containers = func() [][]byte { return watch.Known(c.w.State()) }
	d.writeContainers(0)
}

func (c *liveContainers) close() { c.res.Close() }

// newProcinfoSource adds procinfo events for the threads of in to src (see package procinfo).
func newProcinfoSource(src source, in *state.Inspector) *procinfo.Source {
	return &procinfo.Source{Src: src, Threads: func(fn func(tid, pid int64)) {
		in.EachThread(func(t *state.Thread) { fn(t.Tid, t.Pid) })
	}}
}

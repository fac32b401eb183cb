// Package probe loads gosysdig's live eBPF probe and reads the events it
// produces.
//
// The probe (bpf/probe.c) attaches to the raw_syscalls sys_enter/sys_exit
// and sched_process_fork/exec/exit and sched_switch raw tracepoints and writes each system call
// as a sysdig 0.29.3 scap event into a BPF ring buffer.
//
// # Record layout
//
// Each ring-buffer record is exactly the body of a capture file's EV_V2
// block (scap-format.md section 2):
//
//	u16 cpu | u64 ts | u64 tid | u32 len | u16 type | u32 nparams |
//	u16 lengths[nparams] | parameter values
//
// all little-endian and packed. Next strips the u16 cpu prefix and returns
// the event (header + lengths + values); len covers exactly those bytes.
// A record may hold two events back to back (a read/write enter and its
// exit, see Cost per event): Next returns them one by one, and returns the
// events of all CPUs in timestamp order (order.go).
// Event ids and parameter layouts are the 0.29.3 ones (scap-events.tsv
// *_0.29.3 columns); flags use the PPM numbering. Syscalls without a
// dedicated 0.29.3 event are sent as the generic events 0/1.
//
// # Timestamps
//
// ts is bpf_ktime_get_ns() (CLOCK_MONOTONIC) plus an offset (wall clock
// minus CLOCK_MONOTONIC) measured once by Load, i.e. nanoseconds since the
// Unix epoch. bpf_ktime_get_boot_ns would keep counting across suspend,
// but it costs one more nested call per event; instead Next adds the time
// the machine spent suspended since Load (CLOCK_BOOTTIME minus
// CLOCK_MONOTONIC, re-read when the ring is empty and every 65536 events).
// Wall-clock steps made after Load (NTP, settimeofday) are not followed.
//
// # Filtering in the kernel
//
// Events of Options.IgnoreTgid and of every process it forks after Load
// (tracked on sched_process_fork) are never sent, and neither are event
// types disabled in Options.EventTypes. A consumer that keeps state must
// leave enabled the state-changing types it needs (clone, execve, open,
// close, procexit, ...), not only those its filter can match.
//
// # Cost per event
//
// Every system call of the machine runs the dispatcher twice (enter and
// exit), so its cost is what a traced workload pays. On these machines
// (retpolines, SRSO return thunks) each helper call, and each call nested
// in it, costs 15-65 ns, so the probe is built around making few of them.
// It reads the task and its registers with plain loads
// (bpf_get_current_task_btf, bpf_task_pt_regs) instead of copying them
// with bpf_probe_read_kernel, drops ignored processes and unwanted types
// before anything else, and takes timestamps with bpf_ktime_get_ns (one
// nested call fewer than bpf_ktime_get_boot_ns). read/write/pread/pwrite,
// the bulk of most workloads, skip the scratch buffer and the tail calls:
// the enter event is held per CPU until its exit, and both go into the ring
// as one record (Next returns them one by one); the exit then needs
// neither the task nor its registers. sched_switch sends a held enter
// alone when its task leaves the CPU, so an enter is never held longer
// than its task runs (a blocked read shows its enter at once). Records are
// submitted with BPF_RB_NO_WAKEUP, waking the reader only when the ring is
// half full. The reader (ring.go) consumes the ring's memory mapping in
// batches, publishing its position once per batch rather than per record:
// each position update moves a cache line between the traced CPU and the
// reader's. BenchmarkDD and BenchmarkProbeCost (BPF run-time statistics
// per program) measure it.
//
// # Requirements
//
// x86-64, a kernel with BTF (/sys/kernel/btf/vmlinux), raw tracepoints,
// BPF ring buffers (5.8), bpf_task_pt_regs (5.15) and bpf_loop (5.17); root
// or CAP_BPF+CAP_PERFMON.
// No kprobes, fentry or kernel headers are needed: the object is compiled
// ahead of time (go generate, see gen.go) with CO-RE relocations.
//
// # Known limitations
//
//   - Strings and buffers in user memory that is not paged in yet cannot
//     be read by an eBPF program; they come out empty (the sysdig eBPF
//     probe behaves the same). This is mostly seen on enter events.
//   - cwd is rebuilt by walking dentries and mounts (at most 32
//     components); execve flags (EXE_WRITABLE) approximate the kernel's
//     permission check (no supplementary groups, no namespaced caps).
//   - quotactl parameters beyond res are sent zero-filled; every other
//     event a syscall produces carries its full 0.29.3 parameter list.
//   - The per-CPU scratch buffer assumes programs on one CPU do not
//     interleave, as the sysdig probe does; on kernels whose syscall
//     tracepoints run preemptibly a rare event could be corrupted.
package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// MaxEventID is the size of the event-type mask: 0.29.3 knows ids below
// 336; the map leaves room above.
const MaxEventID = 512

// DefaultRingBytes is the ring-buffer size used when Options.RingBytes is 0.
const DefaultRingBytes = 8 << 20

// DefaultSnaplen is sysdig's default number of I/O data bytes kept.
const DefaultSnaplen = 80

// MaxSnaplen is the largest data buffer the probe copies per parameter.
const MaxSnaplen = 16384

// orderWindow is how long an event may wait for an older one from another
// CPU (see orderer): the longest a read or write may run without leaving
// its CPU and still come out in order, and the latency the merge adds on a
// machine whose other CPUs are idle.
const orderWindow = 5 * time.Millisecond

// pollInterval bounds the latency of an event: the probe does not wake the
// reader per event (BPF_RB_NO_WAKEUP, only when the ring is half full),
// so an idle reader looks at the ring again after this long.
const pollInterval = 5 * time.Millisecond

// Options configures Load.
type Options struct {
	// RingBytes is the ring-buffer size; rounded up to a power of two of
	// at least one page. 0 means DefaultRingBytes.
	RingBytes int
	// Snaplen is the number of bytes of I/O buffers kept in read/write
	// events (sysdig -s). 0 means DefaultSnaplen; capped at MaxSnaplen.
	Snaplen uint32
	// IgnoreTgid is a process (normally gosysdig itself) whose events,
	// and those of its descendants, are not sent. 0 = none.
	IgnoreTgid uint32
	// EventTypes selects the event types to send, indexed by 0.29.3 event
	// id; nil sends all of them.
	EventTypes []bool

	// noCoreCast makes the probe read registers and task ids the way it
	// does on kernels without bpf_rdonly_cast (before 6.2), so tests
	// cover that path on newer kernels too.
	noCoreCast bool
}

// Probe is a loaded and attached probe. Next must not be called
// concurrently with itself; Close may be called from any goroutine.
type Probe struct {
	objs   probeObjects
	links  []link.Link
	reader *ringReader
	closed chan struct{}
	// stopped is closed by Stop once nothing more enters the ring;
	// drained is set when Next has seen it and looks at the ring a last
	// time.
	stopped  chan struct{}
	stopOnce sync.Once
	stopErr  error
	drained  bool
	// order puts the events back in timestamp order; watermark is the
	// time the ring was last found empty (see orderer); final is set when
	// nothing more will enter the ring and has been read.
	order       *orderer
	watermark   uint64
	final       bool
	pulled      int   // events queued by the current pass of pull
	clockOffset int64 // wall clock - CLOCK_MONOTONIC, as given to the probe
	// suspended0 is suspendedNs at Load; tsFix the suspended time since
	// then, added to every timestamp (see Timestamps above); untilCheck
	// counts events down to the next look at the clocks.
	suspended0 int64
	tsFix      int64
	untilCheck uint16
	// deadline, when set, bounds how long Next waits (SetDeadline);
	// lastTS is the timestamp of the event Next returned last.
	deadline time.Time
	lastTS   uint64
}

// ErrUnsupportedArch is Load's error on an architecture other than x86-64: the probe reads
// x86-64 system-call registers and numbers. Such a build still replays captures, runs rules
// and chisels over them, and writes them.
var ErrUnsupportedArch = fmt.Errorf("probe: live capture needs linux/amd64 (this build is %s/%s): the probe reads x86-64 system-call registers and numbers; replaying captures works everywhere", runtime.GOOS, runtime.GOARCH)

// Load loads the probe into the kernel and attaches it. It needs root, or
// CAP_BPF and CAP_PERFMON (plus CAP_SYS_RESOURCE on kernels that charge
// BPF memory to RLIMIT_MEMLOCK).
func Load(opts Options) (*Probe, error) {
	if runtime.GOARCH != "amd64" {
		return nil, ErrUnsupportedArch
	}
	spec, err := loadProbe()
	if err != nil {
		return nil, fmt.Errorf("probe: reading embedded object: %w", err)
	}
	offset, ncpu, err := configure(spec, opts)
	if err != nil {
		return nil, err
	}

	p := &Probe{
		closed:      make(chan struct{}),
		stopped:     make(chan struct{}),
		suspended0:  suspendedNs(),
		clockOffset: offset,
		order:       newOrderer(ncpu, uint64(orderWindow)),
	}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		return nil, loadError(err)
	}
	if err := p.setEventMask(opts.EventTypes); err != nil {
		p.objs.Close()
		return nil, err
	}
	if err := p.attach(); err != nil {
		p.Close()
		return nil, err
	}
	p.reader, err = newRingReader(p.objs.Events.FD(), p.objs.Events.MaxEntries(), p.objs.ReaderState.FD())
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("probe: opening ring buffer reader: %w", err)
	}
	p.reader.clock = p.nowTS
	return p, nil
}

// configure writes opts into the probe's settings and sizes its maps; it
// returns the clock offset given to the probe and the number of possible
// CPUs.
func configure(spec *ebpf.CollectionSpec, opts Options) (offset int64, ncpu int, err error) {
	snap := opts.Snaplen
	if snap == 0 {
		snap = DefaultSnaplen
	}
	if snap > MaxSnaplen {
		snap = MaxSnaplen
	}
	offset, err = monoOffset()
	if err != nil {
		return 0, 0, err
	}
	vars := map[string]any{
		"snaplen":         snap,
		"ignore_tgid":     opts.IgnoreTgid,
		"clock_offset_ns": uint64(offset),
		"use_core_cast":   uint32(1),
	}
	if opts.noCoreCast {
		vars["use_core_cast"] = uint32(0)
	}
	for name, v := range vars {
		vs, ok := spec.Variables[name]
		if !ok {
			return 0, 0, fmt.Errorf("probe: object has no setting %q", name)
		}
		if err := vs.Set(v); err != nil {
			return 0, 0, fmt.Errorf("probe: setting %s: %w", name, err)
		}
	}

	spec.Maps["events"].MaxEntries = ringSize(opts.RingBytes)
	ncpu, err = ebpf.PossibleCPU()
	if err != nil {
		return 0, 0, fmt.Errorf("probe: counting CPUs: %w", err)
	}
	spec.Maps["scratch_map"].MaxEntries = uint32(ncpu)
	spec.Maps["cpu_state_map"].MaxEntries = uint32(ncpu)
	return offset, ncpu, nil
}

// ringSize rounds n up to a power of two of at least one page, as the
// kernel requires for a ring buffer.
func ringSize(n int) uint32 {
	if n <= 0 {
		n = DefaultRingBytes
	}
	size := os.Getpagesize()
	for size < n && size < 1<<30 {
		size <<= 1
	}
	return uint32(size)
}

// monoOffset returns wall clock minus CLOCK_MONOTONIC, in ns, sampled
// between two wall-clock readings to halve the error.
func monoOffset() (int64, error) {
	var ts unix.Timespec
	t0 := time.Now().UnixNano()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("probe: reading CLOCK_MONOTONIC: %w", err)
	}
	t1 := time.Now().UnixNano()
	return t0 + (t1-t0)/2 - ts.Nano(), nil
}

// suspendedNs returns CLOCK_BOOTTIME minus CLOCK_MONOTONIC: the time the
// machine has spent suspended since boot (0 when a clock cannot be read,
// which does not happen on Linux).
func suspendedNs() int64 {
	var boot, mono unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) != nil || unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil {
		return 0
	}
	return boot.Nano() - mono.Nano()
}

// loadError explains the two load failures users hit: missing privileges
// and verifier rejections (whose full log is kept in the message).
func loadError(err error) error {
	// The verifier also reports EACCES/EPERM, so check for its log first.
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("probe: the kernel verifier rejected the probe: %w\nverifier log:\n%+v", err, ve)
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("probe: loading the eBPF probe needs root or CAP_BPF+CAP_PERFMON: %w", err)
	}
	return fmt.Errorf("probe: loading the eBPF probe: %w", err)
}

func (p *Probe) setEventMask(types []bool) error {
	keys := make([]uint32, MaxEventID)
	vals := make([]uint8, MaxEventID)
	for i := range keys {
		keys[i] = uint32(i)
		if types == nil || (i < len(types) && types[i]) {
			vals[i] = 1
		}
	}
	if _, err := p.objs.EventMask.BatchUpdate(keys, vals, nil); err != nil {
		// Older kernels lack batch operations on arrays.
		for i := range keys {
			if err := p.objs.EventMask.Update(keys[i], vals[i], ebpf.UpdateAny); err != nil {
				return fmt.Errorf("probe: setting event mask: %w", err)
			}
		}
	}
	return nil
}

func (p *Probe) attach() error {
	// Process events first, so no fork of an ignored process is missed
	// once syscalls are traced.
	progs := []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_fork", p.objs.SchedProcessFork},
		{"sched_process_exit", p.objs.SchedProcessExit},
		{"sched_process_exec", p.objs.SchedProcessExec},
		{"sched_switch", p.objs.SchedSwitch}, // before sys_enter: see held_enter in bpf/probe.c
		{"sys_enter", p.objs.SysEnter},
		{"sys_exit", p.objs.SysExit},
	}
	for _, pr := range progs {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: pr.name, Program: pr.prog})
		if err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return fmt.Errorf("probe: attaching %s needs root or CAP_BPF+CAP_PERFMON: %w", pr.name, err)
			}
			return fmt.Errorf("probe: attaching raw tracepoint %s: %w", pr.name, err)
		}
		p.links = append(p.links, l)
	}
	return nil
}

// Next returns the next event: the CPU it happened on and its scap bytes
// (header, lengths and values), in timestamp order (see orderer). ev is
// valid until the next call. After Stop, Next returns what the ring still
// holds, then an error wrapping os.ErrClosed and io.EOF; after Close, that
// error at once.
func (p *Probe) Next() (cpu uint16, ev []byte, err error) {
	spins := 0
	for {
		if cpu, ev, ok := p.order.next(p.watermark, p.final); ok {
			p.lastTS = binary.LittleEndian.Uint64(ev)
			return cpu, ev, nil
		}
		if p.final {
			return 0, nil, errClosed
		}
		select {
		case <-p.closed:
			return 0, nil, errClosed
		default:
		}
		// The watermark is the time read before a pass that empties the
		// ring, or before a batch that was read to its end: what happened
		// before it, minus the window, is all here.
		now := p.nowTS()
		empty, err := p.pull()
		if p.reader.done > p.watermark {
			// A batch read to its end: all that was reserved before it
			// began is here, though the ring may not have emptied.
			p.watermark = p.reader.done
		}
		switch {
		case err == nil && !empty:
			spins = 0
			continue
		case err == nil:
			p.watermark = max(p.watermark, now)
			spins = 0
			if _, ok := p.order.ready(p.watermark, false); ok {
				continue
			}
			p.checkSuspend()
			select {
			case <-p.stopped:
				// Stopped: what Stop flushed came before the close of
				// stopped, so one more pass finds it all; then every
				// queued event may go.
				if p.drained {
					p.final = true
				}
				p.drained = true
				continue
			default:
			}
			ms := int(pollInterval / time.Millisecond)
			if w := p.order.wait(p.watermark); w > 0 && int(w/1e6)+1 < ms {
				ms = int(w/1e6) + 1
			}
			if !p.deadline.IsZero() {
				left := time.Until(p.deadline)
				if left <= 0 {
					return 0, nil, errDeadline
				}
				if d := int(left/time.Millisecond) + 1; d < ms {
					ms = d
				}
			}
			err = p.reader.wait(ms)
			if err == nil {
				continue
			}
		case err == errRingBusy && spins < 1000:
			// A producer is between reserve and commit: a few hundred
			// nanoseconds at most, unless it was preempted.
			spins++
			runtime.Gosched()
			continue
		case err == errRingBusy:
			spins = 0
			err = p.reader.wait(1)
			if err == nil {
				continue
			}
		}
		if errors.Is(err, os.ErrClosed) {
			return 0, nil, errClosed
		}
		return 0, nil, err
	}
}

// pullMax bounds the events one pass of pull queues, so that the first of
// them do not wait for a long backlog to be copied.
const pullMax = 4096

// pull moves the records of the ring into the orderer: all of them (empty
// true: the ring was found empty), or pullMax events. err is errRingBusy
// when a record is still being written.
func (p *Probe) pull() (empty bool, err error) {
	for p.pulled = 0; p.pulled < pullMax; {
		err := p.reader.next(p.queueRecord)
		switch {
		case err == nil:
		case err == errRingEmpty:
			return true, nil
		case err == errRingBusy, errors.Is(err, os.ErrClosed), errors.Is(err, errBadRecord):
			return false, err
		default:
			return false, fmt.Errorf("probe: reading ring buffer: %w", err)
		}
	}
	return false, nil
}

// queueRecord copies the events of a ring record into the orderer.
func (p *Probe) queueRecord(rec []byte) error {
	k, err := forEachEvent(rec, p.queue)
	p.pulled += k
	return err
}

// queue copies an event of the ring into the orderer, with the time spent
// suspended since Load added to its timestamp.
func (p *Probe) queue(cpu uint16, ev []byte) {
	if p.untilCheck--; p.untilCheck == 0 {
		p.checkSuspend()
	}
	p.order.push(cpu, ev, uint64(p.tsFix))
}

// errBadRecord is a ring record that does not hold whole events.
var errBadRecord = errors.New("probe: bad ring record")

// forEachEvent calls fn with each event of a ring record (u16 cpu + event,
// possibly followed by more of them: a read/write enter and its exit) and
// returns how many there were.
func forEachEvent(raw []byte, fn func(cpu uint16, ev []byte)) (int, error) {
	k := 0
	for len(raw) > 0 {
		if len(raw) < 2+26 {
			return k, fmt.Errorf("%w: short record (%d bytes)", errBadRecord, len(raw))
		}
		n := 2 + (uint32(raw[18]) | uint32(raw[19])<<8 | uint32(raw[20])<<16 | uint32(raw[21])<<24)
		if n < 2+26 || n > uint32(len(raw)) {
			return k, fmt.Errorf("%w: record of %d bytes holds an event of %d", errBadRecord, len(raw), n-2)
		}
		fn(uint16(raw[0])|uint16(raw[1])<<8, raw[2:n:n])
		raw = raw[n:]
		k++
	}
	return k, nil
}

// nowTS is the current time in the events' timestamp base.
func (p *Probe) nowTS() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano() + p.clockOffset + p.tsFix)
}

// checkSuspend updates tsFix when the machine has been suspended since
// Load. The two clocks are read one after the other, so their difference
// jitters by some nanoseconds: only a change of more than a millisecond
// (a suspend lasts seconds) is taken.
func (p *Probe) checkSuspend() {
	if d := suspendedNs() - p.suspended0; d > int64(time.Millisecond) {
		p.tsFix = d
	}
}

// errDeadline is Next's error when nothing could go before the deadline.
var errDeadline = fmt.Errorf("probe: no event before the deadline: %w", os.ErrDeadlineExceeded)

// SetDeadline makes Next give up waiting at t: it then returns an error
// wrapping os.ErrDeadlineExceeded, and may be called again. The zero time
// waits as long as it takes. Like Next, it must not be called concurrently
// with Next; it lets the reader's own loop do timed work (sysdig's driver
// emits its procinfo events every second whether or not anything happens).
func (p *Probe) SetDeadline(t time.Time) { p.deadline = t }

// Horizon is the timestamp up to which the events are complete: no later
// Next returns an event older than it. It does not go back, and it moves
// on while the machine is quiet, so an event made by the reader (a
// procinfo event) stamped with it stays in timestamp order with the rest.
func (p *Probe) Horizon() uint64 {
	// Events older than the watermark less the window are all here: queued ones that may go
	// now are returned next, so the oldest of them bounds it too.
	var h uint64
	if p.watermark > p.order.window {
		h = p.watermark - p.order.window
	}
	if c, ts, _ := p.order.oldest(); c >= 0 && ts < h {
		h = ts
	}
	return max(h, p.lastTS)
}

// errClosed wraps both os.ErrClosed and io.EOF so callers that treat a
// source's end as EOF stop cleanly.
var errClosed = fmt.Errorf("probe: closed: %w (%w)", os.ErrClosed, io.EOF)

// StatsPerCPU returns, per possible CPU, the events sent and the events dropped because the
// ring buffer was full, since Load.
func (p *Probe) StatsPerCPU() (events, drops []uint64, err error) {
	if err := p.objs.Counters.Lookup(uint32(1), &events); err != nil {
		return nil, nil, fmt.Errorf("probe: reading event counter: %w", err)
	}
	if err := p.objs.Counters.Lookup(uint32(0), &drops); err != nil {
		return nil, nil, fmt.Errorf("probe: reading drop counter: %w", err)
	}
	return events, drops, nil
}

// Stats returns the number of events sent and of events dropped because
// the ring buffer was full, summed over CPUs, since Load.
func (p *Probe) Stats() (events, drops uint64, err error) {
	var per []uint64
	if err := p.objs.Counters.Lookup(uint32(1), &per); err != nil {
		return 0, 0, fmt.Errorf("probe: reading event counter: %w", err)
	}
	for _, v := range per {
		events += v
	}
	if err := p.objs.Counters.Lookup(uint32(0), &per); err != nil {
		return 0, 0, fmt.Errorf("probe: reading drop counter: %w", err)
	}
	for _, v := range per {
		drops += v
	}
	return events, drops, nil
}

// Close detaches and unloads the probe. It is safe to call more than once
// and concurrently with Next, which then returns an error wrapping
// os.ErrClosed.
func (p *Probe) Close() error {
	stopErr := p.Stop()
	select {
	case <-p.closed:
		return nil
	default:
		close(p.closed)
	}
	var errs []error
	if stopErr != nil {
		errs = append(errs, stopErr)
	}
	if p.reader != nil {
		if err := p.reader.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.objs.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("probe: closing: %w", err)
	}
	return nil
}

// Stop ends tracing: it detaches the probe and sends the read/write enters
// held at that moment (see Cost per event), so that Next returns every
// event left in the ring and then an error wrapping os.ErrClosed and
// io.EOF. Close releases the probe. Stop may be called from any goroutine,
// more than once.
func (p *Probe) Stop() error {
	p.stopOnce.Do(func() {
		var errs []error
		for _, l := range p.links {
			if err := l.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		p.links = nil
		// Detaching does not wait for programs already running on other
		// CPUs (the kernel frees the old probe list after an RCU grace
		// period); they run for microseconds with preemption off, so after
		// this pause none is left to race with the flush.
		time.Sleep(10 * time.Millisecond)
		if p.objs.FlushHeld != nil {
			if err := p.flushHeld(); err != nil {
				errs = append(errs, err)
			}
		}
		close(p.stopped)
		if err := errors.Join(errs...); err != nil {
			p.stopErr = fmt.Errorf("probe: stopping: %w", err)
		}
	})
	return p.stopErr
}

// flushHeld runs flush_held on every online CPU.
func (p *Probe) flushHeld() error {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		_, err := p.objs.FlushHeld.Run(&ebpf.RunOptions{
			Context: []uint64{0},
			Flags:   unix.BPF_F_TEST_RUN_ON_CPU,
			CPU:     uint32(cpu),
		})
		// ENXIO: an offline CPU, which holds nothing.
		if err != nil && !errors.Is(err, unix.ENXIO) {
			return fmt.Errorf("flushing CPU %d: %w", cpu, err)
		}
	}
	return nil
}

package main

// Live-tracing benchmarks (make bench-live, root only):
//
//	go test -run '^$' -bench Live -benchtime 1x -timeout 20m ./cmd/gosysdig/
//
// They run the real gosysdig binary, built once, tracing the whole machine with no filter and
// printing every event to /dev/null, and read its -v statistics ("Driver Events:N",
// "Driver Drops:M", "Captured Events: C") from stderr. The machines they run on are shared and
// at times heavily loaded, so the dd comparison alternates untraced and traced runs and keeps
// the minimum of each; the load average is reported with the results.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// BenchmarkLive builds gosysdig once and runs the live benchmarks with it.
func BenchmarkLive(b *testing.B) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			b.Fatal("live benchmarks need root under CI")
		}
		b.Skip("live benchmarks need root")
	}
	bin := filepath.Join(b.TempDir(), "gosysdig")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	b.Run("DD", func(b *testing.B) { benchLiveDD(b, bin) })
	b.Run("Sustained", func(b *testing.B) { benchLiveSustained(b, bin) })
	b.Run("Ceiling", func(b *testing.B) { benchLiveCeiling(b, bin) })
	b.Run("Overload", func(b *testing.B) { benchLiveOverload(b, bin) })
}

// liveRun is one gosysdig live capture.
type liveRun struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	null   *os.File
}

// liveStats is what gosysdig -v prints at exit.
type liveStats struct {
	events, drops, captured uint64
	elapsed                 float64
	cpu                     time.Duration // gosysdig's CPU time, user and system
}

func startLive(b *testing.B, bin string, args ...string) *liveRun {
	b.Helper()
	return startLiveTo(b, bin, os.DevNull, args...)
}

// startLiveTo starts a live capture whose standard output goes to the file at out.
func startLiveTo(b *testing.B, bin, out string, args ...string) *liveRun {
	b.Helper()
	ready := filepath.Join(b.TempDir(), "ready")
	null, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	r := &liveRun{null: null}
	r.cmd = exec.Command(bin, append([]string{"-v", "--ready-file", ready}, args...)...)
	r.cmd.Stdout = null
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			r.cmd.Process.Kill()
			r.cmd.Wait()
			b.Fatalf("probe not ready after 60s: %s", r.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ringBacklog maps the producer and consumer positions of gosysdig's ring buffer (the
// process's only BPF_MAP_TYPE_RINGBUF map) read-only, and returns a function giving the bytes
// the probe has written and gosysdig not read yet.
func ringBacklog(pid int) (backlog func() uint64, done func(), err error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fdinfo", pid))
	if err != nil {
		return nil, nil, err
	}
	for _, fd := range fds {
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil || !strings.Contains(string(info), "map_type:\t27\n") { // BPF_MAP_TYPE_RINGBUF
			continue
		}
		m := regexp.MustCompile(`map_id:\s+(\d+)`).FindStringSubmatch(string(info))
		if m == nil {
			continue
		}
		id, _ := strconv.ParseUint(m[1], 10, 32)
		rb, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			return nil, nil, err
		}
		page := os.Getpagesize()
		mem, err := unix.Mmap(rb.FD(), 0, 2*page, unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			rb.Close()
			return nil, nil, err
		}
		cons := (*uint64)(unsafe.Pointer(&mem[0]))
		prod := (*uint64)(unsafe.Pointer(&mem[page]))
		backlog = func() uint64 { return atomic.LoadUint64(prod) - atomic.LoadUint64(cons) }
		done = func() { unix.Munmap(mem); rb.Close() }
		return backlog, done, nil
	}
	return nil, nil, fmt.Errorf("no ring buffer in process %d", pid)
}

// waitDrained waits until gosysdig has read what the probe sent: the ring then holds at most
// the few milliseconds of events the whole machine makes between two polls of the reader, so
// the rates measured do not depend on how long the drain after SIGINT takes.
func (r *liveRun) waitDrained(b *testing.B) {
	b.Helper()
	backlog, done, err := ringBacklog(r.cmd.Process.Pid)
	if err != nil {
		b.Fatalf("gosysdig ring buffer: %v", err)
	}
	defer done()
	const small = 1 << 20
	deadline := time.Now().Add(5 * time.Minute)
	for n := 0; n < 3; {
		time.Sleep(50 * time.Millisecond)
		if backlog() <= small {
			n++
		} else {
			n = 0
		}
		if time.Now().After(deadline) {
			b.Fatalf("gosysdig still has %d bytes to read after 5 minutes", backlog())
		}
	}
}

var (
	reDriverEvents = regexp.MustCompile(`Driver Events:(\d+)`)
	reDriverDrops  = regexp.MustCompile(`Driver Drops:(\d+)`)
	reCaptured     = regexp.MustCompile(`Elapsed time: ([0-9.]+), Captured Events: (\d+)`)
)

// stop ends the capture with SIGINT and parses the statistics.
func (r *liveRun) stop(b *testing.B) liveStats {
	b.Helper()
	defer r.null.Close()
	r.cmd.Process.Signal(syscall.SIGINT)
	if err := r.cmd.Wait(); err != nil {
		b.Fatalf("gosysdig: %v\n%s", err, r.stderr.String())
	}
	out := r.stderr.String()
	e, d, c := reDriverEvents.FindStringSubmatch(out), reDriverDrops.FindStringSubmatch(out), reCaptured.FindStringSubmatch(out)
	if e == nil || d == nil || c == nil {
		b.Fatalf("no statistics in gosysdig -v output:\n%s", out)
	}
	var st liveStats
	st.events, _ = strconv.ParseUint(e[1], 10, 64)
	st.drops, _ = strconv.ParseUint(d[1], 10, 64)
	st.elapsed, _ = strconv.ParseFloat(c[1], 64)
	st.captured, _ = strconv.ParseUint(c[2], 10, 64)
	st.cpu = r.cmd.ProcessState.UserTime() + r.cmd.ProcessState.SystemTime()
	return st
}

// undrained is how many of the events the probe sent gosysdig did not read. SIGINT stops the
// probe (the counters are read then) and gosysdig reads what the ring still holds before it
// exits, so none may be missing. "Driver Events" counts the dropped ones too, as sysdig's
// does; the probe never sent those.
func (st liveStats) undrained() (missing uint64, ok bool) {
	if sent := st.events - min(st.drops, st.events); st.captured < sent {
		missing = sent - st.captured
	}
	return missing, missing == 0
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:3], " ")
}

func load1() float64 {
	v, _ := strconv.ParseFloat(strings.Fields(loadAvg() + " 0")[0], 64)
	return v
}

// bpftraceFloor times dd under a bpftrace program that only counts the raw_syscalls
// sys_enter and sys_exit tracepoints: the floor any tracer on them starts from. It returns the
// fastest of rounds runs, or false when bpftrace is not installed (apt-get install bpftrace)
// or cannot run. bpftrace needs tracefs: it is mounted for the run when it is not.
func bpftraceFloor(b *testing.B, rounds int) (time.Duration, bool) {
	bt, err := exec.LookPath("bpftrace")
	if err != nil {
		b.Logf("no bpftrace: the floor is not measured")
		return 0, false
	}
	const tracefs = "/sys/kernel/tracing"
	if _, err := os.Stat(tracefs + "/events/raw_syscalls"); err != nil {
		if out, err := exec.Command("mount", "-t", "tracefs", "nodev", tracefs).CombinedOutput(); err != nil {
			b.Logf("mounting tracefs for bpftrace: %v %s", err, out)
			return 0, false
		}
		defer exec.Command("umount", tracefs).Run()
	}
	best := time.Duration(1 << 62)
	for i := 0; i < rounds; i++ {
		cmd := exec.Command(bt, "-e", "tracepoint:raw_syscalls:sys_enter { @e = count(); } tracepoint:raw_syscalls:sys_exit { @x = count(); }")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Logf("bpftrace: %v", err)
			return 0, false
		}
		// bpftrace prints "Attaching 2 probes..." before it attaches them.
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "Attaching") {
			cmd.Process.Kill()
			cmd.Wait()
			b.Logf("bpftrace did not start: %q %v", line, err)
			return 0, false
		}
		time.Sleep(time.Second)
		best = min(best, timeDD(b))
		cmd.Process.Signal(syscall.SIGINT)
		go io.Copy(io.Discard, out) // the counts it prints on exit
		cmd.Wait()
	}
	return best, true
}

// ddArgs is the workload of the dd benchmark: 2M one-byte system calls.
var ddArgs = []string{"if=/dev/zero", "of=/dev/null", "bs=1", "count=1000000"}

// otherSyscallProbes counts the BPF programs attached to the sys_enter raw tracepoint, by
// other tracers or left behind by killed ones: each runs on every system call, traced or not,
// and so inflates the untraced time (-1 if the links cannot be listed).
func otherSyscallProbes() int {
	var it link.Iterator
	defer it.Close()
	n := 0
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			continue
		}
		if rt := info.RawTracepoint(); rt != nil && rt.Name == "sys_enter" {
			n++
		}
	}
	if it.Err() != nil {
		return -1
	}
	return n
}

func timeDD(b *testing.B) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command("dd", ddArgs...).CombinedOutput(); err != nil {
		b.Fatalf("dd: %v\n%s", err, out)
	}
	return time.Since(start)
}

// benchLiveDD times dd untraced and traced by gosysdig (every event captured, no filter,
// printed to /dev/null), alternating the two, and reports the ratio of the minimums. The ring
// is large enough for gosysdig to finish reading after dd ends: dd's time is what is measured,
// and each traced run must end with every event read and none dropped.
func benchLiveDD(b *testing.B, bin string) {
	rounds := 5
	if v, err := strconv.Atoi(os.Getenv("BENCH_LIVE_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	b.Logf("load average before: %s", loadAvg())
	others := otherSyscallProbes()
	if others != 0 {
		b.Logf("%d other BPF programs run on every system call (raw_syscalls sys_enter): the untraced times include their cost", others)
	}
	timeDD(b) // warm up
	minUn, minTr := time.Duration(1<<62), time.Duration(1<<62)
	var events, drops uint64
	for i := 0; i < b.N*rounds; i++ {
		un := timeDD(b)
		r := startLive(b, bin, "--ring-bytes", strconv.Itoa(1<<30))
		tr := timeDD(b)
		r.waitDrained(b)
		st := r.stop(b)
		b.Logf("round %d: untraced %.3fs traced %.3fs (%.2fx); driver events %d, drops %d, captured %d; load %s",
			i+1, un.Seconds(), tr.Seconds(), tr.Seconds()/un.Seconds(), st.events, st.drops, st.captured, loadAvg())
		if st.drops != 0 {
			b.Errorf("round %d: %d events dropped", i+1, st.drops)
		}
		if missing, ok := st.undrained(); !ok {
			b.Errorf("round %d: gosysdig did not read %d of the %d events sent", i+1, missing, st.events)
		}
		minUn, minTr = min(minUn, un), min(minTr, tr)
		events = max(events, st.events)
		drops += st.drops
	}
	b.ReportMetric(minTr.Seconds()/minUn.Seconds(), "slowdown")
	b.ReportMetric(minUn.Seconds(), "untraced-s")
	b.ReportMetric(minTr.Seconds(), "traced-s")
	if floor, ok := bpftraceFloor(b, rounds); ok {
		b.Logf("floor: dd under a count-only bpftrace program on the same tracepoints %.3fs (%.2fx); gosysdig adds %.0f%% to it",
			floor.Seconds(), floor.Seconds()/minUn.Seconds(), 100*(minTr.Seconds()/floor.Seconds()-1))
		b.ReportMetric(floor.Seconds()/minUn.Seconds(), "floor-slowdown")
	}
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(drops), "drops")
	b.ReportMetric(load1(), "load1")
	b.ReportMetric(float64(others), "other-probes")
	b.Logf("load average after: %s", loadAvg())
}

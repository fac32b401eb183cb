package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Live throughput (make bench-live): a paced workload of one-byte reads and writes (two
// events per system call) traced by gosysdig for 30 s, writing a capture file (-w) at a million
// events per second and formatting text into a file at half a million, with no event dropped;
// then the ceiling, the highest rate with no drop, and what bounds it. The workload runs on a
// thread of its own, whose CPU time (the system calls and the probe's programs that run in
// them) is measured beside gosysdig's, so that the report says where the machine's two cores
// go.

// loadResult is what one paced workload did.
type loadResult struct {
	calls   uint64        // system calls made (two events each)
	elapsed time.Duration // wall time
	cpu     time.Duration // the workload thread's CPU time
}

func (l loadResult) rate() float64 { return float64(2*l.calls) / l.elapsed.Seconds() }

// syscallLoad makes rate events per second (rate/2 system calls: reads of one byte from
// /dev/zero and writes of it to /dev/null, each an enter and an exit event) for d, on a
// thread of its own. Every millisecond or so it makes the calls the clock says are due, so
// the rate holds however long the sleeps between batches last, unless the thread cannot keep
// up (then the rate it reached says so).
func syscallLoad(rate int, d time.Duration) (loadResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	zero, err := syscall.Open("/dev/zero", syscall.O_RDONLY, 0)
	if err != nil {
		return loadResult{}, err
	}
	defer syscall.Close(zero)
	null, err := syscall.Open(os.DevNull, syscall.O_WRONLY, 0)
	if err != nil {
		return loadResult{}, err
	}
	defer syscall.Close(null)
	var buf [1]byte
	var n uint64
	cpu0 := threadCPU()
	start := time.Now()
	for time.Since(start) < d {
		due := uint64(time.Since(start).Seconds() * float64(rate) / 2)
		for n < due {
			syscall.Read(zero, buf[:])
			syscall.Write(null, buf[:])
			n += 2
		}
		time.Sleep(time.Millisecond)
	}
	return loadResult{calls: n, elapsed: time.Since(start), cpu: threadCPU() - cpu0}, nil
}

// threadCPU is the calling thread's CPU time, user and system.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func liveDuration() time.Duration {
	if v, err := time.ParseDuration(os.Getenv("BENCH_LIVE_SUSTAINED")); err == nil && v > 0 {
		return v
	}
	return 30 * time.Second
}

// tracedRun runs the workload at rate for d under gosysdig started with args (stdout to out),
// waits until gosysdig has read everything, stops it and returns both sides.
func tracedRun(b *testing.B, bin, out string, rate int, d time.Duration, args ...string) (loadResult, liveStats) {
	b.Helper()
	r := startLiveTo(b, bin, out, args...)
	res, err := syscallLoad(rate, d)
	if err != nil {
		r.stop(b)
		b.Fatal(err)
	}
	r.waitDrained(b)
	return res, r.stop(b)
}

// untracedCost is the workload thread's CPU time per system call with no tracer: the
// baseline the traced runs are compared with.
func untracedCost(b *testing.B) time.Duration {
	res, err := syscallLoad(1_000_000, 3*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	return res.cpu / time.Duration(max(res.calls, 1))
}

func reportRun(b *testing.B, name string, rate int, base time.Duration, res loadResult, st liveStats, size int64) {
	b.Helper()
	perCall := res.cpu / time.Duration(max(res.calls, 1))
	seen := float64(st.events+st.drops) / st.elapsed
	b.Logf("%s: asked %d events/s, workload made %.0f events/s for %.1fs; gosysdig: driver events %d, drops %d, captured %d, "+
		"%.0f events/s whole machine, %.0f ns of CPU per event (%.0f%% of a core); workload CPU per system call %v traced, %v untraced (%.2fx); output %d MB; load %s",
		name, rate, res.rate(), res.elapsed.Seconds(), st.events, st.drops, st.captured, seen,
		float64(st.cpu.Nanoseconds())/float64(max(st.captured, 1)), 100*st.cpu.Seconds()/st.elapsed, perCall, base,
		float64(perCall)/float64(max(base, 1)), size>>20, loadAvg())
}

// benchLiveSustained: -w to a file at 1M events/s and text to a file at 500k events/s, each for
// 30 s (BENCH_LIVE_SUSTAINED), with no drop and every event read.
func benchLiveSustained(b *testing.B, bin string) {
	d := liveDuration()
	base := untracedCost(b)
	b.Logf("load average before: %s; untraced workload: %v of CPU per system call", loadAvg(), base)
	for i := 0; i < b.N; i++ {
		for _, c := range []struct {
			name string
			rate int
			text bool
		}{
			{"write", 1_000_000, false},
			{"text", 500_000, true},
		} {
			dir := b.TempDir()
			out, capFile := filepath.Join(dir, "out.txt"), filepath.Join(dir, "live.scap")
			var args []string
			if !c.text {
				args = []string{"-w", capFile}
			}
			res, st := tracedRun(b, bin, out, c.rate, d, args...)
			size := fileSize(out) + fileSize(capFile)
			reportRun(b, c.name, c.rate, base, res, st, size)
			if res.rate() < 0.97*float64(c.rate) {
				b.Errorf("%s: the workload made only %.0f of the %d events/s asked (the machine is busy?)", c.name, res.rate(), c.rate)
			}
			if st.drops != 0 {
				b.Errorf("%s: %d events dropped at %d events/s", c.name, st.drops, c.rate)
			}
			if missing, ok := st.undrained(); !ok {
				b.Errorf("%s: gosysdig did not read %d of the %d events sent", c.name, missing, st.events)
			}
			b.ReportMetric(res.rate(), c.name+"-events/s")
			b.ReportMetric(float64(st.drops), c.name+"-drops")
			os.Remove(capFile)
			os.Remove(out)
		}
	}
	b.ReportMetric(load1(), "load1")
	b.Logf("load average after: %s", loadAvg())
}

// benchLiveCeiling raises the -w rate in steps of 10 s until events are dropped or the
// workload cannot make the rate asked, and reports the highest rate with no drop and what
// stopped it.
func benchLiveCeiling(b *testing.B, bin string) {
	base := untracedCost(b)
	best := 0.0
	for rate := 1_000_000; rate <= 4_000_000; rate += 250_000 {
		dir := b.TempDir()
		res, st := tracedRun(b, bin, os.DevNull, rate, 10*time.Second, "-w", filepath.Join(dir, "c.scap"))
		reportRun(b, "ceiling step", rate, base, res, st, fileSize(filepath.Join(dir, "c.scap")))
		os.Remove(filepath.Join(dir, "c.scap"))
		switch {
		case st.drops > 0:
			b.Logf("ceiling: %.0f events/s with no drop; at %d asked, %d dropped: the reader (%.0f%% of a core) fell behind the probe",
				best, rate, st.drops, 100*st.cpu.Seconds()/st.elapsed)
			b.ReportMetric(best, "ceiling-events/s")
			return
		case res.rate() < 0.97*float64(rate):
			b.Logf("ceiling: %.0f events/s with no drop; at %d asked the workload itself made only %.0f: the machine's two cores are spent "+
				"(workload thread with the probe's programs %.0f%% of a core, gosysdig %.0f%%)",
				res.rate(), rate, res.rate(), 100*res.cpu.Seconds()/res.elapsed.Seconds(), 100*st.cpu.Seconds()/st.elapsed)
			b.ReportMetric(res.rate(), "ceiling-events/s")
			return
		}
		best = res.rate()
	}
	b.ReportMetric(best, "ceiling-events/s")
}

// benchLiveOverload shows that drops are counted when the consumer cannot keep up: a 16 KiB
// ring and an unpaced dd (several million events/s); whatever the probe did put in the ring
// is still read.
func benchLiveOverload(b *testing.B, bin string) {
	r := startLive(b, bin, "--ring-bytes", strconv.Itoa(16<<10))
	timeDD(b)
	r.waitDrained(b)
	st := r.stop(b)
	b.Logf("overload (16 KiB ring, unpaced dd): driver events %d, drops %d, captured %d", st.events, st.drops, st.captured)
	if st.drops == 0 {
		b.Errorf("overload run: no drop counted (driver events %d)", st.events)
	}
	if missing, ok := st.undrained(); !ok {
		b.Errorf("overload run: gosysdig did not read %d of the %d events sent", missing, st.events)
	}
	b.ReportMetric(float64(st.drops), "overload-drops")
	b.ReportMetric(float64(st.events), "overload-events")
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

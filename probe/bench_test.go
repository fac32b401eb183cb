package probe

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

const ddCmd = "dd if=/dev/zero of=/dev/null bs=1 count=1000000 2>/dev/null; echo done\n"

// ddShell is a shell that runs dd on request. It is started before the
// probe is loaded so that, while the probe ignores the benchmark process
// and its descendants, the shell's dd is traced.
type ddShell struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startDDShell(tb testing.TB) *ddShell {
	tb.Helper()
	cmd := exec.Command("/bin/sh")
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return &ddShell{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

func (d *ddShell) run(tb testing.TB) time.Duration {
	start := time.Now()
	if _, err := io.WriteString(d.in, ddCmd); err != nil {
		tb.Fatal(err)
	}
	if line, err := d.out.ReadString('\n'); err != nil || line != "done\n" {
		tb.Fatalf("dd shell: %q %v", line, err)
	}
	return time.Since(start)
}

func (d *ddShell) close() {
	d.in.Close()
	d.cmd.Wait()
}

// loadWithDD starts a dd shell, then loads the probe with opts, ignoring
// the test process (the shell, started first, is traced); both are closed
// when the test ends.
func loadWithDD(t *testing.T, opts Options) (*ddShell, *Probe) {
	t.Helper()
	sh := startDDShell(t)
	t.Cleanup(sh.close)
	opts.IgnoreTgid = uint32(os.Getpid())
	p, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return sh, p
}

// BenchmarkDD runs dd (2M syscalls) untraced and traced with every event
// read, and reports the slowdown ratio, the events read and the drops.
func BenchmarkDD(b *testing.B) {
	needRoot(b)
	sh := startDDShell(b)
	defer sh.close()

	var untraced time.Duration
	for i := 0; i < 2; i++ { // warm up page cache and the shell
		untraced = sh.run(b)
	}

	p, err := Load(Options{RingBytes: 8 << 20, IgnoreTgid: uint32(os.Getpid())})
	if err != nil {
		b.Fatalf("Load: %v", err)
	}
	var read atomic.Uint64
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := p.Next(); err != nil {
				done <- err
				return
			}
			read.Add(1)
		}
	}()

	b.ResetTimer()
	var traced time.Duration
	for i := 0; i < b.N; i++ {
		traced += sh.run(b)
	}
	b.StopTimer()
	time.Sleep(50 * time.Millisecond) // let the reader drain
	_, drops, err := p.Stats()
	if err != nil {
		b.Fatal(err)
	}
	p.Close()
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		b.Fatalf("reader: %v", err)
	}
	per := traced / time.Duration(b.N)
	b.ReportMetric(per.Seconds()/untraced.Seconds(), "slowdown")
	b.ReportMetric(untraced.Seconds(), "untraced-s")
	b.ReportMetric(per.Seconds(), "traced-s")
	b.ReportMetric(float64(read.Load())/float64(b.N), "events/op")
	b.ReportMetric(float64(drops), "drops")
}

// TestNextAllocs checks the per-event path allocates nothing once the
// reader's buffer has grown.
func TestNextAllocs(t *testing.T) {
	needRoot(t)
	sh, p := loadWithDD(t, Options{})
	if _, err := io.WriteString(sh.in, ddCmd); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200000; i++ { // warm up: grow the buffers and queues
		if _, _, err := p.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(10000, func() {
		if _, _, err := p.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %.2f times per event", allocs)
	}
}

// TestLiveDropsCounted fills a tiny ring buffer without reading it and
// checks that failed reservations are counted, then that reading resumes.
func TestLiveDropsCounted(t *testing.T) {
	needRoot(t)
	sh, p := loadWithDD(t, Options{RingBytes: 16 << 10})
	sh.run(t) // 2M syscalls into a 16 KiB ring nobody reads
	events, drops, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, dropped %d", events, drops)
	if drops == 0 || events == 0 {
		t.Fatalf("sent %d, dropped %d: want both > 0", events, drops)
	}
	for i := 0; i < 10; i++ {
		if _, ev, err := p.Next(); err != nil {
			t.Fatal(err)
		} else if _, err := decodeEvent(0, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkProbeCost measures the probe's own per-event cost: the kernel's
// BPF run-time statistics (enabled for the benchmark only) of sys_enter and
// sys_exit, tail-called fillers included, while dd runs traced with every
// event read ("all") or with every event type disabled ("masked", the cost
// of the dispatch prologue alone).
func BenchmarkProbeCost(b *testing.B) {
	needRoot(b)
	for _, tc := range []struct {
		name  string
		types []bool
	}{{"all", nil}, {"masked", make([]bool, MaxEventID)}} {
		b.Run(tc.name, func(b *testing.B) {
			sh := startDDShell(b)
			defer sh.close()
			stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
			if err != nil {
				b.Skipf("BPF run-time statistics: %v", err)
			}
			defer stats.Close()
			p, err := Load(Options{RingBytes: 8 << 20, IgnoreTgid: uint32(os.Getpid()), EventTypes: tc.types})
			if err != nil {
				b.Fatalf("Load: %v", err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, _, err := p.Next(); err != nil {
						return
					}
				}
			}()
			for i := 0; i < b.N; i++ {
				sh.run(b)
			}
			for _, pr := range []struct {
				name string
				prog *ebpf.Program
			}{{"enter", p.objs.SysEnter}, {"exit", p.objs.SysExit}} {
				st, err := pr.prog.Stats()
				if err != nil {
					b.Fatal(err)
				}
				if st.RunCount > 0 {
					b.ReportMetric(float64(st.Runtime.Nanoseconds())/float64(st.RunCount), "ns/"+pr.name)
				}
			}
			p.Close()
			<-done
		})
	}
}

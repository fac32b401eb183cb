package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
	"github.com/gosysdig/gosysdig/state"
)

// replayCase is one command line both tools run on the big capture.
type replayCase struct {
	name   string
	filter string   // "" = no filter
	chisel []string // -c NAME [ARG]: nil = no chisel
	// anyOrder compares only the value column (each line's first field) of the outputs,
	// sorted: sysdig's table chisels sort with LuaJIT's unstable table.sort, so rows with
	// equal values come in an order of their own, and which of them make the top N cut too.
	anyOrder bool
}

// chiselCases are the stock table chisels of issue 16, each a `-c` run on the big capture.
var chiselCases = func() []replayCase {
	var cs []replayCase
	for _, c := range [][]string{
		{"topscalls"}, {"topscalls_time"}, {"topprocs_cpu"}, {"topprocs_file"}, {"topprocs_net"},
		{"topfiles_bytes"}, {"topfiles_time"}, {"topconns"}, {"topports_server"},
		{"fdbytes_by", "proc.name"}, {"fdcount_by", "proc.name"}, {"fdtime_by", "proc.name"},
		{"spy_users"}, {"echo_fds"}, {"netstat"}, {"ps"}, {"lsof"},
	} {
		cs = append(cs, replayCase{name: "chisel_" + c[0], chisel: c,
			anyOrder: c[0] == "topscalls" || c[0] == "topprocs_cpu"})
	}
	return cs
}()

var replayCases = []replayCase{
	// On the cat_write.scap rounds this keeps 3 of every 84 events (3.6%):
	// the open exit and the close enter/exit of /lib/x86_64-linux-gnu/libc.so.6.
	// The plain `proc.name=cat and evt.type in (open,openat,close)` would
	// keep 20 of 84 (24%), too many to measure filtering rather than output.
	{name: "filter", filter: "proc.name=cat and evt.type in (open,openat,close) and fd.name contains libc"},
	// The default format, every event shown (~1M lines).
	{name: "default"},
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// gosysdigBinary builds ./cmd/gosysdig once per test process into a private
// temp dir (removed by TestMain).
func gosysdigBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "gosysdig-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		buildBin = filepath.Join(dir, "gosysdig")
		cmd := exec.Command(goTool, "build", "-o", buildBin, "../cmd/gosysdig")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gosysdig: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildBin
}

var binDir string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(rusageHelper(os.Args[1:]))
	}
	code := m.Run()
	printRatios(os.Stdout)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// helperEnv makes the test binary act as rusageHelper instead of running
// tests.
const helperEnv = "GOSYSDIG_BENCH_RUSAGE_HELPER"

// rusageHelper runs argv with the helper's stdin/stdout/stderr and writes
// "wall_ns maxrss_kib" to fd 3, returning argv's exit code.
//
// Why a helper process: Go starts children with clone(CLONE_VM|CLONE_VFORK),
// so at exec the kernel records the hiwater RSS of the *parent's* address
// space as the child's ru_maxrss floor (fs/exec.c setmax_mm_hiwater_rss).
// Measured straight from the benchmark process, whose own RSS peaks at tens
// of MB, both tools would report max(test process peak, own peak). The
// helper is a fresh small process, so its floor stays below either tool's
// real peak.
func rusageHelper(argv []string) int {
	report := os.NewFile(3, "report")
	if len(argv) == 0 || report == nil {
		fmt.Fprintln(os.Stderr, "rusage helper: no command")
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rss, cpu int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss // KiB on Linux
			cpu = ru.Utime.Nano() + ru.Stime.Nano()
		}
	}
	fmt.Fprintf(report, "%d %d %d\n", wall.Nanoseconds(), rss, cpu)
	report.Close()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "rusage helper:", err)
		return 2
	}
	return 0
}

// runResult is what one replay process cost.
type runResult struct {
	wall   time.Duration
	cpu    time.Duration // user+sys: less skewed than wall by other load on a shared machine
	maxRSS int64         // KiB
}

// replay runs bin -r capPath [filter] with TZ=UTC, stdout to outPath,
// through rusageHelper, and returns the tool's own wall time and peak RSS.
func replay(tb testing.TB, bin, capPath string, tc replayCase, outPath string) runResult {
	tb.Helper()
	out, err := os.Create(outPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	args := []string{bin, "-r", capPath}
	if tc.chisel != nil {
		args = append(append(args, "-c"), tc.chisel...)
	}
	if tc.filter != "" {
		args = append(args, tc.filter)
	}
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer pr.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", helperEnv+"=1")
	cmd.Stdout = out
	cmd.Stderr = &stderr
	cmd.ExtraFiles = []*os.File{pw} // fd 3 in the helper
	err = cmd.Start()
	pw.Close()
	if err != nil {
		tb.Fatal(err)
	}
	rep, rerr := io.ReadAll(pr)
	err = cmd.Wait()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var wallNS, rss, cpuNS int64
	if _, serr := fmt.Sscanf(string(rep), "%d %d %d", &wallNS, &rss, &cpuNS); rerr != nil || serr != nil {
		tb.Fatalf("%s: bad rusage report %q: %v %v", strings.Join(args, " "), rep, rerr, serr)
	}
	return runResult{wall: time.Duration(wallNS), cpu: time.Duration(cpuNS), maxRSS: rss}
}

// firstDiff compares two files line by line and describes the first
// difference, or returns "" when they are byte-identical.
func firstDiff(a, b string) (string, error) {
	fa, err := os.Open(a)
	if err != nil {
		return "", err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return "", err
	}
	defer fb.Close()
	ra, rb := bufio.NewReaderSize(fa, 1<<20), bufio.NewReaderSize(fb, 1<<20)
	for line := 1; ; line++ {
		la, ea := ra.ReadBytes('\n')
		lb, eb := rb.ReadBytes('\n')
		if ea != nil && ea != io.EOF {
			return "", ea
		}
		if eb != nil && eb != io.EOF {
			return "", eb
		}
		if !bytes.Equal(la, lb) {
			return fmt.Sprintf("first difference at line %d:\n  gosysdig: %q\n  sysdig:   %q", line, la, lb), nil
		}
		if ea == io.EOF || eb == io.EOF {
			return "", nil // equal, both at EOF
		}
	}
}

// BenchmarkReplay runs `gosysdig -r` and `sysdig -r` on the ~1M event
// capture with the default format, a filter and every stock table chisel of
// issue 16 (`-c NAME`), checks the outputs are identical, and reports CPU
// time (user+sys, best of replayRepeats), wall time and peak RSS of both, and
// gosysdig's CPU time as a ratio of sysdig's from the same run. ns/op is
// gosysdig's CPU time. TestMain prints the ratio table at the end.
//
// Targets: ratio <= 1.0 for every case (issue 16; goal 0.5), gosysdig_maxrss_MB <= 40.
func BenchmarkReplay(b *testing.B) {
	sysdig, err := exec.LookPath("sysdig")
	if err != nil {
		skipOrFail(b, "sysdig not installed (apt-get install -y sysdig): "+err.Error())
	}
	info := bigCapture(b)
	bin := gosysdigBinary(b)
	for _, tc := range append(append([]replayCase(nil), replayCases...), chiselCases...) {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			gOut, sOut := filepath.Join(dir, "gosysdig.out"), filepath.Join(dir, "sysdig.out")
			var g, s runResult
			b.StopTimer() // ns/op is set below to gosysdig's best CPU time
			for i := 0; i < b.N; i++ {
				gi, si := bestOf(b, bin, sysdig, info.Path, tc, gOut, sOut)
				g.wall += gi.wall
				g.cpu += gi.cpu
				g.maxRSS = max(g.maxRSS, gi.maxRSS)
				s.wall += si.wall
				s.cpu += si.cpu
				s.maxRSS = max(s.maxRSS, si.maxRSS)
			}
			n := float64(b.N)
			gc, sc := g.cpu.Seconds()/n, s.cpu.Seconds()/n
			b.ReportMetric(gc*1e9, "ns/op")
			b.ReportMetric(gc, "gosysdig_cpu_s")
			b.ReportMetric(sc, "sysdig_cpu_s")
			b.ReportMetric(g.wall.Seconds()/n, "gosysdig_wall_s")
			b.ReportMetric(s.wall.Seconds()/n, "sysdig_wall_s")
			ratio := 0.0
			if sc > 0 {
				ratio = gc / sc
			}
			b.ReportMetric(ratio, "ratio")
			b.ReportMetric(float64(g.maxRSS)/1024, "gosysdig_maxrss_MB")
			b.ReportMetric(float64(s.maxRSS)/1024, "sysdig_maxrss_MB")
			recordRatio(tc.name, gc, sc, ratio)
		})
	}
}

// ratioRow is one line of the table TestMain prints after the benchmarks.
type ratioRow struct {
	name           string
	gosysdig, sysd float64 // CPU seconds
	ratio          float64
}

var (
	ratioMu   sync.Mutex
	ratioRows []ratioRow
)

func recordRatio(name string, g, s, ratio float64) {
	ratioMu.Lock()
	defer ratioMu.Unlock()
	for i := range ratioRows {
		if ratioRows[i].name == name { // b.Run calls the function again with a larger b.N
			ratioRows[i] = ratioRow{name, g, s, ratio}
			return
		}
	}
	ratioRows = append(ratioRows, ratioRow{name, g, s, ratio})
}

// printRatios writes the gosysdig/sysdig table of the run, or says that nothing was measured.
func printRatios(w io.Writer) {
	ratioMu.Lock()
	defer ratioMu.Unlock()
	if len(ratioRows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-28s %12s %12s %7s\n", "case (same capture, same run)", "gosysdig cpu", "sysdig cpu", "ratio")
	slower := 0
	for _, r := range ratioRows {
		mark := ""
		if r.ratio > 1 {
			mark = "  slower than sysdig"
			slower++
		}
		fmt.Fprintf(w, "%-28s %11.2fs %11.2fs %6.2fx%s\n", r.name, r.gosysdig, r.sysd, r.ratio, mark)
	}
	fmt.Fprintf(w, "%d of %d cases slower than sysdig 0.29.3 (CPU time user+sys, best of %d alternating runs)\n",
		slower, len(ratioRows), replayRepeats)
}

// replayRepeats is how many times each tool runs per benchmark iteration.
// The runs alternate between the tools and the fastest of each is kept, so
// a busy machine (shared CI runners, 2 cores) skews the ratio less than a
// single run would; peak RSS is the largest seen.
const replayRepeats = 3

// bestOf runs gosysdig and sysdig replayRepeats times each, alternating,
// checks their outputs of the first round are identical, and returns the
// fastest CPU and wall time and the largest peak RSS of each.
func bestOf(b *testing.B, bin, sysdig, capPath string, tc replayCase, gOut, sOut string) (g, s runResult) {
	b.Helper()
	for rep := 0; rep < replayRepeats; rep++ {
		gr := replay(b, bin, capPath, tc, gOut)
		sr := replay(b, sysdig, capPath, tc, sOut)
		if rep == 0 {
			cmp := firstDiff
			if tc.anyOrder {
				cmp = sortedDiff
			}
			diff, err := cmp(gOut, sOut)
			if err != nil {
				b.Fatal(err)
			}
			if diff != "" {
				b.Fatalf("outputs differ (%s, %s): %s", filepath.Base(capPath), tc.name, diff)
			}
			g, s = gr, sr
			continue
		}
		g.wall, g.cpu, g.maxRSS = min(g.wall, gr.wall), min(g.cpu, gr.cpu), max(g.maxRSS, gr.maxRSS)
		s.wall, s.cpu, s.maxRSS = min(s.wall, sr.wall), min(s.cpu, sr.cpu), max(s.maxRSS, sr.maxRSS)
	}
	return g, s
}

// sortedDiff compares the files' first fields of every line, sorted: the same values in any
// order (the rows of tied values may name different keys).
func sortedDiff(a, b string) (string, error) {
	la, err := os.ReadFile(a)
	if err != nil {
		return "", err
	}
	lb, err := os.ReadFile(b)
	if err != nil {
		return "", err
	}
	sa, sb := firstFields(string(la)), firstFields(string(lb))
	sort.Strings(sa)
	sort.Strings(sb)
	for i := 0; i < len(sa) || i < len(sb); i++ {
		x, y := "", ""
		if i < len(sa) {
			x = sa[i]
		}
		if i < len(sb) {
			y = sb[i]
		}
		if x != y {
			return fmt.Sprintf("value columns differ (sorted line %d):\n  gosysdig: %q\n  sysdig:   %q", i+1, x, y), nil
		}
	}
	return "", nil
}

// BenchmarkPipeline runs the in-process replay pipeline of
// cmd/gosysdig/root.go's run() (capture reader -> state.Inspector.Process ->
// filter.Match -> output.Formatter.Format) over the capture, writing to
// io.Discard, so CPU and allocations per event can be profiled without exec:
//
//	go test -run '^$' -bench Pipeline -benchtime 1x -cpuprofile cpu.out -memprofile mem.out ./bench/
func BenchmarkPipeline(b *testing.B) {
	info := bigCapture(b)
	for _, tc := range replayCases {
		b.Run(tc.name, func(b *testing.B) {
			var flt *filter.Filter
			if tc.filter != "" {
				var err error
				if flt, err = filter.Compile(tc.filter); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			var read, shown int64
			for i := 0; i < b.N; i++ {
				r, s, err := pipeline(info.Path, flt, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				read += r
				shown += s
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			if read == 0 {
				b.Fatal("no events read")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/event")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(read), "allocs/event")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(read), "B/event")
			b.ReportMetric(float64(shown)/float64(b.N), "shown/op")
		})
	}
}

// pipeline mirrors the event loop of run() in cmd/gosysdig/root.go for the
// default options (normal buffers, default format, MaxLen 80, no -n, -D).
func pipeline(path string, flt *filter.Filter, w io.Writer) (read, shown int64, err error) {
	formatter, err := output.New("", false)
	if err != nil {
		return 0, 0, err
	}
	r, err := capture.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	in := state.New()
	in.LoadHeader(r.Header())
	bw := bufio.NewWriterSize(w, 256<<10)
	defer bw.Flush()
	ctx := &fields.Ctx{In: in, Buf: event.BufNormal, MaxLen: 80}
	var ev event.Event
	ctx.Ev = &ev
	leading := true
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			break
		}
		if errors.Is(err, capture.ErrNewSection) {
			in.Reset()
			in.LoadHeader(r.Header())
			continue
		}
		if err != nil {
			return read, shown, err
		}
		in.Process(&ev)
		read++
		if ctx.FirstTS == 0 {
			ctx.FirstTS = ev.TS
		}
		isContainer := ev.Type == 228 || ev.Type == 272 || ev.Type == 324
		if leading && isContainer {
			continue
		}
		if !isContainer {
			leading = false
		}
		if ev.DumpFlags&1 != 0 {
			continue
		}
		if ev.Info.Category&event.ECInternal != 0 {
			continue
		}
		if flt != nil && (!flt.MayMatch(ev.Type) || !flt.Match(ctx)) {
			continue
		}
		line, ok := formatter.Format(ctx)
		if !ok {
			continue
		}
		bw.Write(line)
		ctx.PrevTS = ev.TS
		shown++
	}
	return read, shown, nil
}

func firstFields(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 {
			lines[i] = f[0]
		} else {
			lines[i] = ""
		}
	}
	return lines
}

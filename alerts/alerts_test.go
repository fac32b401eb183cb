package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/rules"
)

func testAlert(i int) *rules.Alert {
	return &rules.Alert{Time: time.Unix(1700000000, int64(i)), Rule: "r", Priority: rules.PriorityWarning,
		Source: "syscall", Tags: []string{"b", "a"}, Output: fmt.Sprintf("alert %d", i),
		Fields: []byte(fmt.Sprintf(`{"n":%d}`, i))}
}

func quiet(string, ...any) {}

// checkBalance: for every output, delivered + lost = raised.
func checkBalance(t *testing.T, stats []Stats) {
	t.Helper()
	for _, st := range stats {
		t.Log(st)
		if st.Delivered+st.Lost() != st.Raised {
			t.Errorf("%s: delivered %d + lost %d != raised %d", st.Output, st.Delivered, st.Lost(), st.Raised)
		}
	}
}

// stuckOutput blocks every write until its context ends.
type stuckOutput struct{ writes atomic.Int64 }

func (o *stuckOutput) Name() string { return "stuck" }
func (o *stuckOutput) Write(ctx context.Context, a *rules.Alert) error {
	o.writes.Add(1)
	<-ctx.Done()
	return ctx.Err()
}
func (o *stuckOutput) Flush(context.Context) error { return nil }
func (o *stuckOutput) Close(context.Context) error { return nil }

// memOutput keeps what it gets.
type memOutput struct {
	mu  sync.Mutex
	got []*rules.Alert
}

func (o *memOutput) Name() string { return "memory" }
func (o *memOutput) Write(ctx context.Context, a *rules.Alert) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, a)
	return nil
}
func (o *memOutput) Flush(context.Context) error { return nil }
func (o *memOutput) Close(context.Context) error { return nil }

// A stuck output neither holds up Send nor Close, the other outputs get every alert, the
// stuck one's losses are counted and announced by the per-second drop alert.
func TestStuckOutputNeverBlocks(t *testing.T) {
	stuck, mem := &stuckOutput{}, &memOutput{}
	d := New([]Output{stuck, mem}, Options{QueueCapacity: 100, DropAlerts: true, WriteTimeout: time.Hour}, "h", quiet)
	start := time.Now()
	const n = 20000
	for i := 0; i < n; i++ {
		d.Send(testAlert(i))
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("sending %d alerts took %v", n, took)
	}
	time.Sleep(1200 * time.Millisecond) // one drop alert
	start = time.Now()
	stats := d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	checkBalance(t, stats)
	if stats[0].Delivered != 0 || stats[0].Dropped < n-101 {
		t.Errorf("stuck output: %v", stats[0])
	}
	if stats[1].Delivered == 0 || stats[1].Raised < n+1 {
		t.Errorf("memory output: %v", stats[1])
	}
	var drop *rules.Alert
	for _, a := range mem.got {
		if a.Rule == OutputsDropRule {
			drop = a
		}
	}
	if drop == nil {
		t.Fatal("no drop alert")
	}
	t.Logf("drop alert: %s %s", drop.Output, drop.Fields)
	var f map[string]string
	if err := json.Unmarshal(drop.Fields, &f); err != nil || f["output.stuck"] == "" {
		t.Errorf("drop alert fields %s: %v", drop.Fields, err)
	}
}

// flakyServer is an HTTP receiver on 127.0.0.1 that can be stopped and started on the same
// port, and answers after delay.
type flakyServer struct {
	addr  string
	delay time.Duration
	mu    sync.Mutex
	srv   *http.Server
	got   atomic.Int64
	body  atomic.Value
}

func (s *flakyServer) start(t *testing.T) {
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(s.delay)
		s.body.Store(b)
		s.got.Add(1)
	})}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

func (s *flakyServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv.Close()
}

// An HTTP receiver down then back gets the alerts its queue held; the rest are counted.
func TestHTTPDownThenBack(t *testing.T) {
	srv := &flakyServer{}
	srv.start(t)
	srv.stop()
	h := NewHTTPOutput("http://"+srv.addr+"/", "host1", time.Second)
	d := New([]Output{h}, Options{QueueCapacity: 50}, "host1", quiet)
	for i := 0; i < 200; i++ {
		d.Send(testAlert(i))
	}
	time.Sleep(1500 * time.Millisecond) // down: retried with backoff
	if srv.got.Load() != 0 {
		t.Fatal("delivered while down")
	}
	srv.start(t)
	defer srv.stop()
	deadline := time.Now().Add(5 * time.Second)
	for srv.got.Load() < 51 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stats := d.Close()
	checkBalance(t, stats)
	st := stats[0]
	// 50 queued (and the one being retried, if the worker took it before the queue filled);
	// the rest did not fit.
	if st.Delivered < 50 || st.Delivered > 51 || st.Dropped != 200-st.Delivered || srv.got.Load() != st.Delivered {
		t.Errorf("%v; receiver got %d", st, srv.got.Load())
	}
	var a map[string]any
	if err := json.Unmarshal(srv.body.Load().([]byte), &a); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "rule", "priority", "output", "output_fields", "source", "tags", "hostname"} {
		if _, ok := a[k]; !ok {
			t.Errorf("Falco's JSON field %q missing: %v", k, a)
		}
	}
}

// A receiver that never answers: requests time out, Close ends at once, everything counted.
func TestHTTPNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never read nor answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	d := New([]Output{NewHTTPOutput("http://"+ln.Addr().String()+"/", "h", 300*time.Millisecond)},
		Options{QueueCapacity: 10}, "h", quiet)
	for i := 0; i < 100; i++ {
		d.Send(testAlert(i))
	}
	time.Sleep(time.Second)
	start := time.Now()
	stats := d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	checkBalance(t, stats)
	if stats[0].Delivered != 0 || stats[0].Unsent < 10 || stats[0].Unsent > 11 || stats[0].Dropped+stats[0].Unsent != 100 {
		t.Errorf("%v", stats[0])
	}
}

// A program that stops reading after one line: its output ends, the alerts it did not take
// are counted, Close is bounded.
func TestProgramHeadOne(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	p := NewProgramOutput("head -1 >> "+f, Format{}, io.Discard)
	d := New([]Output{p}, Options{QueueCapacity: 100000}, "h", quiet)
	const n = 5000
	for i := 0; i < n; i++ {
		d.Send(testAlert(i))
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	stats := d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	checkBalance(t, stats)
	b, _ := os.ReadFile(f)
	lines := bytes.Count(b, []byte("\n"))
	// head reads ahead and discards what it read: the alerts written before it exited are not
	// confirmed, so they count as lost (the one line it wrote among them).
	if lines != 1 || stats[0].Lost() < n-1 {
		t.Errorf("%v; the program wrote %d line(s)", stats[0], lines)
	}
}

// A program that never reads: writes time out, Close kills it within its bound.
func TestProgramNeverReads(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := NewProgramOutput("echo $$ > "+pidFile+"; exec sleep 1000", Format{}, io.Discard)
	d := New([]Output{p}, Options{QueueCapacity: 1000, WriteTimeout: 200 * time.Millisecond}, "h", t.Logf)
	for i := 0; i < 5000; i++ {
		d.Send(testAlert(i))
		if i%1000 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	start := time.Now()
	stats := d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	checkBalance(t, stats)
	if stats[0].Lost() < 3000 {
		t.Errorf("%v", stats[0])
	}
	b, _ := os.ReadFile(pidFile)
	var pid int
	fmt.Sscan(strings.TrimSpace(string(b)), &pid)
	time.Sleep(100 * time.Millisecond)
	if pid <= 0 {
		t.Fatalf("no pid: %q", b)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); !strings.Contains(string(st), ") Z") {
			t.Errorf("the program (pid %d) still runs after Close", pid)
		}
	}
}

// A stdout that is never read (a full pipe) does not hold up Close.
func TestBlockedWriterOutput(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	d := New([]Output{NewWriterOutput("stdout", w, Format{JSON: true, Hostname: "h"})},
		Options{QueueCapacity: 100, WriteTimeout: time.Hour}, "h", quiet)
	for i := 0; i < 10000; i++ {
		d.Send(testAlert(i))
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	stats := d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	checkBalance(t, stats)
	if stats[0].Lost() == 0 {
		t.Errorf("%v", stats[0])
	}
}

// A file output refuses a symbolic link planted at its path and creates the file 0600.
func TestFileOutputNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if _, err := OpenFileOutput(link, Format{}); err == nil {
		t.Error("a symlink was followed")
	}
	path := filepath.Join(dir, "alerts")
	o, err := OpenFileOutput(path, Format{})
	if err != nil {
		t.Fatal(err)
	}
	o.Close(context.Background())
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// slowOutput takes a millisecond per alert.
type slowOutput struct{ memOutput }

func (o *slowOutput) Write(ctx context.Context, a *rules.Alert) error {
	time.Sleep(time.Millisecond)
	return o.memOutput.Write(ctx, a)
}

// failOutput always fails.
type failOutput struct{}

func (failOutput) Name() string                              { return "fail" }
func (failOutput) Write(context.Context, *rules.Alert) error { return fmt.Errorf("broken") }
func (failOutput) Flush(context.Context) error               { return nil }
func (failOutput) Close(context.Context) error               { return nil }

// With backpressure (reading a capture), a working output gets every alert however small its
// queue; a failing one drops instead of holding the sender, and Close does not wait for it.
func TestBackpressure(t *testing.T) {
	slow := &slowOutput{}
	d := New([]Output{slow, failOutput{}}, Options{QueueCapacity: 10, Backpressure: true, CloseTimeout: 30 * time.Second}, "h", quiet)
	start := time.Now()
	for i := 0; i < 300; i++ {
		d.Send(testAlert(i))
	}
	stats := d.Close()
	checkBalance(t, stats)
	if stats[0].Delivered != 300 || stats[1].Delivered != 0 || stats[1].Dropped < 250 {
		t.Errorf("%v / %v", stats[0], stats[1])
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

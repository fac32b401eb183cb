package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The live alert-load tests: a shell opens one file in a loop (about 4-5k opens a second,
// each firing a rule) while `gosysdig rules` sends the alerts to an output that is slow, down
// or stuck. They check that the tracer keeps reading, that -M and SIGINT end it within 2 s,
// and that for the output delivered + lost = alerts raised.

const loadRules = `- rule: load open
  desc: the load test's opener
  condition: evt.type in (open, openat) and evt.dir=< and fd.name startswith /tmp/gosysdig-alert-load
  output: load open (file=%fd.name command=%proc.cmdline)
  priority: WARNING
`

// alertLoad opens a file ~4.5k times a second until stopped.
func alertLoad(t *testing.T) (stop func()) {
	t.Helper()
	f, err := os.CreateTemp("", "gosysdig-alert-load")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// 100 opens, then 20 ms asleep: the rate depends little on how busy the CPUs are.
	cmd := exec.Command("bash", "-c", fmt.Sprintf(`while :; do for i in {1..100}; do : < %s; done; sleep 0.02; done`, f.Name()))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			os.Remove(f.Name())
		})
	}
	t.Cleanup(stop)
	return stop
}

// loadRun is what one run of `gosysdig rules` under the alert load reported.
type loadRun struct {
	stderr       string
	eventsPerSec float64
	ruleAlerts   int64
	endAfter     time.Duration // from -M's expiry or the SIGINT to the exit
	out          map[string]outCounts
	// remeasure, on a baseline, runs it again (see check).
	remeasure func(t *testing.T) *loadRun
}

type outCounts struct{ raised, internal, delivered, lost int64 }

var (
	outLine    = regexp.MustCompile(`(?m)^gosysdig rules: output (.+): (\d+) alert\(s\) raised \((\d+) internal\), (\d+) delivered, (\d+) lost`)
	eventsLine = regexp.MustCompile(`Syscall events: (\d+) processed in ([\d.]+) s \((\d+)/s\)`)
	detected   = regexp.MustCompile(`Events detected: (\d+)`)
)

// runUnderLoad runs gosysdig rules -v with args under the alert load for about secs seconds:
// with -M secs when bySignal is false, else stopped by SIGINT after secs seconds. during, if
// set, runs once the probe is attached (and may take longer: the run then lasts as long).
func runUnderLoad(t *testing.T, bin string, secs int, bySignal bool, during func(), args ...string) *loadRun {
	return runUnderLoadTo(t, bin, secs, bySignal, during, false, args...)
}

// runUnderLoadTo is runUnderLoad, with gosysdig's stdout a pipe nobody reads when
// blockedStdout is set.
func runUnderLoadTo(t *testing.T, bin string, secs int, bySignal bool, during func(), blockedStdout bool, args ...string) *loadRun {
	t.Helper()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(rulesFile, []byte(loadRules), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready")
	all := append([]string{"rules", "-v", "-R", rulesFile}, args...)
	if !bySignal {
		all = append(all, "-M", strconv.Itoa(secs))
	}
	stop := alertLoad(t)
	defer stop()
	var cmd *exec.Cmd
	var errb *bytes.Buffer
	if blockedStdout {
		cmd, errb = startBlockedStdout(t, bin, ready, all...)
	} else {
		cmd, _, errb = startTraced(t, bin, ready, all...)
	}
	began := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if during != nil {
		during()
	}
	var endFrom time.Time
	if bySignal {
		time.Sleep(time.Until(began.Add(time.Duration(secs) * time.Second)))
		endFrom = time.Now()
		cmd.Process.Signal(syscall.SIGINT)
	} else {
		endFrom = began.Add(time.Duration(secs) * time.Second)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Until(endFrom.Add(20 * time.Second))):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("gosysdig %v still running 20 s after it should have ended:\n%s", args, errb.String())
	}
	r := &loadRun{stderr: errb.String(), endAfter: time.Since(endFrom), out: map[string]outCounts{}}
	if err != nil {
		t.Fatalf("gosysdig %v: %v\n%s", args, err, r.stderr)
	}
	if m := eventsLine.FindStringSubmatch(r.stderr); m != nil {
		r.eventsPerSec, _ = strconv.ParseFloat(m[3], 64)
	} else {
		t.Fatalf("no events line:\n%s", r.stderr)
	}
	if m := detected.FindStringSubmatch(r.stderr); m != nil {
		r.ruleAlerts, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range outLine.FindAllStringSubmatch(r.stderr, -1) {
		n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
		r.out[m[1]] = outCounts{raised: n(2), internal: n(3), delivered: n(4), lost: n(5)}
	}
	return r
}

// startBlockedStdout is startTraced with stdout a pipe that is never read.
func startBlockedStdout(t *testing.T, bin, ready string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command(bin, append([]string{"--ready-file", ready}, args...)...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return cmd, &errb
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe not ready after 30s: %s", errb.String())
		}
	}
}

// check verifies the run against the baseline: the output's counts balance, every rule alert
// was raised for it, the run ended within 2 s, and events/s did not fall by more than 25%.
func (r *loadRun) check(t *testing.T, name, output string, base *loadRun) outCounts {
	t.Helper()
	c, ok := r.out[output]
	if !ok {
		t.Fatalf("%s: no report for output %s:\n%s", name, output, r.stderr)
	}
	t.Logf("%s: %d events/s (no slow output: %.0f/s), %d rule alerts; %s: raised %d (%d internal), delivered %d, lost %d; ended %.2f s after -M/SIGINT",
		name, int(r.eventsPerSec), base.eventsPerSec, r.ruleAlerts, output, c.raised, c.internal, c.delivered, c.lost, r.endAfter.Seconds())
	if c.delivered+c.lost != c.raised {
		t.Errorf("%s: delivered %d + lost %d != raised %d", name, c.delivered, c.lost, c.raised)
	}
	if c.raised != r.ruleAlerts+c.internal {
		t.Errorf("%s: %d alerts raised for the output, but %d rule alerts and %d internal ones", name, c.raised, r.ruleAlerts, c.internal)
	}
	if r.ruleAlerts < 1000 {
		t.Errorf("%s: only %d alerts: the load did not work:\n%s", name, r.ruleAlerts, r.stderr)
	}
	if r.endAfter > 2*time.Second {
		t.Errorf("%s: ended %.2f s after -M/SIGINT, want within 2 s", name, r.endAfter.Seconds())
	}
	// Reading less would mean the output holds up the event loop: a blocked loop stops reading,
	// and the rate falls far more than the 11% a CI run saw from noise alone on 2 shared cores
	// (the rate is not a speed target: those live in make bench-live). Reading more is possible:
	// the receiver runs in this (traced) test process, and its own syscalls add events when
	// alerts flow fast (after an outage).
	if base != nil && r.eventsPerSec < minShare*base.eventsPerSec && base.remeasure != nil {
		// The machine's rate drifts over the minute the runs take (2 cores, the load, the
		// receiver and gosysdig share them): the baseline is measured again, next to this run,
		// and the run must be within 25% of that one.
		again := base.remeasure(t)
		t.Logf("%s: %.0f events/s is more than 25%% below the first baseline (%.0f/s); the baseline again: %.0f/s",
			name, r.eventsPerSec, base.eventsPerSec, again.eventsPerSec)
		base = again
	}
	if base != nil && r.eventsPerSec < minShare*base.eventsPerSec {
		t.Errorf("%s: %.0f events/s, more than 25%% below the %.0f without the slow output", name, r.eventsPerSec, base.eventsPerSec)
	}
	return c
}

// minShare is the least share of the baseline's events/s a run with a slow output must read.
const minShare = 0.75

// receiver is an HTTP receiver on 127.0.0.1 that counts the alerts it answered, answers after
// delay, and can go down and come back on the same port.
type receiver struct {
	addr  string
	delay time.Duration
	got   atomic.Int64
	mu    sync.Mutex
	srv   *http.Server
}

func (rc *receiver) up(t *testing.T) {
	t.Helper()
	addr := rc.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger a moment after going down
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rc.addr = ln.Addr().String()
	var srv *http.Server
	srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(rc.delay)
		// An alert counts as answered only if its response left while the receiver was up:
		// a request in flight when down() closes the server gets no answer (the sender sees
		// a failure), so "answered" and "delivered" stay the same count across an outage.
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.srv != srv {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		w.WriteHeader(http.StatusOK)
		if http.NewResponseController(w).Flush() == nil {
			rc.got.Add(1)
		}
	})}
	rc.mu.Lock()
	rc.srv = srv
	rc.mu.Unlock()
	go srv.Serve(ln)
	t.Cleanup(func() { rc.down() })
}

func (rc *receiver) down() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.srv != nil {
		rc.srv.Close()
		rc.srv = nil
	}
}

// answeredMatches: what the receiver answered is what gosysdig reports delivered, or one more.
// At the end gosysdig stops waiting for the request in flight (the bounded close) and counts
// that alert lost, not knowing whether it arrived: a receiver that answers it a moment later has
// one more. Counting it delivered would claim what nobody confirmed.
func answeredMatches(answered, delivered int64) bool {
	return answered == delivered || answered == delivered+1
}

func (rc *receiver) url() string { return "http://" + rc.addr + "/" }

func TestRulesLiveSlowOutputs(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	base := runUnderLoad(t, bin, 6, false, nil)
	t.Logf("baseline: %.0f events/s, %d rule alerts, ended %.2f s after -M", base.eventsPerSec, base.ruleAlerts, base.endAfter.Seconds())
	base.remeasure = func(t *testing.T) *loadRun { return runUnderLoad(t, bin, 6, false, nil) }

	t.Run("slow receiver, -M", func(t *testing.T) {
		rc := &receiver{delay: 200 * time.Millisecond}
		rc.up(t)
		r := runUnderLoad(t, bin, 6, false, nil, "--out-http", rc.url())
		c := r.check(t, "slow 0.2 s", "http "+rc.url(), base)
		if !answeredMatches(rc.got.Load(), c.delivered) || c.delivered < 10 {
			t.Errorf("receiver answered %d, %d reported delivered", rc.got.Load(), c.delivered)
		}
	})
	t.Run("slow receiver, SIGINT", func(t *testing.T) {
		rc := &receiver{delay: 200 * time.Millisecond}
		rc.up(t)
		r := runUnderLoad(t, bin, 6, true, nil, "--out-http", rc.url())
		c := r.check(t, "slow 0.2 s, SIGINT", "http "+rc.url(), base)
		if !answeredMatches(rc.got.Load(), c.delivered) {
			t.Errorf("receiver answered %d, %d reported delivered", rc.got.Load(), c.delivered)
		}
	})
	t.Run("receiver never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // held open, never answered
			}
		}()
		url := "http://" + ln.Addr().String() + "/"
		r := runUnderLoad(t, bin, 6, true, nil, "--out-http", url)
		c := r.check(t, "never answers", "http "+url, base)
		if c.delivered != 0 {
			t.Errorf("%d delivered to a receiver that never answers", c.delivered)
		}
	})
	t.Run("receiver down then back", func(t *testing.T) {
		outage := 30 * time.Second
		if s := os.Getenv("GOSYSDIG_TEST_OUTAGE"); s != "" { // shorter outages for quick runs
			d, err := time.ParseDuration(s)
			if err != nil {
				t.Fatal(err)
			}
			outage = d
		}
		rc := &receiver{}
		rc.up(t)
		const queue = 1000
		var before, atReturn int64
		during := func() {
			time.Sleep(2 * time.Second)
			rc.down()
			before = rc.got.Load()
			time.Sleep(outage)
			atReturn = rc.got.Load()
			rc.up(t)
			time.Sleep(3 * time.Second)
		}
		secs := int((outage + 6*time.Second) / time.Second)
		r := runUnderLoad(t, bin, secs, true, during, "--out-http", rc.url(), "-o", fmt.Sprintf("outputs_queue.capacity=%d", queue))
		c := r.check(t, fmt.Sprintf("down %v then back", outage), "http "+rc.url(), base)
		after := rc.got.Load() - atReturn
		t.Logf("received %d before the outage, %d during, %d after it", before, atReturn-before, after)
		if !answeredMatches(rc.got.Load(), c.delivered) {
			t.Errorf("receiver answered %d, %d reported delivered", rc.got.Load(), c.delivered)
		}
		if atReturn != before || after < queue || c.lost < r.ruleAlerts/4 {
			t.Errorf("want nothing received while down, the %d queued alerts and more after, and the rest counted lost", queue)
		}
	})
}

func TestRulesLiveProgramOutputs(t *testing.T) {
	needRoot(t)
	bin := buildBinary(t)
	base := runUnderLoad(t, bin, 5, false, nil)
	t.Run("stdout never read", func(t *testing.T) {
		r := runUnderLoadTo(t, bin, 5, true, nil, true)
		c := r.check(t, "stdout never read", "stdout", base)
		if c.lost == 0 {
			t.Error("nothing lost on a stdout nobody reads")
		}
	})
	t.Run("program never reads", func(t *testing.T) {
		prog := "exec sleep 1000"
		r := runUnderLoad(t, bin, 5, true, nil, "--out-program", prog)
		c := r.check(t, "exec sleep 1000", "program "+strconv.Quote(prog), base)
		if c.delivered != 0 {
			t.Errorf("%d alerts reported delivered to a program that never reads", c.delivered)
		}
	})
	t.Run("program reads one line", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "f")
		prog := "head -1 >> " + f
		r := runUnderLoad(t, bin, 5, true, nil, "--out-program", prog)
		c := r.check(t, "head -1", "program "+strconv.Quote(prog), base)
		b, _ := os.ReadFile(f)
		lines := int64(bytes.Count(b, []byte("\n")))
		t.Logf("head -1 wrote %d line(s) (restarted at most once a second)", lines)
		if lines < 1 || c.lost < c.raised-lines-c.delivered || c.lost < c.raised/2 {
			t.Errorf("head wrote %d lines: the losses are not counted", lines)
		}
	})
}

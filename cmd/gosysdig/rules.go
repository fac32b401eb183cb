package main

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/gosysdig/gosysdig/internal/safefile"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/rules"
	"github.com/gosysdig/gosysdig/state"
)

// rulesOptions are the flags of `gosysdig rules`, Falco's.
type rulesOptions struct {
	files        []string
	read         string
	tags         []string
	disableTags  []string
	disable      []string
	priority     string
	matching     string
	json         bool
	validate     bool
	list         bool
	duration     int
	numEvents    int64
	outFile      []string
	outSyslog    bool
	syslogSocket string
	outProgram   []string
	outHTTP      []string
	readyFile    string
	ringBytes    int
}

func newRulesCmd() *cobra.Command {
	var ro rulesOptions
	cmd := &cobra.Command{
		Use:   "rules [flags]",
		Short: "run Falco-format rules on live events or a capture and raise alerts",
		Long: "Loads Falco rules files (-R, or the built-in rules), matches every event against them " +
			"and writes an alert for each rule that fires, to stdout and/or the --out-* outputs.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRules(cmd.OutOrStdout(), cmd.ErrOrStderr(), &ro)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&ro.files, "rules", "R", nil, "rules file or folder (repeatable; default: the built-in rules)")
	f.StringVarP(&ro.read, "read", "r", "", "read events from a capture file instead of live")
	f.StringArrayVarP(&ro.tags, "tag", "t", nil, "only run rules with this tag (repeatable)")
	f.StringArrayVarP(&ro.disableTags, "disable-tag", "T", nil, "disable rules with this tag (repeatable)")
	f.StringArrayVarP(&ro.disable, "disable", "D", nil, "disable rules whose name matches this regular expression (repeatable)")
	f.StringVar(&ro.priority, "priority", "debug", "minimum priority of the rules that run")
	f.StringVar(&ro.matching, "matching", "first", "first: an event fires only its first matching rule; all: every one")
	f.BoolVarP(&ro.json, "json", "j", false, "write alerts as JSON")
	f.BoolVar(&ro.validate, "validate", false, "only load the rules: print errors and warnings, exit 1 if invalid")
	f.BoolVar(&ro.list, "list", false, "list the rules loaded")
	f.IntVarP(&ro.duration, "seconds", "M", 0, "stop a live capture after this many seconds")
	f.Int64VarP(&ro.numEvents, "numevents", "n", 0, "stop after this many events")
	f.StringArrayVar(&ro.outFile, "out-file", nil, "also append alerts to this file")
	f.BoolVar(&ro.outSyslog, "out-syslog", false, "also send alerts to syslog")
	f.StringVar(&ro.syslogSocket, "syslog-socket", "/dev/log", "unix datagram socket of syslog")
	f.StringArrayVar(&ro.outProgram, "out-program", nil, "also write alerts to the stdin of this shell command (kept running)")
	f.StringArrayVar(&ro.outHTTP, "out-http", nil, "also POST each alert as JSON to this URL")
	f.StringVar(&ro.readyFile, "ready-file", "", "write this file once the probe is attached")
	f.IntVar(&ro.ringBytes, "ring-bytes", 0, "size of the probe's ring buffer (0: default)")
	_ = f.MarkHidden("ready-file")
	addContainerFlags(cmd) // live container metadata, as the root command
	return cmd
}

func runRules(stdout, stderr io.Writer, ro *rulesOptions) error {
	if len(ro.tags) > 0 && (len(ro.disableTags) > 0 || len(ro.disable) > 0) {
		return &exitError{code: 1, msg: "-t cannot be combined with -T or -D"}
	}
	sel := rules.Selection{MatchAll: ro.matching == "all"}
	if ro.matching != "first" && ro.matching != "all" {
		return &exitError{code: 1, msg: fmt.Sprintf("--matching must be first or all, not %q", ro.matching)}
	}
	var err error
	if sel.MinPriority, err = rules.ParsePriority(ro.priority); err != nil {
		return &exitError{code: 1, msg: "--priority: " + err.Error()}
	}
	sel.Tags, sel.DisableTags = ro.tags, ro.disableTags
	for _, d := range ro.disable {
		re, err := regexp.Compile(d)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("-D %q: %v", d, err)}
		}
		sel.Disable = append(sel.Disable, re)
	}
	srcs := []rules.Source{{Name: rules.DefaultRulesName, Data: rules.DefaultRules}}
	if len(ro.files) > 0 {
		if srcs, err = rules.ReadPaths(ro.files); err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
	}
	set, loadErr := rules.Load(srcs)
	if ro.validate {
		return validateReport(stdout, srcs, set)
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if loadErr != nil {
		return &exitError{code: 1, msg: loadErr.Error()}
	}
	if ro.list {
		return listRules(stdout, set, &sel)
	}
	eng := set.NewEngine(sel)
	if len(eng.Rules) == 0 {
		fmt.Fprintln(stderr, "warning: no rules are enabled")
	}
	outs, err := openAlertOutputs(stdout, stderr, ro)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	o := &options{read: ro.read, numEvents: ro.numEvents, duration: ro.duration, readyFile: ro.readyFile,
		ringBytes: ro.ringBytes}
	p := &pipeline{o: o, in: state.New(), bw: bufio.NewWriter(io.Discard), stderr: stderr}
	p.ctx = &fields.Ctx{In: p.in, Buf: event.BufNormal, MaxLen: 80}
	rs := &rulesSink{eng: eng, outs: outs, counts: map[string]int{}}
	p.sinks = []sink{rs}
	if ro.read == "" {
		err = runLivePipeline(p, o, eng.EventTypes(), rs.drops)
	} else {
		err = runRulesCapture(p, ro.read)
	}
	rs.close()
	rs.summary(stderr)
	return err
}

func runRulesCapture(p *pipeline, path string) error {
	r, err := capture.Open(path)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	defer r.Close()
	p.in.LoadHeader(r.Header())
	return p.run(r, path, func() { p.in.Reset(); p.in.LoadHeader(r.Header()) })
}

// validateReport prints what loading found, Falco's --validate way.
func validateReport(w io.Writer, srcs []rules.Source, set *rules.Set) error {
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name
	}
	fmt.Fprintf(w, "Validating rules file(s):\n   %s\n", strings.Join(names, "\n   "))
	for _, d := range set.Errors {
		fmt.Fprintf(w, "error: %s\n", d)
	}
	for _, d := range set.Warnings {
		fmt.Fprintf(w, "warning: %s\n", d)
	}
	switch {
	case len(set.Errors) > 0:
		fmt.Fprintf(w, "Invalid: %d error(s), %d warning(s)\n", len(set.Errors), len(set.Warnings))
		return &exitError{code: 1}
	case len(set.Warnings) > 0:
		fmt.Fprintf(w, "Ok, with %d warning(s)\n", len(set.Warnings))
	default:
		fmt.Fprintln(w, "Ok")
	}
	return nil
}

func listRules(w io.Writer, set *rules.Set, sel *rules.Selection) error {
	fmt.Fprintf(w, "%-40s %-13s %-7s %s\n", "Rule", "Priority", "Enabled", "Tags")
	for _, r := range set.Rules {
		on := "no"
		if r.Active(sel) {
			on = "yes"
		}
		fmt.Fprintf(w, "%-40s %-13s %-7s %s\n", r.Name, r.Priority, on, strings.Join(r.Tags, ","))
	}
	return nil
}

// rulesSink runs the engine on every event and sends alerts to the outputs.
type rulesSink struct {
	eng    *rules.Engine
	outs   *alertOutputs
	counts map[string]int

	mu        sync.Mutex // drops() runs on the stats goroutine
	closed    bool
	lastDrops uint64
	lastEvts  uint64
}

func (s *rulesSink) Event(c *fields.Ctx) error {
	hits := s.eng.Match(c)
	for _, r := range hits {
		s.counts[r.Name]++
		s.outs.send(r.NewAlert(c))
	}
	return nil
}

func (s *rulesSink) Close() error { return nil }

// dropRule is Falco's name for the alert raised when the probe drops events; Falco sends it with
// priority Debug, and so do we.
const (
	dropRule     = "Falco internal: syscall event drop"
	dropPriority = rules.PriorityDebug
)

// drops raises Falco's syscall_event_drops alert when the probe dropped events in the last
// second; like Falco it also logs the message on stderr and is not subject to --priority.
func (s *rulesSink) drops(events, drops uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dEv, dDrops := events-s.lastEvts, drops-s.lastDrops
	s.lastEvts, s.lastDrops = events, drops
	if s.closed || dDrops == 0 {
		return
	}
	msg := fmt.Sprintf("%s. %d system calls dropped in last second.", dropRule, dDrops)
	fmt.Fprintln(s.outs.stderr, msg)
	s.outs.send(&rules.Alert{
		Time: timeNow(), Rule: dropRule, Priority: dropPriority, Source: "syscall", Tags: []string{},
		Output: msg,
		Fields: fmt.Appendf(nil, `{"ebpf_enabled":"1","n_drops":"%d","n_evts":"%d"}`, dDrops, dEv),
	})
}

func (s *rulesSink) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.outs.close()
}

// summary prints Falco's end-of-run counts (on stderr, so that stdout holds only alerts).
func (s *rulesSink) summary(w io.Writer) {
	total := 0
	byPrio := map[rules.Priority]int{}
	prio := map[string]rules.Priority{}
	for _, r := range s.eng.Rules {
		prio[r.Name] = r.Priority
	}
	var names []string
	for n, c := range s.counts {
		total += c
		byPrio[prio[n]] += c
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "Events detected: %d\nRule counts by severity:\n", total)
	for p := rules.PriorityEmergency; p <= rules.PriorityDebug; p++ {
		if byPrio[p] > 0 {
			fmt.Fprintf(w, "   %s: %d\n", strings.ToUpper(p.String()), byPrio[p])
		}
	}
	fmt.Fprintln(w, "Triggered rules by rule name:")
	for _, n := range names {
		fmt.Fprintf(w, "   %s: %d\n", n, s.counts[n])
	}
}

// --- alert outputs ---------------------------------------------------------------------------

// alertOutput is one destination of alerts. write is retried after an error; it runs on the
// output's own goroutine, so a slow or broken output holds up nothing else.
type alertOutput interface {
	name() string
	write(a *rules.Alert) error
	flush() error
	close() error
}

// alertOutputs fans alerts out to every output through a queue per output.
type alertOutputs struct {
	workers []*outWorker
	stderr  io.Writer
	errMu   sync.Mutex
}

type outWorker struct {
	out     alertOutput
	ch      chan *rules.Alert
	done    chan struct{}
	failing atomic.Bool
	dropped atomic.Int64 // queue full while failing
	lost    atomic.Int64 // written while failing
}

const outQueue = 4096

var (
	timeNow        = time.Now
	outRetryDelays = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Second}
)

func openAlertOutputs(stdout, stderr io.Writer, ro *rulesOptions) (*alertOutputs, error) {
	host, _ := os.Hostname()
	f := alertFormat{json: ro.json, host: host}
	var outs []alertOutput
	outs = append(outs, &writerOutput{f: f, w: bufio.NewWriter(stdout)})
	for _, path := range ro.outFile {
		o := &fileOutput{f: f, path: path}
		if err := o.open(); err != nil {
			return nil, fmt.Errorf("--out-file: %w", err)
		}
		outs = append(outs, o)
	}
	if ro.outSyslog {
		outs = append(outs, &syslogOutput{f: f, path: ro.syslogSocket})
	}
	for _, cmd := range ro.outProgram {
		outs = append(outs, &programOutput{f: f, cmd: cmd, stderr: stderr})
	}
	for _, u := range ro.outHTTP {
		outs = append(outs, &httpOutput{f: alertFormat{json: true, host: host}, url: u,
			client: &http.Client{Timeout: 5 * time.Second}})
	}
	ao := &alertOutputs{stderr: stderr}
	for _, o := range outs {
		w := &outWorker{out: o, ch: make(chan *rules.Alert, outQueue), done: make(chan struct{})}
		ao.workers = append(ao.workers, w)
		go ao.loop(w)
	}
	return ao, nil
}

func (ao *alertOutputs) logf(format string, args ...any) {
	ao.errMu.Lock()
	defer ao.errMu.Unlock()
	fmt.Fprintf(ao.stderr, format+"\n", args...)
}

// send queues a for every output. An output that is failing and whose queue is full loses the
// alert (counted and reported) rather than holding up the event loop.
func (ao *alertOutputs) send(a *rules.Alert) {
	for _, w := range ao.workers {
		if !w.failing.Load() {
			w.ch <- a
			continue
		}
		select {
		case w.ch <- a:
		default:
			w.dropped.Add(1)
		}
	}
}

// loop writes w's alerts. A failed write is retried a few times and reported; if the output
// still fails, its alerts are lost (and counted) until a write works again, each new alert
// being one more attempt, so a dead output does not hold up its queue.
func (ao *alertOutputs) loop(w *outWorker) {
	defer close(w.done)
	for a := range w.ch {
		err := w.out.write(a)
		for i := 0; err != nil && !w.failing.Load() && i < len(outRetryDelays); i++ {
			ao.logf("gosysdig rules: output %s failed: %v (retrying)", w.out.name(), err)
			time.Sleep(outRetryDelays[i])
			err = w.out.write(a)
		}
		if err != nil {
			if !w.failing.Load() {
				ao.logf("gosysdig rules: output %s failed: %v: its alerts are lost until it works again", w.out.name(), err)
				w.failing.Store(true)
			}
			w.lost.Add(1)
			continue
		}
		if w.failing.Load() {
			ao.logf("gosysdig rules: output %s works again (%d alert(s) lost)", w.out.name(), w.lost.Load()+w.dropped.Load())
			w.failing.Store(false)
			w.lost.Store(0)
			w.dropped.Store(0)
		}
		if len(w.ch) == 0 {
			if err := w.out.flush(); err != nil {
				ao.logf("gosysdig rules: output %s failed: %v", w.out.name(), err)
			}
		}
	}
}

// close drains the queues and closes the outputs.
func (ao *alertOutputs) close() {
	for _, w := range ao.workers {
		close(w.ch)
	}
	for _, w := range ao.workers {
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			ao.logf("gosysdig rules: output %s: gave up waiting for it to drain", w.out.name())
		}
		if n := w.dropped.Load() + w.lost.Load(); n > 0 {
			ao.logf("gosysdig rules: output %s lost %d alert(s)", w.out.name(), n)
		}
		if err := w.out.close(); err != nil {
			ao.logf("gosysdig rules: output %s: %v", w.out.name(), err)
		}
	}
}

// alertFormat renders an alert as one line of text or JSON.
type alertFormat struct {
	json bool
	host string
}

func (f alertFormat) line(a *rules.Alert) []byte {
	var b []byte
	if f.json {
		b = a.JSON(f.host)
	} else {
		b = []byte(a.Text())
	}
	return append(b, '\n')
}

type writerOutput struct {
	f alertFormat
	w *bufio.Writer
}

func (o *writerOutput) name() string               { return "stdout" }
func (o *writerOutput) write(a *rules.Alert) error { _, err := o.w.Write(o.f.line(a)); return err }
func (o *writerOutput) flush() error               { return o.w.Flush() }
func (o *writerOutput) close() error               { return o.w.Flush() }

// fileOutput appends alerts to a file, reopening it after an error.
type fileOutput struct {
	f    alertFormat
	path string
	fd   *os.File
}

func (o *fileOutput) name() string { return "file " + o.path }

func (o *fileOutput) open() error {
	fd, err := safefile.Append(o.path)
	o.fd = fd
	return err
}

func (o *fileOutput) write(a *rules.Alert) error {
	if o.fd == nil {
		if err := o.open(); err != nil {
			return err
		}
	}
	if _, err := o.fd.Write(o.f.line(a)); err != nil {
		o.fd.Close()
		o.fd = nil
		return err
	}
	return nil
}

func (o *fileOutput) flush() error { return nil }

func (o *fileOutput) close() error {
	if o.fd == nil {
		return nil
	}
	return o.fd.Close()
}

// syslogOutput sends each alert as one datagram to the syslog socket, facility user, the
// severity from the rule's priority (Falco's priorities are syslog's severities).
type syslogOutput struct {
	f    alertFormat
	path string
	conn net.Conn
}

func (o *syslogOutput) name() string { return "syslog " + o.path }

func (o *syslogOutput) write(a *rules.Alert) error {
	if o.conn == nil {
		c, err := net.Dial("unixgram", o.path)
		if err != nil {
			return err
		}
		o.conn = c
	}
	const facilityUser = 1
	msg := fmt.Appendf(nil, "<%d>%s gosysdig[%d]: ", facilityUser*8+int(a.Priority),
		timeNow().Format(time.Stamp), os.Getpid())
	line := o.f.line(a)
	msg = append(msg, line[:len(line)-1]...)
	if _, err := o.conn.Write(msg); err != nil {
		o.conn.Close()
		o.conn = nil
		return err
	}
	return nil
}

func (o *syslogOutput) flush() error { return nil }

func (o *syslogOutput) close() error {
	if o.conn == nil {
		return nil
	}
	return o.conn.Close()
}

// programOutput writes alerts to the stdin of a shell command, kept running; the command is
// started again when it has died.
type programOutput struct {
	f      alertFormat
	cmd    string
	stderr io.Writer
	proc   *exec.Cmd
	stdin  io.WriteCloser
}

func (o *programOutput) name() string { return "program " + strconv.Quote(o.cmd) }

func (o *programOutput) start() error {
	c := exec.Command("/bin/sh", "-c", o.cmd)
	c.Stdout, c.Stderr = o.stderr, o.stderr
	in, err := c.StdinPipe()
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	o.proc, o.stdin = c, in
	return nil
}

func (o *programOutput) write(a *rules.Alert) error {
	if o.proc == nil {
		if err := o.start(); err != nil {
			return err
		}
	}
	if _, err := o.stdin.Write(o.f.line(a)); err != nil {
		o.stop()
		return err
	}
	return nil
}

func (o *programOutput) stop() error {
	if o.proc == nil {
		return nil
	}
	o.stdin.Close()
	err := o.proc.Wait()
	o.proc = nil
	return err
}

func (o *programOutput) flush() error { return nil }
func (o *programOutput) close() error { return o.stop() }

// httpOutput POSTs each alert as JSON.
type httpOutput struct {
	f      alertFormat
	url    string
	client *http.Client
}

func (o *httpOutput) name() string { return "http " + o.url }

func (o *httpOutput) write(a *rules.Alert) error {
	resp, err := o.client.Post(o.url, "application/json", bytes.NewReader(o.f.line(a)))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	return nil
}

func (o *httpOutput) flush() error { return nil }
func (o *httpOutput) close() error { return nil }

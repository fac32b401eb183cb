package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/alerts"
	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/metrics"
	"github.com/gosysdig/gosysdig/rules"
	"github.com/gosysdig/gosysdig/session"
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
	metricsAddr  string
	verbose      bool
	config       []string // Falco's -o key=value
	print        string   // Falco's -p: c, k, cg, kg (and long forms) or a format
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
	f.StringVarP(&ro.print, "print", "p", "", "Falco's -p: -pc/-pcontainer or -pk/-pkubernetes (-pcg, -pkg: with gVisor's vpid and vtid) put the container's (and pod's) fields in place of every rule output's %container.info or after it; any other value is a format appended to every rule output")
	f.BoolVar(&ro.validate, "validate", false, "only load the rules: print errors and warnings, exit 1 if invalid")
	f.BoolVar(&ro.list, "list", false, "list the rules loaded")
	f.IntVarP(&ro.duration, "seconds", "M", 0, "stop a live capture after this many seconds")
	f.Int64VarP(&ro.numEvents, "numevents", "n", 0, "stop after this many events")
	f.StringArrayVar(&ro.outFile, "out-file", nil, "also append alerts to this file")
	f.BoolVar(&ro.outSyslog, "out-syslog", false, "also send alerts to syslog")
	f.StringVar(&ro.syslogSocket, "syslog-socket", "/dev/log", "unix datagram socket of syslog")
	f.StringArrayVar(&ro.outProgram, "out-program", nil, "also write alerts to the stdin of this shell command (kept running)")
	f.StringArrayVar(&ro.outHTTP, "out-http", nil, "also POST each alert as JSON to this URL (Falco's format, for Falcosidekick or any webhook)")
	f.BoolVarP(&ro.verbose, "verbose", "v", false, "at exit, print every output's alert counts (not only of those that lost alerts)")
	f.StringArrayVarP(&ro.config, "option", "o", nil, "Falco setting key=value: "+strings.Join(alertSettingNames, ", "))
	f.StringVar(&ro.readyFile, "ready-file", "", "write this file once the probe is attached")
	f.IntVar(&ro.ringBytes, "ring-bytes", 0, "size of the probe's ring buffer (0: default)")
	f.StringVar(&ro.metricsAddr, "metrics-addr", "", "serve Prometheus metrics (events, drops, alerts per rule, outputs, state sizes) on /metrics and a health check on /healthz at this address (host:port) while tracing live")
	_ = f.MarkHidden("ready-file")
	addContainerFlags(cmd) // live container metadata, as the root command
	addLimitFlags(cmd)
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
	loadStart := time.Now()
	set, loadErr := rules.LoadPrint(srcs, rules.ParsePrint(ro.print))
	loadTime := time.Since(loadStart)
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
		ringBytes: ro.ringBytes, metricsAddr: ro.metricsAddr}
	p := &pipeline{o: o, in: newState(), bw: session.NewOutput(io.Discard, session.Unbuffered), stderr: stderr}
	p.ctx = &fields.Ctx{In: p.in, Buf: event.BufNormal, MaxLen: 80}
	rs := &rulesSink{eng: eng, outs: outs, counts: map[string]*atomic.Int64{}, stderr: stderr}
	for _, r := range eng.Rules {
		rs.counts[r.Name] = new(atomic.Int64)
	}
	p.sinks = []sink{rs}
	p.metrics = func(reg *metrics.Registry) error {
		return metrics.RegisterRules(reg, rs.ruleCounts, outs.Stats, loadTime, len(eng.Rules))
	}
	if ro.read == "" {
		err = runLivePipeline(p, o, eng.EventTypes(), rs.drops)
	} else {
		err = runRulesCapture(p, ro.read)
	}
	stats := rs.close()
	rs.summary(stderr)
	if ro.verbose {
		reportEvents(stderr, p, p.span)
	}
	reportOutputs(stderr, stats, ro.verbose)
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

// rulesSink runs the engine on every event and sends alerts to the outputs. Sending never
// blocks (see package alerts), from the event loop nor from the stats goroutine.
type rulesSink struct {
	eng    *rules.Engine
	outs   *alerts.Dispatcher
	counts map[string]*atomic.Int64 // per rule, made before the run: read by metrics meanwhile
	stderr io.Writer

	mu        sync.Mutex // drops() runs on the stats goroutine
	lastDrops uint64
	lastEvts  uint64
}

func (s *rulesSink) Event(c *fields.Ctx) error {
	hits := s.eng.Match(c)
	for _, r := range hits {
		s.counts[r.Name].Add(1)
		s.outs.Send(r.NewAlert(c))
	}
	return nil
}

func (s *rulesSink) Close() error { return nil }

// dropRule is Falco's name for the alert raised when the probe drops events; Falco sends it with
// priority Debug, and so do we.
const (
	dropRule     = alerts.InternalPrefix + "syscall event drop"
	dropPriority = rules.PriorityDebug
)

// drops raises Falco's syscall_event_drops alert when the probe dropped events in the last
// second; like Falco it also logs the message on stderr and is not subject to --priority.
func (s *rulesSink) drops(events, drops uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dEv, dDrops := events-s.lastEvts, drops-s.lastDrops
	s.lastEvts, s.lastDrops = events, drops
	if dDrops == 0 {
		return
	}
	msg := fmt.Sprintf("%s. %d system calls dropped in last second.", dropRule, dDrops)
	fmt.Fprintln(s.stderr, msg)
	s.outs.Send(&rules.Alert{
		Time: timeNow(), Rule: dropRule, Priority: dropPriority, Source: "syscall", Tags: []string{},
		Output: msg,
		Fields: fmt.Appendf(nil, `{"ebpf_enabled":"1","n_drops":"%d","n_evts":"%d"}`, dDrops, dEv),
	})
}

// ruleCounts is every rule's alert count so far (metrics; safe while the loop runs).
func (s *rulesSink) ruleCounts() []metrics.RuleCount {
	out := make([]metrics.RuleCount, 0, len(s.eng.Rules))
	for _, r := range s.eng.Rules {
		out = append(out, metrics.RuleCount{Rule: r.Name, Priority: r.Priority.String(), Count: s.counts[r.Name].Load()})
	}
	return out
}

// close drains the outputs, within a bounded time, and returns their counts.
func (s *rulesSink) close() []alerts.Stats { return s.outs.Close() }

// summary prints Falco's end-of-run counts (on stderr, so that stdout holds only alerts).
func (s *rulesSink) summary(w io.Writer) {
	total := 0
	byPrio := map[rules.Priority]int{}
	prio := map[string]rules.Priority{}
	for _, r := range s.eng.Rules {
		prio[r.Name] = r.Priority
	}
	var names []string
	for n, a := range s.counts {
		c := int(a.Load())
		if c == 0 {
			continue
		}
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
		fmt.Fprintf(w, "   %s: %d\n", n, s.counts[n].Load())
	}
}

var timeNow = time.Now

// reportEvents prints how many events the rules saw and how fast (-v), over the event time the
// capture covered: a rate that falls means events were lost, not that loading or the outputs'
// draining took a while.
func reportEvents(w io.Writer, p *pipeline, elapsed time.Duration) {
	var read, drops uint64
	if p.driverStats != nil {
		read, drops = p.driverStats()
	}
	fmt.Fprintf(w, "Syscall events: %d processed in %.3f s (%.0f/s); the probe read %d and dropped %d\n",
		p.captured, elapsed.Seconds(), float64(p.captured)/max(elapsed.Seconds(), 1e-9), read, drops)
	p.writeHolds(w)
}

// reportOutputs prints, for every output that lost alerts (every output with -v), how many
// alerts were raised, delivered and lost, and why.
func reportOutputs(w io.Writer, stats []alerts.Stats, verbose bool) {
	for _, st := range stats {
		if verbose || st.Lost() > 0 {
			fmt.Fprintf(w, "gosysdig rules: %s\n", st)
		}
	}
}

// openAlertOutputs starts stdout and the --out-* outputs behind the alert dispatcher.
func openAlertOutputs(stdout, stderr io.Writer, ro *rulesOptions) (*alerts.Dispatcher, error) {
	cfg, err := parseAlertSettings(ro)
	if err != nil {
		return nil, err
	}
	// As Falco: FALCO_HOSTNAME names the host in alerts (a pod sets it to its node's name, its
	// own hostname being the pod's).
	host := os.Getenv("FALCO_HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	f := alerts.Format{JSON: cfg.json, Hostname: host}
	outs := []alerts.Output{alerts.NewWriterOutput("stdout", stdout, f)}
	closeAll := func() {
		for _, o := range outs {
			_ = o.Close(context.Background())
		}
	}
	for _, path := range cfg.files {
		o, err := alerts.OpenFileOutput(path, f)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("--out-file: %w", err)
		}
		outs = append(outs, o)
	}
	if ro.outSyslog {
		outs = append(outs, alerts.NewSyslogOutput(ro.syslogSocket, f))
	}
	for _, cmd := range cfg.programs {
		outs = append(outs, alerts.NewProgramOutput(cmd, f, stderr))
	}
	for _, u := range cfg.urls {
		outs = append(outs, alerts.NewHTTPOutput(u, host, cfg.httpTimeout))
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "gosysdig rules: "+format+"\n", args...)
	}
	return alerts.New(outs, cfg.opt, host, logf), nil
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/chisels"
	"github.com/gosysdig/gosysdig/event"
)

// libsVersion is what sysdig 0.29.3 prints for --libs-version: the falcosecurity/libs commit
// whose event table, field set and output gosysdig follows.
const libsVersion = "0.1.1dev+git20220316.e5c53d64"

// refusedFlag is a flag of sysdig 0.29.3 that cannot apply to gosysdig: it is accepted by the
// parser (so that the user learns why, rather than "unknown flag") and refused when used.
type refusedFlag struct {
	long, short string
	arg         string // "": no value; otherwise the value's name
	reason      string
}

// refusedFlags are sysdig's flags gosysdig refuses, with the reason given to the user. The
// README's flag table is checked against this list and the flag set (flags_readme_test.go).
var refusedFlags = []refusedFlag{
	{"plugin", "H", "PLUGIN[:CONFIG]", "gosysdig has no plugin support (sysdig plugins are C shared libraries)"},
	{"input", "I", "PLUGIN[:PARAMS]", "gosysdig has no plugin support: events come from the eBPF probe or a capture (-r)"},
	{"plugin-config-file", "", "FILE", "gosysdig has no plugin support"},
	{"k8s-api", "k", "URL", "gosysdig has no Kubernetes API client: k8s.* fields do not exist"},
	{"k8s-api-cert", "K", "FILES", "gosysdig has no Kubernetes API client"},
	{"node-name", "", "NAME", "gosysdig has no Kubernetes API client"},
	{"mesos-api", "m", "URL", "gosysdig has no Mesos API client: mesos.* fields do not exist"},
	{"page-faults", "", "", "the eBPF probe does not trace page faults"},
	{"force-tracers-capture", "T", "", "gosysdig has no tracers (sysdig's span events written to /dev/null)"},
	{"udig", "u", "", "udig (capture without a kernel driver) is not supported: live capture uses the eBPF probe as root"},
	{"resolve-ports", "R", "", "port-name resolution is not implemented: ports print as numbers"},
	{"large-environment", "", "", "not implemented: proc.env holds what the probe captured"},
}

func addSysdigFlags(cmd *cobra.Command, o *options) {
	f := cmd.Flags()
	f.StringVarP(&o.timeType, "timetype", "t", "h", "how event times print: h human (HH:MM:SS.ns), a absolute (s.ns since the epoch), r relative to the first event, d enter-to-exit delta, D delta from the previous event")
	f.BoolVarP(&o.displayFilter, "displayflt", "d", false, "make the filter a display one: every event is counted, written and seen by chisels; the filter selects what is printed")
	f.BoolVarP(&o.excludeUsers, "exclude-users", "E", false, "no user and group tables (user.name, group.name are <NA>; -w writes none)")
	f.BoolVarP(&o.progress, "progress", "P", false, "print progress on stderr while reading a capture")
	f.StringArrayVarP(&o.suppressComm, "suppress-comm", "U", nil, "ignore all events of processes with this comm (repeatable)")
	f.BoolVar(&o.unbuffered, "unbuffered", false, "flush the output after every line")
	f.BoolVarP(&o.fatfile, "fatfile", "F", false, "with -w and a filter: keep the filtered-out events that change state in the file, hidden, so that processes and fds still resolve when it is read")
	f.BoolVar(&o.filterProclist, "filter-proclist", false, "with -r and -w: the process table written keeps only the threads and fds the filter selects")
	f.BoolVar(&o.listMarkdown, "list-markdown", false, "like -l, as markdown")
	f.BoolVar(&o.libsVersion, "libs-version", false, "print the falcosecurity/libs version gosysdig follows")
	var bpf string
	f.StringVarP(&bpf, "bpf", "B", "", "use the eBPF probe (gosysdig always does; a probe file is refused)")
	f.Lookup("bpf").NoOptDefVal = " "
	f.StringVar(&containerFlags.CRIOSocket, "cri", containerFlags.CRIOSocket, "CRI socket for container metadata (as --crio-socket)")
	f.Var(durationMS{&containerFlags.Timeout}, "cri-timeout", "wait at most this many milliseconds for a container runtime's answer")
	for _, r := range refusedFlags {
		if r.arg == "" {
			f.BoolP(r.long, r.short, false, "refused: "+r.reason)
		} else {
			f.StringP(r.long, r.short, "", "refused: "+r.reason)
		}
	}
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		for _, r := range refusedFlags {
			if c.Flags().Changed(r.long) {
				return &exitError{code: 1, msg: fmt.Sprintf("--%s: %s", r.long, r.reason)}
			}
		}
		if c.Flags().Changed("bpf") && strings.TrimSpace(bpf) != "" {
			return &exitError{code: 1, msg: fmt.Sprintf("-B %s: gosysdig loads its own CO-RE eBPF probe; it cannot load sysdig's probe file", bpf)}
		}
		if v := os.Getenv("SYSDIG_BPF_PROBE"); v != "" && o.read == "" {
			fmt.Fprintf(os.Stderr, "warning: SYSDIG_BPF_PROBE=%s ignored: gosysdig uses its own eBPF probe\n", v)
		}
		return run(c, args)
	}
}

// durationMS is a flag value in milliseconds.
type durationMS struct{ d *time.Duration }

func (v durationMS) String() string {
	if v.d == nil {
		return "0"
	}
	return fmt.Sprint(v.d.Milliseconds())
}

func (v durationMS) Set(s string) error {
	var ms int64
	if _, err := fmt.Sscan(s, &ms); err != nil || ms < 0 {
		return fmt.Errorf("not a number of milliseconds: %q", s)
	}
	*v.d = time.Duration(ms) * time.Millisecond
	return nil
}

func (v durationMS) Type() string { return "ms" }

// checkSysdigFlags applies sysdig's checks of its flags' values, before anything is opened.
func checkSysdigFlags(o *options, args []string) error {
	switch o.timeType {
	case "h", "a", "r", "d", "D":
	default:
		return &exitError{code: 1, msg: "invalid modifier for flag -t"}
	}
	if o.progress && o.read == "" {
		return &exitError{code: 1, msg: "the -P flag cannot be used with live captures."}
	}
	// sysdig: writing a capture read from a file shows the progress.
	if o.write != "" && o.read != "" {
		o.progress = true
	}
	n := 0
	for _, set := range []bool{o.ascii, o.base64, o.hex, o.hexASCII} {
		if set {
			n++
		}
	}
	if n > 1 {
		return &exitError{code: 1, msg: "you cannot specify more than one output format"}
	}
	return nil
}

// withoutUsers is -E: the header without its user and group tables, so that user.name and
// group.name are <NA> and a -w copy carries none, as sysdig -E does.
func withoutUsers(o *options, h *capture.Header) *capture.Header {
	if !o.excludeUsers {
		return h
	}
	c := *h
	c.Users, c.Groups = nil, nil
	return &c
}

// printPreset handles -pp: print the default format and stop, as sysdig does.
func printPreset(w io.Writer, o *options) bool {
	if o.format != "p" {
		return false
	}
	io.WriteString(w, defaultFormatText+"\n")
	return true
}

// defaultFormatText is the format sysdig prints for -pp when its output is not a terminal.
const defaultFormatText = "*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir %evt.type %evt.info"

// ---- -P: sysdig's progress line on stderr.

// progress prints the share of the capture read, as sysdig's output_progress: every 10000th
// event when it grew by more than 0.1 point, and 100.00 at the end; each print first blanks
// the previous one.
type progress struct {
	w    io.Writer
	size int64
	last float64
	line string
}

func newProgress(w io.Writer, path string) *progress {
	p := &progress{w: w}
	if st, err := os.Stat(path); err == nil {
		p.size = st.Size()
	}
	return p
}

func (p *progress) clean() {
	fmt.Fprintf(p.w, "\r%s", strings.Repeat(" ", len(p.line)))
	p.line = strings.Repeat(" ", len(p.line))
}

func (p *progress) update(pct float64) {
	if pct-p.last > 0.1 {
		p.clean()
		p.line = fmt.Sprintf("%.2f", pct)
		fmt.Fprintf(p.w, "\r%s", p.line)
		p.last = pct
	}
}

// event is called for each event read, with its number and the bytes read so far.
func (p *progress) event(num uint64, offset int64) {
	if num%10000 == 0 && p.size > 0 {
		p.update(min(float64(offset)*100/float64(p.size), 100))
	}
}

// end is sysdig's handle_end_of_file with -P: the share read when the capture ends (100 at
// the end of the file, less after -n).
func (p *progress) end(offset int64) {
	p.clean()
	if p.size > 0 {
		p.update(min(float64(offset)*100/float64(p.size), 100))
	}
	fmt.Fprintln(p.w)
}

// ---- -U: sysdig's suppressed comms (scap_check_suppressed).

// suppressSource drops every event of the threads whose comm is suppressed before anything
// sees it, as libscap does: a thread is suppressed from the clone, fork, vfork, execve,
// execveat or clone3 exit that names a suppressed comm or whose parent is suppressed, until
// an exec names another comm or the thread exits. Live, the threads found in /proc with a
// suppressed comm start suppressed (seed).
type suppressSource struct {
	src        source
	comms      map[string]bool
	tids       map[int64]bool
	suppressed *uint64
}

// commEvents are the event types whose exit carries comm (param 14) and ptid (param 6).
var commEvents = func() []bool {
	t := make([]bool, event.MaxType)
	names := map[string]bool{"clone": true, "fork": true, "vfork": true, "execve": true, "execveat": true, "clone3": true}
	for i := range t {
		info := event.Lookup(uint16(i))
		if info != nil && i%2 == 1 && names[info.Name] && info.Flags&event.EFOldVersion == 0 &&
			len(info.Params) > 13 && info.Params[13].Name == "comm" && info.Params[5].Name == "ptid" {
			t[i] = true
		}
	}
	return t
}()

const procexit1E = 182 // PPME_PROCEXIT_1_E

func newSuppressSource(src source, comms []string, counter *uint64) *suppressSource {
	s := &suppressSource{src: src, comms: map[string]bool{}, tids: map[int64]bool{}, suppressed: counter}
	for _, c := range comms {
		s.comms[c] = true
	}
	return s
}

// seed marks the threads of a /proc scan whose comm is suppressed.
func (s *suppressSource) seed(h *capture.Header) {
	for i := range h.Threads {
		if s.comms[h.Threads[i].Comm] {
			s.tids[h.Threads[i].Tid] = true
		}
	}
}

func (s *suppressSource) Next(ev *event.Event) error {
	for {
		if err := s.src.Next(ev); err != nil {
			return err
		}
		if !s.drop(ev) {
			// Suppressed events never reach sysdig's inspector, which numbers the rest.
			ev.Num -= *s.suppressed
			return nil
		}
		*s.suppressed++
	}
}

func (s *suppressSource) drop(ev *event.Event) bool {
	switch {
	case int(ev.Type) < len(commEvents) && commEvents[ev.Type]:
		ptid, _ := ev.Int(5)
		comm := ev.Param(13)
		if n := indexZero(comm); n >= 0 {
			comm = comm[:n]
		}
		sup := s.tids[ptid] || s.comms[string(comm)]
		if sup {
			s.tids[ev.Tid] = true
		} else {
			delete(s.tids, ev.Tid)
		}
		return sup
	case ev.Type == procexit1E:
		if s.tids[ev.Tid] {
			delete(s.tids, ev.Tid)
			return true
		}
		return false
	}
	return s.tids[ev.Tid]
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// suppressing puts -U's filter in front of src (the suppressed threads outlive a new section).
func (p *pipeline) suppressing(src source) source {
	if p.suppress == nil {
		p.suppress = newSuppressSource(nil, p.o.suppressComm, &p.suppressed)
	}
	p.suppress.src = src
	return p.suppress
}

// seedSuppressed marks the threads of a live /proc scan that -U suppresses.
func (p *pipeline) seedSuppressed(h *capture.Header) {
	if len(p.o.suppressComm) > 0 {
		p.suppressing(nil)
		p.suppress.seed(h)
	}
}

// timeType is -t for fields.Ctx: 0 for sysdig's default, h.
func timeType(o *options) byte {
	if o.timeType == "" || o.timeType == "h" {
		return 0
	}
	return o.timeType[0]
}

// addFlagCompletions lets the shell complete -t's modes and -c/-i's chisel names.
func addFlagCompletions(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("timetype", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"h\thuman-readable time", "a\tabsolute, seconds since the epoch", "r\trelative to the first event",
			"d\tenter-to-exit delta", "D\tdelta from the previous event"}, cobra.ShellCompDirectiveNoFileComp
	})
	chiselNames := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, c := range chisels.List(chisels.SearchDirs()) {
			names = append(names, c.Name+"\t"+c.ShortDesc)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	_ = cmd.RegisterFlagCompletionFunc("chisel", chiselNames)
	_ = cmd.RegisterFlagCompletionFunc("chisel-info", chiselNames)
}

// onceString is -r: sysdig reads several -r files one after the other; gosysdig reads one, and
// says so rather than silently reading only the last.
type onceString struct {
	p   *string
	set bool
}

func (v *onceString) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *onceString) Set(s string) error {
	if v.set {
		return fmt.Errorf("given twice: gosysdig reads one capture per run (sysdig reads several in turn)")
	}
	*v.p, v.set = s, true
	return nil
}

func (v *onceString) Type() string { return "string" }

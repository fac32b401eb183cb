package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/session"
)

// version is what `gosysdig version` prints: the sysdig release whose behaviour gosysdig
// follows, then its own build. `make release` stamps the build (-X main.version=...).
var version = "0.29.3-gosysdig"

type options struct {
	stderr      io.Writer // warnings and the -v summary (the command's stderr)
	read        string
	format      string
	json        bool
	quiet       bool
	ascii       bool
	hex         bool
	hexASCII    bool
	base64      bool
	numEvents   int64
	snaplen     int
	verbose     bool
	summary     bool
	list        bool
	listEvents  bool
	chisel      string
	listChisel  bool
	version     bool
	debug       bool
	write       string
	compress    bool
	duration    int
	readyFile   string
	ringBytes   int
	metricsAddr string // --metrics-addr: Prometheus /metrics and /healthz (live)
	rotateMB    int
	rotateSecs  int
	rotateEvts  int64
	maxFiles    int
	pcap        string
	// printContainer is set by -pc: chisels show container columns.
	printContainer bool

	// Flags of sysdig 0.29.3 added for issue 11 (flags_sysdig.go).
	timeType       string   // -t: h, a, r, d or D
	displayFilter  bool     // -d: the filter selects what is printed; everything else sees every event
	excludeUsers   bool     // -E: no user and group tables
	progress       bool     // -P: progress on stderr while replaying (implied by -r with -w)
	suppressComm   []string // -U: drop every event of processes with these comms
	unbuffered     bool     // --unbuffered: flush after every line
	fatfile        bool     // -F: filtered-out state events stay in -w files, hidden
	filterProclist bool     // --filter-proclist: -w keeps only the threads the filter selects
	listMarkdown   bool     // --list-markdown: -l as markdown
	libsVersion    bool     // --libs-version
	resolvePorts   bool     // -R
	largeEnv       bool     // --large-environment
}

func newRootCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "gosysdig [flags] [filter]",
		Short: "sysdig-compatible system call tracer",
		Long: "gosysdig traces system calls live (eBPF, as root) or replays sysdig captures (-r), filters them " +
			"with sysdig's filter language and prints them as sysdig 0.29.3 does. Flags keep sysdig's names " +
			"and meanings; long flags may be abbreviated to a unique prefix, as sysdig's getopt allows.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// The root command takes a filter; `version`, `completion`, `man`, `rules` and `ui` are
		// subcommands (a filter cannot start with one of those words: it would not compile).
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		Args:              cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stderr = cmd.ErrOrStderr()
			return run(cmd.OutOrStdout(), &o, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(true)
	f.VarP(&onceString{p: &o.read}, "readfile", "r", "read the events from this capture file")
	f.StringVarP(&o.format, "print", "p", "", "print events with this format (-pc/-pcontainer: container format; -pk/-pkubernetes: Kubernetes format; -pp: print the default format)")
	f.BoolVarP(&o.json, "json", "j", false, "emit output as JSON")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print events (implied by -w)")
	f.BoolVarP(&o.ascii, "print-ascii", "A", false, "print only the text portion of data buffers")
	f.BoolVarP(&o.hex, "print-hex", "x", false, "print data buffers in hex")
	f.BoolVarP(&o.hexASCII, "print-hex-ascii", "X", false, "print data buffers in hex and ASCII")
	f.BoolVarP(&o.base64, "print-base64", "b", false, "print data buffers in base64")
	f.Int64VarP(&o.numEvents, "numevents", "n", 0, "stop capturing after this many events")
	f.IntVarP(&o.snaplen, "snaplen", "s", 80, "capture the first this many bytes of each I/O buffer")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print buffers in full, and capture statistics at the end")
	f.BoolVarP(&o.summary, "summary", "S", false, "print the event summary when the capture ends")
	f.BoolVarP(&o.list, "list", "l", false, "list the fields filters and formats can use (-lv: with their types)")
	f.BoolVarP(&o.listEvents, "list-events", "L", false, "list the events")
	f.StringVarP(&o.chisel, "chisel", "c", "", "run a chisel (-cl: list the chisels)")
	f.BoolVar(&o.listChisel, "list-chisels", false, "list the chisels")
	f.BoolVar(&o.version, "version", false, "print the version")
	f.BoolVarP(&o.debug, "debug", "D", false, "also show internal events")
	f.StringVarP(&o.write, "writefile", "w", "", "write the events to a capture file")
	f.BoolVarP(&o.compress, "compress", "z", false, "with -w: gzip the capture")
	// sysdig's -M has no long name; pflag needs one.
	f.IntVarP(&o.duration, "stop-after", "M", 0, "stop collecting after this many seconds (sysdig: -M only)")
	f.StringVar(&o.readyFile, "ready-file", "", "write this file once the probe is attached")
	f.IntVar(&o.ringBytes, "ring-bytes", 0, "size of the probe's ring buffer (0: default)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on /metrics and a health check on /healthz at this address (host:port) while tracing live")
	_ = f.MarkHidden("ready-file")
	f.StringVar(&o.pcap, "pcap", "", "also write the selected events' socket payloads to this pcapng file")
	f.IntVarP(&o.rotateMB, "file-size", "C", 0, "with -w: start a new file every this many megabytes (10^6)")
	f.IntVarP(&o.rotateSecs, "seconds", "G", 0, "with -w: start a new file every this many seconds (strftime in the name)")
	f.Int64VarP(&o.rotateEvts, "event-limit", "e", 0, "with -w: start a new file every this many events")
	f.IntVarP(&o.maxFiles, "limit", "W", 0, "with -C/-e: keep a ring of this many files; with -G: stop after this many")
	addSysdigFlags(cmd, &o) // -t, -d, -E, -P, -U... and the flags refused with a reason: flags_sysdig.go
	addContainerFlags(cmd)  // --docker-socket and the like: see live.go
	addLimitFlags(cmd)      // --max-threads and the like: see limits.go
	addChiselFlags(cmd, &o) // -i NAME, and -cl (parsed as -c l): see chisel.go
	cmd.AddCommand(newRulesCmd())
	cmd.AddCommand(newUICmd())
	cmd.AddCommand(newVersionCmd(), newCompletionCmd(), newManCmd())
	addFlagCompletions(cmd)
	abbreviateLongFlags(f) // after every flag is defined: see flags_prefix.go
	return cmd
}

// pcFormat is sysdig's -pc (-pcontainer) format.
const pcFormat = "*%evt.num %evt.outputtime %evt.cpu %container.name (%container.id) %proc.name (%thread.tid:%thread.vtid) %evt.dir %evt.type %evt.info"

// pkFormat is sysdig's -pk (-pkubernetes) format.
const pkFormat = "*%evt.num %evt.outputtime %evt.cpu %k8s.pod.name (%container.id) %proc.name (%thread.tid:%thread.vtid) %evt.dir %evt.type %evt.info"

// presetFormat turns sysdig's -p presets into their format: -pc and -pcontainer print the
// container of each event, -pk and -pkubernetes its Kubernetes pod (k8s.pod.name, from the
// CRI's labels, as today's Falco reads it), and both make chisels show container columns.
// sysdig's -pm prints Mesos fields gosysdig does not have: an error, rather than printing the
// letter.
func presetFormat(o *options) error {
	switch o.format {
	case "c", "container":
		o.format = pcFormat
		o.printContainer = true
	case "k", "kubernetes":
		o.format = pkFormat
		o.printContainer = true
	case "m", "mesos":
		return &exitError{code: 1, msg: fmt.Sprintf("-p%s: gosysdig has no Mesos fields; use -pc for containers or -pk for Kubernetes pods", o.format)}
	}
	return nil
}

func run(w io.Writer, o *options, args []string) error {
	if printPreset(w, o) {
		return nil
	}
	if err := presetFormat(o); err != nil {
		return err
	}
	switch {
	case o.version:
		fmt.Fprintf(w, "gosysdig version %s\n", version)
		return nil
	case o.libsVersion:
		fmt.Fprintf(w, "falcosecurity/libs version %s", libsVersion) // no newline, as sysdig
		return nil
	case o.listMarkdown:
		return listFieldsMarkdown(w, o.verbose)
	case o.list:
		return listFields(w, o.verbose)
	case o.listEvents:
		return listEvents(w)
	}
	if err := checkSysdigFlags(o, args); err != nil {
		return err
	}
	if err := checkFilterProclist(o, args); err != nil {
		return err
	}
	if o.read == "" {
		return runLive(w, o, args)
	}
	r, err := capture.Open(o.read)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	defer r.Close()
	p, err := newPipeline(w, o, args)
	if err != nil {
		return err
	}
	p.in.LoadHeader(withoutUsers(o, r.Header()))
	if o.write != "" {
		hdr, snapshot := withoutUsers(o, r.Header()), p.in.Snapshot
		if o.filterProclist && p.flt != nil {
			// As sysdig, every file of a rotation starts with the filtered table.
			if hdr, err = filteredProclist(hdr, p.flt, p.in, p.ctx); err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			snapshot = func() *capture.Header { return hdr }
		}
		d, err := openDumper(o.write, hdr, o.compress, o.rotation(), snapshot)
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		p.dump = d
	}
	if o.progress {
		p.progress = newProgress(p.stderr, o.read)
		p.offset = r.Offset
	}
	// The first SIGINT or SIGTERM ends the replay after the current event, printing what a
	// chisel or -S has gathered; a second one ends the process at once.
	release := session.Interrupts(p.stop)
	defer release()
	return p.run(r, o.read, func() { p.in.Reset(); p.in.LoadHeader(withoutUsers(o, r.Header())) })
}

// listFields prints the field classes and their fields in sysdig's -l layout (with -v, the
// value type of each field too).
func listFields(w io.Writer, verbose bool) error {
	class := ""
	for _, f := range fieldsInClassOrder() {
		if f.Class != class {
			class = f.Class
			fmt.Fprintf(w, "-------------------------------\nField Class:                  %s\n\n", class)
		}
		name := f.Name
		switch f.Arg {
		case fields.ArgRequired:
			name += "[ARG]"
		case fields.ArgOptional:
			name += "[ARG?]"
		}
		desc := f.Desc
		if f.FilterOnly {
			desc = "(FILTER ONLY) " + desc
		}
		if verbose {
			desc = "(Type: " + kindName(f.Kind) + ") " + desc
		}
		fmt.Fprintf(w, "%-29s %s\n", name, desc)
		if class != "" && f == lastOfClass(f.Class) {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// fieldsInClassOrder lists the fields class by class, in sysdig's order of classes.
func fieldsInClassOrder() []*fields.Field {
	var out []*fields.Field
	seen := map[string]bool{}
	for _, class := range []string{"evt", "syscall", "proc", "thread", "user", "group", "container", "fd"} {
		seen[class] = true
		for _, f := range fields.All() {
			if f.Class == class {
				out = append(out, f)
			}
		}
	}
	for _, f := range fields.All() {
		if !seen[f.Class] {
			out = append(out, f)
		}
	}
	return out
}

func lastOfClass(class string) *fields.Field {
	var last *fields.Field
	for _, f := range fields.All() {
		if f.Class == class {
			last = f
		}
	}
	return last
}

func kindName(k fields.Kind) string {
	switch k {
	case fields.KString:
		return "CHARBUF"
	case fields.KInt:
		return "INT64"
	case fields.KUint:
		return "UINT64"
	case fields.KBool:
		return "BOOL"
	case fields.KIP:
		return "IPADDR"
	case fields.KNet:
		return "IPNET"
	case fields.KPort:
		return "PORT"
	case fields.KRelTime:
		return "RELTIME"
	case fields.KAbsTime:
		return "ABSTIME"
	case fields.KDouble:
		return "DOUBLE"
	case fields.KBytes:
		return "BYTEBUF"
	}
	return "UNKNOWN"
}

func listEvents(w io.Writer) error {
	for t := 0; t < event.MaxType; t++ {
		info := event.Lookup(uint16(t))
		if info == nil || info.Flags&(event.EFUnused|event.EFOldVersion) != 0 || info.Category&event.ECInternal != 0 {
			continue
		}
		fmt.Fprintf(w, "%c %s(", info.Dir, info.Name)
		for i, p := range info.Params {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%s %s", paramTypeName(p.Type), p.Name)
		}
		fmt.Fprintln(w, ")")
	}
	return nil
}

func (o *options) rotation() rotation {
	return rotation{sizeBytes: int64(o.rotateMB) * 1000000, period: uint64(o.rotateSecs) * 1e9,
		events: o.rotateEvts, maxFiles: o.maxFiles}
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
	"github.com/gosysdig/gosysdig/state"
)

const version = "0.29.3-gosysdig"

type options struct {
	read       string
	format     string
	json       bool
	ascii      bool
	hex        bool
	hexASCII   bool
	base64     bool
	numEvents  int64
	snaplen    int
	verbose    bool
	summary    bool
	list       bool
	listEvents bool
	chisel     string
	listChisel bool
	version    bool
	debug      bool
}

func newRootCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:           "gosysdig [flags] [filter]",
		Short:         "sysdig-compatible system call tracer",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.OutOrStdout(), &o, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(true)
	f.StringVarP(&o.read, "read", "r", "", "read events from a capture file")
	f.StringVarP(&o.format, "print", "p", "", "print events with this format (sysdig's -p)")
	f.BoolVarP(&o.json, "json", "j", false, "print events as JSON")
	f.BoolVarP(&o.ascii, "print-ascii", "A", false, "print buffers as ASCII text")
	f.BoolVarP(&o.hex, "print-hex", "x", false, "print buffers in hex")
	f.BoolVarP(&o.hexASCII, "print-hex-ascii", "X", false, "print buffers in hex and ASCII")
	f.BoolVarP(&o.base64, "print-base64", "b", false, "print buffers in base64")
	f.Int64VarP(&o.numEvents, "numevents", "n", 0, "stop after this many events")
	f.IntVarP(&o.snaplen, "snaplen", "s", 80, "bytes of each I/O buffer to show")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print buffers in full")
	f.BoolVarP(&o.summary, "summary", "S", false, "print an event summary at the end")
	f.BoolVarP(&o.list, "list", "l", false, "list the fields filters and formats can use")
	f.BoolVarP(&o.listEvents, "list-events", "L", false, "list the events")
	f.StringVarP(&o.chisel, "chisel", "c", "", "run a chisel")
	f.BoolVar(&o.listChisel, "list-chisels", false, "list the chisels")
	f.BoolVar(&o.version, "version", false, "print the version")
	f.BoolVarP(&o.debug, "debug", "D", false, "also show internal events")
	return cmd
}

func run(w io.Writer, o *options, args []string) error {
	switch {
	case o.version:
		fmt.Fprintf(w, "gosysdig version %s\n", version)
		return nil
	case o.list:
		return listFields(w, o.verbose)
	case o.listEvents:
		return listEvents(w)
	}
	if o.read == "" {
		return &exitError{code: 1, msg: "live capture is not available in this build: use -r FILE to read a capture"}
	}
	filterText := strings.Join(args, " ")
	var flt *filter.Filter
	if strings.TrimSpace(filterText) != "" {
		var err error
		flt, err = filter.Compile(filterText)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("%v\nfilter: %s", err, filterText)}
		}
	}
	bufFmt := event.BufNormal
	switch {
	case o.hexASCII:
		bufFmt = event.BufHexASCII
	case o.hex:
		bufFmt = event.BufHex
	case o.ascii:
		bufFmt = event.BufASCII
	case o.base64:
		bufFmt = event.BufBase64
	}
	if o.json {
		bufFmt += event.BufJSON
		if bufFmt == event.BufJSON+event.BufNormal {
			bufFmt = event.BufJSON
		}
	}
	formatter, err := output.New(o.format, o.json)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	r, err := capture.Open(o.read)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	defer r.Close()
	in := state.New()
	in.LoadHeader(r.Header())
	bw := bufio.NewWriterSize(w, 256<<10)
	defer bw.Flush()
	ctx := &fields.Ctx{In: in, Buf: bufFmt, MaxLen: 80}
	if o.verbose {
		ctx.MaxLen = 0
	}
	var ev event.Event
	ctx.Ev = &ev
	var shown, read int64
	var sum summary
	if o.summary {
		defer func() { sum.write(bw) }()
	}
	leading := true // container events before the first other event are consumed silently
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
			bw.Flush()
			return &exitError{code: 1, msg: fmt.Sprintf("%s: %v", o.read, err)}
		}
		in.Process(&ev)
		read++
		if o.numEvents > 0 && read > o.numEvents {
			break // -n counts events read, shown or not, as sysdig does
		}
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
		if ev.DumpFlags&1 != 0 { // state-only events update state and are not shown
			continue
		}
		if flt != nil && (!flt.MayMatch(ev.Type) || !flt.Match(ctx)) {
			continue
		}
		if o.summary {
			sum.add(&ev)
		}
		if ev.Info.Category&event.ECInternal != 0 && !o.debug {
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
	return nil
}

func listFields(w io.Writer, verbose bool) error {
	class := ""
	for _, f := range fields.All() {
		if f.Class != class {
			class = f.Class
			fmt.Fprintf(w, "\n----------------------\nField Class: %s\n\n", class)
		}
		name := f.Name
		if f.Arg == fields.ArgRequired {
			name += "[ARG]"
		}
		fmt.Fprintf(w, "%-20s %s\n", name, f.Desc)
	}
	return nil
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

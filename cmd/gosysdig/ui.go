package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/procfs"
	"github.com/gosysdig/gosysdig/state"
	"github.com/gosysdig/gosysdig/ui"
)

type uiOptions struct {
	read      string
	delayMS   int
	view      string
	listViews bool
}

// newUICmd is `gosysdig ui`: csysdig's interactive views over the live system or a capture.
func newUICmd() *cobra.Command {
	var uo uiOptions
	cmd := &cobra.Command{
		Use:   "ui [flags] [filter]",
		Short: "interactive views of processes, files, connections... (csysdig)",
		Long: "Interactive csysdig-style views, live (as root) or of a capture (-r). Keys: F2 views, " +
			"Enter drill down, Backspace back, F4 filter, F5/e echo, F6/d dig, F9/> sort, / search, p pause, q quit.",
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUI(cmd.OutOrStdout(), &uo, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&uo.read, "read", "r", "", "browse this capture file instead of the live system")
	f.IntVarP(&uo.delayMS, "delay", "d", 2000, "refresh interval in milliseconds (event time when reading a capture)")
	f.StringVarP(&uo.view, "view", "v", "procs", "the view to start with (see --list-views)")
	f.BoolVar(&uo.listViews, "list-views", false, "list the views and exit")
	return cmd
}

func runUI(w io.Writer, uo *uiOptions, args []string) error {
	if uo.listViews {
		ui.ListViews(w)
		return nil
	}
	v := ui.FindView(uo.view)
	if v == nil {
		return &exitError{code: 1, msg: fmt.Sprintf("unknown view %q (see gosysdig ui --list-views)", uo.view)}
	}
	if uo.delayMS <= 0 {
		return &exitError{code: 1, msg: "-d needs a positive number of milliseconds"}
	}
	o := &options{read: uo.read, snaplen: 80}
	filterText := strings.Join(args, " ")
	// Check the filter before the screen is taken.
	if _, err := newUIPipeline(o, args); err != nil {
		return err
	}
	cfg := ui.Config{
		Replay:   uo.read != "",
		Source:   uo.read,
		Interval: time.Duration(uo.delayMS) * time.Millisecond,
		View:     v,
		Filter:   filterText,
		Stop:     errStop,
	}
	if cfg.Replay {
		r, err := capture.Open(uo.read)
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		r.Close()
		cfg.Run = func(s *ui.Sink) error { return replayUI(o, args, s) }
	} else {
		var events, drops atomic.Uint64
		cfg.Stats = func() (uint64, uint64) { return events.Load(), drops.Load() }
		cfg.Run = func(s *ui.Sink) error {
			p, err := newUIPipeline(o, args)
			if err != nil {
				return err
			}
			p.sinks = []sink{s}
			p.wrap = func(src source) source {
				ps := newProcinfoSource(src, p.in)
				ps.Refresh = func() { addMissingProcesses(p.in) }
				return ps
			}
			return runLivePipeline(p, o, nil, func(e, d uint64) { events.Store(e); drops.Store(d) })
		}
	}
	restore := holdStderr()
	err := ui.Run(cfg)
	restore()
	var pe *ui.PanicError
	if errors.As(err, &pe) {
		fmt.Fprintln(os.Stderr, pe.Error())
		os.Exit(2)
	}
	if err != nil {
		if _, ok := err.(*exitError); ok {
			return err
		}
		return &exitError{code: 1, msg: err.Error()}
	}
	return nil
}

// holdStderr keeps what is written on stderr (fd 2: warnings of the pipeline's parts) off the
// screen while the UI owns it; the returned function puts fd 2 back and prints what was held.
func holdStderr() (restore func()) {
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	saved, err := unix.Dup(2)
	if err != nil {
		r.Close()
		w.Close()
		return func() {}
	}
	if err := unix.Dup2(int(w.Fd()), 2); err != nil {
		unix.Close(saved)
		r.Close()
		w.Close()
		return func() {}
	}
	// A panic the UI does not recover (in a goroutine of its own) kills the process while fd 2
	// is still the pipe: the runtime also writes its crash report to the real stderr.
	if d, err := unix.Dup(saved); err == nil {
		f := os.NewFile(uintptr(d), "stderr")
		_ = debug.SetCrashOutput(f, debug.CrashOptions{}) // it keeps its own copy of the fd
		f.Close()
	}
	var held bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if held.Len() < 64<<10 {
				held.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return func() {
		_ = debug.SetCrashOutput(nil, debug.CrashOptions{})
		_ = unix.Dup2(saved, 2)
		unix.Close(saved)
		w.Close()
		<-done
		r.Close()
		os.Stderr.Write(held.Bytes())
	}
}

// newUIPipeline is the pipeline the UI's sink joins: the command line's filter, no printer.
func newUIPipeline(o *options, args []string) (*pipeline, error) {
	p, err := newPipeline(io.Discard, o, args)
	if err != nil {
		return nil, err
	}
	p.sinks = nil
	return p, nil
}

// replayUI reads the capture once through a new pipeline into the UI's sink.
func replayUI(o *options, args []string, s *ui.Sink) error {
	r, err := capture.Open(o.read)
	if err != nil {
		return err
	}
	defer r.Close()
	p, err := newUIPipeline(o, args)
	if err != nil {
		return err
	}
	p.sinks = []sink{s}
	p.in.LoadHeader(r.Header())
	if err := p.run(r, o.read, func() { p.in.Reset(); p.in.LoadHeader(r.Header()) }); err != nil {
		if e, ok := err.(*exitError); ok {
			return fmt.Errorf("%s", e.msg)
		}
		return err
	}
	return nil
}

// addMissingProcesses adds the processes of /proc that the state does not know, which happens
// when the probe dropped their clone and execve: the views still list them, as top would.
func addMissingProcesses(in *state.Inspector) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || in.Lookup(pid) != nil || pid == int64(os.Getpid()) {
			continue
		}
		if t := readProcThread(pid); t != nil {
			in.AddThread(t)
		}
	}
}

// readProcThread reads a process's main thread from /proc, as the /proc scan at start does.
func readProcThread(pid int64) *state.Thread {
	ct, ok := procfs.ReadProcess("/proc", pid)
	if !ok {
		return nil
	}
	return state.ThreadFromCapture(&ct)
}

package main

import (
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/chisels"
	"github.com/gosysdig/gosysdig/fields"
)

// chiselSink runs a chisel on every event that passed the user's filter.
type chiselSink struct {
	ch *chisels.Chisel
}

// newChiselSink loads chisel name (a name in the search path or a path to a .lua file) and gives
// it the next N positional arguments, N being the number of arguments it declares (fewer when
// fewer remain); the rest are the filter, which the chisel's own filter adds to.
func newChiselSink(name string, args []string, p *pipeline) (sink, []string, error) {
	cfg := &chisels.Config{
		Out:   p.bw,
		Ctx:   p.ctx,
		JSON:  p.o.json,
		Input: p.o.read,
		Live:  p.o.read == "",
		LastTS: func() uint64 {
			if p.ctx.Ev == nil {
				return 0
			}
			return p.ctx.Ev.TS
		},
	}
	ch, err := chisels.Load(name, cfg)
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	total, _ := ch.NArgs()
	n := total
	if n > len(args) {
		n = len(args)
	}
	vals, rest := args[:n], args[n:]
	cfg.Filter = strings.Join(rest, " ")
	if err := ch.SetArgs(vals); err != nil {
		ch.Close()
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	if err := ch.Init(); err != nil {
		ch.Close()
		p.bw.Flush() // what on_init printed before failing
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	return &chiselSink{ch: ch}, rest, nil
}

func (s *chiselSink) Event(c *fields.Ctx) error {
	err := s.ch.Event(c)
	if errors.Is(err, chisels.ErrEndCapture) {
		return errStop
	}
	return err
}

func (s *chiselSink) Close() error {
	err := s.ch.CaptureEnd()
	s.ch.Close()
	return err
}

// listChisels prints the chisels by category, as sysdig -cl does.
func listChisels(w io.Writer) error {
	chisels.WriteList(w, chisels.List(chisels.SearchDirs()), true)
	return nil
}

// describeChisel prints one chisel's description and arguments, as sysdig -i does.
func describeChisel(w io.Writer, name string) error {
	info, err := chisels.Describe(name, chisels.SearchDirs())
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	chisels.WriteInfo(w, info)
	return nil
}

// addChiselFlags adds -i NAME (describe a chisel) and makes -cl (which pflag reads as -c l) and
// --list-chisels list the chisels; both work without a capture.
func addChiselFlags(cmd *cobra.Command, o *options) {
	var info string
	cmd.Flags().StringVarP(&info, "chisel-info", "i", "", "describe a chisel (its description and arguments)")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		switch {
		case info != "":
			return describeChisel(c.OutOrStdout(), info)
		case o.chisel == "l" || o.listChisel:
			return listChisels(c.OutOrStdout())
		}
		return run(c, args)
	}
}

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/chisels"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/filter"
)

// chiselSink runs a chisel on every event that passed the user's filter.
type chiselSink struct {
	ch *chisels.Chisel
}

// newChiselSink loads chisel name (a name in the search path or a path to a .lua file) and takes
// its arguments from args the way sysdig 0.29.3 does (parse_chisel_args): a chisel that declares
// arguments consumes the next token, which holds all of them separated by spaces ('...' or `...`
// quote one with spaces), when it has a required one, or when its only argument is a filter, or
// when the rest of the command line is not a valid filter. The remaining tokens are the filter, which
// the chisel's own filter adds to.
func newChiselSink(name string, args []string, p *pipeline) (sink, []string, error) {
	cfg := &chisels.Config{
		Out:            p.bw,
		Ctx:            p.ctx,
		JSON:           p.o.json,
		Input:          p.o.read,
		Live:           p.o.read == "",
		PrintContainer: p.o.printContainer,
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
	fail := func(err error) (sink, []string, error) {
		ch.Close()
		p.bw.Flush() // what the chisel printed before failing
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	vals, rest, err := chiselArgs(ch, name, args)
	if err != nil {
		return fail(err)
	}
	cfg.Filter = strings.Join(rest, " ")
	if err := ch.SetArgs(vals); err != nil {
		return fail(err)
	}
	if err := ch.Init(); err != nil {
		return fail(err)
	}
	return &chiselSink{ch: ch}, rest, nil
}

// chiselArgs splits the positional arguments into the chisel's and the filter's.
func chiselArgs(ch *chisels.Chisel, name string, args []string) (vals, rest []string, err error) {
	total, required := ch.NArgs()
	if total == 0 {
		return nil, args, nil
	}
	if len(args) == 0 {
		if required > 0 {
			return nil, nil, fmt.Errorf("missing arguments for chisel %s", name)
		}
		return nil, args, nil
	}
	tok := args[0]
	take := required > 0
	if !take && !strings.HasPrefix(tok, "-") {
		if total == 1 && ch.Info().Args[0].Type == "filter" {
			take = true
		} else if _, ferr := filter.Compile(strings.Join(args, " ")); ferr != nil {
			take = true
		}
	}
	if !take {
		return nil, args, nil
	}
	vals, err = splitChiselArgs(tok, name)
	return vals, args[1:], err
}

// splitChiselArgs is sysdig's set_args(string): values separated by spaces, a value starting with
// ' or ` running to the matching quote.
func splitChiselArgs(s, name string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []string
	begin, correction, inQuotes := 0, 0, false
	j := 0
	for ; j < len(s); j++ {
		switch c := s[j]; {
		case c == ' ' && !inQuotes:
			out = append(out, s[begin:max(begin, j-correction)])
			begin, correction = j+1, 0
		case c == '\'' || c == '`':
			if inQuotes {
				correction, inQuotes = 1, false
			} else {
				begin++
				inQuotes = true
			}
		}
	}
	if inQuotes {
		return nil, fmt.Errorf("corrupted parameters for chisel %s", name)
	}
	return append(out, s[begin:max(begin, j-correction)]), nil
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

package main

import (
	"fmt"
	"os"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// dumper writes events to a capture file (-w).
type dumper struct {
	f    *os.File
	w    *capture.Writer
	name string
}

func openDumper(name string, h *capture.Header, compress bool) (*dumper, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot write capture: %w", err)
	}
	w, err := capture.NewWriter(f, h, compress)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &dumper{f: f, w: w, name: name}, nil
}

// write is a no-op on a nil dumper, so the pipeline can call it unconditionally.
func (d *dumper) write(ev *event.Event, flags uint32) error {
	if d == nil {
		return nil
	}
	if err := d.w.WriteEvent(ev, flags); err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}

func (d *dumper) Close() error {
	if d == nil {
		return nil
	}
	err := d.w.Close()
	if cerr := d.f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}

package main

import (
	"fmt"
	"github.com/gosysdig/gosysdig/internal/safefile"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// rotation holds sysdig's -C, -G, -e and -W settings.
type rotation struct {
	sizeBytes int64  // -C: megabytes (10^6) per file
	period    uint64 // -G: nanoseconds per file
	events    int64  // -e: events per file
	maxFiles  int    // -W: ring of files (with -C/-e) or number of files (with -G)
}

func (r rotation) active() bool { return r.sizeBytes > 0 || r.period > 0 || r.events > 0 }

// dumper writes events to a capture file (-w), rotating files as sysdig does.
type dumper struct {
	base     string
	compress bool
	rot      rotation
	snapshot func() *capture.Header

	f       *os.File
	w       *capture.Writer
	name    string
	index   int    // files started with -C/-e
	created int    // files started in all
	events  int64  // events in the current file
	startTS uint64 // timestamp of the current file's first event (-G)
	flushTS uint64 // timestamp of the last flush

	containers func() [][]byte // JSON of the containers to head each file with (live; nil: none)
}

func openDumper(name string, h *capture.Header, compress bool, rot rotation, snapshot func() *capture.Header) (*dumper, error) {
	d := &dumper{base: name, compress: compress, rot: rot, snapshot: snapshot}
	if err := d.open(h, 0); err != nil {
		return nil, err
	}
	return d, nil
}

// fileName is the name of the next file: -G names go through strftime, -C and -e add a number.
func (d *dumper) fileName(ts uint64) string {
	n := d.base
	if d.rot.period > 0 {
		t := time.Now()
		if ts != 0 {
			t = time.Unix(0, int64(ts))
		}
		n = strftime(n, t)
	}
	if d.rot.sizeBytes > 0 || d.rot.events > 0 {
		i := d.index
		if d.rot.maxFiles > 0 {
			i %= d.rot.maxFiles
		}
		n += strconv.Itoa(i)
	}
	return n
}

func (d *dumper) open(h *capture.Header, ts uint64) error {
	name := d.fileName(ts)
	f, err := safefile.Create(name)
	if err != nil {
		return fmt.Errorf("cannot write capture: %w", err)
	}
	w, err := capture.NewWriter(f, h, d.compress)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	d.f, d.w, d.name = f, w, name
	d.events, d.startTS = 0, ts
	d.index++
	d.created++
	return nil
}

// write is a no-op on a nil dumper, so the pipeline can call it unconditionally. It returns
// errStop when -G with -W has made its last file.
func (d *dumper) write(ev *event.Event, flags uint32) error {
	if d == nil {
		return nil
	}
	if d.startTS == 0 {
		d.startTS = ev.TS
	}
	if d.rot.active() && d.due(ev) {
		if d.rot.period > 0 && d.rot.maxFiles > 0 && d.rot.sizeBytes == 0 && d.created >= d.rot.maxFiles {
			return errStop
		}
		if err := d.closeFile(); err != nil {
			return err
		}
		if err := d.open(d.snapshot(), ev.TS); err != nil {
			return err
		}
		if err := d.writeContainers(ev.TS); err != nil {
			return err
		}
	}
	if d.containers != nil && ev.Type == capture.ContainerEventType {
		// A container found live is metadata, as the containers at the head of the file
		// are: written visible, whatever the filter.
		flags &^= capture.DumpStateOnly
	}
	if err := d.w.WriteEvent(ev, flags); err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	d.events++
	// Whole blocks reach the file at least once a second, so a killed capture loses at most
	// the last second.
	if ev.TS-d.flushTS >= 1e9 {
		d.flushTS = ev.TS
		if err := d.w.Flush(); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

func (d *dumper) due(ev *event.Event) bool {
	switch {
	case d.rot.sizeBytes > 0 && d.w.Written() >= d.rot.sizeBytes:
		return true
	case d.rot.events > 0 && d.events >= d.rot.events:
		return true
	case d.rot.period > 0 && ev.TS-d.startTS >= d.rot.period:
		return true
	}
	return false
}

// writeContainers writes the containers known as CONTAINER_JSON_2 events right after the
// header blocks of the file just opened, as sysdig's dumper does (ts 0: now).
func (d *dumper) writeContainers(ts uint64) error {
	if d == nil || d.containers == nil {
		return nil
	}
	if ts == 0 {
		ts = uint64(time.Now().UnixNano())
	}
	for _, j := range d.containers() {
		if err := d.w.WriteContainer(ts, j); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

// Flush makes everything written so far readable (whole blocks), for periodic syncs.
func (d *dumper) Flush() error {
	if d == nil {
		return nil
	}
	return d.w.Flush()
}

func (d *dumper) closeFile() error {
	err := d.w.Close()
	if cerr := d.f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}

func (d *dumper) Close() error {
	if d == nil {
		return nil
	}
	return d.closeFile()
}

// strftime expands the conversions sysdig's -G file names use.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case 'b':
			b.WriteString(t.Month().String()[:3])
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// Write is write for the capture loop (session.Dumper).
func (d *dumper) Write(ev *event.Event, flags uint32) error { return d.write(ev, flags) }

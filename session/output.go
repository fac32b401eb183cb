// Package session holds the bookkeeping of gosysdig's capture loop that is not about events
// themselves: how the output reaches stdout while the capture runs, and how SIGINT and SIGTERM
// end it.
package session

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Mode says when buffered output reaches the underlying writer.
type Mode int

const (
	// Periodic output (a pipe or a file) is written when the buffer fills, on Flush, and every
	// FlushInterval by a background flusher, so a reader sees events as they happen.
	Periodic Mode = iota
	// Line output (a terminal) is written at the end of every write that ends a line, as stdio
	// does for a terminal.
	Line
	// Unbuffered output (--unbuffered) is written after every write, as sysdig's flag.
	Unbuffered
)

// FlushInterval is how long periodic output may wait in the buffer.
const FlushInterval = 100 * time.Millisecond

// bufferLimit is the buffered size past which a write waits for the buffer to be written.
const bufferLimit = 256 << 10

// ModeFor picks the mode sysdig's stdio would: line buffering for a terminal, unbuffered with
// --unbuffered, periodic otherwise.
func ModeFor(f *os.File, unbuffered bool) Mode {
	if unbuffered {
		return Unbuffered
	}
	if f != nil {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return Line
		}
	}
	return Periodic
}

// Output buffers what the capture loop prints. Writes append to a buffer under a short lock and
// never wait for the underlying writer unless the buffer is full or the mode asks for it; the
// flusher swaps the buffer out and writes it without the lock, so a slow reader slows the event
// loop only once the buffer is full (as a blocking stdout would slow sysdig).
type Output struct {
	w    io.Writer
	mode Mode

	mu    sync.Mutex // guards buf, spare, err
	buf   []byte
	spare []byte
	err   error

	wmu sync.Mutex // held while the buffer is written out: one writer to w at a time

	stop chan struct{}
	done chan struct{}
}

// NewOutput returns an Output writing to w in mode; Periodic output starts its flusher, which
// Close stops.
func NewOutput(w io.Writer, mode Mode) *Output {
	o := &Output{w: w, mode: mode, buf: make([]byte, 0, 64<<10), spare: make([]byte, 0, 64<<10)}
	if mode == Periodic {
		o.stop, o.done = make(chan struct{}), make(chan struct{})
		go o.flusher()
	}
	return o
}

func (o *Output) flusher() {
	defer close(o.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.Flush()
		}
	}
}

// Write buffers p. It returns the error of an earlier write to the underlying writer, which
// ends the capture (ErrBrokenPipe when the reader went away).
func (o *Output) Write(p []byte) (int, error) { return write(o, p) }

// WriteString is Write for a string, without converting it.
func (o *Output) WriteString(s string) (int, error) { return write(o, s) }

// write is Write and WriteString in one body: appending a string or a []byte to the buffer
// needs no conversion either way.
func write[T string | []byte](o *Output, p T) (int, error) {
	o.mu.Lock()
	if o.err != nil {
		err := o.err
		o.mu.Unlock()
		return 0, err
	}
	o.buf = append(o.buf, p...)
	now := o.mode == Unbuffered || len(o.buf) >= bufferLimit ||
		(o.mode == Line && len(p) > 0 && p[len(p)-1] == '\n')
	o.mu.Unlock()
	if now {
		if err := o.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// ErrBrokenPipe is the error of a write whose reader went away (EPIPE): the capture ends
// quietly, as sysdig's does.
var ErrBrokenPipe = errors.New("output reader went away")

// Flush writes what is buffered.
func (o *Output) Flush() error {
	o.wmu.Lock()
	defer o.wmu.Unlock()
	o.mu.Lock()
	if o.err != nil || len(o.buf) == 0 {
		err := o.err
		o.mu.Unlock()
		return err
	}
	out := o.buf
	o.buf = o.spare[:0]
	o.mu.Unlock()
	_, err := o.w.Write(out)
	if errors.Is(err, syscall.EPIPE) {
		err = ErrBrokenPipe
	}
	o.mu.Lock()
	o.spare = out[:0]
	if err != nil && o.err == nil {
		o.err = err
	}
	err = o.err
	o.mu.Unlock()
	return err
}

// Close stops the flusher and writes what is left.
func (o *Output) Close() error {
	if o.stop != nil {
		close(o.stop)
		<-o.done
		o.stop = nil
	}
	return o.Flush()
}

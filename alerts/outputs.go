package alerts

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gosysdig/gosysdig/internal/safefile"
	"github.com/gosysdig/gosysdig/rules"
)

// Format renders an alert as one line: Falco's text line, or Falco's JSON object (time, rule,
// priority, output, output_fields, source, tags, hostname).
type Format struct {
	JSON     bool
	Hostname string
}

// Line is a rendered with its newline.
func (f Format) Line(a *rules.Alert) []byte {
	var b []byte
	if f.JSON {
		b = a.JSON(f.Hostname)
	} else {
		b = []byte(a.Text())
	}
	return append(b, '\n')
}

// deadlineWriter is a writer whose writes can be given a deadline (pipes, sockets, and files
// the runtime polls).
type deadlineWriter interface {
	SetWriteDeadline(t time.Time) error
}

// setDeadline applies ctx's deadline to w when w supports one; regular files and terminals
// do not, and a write to them that blocks is left to Close's bounded wait.
// It returns a function to call once the write is over; until then, cancelling ctx ends the
// write at once.
func setDeadline(ctx context.Context, w io.Writer) (done func() bool) {
	dw, ok := w.(deadlineWriter)
	if !ok {
		return func() bool { return true }
	}
	if t, ok := ctx.Deadline(); ok {
		_ = dw.SetWriteDeadline(t)
	}
	return context.AfterFunc(ctx, func() { _ = dw.SetWriteDeadline(time.Now()) })
}

// WriterOutput writes alerts to a stream (stdout).
type WriterOutput struct {
	name string
	f    Format
	w    io.Writer
	bw   *bufio.Writer
}

// NewWriterOutput writes to w (named name in reports).
func NewWriterOutput(name string, w io.Writer, f Format) *WriterOutput {
	return &WriterOutput{name: name, f: f, w: w, bw: bufio.NewWriter(w)}
}

func (o *WriterOutput) Name() string { return o.name }

func (o *WriterOutput) Write(ctx context.Context, a *rules.Alert) error {
	defer setDeadline(ctx, o.w)()
	_, err := o.bw.Write(o.f.Line(a))
	return err
}

func (o *WriterOutput) Flush(ctx context.Context) error {
	defer setDeadline(ctx, o.w)()
	return o.bw.Flush()
}

func (o *WriterOutput) Close(ctx context.Context) error { return o.Flush(ctx) }

// FileOutput appends alerts to a file, reopening it after an error (and on Reopen, for log
// rotation). The file is opened without following a symbolic link and created 0600.
type FileOutput struct {
	f    Format
	path string
	fd   *os.File
	bw   *bufio.Writer
}

// OpenFileOutput opens path for appending, so that a bad path is reported at start.
func OpenFileOutput(path string, f Format) (*FileOutput, error) {
	o := &FileOutput{f: f, path: path}
	if err := o.open(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *FileOutput) Name() string { return "file " + o.path }

func (o *FileOutput) open() error {
	fd, err := safefile.Append(o.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", o.path, err)
	}
	o.fd, o.bw = fd, bufio.NewWriter(fd)
	return nil
}

func (o *FileOutput) Write(ctx context.Context, a *rules.Alert) error {
	if o.fd == nil {
		if err := o.open(); err != nil {
			return err
		}
	}
	_, err := o.bw.Write(o.f.Line(a))
	if err != nil {
		o.drop()
	}
	return err
}

func (o *FileOutput) Flush(ctx context.Context) error {
	if o.fd == nil {
		return nil
	}
	if err := o.bw.Flush(); err != nil {
		o.drop()
		return err
	}
	return nil
}

func (o *FileOutput) drop() {
	o.fd.Close()
	o.fd, o.bw = nil, nil
}

func (o *FileOutput) Close(ctx context.Context) error {
	if o.fd == nil {
		return nil
	}
	err := o.bw.Flush()
	if cerr := o.fd.Close(); err == nil {
		err = cerr
	}
	o.fd = nil
	return err
}

// SyslogOutput sends each alert as one datagram to the syslog socket, facility user, severity
// the rule's priority (Falco's priorities are syslog's severities).
type SyslogOutput struct {
	f    Format
	path string
	conn net.Conn
	now  func() time.Time
}

// NewSyslogOutput sends to the unix datagram socket at path (/dev/log).
func NewSyslogOutput(path string, f Format) *SyslogOutput {
	return &SyslogOutput{f: f, path: path, now: time.Now}
}

func (o *SyslogOutput) Name() string { return "syslog " + o.path }

func (o *SyslogOutput) Write(ctx context.Context, a *rules.Alert) error {
	if o.conn == nil {
		var dl net.Dialer
		c, err := dl.DialContext(ctx, "unixgram", o.path)
		if err != nil {
			return err
		}
		o.conn = c
	}
	const facilityUser = 1
	msg := fmt.Appendf(nil, "<%d>%s gosysdig[%d]: ", facilityUser*8+int(a.Priority),
		o.now().Format(time.Stamp), os.Getpid())
	line := o.f.Line(a)
	msg = append(msg, line[:len(line)-1]...)
	if t, ok := ctx.Deadline(); ok {
		_ = o.conn.SetWriteDeadline(t)
	}
	if _, err := o.conn.Write(msg); err != nil {
		o.conn.Close()
		o.conn = nil
		return err
	}
	return nil
}

func (o *SyslogOutput) Flush(ctx context.Context) error { return nil }

func (o *SyslogOutput) Close(ctx context.Context) error {
	if o.conn == nil {
		return nil
	}
	return o.conn.Close()
}

package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gosysdig/gosysdig/rules"
)

// ProgramOutput writes alerts to the stdin of a shell command, kept running (Falco's
// program_output with keep_alive). Writes have a deadline (the pipe is non-blocking); a
// program that exits is started again, at most once per restartDelay, and the alerts it left
// unread in the pipe are counted as lost. Close ends the program within its deadline: stdin
// is closed, then the program's process group is killed.
type ProgramOutput struct {
	f      Format
	cmd    string
	stderr io.Writer

	proc    *exec.Cmd
	stdin   *os.File
	exited  chan struct{}
	pipeCap int64
	written int64   // bytes written to the current pipe
	ends    []int64 // end offsets of the alerts that may still be in the pipe
	nextRun time.Time
	unread  func(n int64) // counts alerts found unread when the program exited
}

const restartDelay = time.Second

// NewProgramOutput runs cmd with /bin/sh -c; its stdout and stderr go to stderr.
func NewProgramOutput(cmd string, f Format, stderr io.Writer) *ProgramOutput {
	return &ProgramOutput{f: f, cmd: cmd, stderr: stderr}
}

func (o *ProgramOutput) Name() string { return "program " + strconv.Quote(o.cmd) }

func (o *ProgramOutput) start() error {
	if now := time.Now(); now.Before(o.nextRun) {
		return fmt.Errorf("program exited; not restarted before %s", o.nextRun.Format("15:04:05.000"))
	}
	o.nextRun = time.Now().Add(restartDelay)
	pr, pw, err := os.Pipe() // non-blocking write end: deadlines work
	if err != nil {
		return err
	}
	c := exec.Command("/bin/sh", "-c", o.cmd)
	c.Stdin, c.Stdout, c.Stderr = pr, o.stderr, o.stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("start %s: %w", o.cmd, err)
	}
	pr.Close()
	o.proc, o.stdin, o.exited = c, pw, make(chan struct{})
	o.written, o.ends = 0, o.ends[:0]
	o.pipeCap = 64 << 10
	// Not pw.Fd(): it would put the pipe back in blocking mode, and deadlines would not work.
	if rc, err := pw.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n > 0 {
				o.pipeCap = int64(n)
			}
		})
	}
	exited := o.exited
	go func() { _ = c.Wait(); close(exited) }()
	return nil
}

func (o *ProgramOutput) Write(ctx context.Context, a *rules.Alert) error {
	if o.proc != nil {
		select {
		case <-o.exited:
			o.reap()
		default:
		}
	}
	if o.proc == nil {
		if err := o.start(); err != nil {
			return err
		}
	}
	line := o.f.Line(a)
	if t, ok := ctx.Deadline(); ok {
		_ = o.stdin.SetWriteDeadline(t)
	}
	stdin := o.stdin
	stop := context.AfterFunc(ctx, func() { _ = stdin.SetWriteDeadline(time.Now()) }) // cancelled: end the write now
	n, err := o.stdin.Write(line)
	stop()
	o.written += int64(n)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && n == 0 {
			return fmt.Errorf("program does not read its input: %w", err)
		}
		// A partial line or a closed pipe: the program is gone or broken; start afresh.
		o.reap()
		return err
	}
	o.ends = append(o.ends, o.written)
	// Alerts more than a pipe's capacity behind have surely been read.
	i := 0
	for i < len(o.ends) && o.written-o.ends[i] >= o.pipeCap {
		i++
	}
	o.ends = o.ends[i:]
	return nil
}

// reap closes the pipe of a program that exited (or broke). The alerts written within the
// last pipe's worth of bytes may never have been read, or were read and discarded (head -1
// reads ahead): they are counted as lost, not delivered, since nothing confirms them.
func (o *ProgramOutput) reap() {
	if o.proc == nil {
		return
	}
	select {
	case <-o.exited:
	case <-time.After(100 * time.Millisecond): // a broken pipe comes just before the exit
		o.kill()
	}
	o.countUnconfirmed()
	o.stdin.Close()
	o.proc, o.stdin = nil, nil
}

// countUnconfirmed counts the alerts possibly still in the pipe as lost.
func (o *ProgramOutput) countUnconfirmed() {
	if o.unread != nil && len(o.ends) > 0 {
		o.unread(int64(len(o.ends)))
	}
	o.ends = o.ends[:0]
}

func (o *ProgramOutput) kill() {
	if o.proc != nil && o.proc.Process != nil {
		_ = syscall.Kill(-o.proc.Process.Pid, syscall.SIGKILL)
	}
}

func (o *ProgramOutput) Flush(ctx context.Context) error { return nil }

// Close closes the program's stdin and waits for it to exit until ctx's deadline, then kills
// its process group.
func (o *ProgramOutput) Close(ctx context.Context) error {
	if o.proc == nil {
		return nil
	}
	select {
	case <-o.exited: // exited by itself, maybe before reading what was written
		o.countUnconfirmed()
		o.stdin.Close()
		return nil
	default:
	}
	o.stdin.Close()
	select {
	case <-o.exited:
		return nil
	case <-ctx.Done():
	}
	o.kill()
	o.countUnconfirmed()
	select {
	case <-o.exited:
	case <-time.After(100 * time.Millisecond):
	}
	return fmt.Errorf("program did not exit when its input closed: killed")
}

package session

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestPeriodicReachesPipeMidRun checks that periodic output reaches a pipe within about
// FlushInterval, without Flush or Close being called.
func TestPeriodicReachesPipeMidRun(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	o := NewOutput(w, ModeFor(w, false))
	if o.mode != Periodic {
		t.Fatalf("a pipe should be periodic, got mode %d", o.mode)
	}
	start := time.Now()
	o.Write([]byte("line one\n"))
	buf := make([]byte, 64)
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "line one\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if d := time.Since(start); d > 3*FlushInterval {
		t.Fatalf("output took %v to reach the pipe", d)
	}
	o.Close()
	w.Close()
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	release chan struct{}
	got     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return b.got.Write(p)
}

// TestWriteDoesNotWaitForSlowReader checks that while the flusher is stuck writing, the event
// loop's writes still return at once (below the buffer limit), and nothing is lost.
func TestWriteDoesNotWaitForSlowReader(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	o := NewOutput(bw, Periodic)
	o.Write([]byte("first\n"))
	time.Sleep(3 * FlushInterval) // the flusher is now blocked in bw.Write
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			o.Write([]byte("more\n"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("writes waited for a blocked reader")
	}
	close(bw.release)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if want := 6 + 5*1000; bw.got.Len() != want {
		t.Fatalf("wrote %d bytes, want %d", bw.got.Len(), want)
	}
}

// countingWriter counts its writes.
type countingWriter struct{ writes []string }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestLineAndUnbufferedModes(t *testing.T) {
	c := &countingWriter{}
	o := NewOutput(c, Line)
	o.Write([]byte("par"))
	o.Write([]byte("tial\n"))
	o.WriteString("next\n")
	if len(c.writes) != 2 || c.writes[0] != "partial\n" || c.writes[1] != "next\n" {
		t.Fatalf("line mode wrote %q", c.writes)
	}
	c = &countingWriter{}
	o = NewOutput(c, Unbuffered)
	o.Write([]byte("a"))
	o.Write([]byte("b"))
	if len(c.writes) != 2 {
		t.Fatalf("unbuffered mode wrote %q", c.writes)
	}
}

// TestBrokenPipe checks that a reader going away gives ErrBrokenPipe, not a signal death.
func TestBrokenPipe(t *testing.T) {
	release := Interrupts(func() {}) // turns SIGPIPE into EPIPE
	defer release()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	o := NewOutput(w, Unbuffered)
	_, err = o.Write([]byte("x\n"))
	if !errors.Is(err, ErrBrokenPipe) {
		t.Fatalf("got %v, want ErrBrokenPipe", err)
	}
	if _, err := o.Write([]byte("y\n")); !errors.Is(err, ErrBrokenPipe) {
		t.Fatalf("a later write got %v", err)
	}
	w.Close()
}

// TestInterrupts checks that the first SIGINT calls stop and the second ends the process at
// once with 130, and that a drain longer than DrainLimit ends it too.
func TestInterrupts(t *testing.T) {
	exited := make(chan int, 2)
	exit = func(code int) { exited <- code }
	defer func() { exit = os.Exit }()
	stopped := make(chan struct{}, 1)
	release := Interrupts(func() { stopped <- struct{}{} })
	defer release()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("first SIGINT did not stop the capture")
	}
	select {
	case c := <-exited:
		t.Fatalf("first SIGINT ended the process (%d)", c)
	case <-time.After(100 * time.Millisecond):
	}
	start := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case c := <-exited:
		if c != 130 {
			t.Fatalf("exit code %d, want 130", c)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("second SIGINT took %v", d)
		}
	case <-time.After(time.Second):
		t.Fatal("second SIGINT did not end the process")
	}
}

func TestDrainLimit(t *testing.T) {
	exited := make(chan int, 2)
	exit = func(code int) { exited <- code }
	defer func() { exit = os.Exit }()
	release := Interrupts(func() {})
	defer release()
	start := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case c := <-exited:
		d := time.Since(start)
		if c != 143 || d < DrainLimit-100*time.Millisecond || d > DrainLimit+time.Second {
			t.Fatalf("exit %d after %v", c, d)
		}
	case <-time.After(DrainLimit + 2*time.Second):
		t.Fatal("a drain past DrainLimit did not end the process")
	}
}

var _ io.Writer = (*Output)(nil)

// TestDrainProgress: a drain that keeps reading events goes on past DrainLimit; once it stops
// progressing, the process ends DrainLimit later.
func TestDrainProgress(t *testing.T) {
	exited := make(chan int, 2)
	exit = func(code int) { exited <- code }
	defer func() { exit = os.Exit }()
	var n atomic.Uint64
	stopProgress := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopProgress:
				return
			case <-time.After(100 * time.Millisecond):
				n.Add(1)
			}
		}
	}()
	release := InterruptsProgress(func() {}, n.Load)
	defer release()
	start := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case c := <-exited:
		t.Fatalf("exit %d after %v while the drain progressed", c, time.Since(start))
	case <-time.After(DrainLimit + 1500*time.Millisecond):
	}
	close(stopProgress)
	select {
	case c := <-exited:
		if c != 130 {
			t.Fatalf("exit %d", c)
		}
	case <-time.After(2*DrainLimit + time.Second):
		t.Fatal("a drain without progress did not end the process")
	}
}

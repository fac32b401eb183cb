package chisels

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ErrInterrupted is wrapped by the error of a chisel callback that was stopped: by Interrupt,
// or by the watchdog because it ran longer than Config.CallbackTimeout.
var ErrInterrupted = errors.New("chisel interrupted")

// DefaultCallbackTimeout bounds one chisel callback (the top level, on_set_arg, on_init,
// on_capture_start, on_event, on_interval, on_capture_end) when Config.CallbackTimeout is 0.
// sysdig's stock chisels take milliseconds even in on_capture_end over large tables.
const DefaultCallbackTimeout = 10 * time.Second

const (
	stopNone int32 = iota
	stopTimeout
	stopInterrupt
)

// watchdog interrupts a runaway Lua callback. The Lua state runs with a cancellable context
// (gopher-lua checks it before every instruction), and a goroutine watches the callbacks: each
// one bumps a sequence number when it starts, and one that is still running with the same number
// after the timeout gets its context cancelled. The per-callback cost is two atomic stores; no
// timer is armed per event.
type watchdog struct {
	ctx *stopContext

	seq     atomic.Uint64          // incremented at every callback start
	busy    atomic.Bool            // a callback is running
	current atomic.Pointer[string] // the running callback's name
	stop    atomic.Int32           // why the context was cancelled
	stopped string                 // the callback that was running then (under mu)
	mu      sync.Mutex

	timeout time.Duration
	quit    chan struct{}
	done    chan struct{}
}

// newWatchdog attaches a watchdog to L; timeout <= 0 disables the timeout (Interrupt still works).
func newWatchdog(L *lua.LState, timeout time.Duration) *watchdog {
	w := &watchdog{timeout: timeout, quit: make(chan struct{}), done: make(chan struct{})}
	w.ctx = &stopContext{done: make(chan struct{})}
	L.SetContext(w.ctx)
	if timeout > 0 {
		go w.watch()
	} else {
		close(w.done)
	}
	return w
}

func (w *watchdog) watch() {
	defer close(w.done)
	tick := w.timeout / 10
	if tick > 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	if tick < time.Millisecond {
		tick = time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var seen uint64
	var since time.Time
	for {
		select {
		case <-w.quit:
			return
		case now := <-t.C:
			if !w.busy.Load() {
				since = time.Time{}
				continue
			}
			s := w.seq.Load()
			if s != seen || since.IsZero() {
				seen, since = s, now
				continue
			}
			if now.Sub(since) >= w.timeout {
				w.fire(stopTimeout)
				return
			}
		}
	}
}

// fire cancels the Lua state's context, remembering why and in which callback.
func (w *watchdog) fire(reason int32) {
	w.mu.Lock()
	if w.stop.Load() == stopNone {
		if p := w.current.Load(); p != nil {
			w.stopped = *p
		}
		w.stop.Store(reason)
	}
	w.mu.Unlock()
	w.ctx.cancel()
}

// begin marks the start of callback name (a pointer to a constant: no allocation).
func (w *watchdog) begin(name *string) {
	w.current.Store(name)
	w.seq.Add(1)
	w.busy.Store(true)
}

// end marks the end of the running callback.
func (w *watchdog) end() { w.busy.Store(false) }

// close stops the watching goroutine.
func (w *watchdog) close() {
	close(w.quit)
	<-w.done
	w.ctx.cancel()
}

// stopContext is the Lua state's context: gopher-lua calls Done before every instruction, so it
// returns its channel straight from a field (context.WithCancel's goes through an atomic load
// and a type assertion).
type stopContext struct {
	done chan struct{}
	once sync.Once
}

func (s *stopContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s *stopContext) Done() <-chan struct{}       { return s.done }
func (s *stopContext) Value(any) any               { return nil }
func (s *stopContext) Err() error {
	select {
	case <-s.done:
		return ErrInterrupted
	default:
		return nil
	}
}
func (s *stopContext) cancel() { s.once.Do(func() { close(s.done) }) }

var _ context.Context = (*stopContext)(nil)

// pcall runs L.PCall for callback name (which the caller pushed with its arguments) under the
// watchdog; an error from an interrupted call says which chisel and callback, and why.
func (c *Chisel) pcall(name string, nargs, nret int) error {
	w := c.wd
	w.begin(callbackName(name))
	err := c.L.PCall(nargs, nret, nil)
	w.end()
	if err == nil {
		return nil
	}
	if w.stop.Load() != stopNone {
		return c.interruptedError(name)
	}
	return err
}

// callbackNames are the callbacks' names, stored once so that begin stores a pointer.
var callbackNames = map[string]*string{}

func init() {
	for _, n := range []string{"top level code", "on_set_arg()", "on_init()", "on_capture_start()",
		"on_event()", "on_interval()", "on_capture_end()"} {
		n := n
		callbackNames[n] = &n
	}
}

func callbackName(name string) *string {
	if p, ok := callbackNames[name]; ok {
		return p
	}
	n := new(string)
	*n = name
	return n
}

// interruptedError describes why callback name was stopped.
func (c *Chisel) interruptedError(name string) error {
	w := c.wd
	w.mu.Lock()
	cb := w.stopped
	reason := w.stop.Load()
	w.mu.Unlock()
	if cb == "" {
		cb = name
	}
	if reason == stopTimeout {
		return fmt.Errorf("chisel %s: %s ran for more than %v and was stopped (an endless loop?): %w", c.name, cb, w.timeout, ErrInterrupted)
	}
	if cb != name {
		// interrupted between callbacks: this one did not run
		return fmt.Errorf("chisel %s: %s not run: %w", c.name, name, ErrInterrupted)
	}
	return fmt.Errorf("chisel %s: %s stopped: %w", c.name, name, ErrInterrupted)
}

// Interrupt stops the chisel: the callback running now (on another goroutine) fails with an
// error wrapping ErrInterrupted, and so does every later one. It is safe to call from any
// goroutine, at any time, more than once. A capture loop calls it when the chisel must end now
// (a second SIGINT, or the first one's drain deadline passing); to end a capture normally, stop
// feeding events and call CaptureEnd, which the watchdog bounds too.
func (c *Chisel) Interrupt() {
	ctl := c.ctl
	ctl.mu.Lock()
	ctl.interrupted = true
	w := ctl.wd
	ctl.mu.Unlock()
	if w != nil {
		w.fire(stopInterrupt)
	}
}

// control is what Interrupt reaches from another goroutine: it outlives the Lua state that
// chisel.exec replaces.
type control struct {
	mu          sync.Mutex
	wd          *watchdog
	interrupted bool
}

// attach gives L a watchdog, already fired when the chisel was interrupted before.
func (c *Chisel) attachWatchdog() {
	if c.ctl == nil {
		c.ctl = &control{}
	}
	timeout := DefaultCallbackTimeout
	if c.cfg != nil && c.cfg.CallbackTimeout != 0 {
		timeout = c.cfg.CallbackTimeout
	}
	c.wd = newWatchdog(c.L, timeout)
	c.ctl.mu.Lock()
	c.ctl.wd = c.wd
	interrupted := c.ctl.interrupted
	c.ctl.mu.Unlock()
	if interrupted {
		c.wd.fire(stopInterrupt)
	}
}

// detachWatchdog stops the watchdog of the Lua state being closed.
func (c *Chisel) detachWatchdog() {
	if c.wd == nil {
		return
	}
	c.ctl.mu.Lock()
	c.ctl.wd = nil
	c.ctl.mu.Unlock()
	c.wd.close()
	c.wd = nil
}

// Package alerts delivers rule alerts to their outputs (stdout, files, syslog, a program, HTTP
// receivers such as Falcosidekick) without ever holding up the caller: every output has its own
// bounded queue and goroutine, every write has a deadline, failed writes are retried with
// backoff, closing is bounded in time, and every alert that does not reach an output is
// counted (and reported once a second as a Falco-style internal alert), so that for each
// output delivered + lost = raised.
package alerts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosysdig/gosysdig/rules"
)

// Output is one destination of alerts. Its methods run on the output's own goroutine only.
type Output interface {
	Name() string
	// Write delivers one alert, giving up when ctx is done; an error means the alert was not
	// delivered (it may be retried).
	Write(ctx context.Context, a *rules.Alert) error
	// Flush pushes out what Write buffered; it is called when the queue is empty (and after
	// every alert unless the outputs are buffered).
	Flush(ctx context.Context) error
	// Close releases the output within ctx's deadline.
	Close(ctx context.Context) error
}

// Options are the queueing and timing settings shared by the outputs (Falco's
// outputs_queue.capacity, output_timeout and buffered_outputs, and the HTTP retry window).
type Options struct {
	QueueCapacity int           // alerts queued per output before new ones are dropped (default 4096)
	WriteTimeout  time.Duration // deadline of one write (default 2 s, Falco's output_timeout)
	RetryFor      time.Duration // how long an alert is retried while its output fails (default 60 s)
	CloseTimeout  time.Duration // how long Close waits for the queues to drain (default 0.8 s)
	Buffered      bool          // flush only when the queue is empty, not after every alert
	DropAlerts    bool          // raise a "Falco internal" alert every second alerts were lost
	// Backpressure makes Send wait for room in the queue of an output that works, instead of
	// dropping: for reading a capture, where waiting loses nothing. Live tracing must not set
	// it (the kernel's ring would overflow instead). A failing output still drops.
	Backpressure bool
}

func (o *Options) defaults() {
	if o.QueueCapacity <= 0 {
		o.QueueCapacity = 4096
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 60 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 800 * time.Millisecond
	}
}

// Stats are one output's counts. Raised = Delivered + Lost() once the dispatcher is closed.
type Stats struct {
	Output    string
	Raised    int64 // alerts handed to the output (rule alerts and internal alerts)
	Internal  int64 // of which "Falco internal" alerts
	Delivered int64 // written (for a program: and not left unread when it exited)
	Dropped   int64 // not queued: the queue was full
	Failed    int64 // every write failed until the retry window closed
	Unsent    int64 // still queued or being written when Close gave up
	Unread    int64 // written to a program's pipe shortly before the program exited: unconfirmed
}

// Lost is every alert raised for the output that it did not get.
func (s Stats) Lost() int64 { return s.Dropped + s.Failed + s.Unsent + s.Unread }

func (s Stats) String() string {
	return fmt.Sprintf("output %s: %d alert(s) raised (%d internal), %d delivered, %d lost (%d queue full, %d failed, %d unsent at exit, %d in the pipe when the program exited)",
		s.Output, s.Raised, s.Internal, s.Delivered, s.Lost(), s.Dropped, s.Failed, s.Unsent, s.Unread)
}

// Dispatcher fans alerts out to the outputs.
type Dispatcher struct {
	opt     Options
	workers []*worker
	logf    func(format string, args ...any)

	mu     sync.RWMutex // Send against Close
	closed bool

	tick     chan struct{} // stops the drop-alert ticker
	tickDone chan struct{}
	host     string
	now      func() time.Time
}

type worker struct {
	d      *Dispatcher
	out    Output
	q      chan *rules.Alert
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{}

	raised, internal, delivered, dropped, failed, unsent, unread atomic.Int64
	internalLost                                                 atomic.Int64 // internal alerts among the lost
	lastLost                                                     int64        // ticker's previous rule-alert loss count
	failing                                                      atomic.Bool
}

// New starts one queue and goroutine per output. logf receives the outputs' state changes
// (failing, working again); it must not block for long (stderr). hostname goes into the
// internal alerts' fields.
func New(outs []Output, opt Options, hostname string, logf func(format string, args ...any)) *Dispatcher {
	opt.defaults()
	d := &Dispatcher{opt: opt, logf: logf, host: hostname, now: time.Now,
		tick: make(chan struct{}), tickDone: make(chan struct{})}
	for _, o := range outs {
		ctx, cancel := context.WithCancel(context.Background())
		w := &worker{d: d, out: o, q: make(chan *rules.Alert, opt.QueueCapacity), ctx: ctx, cancel: cancel,
			done: make(chan struct{})}
		if p, ok := o.(*ProgramOutput); ok {
			p.unread = func(n int64) { w.delivered.Add(-n); w.unread.Add(n) }
		}
		d.workers = append(d.workers, w)
		go w.loop()
	}
	if opt.DropAlerts {
		go d.ticker()
	} else {
		close(d.tickDone)
	}
	return d
}

// InternalPrefix starts the names of the engine's own alerts (Falco's convention).
const InternalPrefix = "Falco internal: "

// Send queues a for every output and never blocks: an output whose queue is full loses the
// alert, counted. After Close, alerts are counted as dropped.
func (d *Dispatcher) Send(a *rules.Alert) {
	internal := strings.HasPrefix(a.Rule, InternalPrefix)
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, w := range d.workers {
		w.raised.Add(1)
		if internal {
			w.internal.Add(1)
		}
		if d.closed {
			w.lose(&w.dropped, a)
			continue
		}
		select {
		case w.q <- a:
		default:
			if !d.opt.Backpressure || !w.wait(a) {
				w.lose(&w.dropped, a)
			}
		}
	}
}

// wait queues a once there is room, for as long as the output works (Backpressure).
func (w *worker) wait(a *rules.Alert) bool {
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	for !w.failing.Load() {
		select {
		case w.q <- a:
			return true
		case <-t.C:
			t.Reset(50 * time.Millisecond)
		}
	}
	return false
}

func (w *worker) lose(counter *atomic.Int64, a *rules.Alert) {
	counter.Add(1)
	if strings.HasPrefix(a.Rule, InternalPrefix) {
		w.internalLost.Add(1)
	}
}

// Stats returns every output's counts so far.
func (d *Dispatcher) Stats() []Stats {
	out := make([]Stats, len(d.workers))
	for i, w := range d.workers {
		out[i] = Stats{Output: w.out.Name(), Raised: w.raised.Load(), Internal: w.internal.Load(),
			Delivered: w.delivered.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load(),
			Unsent: w.unsent.Load(), Unread: w.unread.Load()}
	}
	return out
}

// loop writes the queued alerts until the queue is closed or Close gives up.
func (w *worker) loop() {
	defer close(w.done)
	for {
		var a *rules.Alert
		var ok bool
		select {
		case a, ok = <-w.q:
		case <-w.ctx.Done():
			w.abandon(nil)
			return
		}
		if !ok {
			return
		}
		w.deliver(a)
		if w.ctx.Err() != nil {
			w.abandon(nil)
			return
		}
		if !w.d.opt.Buffered || len(w.q) == 0 {
			w.flush()
		}
	}
}

// abandon counts what is left in the queue (and a, being written) as unsent.
func (w *worker) abandon(a *rules.Alert) {
	if a != nil {
		w.lose(&w.unsent, a)
	}
	for {
		select {
		case a, ok := <-w.q:
			if !ok {
				return
			}
			w.lose(&w.unsent, a)
		default:
			return
		}
	}
}

// closeOutputsTimeout bounds closing the outputs once their queues are done (a program that
// does not exit when its stdin closes is killed then).
const closeOutputsTimeout = 500 * time.Millisecond

const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// deliver writes a, retrying with exponential backoff while the output fails, for at most the
// retry window.
func (w *worker) deliver(a *rules.Alert) {
	giveUp := time.Now().Add(w.d.opt.RetryFor)
	backoff := firstBackoff
	for {
		ctx, cancel := context.WithTimeout(w.ctx, w.writeTimeout())
		err := w.out.Write(ctx, a)
		cancel()
		if err == nil {
			w.delivered.Add(1)
			if w.failing.CompareAndSwap(true, false) {
				w.d.logf("output %s works again", w.out.Name())
			}
			return
		}
		if w.ctx.Err() != nil {
			w.lose(&w.unsent, a)
			return
		}
		if w.failing.CompareAndSwap(false, true) {
			w.d.logf("output %s failed: %v (retrying for up to %v per alert; alerts that do not fit its queue are lost)",
				w.out.Name(), err, w.d.opt.RetryFor)
		}
		var perm *PermanentError
		if errors.As(err, &perm) || time.Now().Add(backoff).After(giveUp) {
			w.lose(&w.failed, a)
			return
		}
		select {
		case <-time.After(backoff):
		case <-w.ctx.Done():
			w.lose(&w.unsent, a)
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// writeTimeout is the output's own timeout (HTTP requests) or the common one.
func (w *worker) writeTimeout() time.Duration {
	if t, ok := w.out.(interface{ Timeout() time.Duration }); ok && t.Timeout() > 0 {
		return t.Timeout()
	}
	return w.d.opt.WriteTimeout
}

func (w *worker) flush() {
	ctx, cancel := context.WithTimeout(w.ctx, w.d.opt.WriteTimeout)
	defer cancel()
	if err := w.out.Flush(ctx); err != nil && w.failing.CompareAndSwap(false, true) {
		w.d.logf("output %s failed: %v", w.out.Name(), err)
	}
}

// drain waits for the worker to write what is queued: true when it did, false at the deadline
// or as soon as the output fails (a failing output would only keep Close waiting).
func (w *worker) drain(deadline <-chan time.Time) bool {
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-w.done:
			return true
		case <-deadline:
			return false
		case <-poll.C:
			if w.failing.Load() {
				return false
			}
		}
	}
}

// PermanentError is a write error that retrying cannot fix (the alert is counted as failed at
// once).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Close stops accepting alerts, lets the queues drain for at most CloseTimeout (not waiting
// for an output that fails), then cancels
// what is still being written (counted as unsent) and closes the outputs, each within the
// write timeout. It returns every output's final counts; an output whose goroutine is stuck in
// a write that cannot be cancelled (a blocked stdout) is left behind, its alerts counted.
func (d *Dispatcher) Close() []Stats {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return d.Stats()
	}
	d.closed = true
	close(d.tick)
	for _, w := range d.workers {
		close(w.q)
	}
	d.mu.Unlock()
	<-d.tickDone
	deadline := time.After(d.opt.CloseTimeout)
	stuck := make([]bool, len(d.workers))
	frozen := make([]Stats, len(d.workers))
	for i, w := range d.workers {
		if w.drain(deadline) {
			continue
		}
		// Out of time, or failing: cancel the write in progress (HTTP request, program pipe) and give the
		// goroutine a moment to count what it leaves.
		w.cancel()
		select {
		case <-w.done:
		case <-time.After(100 * time.Millisecond):
			stuck[i] = true
		}
	}
	closeBy := min(d.opt.WriteTimeout, closeOutputsTimeout)
	var wg sync.WaitGroup
	for i, w := range d.workers {
		w.cancel()
		if stuck[i] {
			// Its goroutine still holds one alert in a write that ignores cancellation; what
			// was not delivered is unsent.
			n := w.raised.Load() - w.delivered.Load() - w.dropped.Load() - w.failed.Load() - w.unsent.Load() - w.unread.Load()
			w.unsent.Add(n)
			// Freeze its counts: should the write end after all, it must not change them.
			frozen[i] = d.Stats()[i]
			d.logf("output %s is blocked: left behind with %d alert(s) unsent", w.out.Name(), n)
			continue
		}
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), closeBy)
			defer cancel()
			if err := w.out.Close(ctx); err != nil {
				d.logf("output %s: %v", w.out.Name(), err)
			}
		}(w)
	}
	closed := make(chan struct{})
	go func() { wg.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(closeBy + 50*time.Millisecond):
		d.logf("outputs: gave up waiting for them to close")
	}
	final := d.Stats()
	for i := range final {
		if stuck[i] {
			final[i] = frozen[i]
		}
	}
	return final
}

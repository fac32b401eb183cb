package session

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// DrainLimit is how long the capture may go without progress after the first SIGINT or
// SIGTERM (reading what is left in the ring, flushing, printing the summary) before the process
// ends: a drain that keeps reading events goes on (a loaded machine can take seconds to empty a
// full ring, and those events are the user's), one that is stuck (a stdout nobody reads) ends.
const DrainLimit = 2 * time.Second

// MaxDrain bounds a drain that progresses, all the same.
const MaxDrain = time.Minute

// exit ends the process; tests replace it.
var exit = os.Exit

// Interrupts watches SIGINT and SIGTERM for a capture. The first calls stop, which must return
// promptly (it stops the source, so the loop drains and ends); a second signal, or DrainLimit
// after the first with the capture still running, ends the process at once with 128+signal, as
// a shell reports a process killed by it. Nothing here writes to stdout, so a stdout nobody reads
// cannot keep a signal from being handled. SIGPIPE is turned into EPIPE errors on write, which
// the Output reports as ErrBrokenPipe. Release stops watching.
func Interrupts(stop func()) (release func()) { return InterruptsProgress(stop, nil) }

// InterruptsProgress is Interrupts for a capture whose drain reports its progress (events read
// so far): the process ends when DrainLimit passes with no progress, or after MaxDrain.
func InterruptsProgress(stop func(), progress func() uint64) (release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		var first os.Signal
		var limit <-chan time.Time
		var began time.Time
		var last uint64
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGPIPE {
					continue
				}
				if first != nil {
					exit(128 + int(s.(syscall.Signal)))
					return
				}
				first = s
				began = time.Now()
				if progress != nil {
					last = progress()
				}
				limit = time.After(DrainLimit)
				stop()
			case <-limit:
				if progress != nil && time.Since(began) < MaxDrain {
					if n := progress(); n != last {
						last = n
						limit = time.After(DrainLimit)
						continue
					}
				}
				exit(128 + int(first.(syscall.Signal)))
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}

package session

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// DrainLimit is how long the capture may take to finish after the first SIGINT or SIGTERM
// (reading what is left in the ring, flushing, printing the summary) before the process ends.
const DrainLimit = 2 * time.Second

// exit ends the process; tests replace it.
var exit = os.Exit

// Interrupts watches SIGINT and SIGTERM for a capture. The first calls stop, which must return
// promptly (it stops the source, so the loop drains and ends); a second signal, or DrainLimit
// after the first with the capture still running, ends the process at once with 128+signal, as
// a shell reports a process killed by it. Nothing here writes to stdout, so a stdout nobody reads
// cannot keep a signal from being handled. SIGPIPE is turned into EPIPE errors on write, which
// the Output reports as ErrBrokenPipe. Release stops watching.
func Interrupts(stop func()) (release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		var first os.Signal
		var limit <-chan time.Time
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
				limit = time.After(DrainLimit)
				stop()
			case <-limit:
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

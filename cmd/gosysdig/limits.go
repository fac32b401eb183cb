package main

import (
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosysdig/gosysdig/state"
)

// stateLimits are --max-threads, --max-fds, --max-containers and --thread-timeout, shared by
// the root command and rules (see state.Limits: sysdig's table sizes by default).
var stateLimits struct {
	threads, fds, containers int
	threadTimeout            time.Duration
}

func addLimitFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&stateLimits.threads, "max-threads", state.DefaultMaxThreads, "threads the state keeps at most (new ones past it are not tracked and counted)")
	f.IntVar(&stateLimits.fds, "max-fds", state.DefaultMaxFDs, "fds the state keeps per process at most (as sysdig's fd table)")
	f.IntVar(&stateLimits.containers, "max-containers", state.DefaultMaxContainers, "containers the state keeps at most")
	f.DurationVar(&stateLimits.threadTimeout, "thread-timeout", state.DefaultThreadTimeout, "live: a thread with no event for this long whose process is gone (its exit was lost) leaves the state")
}

// newState returns the inspector of a run, with the limits of the flags.
func newState() *state.Inspector {
	in := state.New()
	in.SetLimits(state.Limits{MaxThreads: stateLimits.threads, MaxFDs: stateLimits.fds,
		MaxContainers: stateLimits.containers, ThreadTimeout: stateLimits.threadTimeout})
	return in
}

// threadAlive reports whether a thread exists: tgkill with signal 0 checks without sending.
func threadAlive(pid, tid int64) bool {
	err := syscall.Tgkill(int(pid), int(tid), 0)
	return err == nil || err == syscall.EPERM
}

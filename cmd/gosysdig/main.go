// Command gosysdig is a sysdig-compatible system call tracer: it replays scap captures (-r),
// filters events with sysdig's filter language and prints them the way sysdig 0.29.3 does.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	root := newRootCmd()
	root.SetArgs(attachedOptionalValues(os.Args[1:]))
	if err := root.Execute(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "gosysdig:", err)
		os.Exit(1)
	}
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

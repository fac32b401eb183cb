package ui

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ErrNoTerminal is returned by Run when standard input or output is not a terminal: the views
// need a screen to draw on and keys to read.
var ErrNoTerminal = errors.New("the UI needs a terminal: standard input and output must both be a tty " +
	"(for output to a pipe or file, use a chisel: gosysdig -r FILE -c topprocs_cpu)")

// needTerminal checks fds 0 and 1 before tcell takes the screen, which would otherwise fail
// deep inside its start-up.
func needTerminal() error {
	for _, fd := range []int{0, 1} {
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
			return ErrNoTerminal
		}
	}
	return nil
}

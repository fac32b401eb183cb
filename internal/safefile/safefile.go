// Package safefile opens output files without following a symbolic link planted at their path:
// output paths often sit in shared directories (/tmp), where another user could otherwise make
// a root tracer truncate or append to any file.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Mode is the permission of files these functions create: captures and alerts reveal what
// every process on the machine did, so only the owner may read them.
const Mode = 0o600

// Create opens path for writing, truncating a regular file already there and creating it with
// Mode otherwise. A symbolic link at path is refused.
func Create(path string) (*os.File, error) {
	return open(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
}

// Append opens path for appending, creating it with Mode if absent. A symbolic link at path is
// refused.
func Append(path string) (*os.File, error) {
	return open(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND)
}

func open(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, Mode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return nil, fmt.Errorf("%s is a symbolic link: refusing to write through it", path)
			}
		}
		return nil, err
	}
	return f, nil
}

package difffuzz

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratePathCases writes the hand-made string-storage cases of testdata/difffuzz
// (path_storage_*) with sysdig's output, which TestDiffFuzzCases then compares gosysdig with:
// libsinsp's parameter string storage cuts long paths to 1023 bytes until a longer string or
// buffer printed before grows it, so each mode prints its own cuts (a -p list that prints no
// long string never grows it). It runs only when asked: DIFFFUZZ_PATH_SYSDIG=/usr/bin/sysdig.
func TestGeneratePathCases(t *testing.T) {
	sysdig := os.Getenv("DIFFFUZZ_PATH_SYSDIG")
	if sysdig == "" {
		t.Skip("regenerates testdata/difffuzz/path_storage_*: set DIFFFUZZ_PATH_SYSDIG to sysdig 0.29.3")
	}
	long := func(prefix string, n int) []byte {
		return append(append([]byte(prefix), bytes.Repeat([]byte("L"), n)...), 0)
	}
	b := netBase()
	b.ev(2, long("/a/", 1030), u4(0), u4(0))           // open enter: cut to 1023
	b.ev(4, i8(4))                                     // close: fd.name of a process-list socket
	b.ev(92)                                           // getcwd enter
	b.ev(93, i8(0), long("/cwd/", 1100))               // a 1106-byte string grows the storage
	b.ev(2, long("/b/", 1060), u4(0), u4(0))           // now printed whole
	b.ev(2, long("rel/", 30), u4(0), u4(0))            // resolved against /PATH_TOO_LONG/
	b.ev(8, i8(1), u4(1200))                           // write enter
	b.ev(9, i8(1200), bytes.Repeat([]byte("d"), 1200)) // a 1200-byte buffer doubles it to 2212
	b.ev(2, long("/c/", 2150), u4(0), u4(0))           // printed whole
	b.ev(2, long("/d/", 2300), u4(0), u4(0))           // cut to 2211
	for _, cs := range []struct {
		name string
		args []string
	}{
		{"path_storage_mode0", nil},
		// Only the name is rendered: nothing grows the storage, every long name is cut.
		{"path_storage_arg", []string{"-p", "%evt.num %evt.type %evt.arg.name %proc.cwd"}},
		{"path_storage_fields", []string{"-p", Fields}},
	} {
		saveArgs(t, sysdig, b.c, cs.name, cs.args)
	}
}

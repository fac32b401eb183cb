package difffuzz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// Fields is the -p list covering every field class the comparison checks. Display fields only:
// sysdig refuses a filter-only one (fd.net...) in -p, which would refuse every capture. The '*'
// prints every event: without it sysdig skips an event any field is missing from, which with
// this many fields (proc.pname, fd.sip...) is nearly every event.
const Fields = "*%evt.num %evt.type %evt.dir %evt.res %evt.rawres %evt.failed %evt.latency %evt.reltime " +
	"%evt.args %evt.info %evt.cpu %evt.is_io %evt.category %proc.pid %proc.ppid %proc.name " +
	"%proc.exe %proc.args %proc.cmdline %proc.cwd %proc.vpid %proc.pname %proc.exepath %thread.tid " +
	"%thread.vtid %thread.ismain %fd.num %fd.type %fd.typechar %fd.name %fd.directory %fd.filename " +
	"%fd.sip %fd.cip %fd.lip %fd.rip %fd.sport %fd.cport %fd.lport %fd.rport %fd.l4proto " +
	"%fd.sockfamily %fd.is_server %user.name %user.uid %group.name"

// Strict is a format without '*': sysdig skips an event missing any of its fields, yet still
// renders the fields after the missing one (growing its string storage for later events), and
// with -j renders each field twice. fd.name is missing from every event without an fd; the
// parameter fields around it are the ones whose rendering grows the storage.
const Strict = "%evt.num %evt.arg[0] %fd.name %evt.info %proc.name %evt.args"

// Modes are the output forms compared: the default format, -j, the field list, and the strict
// format as text and as JSON.
var Modes = [][]string{{}, {"-j"}, {"-p", Fields}, {"-p", Strict}, {"-j", "-p", Strict}}

// Run replays capture file with bin (sysdig or gosysdig) in TZ=UTC and returns stdout and the
// exit error (with the first line of stderr in it).
func Run(bin, file string, args []string) ([]byte, error) {
	cmd := exec.Command(bin, append([]string{"-r", file}, args...)...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg, _, _ := bytes.Cut(errb.Bytes(), []byte("\n"))
		return out.Bytes(), fmt.Errorf("%s: %w: %q", filepath.Base(bin), err, msg)
	}
	return out.Bytes(), nil
}

// Outcome of one seed.
type Outcome int

const (
	Same    Outcome = iota
	Refused         // sysdig exited non-zero: the capture is skipped
	Differs
)

// Result is a comparison's outcome, the first differing (or refused) mode's index, and for a
// refusal sysdig's error.
type Result struct {
	Outcome   Outcome
	Mode      int
	Refusal   error
	Got, Want []byte // the outputs of a difference
}

// Compare writes c to dir and compares sysdig's and gosysdig's outputs in every mode.
func Compare(sysdig, gosysdig, dir string, c *Capture) (Result, error) {
	file, err := write(dir, c)
	if err != nil {
		return Result{}, err
	}
	for i := range Modes {
		if r := compareMode(sysdig, gosysdig, file, i); r.Outcome != Same {
			return r, nil
		}
	}
	return Result{}, nil
}

func write(dir string, c *Capture) (string, error) {
	b, err := c.Bytes()
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, "fuzz.scap")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return "", fmt.Errorf("difffuzz: %w", err)
	}
	return file, nil
}

// compareMode runs both replays at once (the machine has cores to spare; a run is mostly
// process start-up).
func compareMode(sysdig, gosysdig, file string, mode int) Result {
	done := make(chan []byte, 1)
	go func() {
		got, _ := Run(gosysdig, file, Modes[mode])
		done <- got
	}()
	want, err := Run(sysdig, file, Modes[mode])
	got := <-done
	if err != nil {
		return Result{Outcome: Refused, Mode: mode, Refusal: err}
	}
	if !bytes.Equal(got, want) {
		return Result{Outcome: Differs, Mode: mode, Got: got, Want: want}
	}
	return Result{Outcome: Same, Mode: mode}
}

// FirstDiff is the first line where got and want differ, numbered from 1, and both lines.
func FirstDiff(got, want []byte) (int, string, string) {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return i + 1, a, b
		}
	}
	return 0, "", ""
}

// Signature names a difference by its mode and the event type of sysdig's first differing line
// (gosysdig's when sysdig's output ended), so a run minimises and saves one case per kind
// rather than every seed of the same cause.
func Signature(r Result) string {
	_, g, w := FirstDiff(r.Got, r.Want)
	line := w
	if line == "" {
		line = g
	}
	typ := "?"
	switch r.Mode {
	case 1:
		if _, v, ok := strings.Cut(line, `"evt.type":"`); ok {
			typ, _, _ = strings.Cut(v, `"`)
		}
	case 2:
		if f := strings.Fields(line); len(f) > 1 {
			typ = f[1]
		}
	default:
		// "num time cpu comm (tid) dir type ...": comm may hold spaces and parentheses.
		i, j := strings.Index(line, ") > "), strings.Index(line, ") < ")
		if i < 0 || (j >= 0 && j < i) {
			i = j
		}
		if i >= 0 {
			typ, _, _ = strings.Cut(line[i+4:], " ")
			typ += map[byte]string{'>': "_e", '<': "_x"}[line[i+2]] // names a directory
		}
	}
	return fmt.Sprintf("mode%d_%s", r.Mode, typ)
}

// Minimize drops events (in halving chunks, then one by one) while mode still differs and
// sysdig still accepts the capture, until the deadline (a zero one: none). Only mode is
// replayed: the other modes of a smaller capture do not matter to its case.
func Minimize(sysdig, gosysdig, dir string, c *Capture, mode int, deadline time.Time) *Capture {
	still := func(t *Capture) bool {
		if !deadline.IsZero() && time.Now().After(deadline) || !oldExitsPaired(t) {
			return false
		}
		file, err := write(dir, t)
		return err == nil && compareMode(sysdig, gosysdig, file, mode).Outcome == Differs
	}
	cur := &Capture{Header: c.Header, Events: c.Events}
	for chunk := len(cur.Events) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(cur.Events); {
			evs := append(append([][]byte{}, cur.Events[:i]...), cur.Events[i+chunk:]...)
			t := &Capture{Header: cur.Header, Events: evs}
			if still(t) {
				cur = t
				continue
			}
			i += chunk
		}
	}
	// Threads' fd tables: drop them when they do not matter.
	for i := range cur.Header.Threads {
		if len(cur.Header.Threads[i].FDs) == 0 {
			continue
		}
		h := cur.Header
		h.Threads = append([]capture.Thread{}, h.Threads...)
		h.Threads[i].FDs = nil
		if t := (&Capture{Header: h, Events: cur.Events}); still(t) {
			cur = t
		}
	}
	return cur
}

// oldExitsPaired reports whether every old-version exit follows its enter in its thread, as the
// generator writes them: dropping the enter makes sysdig read a stale or missing enter event
// (garbage names, or a crash), so a smaller capture without it is no case.
func oldExitsPaired(c *Capture) bool {
	last := map[int64]uint16{}
	for _, raw := range c.Events {
		typ := binary.LittleEndian.Uint16(raw[20:])
		tid := int64(binary.LittleEndian.Uint64(raw[8:]))
		if info := event.Lookup(typ); info != nil && typ%2 == 1 && info.Flags&event.EFOldVersion != 0 && last[tid] != typ-1 {
			return false
		}
		last[tid] = typ
	}
	return true
}

// Save stores a minimized case under dir/name: the capture, the arguments (one per line) and
// sysdig's output.
func Save(sysdig, dir, name string, c *Capture, mode int) error {
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("difffuzz: %w", err)
	}
	b, err := c.Bytes()
	if err != nil {
		return err
	}
	file := filepath.Join(d, "capture.scap")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("difffuzz: %w", err)
	}
	want, err := Run(sysdig, file, Modes[mode])
	if err != nil {
		return fmt.Errorf("difffuzz: sysdig on the minimized case: %w", err)
	}
	args := ""
	for _, a := range Modes[mode] {
		args += a + "\n"
	}
	if err := os.WriteFile(filepath.Join(d, "args"), []byte(args), 0o644); err != nil {
		return fmt.Errorf("difffuzz: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d, "expected"), want, 0o644); err != nil {
		return fmt.Errorf("difffuzz: %w", err)
	}
	return nil
}

package difffuzz

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gosysdig/gosysdig/capture"
)

// Fields is the -p list covering every field class the comparison checks.
const Fields = "%evt.num %evt.type %evt.dir %evt.res %evt.rawres %evt.failed %evt.latency %evt.reltime " +
	"%evt.args %evt.info %evt.cpu %evt.is_io %evt.category %proc.pid %proc.ppid %proc.name " +
	"%proc.exe %proc.args %proc.cmdline %proc.cwd %proc.vpid %proc.pname %proc.exepath %thread.tid " +
	"%thread.vtid %thread.ismain %fd.num %fd.type %fd.typechar %fd.name %fd.directory %fd.filename " +
	"%fd.sip %fd.cip %fd.lip %fd.rip %fd.sport %fd.cport %fd.lport %fd.rport %fd.l4proto " +
	"%fd.sockfamily %fd.is_server %fd.net %user.name %user.uid %group.name"

// Modes are the output forms compared: the default format, -j, and the field list.
var Modes = [][]string{{}, {"-j"}, {"-p", Fields}}

// Run replays capture file with bin (sysdig or gosysdig) in TZ=UTC and returns stdout and the
// exit error.
func Run(bin, file string, args []string) ([]byte, error) {
	cmd := exec.Command(bin, append([]string{"-r", file}, args...)...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Outcome of one seed.
type Outcome int

const (
	Same    Outcome = iota
	Refused         // sysdig exited non-zero: the capture is skipped
	Differs
)

// Compare writes c to dir and compares sysdig's and gosysdig's outputs in every mode; it returns
// the first differing mode's index.
func Compare(sysdig, gosysdig, dir string, c *Capture) (Outcome, int, error) {
	b, err := c.Bytes()
	if err != nil {
		return Same, 0, err
	}
	file := filepath.Join(dir, "fuzz.scap")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return Same, 0, fmt.Errorf("difffuzz: %w", err)
	}
	for i, m := range Modes {
		want, err := Run(sysdig, file, m)
		if err != nil {
			return Refused, i, nil
		}
		got, _ := Run(gosysdig, file, m)
		if !bytes.Equal(got, want) {
			return Differs, i, nil
		}
	}
	return Same, 0, nil
}

// Minimize drops events (in halving chunks, then one by one) while mode still differs and
// sysdig still accepts the capture.
func Minimize(sysdig, gosysdig, dir string, c *Capture, mode int) *Capture {
	still := func(t *Capture) bool {
		o, m, err := Compare(sysdig, gosysdig, dir, t)
		return err == nil && o == Differs && m == mode
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

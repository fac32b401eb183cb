package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

// capsMasks are the sets TestExecveCapsCapture gives every execve exit: distinct bits per set,
// so a set read from the wrong parameter shows.
const (
	capsInh      = 1 << 5               // CAP_KILL
	capsPrm      = 1<<13 | 1<<21 | 1<<5 // CAP_NET_RAW CAP_SYS_ADMIN CAP_KILL
	capsEff      = 1<<13 | 1<<21        // CAP_NET_RAW CAP_SYS_ADMIN
	capsEffNames = "CAP_NET_RAW CAP_SYS_ADMIN"
)

// rewriteCaps copies the capture src twice through capture.Writer: plain, and with later libs'
// execve exit parameters 21-23 (cap_inheritable, cap_permitted, cap_effective) appended to
// every execve and execveat exit, as gosysdig's probe writes them. Nothing else differs.
func rewriteCaps(t *testing.T, src, dir string) (plain, withCaps string, execs int) {
	t.Helper()
	plain = filepath.Join(dir, "plain.scap")
	withCaps = filepath.Join(dir, "caps.scap")
	r, err := capture.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	open := func(p string) (*os.File, *capture.Writer) {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := capture.NewWriter(f, r.Header(), false)
		if err != nil {
			t.Fatal(err)
		}
		return f, w
	}
	pf, pw := open(plain)
	cf, cw := open(withCaps)
	var ev, ext event.Event
	var buf []byte
	for {
		err := r.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := pw.WriteEvent(&ev, ev.DumpFlags); err != nil {
			t.Fatal(err)
		}
		out := &ev
		if (ev.Type == 293 || ev.Type == 331) && ev.StoredParams() == 20 && ev.HeaderLen() == event.HeaderV2 {
			buf = appendCaps(buf[:0], ev.Raw(), capsInh, capsPrm, capsEff)
			if err := ext.Set(buf, event.HeaderV2, ev.Info); err != nil {
				t.Fatal(err)
			}
			ext.CPU, ext.DumpFlags = ev.CPU, ev.DumpFlags
			out = &ext
			execs++
		}
		if err := cw.WriteEvent(out, out.DumpFlags); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		w *capture.Writer
		f *os.File
	}{{pw, pf}, {cw, cf}} {
		if err := c.w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return plain, withCaps, execs
}

// appendCaps appends to dst the v2 event raw with three u64 parameters more.
func appendCaps(dst, raw []byte, sets ...uint64) []byte {
	le := binary.LittleEndian
	evLen := le.Uint32(raw[16:])
	n := int(le.Uint32(raw[22:]))
	lensEnd := event.HeaderV2 + 2*n
	dst = append(dst, raw[:lensEnd]...)
	for range sets {
		dst = le.AppendUint16(dst, 8)
	}
	dst = append(dst, raw[lensEnd:evLen]...)
	for _, s := range sets {
		dst = le.AppendUint64(dst, s)
	}
	le.PutUint32(dst[16:], uint32(len(dst)))
	le.PutUint32(dst[22:], uint32(n+len(sets)))
	return dst
}

// TestExecveCapsCapture: sysdig 0.29.3 reads a capture whose execve exits carry the capability
// sets exactly as the same capture without them (it reads min(its table's, the event's)
// parameters and places values by the event's count), in its default output, -j and every
// process field; gosysdig too, and gosysdig's thread.cap_* fields show the sets after each exec.
func TestExecveCapsCapture(t *testing.T) {
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	format := "*%evt.num %evt.type %evt.args %proc.name %proc.exe %proc.exepath %proc.args %proc.cmdline " +
		"%proc.pid %proc.ppid %proc.vpid %proc.pname %proc.cwd %proc.loginshellid %proc.tty %proc.env " +
		"%proc.vmsize %proc.vmrss %proc.fdlimit %thread.tid %thread.vmsize %user.uid %user.loginuid %container.id"
	total := 0
	for _, name := range []string{"exec_script", "execve_fail", "shell_chain", "spawn", "setid", "clone3"} {
		src := filepath.Join("..", "..", "testdata", "corpus", name+".scap")
		plain, withCaps, execs := rewriteCaps(t, src, t.TempDir())
		total += execs
		for _, args := range [][]string{nil, {"-j"}, {"-p", format}, {"-A"}} {
			for _, tool := range []string{sysdig, bin} {
				want := runTZ(t, tool, append([]string{"-r", plain}, args...)...)
				got := runTZ(t, tool, append([]string{"-r", withCaps}, args...)...)
				if !bytes.Equal(got, want) {
					t.Errorf("%s %s %v: the capture with the capability sets reads differently:\n%s",
						filepath.Base(tool), name, args, firstDiff(got, want))
				}
			}
		}
		out := string(runTZ(t, bin, "-r", withCaps, "-p",
			"%thread.cap_inheritable|%thread.cap_permitted|%thread.cap_effective", "evt.type in (execve, execveat) and evt.dir=< and evt.failed=false"))
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			t.Errorf("%s: no successful execve printed", name)
		}
		for _, l := range lines {
			if l != "CAP_KILL|CAP_KILL CAP_NET_RAW CAP_SYS_ADMIN|"+capsEffNames {
				t.Errorf("%s: thread.cap_* after an exec: %q", name, l)
			}
		}
	}
	if total < 20 {
		t.Fatalf("only %d execve exits in the corpus captures", total)
	}
}

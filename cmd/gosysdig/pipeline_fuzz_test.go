package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// rawEvent builds a v2 event: header (ts, tid, length, type, parameter count), 16-bit
// parameter lengths, parameters.
func rawEvent(ts uint64, tid int64, typ uint16, params ...[]byte) []byte {
	return event.AppendV2(nil, ts, tid, typ, params...)
}

func le64(v int64) []byte  { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func cz(s string) []byte   { return append([]byte(s), 0) }

// pipelineSeed is a small capture written by the project's writer: a thread with a hostile
// name, opens of hostile names, a write of hostile bytes, a connect, a close.
func pipelineSeed(tb testing.TB) []byte {
	var buf bytes.Buffer
	h := &capture.Header{Major: 1, Minor: 2, Machine: &capture.MachineInfo{NumCPUs: 2, Hostname: "fuzz"},
		Threads: []capture.Thread{{Tid: 100, Pid: 100, Ptid: 1, Comm: "c\x1b[31mat\n", Exe: "/bin/cat",
			Args: []string{"a\xffb", "x\ny"}, Cwd: "/tmp/", Vtid: 100, Vpid: 100, LoginUid: -1}}}
	w, err := capture.NewWriter(&buf, h, false)
	if err != nil {
		tb.Fatal(err)
	}
	tuple := append([]byte{2}, []byte{127, 0, 0, 1, 0x1f, 0x90, 10, 0, 0, 2, 0, 80}...)
	evs := [][]byte{
		rawEvent(1000, 100, 102, le64(-100), cz("/tmp/caf\xc3\xa9\xff\x1b[1m\r\nX"), le32(1), le32(0o644)),
		rawEvent(1001, 100, 103, le64(3)),
		rawEvent(1002, 100, 8, le64(3), le32(6)),
		rawEvent(1003, 100, 9, le64(6), []byte("\x00\xff\nab\x1b")),
		rawEvent(1004, 100, 22, le64(4), append([]byte{2}, 10, 0, 0, 2, 0, 80)),
		rawEvent(1005, 100, 23, le64(0), tuple),
		rawEvent(1006, 100, 4, le64(3)),
		rawEvent(1007, 100, 5, le64(0)),
	}
	var ev event.Event
	for _, raw := range evs {
		if err := ev.Set(raw, event.HeaderV2, event.Lookup(binary.LittleEndian.Uint16(raw[20:]))); err != nil {
			tb.Fatal(err)
		}
		if err := w.WriteEvent(&ev, 0); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var pipelineModes = [][]string{
	nil,
	{"-j"},
	{"-p", "%evt.num %proc.name %proc.args %fd.name %evt.info %evt.arg.data"},
	{"-j", "-p", "%evt.num %fd.name %proc.args %evt.buffer %fd.cip"},
	{"-A"}, {"-x"}, {"-X"}, {"-b"},
}

var pipelineFilters = []string{"", "fd.name contains a", "evt.type in (openat, write, connect) or proc.name=cat"}

// FuzzPipeline runs the whole replay pipeline (reader, state, filter, formatter, output
// streaming) on any bytes with every output form: it must end with output or a clear error,
// never a panic; -j lines are valid JSON and UTF-8; text lines are one whole event each.
func FuzzPipeline(f *testing.F) {
	seed := pipelineSeed(f)
	for m := range pipelineModes {
		for fl := range pipelineFilters {
			f.Add(seed, uint8(m+len(pipelineModes)*fl))
		}
	}
	// Real captures' first kilobytes (header and first events): small inputs keep the fuzzer
	// fast and its findings quick to minimise. Three of the corpus, the shared traces too when
	// they are there.
	files := []string{}
	for _, n := range []string{"shell_chain", "tcp6", "names"} {
		files = append(files, filepath.Join(testcaptures.CorpusDir(), n+".scap"))
	}
	files = append(files, testcaptures.Shared()...)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 16<<10)], uint8(1))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		path := filepath.Join(dir, "in.scap")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		m := int(mode) % len(pipelineModes)
		args := append([]string{"-r", path}, pipelineModes[m]...)
		if fl := pipelineFilters[int(mode)/len(pipelineModes)%len(pipelineFilters)]; fl != "" {
			args = append(args, fl)
		}
		// A replay that takes seconds on a few kilobytes is a hang: fail with every
		// goroutine's stack (the fuzzer then keeps the input).
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("replay of %d bytes with %v still running after 10 s:\n%s", len(data), args[2:], buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		var out, errb bytes.Buffer
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errb)
		root.Execute() // an error is a fine outcome for damaged bytes; a panic is not
		if out.Len() == 0 {
			return
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for _, l := range lines {
			switch {
			case m == 1 || m == 3:
				if !json.Valid([]byte(l)) || !utf8.ValidString(l) {
					t.Fatalf("%v: invalid JSON line %q", args[2:], l)
				}
			case m == 0 || m == 2:
				if l == "" || l[0] < '0' || l[0] > '9' || strings.ContainsAny(l, "\r\x1b") {
					t.Fatalf("%v: line %q is not one whole event line", args[2:], l)
				}
			}
		}
	})
}

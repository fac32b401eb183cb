package main

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// bigCapture writes a capture of about size bytes by repeating a trace's events with shifted
// timestamps.
func bigCapture(t *testing.T, trace string, size int64) string {
	t.Helper()
	r, err := capture.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type rec struct {
		raw []byte
		hdr int
		cpu uint16
	}
	var evs []rec
	var ev event.Event
	var last uint64
	for {
		err := r.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, rec{append([]byte(nil), ev.Raw()...), ev.HeaderLen(), ev.CPU})
		last = ev.TS
	}
	out := filepath.Join(t.TempDir(), "big.scap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewWriter(f, r.Header(), false)
	if err != nil {
		t.Fatal(err)
	}
	first := binary.LittleEndian.Uint64(evs[0].raw)
	span := last - first + 1000
	for round := uint64(0); w.Written() < size; round++ {
		for _, e := range evs {
			raw := append([]byte(nil), e.raw...)
			binary.LittleEndian.PutUint64(raw, binary.LittleEndian.Uint64(raw)+round*span)
			if err := ev.Set(raw, e.hdr, event.Lookup(binary.LittleEndian.Uint16(raw[20:]))); err != nil {
				t.Fatal(err)
			}
			ev.CPU = e.cpu
			if err := w.WriteEvent(&ev, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRotation checks -C, -e and -G with -W: the right number of files, each one a capture
// sysdig 0.29.3 reads without error.
func TestRotation(t *testing.T) {
	sysdig := needSysdig(t)
	bin := buildBinary(t)
	// The corpus's pidns: 3042 events over 0.88 s after a 300 KB process list, repeated with
	// shifted times to 2.8 MB (5 s of events): with the process list at the head of each file,
	// four files of 1 MB.
	src := filepath.Join(testcaptures.CorpusDir(), "pidns.scap")
	big := bigCapture(t, src, 2_800_000)
	for _, tc := range []struct {
		name  string
		trace string
		args  []string
		want  []string
	}{
		{"size ring", big, []string{"-C", "1", "-W", "2"}, []string{"x.scap0", "x.scap1"}},
		{"size", big, []string{"-C", "1"}, []string{"x.scap0", "x.scap1", "x.scap2", "x.scap3"}},
		{"events ring", src, []string{"-e", "300", "-W", "3"}, []string{"x.scap0", "x.scap1", "x.scap2"}},
		{"time limit", big, []string{"-G", "1", "-W", "3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "x.scap")
			if len(tc.want) == 0 {
				name = filepath.Join(dir, "x-%H%M%S.scap")
			}
			args := append([]string{"-r", tc.trace, "-w", name}, tc.args...)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			if tc.want != nil {
				if len(files) != len(tc.want) {
					t.Fatalf("files %v, want %v", files, tc.want)
				}
				for i, f := range files {
					if filepath.Base(f) != tc.want[i] {
						t.Errorf("file %s, want %s", f, tc.want[i])
					}
				}
			} else if len(files) != 3 {
				t.Fatalf("-G 1 -W 3 over a trace of more than 3 seconds made %d files: %v", len(files), files)
			}
			for _, f := range files {
				if out, err := exec.Command(sysdig, "-r", f).CombinedOutput(); err != nil {
					t.Errorf("sysdig cannot read %s: %v\n%s", f, err, lastLines(out))
				}
			}
		})
	}
}

func lastLines(b []byte) string {
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}

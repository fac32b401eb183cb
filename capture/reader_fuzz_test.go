package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// fuzzSeeds returns the seed inputs: hand-made captures, good and damaged, and real captures
// (decompressed) cut at a few points: three of the corpus, and the shared traces when present.
func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		goodCapture(0),
		goodCapture(3),
		cat(buildSHB(1, 0), openX(1, 1, 3, "/a")),
		cat(buildSHB(1, 2), buildBlock(0x999, []byte("skip me")), buildEventV1(1, 2, 3, le64(3), cstring("/x"), le32(0), le32(0))),
		cat(goodCapture(1), buildEvent(1, 100, 336, le64(1)), buildEvent(2, 100, 0xffff)),
		cat(goodCapture(2), buildSHB(1, 0), buildMI(1, 1, 1, "b"), openX(3, 7, 3, "/c")),
		cat(goodCapture(1), buildBlock(blockEVFV2, append([]byte{2, 0, 1, 0, 0, 0}, eventBody(false, 2, 100, 5, le64(0))...)),
			buildBlock(blockEVV2Large, append([]byte{0, 0}, eventBody(false, 3, -1, 324, cstring(`{"x":1}`))...)),
			buildBlock(blockEVFV2Large, append([]byte{0, 0, 0, 0, 0, 0}, eventBody(false, 4, 1, 322, le32(7), []byte("data"))...))),
	}
	for _, c := range corruptCases() {
		seeds = append(seeds, c.data)
	}
	var files []string
	for _, n := range []string{"threads", "tcp6", "names"} {
		files = append(files, filepath.Join(testcaptures.CorpusDir(), n+".scap"))
	}
	if d := testcaptures.SharedDir(); d != "" {
		shared, _ := filepath.Glob(filepath.Join(d, "traces", "*.scap"))
		files = append(files, shared...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		b = decompress(tb, b)
		for _, cut := range []int{600, 3000, 12000, 60000} {
			seeds = append(seeds, b[:min(cut, len(b))])
		}
	}
	return seeds
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, len(data))
		// The same bytes gzip-wrapped must give the same outcome as the plain bytes would,
		// unless the plain bytes were themselves gzip (then the wrapped stream starts with 1f 8b
		// as a block type and fails).
		fuzzGzBuf.Reset()
		fuzzGz.Reset(&fuzzGzBuf)
		fuzzGz.Write(data)
		fuzzGz.Close()
		fuzzRead(t, fuzzGzBuf.Bytes(), len(data))
	})
}

// The gzip writer is reused across inputs: allocating one per input dominated the fuzzing time.
// A fuzz function runs sequentially within a worker process.
var (
	fuzzGzBuf bytes.Buffer
	fuzzGz, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
)

// fuzzRead reads a capture to its end. plainLen is the size of the uncompressed stream when
// known, bounding how many calls reading may take.
func fuzzRead(t *testing.T, data []byte, plainLen int) {
	limit := plainLen/12 + 4
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b && plainLen == len(data) {
		// Plain input that is itself gzip: deflate expands at most about 1032 times.
		limit = len(data)*1100/12 + 4
	}
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		if r != nil {
			t.Fatalf("NewReader returned a reader and error %v", err)
		}
		return
	}
	var ev event.Event
	var num uint64
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("reader still going after %d calls on %d bytes", i, plainLen)
		}
		err := r.Next(&ev)
		if errors.Is(err, ErrNewSection) {
			continue
		}
		if err == io.EOF {
			if err := r.Next(&ev); err != io.EOF {
				t.Fatalf("Next after io.EOF returned %v", err)
			}
			return
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		num++
		if ev.Num != num {
			t.Fatalf("event numbered %d, want %d", ev.Num, num)
		}
		if ev.Info == nil || ev.NParams() > len(ev.Info.Params) {
			t.Fatalf("event type %d: info %v, %d params", ev.Type, ev.Info, ev.NParams())
		}
		// Touch every parameter so out-of-range offsets would panic here.
		total := 0
		for p := -1; p <= ev.NParams(); p++ {
			b := ev.Param(p)
			total += len(b)
			ev.Int(p)
			ev.Uint(p)
			event.CString(b)
		}
		if total > len(ev.Raw()) {
			t.Fatalf("parameters hold %d bytes, event only %d", total, len(ev.Raw()))
		}
	}
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzReader from fuzzSeeds. It only runs when
// GOSYSDIG_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("GOSYSDIG_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set GOSYSDIG_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzReader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds(t) {
		if len(s) > 16<<10 {
			// Keep committed seeds small; f.Add still feeds the long cuts.
			continue
		}
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		name := filepath.Join(dir, fmt.Sprintf("seed-%03d", i))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

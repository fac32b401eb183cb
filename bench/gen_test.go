// Package bench holds the replay benchmarks comparing gosysdig with sysdig
// 0.29.3 on a large synthetic capture (`make bench`).
package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gosysdig/gosysdig/internal/testcaptures"
)

// sourceTrace is the shared trace the big capture is built from.
// cat_write.scap is one `cat /dev/null` run traced from execve to procexit:
// 85 non-procinfo events (execve with args/env/cgroups, brk, access, mmap,
// munmap, open, fstat, read, close, ...), all from tid 20072, so the rounds
// exercise state (fds opened and closed), the fd/thread fields and most of
// the argument formatters, not only the hidden procinfo events.
const sourceTrace = "cat_write.scap"

// targetEvents is about how many events the generated capture holds.
const targetEvents = 1_000_000

// genVersion changes whenever the generator output changes, so stale cache
// files are not reused.
const genVersion = "v1"

// sharedDir is the shared reference tree relative to this package.
const sharedDir = "../../shared"

const (
	blkSHB = 0x0A0D0D0A

	typeProcExit     = 186 // PPME_PROCEXIT_1_E
	typeProcInfo     = 234 // PPME_PROCINFO_E
	typeContainer    = 228 // PPME_CONTAINER_E
	typeContainerJS  = 272 // PPME_CONTAINER_JSON_E
	typeContainerJS2 = 324 // PPME_CONTAINER_JSON_2_E
)

// eventHeaderOffset returns where the event header starts inside an event
// block body (after u16 cpu, and u32 dump flags for the EVF variants), and
// whether the block type is an event block at all.
func eventHeaderOffset(blockType uint32) (int, bool) {
	switch blockType {
	case 0x204, 0x8010ABCD, 0x216, 0x221: // EV, EV_V2, EV_V2_LARGE
		return 2, true
	case 0x208, 0x217, 0x222: // EVF, EVF_V2, EVF_V2_LARGE
		return 6, true
	}
	return 0, false
}

// evBlock is one event block of the source trace, kept verbatim.
type evBlock struct {
	raw   []byte // whole block: type, length, body, padding, trailer
	tsOff int    // offset of the u64 timestamp inside raw
	ts    uint64
	typ   uint16
}

// genInfo describes a generated capture.
type genInfo struct {
	Path     string
	Events   int // event blocks written
	Rounds   int
	First    int // events in the first round (the source trace)
	PerRound int // events in each repeated round after the first
}

var (
	genOnce sync.Once
	genRes  genInfo
	genErr  error
)

// sharedAvailable reports whether the shared traces are present (and not
// hidden by GOSYSDIG_NO_SHARED=1, internal/testcaptures).
func sharedAvailable() bool {
	if testcaptures.SharedDir() == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(sharedDir, "traces", sourceTrace))
	return err == nil
}

// skipOrFail skips the benchmark with msg, or fails it when CI=true, where
// every prerequisite must be present.
func skipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// bigCapture returns the path of the ~1M event capture, building it on the
// first call (per process) or reusing the cached file under os.TempDir()
// when the source trace and the generator are unchanged.
func bigCapture(tb testing.TB) genInfo {
	tb.Helper()
	if !sharedAvailable() {
		skipOrFail(tb, "the benchmarks need ../shared/traces/"+sourceTrace+" (the source of their 1M-event capture), not found at "+filepath.Join(sharedDir, "traces"))
	}
	genOnce.Do(func() {
		genRes, genErr = buildCapture(filepath.Join(sharedDir, "traces", sourceTrace), targetEvents)
	})
	if genErr != nil {
		tb.Fatalf("building the benchmark capture: %v", genErr)
	}
	return genRes
}

// buildCapture writes (or reuses) the generated capture in the cache dir.
func buildCapture(src string, target int) (genInfo, error) {
	gz, err := os.ReadFile(src)
	if err != nil {
		return genInfo{}, err
	}
	sum := sha256.Sum256(append([]byte(fmt.Sprintf("%s/%d/", genVersion, target)), gz...))
	dir := filepath.Join(os.TempDir(), "gosysdig-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return genInfo{}, err
	}
	base := fmt.Sprintf("%s-%s", filepath.Base(src), hex.EncodeToString(sum[:8]))
	path := filepath.Join(dir, base+".scap")

	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return genInfo{}, err
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return genInfo{}, err
	}
	header, events, err := splitBlocks(plain)
	if err != nil {
		return genInfo{}, fmt.Errorf("%s: %v", src, err)
	}
	info := plan(events, target)
	info.Path = path
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return info, nil // cached by content hash
	}

	tmp, err := os.CreateTemp(dir, base+".*.tmp")
	if err != nil {
		return genInfo{}, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return genInfo{}, err
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	n, err := writeCapture(w, header, events, info.Rounds)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return genInfo{}, err
	}
	if n != info.Events {
		return genInfo{}, fmt.Errorf("wrote %d events, planned %d", n, info.Events)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return genInfo{}, err
	}
	return info, nil
}

// splitBlocks returns the header blocks (everything before the first event
// block, verbatim) and the event blocks of an uncompressed scap file.
func splitBlocks(b []byte) (header []byte, events []evBlock, err error) {
	off := 0
	headerEnd := -1
	for off < len(b) {
		if len(b)-off < 12 {
			return nil, nil, fmt.Errorf("truncated block at offset %d", off)
		}
		bt := binary.LittleEndian.Uint32(b[off:])
		bl := int(binary.LittleEndian.Uint32(b[off+4:]))
		if bl < 12 || bl%4 != 0 || off+bl > len(b) {
			return nil, nil, fmt.Errorf("bad block length %d at offset %d", bl, off)
		}
		if bt == blkSHB && off != 0 {
			return nil, nil, fmt.Errorf("multi-section traces are not supported")
		}
		hoff, isEvent := eventHeaderOffset(bt)
		if !isEvent {
			if headerEnd >= 0 {
				return nil, nil, fmt.Errorf("block 0x%x after the first event block", bt)
			}
			off += bl
			continue
		}
		if headerEnd < 0 {
			headerEnd = off
		}
		tsOff := 8 + hoff
		if tsOff+22 > bl {
			return nil, nil, fmt.Errorf("short event block at offset %d", off)
		}
		raw := b[off : off+bl]
		events = append(events, evBlock{
			raw:   raw,
			tsOff: tsOff,
			ts:    binary.LittleEndian.Uint64(raw[tsOff:]),
			typ:   binary.LittleEndian.Uint16(raw[tsOff+20:]),
		})
		off += bl
	}
	if headerEnd < 0 {
		return nil, nil, fmt.Errorf("no events in file")
	}
	return b[:headerEnd], events, nil
}

// repeated reports whether an event is copied into rounds after the first:
// procinfo events (hidden, no work beyond decoding) and the leading
// container events (only meaningful at the start of the capture) are not.
func repeated(typ uint16) bool {
	switch typ {
	case typeProcInfo, typeContainer, typeContainerJS, typeContainerJS2:
		return false
	}
	return true
}

// included reports whether event e goes into round r of rounds. Round 0 is
// the source trace verbatim except for procexit, which is held back to the
// last round so the traced thread (and its fds and names) lives throughout.
func included(e *evBlock, r, rounds int) bool {
	if e.typ == typeProcExit {
		return r == rounds-1
	}
	return r == 0 || repeated(e.typ)
}

// plan picks the number of rounds that brings the total closest to target.
func plan(events []evBlock, target int) genInfo {
	first, per := 0, 0
	for i := range events {
		if included(&events[i], 0, 2) {
			first++
		}
		if included(&events[i], 1, 3) {
			per++
		}
	}
	rounds := 1
	if per > 0 && target > first {
		rounds = 1 + (target-first+per/2)/per
	}
	// procexit events are only in the last round (counted once).
	exits := 0
	for i := range events {
		if events[i].typ == typeProcExit {
			exits++
		}
	}
	return genInfo{Events: first + (rounds-1)*per + exits, Rounds: rounds, First: first, PerRound: per}
}

// writeCapture writes header once, then rounds of event blocks, each round's
// timestamps shifted so they follow the previous round's last event (1 µs
// later) and keep increasing. It returns the number of events written.
func writeCapture(w io.Writer, header []byte, events []evBlock, rounds int) (int, error) {
	if _, err := w.Write(header); err != nil {
		return 0, err
	}
	// Time range of the repeated events, and the end of the whole trace.
	var repMin, repMax, allMax uint64
	repMin = ^uint64(0)
	for i := range events {
		e := &events[i]
		allMax = max(allMax, e.ts)
		if repeated(e.typ) && e.ts != 0 {
			repMin = min(repMin, e.ts)
			repMax = max(repMax, e.ts)
		}
	}
	const gap = 1000 // ns between rounds
	span := repMax - repMin + gap
	n := 0
	buf := make([]byte, 0, 64<<10)
	for r := 0; r < rounds; r++ {
		var shift uint64
		if r > 0 {
			shift = allMax + gap - repMin + uint64(r-1)*span
		}
		for i := range events {
			e := &events[i]
			if !included(e, r, rounds) {
				continue
			}
			start := len(buf)
			buf = append(buf, e.raw...)
			if shift != 0 && e.ts != 0 {
				binary.LittleEndian.PutUint64(buf[start+e.tsOff:], e.ts+shift)
			}
			n++
			if len(buf) >= 60<<10 {
				if _, err := w.Write(buf); err != nil {
					return n, err
				}
				buf = buf[:0]
			}
		}
	}
	_, err := w.Write(buf)
	return n, err
}

// TestBigCapture checks the generated capture's framing: every block is
// well formed, the event count matches the plan and timestamps never go
// backwards after the leading events. Without ../shared it checks the
// generator on a corpus capture (a 200k-event capture from
// testdata/corpus/rwvariants.scap): the benchmarks themselves need the shared
// trace, the generator does not.
func TestBigCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a ~1M event capture")
	}
	var info genInfo
	target := targetEvents
	if sharedAvailable() {
		info = bigCapture(t)
	} else {
		target = 200_000
		var err error
		info, err = buildCapture(filepath.Join(testcaptures.CorpusDir(), "rwvariants.scap"), target)
		if err != nil {
			t.Fatalf("building a capture from the corpus: %v", err)
		}
	}
	b, err := os.ReadFile(info.Path)
	if err != nil {
		t.Fatal(err)
	}
	_, events, err := splitBlocks(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != info.Events {
		t.Fatalf("capture has %d events, want %d", len(events), info.Events)
	}
	if info.Events < target*9/10 || info.Events > target*11/10 {
		t.Fatalf("capture has %d events, want about %d", info.Events, target)
	}
	var last uint64
	for _, e := range events[:info.First] {
		last = max(last, e.ts)
	}
	for i := info.First; i < len(events); i++ {
		if ts := events[i].ts; ts <= last {
			t.Fatalf("event block %d: timestamp %d not after %d", i, ts, last)
		} else {
			last = ts
		}
	}
	t.Logf("%s: %d events, %d rounds of %d, %d bytes", info.Path, info.Events, info.Rounds, info.PerRound, len(b))
}

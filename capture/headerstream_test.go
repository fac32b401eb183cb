package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gosysdig/gosysdig/event"
)

// bigHeaderGzip streams a gzip capture: SHB and MI, then one block of type typ claiming total
// bytes whose body is entry repeated (zeros when entry is nil), then the usual header and one
// event. The body is generated while the reader consumes it.
func bigHeaderGzip(typ, total uint32, entry []byte) *io.PipeReader {
	pr, pw := io.Pipe()
	if entry != nil { // whole entries, and the block padded to 4 bytes as writers pad it
		body := (int(total) - 12) / len(entry) * len(entry)
		total = uint32(12 + (body+3)/4*4)
	}
	go func() {
		zw := gzip.NewWriter(pw)
		zw.Write(cat(buildSHB(1, 2), buildMI(4, 8<<30, 32768, "testhost")))
		var h [8]byte
		binary.LittleEndian.PutUint32(h[0:], typ)
		binary.LittleEndian.PutUint32(h[4:], total)
		zw.Write(h[:])
		chunk := make([]byte, 1<<20)
		if entry != nil {
			chunk = bytes.Repeat(entry, (1<<20)/len(entry))
		}
		left := int(total) - 12
		for left > 0 {
			n := min(left, len(chunk))
			if entry != nil && n < len(chunk) {
				n = left // the tail: whole entries, then zero padding
				whole := n / len(entry) * len(entry)
				zw.Write(chunk[:whole])
				zw.Write(make([]byte, n-whole))
				left = 0
				break
			}
			if _, err := zw.Write(chunk[:n]); err != nil {
				pw.CloseWithError(err)
				return
			}
			left -= n
		}
		zw.Write(binary.LittleEndian.AppendUint32(nil, total))
		zw.Write(header()[28:]) // the usual header blocks, without a second SHB
		zw.Write(openX(1000, 100, 3, "/a"))
		zw.Close()
		pw.Close()
	}()
	return pr
}

// TestHeaderBlocksStream reads captures whose one header block claims 250 MB: libscap reads the
// process, fd, interface and user lists entry by entry with no cap on the block, so the reader
// must too, with memory bounded by what the entries hold. Blocks of zeros are refused with a
// message naming the block (or skipped, for the machine info's padding and unknown blocks); a
// 250 MB process list of one thread repeated reads as that one thread.
func TestHeaderBlocksStream(t *testing.T) {
	var one wb
	{
		var e wb
		e.u64(4242).u64(4242).u64(1).u64(4242).u64(4242)
		e.str("big").str("/bin/big").str("/bin/big").str("a\x00").str("/")
		e.u64(1024).u32(0).u32(0).u32(0)
		e.u32(100).u32(50).u32(0).u64(1).u64(2)
		e.str("HOME=/\x00").u64(4242).u64(4242)
		e.str("cpu=/\x00").str("/")
		e.u32(0).u8(1)
		one.u32(uint32(4 + len(e.b))).raw(e.b)
	}
	const total = 250 << 20
	for _, c := range []struct {
		name    string
		typ     uint32
		entry   []byte
		wantErr string // "" = reads through to the event
	}{
		{"PL_V9 zeros", blockPLV9, nil, "block 0x215 at offset 220: process list: entry runs past the block"},
		{"PL_V8 zeros", blockPLV8, nil, "block 0x214 at offset 220: process list entry: entry runs past the block"},
		{"FDL_V2 zeros", blockFDLV2, nil, "fd list references thread 0"},
		{"IL_V2 zeros", blockILV2, nil, "block 0x219 at offset 220: interface list"},
		{"UL_V2 zeros", blockULV2, nil, "block 0x220 at offset 220: user list"},
		{"MI padding", blockMI, nil, ""},
		{"unknown block", 0x999, nil, ""},
		{"PL_V9 one thread repeated", blockPLV9, one.b, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			src := bigHeaderGzip(c.typ, total, c.entry)
			defer src.Close()
			peak := uint64(0)
			r, err := NewReader(src)
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = ms.HeapAlloc
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.HasPrefix(err.Error(), "corrupted capture: ") {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var ev event.Event
			if err := r.Next(&ev); err != nil || ev.Tid != 100 {
				t.Fatalf("the event after the block: tid %d, %v", ev.Tid, err)
			}
			if err := r.Next(&ev); !errors.Is(err, io.EOF) {
				t.Fatalf("after the event: %v", err)
			}
			if c.entry != nil {
				n := 0
				for _, th := range r.Header().Threads {
					if th.Tid == 4242 {
						n++
						if th.Comm != "big" || len(th.Env) != 1 {
							t.Errorf("thread 4242: %+v", th)
						}
					}
				}
				if n != 1 {
					t.Errorf("thread 4242 held %d times, want once", n)
				}
			}
			if peak > 32<<20 {
				t.Errorf("%d MB in use after reading the header", peak>>20)
			}
			t.Logf("%d KB in use after reading the header", peak>>10)
		})
	}
}

// TestHeaderDuplicateEntries: a later process-list entry, fd entry or user entry for the same
// id replaces the earlier one, as sinsp's tables do; sysdig 0.29.3 agrees on a capture with such
// duplicates.
func TestHeaderDuplicateEntries(t *testing.T) {
	data := cat(
		buildSHB(1, 2),
		buildMI(4, 8<<30, 32768, "testhost"),
		buildILV2("lo"),
		buildULV2(map[string]uint32{"root": 0}, "wheel", 10),
		buildPLV9(
			tThread{tid: 100, pid: 100, comm: "first", exe: "/bin/first", cwd: "/"},
			tThread{tid: 101, pid: 101, comm: "other", exe: "/bin/other", cwd: "/"},
			tThread{tid: 100, pid: 100, comm: "second", exe: "/bin/second", cwd: "/"},
		),
		buildFDLV2(100, tFD{fd: 3, file: "/first"}, tFD{fd: 3, file: "/second"}),
		buildEvent(1000, 100, 4, le64(3)), // close(3): fd.name from the fd list
	)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if len(h.Threads) != 2 || h.Threads[0].Comm != "second" || len(h.Threads[0].FDs) != 1 || h.Threads[0].FDs[0].Name != "/second" {
		t.Fatalf("threads %+v", h.Threads)
	}
	if _, err := exec.LookPath("sysdig"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sysdig 0.29.3 is required under CI")
		}
		t.Skip("sysdig not installed: skipping the comparison")
	}
	p := filepath.Join(t.TempDir(), "dup.scap")
	os.WriteFile(p, data, 0o600)
	out, err := exec.Command("sysdig", "-r", p, "-p", "%proc.name %fd.name").CombinedOutput()
	if err != nil || string(out) != "second /second\n" {
		t.Errorf("sysdig: %v %q, want \"second /second\"", err, out)
	}
}

package probe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLiveBlockedReadShowsEnter checks the hold of read/write enter events
// (held_enter in bpf/probe.c): an enter waits on its CPU for its exit, so a
// read that blocks must still show its enter at once, sent when the task
// leaves the CPU, and its exit later with the data.
func TestLiveBlockedReadShowsEnter(t *testing.T) {
	for _, noCoreCast := range []bool{false, true} {
		t.Run(fmt.Sprintf("noCoreCast=%v", noCoreCast), func(t *testing.T) { testBlockedRead(t, noCoreCast) })
	}
}

func testBlockedRead(t *testing.T, noCoreCast bool) {
	needRoot(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHelper(t)
	defer h.cmd.Wait()
	defer h.stdin.Close()
	p, err := Load(Options{IgnoreTgid: uint32(os.Getpid()), noCoreCast: noCoreCast})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer p.Close()

	events := make(chan testEvent, 1<<12)
	go func() {
		defer close(events)
		for {
			cpu, raw, err := p.Next()
			if err != nil {
				return
			}
			e, err := decodeEvent(cpu, raw)
			if err != nil {
				t.Errorf("decoding: %v", err)
				return
			}
			if e.Type != 6 && e.Type != 7 { // read E/X only
				continue
			}
			for i := range e.Params {
				e.Params[i] = append([]byte(nil), e.Params[i]...)
			}
			events <- e
		}
	}()
	next := func(what string, match func(testEvent) bool) testEvent {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("reader stopped before %s", what)
				}
				if match(e) {
					return e
				}
			case <-timeout:
				t.Fatalf("no %s within 5s", what)
			}
		}
	}

	// The shell keeps the FIFO open read-write, so neither its open nor
	// ours blocks; dd then blocks in read(0, buf, 4711) on the empty FIFO.
	script := fmt.Sprintf("exec 3<>%s\ndd bs=4711 count=1 of=/dev/null <&3 2>/dev/null\nexit\n", fifo)
	if _, err := io.WriteString(h.stdin, script); err != nil {
		t.Fatal(err)
	}
	enter := next("read enter of the blocked dd", func(e testEvent) bool {
		return e.Type == 6 && e.i64(0) == 0 && e.u32(1) == 4711
	})
	// Still blocked: nothing has been written yet.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("gosysdig-held"); err != nil {
		t.Fatal(err)
	}
	exit := next("read exit of dd", func(e testEvent) bool { return e.Type == 7 && e.TID == enter.TID })
	if exit.i64(0) != 13 || string(exit.Params[1]) != "gosysdig-held" {
		t.Errorf("read exit res=%d data=%q, want 13 \"gosysdig-held\"", exit.i64(0), exit.Params[1])
	}
	if exit.TS <= enter.TS {
		t.Errorf("exit ts %d not after enter ts %d", exit.TS, enter.TS)
	}
}

// TestSplitRecords checks that Next returns the events of a record holding
// an enter and its exit one by one, and rejects a damaged one.
func TestSplitRecords(t *testing.T) {
	ev := func(cpu uint16, ts uint64, typ uint16, size int) []byte {
		b := make([]byte, 2+size)
		b[0], b[1] = byte(cpu), byte(cpu>>8)
		putU64 := func(off int, v uint64) {
			for i := 0; i < 8; i++ {
				b[off+i] = byte(v >> (8 * i))
			}
		}
		putU64(2, ts)
		putU64(10, 77)
		b[18], b[19] = byte(size), byte(size>>8)
		b[22], b[23] = byte(typ), byte(typ>>8)
		return b
	}
	rec := append(ev(1, 100, 6, 42), ev(1, 200, 7, 38)...)
	p := &Probe{}
	cpu, e1, err := p.split(rec)
	if err != nil || cpu != 1 || len(e1) != 42 || e1[20] != 6 {
		t.Fatalf("first: cpu %d len %d err %v", cpu, len(e1), err)
	}
	if len(p.pending) != 2+38 {
		t.Fatalf("pending %d bytes, want 40", len(p.pending))
	}
	_ = append(e1, 0, 0, 0, 0) // a caller padding the event it got

	cpu, e2, err := p.split(p.pending)
	if err != nil || cpu != 1 || len(e2) != 38 || e2[20] != 7 || len(p.pending) != 0 {
		t.Fatalf("second: cpu %d len %d pending %d err %v", cpu, len(e2), len(p.pending), err)
	}
	// A record whose second event claims more bytes than remain.
	bad := append(ev(0, 1, 6, 42), ev(0, 2, 7, 38)[:30]...)
	if _, _, err := p.split(bad); err != nil {
		t.Fatalf("first of damaged: %v", err)
	}
	if _, _, err := p.split(p.pending); err == nil {
		t.Fatal("second of damaged record: no error")
	}
}

// TestLiveStopDrains stops the probe while dd runs: Next must then return
// every event the probe counted as sent (the ring's backlog and the enters
// held at that moment, which Stop flushes) and then io.EOF.
func TestLiveStopDrains(t *testing.T) {
	needRoot(t)
	sh, p := loadWithDD(t, Options{})
	if _, err := io.WriteString(sh.in, ddCmd); err != nil {
		t.Fatal(err)
	}
	var read uint64
	for read < 200000 { // dd is well under way
		if _, _, err := p.Next(); err != nil {
			t.Fatal(err)
		}
		read++
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	sent, drops, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cpu, raw, err := p.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) || !errors.Is(err, os.ErrClosed) {
				t.Fatalf("after Stop: %v, want io.EOF and os.ErrClosed", err)
			}
			break
		}
		if _, err := decodeEvent(cpu, raw); err != nil {
			t.Fatalf("event %d after Stop: %v", read, err)
		}
		read++
	}
	t.Logf("read %d, sent %d, dropped %d", read, sent, drops)
	if read != sent || drops != 0 {
		t.Errorf("read %d events, the probe sent %d (dropped %d)", read, sent, drops)
	}
}

// TestLiveTinyRingRecordsIntact reads a 4 KiB ring while dd fills it much
// faster than it is read: the producer reuses space as soon as the reader
// publishes its position, so every record read must still decode (the
// reader copies a record before publishing past it).
func TestLiveTinyRingRecordsIntact(t *testing.T) {
	needRoot(t)
	sh, p := loadWithDD(t, Options{RingBytes: 4096})
	// The producer gets time to write over whatever the reader has
	// handed back, as when the reader is preempted on a busy machine.
	p.reader.afterPublish = func() { time.Sleep(20 * time.Microsecond) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh.run(t)
	}()
	var read int
	for {
		select {
		case <-done:
			_, drops, _ := p.Stats()
			t.Logf("%d events read intact, %d dropped", read, drops)
			if read < 1000 {
				t.Errorf("only %d events read", read)
			}
			return
		default:
		}
		cpu, raw, err := p.Next()
		if err != nil {
			t.Fatalf("after %d events: %v", read, err)
		}
		if _, err := decodeEvent(cpu, raw); err != nil {
			t.Fatalf("event %d: %v", read, err)
		}
		read++
	}
}

package probe

import (
	"encoding/binary"
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

// TestSplitRecords checks that a record holding an enter and its exit
// gives both events, each with its own capacity, and that a damaged one is
// rejected.
func TestSplitRecords(t *testing.T) {
	rec := append(testRecord(1, 100, 6, 42), testRecord(1, 200, 7, 38)...)
	var evs [][]byte
	n, err := forEachEvent(rec, func(cpu uint16, ev []byte) {
		if cpu != 1 {
			t.Errorf("cpu %d", cpu)
		}
		evs = append(evs, ev)
	})
	if err != nil || n != 2 || len(evs) != 2 || len(evs[0]) != 42 || evs[0][20] != 6 || len(evs[1]) != 38 || evs[1][20] != 7 {
		t.Fatalf("got %d events %v", n, err)
	}
	_ = append(evs[0], 0, 0, 0, 0) // a caller padding the event it got
	if binary.LittleEndian.Uint32(evs[1][16:]) != 38 {
		t.Errorf("appending to the first event changed the second")
	}
	// A record whose second event claims more bytes than remain.
	bad := append(testRecord(0, 1, 6, 42), testRecord(0, 2, 7, 38)[:30]...)
	if n, err := forEachEvent(bad, func(uint16, []byte) {}); err == nil || n != 1 {
		t.Fatalf("damaged record: %d events, error %v", n, err)
	}
}

// testRecord is a ring record (u16 cpu + event header, zero parameters
// area) of an event of size bytes.
func testRecord(cpu uint16, ts uint64, typ uint16, size int) []byte {
	b := make([]byte, 2+size)
	binary.LittleEndian.PutUint16(b, cpu)
	binary.LittleEndian.PutUint64(b[2:], ts)
	binary.LittleEndian.PutUint64(b[10:], 77)
	binary.LittleEndian.PutUint32(b[18:], uint32(size))
	binary.LittleEndian.PutUint16(b[22:], typ)
	return b
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

// TestLiveEventsInOrder runs two dd at once (one per CPU on a two-CPU
// machine) and checks that Next returns the events in timestamp order,
// although read/write enters reach the ring with their exits. An event held
// in the kernel longer than the order window (a system call of another
// process on the machine running that long without leaving its CPU) may
// still come late: a few are tolerated, not the several percent an
// unordered stream has.
func TestLiveEventsInOrder(t *testing.T) {
	needRoot(t)
	sh, p := loadWithDD(t, Options{})
	two := "dd if=/dev/zero of=/dev/null bs=1 count=200000 2>/dev/null & " +
		"dd if=/dev/zero of=/dev/null bs=1 count=200000 2>/dev/null; wait; echo done\n"
	if _, err := io.WriteString(sh.in, two); err != nil {
		t.Fatal(err)
	}
	var last uint64
	var n, late int
	cpus := map[uint16]bool{}
	for n < 1500000 {
		cpu, ev, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		ts := binary.LittleEndian.Uint64(ev)
		if ts < last {
			if late < 5 {
				t.Logf("event %d on cpu %d: ts %d, %d ns before the previous one", n, cpu, ts, last-ts)
			}
			late++
		} else {
			last = ts
		}
		cpus[cpu] = true
		n++
	}
	t.Logf("%d events from %d CPUs, %d out of order", n, len(cpus), late)
	if late > n/10000 {
		t.Errorf("%d of %d events out of timestamp order", late, n)
	}
}

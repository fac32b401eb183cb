package probe

import (
	"encoding/binary"
	"testing"
)

// orderEvent is a bare event (no cpu prefix) with timestamp ts.
func orderEvent(ts uint64) []byte {
	return testRecord(0, ts, 1, 28)[2:]
}

func drainOrder(o *orderer, watermark uint64, final bool) (cpus []uint16, tss []uint64) {
	for {
		cpu, ev, ok := o.next(watermark, final)
		if !ok {
			return cpus, tss
		}
		cpus = append(cpus, cpu)
		tss = append(tss, binary.LittleEndian.Uint64(ev))
	}
}

// TestOrdererMerges checks the merge of per-CPU streams: with every CPU
// queued the oldest goes; an event whose CPU peers are empty waits for the
// watermark to pass it by the window.
func TestOrdererMerges(t *testing.T) {
	o := newOrderer(2, 100)
	// CPU 1's events came first into the ring; CPU 0's enter (ts 10) was
	// held until its exit (ts 40).
	o.push(1, orderEvent(20), 0)
	o.push(1, orderEvent(30), 0)
	o.push(0, orderEvent(10), 0)
	o.push(0, orderEvent(40), 0)
	for i := 0; i < 2; i++ { // ready only looks
		if c, ok := o.ready(0, false); !ok || c != 0 {
			t.Fatalf("ready: cpu %d %v, want cpu 0", c, ok)
		}
	}
	_, tss := drainOrder(o, 0, false)
	// Both CPUs queued: 10, 20, 30 go; 40 is then alone and waits.
	if len(tss) != 3 || tss[0] != 10 || tss[1] != 20 || tss[2] != 30 {
		t.Fatalf("first pass: %v, want [10 20 30]", tss)
	}
	if w := o.wait(100); w != 40 {
		t.Errorf("wait from watermark 100: %d, want 40", w)
	}
	if _, tss := drainOrder(o, 139, false); len(tss) != 0 {
		t.Fatalf("went before the watermark passed it by the window: %v", tss)
	}
	if cpus, tss := drainOrder(o, 140, false); len(tss) != 1 || tss[0] != 40 || cpus[0] != 0 {
		t.Fatalf("at the watermark: %v %v", cpus, tss)
	}
	// final: everything goes, oldest first.
	o.push(1, orderEvent(70), 0)
	o.push(0, orderEvent(60), 0)
	o.push(0, orderEvent(80), 0)
	if _, tss := drainOrder(o, 0, true); len(tss) != 3 || tss[0] != 60 || tss[1] != 70 || tss[2] != 80 {
		t.Fatalf("final: %v", tss)
	}
	if o.queued != 0 {
		t.Errorf("%d left queued", o.queued)
	}
}

// TestOrdererCompacts keeps a queue that never empties busy for long enough
// to compact it, and checks that order and contents survive.
func TestOrdererCompacts(t *testing.T) {
	o := newOrderer(2, 0)
	next := uint64(1)
	for i := uint64(1); i <= 10000; i++ {
		o.push(0, orderEvent(i), 0)
		if i%2 == 0 { // keep a backlog: pop one for every two pushed
			_, ev, ok := o.next(0, true)
			if !ok || binary.LittleEndian.Uint64(ev) != next {
				t.Fatalf("after %d pushes: got %v, want ts %d", i, ok, next)
			}
			next++
		}
	}
	_, tss := drainOrder(o, 0, true)
	if len(tss) != 5000 || tss[0] != next || tss[len(tss)-1] != 10000 {
		t.Fatalf("rest: %d events from %d", len(tss), tss[0])
	}
}

// TestOrdererUnknownCPU keeps an event of a CPU beyond those counted.
func TestOrdererUnknownCPU(t *testing.T) {
	o := newOrderer(1, 0)
	o.push(3, orderEvent(5), 0)
	if cpus, tss := drainOrder(o, 0, true); len(tss) != 1 || cpus[0] != 3 {
		t.Fatalf("got %v %v", cpus, tss)
	}
}

// TestOrdererShift checks that a pushed event's timestamp is moved by the
// shift (time suspended since Load) in the copy and in the order.
func TestOrdererShift(t *testing.T) {
	o := newOrderer(1, 0)
	ev := orderEvent(5)
	o.push(0, ev, 100)
	if binary.LittleEndian.Uint64(ev) != 5 {
		t.Errorf("the source event was changed")
	}
	if _, tss := drainOrder(o, 0, true); len(tss) != 1 || tss[0] != 105 {
		t.Fatalf("got %v, want [105]", tss)
	}
}

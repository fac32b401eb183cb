package probe

import (
	"encoding/binary"
	"testing"
	"time"
	"unsafe"
)

// TestNextWhileRingNeverEmpties feeds the reader from a ring in memory whose producer refills
// it every time the reader hands space back, with one CPU's events only: the ring is never
// found empty and the other CPU never has an event queued. Next must still return events: a
// batch read to its end moves the order watermark on. Before, the watermark moved only when
// the ring was found empty, and a load that kept a small ring full stalled the reader (a
// 4 KiB ring under dd: 323 events read in 2.7 s).
func TestNextWhileRingNeverEmpties(t *testing.T) {
	const size = 1 << 24
	cons := make([]byte, 4096)
	prodPage := make([]byte, 4096)
	data := make([]byte, size)
	r := &ringReader{
		cons: cons, consPos: (*uint64)(unsafe.Pointer(&cons[0])),
		prodData: prodPage, prodPos: (*uint64)(unsafe.Pointer(&prodPage[0])),
		data: data, mask: size - 1,
	}
	var clock, prod uint64 = 1e9, 0
	records := 0
	r.clock = func() uint64 { return clock }
	produce := func() {
		for i := 0; i < 4 && prod+64 < size; i++ {
			rec := testRecord(0, clock, 1, 26)
			binary.LittleEndian.PutUint32(data[prod:], uint32(len(rec)))
			copy(data[prod+ringHdrSize:], rec)
			prod += ringHdrSize + uint64(len(rec)+7)&^7
			clock += uint64(time.Millisecond)
			records++
		}
		*r.prodPos = prod
	}
	produce()
	r.afterPublish = produce // each hand-back is refilled at once
	p := &Probe{reader: r, order: newOrderer(2, uint64(orderWindow)), closed: make(chan struct{}), stopped: make(chan struct{})}
	got := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 100; n++ {
			if _, _, err := p.Next(); err != nil {
				break
			}
		}
		got <- n
	}()
	select {
	case n := <-got:
		if n < 100 {
			t.Fatalf("Next failed after %d events", n)
		}
		// A pass of the ring reads up to pullMax events before any may go.
		if records > 2*pullMax {
			t.Fatalf("the 100th event came only after %d were read: the reader waited for the ring to empty", records)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next returned fewer than 100 events in 5 s from a ring that never empties")
	}
}

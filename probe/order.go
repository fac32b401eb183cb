package probe

import "encoding/binary"

// orderer puts the events of the ring back in timestamp order.
//
// The ring holds the events of every CPU interleaved, and across CPUs not
// in timestamp order: a read/write enter waits on its CPU for its exit (see
// Cost per event in probe.go), an event built by a filler enters the ring
// when the filler ends. On one CPU, though, the programs run one at a time
// and send their events in the order of their timestamps, so each CPU's
// events are in order; the orderer keeps one queue per CPU and merges them,
// as sysdig merges its per-CPU buffers.
//
// The oldest queued event may go when every CPU has an event queued (none
// of theirs can be older), or when it is older than the ring's watermark:
// the time at which the reader last found the ring empty, minus window.
// Only an event held in the kernel for longer than window (a read or write
// running that long without leaving its CPU) can then still come out of
// order.
type orderer struct {
	queues []cpuQueue
	queued int
	window uint64 // ns
}

// cpuQueue is one CPU's events, copied into arena, oldest first.
type cpuQueue struct {
	arena []byte
	recs  []queuedEvent
	head  int
}

type queuedEvent struct {
	ts       uint64
	off, end int
}

func newOrderer(ncpu int, window uint64) *orderer {
	return &orderer{queues: make([]cpuQueue, ncpu), window: window}
}

// push queues a copy of ev (a scap event: ts at bytes 0-7) from cpu, its
// timestamp moved by shift.
func (o *orderer) push(cpu uint16, ev []byte, shift uint64) {
	if int(cpu) >= len(o.queues) { // not a possible CPU: keep it anyway
		o.queues = append(o.queues, make([]cpuQueue, int(cpu)+1-len(o.queues))...)
	}
	q := &o.queues[cpu]
	switch {
	case q.head == len(q.recs):
		// Empty: start over at the front. The event returned last may
		// still be in use, but only until this call (see Probe.Next).
		q.arena, q.recs, q.head = q.arena[:0], q.recs[:0], 0
	case q.head > 1024 && q.head*2 > len(q.recs):
		q.compact()
	}
	off := len(q.arena)
	q.arena = append(q.arena, ev...)
	ts := binary.LittleEndian.Uint64(ev) + shift
	if shift != 0 {
		binary.LittleEndian.PutUint64(q.arena[off:], ts)
	}
	q.recs = append(q.recs, queuedEvent{ts: ts, off: off, end: len(q.arena)})
	o.queued++
}

// compact moves the queued events to the front of the arena.
func (q *cpuQueue) compact() {
	base := q.recs[q.head].off
	n := copy(q.arena, q.arena[base:])
	q.arena = q.arena[:n]
	k := copy(q.recs, q.recs[q.head:])
	q.recs = q.recs[:k]
	for i := range q.recs {
		q.recs[i].off -= base
		q.recs[i].end -= base
	}
	q.head = 0
}

// oldest returns the CPU of the oldest queued event and its timestamp, and
// whether every CPU has an event queued; cpu is -1 when nothing is queued.
func (o *orderer) oldest() (cpu int, ts uint64, allQueued bool) {
	cpu, allQueued = -1, true
	for i := range o.queues {
		q := &o.queues[i]
		if q.head == len(q.recs) {
			allQueued = false
			continue
		}
		if t := q.recs[q.head].ts; cpu < 0 || t < ts {
			cpu, ts = i, t
		}
	}
	return cpu, ts, allQueued
}

// ready says whether an event may go now, given the ring's watermark (see
// orderer); it returns its CPU. With final set (nothing more will come)
// the oldest always may.
func (o *orderer) ready(watermark uint64, final bool) (cpu int, ok bool) {
	c, ts, all := o.oldest()
	return c, c >= 0 && (all || final || ts+o.window <= watermark)
}

// next returns the event that may go now (see ready), or ok false.
func (o *orderer) next(watermark uint64, final bool) (cpu uint16, ev []byte, ok bool) {
	c, ok := o.ready(watermark, final)
	if !ok {
		return 0, nil, false
	}
	q := &o.queues[c]
	r := q.recs[q.head]
	q.head++
	o.queued--
	// Capacity ends with the event: a caller appending to it must not
	// overwrite the next one.
	return uint16(c), q.arena[r.off:r.end:r.end], true
}

// wait is how long, from the watermark, until the oldest queued event may
// go (0 when nothing is queued or it may go already).
func (o *orderer) wait(watermark uint64) uint64 {
	c, ts, all := o.oldest()
	if c < 0 || all || ts+o.window <= watermark {
		return 0
	}
	return ts + o.window - watermark
}

package probe

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ringReader consumes the BPF ring buffer through its memory mapping, in
// batches: the producer position is loaded once per batch and the consumer
// position published once per batch (or every eighth of the ring), instead
// of both once per record as a per-record reader does. Every access to the
// consumer and producer positions moves a cache line between the CPU running
// the probe and the one running the reader, so per-record updates slow down
// every traced system call.
//
// The kernel maps the data area twice back to back, so a record is always
// contiguous in the mapping.
type ringReader struct {
	mu        sync.Mutex // held by next and by close: close unmaps
	cons      []byte     // consumer page (read-write)
	prodData  []byte     // producer page then the data area twice (read-only)
	consPos   *uint64
	prodPos   *uint64
	data      []byte
	mask      uint64
	pos       uint64 // consumer position of the next record
	published uint64 // consumer position last stored for the kernel
	prod      uint64 // producer position loaded at the start of the batch
	// clock, when set, reads the event clock: loadTS is its value just
	// before prod was loaded, and done the loadTS of the last batch read
	// to its end. Every record reserved before done has then been handed
	// out, whether or not the ring was ever found empty: under a load
	// that keeps it from emptying, this is what moves the order
	// watermark on (see Probe.Next).
	clock  func() uint64
	loadTS uint64
	done   uint64
	epfd   int
	closed bool
	// state maps the probe's reader_state; waiting, its first entry, is 1
	// while wait sleeps, so the probe wakes the reader only then (see
	// ring_wake_flags in bpf/common.h).
	state   []byte
	waiting *uint32
	// afterPublish, for tests, runs after each publication: it widens
	// the window in which the producer may reuse what was handed back.
	afterPublish func()
}

const (
	ringHdrSize = 8
	ringBusy    = 1 << 31
	ringDiscard = 1 << 30
)

func newRingReader(mapFD int, size uint32, stateFD int) (r *ringReader, err error) {
	page := os.Getpagesize()
	var undo []func() error
	defer func() {
		if err != nil {
			for _, f := range undo {
				f()
			}
		}
	}()
	mmap := func(what string, fd int, off int64, n, prot int) ([]byte, error) {
		b, err := unix.Mmap(fd, off, n, prot, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("mapping the %s: %w", what, err)
		}
		undo = append(undo, func() error { return unix.Munmap(b) })
		return b, nil
	}
	state, err := mmap("reader state", stateFD, 0, page, unix.PROT_READ|unix.PROT_WRITE)
	if err != nil {
		return nil, err
	}
	cons, err := mmap("consumer page", mapFD, 0, page, unix.PROT_READ|unix.PROT_WRITE)
	if err != nil {
		return nil, err
	}
	prodData, err := mmap("ring", mapFD, int64(page), page+2*int(size), unix.PROT_READ)
	if err != nil {
		return nil, err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	undo = append(undo, func() error { return unix.Close(epfd) })
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, mapFD, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(mapFD)}); err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	r = &ringReader{
		cons:     cons,
		prodData: prodData,
		consPos:  (*uint64)(unsafe.Pointer(&cons[0])),
		prodPos:  (*uint64)(unsafe.Pointer(&prodData[0])),
		data:     prodData[page:],
		mask:     uint64(size) - 1,
		epfd:     epfd,
		state:    state,
		waiting:  (*uint32)(unsafe.Pointer(&state[0])),
	}
	r.pos = atomic.LoadUint64(r.consPos)
	r.published = r.pos
	r.prod = r.pos
	return r, nil
}

var (
	errRingEmpty = errors.New("ring empty")
	errRingBusy  = errors.New("next record not committed yet")
)

// next hands the next record to use, which must copy what it keeps: the
// record is read in place in the ring mapping, under the lock (close
// unmaps) and before the reader's position moves past it (the producer may
// then write over it). It returns use's error, errRingEmpty when there is
// no record, errRingBusy when the next one is being written, or
// os.ErrClosed.
func (r *ringReader) next(use func(rec []byte) error) error {
	r.mu.Lock() // not deferred: this runs once per event
	if r.closed {
		r.mu.Unlock()
		return os.ErrClosed
	}
	for {
		if r.pos == r.prod {
			// End of the batch: hand the space back, then look for more.
			r.done = r.loadTS
			r.publish()
			if r.clock != nil {
				r.loadTS = r.clock()
			}
			r.prod = atomic.LoadUint64(r.prodPos)
			if r.pos == r.prod {
				r.done = r.loadTS
				r.mu.Unlock()
				return errRingEmpty
			}
		}
		off := r.pos & r.mask
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusy != 0 {
			// Reserved, not committed yet: the producer is writing it.
			r.mu.Unlock()
			return errRingBusy
		}
		n := uint64(hdr &^ (ringBusy | ringDiscard))
		start := off + ringHdrSize
		var err error
		if hdr&ringDiscard == 0 {
			err = use(r.data[start : start+n : start+n])
		}
		r.pos += ringHdrSize + (n+7)&^7
		if r.pos-r.published >= (r.mask+1)/8 {
			r.publish()
		}
		if hdr&ringDiscard != 0 {
			continue
		}
		r.mu.Unlock()
		return err
	}
}

func (r *ringReader) publish() {
	if r.published != r.pos {
		atomic.StoreUint64(r.consPos, r.pos)
		r.published = r.pos
		if r.afterPublish != nil {
			r.afterPublish()
		}
	}
}

// wait blocks until the probe forces a wakeup (ring half full) or for at
// most ms milliseconds: records submitted with BPF_RB_NO_WAKEUP wake nobody.
func (r *ringReader) wait(ms int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return os.ErrClosed
	}
	var evs [1]unix.EpollEvent
	atomic.StoreUint32(r.waiting, 1)
	_, err := unix.EpollWait(r.epfd, evs[:], ms)
	atomic.StoreUint32(r.waiting, 0)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return err
	}
	return nil
}

func (r *ringReader) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	errs := []error{unix.Close(r.epfd), unix.Munmap(r.cons), unix.Munmap(r.prodData), unix.Munmap(r.state)}
	return errors.Join(errs...)
}

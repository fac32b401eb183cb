package chisels

import (
	"errors"
	"io"
	"testing"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/state"
)

// loadEvents reads a capture's events (raw copies) for replaying through a chisel.
func loadEvents(b *testing.B, path string) (*capture.Header, [][]byte, []int, []*event.Info) {
	r, err := capture.Open(path)
	if err != nil {
		b.Skipf("no capture: %v", err)
	}
	defer r.Close()
	var raws [][]byte
	var hdrs []int
	var infos []*event.Info
	var ev event.Event
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			break
		}
		if errors.Is(err, capture.ErrNewSection) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, append([]byte(nil), ev.Raw()...))
		hdrs = append(hdrs, ev.HeaderLen())
		infos = append(infos, ev.Info)
	}
	return r.Header(), raws, hdrs, infos
}

// BenchmarkChiselEvent measures the per-event cost of the runtime with the builtin topscalls.
func BenchmarkChiselEvent(b *testing.B) { benchChiselEvent(b, true) }

func benchChiselEvent(b *testing.B, watchdog bool) {
	hdr, raws, hdrs, infos := loadEvents(b, "../../shared/traces/syscall.scap")
	in := state.New()
	in.LoadHeader(hdr)
	var ev event.Event
	ctx := &fields.Ctx{In: in, Ev: &ev, MaxLen: 80}
	ch, err := Load("topscalls", &Config{Out: io.Discard, Ctx: ctx, Dirs: []string{builtinDir}})
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	if err := ch.SetArgs(nil); err != nil {
		b.Fatal(err)
	}
	if err := ch.Init(); err != nil {
		b.Fatal(err)
	}
	if !watchdog {
		ch.L.RemoveContext()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(raws)
		if err := ev.Set(raws[k], hdrs[k], infos[k]); err != nil {
			b.Fatal(err)
		}
		in.Process(&ev)
		if err := ch.Event(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChiselEventNoWatchdog is BenchmarkChiselEvent with the Lua state's context removed:
// the difference is what the watchdog costs per event.
func BenchmarkChiselEventNoWatchdog(b *testing.B) {
	benchChiselEvent(b, false)
}

package chisels

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/state"
)

// loopChisel writes a chisel whose callback named where loops forever.
func loopChisel(t *testing.T, where string) string {
	t.Helper()
	src := `description = "loops"
short_description = "loops"
category = "Misc"
args = {}
n = 0
function on_init() chisel.set_interval_ns(1000000) return true end
function on_event()
	n = n + 1
	if WHERE == "on_event" and n == 3 then while true do end end
	return true
end
function on_interval()
	if WHERE == "on_interval" then while true do n = n + 1 end end
	return true
end
function on_capture_end()
	if WHERE == "on_capture_end" then
		local t = {}
		while true do t[1] = (t[1] or 0) + 1 end
	end
end
`
	path := filepath.Join(t.TempDir(), "loop_"+where+".lua")
	if err := os.WriteFile(path, []byte(`WHERE = "`+where+`"`+"\n"+src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// closeExit is PPME_SYSCALL_CLOSE_X (one parameter, res).
const closeExit = 5

// feed feeds n generic exit events 1 ms apart (enough for on_interval at 1 ms).
func feed(t *testing.T, ch *Chisel, ctx *fields.Ctx, n int) error {
	t.Helper()
	info := event.Lookup(closeExit) // res only
	for i := 0; i < n; i++ {
		raw := make([]byte, 26+2+8)
		binary.LittleEndian.PutUint64(raw[0:], uint64(1_700_000_000_000_000_000+i*1_000_000)) // ts
		binary.LittleEndian.PutUint64(raw[8:], 100)                                           // tid
		binary.LittleEndian.PutUint32(raw[16:], uint32(len(raw)))                             // len
		binary.LittleEndian.PutUint16(raw[20:], closeExit)
		binary.LittleEndian.PutUint32(raw[22:], 1) // nparams
		raw[26] = 8                                // param len
		ev := ctx.Ev
		if err := ev.Set(raw, 26, info); err != nil {
			t.Fatal(err)
		}
		ctx.In.Process(ev)
		if err := ch.Event(ctx); err != nil {
			return err
		}
	}
	return nil
}

func loadLoop(t *testing.T, where string, timeout time.Duration) (*Chisel, *fields.Ctx) {
	t.Helper()
	var ev event.Event
	ctx := &fields.Ctx{In: state.New(), Ev: &ev}
	ch, err := Load(loopChisel(t, where), &Config{Out: io.Discard, Ctx: ctx, CallbackTimeout: timeout,
		LastTS: func() uint64 { return ev.TS }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ch.Close)
	if err := ch.SetArgs(nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Init(); err != nil {
		t.Fatal(err)
	}
	return ch, ctx
}

// TestWatchdogStopsRunawayCallbacks: a callback that loops forever is stopped after the timeout
// with an error naming the chisel and the callback.
func TestWatchdogStopsRunawayCallbacks(t *testing.T) {
	for _, where := range []string{"on_event", "on_interval", "on_capture_end"} {
		t.Run(where, func(t *testing.T) {
			ch, ctx := loadLoop(t, where, 200*time.Millisecond)
			start := time.Now()
			err := feed(t, ch, ctx, 10)
			if err == nil {
				err = ch.CaptureEnd()
			}
			took := time.Since(start)
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("want an interrupted error, got %v", err)
			}
			for _, want := range []string{"loop_" + where + ".lua", where + "()", "ran for more than 200ms"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if took > 3*time.Second {
				t.Errorf("stopped after %v, want about 200ms", took)
			}
			// the chisel stays stopped
			if err := ch.CaptureEnd(); !errors.Is(err, ErrInterrupted) {
				t.Errorf("after the stop, on_capture_end: %v", err)
			}
		})
	}
}

// TestInterruptFromAnotherGoroutine: with no timeout, Interrupt called from another goroutine
// (a capture loop's signal handler) stops a runaway on_event, and later calls fail at once.
func TestInterruptFromAnotherGoroutine(t *testing.T) {
	ch, ctx := loadLoop(t, "on_event", -1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		ch.Interrupt()
		ch.Interrupt() // twice is fine
	}()
	start := time.Now()
	err := feed(t, ch, ctx, 10)
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "on_event() stopped") {
		t.Fatalf("want on_event() stopped, got %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stopped after %v", took)
	}
	start = time.Now()
	if err := ch.CaptureEnd(); !errors.Is(err, ErrInterrupted) {
		t.Errorf("on_capture_end after Interrupt: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("on_capture_end after Interrupt took %v", took)
	}
}

// TestWatchdogLeavesNormalChiselsAlone: a chisel whose callbacks return runs to the end with a
// short timeout, over many events.
func TestWatchdogLeavesNormalChiselsAlone(t *testing.T) {
	ch, ctx := loadLoop(t, "nowhere", 50*time.Millisecond)
	if err := feed(t, ch, ctx, 2000); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // idle longer than the timeout between callbacks
	if err := feed(t, ch, ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := ch.CaptureEnd(); err != nil {
		t.Fatal(err)
	}
}

// TestLargeValueStack: a chisel that puts a hundred thousand values on the stack at once (an
// unpack, or around's filter built from every hit) runs, as on LuaJIT, instead of failing with
// gopher-lua's "registry overflow".
func TestLargeValueStack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bigstack.lua")
	code := `description = "x"; short_description = "x"; category = "misc"; args = {}
function on_init() return true end
function on_capture_end()
  local t = {}
  for i = 1, 100000 do t[i] = tostring(i) end
  print(select('#', unpack(t)), #table.concat(t, " or "))
end
`
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var ev event.Event
	ch, err := Load(path, &Config{Out: &out, Ctx: &fields.Ctx{In: state.New(), Ev: &ev}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.SetArgs(nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Init(); err != nil {
		t.Fatal(err)
	}
	if err := ch.CaptureEnd(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "100000\t888891" {
		t.Errorf("printed %q", got)
	}
}

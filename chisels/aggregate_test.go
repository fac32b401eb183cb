package chisels

import (
	"bytes"
	"errors"
	"github.com/gosysdig/gosysdig/internal/testcaptures"
	"io"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
	"github.com/gosysdig/gosysdig/state"
)

// runBuiltin runs a builtin chisel over a capture in process and returns its output. With
// luaLoop, chisel.aggregate is removed before on_init, so gs_common.top runs its Lua on_event.
func runBuiltin(t *testing.T, path, name string, args []string, luaLoop bool) (string, bool) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	defer r.Close()
	in := state.New()
	in.LoadHeader(r.Header())
	var ev event.Event
	ctx := &fields.Ctx{In: in, Ev: &ev, MaxLen: 80}
	var out bytes.Buffer
	ch, err := Load(name, &Config{Out: &out, Ctx: ctx, Dirs: []string{builtinDir}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.SetArgs(args); err != nil {
		t.Fatal(err)
	}
	if luaLoop {
		ch.L.GetGlobal("chisel").(*lua.LTable).RawSetString("aggregate", lua.LNil)
		ch.L.GetGlobal("chisel").(*lua.LTable).RawSetString("count_distinct", lua.LNil)
	}
	if err := ch.Init(); err != nil {
		t.Fatal(err)
	}
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			break
		}
		if errors.Is(err, capture.ErrNewSection) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		in.Process(&ev)
		if err := ch.Event(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.CaptureEnd(); err != nil {
		t.Fatal(err)
	}
	return out.String(), ch.agg != nil || ch.distinct != nil
}

// TestAggregateMatchesLua: the Go loop of chisel.aggregate prints the same tables as
// gs_common.top's Lua on_event, for string and numeric keys, several keys, counts, times,
// bytes and scaled values.
func TestAggregateMatchesLua(t *testing.T) {
	// syscall.scap of the shared traces, or a corpus capture of varied activity without them.
	trace := filepath.Join(testcaptures.CorpusDir(), "shell_chain.scap")
	if d := testcaptures.SharedDir(); d != "" {
		trace = filepath.Join(d, "traces", "syscall.scap")
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"topscalls", nil},
		{"topscalls_time", nil},
		{"topprocs_cpu", nil},
		{"topfiles_bytes", nil},
		{"fdbytes_by", []string{"proc.pid,fd.name"}},
		{"fdtime_by", []string{"evt.type"}},
		{"fdcount_by", []string{"proc.name"}},
		{"fdcount_by", []string{"proc.pid"}},
		{"fdcount_by", []string{"fd.l4proto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goOut, usedGo := runBuiltin(t, trace, tc.name, tc.args, false)
			luaOut, usedGoInLua := runBuiltin(t, trace, tc.name, tc.args, true)
			if !usedGo || usedGoInLua {
				t.Fatalf("aggregate used: %v with Go, %v with Lua", usedGo, usedGoInLua)
			}
			if goOut == "" {
				t.Fatal("no output")
			}
			if goOut != luaOut {
				t.Fatalf("Go loop:\n%s\nLua loop:\n%s", goOut, luaOut)
			}
		})
	}
}

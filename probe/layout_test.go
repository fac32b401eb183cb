package probe

import (
	"bufio"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// These tests check, against the BTF of the compiled object, the layouts
// the Go side relies on (map key/value sizes, setting widths, the scratch
// record's alignment), Tetragon style: a C change that breaks them fails
// here rather than at run time.

func loadSpec(t *testing.T) *ebpf.CollectionSpec {
	t.Helper()
	spec, err := loadProbe()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestMapLayouts(t *testing.T) {
	spec := loadSpec(t)
	want := []struct {
		name       string
		typ        ebpf.MapType
		key, value uint32
		max        uint32 // 0: set at load
	}{
		{"counters", ebpf.PerCPUArray, 4, 8, 2},
		{"event_mask", ebpf.Array, 4, 1, MaxEventID},
		{"excluded", ebpf.Hash, 4, 1, 4096},
		{"fillers", ebpf.ProgramArray, 4, 4, MaxEventID},
		{"events", ebpf.RingBuf, 0, 0, 0},
		{"scratch_map", ebpf.Array, 4, 0, 0},
		{"exec_flags", ebpf.LRUHash, 4, 4, 1024},
	}
	for _, w := range want {
		m, ok := spec.Maps[w.name]
		if !ok {
			t.Errorf("map %s missing", w.name)
			continue
		}
		if m.Type != w.typ || m.KeySize != w.key || (w.value != 0 && m.ValueSize != w.value) || (w.max != 0 && m.MaxEntries != w.max) {
			t.Errorf("map %s: type %v key %d value %d max %d; want %v %d %d %d",
				w.name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, w.typ, w.key, w.value, w.max)
		}
	}
}

func TestSettingWidths(t *testing.T) {
	spec := loadSpec(t)
	// Go passes uint32, uint32, uint64 (see configure).
	for name, size := range map[string]uint32{"snaplen": 4, "ignore_tgid": 4, "clock_offset_ns": 8} {
		v, ok := spec.Variables[name]
		if !ok {
			t.Errorf("setting %s missing", name)
			continue
		}
		if v.Size() != size {
			t.Errorf("setting %s is %d bytes, Go writes %d", name, v.Size(), size)
		}
		if !v.Constant() {
			t.Errorf("setting %s is not a volatile const", name)
		}
	}
}

func structOf(t *testing.T, spec *ebpf.CollectionSpec, name string) *btf.Struct {
	t.Helper()
	var s *btf.Struct
	if err := spec.Types.TypeByName(name, &s); err != nil {
		t.Fatalf("struct %s: %v", name, err)
	}
	return s
}

func member(t *testing.T, s *btf.Struct, name string) btf.Member {
	t.Helper()
	for _, m := range s.Members {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("struct %s has no member %s", s.Name, name)
	return btf.Member{}
}

func TestScratchLayout(t *testing.T) {
	spec := loadSpec(t)
	s := structOf(t, spec, "scratch")
	buf := member(t, s, "buf")
	// The record starts at buf+6, so the header's u64 ts sits at buf+8:
	// buf itself must be 8-byte aligned for the aligned header stores.
	if off := buf.Offset.Bytes(); off%8 != 0 {
		t.Errorf("scratch.buf at offset %d, not 8-byte aligned", off)
	}
	arr, ok := buf.Type.(*btf.Array)
	if !ok || arr.Nelems != 2*32768 {
		t.Errorf("scratch.buf is %v, want u8[65536]", buf.Type)
	}
	if sz, _ := btf.Sizeof(s); spec.Maps["scratch_map"].ValueSize != uint32(sz) {
		t.Errorf("scratch_map value %d != sizeof(struct scratch) %d", spec.Maps["scratch_map"].ValueSize, sz)
	}
	// gen_tables.sh writes initialisers in this member order.
	for name, members := range map[string][]string{
		"sc_info": {"enter", "exit", "ppm_sc"},
		"ev_info": {"nparams", "sizes"},
	} {
		st := structOf(t, spec, name)
		for i, m := range members {
			if i >= len(st.Members) || st.Members[i].Name != m {
				t.Errorf("struct %s member %d is not %s", name, i, m)
			}
		}
	}
	if sz, _ := btf.Sizeof(structOf(t, spec, "ev_info")); sz != 24 {
		t.Errorf("sizeof(ev_info) = %d, want 24 (1 + MAX_PARAMS)", sz)
	}
}

// tables parses bpf/tables.h (generated from the 0.29.3 reference).
type tables struct {
	sc map[int][3]int // nr -> enter, exit, ppm_sc
	ev map[int][]int  // id -> param wire sizes
}

func readTables(t *testing.T) tables {
	t.Helper()
	f, err := os.Open("bpf/tables.h")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scRe := regexp.MustCompile(`^\t\[(\d+)\] = \{(\d+), (\d+), (\d+)\},`)
	evRe := regexp.MustCompile(`^\t\[(\d+)\] = \{(\d+), \{([0-9, ]*)\}\},`)
	tb := tables{sc: map[int][3]int{}, ev: map[int][]int{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := scRe.FindStringSubmatch(line); m != nil {
			a, _ := strconv.Atoi(m[1])
			var v [3]int
			for i := range v {
				v[i], _ = strconv.Atoi(m[2+i])
			}
			tb.sc[a] = v
		} else if m := evRe.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			var sizes []int
			for _, f := range strings.Split(m[3], ",") {
				if f = strings.TrimSpace(f); f != "" {
					v, _ := strconv.Atoi(f)
					sizes = append(sizes, v)
				}
			}
			if len(sizes) != n {
				t.Fatalf("tables.h event %d: %d sizes for %d params", id, len(sizes), n)
			}
			tb.ev[id] = sizes
		}
	}
	if len(tb.sc) != 512 || len(tb.ev) < 300 {
		t.Fatalf("tables.h: %d syscalls, %d events", len(tb.sc), len(tb.ev))
	}
	return tb
}

// knownGaps are events whose parameters beyond res are not extracted yet:
// the probe sends them zero-filled in the 0.29.3 shape.
var knownGaps = map[int]string{
	190: "quotactl E", 191: "quotactl X",
}

// dispatcherBuilt are events the dispatcher builds itself, without a tail
// call (is_rw in bpf/fs.h): read, write, pread64, pwrite64, enter and exit.
var dispatcherBuilt = map[int]bool{6: true, 7: true, 8: true, 9: true, 112: true, 113: true, 114: true, 115: true}

// TestFillerCoverage checks every event a syscall can produce has a filler
// unless the dispatcher builds it or its default (nothing on enter, res on
// exit) is its whole 0.29.3 layout.
func TestFillerCoverage(t *testing.T) {
	spec := loadSpec(t)
	tb := readTables(t)
	have := map[int]bool{}
	for _, kv := range spec.Maps["fillers"].Contents {
		have[int(kv.Key.(uint32))] = true
	}
	var missing []int
	seen := map[int]bool{}
	for _, e := range tb.sc {
		for dir, id := range e[:2] {
			if id <= 1 || seen[id] {
				continue
			}
			seen[id] = true
			sizes := tb.ev[id]
			defaultOK := len(sizes) == 0 || (dir == 1 && len(sizes) == 1 && sizes[0] == 8)
			if !defaultOK && !have[id] && !dispatcherBuilt[id] {
				if _, gap := knownGaps[id]; !gap {
					missing = append(missing, id)
				}
			}
		}
	}
	sort.Ints(missing)
	if len(missing) > 0 {
		t.Errorf("events without a filler: %v", missing)
	}
	for id := range dispatcherBuilt {
		if have[id] {
			t.Errorf("event %d is built by the dispatcher: its filler is never called", id)
		}
	}
	for id := range knownGaps {
		if have[id] {
			t.Errorf("event %d has a filler now: drop it from knownGaps", id)
		}
	}
}

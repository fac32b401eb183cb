package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// extractor reads one column's value from the current event.
type extractor func(c *fields.Ctx) (fields.Value, bool)

var (
	refBuflen = mustRef("evt.buflen")
	refFDType = mustRef("fd.type")
)

func mustRef(s string) *fields.Ref {
	r, err := fields.Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// ioBytes returns the bytes an I/O call moved, whether it read, and the fd type.
func ioBytes(c *fields.Ctx) (n int64, read bool, typ string, ok bool) {
	fl := c.Ev.Info.Flags
	if fl&(event.EFReadsFromFd|event.EFWritesToFd) == 0 || c.Ev.IsEnter() {
		return 0, false, "", false
	}
	v, ok := refBuflen.Extract(c)
	if !ok || v.Int <= 0 {
		return 0, false, "", false
	}
	t, ok := refFDType.Extract(c)
	if !ok {
		return 0, false, "", false
	}
	return v.Int, fl&event.EFReadsFromFd != 0, string(t.Str), true
}

// bufExtractor builds evt.buflen.file/.net(.in/.out) and evt.buflen.in/.out, which csysdig's
// views use: the bytes of I/O calls on fds of some types, in one or both directions.
func bufExtractor(types []string, dir int) extractor {
	return func(c *fields.Ctx) (fields.Value, bool) {
		n, read, typ, ok := ioBytes(c)
		if !ok || dir == 1 && !read || dir == 2 && read {
			return fields.Value{}, false
		}
		if types != nil {
			match := false
			for _, t := range types {
				match = match || t == typ
			}
			if !match {
				return fields.Value{}, false
			}
		}
		return fields.Value{Kind: fields.KUint, Int: n}, true
	}
}

// cpuSplit tracks procinfo's user and system jiffies per thread for the Processes CPU view.
type cpuSplit struct{ last map[int64][2]uint64 }

func (s *cpuSplit) extractor(which int) extractor {
	return func(c *fields.Ctx) (fields.Value, bool) {
		if c.Ev.Type != 234 {
			return fields.Value{}, false
		}
		u, _ := c.Ev.Uint(0)
		sy, _ := c.Ev.Uint(1)
		if s.last == nil {
			s.last = map[int64][2]uint64{}
		}
		prev, seen := s.last[c.Ev.Tid]
		cur := [2]uint64{u, sy}
		s.last[c.Ev.Tid] = cur
		if !seen || cur[which] < prev[which] {
			return fields.Value{Kind: fields.KDouble}, true
		}
		return fields.Value{Kind: fields.KDouble, F: math.Min(float64(cur[which]-prev[which]), 100)}, true
	}
}

var openTypes = map[uint16]bool{}

func init() {
	for t := 0; t < event.MaxType; t++ {
		if info := event.Lookup(uint16(t)); info != nil && info.Dir == '<' {
			switch info.Name {
			case "open", "openat", "openat2", "creat", "open_by_handle_at":
				openTypes[uint16(t)] = true
			}
		}
	}
}

// resolve returns the extractor of a column field: a registered gosysdig field, or a derived one.
func resolve(name string, cpu *cpuSplit) (extractor, error) {
	files := []string{"file", "directory"}
	nets := []string{"ipv4", "ipv6"}
	switch name {
	case "evt.buflen.file":
		return bufExtractor(files, 0), nil
	case "evt.buflen.file.in":
		return bufExtractor(files, 1), nil
	case "evt.buflen.file.out":
		return bufExtractor(files, 2), nil
	case "evt.buflen.net":
		return bufExtractor(nets, 0), nil
	case "evt.buflen.net.in":
		return bufExtractor(nets, 1), nil
	case "evt.buflen.net.out":
		return bufExtractor(nets, 2), nil
	case "evt.buflen.in":
		return bufExtractor(nil, 1), nil
	case "evt.buflen.out":
		return bufExtractor(nil, 2), nil
	case "thread.cpu.user":
		return cpu.extractor(0), nil
	case "thread.cpu.system":
		return cpu.extractor(1), nil
	case "thread.vmsize.b", "thread.vmrss.b":
		r := mustRef("proc." + name[7:len(name)-2]) // kB
		return func(c *fields.Ctx) (fields.Value, bool) {
			v, ok := r.Extract(c)
			return fields.Value{Kind: fields.KUint, Int: int64(number(v) * 1024)}, ok
		}, nil
	case "evt.count.open":
		return func(c *fields.Ctx) (fields.Value, bool) {
			if openTypes[c.Ev.Type] {
				return fields.Value{Kind: fields.KUint, Int: 1}, true
			}
			return fields.Value{}, false
		}, nil
	}
	r, err := fields.Parse(name)
	if err != nil {
		return nil, fmt.Errorf("view column: %w", err)
	}
	return r.Extract, nil
}

// number converts a value to a float for aggregation.
func number(v fields.Value) float64 {
	switch v.Kind {
	case fields.KDouble:
		return v.F
	case fields.KUint:
		return float64(uint64(v.Int))
	case fields.KString, fields.KBytes:
		f, _ := strconv.ParseFloat(string(v.Str), 64)
		return f
	}
	return float64(v.Int)
}

// formatValue renders an aggregate as the column shows it.
func formatValue(f Format, v float64) string {
	switch f {
	case FmtPct:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case FmtBytes:
		return humanBytes(v)
	case FmtTime:
		return humanTime(v)
	}
	return strconv.FormatInt(int64(math.Round(v)), 10)
}

func humanBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return strconv.FormatFloat(v/(1<<30), 'f', 2, 64) + "G"
	case v >= 1<<20:
		return strconv.FormatFloat(v/(1<<20), 'f', 2, 64) + "M"
	case v >= 1<<10:
		return strconv.FormatFloat(v/(1<<10), 'f', 2, 64) + "K"
	}
	return strconv.FormatInt(int64(math.Round(v)), 10)
}

func humanTime(ns float64) string {
	switch {
	case ns >= 1e9:
		return strconv.FormatFloat(ns/1e9, 'f', 2, 64) + "s"
	case ns >= 1e6:
		return strconv.FormatFloat(ns/1e6, 'f', 2, 64) + "ms"
	case ns >= 1e3:
		return strconv.FormatFloat(ns/1e3, 'f', 2, 64) + "us"
	}
	return strconv.FormatInt(int64(ns), 10) + "ns"
}

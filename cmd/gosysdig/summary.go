package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// summary counts events per direction and name for -S; generic events count under their
// syscall's name.
type summary struct {
	counts  [event.MaxType]uint64
	generic map[[2]uint16]uint64 // (direction bit, ppm_sc code)
}

func (s *summary) add(ev *event.Event) {
	if ev.Type <= 1 {
		if s.generic == nil {
			s.generic = map[[2]uint16]uint64{}
		}
		code, _ := ev.Uint(0)
		s.generic[[2]uint16{ev.Type, uint16(code)}]++
		return
	}
	s.counts[ev.Type]++
}

func (s *summary) write(w io.Writer) {
	type row struct {
		dir   byte
		name  string
		count uint64
	}
	var rows []row
	for t, n := range s.counts {
		if n > 0 {
			info := event.Lookup(uint16(t))
			rows = append(rows, row{info.Dir, info.Name, n})
		}
	}
	for k, n := range s.generic {
		dir := byte('>')
		if k[0] == 1 {
			dir = '<'
		}
		rows = append(rows, row{dir, event.SyscallName(k[1]), n})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].count != rows[j].count {
			return rows[i].count > rows[j].count
		}
		if rows[i].name != rows[j].name {
			return rows[i].name < rows[j].name
		}
		return rows[i].dir < rows[j].dir
	})
	fmt.Fprint(w, "----------------------\nEvent           #Calls\n----------------------\n")
	for _, r := range rows {
		fmt.Fprintf(w, "%c %-16s%d\n", r.dir, r.name, r.count)
	}
}

// Event counts an event that passed the filter (-S is a sink of the capture loop).
func (s *summary) Event(c *fields.Ctx) error {
	s.add(c.Ev)
	return nil
}

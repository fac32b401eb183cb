// Package ui is gosysdig's interactive terminal UI, in the manner of csysdig: tables of processes,
// files, connections, system calls... aggregated per refresh interval from the events of the one
// gosysdig pipeline, which the UI joins as a sink.
package ui

import (
	"fmt"
	"io"
	"strings"
)

// Agg is how a column folds the values of a row's events in an interval.
type Agg uint8

const (
	AggLast     Agg = iota // the latest value
	AggSum                 // sum of the values
	AggTimeAvg             // sum per second of the interval
	AggMax                 // largest value
	AggAvg                 // mean of the values
	AggDistinct            // number of distinct values
)

// Format is how a column's value is shown.
type Format uint8

const (
	FmtText  Format = iota
	FmtNum          // integer
	FmtPct          // percentage with two decimals
	FmtBytes        // bytes, with K/M/G suffixes
	FmtTime         // nanoseconds, as 1.20ms
)

// Col is one column of a view.
type Col struct {
	Name  string
	Field string // a gosysdig field, or one of the UI's derived fields (derived.go)
	Agg   Agg
	Fmt   Format
	Width int // 0: takes the rest of the line (last column)
	// Div divides the aggregate by another column's aggregate (AVG TIME = TOT TIME / calls).
	Div int
}

// View is a table: its rows are the groups of events with the same key fields.
type View struct {
	ID, Name, Desc string
	Filter         string   // sysdig filter selecting the events the view reads
	Keys           []string // fields whose values make a row's key; nil: one row per event (lists)
	Cols           []Col
	Sort           int    // default sort column
	Drill          string // view Enter leads to ("" for none)
	DrillField     string // the field the drill-down filters on (defaults to Keys[0])
	// Threads: the view shows processes or threads, so rows carry the process for echo/dig.
	Threads bool
}

// IsList reports a view that shows one row per event.
func (v *View) IsList() bool { return len(v.Keys) == 0 }

func (v *View) drillField() string {
	if v.DrillField != "" {
		return v.DrillField
	}
	if len(v.Keys) > 0 {
		return v.Keys[0]
	}
	return ""
}

// Views lists the views in the order of the F2 picker.
var Views = []*View{
	{ID: "procs", Name: "Processes", Desc: "top/htop-like process list: CPU, memory, file and network I/O per process",
		Filter: "evt.type!=switch", Keys: []string{"proc.pid"}, Sort: 2, Drill: "files", Threads: true,
		Cols: []Col{
			{Name: "PID", Field: "proc.pid", Width: 7, Fmt: FmtNum},
			{Name: "PPID", Field: "proc.ppid", Width: 7, Fmt: FmtNum},
			{Name: "%CPU", Field: "thread.cpu", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "USER", Field: "user.name", Width: 10},
			{Name: "TH", Field: "proc.nthreads", Agg: AggMax, Fmt: FmtNum, Width: 4},
			{Name: "VIRT", Field: "thread.vmsize.b", Agg: AggMax, Fmt: FmtBytes, Width: 7},
			{Name: "RES", Field: "thread.vmrss.b", Agg: AggMax, Fmt: FmtBytes, Width: 7},
			{Name: "FILE", Field: "evt.buflen.file", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "NET", Field: "evt.buflen.net", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "procs_cpu", Name: "Processes CPU", Desc: "CPU usage per process, user and system, with the system calls made",
		Filter: "evt.type!=switch", Keys: []string{"proc.pid"}, Sort: 1, Drill: "threads", Threads: true,
		Cols: []Col{
			{Name: "PID", Field: "proc.pid", Width: 7, Fmt: FmtNum},
			{Name: "TOT", Field: "thread.cpu", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "USER", Field: "thread.cpu.user", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "SYS", Field: "thread.cpu.system", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "SYSCALLS", Field: "evt.count.exit", Agg: AggTimeAvg, Fmt: FmtNum, Width: 9},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "threads", Name: "Threads", Desc: "per-thread CPU and I/O",
		Filter: "evt.type!=switch", Keys: []string{"thread.tid"}, Sort: 2, Drill: "files", Threads: true,
		Cols: []Col{
			{Name: "PID", Field: "proc.pid", Width: 7, Fmt: FmtNum},
			{Name: "TID", Field: "thread.tid", Width: 7, Fmt: FmtNum},
			{Name: "%CPU", Field: "thread.cpu", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "FILE", Field: "evt.buflen.file", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "NET", Field: "evt.buflen.net", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "files", Name: "Files", Desc: "files accessed: bytes read and written, operations, opens and errors",
		Filter: "(fd.type=file or fd.type=directory) and fd.name!=''", Keys: []string{"fd.name"}, Sort: 2, Drill: "procs",
		Cols: []Col{
			{Name: "BYTES IN", Field: "evt.buflen.file.in", Agg: AggSum, Fmt: FmtBytes, Width: 9},
			{Name: "BYTES OUT", Field: "evt.buflen.file.out", Agg: AggSum, Fmt: FmtBytes, Width: 9},
			{Name: "OPS", Field: "evt.count.exit", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "OPENS", Field: "evt.count.open", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "ERRORS", Field: "evt.count.error", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "FILENAME", Field: "fd.name"},
		}},
	{ID: "directories", Name: "Directories", Desc: "file activity per directory",
		Filter: "(fd.type=file or fd.type=directory) and fd.name!=''", Keys: []string{"fd.directory"}, Sort: 2, Drill: "files",
		Cols: []Col{
			{Name: "BYTES IN", Field: "evt.buflen.file.in", Agg: AggSum, Fmt: FmtBytes, Width: 9},
			{Name: "BYTES OUT", Field: "evt.buflen.file.out", Agg: AggSum, Fmt: FmtBytes, Width: 9},
			{Name: "OPS", Field: "evt.count.exit", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "OPENS", Field: "evt.count.open", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "ERRORS", Field: "evt.count.error", Agg: AggSum, Fmt: FmtNum, Width: 6},
			{Name: "DIRNAME", Field: "fd.directory"},
		}},
	{ID: "file_opens", Name: "File Opens List", Desc: "every file open, as it happens",
		Filter: "(evt.type=open or evt.type=openat or evt.type=openat2 or evt.type=creat) and evt.dir=<",
		Cols: []Col{
			{Name: "TIME", Field: "evt.time", Width: 18},
			{Name: "RES", Field: "evt.res", Width: 8},
			{Name: "FILE", Field: "fd.name", Width: 30},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "connections", Name: "Connections", Desc: "network connections: endpoints and throughput",
		Filter: "(fd.type=ipv4 or fd.type=ipv6) and fd.name!=''", Keys: []string{"fd.name"}, Sort: 5, Drill: "procs",
		Cols: []Col{
			{Name: "PROTO", Field: "fd.l4proto", Width: 5},
			{Name: "LIP", Field: "fd.lip", Width: 15},
			{Name: "LPORT", Field: "fd.lport", Width: 5},
			{Name: "RIP", Field: "fd.rip", Width: 15},
			{Name: "RPORT", Field: "fd.rport", Width: 5},
			{Name: "BPS IN", Field: "evt.buflen.net.in", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "BPS OUT", Field: "evt.buflen.net.out", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "IOPS", Field: "evt.count.exit", Agg: AggTimeAvg, Fmt: FmtNum, Width: 5},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "sports", Name: "Server Ports", Desc: "traffic per server port",
		Filter: "(fd.type=ipv4 or fd.type=ipv6) and fd.name!=''", Keys: []string{"fd.sport"}, Sort: 2, Drill: "connections",
		Cols: []Col{
			{Name: "SPORT", Field: "fd.sport", Width: 6},
			{Name: "PROTO", Field: "fd.l4proto", Width: 5},
			{Name: "BPS IN", Field: "evt.buflen.net.in", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 8},
			{Name: "BPS OUT", Field: "evt.buflen.net.out", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 8},
			{Name: "IO CALLS", Field: "evt.count.exit", Agg: AggTimeAvg, Fmt: FmtNum, Width: 8},
		}},
	{ID: "syscalls", Name: "System Calls", Desc: "system calls: rate and time spent",
		Filter: "syscall.type exists", Keys: []string{"evt.type"}, Sort: 0, Drill: "procs",
		Cols: []Col{
			{Name: "CALLS/S", Field: "evt.count.exit", Agg: AggTimeAvg, Fmt: FmtNum, Width: 8},
			{Name: "TOT TIME", Field: "evt.latency", Agg: AggSum, Fmt: FmtTime, Width: 9},
			{Name: "AVG TIME", Field: "evt.latency", Agg: AggSum, Fmt: FmtTime, Width: 9, Div: 4},
			{Name: "SYSCALL", Field: "evt.type"},
			{Name: "", Field: "evt.count.exit", Agg: AggSum, Fmt: FmtNum, Width: -1}, // hidden divisor
		}},
	{ID: "errors", Name: "Errors", Desc: "failed system calls by error code",
		Filter: "evt.res!=SUCCESS and evt.dir=<", Keys: []string{"evt.res"}, Sort: 0, Drill: "procs",
		Cols: []Col{
			{Name: "COUNT", Field: "evt.count", Agg: AggSum, Fmt: FmtNum, Width: 8},
			{Name: "ERROR", Field: "evt.res"},
		}},
	{ID: "containers", Name: "Containers", Desc: "containers: CPU, processes, memory and I/O",
		Filter: "container.id!=host", Keys: []string{"container.id"}, Sort: 0, Drill: "procs",
		Cols: []Col{
			{Name: "%CPU", Field: "thread.cpu", Agg: AggTimeAvg, Fmt: FmtPct, Width: 6},
			{Name: "PROCS", Field: "proc.pid", Agg: AggDistinct, Fmt: FmtNum, Width: 5},
			{Name: "THREADS", Field: "thread.tid", Agg: AggDistinct, Fmt: FmtNum, Width: 7},
			{Name: "FILE", Field: "evt.buflen.file", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "NET", Field: "evt.buflen.net", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 7},
			{Name: "ENGINE", Field: "container.type", Width: 7},
			{Name: "IMAGE", Field: "container.image", Width: 16},
			{Name: "ID", Field: "container.id", Width: 12},
			{Name: "NAME", Field: "container.name"},
		}},
	{ID: "spy_users", Name: "Spy Users", Desc: "commands run and directories changed by users' shells",
		Filter: "((evt.type=execve and evt.dir=<) or (evt.type=chdir and evt.dir=< and proc.name contains sh and not proc.name contains sshd)) and evt.failed=false",
		Cols: []Col{
			{Name: "TIME", Field: "evt.time", Width: 18},
			{Name: "USER", Field: "user.name", Width: 10},
			{Name: "SHELL", Field: "proc.ppid", Width: 7},
			{Name: "Command", Field: "proc.exeline"},
		}},
	{ID: "io_by_type", Name: "I/O by Type", Desc: "I/O per fd type: files, sockets, pipes...",
		Filter: "evt.is_io=true", Keys: []string{"fd.type"}, Sort: 2, Drill: "procs",
		Cols: []Col{
			{Name: "BPS IN", Field: "evt.buflen.in", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 8},
			{Name: "BPS OUT", Field: "evt.buflen.out", Agg: AggTimeAvg, Fmt: FmtBytes, Width: 8},
			{Name: "IOPS", Field: "evt.count.exit", Agg: AggTimeAvg, Fmt: FmtNum, Width: 6},
			{Name: "TIME", Field: "evt.latency", Agg: AggSum, Fmt: FmtTime, Width: 9},
			{Name: "I/O Type", Field: "fd.type"},
		}},
}

// FindView returns a view by id or name (case-insensitive), or nil.
func FindView(s string) *View {
	for _, v := range Views {
		if strings.EqualFold(v.ID, s) || strings.EqualFold(v.Name, s) {
			return v
		}
	}
	return nil
}

// ListViews prints the views as --list-views shows them.
func ListViews(w io.Writer) {
	fmt.Fprintln(w, "View ID          Name              Description")
	for _, v := range Views {
		fmt.Fprintf(w, "%-16s %-17s %s\n", v.ID, v.Name, v.Desc)
	}
}

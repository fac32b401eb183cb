package chisels

import (
	lua "github.com/yuin/gopher-lua"
)

// extraKind names the fields chisels request that the field registry lacks; the chisel computes
// them the way sysdig's filterchecks do.
type extraKind uint8

const (
	extraNone       extraKind = iota
	extraThreadCPU            // thread.cpu: CPU ticks used since the thread's last procinfo
	extraThreadExec           // thread.exectime: time the switched-out thread ran, on switch events
)

func extraField(name string) extraKind {
	switch name {
	case "thread.cpu":
		return extraThreadCPU
	case "thread.exectime":
		return extraThreadExec
	}
	return extraNone
}

type extraState struct {
	lastCPU    map[int64]uint64 // per thread: user+system ticks at its last procinfo
	lastSwitch map[uint16]uint64
}

const (
	evProcinfo    = 234 // PPME_PROCINFO_E
	evSchedSwitch = 152 // PPME_SCHEDSWITCH_6_E
	evSchedOld    = 146 // PPME_SCHEDSWITCH_1_E
)

func (c *Chisel) extraValue(k extraKind) lua.LValue {
	ev := c.ctx.Ev
	switch k {
	case extraThreadCPU:
		if ev.Type != evProcinfo {
			return lua.LNil
		}
		usr, ok1 := ev.Uint(0)
		sys, ok2 := ev.Uint(1)
		if !ok1 || !ok2 {
			return lua.LNil
		}
		tot := usr + sys
		if c.extra.lastCPU == nil {
			c.extra.lastCPU = map[int64]uint64{}
		}
		var v float64
		if last := c.extra.lastCPU[ev.Tid]; last != 0 {
			v = float64(tot - last)
			if v > 100 {
				v = 100
			}
		}
		c.extra.lastCPU[ev.Tid] = tot
		return lua.LNumber(v)
	case extraThreadExec:
		if ev.Type != evSchedSwitch && ev.Type != evSchedOld {
			return lua.LNumber(0)
		}
		if c.extra.lastSwitch == nil {
			c.extra.lastSwitch = map[uint16]uint64{}
		}
		var v uint64
		if last := c.extra.lastSwitch[ev.CPU]; last != 0 {
			v = ev.TS - last
		}
		c.extra.lastSwitch[ev.CPU] = ev.TS
		return lua.LNumber(float64(v))
	}
	return lua.LNil
}

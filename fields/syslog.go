package fields

import "github.com/gosysdig/gosysdig/event"

// The syslog class: messages written to /dev/log, decoded as sysdig 0.29.3's syslog protocol
// decoder does (libsinsp protodecoder.cpp). sysdig decodes the data of every successful write
// (write, writev, pwrite, send, sendto, sendmsg...) on an fd whose name contains "/dev/log", and
// the decoded values hold for that event only (they are reset before the next one). So the
// fields are decoded here from the event itself: the value exists on a successful write exit
// to such an fd whose data starts with "<PRI>" where PRI is decimal digits.

var syslogSeverities = [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

var syslogFacilities = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "clock", "authpriv", "ftp", "ntp", "logaudit", "logalert", "cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// syslogMessage decodes the current event as a syslog write: the priority and the message
// (which points into the event's data). ok is false when the event is not one.
func syslogMessage(c *Ctx) (pri int32, msg []byte, ok bool) {
	ev := c.Ev
	if ev.Info.Flags&event.EFWritesToFd == 0 || ev.IsEnter() {
		return 0, nil, false
	}
	f := c.In.FD
	if f == nil || !containsStr(f.Name, "/dev/log") {
		return 0, nil, false
	}
	if res, ok := ev.Int(0); !ok || res < 0 {
		return 0, nil, false
	}
	data := ev.Param(1)
	// sysdig skips the first byte without checking it is '<', then reads up to 15 bytes of
	// priority until '>' or NUL.
	n := 0
	for i := 1; i < len(data) && data[i] != '>' && data[i] != 0 && n < 15; i++ {
		n++
	}
	if n == 0 || len(data) < n+2 {
		return 0, nil, false
	}
	for _, d := range data[1 : 1+n] {
		if d < '0' || d > '9' {
			return 0, nil, false
		}
		pri = pri*10 + int32(d-'0') // int32 arithmetic wraps as sysdig's does
	}
	return pri, data[n+2:], true
}

func init() {
	register("syslog",
		&Field{Name: "syslog.facility.str", Kind: KString, Desc: "facility as a string.", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			pri, _, ok := syslogMessage(c)
			if !ok {
				return Value{}, false
			}
			if f := uint32(pri >> 3); f < uint32(len(syslogFacilities)) {
				return sstr(syslogFacilities[f])
			}
			return sstr("<NA>")
		}},
		&Field{Name: "syslog.facility", Kind: KUint, Desc: "facility as a number (0-23).", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			pri, _, ok := syslogMessage(c)
			if !ok {
				return Value{}, false
			}
			return u64(uint64(uint32(pri >> 3)))
		}},
		&Field{Name: "syslog.severity.str", Kind: KString, Desc: "severity as a string. Can have one of these values: emerg, alert, crit, err, warn, notice, info, debug", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			pri, _, ok := syslogMessage(c)
			if !ok {
				return Value{}, false
			}
			return sstr(syslogSeverities[pri&7])
		}},
		&Field{Name: "syslog.severity", Kind: KUint, Desc: "severity as a number (0-7).", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			pri, _, ok := syslogMessage(c)
			if !ok {
				return Value{}, false
			}
			return u64(uint64(pri & 7))
		}},
		&Field{Name: "syslog.message", Kind: KString, Desc: "message sent to syslog.", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			_, msg, ok := syslogMessage(c)
			if !ok {
				return Value{}, false
			}
			return bstr(msg)
		}},
	)
}

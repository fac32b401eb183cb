package alerts

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gosysdig/gosysdig/rules"
)

// OutputsDropRule names the internal alert raised when outputs lost alerts, in the style of
// Falco's "Falco internal: syscall event drop" (Falco itself only logs "Outputs queue out of
// memory. Drop event and continue on ...").
const OutputsDropRule = InternalPrefix + "outputs queue drop"

// ticker raises, once a second, an alert for the rule alerts the outputs lost in that second.
// The alerts it raises are queued as any other (never blocking); losing one of them does not
// raise another, so a dead output does not keep the ticker busy.
func (d *Dispatcher) ticker() {
	defer close(d.tickDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.tick:
			return
		case <-t.C:
		}
		if a := d.dropAlert(); a != nil {
			d.Send(a)
		}
	}
}

// dropAlert is the alert for the rule alerts lost since the last call, or nil.
func (d *Dispatcher) dropAlert() *rules.Alert {
	total := int64(0)
	var parts []string
	fields := map[string]int64{}
	for _, w := range d.workers {
		lost := w.dropped.Load() + w.failed.Load() + w.unsent.Load() + w.unread.Load() - w.internalLost.Load()
		n := lost - w.lastLost
		w.lastLost = lost
		if n <= 0 {
			continue
		}
		total += n
		parts = append(parts, fmt.Sprintf("%s: %d", w.out.Name(), n))
		fields[w.out.Name()] = n
	}
	if total == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s. %d alert(s) lost by outputs in last second (%s).", OutputsDropRule, total, strings.Join(parts, ", "))
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	js := fmt.Appendf(nil, `{"n_drops":"%d"`, total)
	for _, n := range names {
		js = append(js, `,"output.`...)
		js = appendJSONKey(js, n)
		js = fmt.Appendf(js, `":"%d"`, fields[n])
	}
	js = append(js, '}')
	return &rules.Alert{Time: d.now(), Rule: OutputsDropRule, Priority: rules.PriorityError, Source: "internal",
		Tags: []string{}, Output: msg, Fields: js}
}

// appendJSONKey appends s escaped for the inside of a JSON string (output names are the
// user's paths and URLs).
func appendJSONKey(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&15])
		case r == 0xfffd:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, string(r)...)
		}
	}
	return b
}

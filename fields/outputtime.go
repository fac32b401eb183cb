package fields

import "strconv"

// outputTime is evt.outputtime: the event time as -t asks (sysdig's
// TYPE_RUNTIME_TIME_OUTPUT_FORMAT). Int is always the timestamp, which JSON prints.
func outputTime(c *Ctx, a *Arg) (Value, bool) {
	ts := c.Ev.TS
	v := Value{Kind: KAbsTime, Int: int64(ts)}
	b := c.buf(0)
	switch c.TimeType {
	case 'a':
		// sysdig joins the two parts with to_string: the nanoseconds are not zero-padded.
		b = strconv.AppendUint(b, ts/1e9, 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, ts%1e9, 10)
	case 'r':
		b = appendSecNs(b, ts-c.FirstTS)
	case 'd':
		var lat uint64
		if c.In.Thread != nil && !c.In.NoEventThread {
			lat = c.In.Thread.Latency
		}
		b = appendSecNs(b, lat)
	case 'D':
		// Like sysdig's filter check, the previous time is the last one this field printed.
		if c.more.outPrevTS == 0 {
			c.more.outPrevTS = ts
		}
		b = appendSecNs(b, ts-c.more.outPrevTS)
		c.more.outPrevTS = ts
	default:
		return v, true
	}
	v.Str = c.keep(0, b)
	return v, true
}

// appendSecNs prints ns as seconds and 9 digits of nanoseconds.
func appendSecNs(b []byte, ns uint64) []byte {
	b = strconv.AppendUint(b, ns/1e9, 10)
	b = append(b, '.')
	return appendPadded(b, ns%1e9, 9)
}

package filter

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// Value checks as libsinsp 0.29.3 makes them when a filter is compiled: a value must parse
// for the field's type, an event type must exist and an argument name must belong to some
// event. The messages are sysdig's.

// checkValue reports why v cannot be compared with a field of kind k (nil when it can).
// Text operators (contains, glob...) take any text, as in sysdig, except on evt.type.
func checkValue(field string, k fields.Kind, op, v string) error {
	if field == "evt.type" {
		if !knownEventName(v) {
			return fmt.Errorf("unknown event type %s", v)
		}
		return nil
	}
	switch op {
	case "=", "==", "!=", "<", "<=", ">", ">=", "in", "intersects":
	default:
		return nil
	}
	switch k {
	case fields.KInt, fields.KUint, fields.KRelTime, fields.KAbsTime:
		if _, err := strconv.ParseInt(v, 0, 64); err == nil {
			return nil
		}
		if _, err := strconv.ParseUint(v, 0, 64); err == nil {
			return nil
		}
		return fmt.Errorf("%s is not a valid number", v)
	case fields.KBool:
		switch v {
		case "true", "false", "0", "1":
			return nil
		}
		return fmt.Errorf("filter error: unrecognized boolean value %s", v)
	case fields.KPort:
		if _, err := strconv.ParseUint(v, 10, 16); err == nil {
			return nil
		}
		if _, err := net.LookupPort("tcp", v); err == nil {
			return nil
		}
		return fmt.Errorf("unrecognized protocol %s", v)
	case fields.KIP, fields.KNet:
		if i := strings.IndexByte(v, '/'); i >= 0 {
			if net.ParseIP(v[:i]).To4() == nil && net.ParseIP(v[:i]) == nil {
				return fmt.Errorf("unrecognized IP address %s", v[:i])
			}
			if _, _, err := net.ParseCIDR(v); err != nil {
				return fmt.Errorf("invalid netmask %s", v[i+1:])
			}
			return nil
		}
		if net.ParseIP(v) == nil {
			if strings.Contains(v, ":") {
				return fmt.Errorf("unrecognized IPv6 address %s", v)
			}
			return fmt.Errorf("unrecognized IPv4 address %s", v)
		}
	}
	return nil
}

// knownEventName reports whether some 0.29.3 event or syscall (generic events) has this name.
func knownEventName(name string) bool {
	for i := 0; i < event.MaxType; i++ {
		if info := event.Lookup(uint16(i)); info != nil && info.Name == name {
			return true
		}
	}
	for c := uint16(0); c < 1024; c++ {
		if event.SyscallName(c) == name {
			return true
		}
	}
	return false
}

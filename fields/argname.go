package fields

import (
	"fmt"

	"github.com/gosysdig/gosysdig/event"
)

// checkArgName reports sysdig's error for evt.arg.NAME (or evt.arg[NAME], evt.rawarg.NAME)
// when no event has a parameter of that name.
func checkArgName(ref *Ref) error {
	switch ref.F.Name {
	case "evt.arg", "evt.rawarg":
	default:
		return nil
	}
	if ref.A.HasN || ref.A.Name == "" {
		return nil
	}
	for i := 0; i < event.MaxType; i++ {
		info := event.Lookup(uint16(i))
		if info == nil {
			continue
		}
		for _, p := range info.Params {
			if p.Name == ref.A.Name {
				return nil
			}
		}
	}
	return fmt.Errorf("unknown event argument %s", ref.A.Name)
}

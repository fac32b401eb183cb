package fields

import (
	"fmt"
	"strings"

	"github.com/gosysdig/gosysdig/event"
)

// checkArgName resolves evt.arg.NAME (or evt.arg[NAME], evt.rawarg.NAME) as libsinsp's
// find_longest_matching_evt_param does: NAME becomes the longest parameter name of any event
// that is a prefix of it (chisels such as shellshock_detect ask for evt.arg.environment and get
// env), and sysdig's error when there is none.
func checkArgName(ref *Ref) error {
	switch ref.F.Name {
	case "evt.arg", "evt.rawarg":
	default:
		return nil
	}
	if ref.A.HasN || ref.A.Name == "" {
		return nil
	}
	best := ""
	for i := 0; i < event.MaxType; i++ {
		info := event.Lookup(uint16(i))
		if info == nil {
			continue
		}
		for _, p := range info.Params {
			if len(p.Name) > len(best) && strings.HasPrefix(ref.A.Name, p.Name) {
				best = p.Name
				ref.A.rawType = p.Type
			}
		}
	}
	if best != "" {
		ref.A.Name = best
		return nil
	}
	return fmt.Errorf("unknown event argument %s", ref.A.Name)
}

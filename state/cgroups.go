package state

import "strings"

// sinspCgroups renames the controllers of a thread's cgroups ("controller=path" entries) as
// libsinsp's set_cgroups does, for the cgroups of events and of the process list alike: the
// entry splits at its last '=', a "_cgroup" in the controller's name goes, perf is perf_event,
// mem is memory, and io (blkio's name in today's kernels) is blkio. thread.cgroups and the
// filters on it then read as in sysdig 0.29.3. It renames in place and returns cgroups.
func sinspCgroups(cgroups []string) []string {
	for i, cg := range cgroups {
		eq := strings.LastIndexByte(cg, '=')
		if eq < 0 {
			continue
		}
		sub := cg[:eq]
		if j := strings.Index(sub, "_cgroup"); j >= 0 {
			sub = sub[:j] + sub[j+len("_cgroup"):]
		}
		switch sub {
		case "perf":
			sub = "perf_event"
		case "mem":
			sub = "memory"
		case "io":
			sub = "blkio"
		}
		if sub != cg[:eq] {
			cgroups[i] = sub + cg[eq:]
		}
	}
	return cgroups
}

// Command workload runs one scenario of the recorded corpus (testdata/corpus): each subcommand
// makes one class of system calls, small and deterministic in shape, so that a capture of it
// exercises one area of the state machine (sockets, fds, processes, names). `make corpus`
// copies it to a binary named cwl and records it with gosysdig -w filtered on that name.
package main

import (
	"fmt"
	"os"
	"sort"
)

var scenarios = map[string]func() error{}

func reg(name string, f func() error) { scenarios[name] = f }

func main() {
	if len(os.Args) < 2 {
		names := make([]string, 0, len(scenarios))
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
		return
	}
	f, ok := scenarios[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "workload: unknown scenario %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := f(); err != nil {
		fmt.Fprintf(os.Stderr, "workload %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// scratch returns a fresh directory for a scenario's files; the path is fixed per scenario
// so that recorded names do not depend on the run.
func scratch(name string) string {
	d := "/tmp/cwl-" + name
	os.RemoveAll(d)
	if err := os.MkdirAll(d, 0o755); err != nil {
		panic(err)
	}
	return d
}

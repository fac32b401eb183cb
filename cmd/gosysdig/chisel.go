package main

import "fmt"

// newChiselSink loads chisel name, taking the arguments it declares from args; the rest are the
// filter. It is replaced by the chisel runtime (issue: chisels).
func newChiselSink(name string, args []string, p *pipeline) (sink, []string, error) {
	return nil, nil, &exitError{code: 1, msg: fmt.Sprintf("chisel %s: chisels are not supported yet", name)}
}

package rules

import "strings"

// containerInfo is Falco's output placeholder for a rule's container (not a field): the rule
// loader replaces it, by default with containerInfoDefault.
const (
	containerInfo        = "%container.info"
	containerInfoDefault = "%container.name (id=%container.id)"
)

// Falco's -p presets (Falco 0.35's texts, the release whose %container.info default is
// containerInfoDefault, and of falco_rules-2023.yaml).
const (
	printContainer  = "container=%container.name (id=%container.id)"
	printKubernetes = "k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name container=%container.id"
	printGvisor     = " vpid=%proc.vpid vtid=%thread.vtid"
)

// Print is Falco's -p option, what every syscall rule's output gains. A preset (-pc, -pk and
// their gVisor forms) takes the place of %container.info where the output has it, and is
// appended after a space where it has not; a custom format is appended after a space to every
// output, whose %container.info gets the default.
type Print struct {
	Format      string
	ReplaceInfo bool // a preset: Format takes the place of %container.info
}

// ParsePrint reads Falco's -p value: c or container, cg or container-gvisor, k or kubernetes,
// kg or kubernetes-gvisor, or a format of its own ("" is none; anything else, m included, is a
// format, as in Falco 0.35).
func ParsePrint(v string) Print {
	switch v {
	case "":
		return Print{}
	case "c", "container":
		return Print{Format: printContainer, ReplaceInfo: true}
	case "cg", "container-gvisor":
		return Print{Format: printContainer + printGvisor, ReplaceInfo: true}
	case "k", "kubernetes":
		return Print{Format: printKubernetes, ReplaceInfo: true}
	case "kg", "kubernetes-gvisor":
		return Print{Format: printKubernetes + printGvisor, ReplaceInfo: true}
	}
	return Print{Format: v}
}

// apply is Falco's rule loader substitution on one output.
func (p Print) apply(out string) string {
	if strings.Contains(out, containerInfo) {
		if p.ReplaceInfo {
			return strings.ReplaceAll(out, containerInfo, p.Format)
		}
		out = strings.ReplaceAll(out, containerInfo, containerInfoDefault)
	}
	if p.Format != "" {
		out += " " + p.Format
	}
	return out
}

// Package rules loads Falco-format rules files (lists, macros, rules with exceptions, append
// and override), compiles their conditions with the project's filter compiler and matches events
// against them, indexed by event type so that each event meets only the rules that could fire.
package rules

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/gosysdig/gosysdig/filter"
	"github.com/gosysdig/gosysdig/output"
)

// DefaultRules is the project's built-in rules file, used when no -R is given.
//
//go:embed default_rules.yaml
var DefaultRules []byte

// DefaultRulesName names the built-in file in messages.
const DefaultRulesName = "<default_rules.yaml>"

// EngineVersion is the rules engine version compared with required_engine_version. Falco
// numbers its engine either as an integer (old) or as semver; N is read as 0.N.0. 0.57.0 is what
// today's falcosecurity/rules files require (falco_rules.yaml, incubating, sandbox); the rules
// language those files use loads here (see README "Falco's rules files" for what fires).
var EngineVersion = [3]int{0, 57, 0}

// Priority is a rule's severity: Emergency (0, most severe) to Debug (7), as syslog's.
type Priority int

// Falco's priorities, most severe first.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// String is the priority as Falco prints it.
func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority reads a priority name, case-insensitively ("info" is Informational).
func ParsePriority(s string) (Priority, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "info" {
		return PriorityInformational, nil
	}
	for i, n := range priorityNames {
		if strings.ToLower(n) == l {
			return Priority(i), nil
		}
	}
	return 0, fmt.Errorf("unknown priority %q (want one of emergency, alert, critical, error, warning, notice, informational, debug)", s)
}

// Pos is a place in a rules file (1-based line and column; 0 when unknown).
type Pos struct {
	File         string
	Line, Column int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Diag is an error or a warning about a rules file, naming the item it is about.
type Diag struct {
	Pos  Pos
	Item string // `rule "name"`, `macro "name"`, `list "name"`; "" for the file itself
	Msg  string
}

func (d Diag) String() string {
	if d.Item == "" {
		return fmt.Sprintf("%s: %s", d.Pos, d.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Item, d.Msg)
}

// LoadError is returned when rules files have errors; it lists all of them.
type LoadError struct{ Errors []Diag }

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d error(s) loading rules:", len(e.Errors))
	for _, d := range e.Errors {
		b.WriteString("\n")
		b.WriteString(d.String())
	}
	return b.String()
}

// List is a named list of values, expanded inside in/intersects/pmatch value lists.
type List struct {
	Name  string
	Items []string
	Pos   Pos

	resolved []string
	state    int // 0 unresolved, 1 resolving, 2 done, 3 bad
	used     bool
}

// Macro is a named condition, usable as an identifier in other conditions.
type Macro struct {
	Name      string
	Condition string
	Pos       Pos
	cond      []segment

	expr  filter.Expr
	flt   *condition // compiled once, shared by every condition that uses the macro
	state int        // as List.state
	used  bool
}

// Exception is one of a rule's exceptions: events whose fields compare equal (or as comps
// says) to one of the value tuples do not fire the rule.
type Exception struct {
	Name   string
	Fields []string
	Comps  []string
	Values [][]any // per tuple, per field: a string, or []string for in/intersects/pmatch
	Single bool    // fields was one name, not a list: each value is one item
	Pos    Pos
}

// Rule is one rule, compiled once loading succeeded.
type Rule struct {
	Name       string
	Desc       string
	Condition  string
	Output     string
	Priority   Priority
	Tags       []string
	Enabled    bool
	Source     string
	Exceptions []Exception
	Pos        Pos
	Format     string // the alert's output format: Output with %container.info and -p applied

	skipUnknown bool
	quietTypes  bool // warn_evttypes: false
	outPos      Pos
	cond        []segment
	flt         *condition
	text, json  *output.Formatter
	skipped     bool // skip-if-unknown-filter and an unknown field: never enabled
}

// segment is one piece of a (possibly appended) condition and where it was written.
type segment struct {
	off int // byte offset in the joined condition
	pos Pos
}

// Set is everything loaded from rules files, in definition order.
type Set struct {
	Rules    []*Rule
	Lists    []*List
	Macros   []*Macro
	Warnings []Diag
	Errors   []Diag

	rules  map[string]*Rule
	lists  map[string]*List
	macros map[string]*Macro

	print      Print // Falco's -p: what the rules' outputs gain
	expanded   int   // list items copied while expanding lists, against expandBudget
	overBudget bool  // expandBudget was exceeded (reported once)
}

// EventTypes reports, per event id, whether r can match it (nil: any type).
func (r *Rule) EventTypes() []bool {
	if r.flt == nil {
		return nil
	}
	if r.flt.types == nil {
		return nil
	}
	return append([]bool(nil), r.flt.types...)
}

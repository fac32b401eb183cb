package rules

import (
	"github.com/gosysdig/gosysdig/output"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/gosysdig/gosysdig/event"
	"github.com/gosysdig/gosysdig/fields"
)

// Selection says which loaded rules run.
type Selection struct {
	Tags        []string         // if set, only rules with one of these tags (-t)
	DisableTags []string         // rules with one of these tags are off (-T)
	Disable     []*regexp.Regexp // rules whose name matches are off (-D)
	MinPriority Priority         // rules less severe than this are off (--priority)
	MatchAll    bool             // every matching rule alerts, not only the first (--matching all)
}

// Engine matches events against the selected rules.
type Engine struct {
	Rules    []*Rule   // selected, in definition order
	byType   [][]int32 // event type -> indices in Rules of the rules that can match it
	matchAll bool
	hits     []*Rule
}

// Active reports whether the rule is selected by sel.
func (r *Rule) Active(sel *Selection) bool {
	if !r.Enabled || r.skipped || r.flt == nil || r.Priority > sel.MinPriority {
		return false
	}
	if len(sel.Tags) > 0 && !hasAny(r.Tags, sel.Tags) {
		return false
	}
	if hasAny(r.Tags, sel.DisableTags) {
		return false
	}
	for _, re := range sel.Disable {
		if re.MatchString(r.Name) {
			return false
		}
	}
	return true
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// NewEngine indexes the rules sel selects by the event types they can match.
func (s *Set) NewEngine(sel Selection) *Engine {
	e := &Engine{byType: make([][]int32, event.MaxType), matchAll: sel.MatchAll}
	for _, r := range s.Rules {
		if !r.Active(&sel) {
			continue
		}
		i := int32(len(e.Rules))
		e.Rules = append(e.Rules, r)
		for t := range e.byType {
			if r.flt.MayMatch(uint16(t)) {
				e.byType[t] = append(e.byType[t], i)
			}
		}
	}
	return e
}

// EventTypes reports, per event id, whether any selected rule can match it.
func (e *Engine) EventTypes() []bool {
	out := make([]bool, event.MaxType)
	for t, rs := range e.byType {
		out[t] = len(rs) > 0
	}
	return out
}

// Match returns the rules the event in c fires: the first one in definition order, or every
// one with MatchAll. The slice is reused by the next call. Events no rule can match cost one
// index lookup and no allocation.
func (e *Engine) Match(c *fields.Ctx) []*Rule {
	t := int(c.Ev.Type)
	if t >= len(e.byType) || syscallEnter[t] {
		return nil
	}
	c.ExitArgsFromEnter = true
	idx := e.byType[t]
	if len(idx) == 0 {
		return nil
	}
	e.hits = e.hits[:0]
	for _, i := range idx {
		r := e.Rules[i]
		if r.flt.Match(c) {
			e.hits = append(e.hits, r)
			if !e.matchAll {
				break
			}
		}
	}
	return e.hits
}

// syscallEnter marks the enter events of system calls. The engine follows today's Falco
// (0.42 and later, whose rules files no longer say evt.dir): rules see a system call once, at
// its exit, which carries the enter's parameters too; events that only have an enter side
// (procexit, switch, signaldeliver, container, procinfo and the like) are seen as they are.
var syscallEnter = func() []bool {
	meta := map[string]bool{"procexit": true, "switch": true, "drop": true, "sysdigevent": true,
		"container": true, "signaldeliver": true, "procinfo": true, "cpu_hotplug": true, "k8s": true,
		"mesos": true, "notification": true, "infra": true, "page_fault": true}
	out := make([]bool, event.MaxType)
	for t := 0; t+1 < event.MaxType; t += 2 {
		in, ex := event.Lookup(uint16(t)), event.Lookup(uint16(t+1))
		out[t] = in != nil && ex != nil && in.Name == ex.Name && !meta[in.Name]
	}
	return out
}()

// Alert is one rule firing (or an engine message such as dropped events).
type Alert struct {
	Time     time.Time
	Rule     string
	Priority Priority
	Source   string
	Tags     []string
	Output   string // the rule's output with its fields filled in
	Fields   []byte // JSON object of the output's fields
}

// NewAlert formats r's output for the event in c.
func (r *Rule) NewAlert(c *fields.Ctx) *Alert {
	a := &Alert{Time: time.Unix(0, int64(c.Ev.TS)), Rule: r.Name, Priority: r.Priority, Source: r.Source, Tags: r.Tags}
	line, _ := r.text.Format(c)
	a.Output = string(trimNL(line))
	js, _ := r.json.Format(c)
	a.Fields = append([]byte(nil), trimNL(js)...)
	return a
}

func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// Text is Falco's alert line: "HH:MM:SS.nnnnnnnnn: Priority output" (local time).
func (a *Alert) Text() string {
	t := a.Time.Local()
	return t.Format("15:04:05.000000000") + ": " + a.Priority.String() + " " + a.Output
}

// JSON is Falco's JSON alert (keys in Falco's order, which is alphabetical).
func (a *Alert) JSON(hostname string) []byte {
	b := []byte(`{"hostname":`)
	b = output.AppendJSONString(b, hostname)
	b = append(b, `,"output":`...)
	b = output.AppendJSONString(b, a.Text())
	b = append(b, `,"output_fields":`...)
	if len(a.Fields) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, a.Fields...)
	}
	b = append(b, `,"priority":`...)
	b = output.AppendJSONString(b, a.Priority.String())
	b = append(b, `,"rule":`...)
	b = output.AppendJSONString(b, a.Rule)
	b = append(b, `,"source":`...)
	b = output.AppendJSONString(b, a.Source)
	b = append(b, `,"tags":[`...)
	tags := append([]string(nil), a.Tags...)
	sort.Strings(tags)
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = output.AppendJSONString(b, t)
	}
	b = append(b, `],"time":`...)
	b = output.AppendJSONString(b, a.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	return append(b, '}')
}

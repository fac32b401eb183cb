package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Source is one rules file's content.
type Source struct {
	Name string
	Data []byte
}

// ReadPaths reads rules files; a folder contributes its regular files in name order.
func ReadPaths(paths []string) ([]Source, error) {
	var out []Source
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules file: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("rules folder: %w", err)
			}
			files = files[:0]
			for _, e := range ents {
				if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("rules file: %w", err)
			}
			out = append(out, Source{Name: f, Data: b})
		}
	}
	return out, nil
}

// Load reads every source in order, then resolves and compiles what they define. The Set is
// returned even with errors (for --validate); err is a *LoadError when there are any.
func Load(srcs []Source) (*Set, error) {
	return LoadPrint(srcs, Print{})
}

// LoadPrint is Load with Falco's -p option applied to every rule's output (see Print).
func LoadPrint(srcs []Source, p Print) (*Set, error) {
	s := &Set{rules: map[string]*Rule{}, lists: map[string]*List{}, macros: map[string]*Macro{}, print: p}
	for _, src := range srcs {
		s.loadFile(src)
	}
	if len(s.Errors) == 0 {
		s.compile()
	}
	if len(s.Errors) > 0 {
		return s, &LoadError{Errors: s.Errors}
	}
	return s, nil
}

func (s *Set) errorf(pos Pos, item, format string, args ...any) {
	s.Errors = append(s.Errors, Diag{Pos: pos, Item: item, Msg: fmt.Sprintf(format, args...)})
}

func (s *Set) warnf(pos Pos, item, format string, args ...any) {
	s.Warnings = append(s.Warnings, Diag{Pos: pos, Item: item, Msg: fmt.Sprintf(format, args...)})
}

func (s *Set) loadFile(src Source) {
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			p := Pos{File: src.Name}
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
				p.Column = 1
			}
			s.errorf(p, "", "not valid YAML: %v", err)
			return
		}
		root := &n
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" || root.Kind == yaml.DocumentNode {
			continue // empty document
		}
		if root.Kind != yaml.SequenceNode {
			s.errorf(pos(src.Name, root), "", "rules content must be a list of items (- rule:, - macro:, - list:), not %s", kindName(root))
			return
		}
		for _, it := range root.Content {
			s.loadItem(src.Name, it)
		}
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func pos(file string, n *yaml.Node) Pos { return Pos{File: file, Line: n.Line, Column: n.Column} }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 60 {
			v = v[:57] + "..." // enough to recognise it in an error message
		}
		return fmt.Sprintf("the scalar %q", v)
	}
	return "an alias"
}

// item is one top-level entry's keys.
type item struct {
	file string
	node *yaml.Node
	keys map[string]*yaml.Node
	kpos map[string]Pos
	name string // `rule "x"` etc.
	s    *Set
	bad  bool
}

func (it *item) errorf(key, format string, args ...any) {
	p := pos(it.file, it.node)
	if kp, ok := it.kpos[key]; ok {
		p = kp
	}
	it.s.errorf(p, it.name, format, args...)
	it.bad = true
}

func (it *item) has(k string) bool { _, ok := it.keys[k]; return ok }

func (it *item) str(k string) string {
	n := it.keys[k]
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		it.errorf(k, "%s must be a string, not %s", k, kindName(n))
		return ""
	}
	return n.Value
}

func (it *item) boolean(k string) bool {
	n := it.keys[k]
	if n == nil {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		it.errorf(k, "%s must be true or false", k)
	}
	return b
}

func (it *item) strings(k string) []string {
	n := it.keys[k]
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return []string{}
	}
	if n.Kind != yaml.SequenceNode {
		it.errorf(k, "%s must be a list, not %s", k, kindName(n))
		return nil
	}
	out := []string{}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			it.errorf(k, "%s: items must be strings, not %s", k, kindName(c))
			return nil
		}
		out = append(out, c.Value)
	}
	return out
}

func (it *item) require(keys ...string) {
	for _, k := range keys {
		if !it.has(k) {
			it.errorf("", "missing key %q", k)
		}
	}
}

// allow reports keys the item kind does not know.
func (it *item) allow(keys ...string) {
	for k := range it.keys {
		found := false
		for _, a := range keys {
			found = found || a == k
		}
		if !found {
			it.s.warnf(it.kpos[k], it.name, "unknown key %q ignored", k)
		}
	}
}

// overrides reads `override: {key: append|replace}` and checks it against what is allowed.
func (it *item) overrides(appendable []string) map[string]string {
	n := it.keys["override"]
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		it.errorf("override", "override must be a mapping of key: append|replace")
		return nil
	}
	ov := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1].Value
		switch v {
		case "append":
			ok := false
			for _, a := range appendable {
				ok = ok || a == k
			}
			if !ok {
				it.errorf("override", "key %q cannot be appended to (only %s)", k, strings.Join(appendable, ", "))
				continue
			}
		case "replace":
		default:
			it.errorf("override", "override of %q must be append or replace, not %q", k, v)
			continue
		}
		if !it.has(k) {
			it.errorf("override", "override names key %q, which the item does not set", k)
			continue
		}
		ov[k] = v
	}
	for k := range it.keys {
		if _, ok := ov[k]; !ok && k != "override" && k != "rule" && k != "macro" && k != "list" {
			it.errorf(k, "key %q is set but not named in override", k)
		}
	}
	return ov
}

func (s *Set) loadItem(file string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		s.errorf(pos(file, n), "", "item must be a mapping (- rule: ..., - macro: ..., - list: ...), not %s", kindName(n))
		return
	}
	it := &item{file: file, node: n, keys: map[string]*yaml.Node{}, kpos: map[string]Pos{}, s: s}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		it.keys[k.Value] = n.Content[i+1]
		it.kpos[k.Value] = pos(file, n.Content[i+1])
	}
	switch {
	case it.has("rule"):
		it.name = fmt.Sprintf("rule %q", it.keys["rule"].Value)
		s.loadRule(it)
	case it.has("macro"):
		it.name = fmt.Sprintf("macro %q", it.keys["macro"].Value)
		s.loadMacro(it)
	case it.has("list"):
		it.name = fmt.Sprintf("list %q", it.keys["list"].Value)
		s.loadList(it)
	case it.has("required_engine_version"):
		it.name = "required_engine_version"
		s.checkEngine(it)
	case it.has("required_plugin_versions"):
		it.name = "required_plugin_versions"
		s.warnPlugins(it)
	default:
		var ks []string
		for k := range it.keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		s.errorf(pos(file, n), "", "item has none of the keys rule, macro, list, required_engine_version (has: %s)", strings.Join(ks, ", "))
	}
}

func (s *Set) checkEngine(it *item) {
	v := it.str("required_engine_version")
	want, ok := parseVersion(v)
	if !ok {
		it.errorf("required_engine_version", "%q is not a version", v)
		return
	}
	for i := range want {
		if want[i] != EngineVersion[i] {
			if want[i] > EngineVersion[i] {
				it.errorf("required_engine_version", "rules require engine version %s, this engine is %d.%d.%d",
					v, EngineVersion[0], EngineVersion[1], EngineVersion[2])
			}
			return
		}
	}
}

func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) == 1 {
		n, err := strconv.Atoi(parts[0])
		out[1] = n
		return out, err == nil && n >= 0
	}
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

func (s *Set) loadList(it *item) {
	name := it.str("list")
	if strings.TrimSpace(name) == "" {
		it.errorf("list", "list has no name") // Falco: "Mapping for key 'list' is empty"
		return
	}
	it.allow("list", "items", "append", "override")
	app := it.boolean("append")
	ov := it.overrides([]string{"items"})
	it.require("items")
	items := it.strings("items")
	if it.bad {
		return
	}
	old := s.lists[name]
	if app || ov != nil {
		if old == nil {
			it.errorf("list", "append/override: no list %q defined before", name)
			return
		}
		if app || ov["items"] == "append" {
			old.Items = append(old.Items, items...)
		} else {
			old.Items = items
		}
		return
	}
	l := &List{Name: name, Items: items, Pos: pos(it.file, it.node)}
	if old != nil {
		*old = *l // redefinition replaces, keeping the original place
		return
	}
	s.lists[name] = l
	s.Lists = append(s.Lists, l)
}

func (s *Set) loadMacro(it *item) {
	name := it.str("macro")
	if strings.TrimSpace(name) == "" {
		it.errorf("macro", "macro has no name") // Falco: "Mapping for key 'macro' is empty"
		return
	}
	it.allow("macro", "condition", "append", "override")
	app := it.boolean("append")
	ov := it.overrides([]string{"condition"})
	it.require("condition")
	cond := it.str("condition")
	if it.bad {
		return
	}
	cpos := it.kpos["condition"]
	old := s.macros[name]
	if app || ov != nil {
		if old == nil {
			it.errorf("macro", "append/override: no macro %q defined before", name)
			return
		}
		if app || ov["condition"] == "append" {
			old.cond = append(old.cond, segment{off: len(old.Condition) + 1, pos: cpos})
			old.Condition += " " + cond
		} else {
			old.Condition, old.cond = cond, []segment{{pos: cpos}}
		}
		return
	}
	m := &Macro{Name: name, Condition: cond, Pos: pos(it.file, it.node), cond: []segment{{pos: cpos}}}
	if old != nil {
		*old = *m
		return
	}
	s.macros[name] = m
	s.Macros = append(s.Macros, m)
}

var ruleKeys = []string{"rule", "desc", "condition", "output", "priority", "tags", "enabled", "source",
	"exceptions", "append", "override", "skip-if-unknown-filter", "warn_evttypes"}

func (s *Set) loadRule(it *item) {
	name := it.str("rule")
	it.allow(ruleKeys...)
	app := it.boolean("append")
	ov := it.overrides([]string{"condition", "output", "desc", "tags", "exceptions"})
	if it.bad {
		return
	}
	old := s.rules[name]
	// "- rule: X / enabled: false" alone switches an existing rule on or off.
	onlyEnabled := it.has("enabled") && len(it.keys) == 2
	if onlyEnabled && old == nil {
		it.errorf("rule", "enabled: no rule %q defined before to switch on or off", name)
		return
	}
	if app || ov != nil || onlyEnabled {
		if old == nil {
			it.errorf("rule", "append/override: no rule %q defined before", name)
			return
		}
		s.amendRule(it, old, app, ov)
		return
	}
	it.require("condition", "output", "desc", "priority")
	r := &Rule{Name: name, Enabled: true, Source: "syscall", Pos: pos(it.file, it.node), Tags: []string{}}
	r.Desc = it.str("desc")
	r.Condition = it.str("condition")
	r.cond = []segment{{pos: it.kpos["condition"]}}
	r.Output = strings.TrimSpace(it.str("output"))
	r.outPos = it.kpos["output"]
	r.Tags = it.strings("tags")
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if it.has("enabled") {
		r.Enabled = it.boolean("enabled")
	}
	if it.has("source") {
		r.Source = it.str("source")
	}
	r.skipUnknown = it.boolean("skip-if-unknown-filter")
	r.quietTypes = it.has("warn_evttypes") && !it.boolean("warn_evttypes")
	if it.has("priority") {
		p, err := ParsePriority(it.str("priority"))
		if err != nil {
			it.errorf("priority", "%v", err)
		}
		r.Priority = p
	}
	r.Exceptions = it.exceptions(nil)
	if it.bad {
		return
	}
	if old != nil {
		*old = *r
		return
	}
	s.rules[name] = r
	s.Rules = append(s.Rules, r)
}

func (s *Set) amendRule(it *item, r *Rule, app bool, ov map[string]string) {
	mode := func(k string) string {
		if !it.has(k) {
			return ""
		}
		if app {
			return "append"
		}
		if ov == nil {
			return "replace" // enabled alone
		}
		return ov[k]
	}
	if app && !it.has("condition") && !it.has("exceptions") {
		// Falco's legacy append: "Appended rule must have exceptions or condition property".
		it.errorf("append", "appended rule must have a condition or exceptions")
	}
	if app {
		for k := range it.keys {
			switch k {
			case "rule", "append", "condition", "exceptions", "output", "desc", "tags", "enabled":
			default:
				it.errorf(k, "key %q cannot be appended to", k)
			}
		}
	}
	switch mode("condition") {
	case "append":
		r.cond = append(r.cond, segment{off: len(r.Condition) + 1, pos: it.kpos["condition"]})
		r.Condition += " " + it.str("condition")
	case "replace":
		r.Condition, r.cond = it.str("condition"), []segment{{pos: it.kpos["condition"]}}
	}
	for _, k := range []string{"output", "desc"} {
		p := &r.Output
		if k == "desc" {
			p = &r.Desc
		}
		switch mode(k) {
		case "append":
			*p += " " + strings.TrimSpace(it.str(k))
		case "replace":
			*p = strings.TrimSpace(it.str(k))
		}
		if k == "output" && mode(k) != "" {
			r.outPos = it.kpos[k]
		}
	}
	switch mode("tags") {
	case "append":
		r.Tags = append(r.Tags, it.strings("tags")...)
	case "replace":
		r.Tags = it.strings("tags")
	}
	switch mode("exceptions") {
	case "append":
		r.Exceptions = it.exceptions(r.Exceptions)
	case "replace":
		r.Exceptions = it.exceptions(nil)
	}
	if m := mode("enabled"); m != "" {
		r.Enabled = it.boolean("enabled")
	}
	if mode("priority") == "replace" {
		p, err := ParsePriority(it.str("priority"))
		if err != nil {
			it.errorf("priority", "%v", err)
		}
		r.Priority = p
	}
	if mode("source") == "replace" {
		r.Source = it.str("source")
	}
}

// exceptions reads the item's exceptions on top of old: an exception named like an existing
// one adds its values to it.
func (it *item) exceptions(old []Exception) []Exception {
	n := it.keys["exceptions"]
	if n == nil {
		return old
	}
	if n.Kind != yaml.SequenceNode {
		it.errorf("exceptions", "exceptions must be a list, not %s", kindName(n))
		return old
	}
	out := append([]Exception(nil), old...)
	for _, en := range n.Content {
		p := pos(it.file, en)
		ex := &item{file: it.file, node: en, keys: map[string]*yaml.Node{}, kpos: map[string]Pos{}, s: it.s, name: it.name}
		if en.Kind != yaml.MappingNode {
			it.errorf("exceptions", "exception must be a mapping, not %s", kindName(en))
			continue
		}
		for i := 0; i+1 < len(en.Content); i += 2 {
			ex.keys[en.Content[i].Value] = en.Content[i+1]
			ex.kpos[en.Content[i].Value] = pos(it.file, en.Content[i+1])
		}
		if !ex.has("name") {
			it.s.errorf(p, it.name, "exception without a name")
			it.bad = true
			continue
		}
		name := ex.str("name")
		ex.name = fmt.Sprintf("%s: exception %q", it.name, name)
		var e *Exception
		for i := range out {
			if out[i].Name == name {
				e = &out[i]
			}
		}
		if e == nil {
			out = append(out, Exception{Name: name, Pos: p})
			e = &out[len(out)-1]
			if !ex.has("fields") {
				ex.errorf("", "missing key \"fields\"")
			}
		} else if ex.has("fields") || ex.has("comps") {
			ex.errorf("fields", "exception already defined: only values can be added")
		}
		if fn := ex.keys["fields"]; fn != nil {
			if fn.Kind == yaml.ScalarNode {
				e.Fields, e.Single = []string{fn.Value}, true
			} else {
				e.Fields = ex.strings("fields")
			}
			e.Comps = nil
			if cn := ex.keys["comps"]; cn != nil {
				if cn.Kind == yaml.ScalarNode {
					e.Comps = []string{cn.Value}
				} else {
					e.Comps = ex.strings("comps")
				}
			}
			if e.Comps == nil {
				for range e.Fields {
					if e.Single {
						e.Comps = append(e.Comps, "in")
					} else {
						e.Comps = append(e.Comps, "=")
					}
				}
			}
			if len(e.Comps) != len(e.Fields) {
				ex.errorf("comps", "%d fields but %d comps", len(e.Fields), len(e.Comps))
			}
		}
		if vn := ex.keys["values"]; vn != nil {
			e.Values = append(e.Values, ex.values(vn, e)...)
		}
		it.bad = it.bad || ex.bad
	}
	return out
}

func (ex *item) values(vn *yaml.Node, e *Exception) [][]any {
	if vn.Kind != yaml.SequenceNode {
		ex.errorf("values", "values must be a list, not %s", kindName(vn))
		return nil
	}
	var out [][]any
	for _, tn := range vn.Content {
		if e.Single {
			if tn.Kind != yaml.ScalarNode {
				ex.errorf("values", "with one field, each value must be a string")
				continue
			}
			out = append(out, []any{tn.Value})
			continue
		}
		if tn.Kind != yaml.SequenceNode || len(tn.Content) != len(e.Fields) {
			ex.errorf("values", "each value must be a list of %d items, one per field", len(e.Fields))
			continue
		}
		tuple := make([]any, len(tn.Content))
		for i, c := range tn.Content {
			switch c.Kind {
			case yaml.ScalarNode:
				tuple[i] = c.Value
			case yaml.SequenceNode:
				var l []string
				for _, x := range c.Content {
					l = append(l, x.Value)
				}
				tuple[i] = l
			default:
				ex.errorf("values", "value items must be strings or lists")
			}
		}
		out = append(out, tuple)
	}
	return out
}

// builtinPlugins are the plugins whose work gosysdig does itself: Falco's container plugin
// (falcosecurity/plugins, "container") adds the container.* and k8s.* fields to the syscall
// source, which gosysdig's fields provide natively.
var builtinPlugins = map[string]bool{"container": true}

// warnPlugins names the plugins a file requires: this engine runs no plugins, so the rules of
// their sources are skipped (each with its own warning) and syscall rules load.
func (s *Set) warnPlugins(it *item) {
	n := it.keys["required_plugin_versions"]
	if n == nil || n.Kind != yaml.SequenceNode {
		return
	}
	var names []string
	for _, p := range n.Content {
		if p.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(p.Content); i += 2 {
			if p.Content[i].Value == "name" && !builtinPlugins[p.Content[i+1].Value] {
				names = append(names, p.Content[i+1].Value)
			}
		}
	}
	if len(names) > 0 {
		s.warnf(it.kpos["required_plugin_versions"], it.name, "plugins %s are not supported: their sources' rules are skipped", strings.Join(names, ", "))
	}
}

package chisels

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// sysdig runs chisels on LuaJIT, whose patterns know %g (printable characters but space), as
// Lua 5.2's do; gopher-lua's (Lua 5.1's) take %g for a literal g. wrapPatterns makes string.find,
// match, gmatch and gsub read %g as [%w%p] (the same set in the C locale) and %G as its
// complement.
func wrapPatterns(L *lua.LState, str *lua.LTable) {
	for name, plainArg := range map[string]int{"find": 4, "match": 0, "gmatch": 0, "gsub": 0} {
		orig := str.RawGetString(name)
		if orig == lua.LNil {
			continue
		}
		plainArg := plainArg
		str.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			if p, ok := L.Get(2).(lua.LString); ok && strings.Contains(strings.ToLower(string(p)), "%g") &&
				!(plainArg > 0 && n >= plainArg && lua.LVAsBool(L.Get(plainArg))) {
				L.Replace(2, lua.LString(expandG(string(p))))
			}
			L.Insert(orig, 1)
			L.Call(n, lua.MultRet)
			return L.GetTop()
		}))
	}
}

// expandG rewrites a pattern's %g and %G classes as sets gopher-lua knows.
func expandG(p string) string {
	var b strings.Builder
	inSet := false
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if ch == '%' && i+1 < len(p) {
			nx := p[i+1]
			switch {
			case nx == 'g' && inSet:
				b.WriteString("%w%p")
			case nx == 'g':
				b.WriteString("[%w%p]")
			case nx == 'G' && !inSet:
				b.WriteString("[^%w%p]")
			case nx == 'b' && !inSet && i+3 < len(p):
				b.WriteString(p[i : i+4])
				i += 2
			default:
				b.WriteByte(ch)
				b.WriteByte(nx)
			}
			i++
			continue
		}
		if !inSet && ch == '[' {
			inSet = true
			b.WriteByte(ch)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a ] first in a set is literal
				b.WriteByte(']')
				i++
			}
			continue
		}
		if inSet && ch == ']' {
			inSet = false
		}
		b.WriteByte(ch)
	}
	return b.String()
}

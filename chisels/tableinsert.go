package chisels

import lua "github.com/yuin/gopher-lua"

// tableInsert is table.insert as LuaJIT 2.1 (sysdig's Lua) runs it. With a position, LuaJIT
// moves t[#t], ..., t[pos] up by one and stores the value at pos, for any pos; gopher-lua
// stores at a position below 1 without moving anything. sysdig's spy_users depends on it: its
// table.insert(fanames, 0, 0) at every chdir shifts the ancestor fields by one, which decides
// which shells it shows. The two-argument form is gopher-lua's own.
func tableInsert(appendForm lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.GetTop() != 3 {
			if f, ok := appendForm.(*lua.LFunction); ok && L.GetTop() == 2 {
				L.Push(f)
				L.Push(L.Get(1))
				L.Push(L.Get(2))
				L.Call(2, 0)
				return 0
			}
			L.RaiseError("wrong number of arguments to 'insert'")
		}
		t := L.CheckTable(1)
		pos := L.CheckInt(2)
		v := L.Get(3)
		// RawGet/RawSet, not the Int forms: gopher-lua's RawGetInt does not look in the hash
		// part, where keys below 1 live.
		for i := t.Len() + 1; i > pos; i-- {
			t.RawSet(lua.LNumber(i), t.RawGet(lua.LNumber(i-1)))
		}
		t.RawSet(lua.LNumber(pos), v)
		return 0
	}
}

package chisels

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// numberString renders a number as Lua 5.1's tostring does ("%.14g").
func numberString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// luaToString converts a value as Lua 5.1's tostring does for strings and numbers.
func luaToString(v lua.LValue) string {
	if n, ok := v.(lua.LNumber); ok {
		return numberString(float64(n))
	}
	return v.String()
}

// checkNumber is luaL_checknumber: numbers, and strings that convert to numbers.
func checkNumber(L *lua.LState, i int) float64 {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if n, err := parseLuaNumber(string(v)); err == nil {
			return n
		}
	}
	L.ArgError(i, "number expected, got "+L.Get(i).Type().String())
	return 0
}

func parseLuaNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(u), err
	}
	return strconv.ParseFloat(s, 64)
}

// checkString is luaL_checklstring: strings, and numbers converted with %.14g.
func checkString(L *lua.LState, i int) string {
	switch v := L.Get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return numberString(float64(v))
	}
	L.ArgError(i, "string expected, got "+L.Get(i).Type().String())
	return ""
}

// formatStringArg converts string.format's %s argument as LuaJIT 2.1 (sysdig's Lua) does: any
// value through tostring (nil prints "nil"; sysdig's spy_file relies on it for the events that
// carry no data, such as copy_file_range), an absent one is an error.
func formatStringArg(L *lua.LState, i int) string {
	if i > L.GetTop() {
		L.ArgError(i, "no value")
	}
	switch v := L.Get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return numberString(float64(v))
	}
	v := L.Get(i)
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		r := L.Get(-1)
		L.Pop(1)
		if s, ok := r.(lua.LString); ok {
			return string(s)
		}
		L.RaiseError("'__tostring' must return a string")
	}
	return v.String()
}

// strFormat is Lua 5.1's string.format, with C printf semantics (gopher-lua's uses Go's fmt).
func strFormat(L *lua.LState) int {
	f := checkString(L, 1)
	arg := 1
	top := L.GetTop()
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			L.RaiseError("invalid option '%%' to 'format'")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		start := i
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		flags := f[start:i]
		ws := i
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
		}
		width := f[ws:i]
		prec := ""
		hasPrec := false
		if i < len(f) && f[i] == '.' {
			hasPrec = true
			i++
			ps := i
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
			}
			prec = f[ps:i]
		}
		if i >= len(f) {
			L.RaiseError("invalid option to 'format'")
		}
		conv := f[i]
		arg++
		if arg > top && conv != '%' {
			L.ArgError(arg, "no value")
		}
		spec := "%" + flags + width
		if hasPrec {
			spec += "." + prec
			if prec == "" {
				spec += "0"
			}
		}
		switch conv {
		case 'c':
			b.WriteString(pad(string([]byte{byte(int64(checkNumber(L, arg)))}), flags, width))
		case 'd', 'i':
			n := int64(checkNumber(L, arg))
			b.WriteString(fmt.Sprintf(spec+"d", n))
		case 'u':
			n := uint64(int64(checkNumber(L, arg)))
			b.WriteString(fmt.Sprintf(spec+"d", n))
		case 'o', 'x', 'X':
			n := uint64(int64(checkNumber(L, arg)))
			b.WriteString(fmt.Sprintf(spec+string(conv), n))
		case 'e', 'E', 'f', 'F':
			b.WriteString(cFloat(spec, conv, checkNumber(L, arg)))
		case 'g', 'G':
			if !hasPrec {
				spec += ".6"
			}
			b.WriteString(cFloat(spec, conv, checkNumber(L, arg)))
		case 'q':
			b.WriteString(quoteString(checkString(L, arg)))
		case 's':
			s := formatStringArg(L, arg)
			if hasPrec {
				p, _ := strconv.Atoi(prec)
				if p < len(s) {
					s = s[:p]
				}
			}
			b.WriteString(pad(s, flags, width))
		default:
			L.RaiseError("invalid option '%%%c' to 'format'", conv)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func cFloat(spec string, conv byte, v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		s := "inf"
		if math.IsNaN(v) {
			s = "nan"
		} else if v < 0 {
			s = "-inf"
		} else if strings.Contains(spec, "+") {
			s = "+inf"
		}
		if conv >= 'A' && conv <= 'Z' {
			s = strings.ToUpper(s)
		}
		return s
	}
	if conv == 'F' {
		conv = 'f'
	}
	if conv == 'f' && !strings.Contains(spec, "#") {
		return fixedTiesAway(spec, v)
	}
	return fmt.Sprintf(spec+string(conv), v)
}

// fixedTiesAway formats v as %f does in sysdig's Lua (LuaJIT), which rounds exact halves away from
// zero (7.125 -> "7.13"), where Go and glibc round them to even.
func fixedTiesAway(spec string, v float64) string {
	// spec is "%" flags width ["." prec].
	body := spec[1:]
	i := 0
	for i < len(body) && strings.IndexByte("-+ #0", body[i]) >= 0 {
		i++
	}
	flags := body[:i]
	rest := body[i:]
	width, prec := rest, "6"
	if j := strings.IndexByte(rest, '.'); j >= 0 {
		width, prec = rest[:j], rest[j+1:]
	}
	p, _ := strconv.Atoi(prec)
	neg := math.Signbit(v)
	exact := new(big.Float).SetFloat64(math.Abs(v)).Text('f', 1100)
	dot := strings.IndexByte(exact, '.')
	intPart, frac := exact[:dot], exact[dot+1:]
	digits := []byte(intPart + frac[:p])
	if frac[p] >= '5' {
		k := len(digits) - 1
		for ; k >= 0; k-- {
			if digits[k] == '9' {
				digits[k] = '0'
				continue
			}
			digits[k]++
			break
		}
		if k < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	ni := len(digits) - p
	num := string(digits[:ni])
	if p > 0 {
		num += "." + string(digits[ni:])
	}
	sign := ""
	switch {
	case neg:
		sign = "-"
	case strings.IndexByte(flags, '+') >= 0:
		sign = "+"
	case strings.IndexByte(flags, ' ') >= 0:
		sign = " "
	}
	w, _ := strconv.Atoi(width)
	n := len(sign) + len(num)
	if n >= w {
		return sign + num
	}
	switch {
	case strings.IndexByte(flags, '-') >= 0:
		return sign + num + strings.Repeat(" ", w-n)
	case strings.IndexByte(flags, '0') >= 0:
		return sign + strings.Repeat("0", w-n) + num
	}
	return strings.Repeat(" ", w-n) + sign + num
}

func pad(s, flags, width string) string {
	w, _ := strconv.Atoi(width)
	if len(s) >= w {
		return s
	}
	if strings.IndexByte(flags, '-') >= 0 {
		return s + strings.Repeat(" ", w-len(s))
	}
	return strings.Repeat(" ", w-len(s)) + s
}

// quoteString is %q as LuaJIT does it: control characters as decimal escapes (three digits when
// a digit follows, or the code is 100 or more).
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 32 || c == 127:
			b.WriteByte('\\')
			nextDigit := i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'
			switch {
			case c >= 100 || nextDigit:
				fmt.Fprintf(&b, "%03d", c)
			default:
				b.WriteString(strconv.Itoa(int(c)))
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// baseToString is Lua 5.1's tostring with its number format.
func baseToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(numberString(float64(n))))
		return 1
	}
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	L.Push(lua.LString(v.String()))
	return 1
}

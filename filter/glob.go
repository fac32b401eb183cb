package filter

// Glob matches s against pattern the way fnmatch(3) does without flags, as sysdig's glob
// operator: '*' matches any run of bytes including '/', '?' any one byte, [...] a class
// (with ! or ^ negation and ranges), and a backslash quotes the next byte.
func Glob(pattern, s []byte) bool {
	px, sx := 0, 0
	starP, starS := -1, -1
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px++
				sx++
				continue
			case '[':
				if n, ok := matchClass(pattern[px:], s[sx]); n > 0 {
					if ok {
						px += n
						sx++
						continue
					}
				} else if s[sx] == '[' {
					px++
					sx++
					continue
				}
			case '\\':
				if px+1 < len(pattern) && pattern[px+1] == s[sx] {
					px += 2
					sx++
					continue
				}
			default:
				if c == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starP >= 0 {
			px = starP + 1
			starS++
			sx = starS
			continue
		}
		return false
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// matchClass matches c against the bracket expression at the start of p, returning the
// expression's length (0 when it is not closed, so '[' is literal) and whether c matched.
func matchClass(p []byte, c byte) (int, bool) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return i + 1, matched != neg
		}
		first = false
		lo := p[i]
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			if lo <= c && c <= p[i+2] {
				matched = true
			}
			i += 3
			continue
		}
		if lo == c {
			matched = true
		}
		i++
	}
	return 0, false
}

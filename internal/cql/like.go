package cql

// likeElem is one element of a compiled LIKE pattern.
type likeElem struct {
	r    rune
	kind int8 // 0 literal rune, 1 '_' (one character), 2 '%' (any run)
}

type likeMatcher []likeElem

// compileLike reads a LIKE pattern as PostgreSQL does with its default
// escape: % any run of characters, _ exactly one character, \x the
// character x itself. (checkLikePattern has rejected a trailing \.)
func compileLike(pat string) likeMatcher {
	var m likeMatcher
	escaped := false
	for _, r := range pat {
		switch {
		case escaped:
			m = append(m, likeElem{r: r})
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			if len(m) == 0 || m[len(m)-1].kind != 2 {
				m = append(m, likeElem{kind: 2})
			}
		case r == '_':
			m = append(m, likeElem{kind: 1})
		default:
			m = append(m, likeElem{r: r})
		}
	}
	return m
}

// match reports whether s matches, character by character (not byte by
// byte, so _ matches one Vietnamese letter). It backtracks only to the last
// %, which keeps it linear in practice and O(len(s)*len(pattern)) at worst.
func (m likeMatcher) match(s string) bool {
	rs := []rune(s)
	i, j := 0, 0
	star, starI := -1, 0
	for i < len(rs) {
		switch {
		case j < len(m) && m[j].kind == 2:
			star, starI = j, i
			j++
		case j < len(m) && (m[j].kind == 1 || m[j].r == rs[i]):
			i++
			j++
		case star >= 0:
			starI++
			i = starI
			j = star + 1
		default:
			return false
		}
	}
	for j < len(m) && m[j].kind == 2 {
		j++
	}
	return j == len(m)
}

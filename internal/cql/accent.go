package cql

import "strings"

// ACCENTI folds the Vietnamese letters with diacritics (precomposed, both
// cases) to their base letters, đ/Đ to d/D, and deletes the combining
// marks Vietnamese uses, so decomposed text folds too. PostgreSQL does the
// same with translate(x, accentFrom, accentTo), which needs no extension
// (unlike unaccent) and deletes the characters of accentFrom beyond the
// length of accentTo: exactly the combining marks.
const (
	accentLower = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
	accentUpper = "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
	baseLower   = "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd"
	baseUpper   = "AAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD"
	// grave, acute, tilde, hook above, dot below, circumflex, breve, horn
	combiningMarks = "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031B"

	accentFrom = accentLower + accentUpper + combiningMarks
	accentTo   = baseLower + baseUpper
)

// accentFolder returns a function folding accents as translate(x,
// accentFrom, accentTo) does in PostgreSQL.
func accentFolder() func(string) string {
	from, to := []rune(accentFrom), []rune(accentTo)
	m := make(map[rune]rune, len(from))
	for i, r := range from {
		if i < len(to) {
			m[r] = to[i]
		} else {
			m[r] = -1
		}
	}
	return func(s string) string {
		return strings.Map(func(r rune) rune {
			if b, ok := m[r]; ok {
				return b
			}
			return r
		}, s)
	}
}

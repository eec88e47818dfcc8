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

// foldRune maps one character as translate(x, accentFrom, accentTo) does:
// a letter with diacritics to its base letter, a combining mark to -1
// (deleted), anything else to itself. A switch, not a table, so that the
// package keeps no mutable state; TestFoldRuneMatchesTables checks it
// against the tables PostgreSQL gets.
func foldRune(r rune) rune {
	if r < 0x80 {
		return r
	}
	switch r {
	case 'À', 'Á', 'Ả', 'Ã', 'Ạ', 'Ă', 'Ằ', 'Ắ', 'Ẳ', 'Ẵ', 'Ặ', 'Â', 'Ầ', 'Ấ', 'Ẩ', 'Ẫ', 'Ậ':
		return 'A'
	case 'Đ':
		return 'D'
	case 'È', 'É', 'Ẻ', 'Ẽ', 'Ẹ', 'Ê', 'Ề', 'Ế', 'Ể', 'Ễ', 'Ệ':
		return 'E'
	case 'Ì', 'Í', 'Ỉ', 'Ĩ', 'Ị':
		return 'I'
	case 'Ò', 'Ó', 'Ỏ', 'Õ', 'Ọ', 'Ô', 'Ồ', 'Ố', 'Ổ', 'Ỗ', 'Ộ', 'Ơ', 'Ờ', 'Ớ', 'Ở', 'Ỡ', 'Ợ':
		return 'O'
	case 'Ù', 'Ú', 'Ủ', 'Ũ', 'Ụ', 'Ư', 'Ừ', 'Ứ', 'Ử', 'Ữ', 'Ự':
		return 'U'
	case 'Ỳ', 'Ý', 'Ỷ', 'Ỹ', 'Ỵ':
		return 'Y'
	case 'à', 'á', 'ả', 'ã', 'ạ', 'ă', 'ằ', 'ắ', 'ẳ', 'ẵ', 'ặ', 'â', 'ầ', 'ấ', 'ẩ', 'ẫ', 'ậ':
		return 'a'
	case 'đ':
		return 'd'
	case 'è', 'é', 'ẻ', 'ẽ', 'ẹ', 'ê', 'ề', 'ế', 'ể', 'ễ', 'ệ':
		return 'e'
	case 'ì', 'í', 'ỉ', 'ĩ', 'ị':
		return 'i'
	case 'ò', 'ó', 'ỏ', 'õ', 'ọ', 'ô', 'ồ', 'ố', 'ổ', 'ỗ', 'ộ', 'ơ', 'ờ', 'ớ', 'ở', 'ỡ', 'ợ':
		return 'o'
	case 'ù', 'ú', 'ủ', 'ũ', 'ụ', 'ư', 'ừ', 'ứ', 'ử', 'ữ', 'ự':
		return 'u'
	case 'ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ':
		return 'y'
	case '\u0300', '\u0301', '\u0303', '\u0309', '\u0323', '\u0302', '\u0306', '\u031B':
		return -1
	}
	return r
}

// foldAccents applies foldRune to every character of s.
func foldAccents(s string) string { return strings.Map(foldRune, s) }

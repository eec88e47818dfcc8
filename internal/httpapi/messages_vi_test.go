package httpapi

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// englishLeft are English words a translated message must not keep.
var englishLeft = regexp.MustCompile(`^(the|is|are|not|must|needs?|at least|points?|has|have|more|than|allowed|request|body|file|geometry|ring|line|polygon|coordinates?|table|number|format|expected|upload|empty|unknown|field|want|got|features?|holds?|merge|required|project|appraisal|name|note|conditions|larger|limit|cannot|read|broken|supported|internal|error|resource|such|outside|another|closed|distinct|differs|first|last|intersects|itself|invalid|type|fit|object|member|string|metres|between|send|or|and|of|in|for|a|an|its|one|with|without)$`)

// Every entry of the catalogue translates its example, and leaves no
// English word in it.
func TestErrorCatalogue(t *testing.T) {
	for _, p := range catalogueVI {
		got := translateVI(p.example)
		if got == p.example {
			t.Errorf("%q is not translated", p.example)
			continue
		}
		if m := englishIn(got); len(m) > 0 {
			t.Errorf("%q -> %q keeps English %q", p.example, got, m)
		}
	}
}

// englishIn lists the English words of s (words are runs of letters:
// Go's \b knows no Vietnamese letters).
func englishIn(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if englishLeft.MatchString(w) { // lower case: GeoJSON type names (Feature, Point) are kept
			out = append(out, w)
		}
	}
	return out
}

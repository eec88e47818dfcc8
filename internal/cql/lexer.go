package cql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind is the lexical class of a token.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokQuotedIdent // "double quoted" property name
	tokString      // 'single quoted' literal
	tokNumber
	tokLParen
	tokRParen
	tokComma
	tokOp // = <> < <= > >=
	tokIllegal
)

// token is one lexeme. Pos is the 1-based character (not byte) position of
// its first character in the input.
type token struct {
	kind tokenKind
	text string // identifier or operator as written; decoded content for strings and quoted identifiers
	raw  string // the token exactly as written, for error messages
	pos  int
}

// lexer splits CQL2 text into tokens, counting positions in characters so
// that error positions match what a person sees in the filter.
type lexer struct {
	src  string
	off  int // byte offset
	char int // 1-based character position of src[off]
}

func newLexer(src string) *lexer { return &lexer{src: src, char: 1} }

func (lx *lexer) peekRune() (rune, int) {
	if lx.off >= len(lx.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(lx.src[lx.off:])
}

func (lx *lexer) advance(size int) {
	lx.off += size
	lx.char++
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || r == '.' || r == ':' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// next returns the next token. Lexical errors come back as tokIllegal with
// text holding the reason.
func (lx *lexer) next() token {
	for {
		r, size := lx.peekRune()
		if r == -1 {
			return token{kind: tokEOF, pos: lx.char}
		}
		if !unicode.IsSpace(r) {
			break
		}
		lx.advance(size)
	}
	start, startOff := lx.char, lx.off
	r, size := lx.peekRune()
	switch {
	case r == utf8.RuneError && size == 1:
		lx.advance(size)
		return token{kind: tokIllegal, text: "the input is not valid UTF-8", raw: lx.src[startOff:lx.off], pos: start}
	case r == '(':
		lx.advance(size)
		return token{kind: tokLParen, text: "(", raw: "(", pos: start}
	case r == ')':
		lx.advance(size)
		return token{kind: tokRParen, text: ")", raw: ")", pos: start}
	case r == ',':
		lx.advance(size)
		return token{kind: tokComma, text: ",", raw: ",", pos: start}
	case r == '=':
		lx.advance(size)
		return token{kind: tokOp, text: "=", raw: "=", pos: start}
	case r == '<' || r == '>':
		lx.advance(size)
		op := string(r)
		if n, nsize := lx.peekRune(); n == '=' || (r == '<' && n == '>') {
			lx.advance(nsize)
			op += string(n)
		}
		return token{kind: tokOp, text: op, raw: op, pos: start}
	case r == '\'':
		return lx.quoted('\'', tokString, "string")
	case r == '"':
		return lx.quoted('"', tokQuotedIdent, "quoted property name")
	case isDigit(r) || r == '.' || r == '-' || r == '+':
		return lx.number()
	case isIdentStart(r):
		for {
			r, size := lx.peekRune()
			if r == -1 || !isIdentPart(r) {
				break
			}
			lx.advance(size)
		}
		s := lx.src[startOff:lx.off]
		return token{kind: tokIdent, text: s, raw: s, pos: start}
	}
	lx.advance(size)
	return token{kind: tokIllegal, text: "unexpected character " + quoteRaw(string(r)), raw: string(r), pos: start}
}

// quoted reads a literal delimited by q, where a doubled q stands for one.
func (lx *lexer) quoted(q rune, kind tokenKind, what string) token {
	start, startOff := lx.char, lx.off
	lx.advance(1)
	var b strings.Builder
	for {
		r, size := lx.peekRune()
		switch {
		case r == -1:
			return token{kind: tokIllegal, text: "unterminated " + what + " (missing closing " + string(q) + ")", raw: lx.src[startOff:], pos: start}
		case r == utf8.RuneError && size == 1:
			pos := lx.char
			lx.advance(size)
			return token{kind: tokIllegal, text: "the input is not valid UTF-8", raw: lx.src[startOff:lx.off], pos: pos}
		case r == q:
			lx.advance(size)
			if n, _ := lx.peekRune(); n == q {
				lx.advance(size)
				b.WriteRune(q)
				continue
			}
			return token{kind: kind, text: b.String(), raw: lx.src[startOff:lx.off], pos: start}
		default:
			lx.advance(size)
			b.WriteRune(r)
		}
	}
}

// number reads an optionally signed decimal number with an optional
// exponent. A lone sign or dot is illegal.
func (lx *lexer) number() token {
	start, startOff := lx.char, lx.off
	if r, _ := lx.peekRune(); r == '-' || r == '+' {
		lx.advance(1)
	}
	digits := 0
	for {
		r, _ := lx.peekRune()
		if !isDigit(r) {
			break
		}
		lx.advance(1)
		digits++
	}
	if r, _ := lx.peekRune(); r == '.' {
		lx.advance(1)
		for {
			r, _ := lx.peekRune()
			if !isDigit(r) {
				break
			}
			lx.advance(1)
			digits++
		}
	}
	if digits == 0 {
		s := lx.src[startOff:lx.off]
		return token{kind: tokIllegal, text: "malformed number " + quoteRaw(s), raw: s, pos: start}
	}
	if r, _ := lx.peekRune(); r == 'e' || r == 'E' {
		save, saveChar := lx.off, lx.char
		lx.advance(1)
		if r, _ := lx.peekRune(); r == '-' || r == '+' {
			lx.advance(1)
		}
		exp := 0
		for {
			r, _ := lx.peekRune()
			if !isDigit(r) {
				break
			}
			lx.advance(1)
			exp++
		}
		if exp == 0 { // not an exponent after all: "1e" is a number then an identifier
			lx.off, lx.char = save, saveChar
		}
	}
	s := lx.src[startOff:lx.off]
	return token{kind: tokNumber, text: s, raw: s, pos: start}
}

// quoteRaw shows input text in an error message, shortened when long.
func quoteRaw(s string) string { return "'" + shorten(s) + "'" }

func shorten(s string) string {
	const max = 24
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}

// describe names a token for "expected X but found Y" messages.
func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + shorten(t.raw)
	}
	return quoteRaw(t.raw)
}

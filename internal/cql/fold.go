package cql

import "strings"

// FoldAccents returns s without Vietnamese diacritics (đ as d) and in lower
// case: the form search compares, so "dong dang" finds "Đồng Đăng". It is
// the folding of ACCENTI plus CASEI.
func FoldAccents(s string) string { return strings.ToLower(foldAccents(s)) }

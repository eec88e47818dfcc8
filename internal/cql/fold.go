package cql

import (
	"strings"
	"sync"
)

var sharedFolder = sync.OnceValue(accentFolder)

// FoldAccents returns s without Vietnamese diacritics (đ as d) and in lower
// case: the form search compares, so "dong dang" finds "Đồng Đăng". It is
// the folding of ACCENTI plus CASEI.
func FoldAccents(s string) string { return strings.ToLower(sharedFolder()(s)) }

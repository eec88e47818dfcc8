//go:build !race

package formats

// allocSlack scales the allocation bounds of the bomb tests (see
// race_test.go).
const allocSlack = 1

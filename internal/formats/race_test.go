//go:build race

package formats

// allocSlack scales the allocation bounds of the bomb tests: under the race
// detector sync.Pool drops items and more values escape, so the same decode
// allocates up to several times more.
const allocSlack = 3

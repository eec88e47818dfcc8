//go:build race

package httpapi_test

// raceEnabled: the secrecy tests run a smaller set of callers under the
// race detector (it multiplies their cost several times), and the timing
// test does not run (the detector changes costs unevenly and drops pooled
// objects at random).
const raceEnabled = true

//go:build !race

package httpapi_test

// raceEnabled: see secrecy_race_test.go.
const raceEnabled = false

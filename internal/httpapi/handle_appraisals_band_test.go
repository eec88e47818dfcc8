package httpapi

import (
	"testing"
	"time"
)

// An uncleared caller's appraisal write is answered at the end of its
// band: the floor, or the next multiple of it when the stored check took
// longer, so the answer's time says how many floors the check took and
// nothing finer.
func TestBandEnd(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	floor := 400 * time.Millisecond
	for _, c := range []struct{ done, want time.Duration }{
		{0, 400 * time.Millisecond},
		{time.Millisecond, 400 * time.Millisecond},
		{399 * time.Millisecond, 400 * time.Millisecond},
		{400 * time.Millisecond, 400 * time.Millisecond},
		{401 * time.Millisecond, 800 * time.Millisecond},
		{650 * time.Millisecond, 800 * time.Millisecond},
		{800 * time.Millisecond, 800 * time.Millisecond},
		{2001 * time.Millisecond, 2400 * time.Millisecond},
	} {
		if got := bandEnd(start, start.Add(c.done), floor).Sub(start); got != c.want {
			t.Errorf("done after %v: answered after %v, want %v", c.done, got, c.want)
		}
	}
}

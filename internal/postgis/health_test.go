package postgis

import (
	"testing"
	"time"
)

// TestFlag: set reports a change only when the condition changes, and on
// its end how long it lasted.
func TestFlag(t *testing.T) {
	var f flag
	if changed, _ := f.set(false); changed || f.Load() {
		t.Fatal("clearing a clear flag changed it")
	}
	if changed, lasted := f.set(true); !changed || lasted != 0 || !f.Load() {
		t.Fatalf("setting: changed %v, lasted %s", changed, lasted)
	}
	if changed, _ := f.set(true); changed {
		t.Fatal("setting a set flag changed it")
	}
	time.Sleep(20 * time.Millisecond)
	if changed, lasted := f.set(false); !changed || lasted < 20*time.Millisecond || f.Load() {
		t.Fatalf("clearing: changed %v, lasted %s, want at least 20ms", changed, lasted)
	}
}

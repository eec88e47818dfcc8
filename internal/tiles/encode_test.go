package tiles

import (
	"testing"

	"github.com/paulmach/orb"
)

// Feature ids stay below 2^53 and unique within a layer: an id met again
// (two hashes meeting) moves on in steps of 4, keeping a zone's kind bits,
// and a feature taken back (undo) frees its id.
func TestFeatureIDsUniqueBelow2To53(t *testing.T) {
	l := newLayerEncoder("l", 4096)
	pt := orb.Point{10, 10}
	l.add(1<<64-1, pt, nil) // masked to 53 bits
	l.add(maxFeatureID, pt, nil)
	l.add(6, pt, nil)
	l.add(6, pt, nil)
	m := l.mark()
	l.add(6, pt, nil)
	l.undo(m)
	l.add(6, pt, nil)
	want := []uint64{maxFeatureID, 3, 6, 10, 14}
	if len(l.idOrder) != len(want) {
		t.Fatalf("ids %v, want %v", l.idOrder, want)
	}
	for i, id := range l.idOrder {
		if id != want[i] {
			t.Fatalf("ids %v, want %v", l.idOrder, want)
		}
	}
}

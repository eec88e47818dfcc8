package main

import (
	"fmt"

	"github.com/paulmach/orb"
)

// sharedLine returns the boundary a shares with b: the arcs both
// geometries reference, in the order and direction they appear in a's rings,
// consecutive shared arcs joined into one line. It is a LineString when the
// shared boundary is one piece, a MultiLineString otherwise, nil when the two
// share no arc.
//
// TopoJSON stores a boundary shared by two countries once, as arcs both
// reference, so these are exactly the source's land border lines (lon/lat,
// WGS84).
func sharedLine(t *topology, a, b topoGeometry) (orb.Geometry, error) {
	other, err := b.arcSet()
	if err != nil {
		return nil, err
	}
	polys, err := a.polygons()
	if err != nil {
		return nil, err
	}
	var parts orb.MultiLineString
	for _, p := range polys {
		for _, ring := range p {
			runs := sharedRuns(ring, other)
			for _, run := range runs {
				ls, err := t.stitch(run, nil)
				if err != nil {
					return nil, fmt.Errorf("geometry %s: %w", a.ID, err)
				}
				parts = append(parts, ls)
			}
		}
	}
	switch len(parts) {
	case 0:
		return nil, nil
	case 1:
		return parts[0], nil
	}
	return parts, nil
}

// sharedRuns splits a closed ring of arc references into the maximal runs of
// consecutive references whose arc is in shared. A run may wrap around the
// ring's end, since the ring is closed.
func sharedRuns(ring []int, shared map[int]bool) [][]int {
	n := len(ring)
	in := func(k int) bool { i, _ := arcIndex(ring[((k%n)+n)%n]); return shared[i] }
	start := -1
	for k := 0; k < n; k++ {
		if !in(k) {
			start = k
			break
		}
	}
	if start < 0 { // every arc of the ring is shared
		return [][]int{append([]int(nil), ring...)}
	}
	var runs [][]int
	var cur []int
	for k := start + 1; k <= start+n; k++ {
		if in(k) {
			cur = append(cur, ring[k%n])
			continue
		}
		if len(cur) > 0 {
			runs = append(runs, cur)
			cur = nil
		}
	}
	return runs
}

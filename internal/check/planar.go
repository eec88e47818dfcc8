package check

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Planar building blocks shared by the overlap arrangement (arrangement.go)
// and the buffer outline (buffer.go): crossing two segments, finding the
// pairs of boxes that meet, chaining kept boundary pieces into rings, and
// sorting rings into shells and holes. Coordinates are metres in the
// footprint's plane.

// ringBound is the bound of a ring's points (orb's Bound, without its
// per-point emptiness tests: this runs for every zone of every check).
func ringBound(r []orb.Point) orb.Bound {
	if len(r) == 0 {
		return orb.Bound{}
	}
	b := orb.Bound{Min: r[0], Max: r[0]}
	for _, p := range r[1:] {
		b.Min[0], b.Max[0] = min(b.Min[0], p[0]), max(b.Max[0], p[0])
		b.Min[1], b.Max[1] = min(b.Min[1], p[1]), max(b.Max[1], p[1])
	}
	return b
}

// paramEps is how close to a segment's end, as a fraction of its length, a
// crossing may lie before the two segments count as meeting at a vertex.
const paramEps = 1e-9

// How two segments meet (segmentCrossing).
const (
	crossNone       = iota // apart
	crossProper            // one crossing inside both
	crossDegenerate        // touching at an end, or overlapping along a line
)

// segmentCrossing tells how segments ab and cd meet and, for a proper
// crossing, where: at point at, parameter t along ab and u along cd.
func segmentCrossing(a, b, c, d orb.Point) (t, u float64, at orb.Point, kind int) {
	r := orb.Point{b[0] - a[0], b[1] - a[1]}
	s := orb.Point{d[0] - c[0], d[1] - c[1]}
	qp := orb.Point{c[0] - a[0], c[1] - a[1]}
	den := r[0]*s[1] - r[1]*s[0]
	lr, ls := math.Sqrt(r[0]*r[0]+r[1]*r[1]), math.Sqrt(s[0]*s[0]+s[1]*s[1])
	if math.Abs(den) <= 1e-12*lr*ls {
		// parallel: fine when apart, degenerate when on one line and meeting
		if math.Abs(qp[0]*r[1]-qp[1]*r[0]) > 1e-9*lr*(lr+ls) {
			return 0, 0, at, crossNone
		}
		t0 := (qp[0]*r[0] + qp[1]*r[1]) / (lr * lr)
		t1 := t0 + (s[0]*r[0]+s[1]*r[1])/(lr*lr)
		if max(t0, t1) < -paramEps || min(t0, t1) > 1+paramEps {
			return 0, 0, at, crossNone
		}
		return 0, 0, at, crossDegenerate
	}
	t = (qp[0]*s[1] - qp[1]*s[0]) / den
	u = (qp[0]*r[1] - qp[1]*r[0]) / den
	if t < -paramEps || t > 1+paramEps || u < -paramEps || u > 1+paramEps {
		return 0, 0, at, crossNone
	}
	if t <= paramEps || t >= 1-paramEps || u <= paramEps || u >= 1-paramEps {
		return 0, 0, at, crossDegenerate // a vertex on the other segment
	}
	return t, u, orb.Point{a[0] + t*r[0], a[1] + t*r[1]}, crossProper
}

// boxGrid finds the pairs of items whose boxes meet: it buckets the boxes
// in a grid of about √n cells a side over their bound and pairs the items
// of each cell, each pair once, in the cell that holds the lower-left
// corner of the two boxes' overlap. Its buffers are kept for the next call.
type boxGrid struct {
	cells [][]int32
	low   []int32 // by item: its box's lower-left cell, x | y<<16
}

// pairs calls fn(i, j) for every pair of items whose boxes meet. It stops
// as soon as fn returns false, and then returns false.
func (g *boxGrid) pairs(items []int, box func(int) *orb.Bound, fn func(i, j int) bool) bool {
	if len(items) < 2 {
		return true
	}
	all := *box(items[0])
	top := 0
	for _, i := range items {
		b := box(i)
		all.Min[0], all.Min[1] = min(all.Min[0], b.Min[0]), min(all.Min[1], b.Min[1])
		all.Max[0], all.Max[1] = max(all.Max[0], b.Max[0]), max(all.Max[1], b.Max[1])
		top = max(top, i)
	}
	n := max(1, min(128, int(1.5*math.Sqrt(float64(len(items))))))
	cw := max((all.Max[0]-all.Min[0])/float64(n), 1e-9)
	ch := max((all.Max[1]-all.Min[1])/float64(n), 1e-9)
	col := func(x float64) int { return max(0, min(n-1, int((x-all.Min[0])/cw))) }
	row := func(y float64) int { return max(0, min(n-1, int((y-all.Min[1])/ch))) }
	g.cells = slices.Grow(g.cells[:0], n*n)[:n*n]
	for c := range g.cells {
		g.cells[c] = g.cells[c][:0]
	}
	g.low = slices.Grow(g.low[:0], top+1)[:top+1]
	for _, i := range items {
		b := box(i)
		x0, x1, y0, y1 := col(b.Min[0]), col(b.Max[0]), row(b.Min[1]), row(b.Max[1])
		g.low[i] = int32(x0 | y0<<16)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				g.cells[y*n+x] = append(g.cells[y*n+x], int32(i))
			}
		}
	}
	for c, in := range g.cells {
		cx, cy := int32(c%n), int32(c/n)
		for a, i := range in {
			bi := box(int(i))
			li := g.low[i]
			for _, j := range in[a+1:] {
				// pair them only in the cell of their overlap's lower-left
				// corner: the larger of their lower-left cells, each way
				lj := g.low[j]
				if max(li&0xffff, lj&0xffff) != cx || max(li>>16, lj>>16) != cy {
					continue
				}
				bj := box(int(j))
				if bi.Max[0] < bj.Min[0] || bj.Max[0] < bi.Min[0] || bi.Max[1] < bj.Min[1] || bj.Max[1] < bi.Min[1] {
					continue
				}
				if !fn(int(i), int(j)) {
					return false
				}
			}
		}
	}
	return true
}

// piece is a kept stretch of a boundary, from node to node.
type piece struct {
	from, to int
	a, b     orb.Point
	ring     int
}

// chainer joins kept pieces into closed rings; its buffers are kept for
// the next call.
type chainer struct {
	next    []int32
	arrived []bool
	used    []bool
	flat    []int32
	chains  [][]int32
}

// chain joins pieces into closed rings, each given as the indices of its
// pieces in order (valid until the next call). In general position every
// node of the result has one piece arriving and one leaving; false when
// that does not hold or a ring does not close.
func (ch *chainer) chain(pieces []piece, nodes int) ([][]int32, bool) {
	ch.next = slices.Grow(ch.next[:0], nodes)[:nodes]
	for i := range ch.next {
		ch.next[i] = -1
	}
	ch.arrived = slices.Grow(ch.arrived[:0], nodes)[:nodes]
	clear(ch.arrived)
	for k, p := range pieces {
		if ch.next[p.from] != -1 || ch.arrived[p.to] {
			return nil, false
		}
		ch.next[p.from] = int32(k)
		ch.arrived[p.to] = true
	}
	ch.used = slices.Grow(ch.used[:0], len(pieces))[:len(pieces)]
	clear(ch.used)
	ch.flat = ch.flat[:0]
	var starts []int
	for k := range pieces {
		if ch.used[k] {
			continue
		}
		start := len(ch.flat)
		ch.flat = append(ch.flat, int32(k))
		for cur := int32(k); ; {
			ch.used[cur] = true
			nx := ch.next[pieces[cur].to]
			if nx == int32(k) {
				break
			}
			if nx < 0 || ch.used[nx] {
				return nil, false
			}
			ch.flat = append(ch.flat, nx)
			cur = nx
		}
		if len(ch.flat)-start < 3 {
			return nil, false
		}
		starts = append(starts, start)
	}
	ch.chains = ch.chains[:0]
	for i, start := range starts {
		end := len(ch.flat)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		ch.chains = append(ch.chains, ch.flat[start:end])
	}
	return ch.chains, true
}

// nestRings sorts closed rings into polygons: counter-clockwise rings are
// shells, clockwise ones holes of the smallest shell holding them. It
// returns each polygon's ring indices (shell first) and the signed area of
// all rings together; false when a hole lies in no shell.
func nestRings(rings []orb.Ring) ([][]int, float64, bool) {
	var polys [][]int
	var shellAreas []float64
	var holes []int
	area := 0.0
	for i, r := range rings {
		s := ringArea(r)
		area += s
		if s > 0 {
			polys = append(polys, []int{i})
			shellAreas = append(shellAreas, s)
		} else {
			holes = append(holes, i)
		}
	}
	for _, h := range holes {
		q := rings[h][0]
		best, bestArea := -1, math.Inf(1)
		for i, members := range polys {
			shell := rings[members[0]]
			if sa := shellAreas[i]; sa < bestArea && ringBound(shell).Contains(q) && ringsContain(orb.Polygon{shell}, q) {
				best, bestArea = i, sa
			}
		}
		if best < 0 {
			return nil, 0, false
		}
		polys[best] = append(polys[best], h)
	}
	return polys, area, true
}

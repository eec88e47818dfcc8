package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/paulmach/orb"
)

// topology is the part of a TopoJSON document (TopoJSON spec 1.0) this
// program reads: the shared arcs, the optional quantization transform and
// named objects whose geometries reference the arcs by index.
type topology struct {
	Type      string                    `json:"type"`
	Transform *transform                `json:"transform"`
	Arcs      [][][]float64             `json:"arcs"`
	Objects   map[string]topoCollection `json:"objects"`

	arcs []orb.LineString // decoded absolute WGS84 positions, by arc index
}

type transform struct {
	Scale     [2]float64 `json:"scale"`
	Translate [2]float64 `json:"translate"`
}

type topoCollection struct {
	Type       string         `json:"type"`
	Geometries []topoGeometry `json:"geometries"`
}

// topoGeometry is a Polygon or MultiPolygon whose rings are lists of arc
// references: index i means arc i as stored, ^i (that is -i-1) means arc i
// reversed.
type topoGeometry struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Arcs       json.RawMessage `json:"arcs"`
	Properties map[string]any  `json:"properties"`
}

// decodeTopology reads a TopoJSON topology and decodes its arcs.
func decodeTopology(r io.Reader) (*topology, error) {
	var t topology
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, fmt.Errorf("decode TopoJSON: %w", err)
	}
	if t.Type != "Topology" {
		return nil, fmt.Errorf("not a TopoJSON topology: type %q", t.Type)
	}
	arcs, err := decodeArcs(t.Arcs, t.Transform)
	if err != nil {
		return nil, err
	}
	t.arcs = arcs
	return &t, nil
}

// decodeArcs turns stored arcs into absolute positions. In a quantized
// topology (one with a transform) each arc's first position is absolute and
// every later one a delta from the previous, all in integer grid units:
// x = (sum of deltas) * scale[0] + translate[0], likewise y.
func decodeArcs(raw [][][]float64, tr *transform) ([]orb.LineString, error) {
	out := make([]orb.LineString, len(raw))
	for i, arc := range raw {
		ls := make(orb.LineString, len(arc))
		var x, y float64
		for j, pos := range arc {
			if len(pos) < 2 {
				return nil, fmt.Errorf("arc %d position %d has %d coordinates, want at least 2", i, j, len(pos))
			}
			if tr == nil {
				ls[j] = orb.Point{pos[0], pos[1]}
				continue
			}
			x += pos[0]
			y += pos[1]
			ls[j] = orb.Point{x*tr.Scale[0] + tr.Translate[0], y*tr.Scale[1] + tr.Translate[1]}
		}
		if len(ls) < 2 {
			return nil, fmt.Errorf("arc %d has %d positions, want at least 2", i, len(ls))
		}
		out[i] = ls
	}
	return out, nil
}

// arcIndex returns the stored arc index of a reference and whether the
// reference reverses it.
func arcIndex(ref int) (int, bool) {
	if ref < 0 {
		return ^ref, true
	}
	return ref, false
}

// polygons returns a geometry's arc references as polygons of rings (a
// Polygon becomes one polygon).
func (g topoGeometry) polygons() ([][][]int, error) {
	switch g.Type {
	case "Polygon":
		var p [][]int
		if err := json.Unmarshal(g.Arcs, &p); err != nil {
			return nil, fmt.Errorf("geometry %s: %w", g.ID, err)
		}
		return [][][]int{p}, nil
	case "MultiPolygon":
		var mp [][][]int
		if err := json.Unmarshal(g.Arcs, &mp); err != nil {
			return nil, fmt.Errorf("geometry %s: %w", g.ID, err)
		}
		return mp, nil
	case "", "null":
		return nil, nil
	}
	return nil, fmt.Errorf("geometry %s: type %s is not supported (want Polygon or MultiPolygon)", g.ID, g.Type)
}

// arcSet is every arc index a geometry references.
func (g topoGeometry) arcSet() (map[int]bool, error) {
	polys, err := g.polygons()
	if err != nil {
		return nil, err
	}
	set := map[int]bool{}
	for _, p := range polys {
		for _, ring := range p {
			for _, ref := range ring {
				i, _ := arcIndex(ref)
				set[i] = true
			}
		}
	}
	return set, nil
}

// arcLine returns the positions of a reference, reversed when it says so,
// passed through simplify (which may be nil).
func (t *topology) arcLine(ref int, simplify func(arc int, ls orb.LineString) orb.LineString) (orb.LineString, error) {
	i, rev := arcIndex(ref)
	if i >= len(t.arcs) {
		return nil, fmt.Errorf("arc reference %d is out of range (%d arcs)", ref, len(t.arcs))
	}
	ls := t.arcs[i]
	if simplify != nil {
		ls = simplify(i, ls)
	}
	ls = append(orb.LineString(nil), ls...)
	if rev {
		ls.Reverse()
	}
	return ls, nil
}

// stitch joins arc references end to start: consecutive arcs share their
// joining position, which is kept once.
func (t *topology) stitch(refs []int, simplify func(arc int, ls orb.LineString) orb.LineString) (orb.LineString, error) {
	var out orb.LineString
	for _, ref := range refs {
		ls, err := t.arcLine(ref, simplify)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			ls = ls[1:]
		}
		out = append(out, ls...)
	}
	return out, nil
}

// multiPolygon assembles a geometry's rings from its arcs.
func (t *topology) multiPolygon(g topoGeometry, simplify func(arc int, ls orb.LineString) orb.LineString) (orb.MultiPolygon, error) {
	polys, err := g.polygons()
	if err != nil {
		return nil, err
	}
	var mp orb.MultiPolygon
	for _, p := range polys {
		var poly orb.Polygon
		for _, refs := range p {
			ls, err := t.stitch(refs, simplify)
			if err != nil {
				return nil, fmt.Errorf("geometry %s: %w", g.ID, err)
			}
			poly = append(poly, orb.Ring(ls))
		}
		mp = append(mp, poly)
	}
	return mp, nil
}

// find returns the geometry with the given id in the named object.
func (t *topology) find(object, id string) (topoGeometry, error) {
	coll, ok := t.Objects[object]
	if !ok {
		return topoGeometry{}, fmt.Errorf("topology has no object %q", object)
	}
	for _, g := range coll.Geometries {
		if g.ID == id {
			return g, nil
		}
	}
	return topoGeometry{}, fmt.Errorf("object %q has no geometry with id %q", object, id)
}

// findByName returns the geometry of an object whose "name" property is
// name (features the source gives no id, such as "Spratly Is.").
func (t *topology) findByName(object, name string) (topoGeometry, error) {
	coll, ok := t.Objects[object]
	if !ok {
		return topoGeometry{}, fmt.Errorf("topology has no object %q", object)
	}
	for _, g := range coll.Geometries {
		if n, _ := g.Properties["name"].(string); n == name {
			return g, nil
		}
	}
	return topoGeometry{}, fmt.Errorf("object %q has no geometry named %q", object, name)
}

package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// Two quantized squares sharing the edge x = 2 (grid units), scale 0.5°
// and translate (100°, 10°): A spans 100-101°E, B 101-102°E, both 10-11°N.
const twoSquares = `{"type":"Topology",
 "transform":{"scale":[0.5,0.5],"translate":[100,10]},
 "objects":{"countries":{"type":"GeometryCollection","geometries":[
  {"type":"Polygon","id":"A","arcs":[[0,1]]},
  {"type":"MultiPolygon","id":"B","arcs":[[[2,-1]]]},
  {"type":"Polygon","id":"C","arcs":[[3]]}
 ]}},
 "arcs":[
  [[2,0],[0,2]],
  [[2,2],[-2,0],[0,-2],[2,0]],
  [[2,0],[2,0],[0,2],[-2,0]],
  [[10,10],[1,0],[0,1],[-1,0],[0,-1]]
 ]}`

func TestDecodeDequantizesDeltas(t *testing.T) {
	topo, err := decodeTopology(strings.NewReader(twoSquares))
	if err != nil {
		t.Fatal(err)
	}
	want := orb.LineString{{101, 10}, {101, 11}, {100, 11}, {100, 10}, {101, 10}}
	if got := topo.arcs[1]; !reflect.DeepEqual(got, orb.LineString{{101, 11}, {100, 11}, {100, 10}, {101, 10}}) {
		t.Errorf("arc 1 = %v", got)
	}
	a, _ := topo.find("countries", "A")
	mp, err := topo.multiPolygon(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mp, orb.MultiPolygon{{orb.Ring(want)}}) {
		t.Errorf("A = %v, want %v", mp, want)
	}
	b, _ := topo.find("countries", "B")
	mp, err = topo.multiPolygon(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring := mp[0][0]
	if ring[0] != ring[len(ring)-1] || len(ring) != 5 {
		t.Errorf("B's ring (with a reversed arc) is not closed: %v", ring)
	}
}

func TestSharedLine(t *testing.T) {
	topo, err := decodeTopology(strings.NewReader(twoSquares))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := topo.find("countries", "A")
	b, _ := topo.find("countries", "B")
	c, _ := topo.find("countries", "C")
	g, err := sharedLine(topo, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (orb.LineString{{101, 10}, {101, 11}}); !reflect.DeepEqual(g, want) {
		t.Errorf("A|B = %v, want %v", g, want)
	}
	// From B's side the same edge comes reversed, as B's ring runs it.
	g, _ = sharedLine(topo, b, a)
	if want := (orb.LineString{{101, 11}, {101, 10}}); !reflect.DeepEqual(g, want) {
		t.Errorf("B|A = %v, want %v", g, want)
	}
	if g, _ := sharedLine(topo, a, c); g != nil {
		t.Errorf("A and C share nothing, got %v", g)
	}
}

func TestSharedRunsWrapAround(t *testing.T) {
	shared := map[int]bool{5: true, 7: true, 9: true}
	got := sharedRuns([]int{5, 1, 2, ^7, ^9, 3}, shared)
	want := [][]int{{^7, ^9}}
	if len(got) != 2 || !reflect.DeepEqual(got[0], want[0]) || !reflect.DeepEqual(got[1], []int{5}) {
		t.Errorf("got %v", got)
	}
	// A run crossing the ring's end is one run.
	got = sharedRuns([]int{5, 1, 7}, shared)
	if !reflect.DeepEqual(got, [][]int{{7, 5}}) {
		t.Errorf("wrapping run: got %v, want [[7 5]]", got)
	}
}

func TestDespike(t *testing.T) {
	r := orb.Ring{{0, 0}, {1, 0}, {2, 0}, {1, 0}, {1, 1}, {1, 1}, {0, 1}, {0, 0}}
	got := despike(r)
	want := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("despike = %v, want %v", got, want)
	}
}

func TestDecodeRejectsNonTopology(t *testing.T) {
	if _, err := decodeTopology(strings.NewReader(`{"type":"FeatureCollection"}`)); err == nil {
		t.Error("a FeatureCollection was accepted as a topology")
	}
	if _, err := decodeTopology(strings.NewReader(`{"type":"Topology","arcs":[[[1,2]]]}`)); err == nil {
		t.Error("a one-position arc was accepted")
	}
}

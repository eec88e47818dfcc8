package main

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// Every centre is found by its exact gazetteer name and code; a missing or
// ambiguous one is an error naming the province.
func TestBuild(t *testing.T) {
	var places []place
	for i, c := range centres() {
		places = append(places, place{Name: c.geoName, Lat: "20", Lng: "105." + strings.Repeat("1", i%5+1), Country: "VN", Admin1: c.admin1})
	}
	// The capital, and a second Hanoi farther from Hoàn Kiếm: not chosen.
	places[0].Lat, places[0].Lng = "21.02", "105.84"
	places = append(places, place{Name: "Hanoi", Lat: "20.3", Lng: "106.0", Country: "VN", Admin1: "01"})
	fc, err := build(places, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 34 {
		t.Fatalf("%d centres, want 34", len(fc.Features))
	}
	if p := fc.Features[0].Geometry.(orb.Point); p[1] != 21.02 {
		t.Errorf("Hà Nội at %v: the farther Hanoi was chosen", p)
	}
	// Without Cà Mau the build fails and says so.
	var short []place
	for _, p := range places {
		if p.Name != "Cà Mau" {
			short = append(short, p)
		}
	}
	if _, err := build(short, "test"); err == nil || !strings.Contains(err.Error(), "Cà Mau") {
		t.Errorf("a missing centre: %v", err)
	}
	// Two places of one name (other than Hanoi): ambiguous.
	if _, err := build(append(places, place{Name: "Vinh", Lat: "1", Lng: "1", Country: "VN", Admin1: "40"}), "test"); err == nil || !strings.Contains(err.Error(), "Nghệ An") {
		t.Errorf("an ambiguous centre: %v", err)
	}
}

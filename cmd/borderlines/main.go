// Command borderlines derives zoneplan's real geography from Natural Earth
// 1:10m country polygons as packed in the npm package world-atlas
// (countries-10m.json, TopoJSON): Vietnam's land border lines with China,
// Laos and Cambodia (layer border_lines), and an offline base map of Vietnam
// and the countries around it.
//
// A TopoJSON topology stores a boundary two countries share once, as arcs
// both countries reference; the border with a neighbour is therefore the
// arcs referenced by both Vietnam and that neighbour, merged in the order
// they follow Vietnam's outline. The border lines keep every source vertex;
// the base map keeps Vietnam's arcs whole and simplifies the rest.
//
// Usage:
//
//	borderlines -in countries-10m.json -out data/border_lines.geojson -basemap data/basemap/countries.geojson
//
// data/README.md gives the exact commands that fetch the input.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/simplify"

	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "borderlines:", err)
		os.Exit(1)
	}
}

// country is one country this program writes, keyed by the ISO 3166-1
// numeric code world-atlas uses as the geometry id.
type country struct {
	numeric, iso2, iso3 string
	nameVI, nameEN      string
	neighbour           bool // shares a land border with Vietnam
}

const vietnamID = "704"

// countries lists Vietnam first, then the countries of the base map. Only
// those marked neighbour get a border line.
func countries() []country {
	return []country{
		{vietnamID, "VN", "VNM", "Việt Nam", "Vietnam", false},
		{"156", "CN", "CHN", "Trung Quốc", "China", true},
		{"418", "LA", "LAO", "Lào", "Laos", true},
		{"116", "KH", "KHM", "Campuchia", "Cambodia", true},
		{"764", "TH", "THA", "Thái Lan", "Thailand", false},
		{"104", "MM", "MMR", "Myanmar", "Myanmar", false},
	}
}

// basemapBound is the base map's extent (WGS84 degrees): mainland
// South-East Asia around Vietnam. Neighbours are clipped to it; Vietnam is
// kept whole.
func basemapBound() orb.Bound { return orb.Bound{Min: orb.Point{97, 8}, Max: orb.Point{112, 26.5}} }

// disputedBounds are boxes (WGS84 degrees) whose wholly contained parts are
// taken out of the countries the source gives them to: the Hoàng Sa
// (Paracel) and Trường Sa (Spratly) archipelagos, which the base map shows
// as Vietnam's (see archipelagos).
func disputedBounds() []orb.Bound {
	var out []orb.Bound
	for _, a := range archipelagos() {
		out = append(out, a.box)
	}
	return out
}

// archipelago is one of Vietnam's two archipelagos in the East Sea: the
// parts of the source's countries (by ISO numeric id) or features (by
// name) wholly inside box.
type archipelago struct {
	code, nameVI, nameEN string
	box                  orb.Bound
	fromIDs, fromNames   []string
}

// archipelagos are Hoàng Sa and Trường Sa. Natural Earth draws the islands
// of the first inside China's polygon and the second as a feature of its
// own ("Spratly Is."); the base map shows both as parts of Vietnam, as
// Vietnamese state users require (their island districts, huyện đảo Hoàng
// Sa of Đà Nẵng and huyện đảo Trường Sa of Khánh Hoà).
func archipelagos() []archipelago {
	return []archipelago{
		{"VNM-HS", "Quần đảo Hoàng Sa", "Hoang Sa (Paracel) Islands",
			orb.Bound{Min: orb.Point{111, 15.5}, Max: orb.Point{113.5, 17.5}}, []string{"156"}, nil},
		{"VNM-TS", "Quần đảo Trường Sa", "Truong Sa (Spratly) Islands",
			orb.Bound{Min: orb.Point{111, 4}, Max: orb.Point{118, 12}}, nil, []string{"Spratly Is."}},
	}
}

// simplifyDegrees is the Douglas-Peucker tolerance, in degrees (about 1 km),
// applied to base-map arcs Vietnam does not use.
const simplifyDegrees = 0.01

// roundFactor rounds written coordinates to 1e-6 degree, about 0.1 m: far
// below the 1:10m source's accuracy, and stable across runs.
const roundFactor = 1e6

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("borderlines", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "countries-10m.json", "world-atlas countries-10m.json (TopoJSON)")
	out := fs.String("out", "data/border_lines.geojson", "border lines GeoJSON to write")
	basemap := fs.String("basemap", "data/basemap/countries.geojson", "base map GeoJSON to write; empty to skip")
	source := fs.String("source", "Natural Earth 1:10m via world-atlas@2.0.2", "source named in every feature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	t, err := decodeTopology(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	lines, err := borderLines(t, *source)
	if err != nil {
		return err
	}
	if err := writeFile(*out, func(w io.Writer) error {
		return demo.WriteFeatureCollection(w, zone.LayerBorderLines, lines)
	}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d border lines to %s\n", len(lines), *out)
	if *basemap == "" {
		return nil
	}
	fc, err := basemapFeatures(t, *source)
	if err != nil {
		return err
	}
	if err := writeFile(*basemap, func(w io.Writer) error { return writeCollection(w, "countries", fc) }); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d countries to %s\n", len(fc), *basemap)
	return nil
}

// borderLines builds one border_lines component per neighbour, validated
// against the layer registry. Ids are name-based UUIDs so a rerun keeps them.
func borderLines(t *topology, source string) ([]*zone.Component, error) {
	vn, err := t.find("countries", vietnamID)
	if err != nil {
		return nil, err
	}
	var out []*zone.Component
	for _, c := range countries() {
		if !c.neighbour {
			continue
		}
		nb, err := t.find("countries", c.numeric)
		if err != nil {
			return nil, err
		}
		g, err := sharedLine(t, vn, nb)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, fmt.Errorf("Vietnam and %s share no arc in the topology", c.nameEN)
		}
		code := "VN-" + c.iso2
		comp := &zone.Component{
			ID:             uuid.NewSHA1(uuid.NameSpaceURL, []byte("zoneplan:border_lines:"+code)),
			Layer:          zone.LayerBorderLines,
			Kind:           "land_border",
			Name:           "Biên giới Việt Nam – " + c.nameVI,
			Code:           code,
			Classification: zone.Public,
			Geometry:       orb.Round(g, roundFactor),
			Properties: map[string]any{
				"name_en":   "Vietnam – " + c.nameEN + " border",
				"neighbour": c.iso2,
				"source":    source,
			},
		}
		if probs := comp.Validate(); len(probs) > 0 {
			return nil, &zone.Error{Code: zone.CodeInvalid, Message: "border line " + code + " is invalid", Details: probs}
		}
		out = append(out, comp)
	}
	return out, nil
}

// basemapFeatures builds the base map: Vietnam at full source resolution,
// the other countries with their own arcs simplified and clipped to
// basemapBound. Arcs Vietnam uses are never simplified, so shared borders
// still coincide.
func basemapFeatures(t *topology, source string) ([]*geojson.Feature, error) {
	vn, err := t.find("countries", vietnamID)
	if err != nil {
		return nil, err
	}
	keep, err := vn.arcSet()
	if err != nil {
		return nil, err
	}
	dp := simplify.DouglasPeucker(simplifyDegrees)
	simplifyArc := func(arc int, ls orb.LineString) orb.LineString {
		if keep[arc] {
			return ls
		}
		return dp.LineString(append(orb.LineString(nil), ls...))
	}
	var out []*geojson.Feature
	for _, c := range countries() {
		g, err := t.find("countries", c.numeric)
		if err != nil {
			return nil, err
		}
		var mp orb.MultiPolygon
		if c.numeric == vietnamID {
			mp, err = t.multiPolygon(g, nil)
		} else {
			mp, err = t.multiPolygon(g, simplifyArc)
			mp = clip.MultiPolygon(basemapBound(), mp)
		}
		if err != nil {
			return nil, err
		}
		mp = dropParts(mp)
		if len(mp) == 0 {
			continue
		}
		var geom orb.Geometry = orb.Round(mp, roundFactor)
		if len(mp) == 1 {
			geom = mp[0]
		}
		f := geojson.NewFeature(geom)
		f.ID = c.iso3
		role := "neighbour"
		if c.numeric == vietnamID {
			role = "vietnam"
		}
		f.Properties = geojson.Properties{
			"name": c.nameVI, "name_en": c.nameEN, "iso_a2": c.iso2, "iso_a3": c.iso3,
			"role": role, "source": source, "classification": "public",
		}
		out = append(out, f)
	}
	for _, a := range archipelagos() {
		f, err := archipelagoFeature(t, a, source)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// archipelagoFeature gathers an archipelago's islands from the source, at
// full resolution: every part of its source countries or features that
// lies wholly in its box.
func archipelagoFeature(t *topology, a archipelago, source string) (*geojson.Feature, error) {
	var mp orb.MultiPolygon
	add := func(g topoGeometry) error {
		parts, err := t.multiPolygon(g, nil)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if b := p.Bound(); a.box.Contains(b.Min) && a.box.Contains(b.Max) {
				mp = append(mp, p)
			}
		}
		return nil
	}
	for _, id := range a.fromIDs {
		g, err := t.find("countries", id)
		if err != nil {
			return nil, err
		}
		if err := add(g); err != nil {
			return nil, err
		}
	}
	for _, name := range a.fromNames {
		g, err := t.findByName("countries", name)
		if err != nil {
			return nil, err
		}
		if err := add(g); err != nil {
			return nil, err
		}
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("%s: no island of the source lies in %v", a.nameEN, a.box)
	}
	f := geojson.NewFeature(orb.Round(mp, roundFactor))
	f.ID = a.code
	f.Properties = geojson.Properties{
		"name": a.nameVI, "name_en": a.nameEN, "iso_a2": "VN", "iso_a3": "VNM", "kind": "archipelago",
		"role": "vietnam", "source": source, "classification": "public",
	}
	return f, nil
}

// dropParts removes degenerate rings and polygons left by simplification or
// clipping, and parts wholly inside disputedBounds.
func dropParts(mp orb.MultiPolygon) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, p := range mp {
		var poly orb.Polygon
		for i, r := range p {
			r = despike(r)
			if len(r) < 4 || r[0] != r[len(r)-1] {
				if i == 0 {
					break
				}
				continue
			}
			poly = append(poly, r)
		}
		if len(poly) == 0 {
			continue
		}
		disputed := false
		for _, b := range disputedBounds() {
			if b.Contains(poly.Bound().Min) && b.Contains(poly.Bound().Max) {
				disputed = true
			}
		}
		if !disputed {
			out = append(out, poly)
		}
	}
	return out
}

// despike removes repeated vertices and spikes (A, B, A: an edge out and
// straight back), which quantization to the source's grid leaves in a few
// rings and which make a ring invalid. The ring stays closed.
func despike(r orb.Ring) orb.Ring {
	if len(r) < 4 {
		return r
	}
	out := append(orb.Ring(nil), r[:len(r)-1]...) // open
	for changed := true; changed && len(out) >= 3; {
		changed = false
		n := len(out)
		for i := 0; i < n; i++ {
			prev, cur, next := out[(i+n-1)%n], out[i], out[(i+1)%n]
			// A repeated vertex, or the tip of a spike (its neighbours
			// coincide): drop it. A spike's base then repeats and goes on
			// the next pass.
			if cur == next || prev == next {
				out = append(out[:i], out[i+1:]...)
				changed = true
				break
			}
		}
	}
	if len(out) < 3 {
		return nil
	}
	return append(out, out[0])
}

// writeCollection writes features as a FeatureCollection, one per line.
func writeCollection(w io.Writer, name string, fs []*geojson.Feature) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\"type\":\"FeatureCollection\",\"name\":%q,\"features\":[\n", name)
	for i, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		bw.Write(b)
		if i < len(fs)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// writeFile writes path atomically: into a temporary file beside it, renamed
// over path only when fill succeeded.
func writeFile(path string, fill func(io.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

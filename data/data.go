// Package data embeds zoneplan's shipped geography: Vietnam's real land
// border lines (Natural Earth 1:10m), the offline base map, and the
// synthetic demo components, and decodes them into zone components ready for
// Store.ImportComponents. README.md in this folder says where every file
// comes from and how to regenerate it.
package data

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

//go:embed border_lines.geojson demo/*.geojson basemap/*.geojson coverage.geojson
var files embed.FS

// Paths of the embedded files, relative to this folder.
const (
	BorderLinesFile = "border_lines.geojson"
	BasemapFile     = "basemap/countries.geojson"
	PlacesFile      = "basemap/province_centres.geojson"
	DemoDir         = "demo"
	CoverageFile    = "coverage.geojson"
)

// FS returns the embedded files (border_lines.geojson, demo/*.geojson,
// basemap/*.geojson), for serving them as they are.
func FS() fs.FS { return files }

// BorderLinesGeoJSON returns the border_lines FeatureCollection as stored.
func BorderLinesGeoJSON() []byte { return mustRead(BorderLinesFile) }

// BasemapGeoJSON returns the base map FeatureCollection: Vietnam (full
// source resolution) and the countries around it (simplified, clipped),
// properties name (Vietnamese), name_en, iso_a2, iso_a3, role ("vietnam" or
// "neighbour").
func BasemapGeoJSON() []byte { return mustRead(BasemapFile) }

// BasemapPlacesGeoJSON returns the offline base map's places: the centres
// of the 34 provinces and cities after the 2025 reorganisation, Points with
// properties name (the province, Vietnamese), name_en, centre (the place),
// merged (the provinces merged into it, when any).
func BasemapPlacesGeoJSON() []byte { return mustRead(PlacesFile) }

// DemoLayers returns every demo FeatureCollection by layer id, the border
// lines included: one entry per layer of the registry.
func DemoLayers() (map[string][]byte, error) {
	out := map[string][]byte{zone.LayerBorderLines: BorderLinesGeoJSON()}
	entries, err := files.ReadDir(DemoDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		layer, ok := strings.CutSuffix(e.Name(), ".geojson")
		if !ok {
			continue
		}
		if _, known := zone.LookupLayer(layer); !known {
			return nil, zone.Errorf(zone.CodeInternal, "embedded demo file %s names no known layer", e.Name())
		}
		b, err := files.ReadFile(path.Join(DemoDir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[layer] = b
	}
	return out, nil
}

// DemoCoverage decodes the demo's own coverage (coverage.geojson, made by
// internal/demo's Coverage): where the demo's data is complete, for every
// defence layer. Store each with Store.PutCoverage; the ids are fixed, so
// storing again replaces.
func DemoCoverage() ([]zone.Coverage, error) {
	fc, err := geojson.UnmarshalFeatureCollection(mustRead(CoverageFile))
	if err != nil {
		return nil, err
	}
	out := make([]zone.Coverage, 0, len(fc.Features))
	for i, f := range fc.Features {
		c, probs := zone.CoverageFromFeature(f)
		if len(probs) == 0 {
			probs = c.Validate()
		}
		if len(probs) > 0 {
			return nil, zone.Errorf(zone.CodeInternal, "embedded %s feature %d: %s %s", CoverageFile, i, probs[0].Pointer, probs[0].Reason)
		}
		out = append(out, *c)
	}
	return out, nil
}

// BorderLines decodes the real border lines (one component per neighbour).
func BorderLines() ([]*zone.Component, error) {
	return DecodeLayer(zone.LayerBorderLines, BorderLinesGeoJSON())
}

// Demo decodes the whole demo set, border lines included, grouped by layer
// and in file order, each component validated. Import each layer with
// Store.ImportComponents(ctx, layer, cs, zone.ImportOptions{Upsert: true}):
// the ids are fixed, so importing again replaces rather than duplicates.
func Demo() (map[string][]*zone.Component, error) {
	layers, err := DemoLayers()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*zone.Component, len(layers))
	for layer, b := range layers {
		cs, err := DecodeLayer(layer, b)
		if err != nil {
			return nil, err
		}
		out[layer] = cs
	}
	return out, nil
}

// DemoComponents is Demo flattened in registry layer order.
func DemoComponents() ([]*zone.Component, error) {
	byLayer, err := Demo()
	if err != nil {
		return nil, err
	}
	var out []*zone.Component
	for _, id := range zone.LayerIDs() {
		out = append(out, byLayer[id]...)
	}
	return out, nil
}

// DecodeLayer decodes a FeatureCollection into components of layer with
// zone.FromFeature. Every bad feature is reported, as a CodeInvalid error
// with one Detail per problem (Index = the feature's position).
func DecodeLayer(layer string, b []byte) ([]*zone.Component, error) {
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "layer %s: not a GeoJSON FeatureCollection: %v", layer, err)
	}
	var probs []zone.Detail
	out := make([]*zone.Component, 0, len(fc.Features))
	for i, f := range fc.Features {
		c, ds := zone.FromFeature(layer, f)
		for _, d := range ds {
			d.Index = i
			probs = append(probs, d)
		}
		out = append(out, c)
	}
	if len(probs) > 0 {
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: fmt.Sprintf("layer %s: %d invalid features", layer, len(probs)), Details: probs}
	}
	return out, nil
}

// VietnamLand returns Vietnam's land territory from the base map (WGS84,
// full source resolution): the territory the checker's border belt lies
// in (its edge along the border is the border lines, vertex for vertex),
// and for point-in-polygon tests.
func VietnamLand() (orb.MultiPolygon, error) {
	fc, err := geojson.UnmarshalFeatureCollection(BasemapGeoJSON())
	if err != nil {
		return nil, err
	}
	for _, f := range fc.Features {
		if f.Properties.MustString("iso_a3", "") != "VNM" {
			continue
		}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			return orb.MultiPolygon{g}, nil
		case orb.MultiPolygon:
			return g, nil
		}
	}
	return nil, zone.Errorf(zone.CodeInternal, "base map has no Vietnam polygon")
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		// The file is embedded at build time; its absence is a build bug.
		panic("data: embedded file missing: " + name)
	}
	return b
}

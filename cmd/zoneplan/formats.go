package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// This file lets check, import and export read and write coordinates in
// the CRSs of package crs and files in the formats of package formats.
// A WGS84 GeoJSON file keeps its old path (check.ParseFootprints,
// decodeFeatures), so its errors point into the file as before; anything
// else goes through formats.Decode, which transforms to WGS84 and names
// the file and record of every problem.

// inputFlags are the --crs and --format flags of check and import.
type inputFlags struct {
	crs, format string
}

func addInputFlags(fs *flag.FlagSet, f *inputFlags) {
	fs.StringVar(&f.crs, "crs", "", "CRS of the file's coordinates, east first: EPSG:9215, an OGC URI, VN2000:TM3:<central meridian>\n"+
		"(default WGS84, or the GeoJSON crs member or the shapefile's .prj; required for a point table)")
	fs.StringVar(&f.format, "format", "", "geojson, kml, kmz, shapefile (a .zip) or table (CSV or text: point number, X northing, Y easting);\n"+
		"default: from the file name and content")
}

// input is one file to read with the flags resolved.
type input struct {
	name   string // as given; "stdin" for -
	data   []byte
	crs    *crs.CRS
	format formats.Format
}

// readInputFile reads FILE (or standard input for "-") and resolves the flags.
func readInputFile(e *env, arg string, f inputFlags) (*input, error) {
	in := &input{name: arg}
	if arg == "-" {
		in.name = "stdin"
	}
	switch f.format {
	case "":
	case string(formats.GeoJSON), string(formats.KML), string(formats.KMZ), string(formats.Shapefile), string(formats.Table):
		in.format = formats.Format(f.format)
	default:
		return nil, exitError{code: 2, msg: fmt.Sprintf("--format %q: want geojson, kml, kmz, shapefile or table", f.format)}
	}
	if f.crs != "" {
		c, err := crs.Lookup(f.crs)
		if err != nil {
			return nil, err
		}
		in.crs = c
	}
	raw, err := readInput(e, arg)
	if err != nil {
		return nil, err
	}
	in.data = raw
	return in, nil
}

// checkInput is the input as package check reads footprints.
func (in *input) checkInput() check.Input {
	return check.Input{Name: in.name, Data: in.data, CRS: in.crs, Format: in.format}
}

// plainGeoJSON reports whether the input is WGS84 GeoJSON read as it is
// (check.Input.Plain), so bad features are reported by index in the file.
func (in *input) plainGeoJSON() bool { return in.checkInput().Plain() }

// decode reads the input with package formats: WGS84 features, validated.
func (in *input) decode() (*formats.Result, error) {
	return formats.Decode(filepath.Base(in.name), in.data, formats.Options{CRS: in.crs, Format: in.format})
}

// footprints reads a check's footprints from any format, as the HTTP API
// does (check.DecodeFootprints).
func (in *input) footprints() ([]check.Footprint, error) {
	d, err := check.DecodeFootprints(in.checkInput())
	return d.Footprints, err
}

// components reads the components of an import from any format. Approved
// zone polygons in a feature's zones property are in the file's CRS too,
// and are transformed with it.
func (in *input) components(layer string) ([]*zone.Component, error) {
	if in.plainGeoJSON() {
		return decodeFeatures(layer, in.data)
	}
	res, err := in.decode()
	if err != nil {
		return nil, err
	}
	if !res.CRS.IsWGS84() {
		if err := zonesToWGS84(res.Features, res.CRS, in.name); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(res.Features)
	if err != nil {
		return nil, err
	}
	cs, err := decodeFeatures(layer, body)
	if err != nil {
		return nil, formats.NameRecords(err, filepath.Base(in.name))
	}
	return cs, nil
}

// zonesToWGS84 transforms the geometries of approved zones (properties
// zones[i].geometry) from c to WGS84, in place.
func zonesToWGS84(fc *geojson.FeatureCollection, c *crs.CRS, file string) error {
	var probs []zone.Detail
	for i, f := range fc.Features {
		list, ok := f.Properties[zone.FieldZones].([]any)
		if !ok {
			continue
		}
		for j, z := range list {
			zm, ok := z.(map[string]any)
			if !ok || zm["geometry"] == nil {
				continue
			}
			ptr := fmt.Sprintf("%s: feature %d: properties.zones[%d].geometry", file, i+1, j)
			raw, _ := json.Marshal(zm["geometry"])
			g, err := geojson.UnmarshalGeometry(raw)
			if err != nil {
				probs = append(probs, zone.Detail{Index: i, Pointer: ptr, Reason: "not a GeoJSON geometry: " + err.Error()})
				continue
			}
			w, err := crs.TransformToWGS84(g.Geometry(), c)
			if err != nil {
				probs = append(probs, zone.Detail{Index: i, Pointer: ptr, Reason: zone.ErrorMessage(err)})
				continue
			}
			zm["geometry"] = geojson.NewGeometry(w)
		}
	}
	if len(probs) > 0 {
		return &zone.Error{Code: zone.CodeInvalid, Details: probs,
			Message: fmt.Sprintf("%s: %s: %s", file, probs[0].Pointer, probs[0].Reason)}
	}
	return nil
}

// writeCollectionIn streams a layer as a GeoJSON FeatureCollection with
// coordinates in c, east first, and a "crs" member naming c (GeoJSON 2008,
// which GDAL and QGIS read), before the features so streaming readers see
// it first. Geometries and approved zone polygons are transformed;
// metres are rounded to the millimetre, degrees to 1e-9 (as
// formats.EncodeGeoJSON does). A nil or CRS84 c is plain RFC 7946
// (writeCollection).
func writeCollectionIn(ctx context.Context, w io.Writer, st zone.ComponentStore, layer string, c *crs.CRS) (int, error) {
	if c == nil || c.Code == crs.CRS84().Code {
		return writeCollection(ctx, w, st, layer)
	}
	ref := c.Code
	if c.EPSG != 0 {
		ref = fmt.Sprintf("urn:ogc:def:crs:EPSG::%d", c.EPSG)
	}
	member, _ := json.Marshal(map[string]any{"type": "name", "properties": map[string]any{"name": ref}})
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"type":"FeatureCollection","crs":%s,"features":[`+"\n", member)
	factor := 1_000_000_000 // degrees to 1e-9 (0.1 mm)
	if c.Kind == crs.Projected {
		factor = 1000 // millimetres
	}
	to := func(g orb.Geometry) (orb.Geometry, error) {
		out, err := crs.TransformFromWGS84(g, c)
		if err != nil {
			return nil, err
		}
		return orb.Round(out, factor), nil
	}
	n := 0
	err := st.ListComponents(ctx, zone.Query{Layers: []string{layer}, Clearance: zone.Secret}, func(comp *zone.Component) error {
		f := comp.Feature()
		g, err := to(comp.Geometry)
		if err != nil {
			return zone.Errorf(zone.CodeInvalid, "%s %s: %s", layer, comp.ID, zone.ErrorMessage(err))
		}
		f.Geometry = g
		if len(comp.Zones) > 0 {
			zs := make([]zone.ProtectionZone, len(comp.Zones))
			for i, z := range comp.Zones {
				if z.Geometry != nil {
					if z.Geometry, err = to(z.Geometry); err != nil {
						return zone.Errorf(zone.CodeInvalid, "%s %s zone %s: %s", layer, comp.ID, z.Kind, zone.ErrorMessage(err))
					}
				}
				zs[i] = z
			}
			f.Properties[zone.FieldZones] = zs
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString(",\n")
		}
		n++
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return n, err
	}
	bw.WriteString("\n]}\n")
	return n, bw.Flush()
}

package check

import (
	"bytes"
	"encoding/json"
	"path"

	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Input is a footprint as it reaches zoneplan: a GeoJSON body, or a file in
// any format package formats reads, in WGS84 or another CRS.
type Input struct {
	Name   string         // the file name (format sniffing, error messages)
	Data   []byte         // the file or body
	CRS    *crs.CRS       // the CRS the caller named; nil: WGS84, or what the file says
	Format formats.Format // the format the caller named; "" sniffs
	// Upload marks a file upload: it is always read by package formats and
	// always gives one footprint per record (a collection).
	Upload bool
	// Attributes (height_m, activities, sector) are set on every footprint
	// over what the file says, and validated as if the file had them.
	Attributes map[string]any
	// Limits bound the decoding (zero fields: formats.DefaultLimits); a
	// caller allowed fewer features passes fewer. They are never taken
	// above what a check accepts (see Input.limits).
	Limits formats.Limits
}

// limits are in.Limits with the defaults, but never more features than
// MaxFeatures nor more vertices in all than zone.MaxVertices: ParseFootprints
// refuses more, so the decoder stops where the check would refuse anyway,
// before reading further.
func (in Input) limits() formats.Limits {
	l := in.Limits.WithDefaults()
	l.MaxFeatures = min(l.MaxFeatures, MaxFeatures)
	l.MaxVertices = min(l.MaxVertices, zone.MaxVertices)
	return l
}

// Decoded is an Input read and transformed to WGS84.
type Decoded struct {
	Footprints []Footprint
	Format     formats.Format // what the input was read as
	CRS        *crs.CRS       // what its coordinates were in
}

// Plain reports whether the input is WGS84 GeoJSON to be read as it is:
// not an upload, no CRS named, GeoJSON by name or content, and no "crs"
// member. Such input keeps ParseFootprints' error pointers into the body.
func (in Input) Plain() bool {
	if in.Upload || in.CRS != nil {
		return false
	}
	f := in.Format
	if f == "" {
		var err error
		if f, err = formats.Sniff(path.Base(in.Name), in.Data); err != nil {
			return false
		}
	}
	if f != formats.GeoJSON {
		return false
	}
	if !bytes.Contains(in.Data, []byte(`"crs"`)) {
		return true // no crs member; spares large bodies a second parse
	}
	var top struct {
		CRS json.RawMessage `json:"crs"`
	}
	// Invalid JSON counts as plain: ParseFootprints says where it breaks.
	_ = json.Unmarshal(in.Data, &top)
	return len(top.CRS) == 0
}

// DecodeFootprints reads the footprints of a check or appraisal from any
// input. Plain WGS84 GeoJSON goes straight to ParseFootprints; anything else
// through formats.Decode (which transforms to WGS84 and refuses coordinates
// plainly not in the stated CRS) and then ParseFootprints for the project
// attributes, so both paths give the same footprints for the same place.
// A GeoJSON body that is not an upload keeps its shape (a bare geometry or
// Feature gives one footprint with Index -1); anything else is a collection.
// Errors are zone.Errors of CodeInvalid naming the file, the record and the
// problem; an input over the limits is refused while it is read, with
// CodeLimit (CodeTooLarge for the file's size), before anything past the
// limit is decoded — plain GeoJSON too: formats.CheckGeoJSON counts it
// feature by feature before ParseFootprints reads it whole.
func DecodeFootprints(in Input) (Decoded, error) {
	lim := in.limits()
	if in.Plain() {
		if err := formats.CheckGeoJSON(path.Base(in.Name), in.Data, lim); err != nil {
			// Pointers into a plain body are the caller's to prefix
			// (ParseFootprints' convention), not a file name.
			return Decoded{}, zone.WithPointers(err, func(string) string { return "" })
		}
		fps, err := ParseFootprints(in.Data)
		if err != nil {
			return Decoded{}, err
		}
		return Decoded{Footprints: fps, Format: formats.GeoJSON, CRS: crs.CRS84()}, nil
	}
	res, err := formats.Decode(path.Base(in.Name), in.Data, formats.Options{CRS: in.CRS, Format: in.Format, Limits: lim})
	if err != nil {
		return Decoded{}, err
	}
	for _, f := range res.Features.Features {
		if f.Properties == nil {
			f.Properties = geojson.Properties{}
		}
		for k, v := range in.Attributes {
			f.Properties[k] = v
		}
	}
	var wgs84 any = res.Features
	if !in.Upload && res.Format == formats.GeoJSON && len(res.Features.Features) == 1 {
		var top struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(in.Data, &top)
		switch top.Type {
		case "FeatureCollection":
		case "Feature":
			wgs84 = res.Features.Features[0]
		default:
			wgs84 = geojson.NewGeometry(res.Features.Features[0].Geometry)
		}
	}
	body, err := json.Marshal(wgs84)
	if err != nil {
		return Decoded{}, zone.InternalError(err, "encode decoded footprint")
	}
	fps, err := ParseFootprints(body)
	if err != nil {
		return Decoded{}, formats.NameRecords(err, path.Base(in.Name))
	}
	return Decoded{Footprints: fps, Format: res.Format, CRS: res.CRS}, nil
}

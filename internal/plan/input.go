package plan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// MaxParcels is the most parcels one plan may hold.
const MaxParcels = 200_000

// Limits bound the decoding of one plan file: formats' defaults (64 MiB
// file, 256 MiB unpacked) with room for MaxParcels features, 8 million
// vertices (128 MiB as orb points) and 2 million attribute values (about
// 320 MiB at their worst, 160 bytes each): one upload holds at most about
// half a gigabyte, and uploads are admitted a few at a time (the server's
// upload class), so memory per upload stays bounded.
func Limits() formats.Limits {
	return formats.Limits{MaxFeatures: MaxParcels, MaxVertices: 8_000_000, MaxAttributes: 2_000_000}
}

// Mapping names the plan file's attributes that hold the project fields.
// Fields left empty are not read (a parcel's name then defaults to its
// number).
type Mapping struct {
	Name       string `json:"name,omitempty"`
	Sector     string `json:"sector,omitempty"` // land use or sector
	HeightM    string `json:"height_m,omitempty"`
	Activities string `json:"activities,omitempty"`
}

// Map returns the mapping as stored with a plan (field -> attribute).
func (m Mapping) Map() map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"name": m.Name, "sector": m.Sector, "height_m": m.HeightM, "activities": m.Activities} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// ParseMapping reads a mapping as the API's map field and the CLI's --map
// take it: either a JSON object or "field=ATTRIBUTE" pairs separated by
// commas, with the fields name, sector (or land_use), height_m (or height)
// and activities: `name=TEN_LO,land_use=LOAI_DAT,height=CHIEU_CAO`.
func ParseMapping(s string) (Mapping, error) {
	var m Mapping
	s = strings.TrimSpace(s)
	if s == "" {
		return m, nil
	}
	pairs := map[string]string{}
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &pairs); err != nil {
			return m, mapError("the mapping is not a JSON object of field names to attribute names: %v", err)
		}
	} else {
		for _, part := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return m, mapError("%q in the mapping is not field=ATTRIBUTE", strings.TrimSpace(part))
			}
			pairs[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := pairs[k]
		if v == "" {
			return m, mapError("the mapping gives no attribute for %s", k)
		}
		switch strings.ToLower(k) {
		case "name":
			m.Name = v
		case "sector", "land_use", "landuse":
			m.Sector = v
		case "height_m", "height":
			m.HeightM = v
		case "activities":
			m.Activities = v
		default:
			return m, mapError("unknown field %q in the mapping (want name, sector or land_use, height_m, activities)", k)
		}
	}
	return m, nil
}

func mapError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: []zone.Detail{{Index: -1, Pointer: "map", Reason: msg}}}
}

// maxDetails is how many bad parcels an error lists.
const maxDetails = 50

// Parcels turns a decoded plan file (WGS84) into parcels: each feature's
// geometry validated as a check validates footprints, its mapped
// attributes read into the project fields (height in metres, a number or
// a numeric text with a decimal point or comma; activities a list or a
// comma-separated text), and every attribute of the file kept. Every bad
// parcel is reported (up to 50), with its record's index.
func Parcels(file string, fc *geojson.FeatureCollection, m Mapping) ([]zone.PlanParcel, error) {
	if fc == nil || len(fc.Features) == 0 {
		return nil, zone.Errorf(zone.CodeInvalid, "%s holds no parcels", file)
	}
	if len(fc.Features) > MaxParcels {
		return nil, zone.Errorf(zone.CodeLimit, "%s holds %d parcels, more than the %d a plan may hold", file, len(fc.Features), MaxParcels)
	}
	var probs []zone.Detail
	bad := 0
	add := func(i int, ptr, format string, args ...any) {
		bad++
		if len(probs) < maxDetails {
			probs = append(probs, zone.Detail{Index: i, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
		}
	}
	missing := map[string]bool{}
	out := make([]zone.PlanParcel, len(fc.Features))
	for i, f := range fc.Features {
		for _, d := range zone.ValidateGeometry(f.Geometry) {
			add(i, "geometry."+d.Pointer, "%s", d.Reason)
		}
		props := map[string]any{}
		for k, v := range f.Properties {
			props[k] = v
		}
		pc := zone.PlanParcel{Seq: i, Geometry: f.Geometry, Properties: props}
		attr := func(name string) (any, bool) {
			if name == "" {
				return nil, false
			}
			v, ok := f.Properties[name]
			if !ok {
				missing[name] = true
			}
			return v, ok && v != nil
		}
		if v, ok := attr(m.Name); ok {
			pc.Name = strings.TrimSpace(fmt.Sprint(v))
		}
		if pc.Name == "" {
			pc.Name = "#" + strconv.Itoa(i+1)
		}
		if v, ok := attr(m.Sector); ok {
			if s := strings.TrimSpace(fmt.Sprint(v)); s != "" {
				props[zone.PropSector] = s
			}
		}
		if v, ok := attr(m.HeightM); ok {
			switch h := v.(type) {
			case float64:
				props[zone.PropHeightM] = h
			case string:
				if strings.TrimSpace(h) == "" {
					break
				}
				f, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(h), ",", ".", 1), 64)
				if err != nil {
					add(i, "properties."+m.HeightM, "height %q is not a number of metres", h)
					break
				}
				props[zone.PropHeightM] = f
			default:
				add(i, "properties."+m.HeightM, "height %v is not a number of metres", v)
			}
			if h, ok := props[zone.PropHeightM].(float64); ok && (h < 0 || h > 10_000) {
				add(i, "properties."+m.HeightM, "height %g m is out of range (0 to 10000)", h)
			}
		}
		if v, ok := attr(m.Activities); ok {
			var acts []any
			switch a := v.(type) {
			case string:
				for _, s := range strings.Split(a, ",") {
					if s = strings.TrimSpace(s); s != "" {
						acts = append(acts, s)
					}
				}
			case []any:
				for _, s := range a {
					if str, ok := s.(string); ok && strings.TrimSpace(str) != "" {
						acts = append(acts, strings.TrimSpace(str))
					}
				}
			}
			if len(acts) > 0 {
				props[zone.PropActivities] = acts
			}
		}
		out[i] = pc
	}
	if len(missing) > 0 {
		// An attribute the mapping names that no parcel has is a typo.
		for name := range missing {
			if !anyHas(fc, name) {
				return nil, mapError("no parcel of %s has the attribute %q the mapping names", file, name)
			}
		}
	}
	if bad > 0 {
		msg := fmt.Sprintf("%s: %d parcels are not valid", file, bad)
		if bad == 1 {
			msg = fmt.Sprintf("%s: a parcel is not valid", file)
		}
		return nil, &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: probs}
	}
	return out, nil
}

func anyHas(fc *geojson.FeatureCollection, name string) bool {
	for _, f := range fc.Features {
		if _, ok := f.Properties[name]; ok {
			return true
		}
	}
	return false
}

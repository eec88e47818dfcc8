package tiles

import (
	"math"
	"strconv"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one MVT layer and its attributes.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// vietnam is the box the TileJSON advertises (WGS84 degrees: west, south,
// east, north): mainland Vietnam and its near sea. Tiles outside it are
// served too; it only tells clients where to look.
var vietnam = [4]float64{102.1, 8.2, 109.7, 23.5}

// Layers returns the MVT layers a tile of name (a layer id or AllLayers)
// holds, or a not-found error.
func (s *Service) Layers(name string) ([]VectorLayer, error) {
	ids, err := layersOf(name)
	if err != nil {
		return nil, err
	}
	var out []VectorLayer
	for _, id := range ids {
		l, _ := zone.LookupLayer(id)
		fields := map[string]string{
			"id":             "String: the component's UUID",
			"layer":          "String: the layer id",
			"name":           "String",
			"kind":           "String: one of the layer's kinds",
			"code":           "String: the component's code, when it has one",
			"classification": "String: public, internal, restricted or secret",
			"group":          "String: special, I, II or III, when set",
		}
		if id == zone.LayerProjectSites {
			fields["verdict"] = "String: clear, incomplete, review or conflict (latest check)"
			fields["status"] = "String: the appraisal's status"
		}
		vl := VectorLayer{ID: id, Description: l.TitleEN + " / " + l.TitleVI, MinZoom: 0, MaxZoom: MaxZoom, Fields: fields}
		if p := partOf(name); p != nil {
			vl.ID, vl.Description = p.ID, p.TitleEN+" / "+p.TitleVI
		}
		out = append(out, vl)
	}
	out = append(out, VectorLayer{ID: OmittedLayer, MinZoom: 0, MaxZoom: MaxZoom,
		Description: "Features the tile's size budget left out, counted per layer in cells of an eighth of the tile (a point at their mean position)",
		Fields: map[string]string{
			"layer": "String: the layer id of the features counted",
			"count": "Number: how many features of that layer the cell left out",
		}})
	if name == AllLayers {
		out = append(out, VectorLayer{ID: ZonesLayer, MinZoom: s.opt.ZonesMinZoom, MaxZoom: MaxZoom,
			Description: "Protection zones of the components shown: approved polygons, and provisional widths as buffers",
			Fields: map[string]string{
				"component_id": "String: the UUID of the zone's component",
				"kind":         "String: restricted_area, protected_area or safety_belt",
				"approved":     "Boolean: an approved polygon (true) or a provisional width (false)",
				"layer":        "String: the component's layer id",
			}})
	}
	return out, nil
}

// TileJSON returns the TileJSON document of name (a layer id or
// AllLayers); base is the server's URL without a trailing slash.
func (s *Service) TileJSON(name, base string) (*TileJSON, error) {
	vl, err := s.Layers(name)
	if err != nil {
		return nil, err
	}
	title := "All zoneplan layers"
	if l, ok := zone.LookupLayer(name); ok {
		title = l.TitleEN
	} else if p := partOf(name); p != nil {
		title = p.TitleEN
	}
	return &TileJSON{
		TileJSON: "3.0.0", Name: title, Version: "1.0.0", Scheme: "xyz",
		Description: "zoneplan vector tiles; features above the caller's clearance are left out. Send the same Authorization header as for the API.",
		Attribution: "zoneplan (synthetic defence data)",
		Tiles:       []string{base + "/tiles/" + name + "/{z}/{x}/{y}.mvt"},
		MinZoom:     0, MaxZoom: MaxZoom,
		Bounds:       vietnam,
		Center:       [3]float64{105.85, 21.03, 8},
		VectorLayers: vl,
	}, nil
}

// WebMercatorQuad is the OGC tile matrix set of the XYZ scheme (OGC
// 17-083r4 annex D), as OGC API - Tiles publishes it. It carries the TMS
// 2.0 members and, for clients that read the 1.0 JSON encoding (GDAL 3.6
// among them), the 1.0 names beside them: identifier, supportedCRS,
// lowerCorner/upperCorner and topLeftCorner.
func WebMercatorQuad() map[string]any {
	const half = 20037508.3427892
	const crs = "http://www.opengis.net/def/crs/EPSG/0/3857"
	matrices := make([]map[string]any, 0, MaxZoom+1)
	for z := 0; z <= MaxZoom; z++ {
		n := 1 << z
		cell := 2 * half / float64(256*n)
		id := strconv.Itoa(z)
		matrices = append(matrices, map[string]any{
			"id": id, "identifier": id, "scaleDenominator": cell / 0.00028, "cellSize": cell,
			"cornerOfOrigin": "topLeft", "pointOfOrigin": []float64{-half, half}, "topLeftCorner": []float64{-half, half},
			"tileWidth": 256, "tileHeight": 256, "matrixWidth": n, "matrixHeight": n,
		})
	}
	return map[string]any{
		"id": "WebMercatorQuad", "identifier": "WebMercatorQuad", "title": "Google Maps Compatible for the World",
		"uri":               "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
		"crs":               crs,
		"supportedCRS":      crs,
		"orderedAxes":       []string{"E", "N"},
		"wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"boundingBox": map[string]any{"crs": crs,
			"lowerLeft": []float64{-half, -half}, "upperRight": []float64{half, half},
			"lowerCorner": []float64{-half, -half}, "upperCorner": []float64{half, half}},
		"tileMatrices": matrices,
	}
}

// TileRange returns the x and y range of zoom z's tiles over the
// advertised box, for OGC tileMatrixSetLimits.
func TileRange(z int) (minX, maxX, minY, maxY int) {
	n := float64(int(1) << z)
	x := func(lon float64) int { return int(math.Floor((lon + 180) / 360 * n)) }
	y := func(lat float64) int {
		s := math.Sin(lat * math.Pi / 180)
		return int(math.Floor((0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n))
	}
	return x(vietnam[0]), x(vietnam[2]), y(vietnam[3]), y(vietnam[1])
}

package httpapi_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// GDAL's OGCAPI driver as a real client of OGC API - Tiles: it reads the
// collection, its tilesets-vector link, the tileset, the tile matrix set,
// and then the tiles through the templated item link.

// ogcapiTilesEnv returns the environment under which GDAL's OGCAPI driver
// reads vector tiles. GDAL 3.5 to 3.7.0 built with CMake (Debian 12's 3.6.2
// among them) compile that part of the driver out (OGR_ENABLE_DRIVER_GML is
// not yet set when frmts/ogcapi is configured; fixed in 3.7.1), so there
// `-oo API=TILES` fails without a message whatever a server serves. For
// those versions .ci/gdal-ogcapi (run by make test) builds the same driver
// from the installed GDAL's source with the define, as a plugin; this
// returns the GDAL_DRIVER_PATH that loads it in place of the built-in one.
func ogcapiTilesEnv(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("gdalinfo"); err != nil {
		pgtest.Unavailable(t, "gdalinfo (gdal-bin) is not installed")
	}
	out, err := exec.Command("gdalinfo", "--version").Output()
	if err != nil {
		t.Fatalf("gdalinfo --version: %v", err)
	}
	m := regexp.MustCompile(`^GDAL (\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("gdalinfo --version: %q", out)
	}
	v := [3]int{}
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	if slices.Compare(v[:], []int{3, 7, 1}) >= 0 {
		return nil
	}
	dir := os.Getenv("ZONEPLAN_GDAL_OGCAPI_PLUGIN")
	if dir == "" {
		dir = "/var/cache/zoneplan/gdal-ogcapi"
	}
	if _, err := os.Stat(filepath.Join(dir, "gdal_OGCAPI.so")); err != nil {
		pgtest.Unavailable(t, "GDAL %d.%d.%d's OGCAPI driver was built without vector tiles and %s/gdal_OGCAPI.so (.ci/gdal-ogcapi) is missing", v[0], v[1], v[2], dir)
	}
	return []string{"GDAL_DRIVER_PATH=" + dir}
}

// webMercatorHalf is half the side of the WebMercatorQuad square, metres.
const webMercatorHalf = 20037508.342789244

// tileOf returns the XYZ tile of zoom z holding a WGS84 point.
func tileOf(z int, lon, lat float64) (x, y int) {
	n := math.Ldexp(1, z)
	s := math.Sin(lat * math.Pi / 180)
	return int((lon + 180) / 360 * n), int((0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n)
}

// tileLonLat returns the WGS84 longitude and latitude of a point of tile
// (z, x, y) given in tile fractions (0,0 the north-west corner).
func tileLonLat(z, x, y int, fx, fy float64) (lon, lat float64) {
	n := math.Ldexp(1, z)
	lon = (float64(x)+fx)/n*360 - 180
	lat = math.Atan(math.Sinh(math.Pi*(1-2*(float64(y)+fy)/n))) * 180 / math.Pi
	return lon, lat
}

// ogrFeature is one feature as `ogrinfo -al -q` prints it.
type ogrFeature struct {
	props  map[string]string // field name to value as printed
	geom   string            // the geometry's type, the first word of its WKT
	coords []float64         // every number of the WKT, in order
}

var (
	ogrFieldLine = regexp.MustCompile(`^  (\S+) \([A-Za-z0-9]+\) = (.*)$`)
	ogrNumber    = regexp.MustCompile(`-?\d+(?:\.\d+)?(?:e[-+]?\d+)?`)
)

// ogrinfoFeatures reads the features `ogrinfo -al -q` printed, by their
// "id" field (the component's UUID). A UUID seen twice fails the test.
//
// ogrinfo -al -q reads each layer's first feature before its definition,
// which matters with GDAL 3.6's OGCAPI driver: asked for its fields first
// (ogr2ogr, ogrinfo without -q), a tile layer there has none.
func ogrinfoFeatures(t *testing.T, out string) map[string]ogrFeature {
	t.Helper()
	got := map[string]ogrFeature{}
	var cur *ogrFeature
	flush := func() {
		if cur == nil {
			return
		}
		id := cur.props["id"]
		if _, dup := got[id]; dup || id == "" {
			t.Fatalf("ogrinfo printed feature id %q twice or without an id:\n%s", id, out)
		}
		got[id] = *cur
		cur = nil
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "OGRFeature("):
			flush()
			cur = &ogrFeature{props: map[string]string{}}
		case cur == nil || !strings.HasPrefix(line, "  "):
		case ogrFieldLine.MatchString(line):
			m := ogrFieldLine.FindStringSubmatch(line)
			cur.props[m[1]] = m[2]
		default:
			wkt := strings.TrimSpace(line)
			cur.geom, _, _ = strings.Cut(wkt, " ")
			for _, n := range ogrNumber.FindAllString(wkt, -1) {
				v, _ := strconv.ParseFloat(n, 64)
				cur.coords = append(cur.coords, v)
			}
		}
	}
	flush()
	return got
}

// sameFeatures reports how a and b differ: attributes exactly, geometry
// type and vertex count exactly, coordinates within a millimetre (GDAL
// georeferences a tile from the tile matrix set's origin, which the
// document gives to 0.1 um, or from its own constant).
func sameFeatures(a, b map[string]ogrFeature) string {
	for id, fa := range a {
		fb, ok := b[id]
		switch {
		case !ok:
			return id + " is only in the first"
		case !reflect.DeepEqual(fa.props, fb.props):
			return fmt.Sprintf("%s: attributes %v and %v", id, fa.props, fb.props)
		case fa.geom != fb.geom || len(fa.coords) != len(fb.coords):
			return fmt.Sprintf("%s: geometry %s of %d numbers and %s of %d", id, fa.geom, len(fa.coords), fb.geom, len(fb.coords))
		}
		for i := range fa.coords {
			if math.Abs(fa.coords[i]-fb.coords[i]) > 1e-3 {
				return fmt.Sprintf("%s: coordinate %d is %v and %v", id, i, fa.coords[i], fb.coords[i])
			}
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			return id + " is only in the second"
		}
	}
	return ""
}

func TestGDALReadsTheOGCTiles(t *testing.T) {
	env := ogcapiTilesEnv(t)
	ts := newTestServer(t, true) // --public-read: a token and anonymous
	all := seedScale(t, ts.Store, 3000, 0)
	ts.sync(t)
	const layer, z = zone.LayerDefenceWorks, 12

	// The zoom-12 tile where the most public defence works lie.
	count := map[[2]int]int{}
	for _, c := range all {
		if c.Layer == layer && c.Classification == zone.Public {
			ctr := c.Geometry.Bound().Center()
			x, y := tileOf(z, ctr[0], ctr[1])
			count[[2]int{x, y}]++
		}
	}
	var tile [2]int
	for k, n := range count {
		if n > count[tile] || n == count[tile] && (k[0] < tile[0] || k[0] == tile[0] && k[1] < tile[1]) {
			tile = k
		}
	}
	x, y := tile[0], tile[1]
	if count[tile] < 3 {
		t.Fatalf("the densest zoom-%d tile holds %d public defence works", z, count[tile])
	}

	// The tile's box in EPSG:3857 metres, a metre inside its edges: GDAL
	// reads MINX..MAXY in the tile matrix set's CRS and makes each zoom
	// level a layer of the tiles that box covers, here the one tile.
	side := 2 * webMercatorHalf / math.Ldexp(1, z)
	minX, maxY := -webMercatorHalf+float64(x)*side, webMercatorHalf-float64(y)*side
	src := "OGCAPI:" + ts.URL + "/ogc/collections/" + layer
	opts := []string{"-oo", "API=TILES",
		"-oo", fmt.Sprintf("MINX=%.3f", minX+1), "-oo", fmt.Sprintf("MINY=%.3f", maxY-side+1),
		"-oo", fmt.Sprintf("MAXX=%.3f", minX+side-1), "-oo", fmt.Sprintf("MAXY=%.3f", maxY-1)}
	zoomLayer := fmt.Sprintf("Zoom level %d", z)

	callers := []struct {
		name      string
		token     string
		clearance zone.Classification
	}{
		{"token", ts.token(t, zone.RoleViewer, zone.Restricted), zone.Restricted},
		{"anonymous", "", zone.Public},
	}
	for _, caller := range callers {
		t.Run(caller.name, func(t *testing.T) {
			// ogrinfo lists one layer per zoom level of the tileset.
			listing := gdalWith(t, caller.token, env, "ogrinfo", append([]string{"-ro", "-q", src}, opts...)...)
			for _, zl := range []int{0, z, 22} {
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^\d+: Zoom level %d( \(|$)`, zl)).MatchString(listing) {
					t.Fatalf("ogrinfo %s does not list zoom level %d:\n%s", src, zl, listing)
				}
			}

			// The features of the tile through OGC API - Tiles ...
			got := ogrinfoFeatures(t, gdalWith(t, caller.token, env, "ogrinfo",
				append(append([]string{"-ro", "-al", "-q", src}, opts...), zoomLayer)...))

			// ... are those GDAL's MVT driver reads from the same tile at
			// /tiles/{layer}/{z}/{x}/{y}.mvt: same ids, attributes and
			// geometry (so the OGC path's {z}/{y}/{x} is that tile).
			want := ogrinfoFeatures(t, gdalWith(t, caller.token, nil, "ogrinfo", "-ro", "-al", "-q",
				fmt.Sprintf("MVT:/vsicurl/%s/tiles/%s/%d/%d/%d.mvt", ts.URL, layer, z, x, y),
				"-oo", fmt.Sprintf("X=%d", x), "-oo", fmt.Sprintf("Y=%d", y), "-oo", fmt.Sprintf("Z=%d", z)))
			if len(want) == 0 {
				t.Fatalf("the MVT driver read no feature from tile %d/%d/%d", z, x, y)
			}
			if diff := sameFeatures(got, want); diff != "" {
				t.Fatalf("tile %d/%d/%d: the OGCAPI driver read %d features, the MVT driver %d; %s", z, x, y, len(got), len(want), diff)
			}

			// Against /ogc items: every feature that meets the tile (less
			// a pixel) is in it, and every feature of the tile meets the
			// tile's buffer (64 units of 4096, plus a pixel), with the
			// same attributes. Items hold only what the caller may see,
			// so the tile does too.
			bbox := func(margin float64) string {
				w, n := tileLonLat(z, x, y, -margin, -margin)
				e, s := tileLonLat(z, x, y, 1+margin, 1+margin)
				return fmt.Sprintf("%.9f,%.9f,%.9f,%.9f", w, s, e, n)
			}
			items := ts.URL + "/ogc/collections/" + layer + "/items?limit=10000&bbox="
			inner := getPage(t, items+bbox(-1.0/256), caller.token)
			outer := getPage(t, items+bbox(64.0/4096+1.0/256), caller.token)
			if len(inner.Features) < 3 {
				t.Fatalf("items in tile %d/%d/%d: %d", z, x, y, len(inner.Features))
			}
			for _, f := range inner.Features {
				if _, ok := got[f.ID]; !ok {
					t.Errorf("%s (%v) meets tile %d/%d/%d but GDAL did not read it", f.ID, f.Properties["name"], z, x, y)
				}
			}
			byID := map[string]map[string]any{}
			for _, f := range outer.Features {
				byID[f.ID] = f.Properties
			}
			for id, f := range got {
				item, ok := byID[id]
				if !ok {
					t.Errorf("GDAL read %s (%v) from tile %d/%d/%d, which /ogc items do not give for its buffer", id, f.props["name"], z, x, y)
					continue
				}
				for _, k := range []string{"layer", "name", "kind", "classification", "code", "group"} {
					v, inTile := f.props[k]
					w, inItem := item[k].(string)
					if inTile != (inItem && w != "") || v != w && inTile {
						t.Errorf("%s: %s is %q in the tile, %v in /ogc items", id, k, v, item[k])
					}
				}
				c, err := zone.ParseClassification(f.props["classification"])
				if err != nil || !caller.clearance.Allows(c) {
					t.Errorf("%s: classification %v in a tile for clearance %s", id, f.props["classification"], caller.clearance)
				}
			}
			t.Logf("tile %d/%d/%d: %d features through OGC API - Tiles (%d items meet the tile, %d its buffer)", z, x, y, len(got), len(inner.Features), len(outer.Features))
		})
	}
}

package httpapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// QGIS (Debian's 3.22, headless, installed by make test) opens zoneplan as
// a GIS office would (testdata/qgis_read.py): an authentication config of
// type Basic holding the token, every collection through its OGC API -
// Features provider, the vector tiles through an XYZ vector tile layer,
// and renders both. Every collection of one geometry type (single-type
// layers and the parts of mixed ones) gives QGIS every feature the token
// may see, each drawable as that type; a mixed layer gives every feature
// but QGIS draws one type of it, and its parts draw them all between them.
// Both renders have ink.
func TestQGISReadsCollectionsAndTiles(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := exec.LookPath("qgis_process"); err != nil {
		pgtest.Unavailable(t, "QGIS (qgis, python3-qgis) is not installed")
	}
	if err := exec.Command(python, "-c", "import qgis.core").Run(); err != nil {
		pgtest.Unavailable(t, "python3-qgis is not installed: %v", err)
	}
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 1500, 150)
	ts.sync(t)
	clearance := zone.Restricted
	tok := ts.token(t, zone.RoleViewer, clearance)

	var ids []string
	for _, col := range ogcCollectionsForTest() {
		ids = append(ids, col)
	}
	dir := t.TempDir()
	runtime := filepath.Join(dir, "runtime")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "qgis_read.py"), ts.URL, tok, dir}, ids...)...)
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen", "XDG_RUNTIME_DIR="+runtime)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qgis_read.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Stored      bool `json:"authcfg_stored"`
		Collections map[string]struct {
			Valid    bool
			Error    string
			Geometry string
			Count    int
			Drawable int
		}
		TilesValid bool `json:"tiles_valid"`
		Render     map[string]struct {
			PNG    string
			Inked  int
			Errors []string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("qgis_read.py printed %q: %v\n%s", out, err, stderr.String())
	}
	if !res.Stored || !res.TilesValid {
		t.Fatalf("QGIS: authentication config stored %v, vector tile layer valid %v", res.Stored, res.TilesValid)
	}
	partsDrawn := map[string]int{}
	for _, l := range zone.Layers() {
		c := res.Collections[l.ID]
		want := len(expected(all, func(x *zone.Component) bool { return x.Layer == l.ID && clearance.Allows(x.Classification) }))
		if !c.Valid || c.Count != want {
			t.Errorf("QGIS %s: valid %v (%s), %d features, the token sees %d", l.ID, c.Valid, c.Error, c.Count, want)
		}
		if len(l.Geometries) == 1 && want > 0 && (c.Drawable != want || c.Geometry != string(l.Geometries[0])) {
			t.Errorf("QGIS %s: %d of %d features drawable as %s", l.ID, c.Drawable, want, c.Geometry)
		}
	}
	for _, p := range zone.LayerParts() {
		c := res.Collections[p.ID]
		want := len(expected(all, func(x *zone.Component) bool {
			return x.Layer == p.Layer.ID && p.Holds(x) && clearance.Allows(x.Classification)
		}))
		if want == 0 {
			t.Errorf("the test data has no %s feature the token sees: %s tests nothing", p.Class, p.ID)
		}
		if !c.Valid || c.Count != want || c.Drawable != want || c.Geometry != string(p.Class) {
			t.Errorf("QGIS %s: valid %v (%s), %d features, %d drawable as %s; the token sees %d %s features", p.ID, c.Valid, c.Error, c.Count, c.Drawable, c.Geometry, want, p.Class)
		}
		partsDrawn[p.Layer.ID] += c.Drawable
	}
	for layer, n := range partsDrawn {
		if c := res.Collections[layer]; n != c.Count || n == 0 {
			t.Errorf("QGIS draws %d features of %s through its parts, %d through the layer, which has %d", n, layer, c.Drawable, c.Count)
		}
	}
	for _, name := range []string{"features", "tiles"} {
		r := res.Render[name]
		if r.Inked == 0 || len(r.Errors) > 0 {
			t.Errorf("QGIS render of the %s (%s): %d inked pixels, errors %v", name, r.PNG, r.Inked, r.Errors)
		}
	}
}

// ogcCollectionsForTest is every collection id: the layers and the parts.
func ogcCollectionsForTest() []string {
	var out []string
	for _, l := range zone.Layers() {
		out = append(out, l.ID)
	}
	for _, p := range zone.LayerParts() {
		out = append(out, p.ID)
	}
	return out
}

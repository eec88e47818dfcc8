package formats_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/formats"
)

// A written shapefile reads back through Decode (our reader) with the
// same polygons, hole included, and the same attributes, Vietnamese text
// included; and GDAL reads it as WGS84 polygons.
func TestWriteShapefileZipRoundTrip(t *testing.T) {
	outer := orb.Ring{{106.70, 21.80}, {106.71, 21.80}, {106.71, 21.81}, {106.70, 21.81}, {106.70, 21.80}}
	hole := orb.Ring{{106.702, 21.802}, {106.702, 21.804}, {106.704, 21.804}, {106.704, 21.802}, {106.702, 21.802}}
	second := orb.Polygon{{{106.72, 21.80}, {106.73, 21.80}, {106.73, 21.81}, {106.72, 21.80}}}
	recs := []formats.ShapeRecord{
		{Geometry: orb.Polygon{outer, hole}, Values: []any{0, "Lô đất Đồng Đăng", "conflict"}},
		{Geometry: orb.MultiPolygon{second, {{{106.74, 21.80}, {106.75, 21.80}, {106.75, 21.81}, {106.74, 21.80}}}}, Values: []any{1, strings.Repeat("Ư", 40), "clear"}},
	}
	fields := []formats.ShapeField{{Name: "seq", Width: 10, Numeric: true}, {Name: "name", Width: 40}, {Name: "verdict", Width: 16}}
	var buf bytes.Buffer
	if err := formats.WriteShapefileZip(&buf, "plan", fields, recs); err != nil {
		t.Fatal(err)
	}
	res, err := formats.Decode("plan.zip", buf.Bytes(), formats.Options{})
	if err != nil {
		t.Fatalf("our reader refuses the written shapefile: %v", err)
	}
	fs := res.Features.Features
	if len(fs) != 2 {
		t.Fatalf("%d features read back", len(fs))
	}
	p, ok := fs[0].Geometry.(orb.Polygon)
	if !ok || len(p) != 2 || len(p[0]) != 5 || len(p[1]) != 5 {
		t.Fatalf("feature 0 read back as %#v", fs[0].Geometry)
	}
	if fs[0].Properties["name"] != "Lô đất Đồng Đăng" || fs[0].Properties["verdict"] != "conflict" {
		t.Fatalf("attributes %v", fs[0].Properties)
	}
	if mp, ok := fs[1].Geometry.(orb.MultiPolygon); !ok || len(mp) != 2 {
		t.Fatalf("feature 1 read back as %#v", fs[1].Geometry)
	}
	if n := fs[1].Properties["name"].(string); n != strings.Repeat("Ư", 20) {
		t.Fatalf("a long text is cut to %q, want whole characters within 40 bytes", n)
	}
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ogrinfo (gdal-bin) is missing")
		}
		t.Skip("ogrinfo (gdal-bin) is not installed")
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "plan.zip")
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", "/vsizip/"+zipPath).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, want := range []string{"Geometry: Polygon", "Feature Count: 2", "WGS 84", "name: String (40.0)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ogrinfo lacks %q:\n%s", want, out)
		}
	}
}

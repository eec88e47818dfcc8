package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestPlanCheckCommand(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return filepath.Join(dir, "z.db")
		}
		return ""
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	depot := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.5,21.5]},
	"properties":{"kind":"depot","name":"Kho K5","classification":"secret","zones":[
	{"kind":"restricted_area","geometry":{"type":"Polygon","coordinates":[[[106.499,21.499],[106.501,21.499],[106.501,21.501],[106.499,21.501],[106.499,21.499]]]}},
	{"kind":"safety_belt","width_m":500}]}}]}`
	if err := run(context.Background(), []string{"import", "--no-demo", "defence_works", write("depot.geojson", depot)}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(describe(err))
	}
	// The data is declared complete over the plan's area, as `check`
	// needs for a clear verdict (plan check follows the coverage too).
	area := write("area.geojson", `{"type":"Polygon","coordinates":[[[106.3,21.0],[107.1,21.0],[107.1,21.7],[106.3,21.7],[106.3,21.0]]]}`)
	for _, l := range zone.Layers() {
		if l.Group == "projects" {
			continue
		}
		if err := run(context.Background(), []string{"coverage", "set", "--layer", l.ID, "--area", "Lạng Sơn", "--as-of", "2026-12-01", area}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatal(describe(err))
		}
	}
	parcel := func(lon, lat float64, name string) string {
		return `{"type":"Feature","properties":{"TEN":"` + name + `","LOAI_DAT":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[` +
			ftoa(lon) + `,` + ftoa(lat) + `],[` + ftoa(lon+0.001) + `,` + ftoa(lat) + `],[` + ftoa(lon+0.001) + `,` + ftoa(lat+0.001) + `],[` +
			ftoa(lon) + `,` + ftoa(lat+0.001) + `],[` + ftoa(lon) + `,` + ftoa(lat) + `]]]}}`
	}
	fc := func(ps ...string) string {
		return `{"type":"FeatureCollection","features":[` + strings.Join(ps, ",") + `]}`
	}
	cases := []struct {
		name, file string
		code       int
		out        []string
	}{
		{"conflict", fc(parcel(106.4995, 21.4995, "Lô A"), parcel(106.9, 21.1, "Lô B"), parcel(106.503, 21.5, "Lô C")), 3,
			[]string{"CONFLICT 1", "REVIEW 1", "CLEAR 1", "Kho K5", "3 parcels"}},
		{"review", fc(parcel(106.503, 21.5, "Lô C"), parcel(106.9, 21.1, "Lô B")), 2, []string{"REVIEW", "depot-safety-belt"}},
		{"clear", fc(parcel(106.9, 21.1, "Lô B")), 0, []string{"CLEAR 1"}},
		{"incomplete", fc(parcel(105.8, 21.0, "Lô D")), 4, []string{"INCOMPLETE 1", "data-coverage"}},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"plan", "check", "--map", "name=TEN,land_use=LOAI_DAT", write(c.name+".geojson", c.file)}, env, nil, &out, &errb)
		if got := exitCode(err); got != c.code {
			t.Errorf("%s: exit %d, want %d (%v)\n%s\n%s", c.name, got, c.code, err, out.String(), errb.String())
		}
		for _, want := range c.out {
			if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, want, out.String())
			}
		}
		if strings.Contains(errb.String(), "\r") {
			t.Errorf("%s: a progress bar was drawn on a stderr that is not a terminal", c.name)
		}
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"plan", "check", "--map", "owner=TEN", write("x.geojson", fc(parcel(106.9, 21.1, "B")))}, env, nil, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(describe(err), "owner") {
		t.Fatalf("bad --map: exit %d %s", exitCode(err), describe(err))
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

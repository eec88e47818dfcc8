package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/rules"
)

// exitCode maps run's error to the process exit status main would use.
func exitCode(err error) int {
	var ex exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return ex.code
	}
	return 1
}

func TestCheckCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return filepath.Join(dir, "z.db")
		}
		return ""
	}
	depot := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.5,21.5]},
	"properties":{"kind":"depot","name":"Kho K5","classification":"secret","zones":[
	{"kind":"restricted_area","geometry":{"type":"Polygon","coordinates":[[[106.499,21.499],[106.501,21.499],[106.501,21.501],[106.499,21.501],[106.499,21.499]]]}},
	{"kind":"safety_belt","width_m":500}]}}]}`
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := run(context.Background(), []string{"import", "--no-demo", "defence_works", write("depot.geojson", depot)}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(describe(err))
	}
	// Coverage: every layer the rules test is declared complete over a
	// box around the cases; the store has no coverage elsewhere.
	box := write("box.geojson", `{"type":"Polygon","coordinates":[[[106.3,21.0],[107.0,21.0],[107.0,21.7],[106.3,21.7],[106.3,21.0]]]}`)
	for _, l := range rules.Default().Layers() {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"coverage", "set", "--no-demo", "--layer", l, "--area", "Lạng Sơn", "--as-of", "2026-12-01", box}, env, nil, &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("coverage set %s: %s", l, describe(err))
		}
	}
	cases := []struct {
		name, geojson string
		code          int
		out           string
	}{
		{"conflict", `{"type":"Polygon","coordinates":[[[106.4995,21.4995],[106.5005,21.4995],[106.5005,21.5005],[106.4995,21.5005],[106.4995,21.4995]]]}`, 3, "Kho K5"},
		{"review", `{"type":"Point","coordinates":[106.503,21.5]}`, 2, "depot-safety-belt"},
		{"review, and incomplete", `{"type":"LineString","coordinates":[[106.503,21.5],[107.1,21.5]]}`, 2, "no complete data of defence_works"},
		{"clear", `{"type":"Point","coordinates":[106.9,21.1]}`, 0, "VERDICT: CLEAR"},
		{"collection", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.9,21.1]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[106.503,21.5]},"properties":{}}]}`, 2, "#1"},
		{"invalid", `{"type":"Polygon","coordinates":[[[106,21],[106.1,21]]]}`, 1, ""},
		{"incomplete", `{"type":"Point","coordinates":[107.5,21.1]}`, 4, "VERDICT: INCOMPLETE"},
		{"incomplete straddling", `{"type":"LineString","coordinates":[[106.9,21.1],[107.1,21.1]]}`, 4, "no complete data of border_lines"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"check", write(c.name+".geojson", c.geojson)}, env, nil, &out, &errb)
		if got := exitCode(err); got != c.code {
			t.Errorf("%s: exit %d, want %d (%v)\n%s", c.name, got, c.code, err, out.String())
		}
		if !strings.Contains(out.String(), c.out) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, c.out, out.String())
		}
		if c.name == "invalid" && !strings.Contains(describe(err), "coordinates[0]") {
			t.Errorf("invalid footprint error does not say where: %s", describe(err))
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--json", write("c.geojson", cases[0].geojson)}, env, nil, &out, &bytes.Buffer{})
	var res struct {
		Verdict  string            `json:"verdict"`
		Findings []json.RawMessage `json:"findings"`
	}
	if exitCode(err) != 3 || json.Unmarshal(out.Bytes(), &res) != nil || res.Verdict != "conflict" || len(res.Findings) == 0 {
		t.Fatalf("--json: exit %d, %s", exitCode(err), out.String())
	}
}

func TestRulesCommand(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return filepath.Join(dir, "z.db")
		}
		return ""
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(data.DefaultRules()), "verdict: review", "verdict: maybe", 1)), 0o644)
	var errb bytes.Buffer
	err := run(context.Background(), []string{"rules", "load", "--no-demo", bad}, env, nil, &bytes.Buffer{}, &errb)
	if err == nil || !strings.Contains(describe(err), "verdict") || !strings.Contains(errb.String(), "unchanged") {
		t.Fatalf("bad rules: %v / %s", err, errb.String())
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(strings.Replace(string(data.DefaultRules()), `version: "`, `version: "cli-`, 1)), 0o644)
	if err := run(context.Background(), []string{"rules", "load", good}, env, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(describe(err))
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"rules", "show"}, env, nil, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), `version: "cli-`) {
		t.Fatalf("rules show after load: %v\n%.200s", err, out.String())
	}
}

// The coverage commands' round trip: set (new, then a replacement by
// --id), list (table and GeoJSON), delete; bad input is a line and a
// non-zero exit; each change is in the audit trail.
func TestCoverageCommand(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return filepath.Join(dir, "z.db")
		}
		return ""
	}
	cli := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, env, nil, &out, &errb)
		return out.String(), errb.String(), err
	}
	area := filepath.Join(dir, "cb.geojson")
	if err := os.WriteFile(area, []byte(`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[106.0,22.5],[106.3,22.5],[106.3,22.8],[106.0,22.8],[106.0,22.5]]]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli("coverage", "set", "--no-demo", "--layer", "combat_bases", "--area", "Cao Bằng", "--status", "loaded", "--as-of", "2026-11-30", "--classification", "restricted", area)
	if err != nil {
		t.Fatalf("set: %s", describe(err))
	}
	id := strings.TrimSpace(out)
	if _, _, err := cli("coverage", "set", "--no-demo", "--id", id, "--layer", "combat_bases", "--area", "Cao Bằng", "--status", "reviewed", "--as-of", "2026-12-05", area); err != nil {
		t.Fatalf("replace: %s", describe(err))
	}
	out, _, err = cli("coverage", "list", "--no-demo")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "reviewed") || !strings.Contains(out, "2026-12-05") || !strings.Contains(out, "Cao Bằng") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = cli("coverage", "list", "--no-demo", "--json")
	var fc struct {
		Features []struct {
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err != nil || json.Unmarshal([]byte(out), &fc) != nil || len(fc.Features) != 1 || fc.Features[0].ID != id ||
		fc.Features[0].Properties["version"] != float64(2) || fc.Features[0].Properties["classification"] != "public" {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{"coverage", "set", "--no-demo", "--layer", "nope", "--area", "x", area},
		{"coverage", "set", "--no-demo", "--layer", "combat_bases", "--area", "x", "--as-of", "yesterday", area},
		{"coverage", "delete", "--no-demo", "not-an-id"},
		{"coverage", "frobnicate"},
	} {
		if _, _, err := cli(bad...); exitCode(err) == 0 {
			t.Errorf("%v: accepted", bad)
		}
	}
	if _, _, err := cli("coverage", "delete", "--no-demo", id); err != nil {
		t.Fatalf("delete: %s", describe(err))
	}
	if out, _, _ := cli("coverage", "list", "--no-demo"); strings.Contains(out, id) {
		t.Errorf("deleted coverage still listed:\n%s", out)
	}
	if _, _, err := cli("coverage", "delete", "--no-demo", id); exitCode(err) == 0 {
		t.Error("a second delete succeeded")
	}
	out, _, err = cli("audit", "export", "--no-demo")
	if err != nil || strings.Count(out, `"coverage.set"`) != 2 || strings.Count(out, `"coverage.deleted"`) != 1 {
		t.Errorf("audit trail: %v\n%s", err, out)
	}
}

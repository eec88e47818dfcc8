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
	cases := []struct {
		name, geojson string
		code          int
		out           string
	}{
		{"conflict", `{"type":"Polygon","coordinates":[[[106.4995,21.4995],[106.5005,21.4995],[106.5005,21.5005],[106.4995,21.5005],[106.4995,21.4995]]]}`, 3, "Kho K5"},
		{"review", `{"type":"Point","coordinates":[106.503,21.5]}`, 2, "depot-safety-belt"},
		{"clear", `{"type":"Point","coordinates":[106.9,21.1]}`, 0, "VERDICT: CLEAR"},
		{"collection", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.9,21.1]},"properties":{}},{"type":"Feature","geometry":{"type":"Point","coordinates":[106.503,21.5]},"properties":{}}]}`, 2, "#1"},
		{"invalid", `{"type":"Polygon","coordinates":[[[106,21],[106.1,21]]]}`, 1, ""},
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

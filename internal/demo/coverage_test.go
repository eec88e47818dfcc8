package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCoverageReproducesCommittedFile: data/coverage.geojson is what
// Coverage makes (go test -run TestCoverageReproduces -update rewrites it).
func TestCoverageReproducesCommittedFile(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCoverage(&buf, Coverage()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(demoDir, "..", "coverage.geojson")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/demo -run TestCoverageReproduces -update)", err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("%s differs from what Coverage makes (run with -update if the change is intended)", path)
	}
	for _, c := range Coverage() {
		if probs := c.Validate(); len(probs) > 0 {
			t.Errorf("%s %s: %+v", c.Layer, c.Area, probs)
		}
	}
}

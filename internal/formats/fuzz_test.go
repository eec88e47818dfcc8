package formats

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// FuzzDecode: no upload makes Decode panic, and every failure is a
// CodeInvalid error, or CodeLimit for content a limit refuses (a shape
// claiming more points than a feature may have), never an internal one.
// Seeds are the fixtures; run longer with go test ./internal/formats -fuzz
// FuzzDecode -fuzztime 60s.
func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.Name(), b)
	}
	tm3 := crs.Must("EPSG:9215")
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		res, err := Decode(name, data, Options{CRS: tm3})
		if err != nil {
			if c := zone.ErrorCode(err); c != zone.CodeInvalid && c != zone.CodeLimit {
				t.Fatalf("%s: error code %s: %v", name, zone.ErrorCode(err), err)
			}
			return
		}
		if res.Features == nil || len(res.Features.Features) == 0 || res.CRS == nil {
			t.Fatalf("%s: success without features or CRS", name)
		}
		for i, ft := range res.Features.Features {
			if probs := zone.ValidateGeometry(ft.Geometry); len(probs) > 0 {
				t.Fatalf("%s: feature %d invalid after decoding: %+v", name, i, probs)
			}
		}
	})
}

package geojsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func TestWriterProducesValidCollection(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var buf bytes.Buffer
		fw := NewWriter(&buf)
		for i := 0; i < n; i++ {
			f := geojson.NewFeature(orb.Point{105.5 + float64(i), 21})
			f.Properties = geojson.Properties{"name": "Đồn Biên phòng số " + string(rune('1'+i))}
			if err := fw.Write(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := fw.Close(map[string]any{"numberReturned": n, "links": []string{}}); err != nil {
			t.Fatal(err)
		}
		fc, err := geojson.UnmarshalFeatureCollection(buf.Bytes())
		if err != nil {
			t.Fatalf("n=%d: output is not a FeatureCollection: %v\n%s", n, err, buf.String())
		}
		if len(fc.Features) != n || fw.Count() != n {
			t.Fatalf("n=%d: got %d features, Count %d", n, len(fc.Features), fw.Count())
		}
		if n > 0 && fc.Features[0].Properties.MustString("name") != "Đồn Biên phòng số 1" {
			t.Fatalf("name did not round-trip: %q", fc.Features[0].Properties.MustString("name"))
		}
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["numberReturned"].(float64) != float64(n) {
			t.Fatalf("members not written: %v", m)
		}
	}
}

func TestLinksAreNotHTMLEscaped(t *testing.T) {
	var buf bytes.Buffer
	fw := NewWriter(&buf)
	if err := fw.Close(map[string]any{"links": []map[string]string{{"href": "/items?limit=10&offset=10"}}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("limit=10&offset=10")) {
		t.Fatalf("link escaped: %s", buf.String())
	}
}

// TestWriterStopsWhenTheReaderHasGone: once the context ends, writes fail
// with its error within 64 features and nothing more is written; Close
// does not end the collection either.
func TestWriterStopsWhenTheReaderHasGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	fw := NewWriterContext(ctx, &buf)
	f := geojson.NewFeature(orb.Point{105.5, 21})
	for i := 0; i < 10; i++ {
		if err := fw.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	var err error
	written := 10
	for ; written < 200 && err == nil; written++ {
		err = fw.Write(f)
	}
	if !errors.Is(err, context.Canceled) || written > 10+64 {
		t.Fatalf("after the reader left: %v after %d features", err, written)
	}
	if err := fw.Close(nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close after the reader left: %v", err)
	}
	if fw.Count() > 64 || strings.Contains(buf.String(), "]") {
		t.Fatalf("%d features written, and the collection ended, for a reader that left", fw.Count())
	}
}

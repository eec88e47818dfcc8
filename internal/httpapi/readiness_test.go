package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestHealthAndReadinessSayOnlyStatus: /healthz and /readyz tell an
// anonymous caller a status (and, when degraded, a fixed reason) and
// nothing else: no counts, no versions. Their bodies are the same before
// and after a secret work is added; an unreachable store is "degraded"
// with 200, so that reads keep coming.
func TestHealthAndReadinessSayOnlyStatus(t *testing.T) {
	ts := newTestServer(t, false)
	fields := func(path string) (int, map[string]string, []byte) {
		t.Helper()
		status, _, body := get(t, ts.URL+path, "")
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %d %s: %v", path, status, body, err)
		}
		return status, m, body
	}
	_, health, healthBody := fields("/healthz")
	_, ready, readyBody := fields("/readyz")
	if len(health) != 1 || health["status"] != "ok" {
		t.Errorf("/healthz says %v, want only status ok", health)
	}
	if len(ready) != 1 || ready["status"] != "ready" {
		t.Errorf("/readyz says %v, want only status ready", ready)
	}
	if _, err := ts.Store.CreateComponent(context.Background(), &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot,
		Name: "Kho K9", Classification: zone.Secret, Geometry: orb.Point{103.1, 21.4}}, "test"); err != nil {
		t.Fatal(err)
	}
	ts.sync(t)
	if _, _, b := fields("/healthz"); !bytes.Equal(b, healthBody) {
		t.Errorf("/healthz changed with a secret work: %s, was %s", b, healthBody)
	}
	if _, _, b := fields("/readyz"); !bytes.Equal(b, readyBody) {
		t.Errorf("/readyz changed with a secret work: %s, was %s", b, readyBody)
	}

	ts.Store.Close() // unreachable from now on
	status, degraded, _ := fields("/readyz")
	if status != http.StatusOK || len(degraded) != 2 || degraded["status"] != "degraded" || degraded["reason"] != "database unreachable" {
		t.Errorf("/readyz with the store unreachable: %d %v, want 200 degraded with the reason alone", status, degraded)
	}
}

package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Both API definitions the server serves are valid OpenAPI 3.0, as a
// maintained validator (kin-openapi) reads them: /api/openapi.json, from
// openapi.yaml, and /ogc/api, generated from the layer registry. Clients
// generate code and forms from them; an invalid one fails there.
func TestOpenAPIDocumentsAreValid(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleViewer, zone.Public)
	for _, path := range []string{"/api/openapi.json", "/ogc/api"} {
		status, _, body := get(t, ts.URL+path, tok)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(body)
		if err != nil {
			t.Fatalf("%s does not load as OpenAPI: %v", path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s is not valid OpenAPI 3.0: %v", path, err)
		}
		if len(doc.Paths.Map()) < 5 {
			t.Errorf("%s has %d paths", path, len(doc.Paths.Map()))
		}
	}
}

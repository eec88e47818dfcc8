package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, as cheap as a writer can be, so the benchmark below measures the
// server's own work.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkCachedTile is the warm path of a tile request through the whole
// handler (router, request log at info level, bearer token, clearance,
// tile cache, headers) without the network: what `serve` spends on a
// cached tile besides the kernel's work. The server in production adds
// about as much again in net/http and system calls.
func BenchmarkCachedTile(b *testing.B) {
	st, err := embedded.Open(filepath.Join(b.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	all := seedScale(b, st, 3000, 0)
	ix := index.New()
	if err := ix.Load(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix,
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: &auth.Authenticator{Tokens: st, CacheTTL: time.Minute}})
	tok, _, err := auth.Issue(context.Background(), st, "bench", zone.RoleViewer, zone.Secret, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	// The zoom-10 tile of some defence work.
	var x, y int
	for _, c := range all {
		if c.Layer == zone.LayerDefenceWorks {
			p := c.Geometry.Bound().Center()
			x, y = tileOf(10, p[0], p[1])
			break
		}
	}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("/tiles/all/10/%d/%d.mvt", x, y), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept-Encoding", "gzip")
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK || w.n == 0 {
		b.Fatalf("warm-up: status %d, %d bytes", w.status, w.n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// Package web serves the zoneplan map page: index.html, its scripts and
// styles, and the vendored Leaflet libraries, all embedded in the binary so
// that the page works with no internet and no files beside the binary.
//
// The vendored libraries under static/vendor are copied from npm by
// vendor.sh (package.json and package-lock.json pin them) and committed, so
// `go build` alone is enough.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// static holds the page. It is read-only: embed.FS cannot be changed.
//
//go:embed static
var static embed.FS

// Assets returns the page's files, rooted at the directory holding
// index.html.
func Assets() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}

// contentType fixes the type of every kind of file the page ships, so that
// the answer does not depend on the host's /etc/mime.types.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// asset is one file ready to serve.
type asset struct {
	body        []byte
	gzipped     func() []byte // body gzipped (computed on the first call), or nil when that does not pay
	contentType string
	etag        string
	cache       string
}

// Caching: files under vendor/ sit in directories named after the package
// version, so a URL never changes content and may be cached for a year. The
// page's own files are revalidated on every load (by ETag), so a new binary
// takes effect at once.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// Handler serves the page at the root of whatever path it is mounted on:
// "/" (and "/index.html") is the page, other paths are its files, anything
// else is a plain 404. It answers GET and HEAD (anything else is 405), with
// fixed content types, strong ETags and If-None-Match, gzip for text when
// the client accepts it, and on the page a Content-Security-Policy that lets
// only this server's scripts run.
func Handler() http.Handler {
	assets := loadAssets(Assets())
	csp := contentSecurityPolicy(assets["index.html"].body)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", a.cache)
		h.Set("X-Content-Type-Options", "nosniff")
		if name == "index.html" {
			h.Set("Content-Security-Policy", csp)
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
		}
		body, etag := a.body, a.etag
		if compressible(a.contentType, a.body) {
			h.Add("Vary", "Accept-Encoding")
			if gz := a.gzipped(); gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
				// The compressed bytes are another representation: another ETag.
				body, etag = gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match from the ETag set above, and
		// Range requests; a zero modtime leaves Last-Modified out.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}

// contentSecurityPolicy is the page's policy: scripts, styles, fonts and
// requests from this server only (the inline import map by its hash),
// images also from data:, blob: and any host, because the raster base map's
// host is the server's configuration, not the page's.
func contentSecurityPolicy(index []byte) string {
	scripts := "'self'"
	if m := importMap(index); m != nil {
		sum := sha256.Sum256(m)
		scripts += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return fmt.Sprintf("default-src 'self'; script-src %s; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob: http: https:; connect-src 'self'; font-src 'self'; "+
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'", scripts)
}

// importMap returns the text of index.html's inline import map, exactly as
// the browser hashes it, or nil.
func importMap(index []byte) []byte {
	const open, end = `<script type="importmap">`, `</script>`
	i := bytes.Index(index, []byte(open))
	if i < 0 {
		return nil
	}
	rest := index[i+len(open):]
	j := bytes.Index(rest, []byte(end))
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// loadAssets reads every embedded file once, with its type, ETag and cache
// policy.
func loadAssets(fsys fs.FS) map[string]asset {
	assets := make(map[string]asset)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := contentType(path.Ext(p))
		cache := cacheRevalidate
		if strings.HasPrefix(p, "vendor/") {
			cache = cacheImmutable
		}
		assets[p] = asset{body: body, gzipped: sync.OnceValue(func() []byte { return gzipBytes(body) }), contentType: ct,
			etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: cache}
		return nil
	})
	if err != nil {
		// The files are compiled into the binary: failing to read them is a
		// broken build, not a runtime condition.
		panic(err)
	}
	return assets
}

// compressible reports whether a file is text worth gzipping.
func compressible(contentType string, body []byte) bool {
	return len(body) >= 1024 && (strings.HasPrefix(contentType, "text/") ||
		strings.HasPrefix(contentType, "application/json") || strings.HasPrefix(contentType, "image/svg"))
}

// gzipBytes returns body gzipped, or nil when that is not at least a tenth
// smaller. Each file is compressed once, on its first request, so start-up
// does not wait for it (the whole page takes about 140 ms).
func gzipBytes(body []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() > len(body)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip: gzip
// listed with a q above 0, or else "*" with a q above 0.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		zero := false
		if _, q, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q="); ok {
			zero = strings.Trim(q, "0.") == ""
		}
		switch coding {
		case "gzip":
			return !zero
		case "*":
			star = !zero
		}
	}
	return star
}

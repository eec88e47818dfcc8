package web_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/web"
)

// The page must work with no internet: everything it loads is in the
// embedded files, and nothing in them points the browser at another host.

var (
	// attrRef finds src= and href= values in HTML.
	attrRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']([^"']+)["']`)
	// importMapRe finds the import map of index.html.
	importMapRe = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)
	// moduleImport finds static ES module imports: import ... from 'x'; import 'x'.
	moduleImport = regexp.MustCompile(`(?m)^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]`)
	// cssURL finds url(...) references in CSS.
	cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")]+)['"]?\s*\)`)
	// outsideURL finds absolute http(s) URLs.
	outsideURL = regexp.MustCompile(`https?://[A-Za-z0-9.-]+`)
)

// namespaceHosts may appear in any file: XML namespaces are names, never
// fetched.
func namespaceHosts() []string { return []string{"http://www.w3.org"} }

// vendorDocHosts may appear in the vendored libraries only: links in their
// licence comments, error messages and embedded package metadata. None is
// requested by the page; TestNoOutsideRequests checks that no reference
// the browser follows (src, href, url(), import) names any host.
func vendorDocHosts() []string {
	return []string{
		"https://leafletjs.com",                                     // Leaflet's attribution prefix link (the page replaces the prefix)
		"https://bugs.chromium.org", "https://bugzilla.mozilla.org", // comments in leaflet.css
		"http://geoman.io", "https://geoman.io", "https://github.com", // package.json fields bundled into leaflet-geoman
		"http://www.bohemiancoding.com", "https://sketch.com", // metadata of SVG icons inlined in leaflet-geoman.css
	}
}

func readAsset(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(web.Assets(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// TestIndexReferencesExist checks that every file index.html loads, every
// module its scripts import (through the import map for bare names) and
// every url() of the style sheets is in the embedded files.
func TestIndexReferencesExist(t *testing.T) {
	assets := web.Assets()
	index := readAsset(t, "index.html")

	exists := func(from, ref string) {
		t.Helper()
		// Fragments (also URL-encoded, inside inline SVG data URIs) name
		// parts of the same document.
		if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "%23") || strings.HasPrefix(ref, "data:") {
			return
		}
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") || strings.HasPrefix(ref, "/") {
			t.Errorf("%s references %q: only paths relative to the page are allowed", from, ref)
			return
		}
		p := path.Clean(path.Join(path.Dir(from), strings.SplitN(ref, "?", 2)[0]))
		if _, err := fs.Stat(assets, p); err != nil {
			t.Errorf("%s references %q, which is not embedded (%s)", from, ref, p)
		}
	}

	refs := attrRef.FindAllStringSubmatch(index, -1)
	if len(refs) < 5 {
		t.Fatalf("index.html references only %d files; the pattern is broken", len(refs))
	}
	var scripts, styles []string
	for _, m := range refs {
		exists("index.html", m[1])
		switch {
		case strings.HasSuffix(m[1], ".js"):
			scripts = append(scripts, m[1])
		case strings.HasSuffix(m[1], ".css"):
			styles = append(styles, m[1])
		}
	}

	mm := importMapRe.FindStringSubmatch(index)
	if mm == nil {
		t.Fatal("index.html has no import map")
	}
	var importMap struct {
		Imports map[string]string `json:"imports"`
	}
	if err := json.Unmarshal([]byte(mm[1]), &importMap); err != nil {
		t.Fatalf("import map: %v", err)
	}
	for name, ref := range importMap.Imports {
		exists("index.html", strings.TrimPrefix(ref, "./"))
		scripts = append(scripts, strings.TrimPrefix(ref, "./"))
		_ = name
	}

	// Follow the module graph from the page's scripts.
	seen := map[string]bool{}
	queue := append([]string(nil), scripts...)
	for len(queue) > 0 {
		file := path.Clean(queue[0])
		queue = queue[1:]
		if seen[file] {
			continue
		}
		seen[file] = true
		src, err := fs.ReadFile(assets, file)
		if err != nil {
			continue // reported above
		}
		if strings.HasPrefix(file, "vendor/") && !strings.HasPrefix(string(src), "import") && !moduleImport.Match(src) {
			continue // a classic script
		}
		for _, m := range moduleImport.FindAllStringSubmatch(string(src), -1) {
			ref := m[1]
			if !strings.HasPrefix(ref, ".") {
				mapped, ok := importMap.Imports[ref]
				if !ok {
					t.Errorf("%s imports %q, which the import map does not name", file, ref)
					continue
				}
				queue = append(queue, strings.TrimPrefix(mapped, "./"))
				continue
			}
			exists(file, ref)
			queue = append(queue, path.Join(path.Dir(file), ref))
		}
	}
	for _, want := range []string{"js/main.js", "js/api.js", "js/tiles.js", "js/check.js", "js/appraisals.js", "vendor/pbf@5.1.2/index.js"} {
		if !seen[want] {
			t.Errorf("the module graph from index.html does not reach %s", want)
		}
	}

	for _, css := range styles {
		for _, m := range cssURL.FindAllStringSubmatch(readAsset(t, css), -1) {
			exists(css, m[1])
		}
	}
}

// TestNoOutsideRequests checks that no embedded file names another host,
// except XML namespaces anywhere and documentation links inside the vendored
// libraries. The page's own files name none: the base map URL comes from
// the server's configuration at run time.
func TestNoOutsideRequests(t *testing.T) {
	err := fs.WalkDir(web.Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(p) {
		case ".png":
			return nil
		}
		body := readAsset(t, p)
		allowed := namespaceHosts()
		if strings.HasPrefix(p, "vendor/") {
			allowed = append(allowed, vendorDocHosts()...)
		}
		// Swagger UI (the API definition page, not the map) names hosts by
		// the dozen in its bundle: RFC and JSON Schema identifiers, links
		// in messages, its validator. What keeps it from loading any is
		// the page: validatorUrl null and a Content-Security-Policy of
		// default-src 'self' (TestOGCAPIDefinitionPage fails on any console
		// error, a refused load included).
		if strings.HasPrefix(p, "vendor/swagger-ui-dist@") {
			allowed = append(allowed, "http://", "https://")
		}
		for _, u := range outsideURL.FindAllString(body, -1) {
			if !hasAnyPrefix(u, allowed) {
				t.Errorf("%s names the outside host %s", p, u)
			}
		}
		// Whatever the allowed list says, nothing the browser loads by
		// itself may point outside: src and href of HTML (in scripts, an
		// href is link text such as Leaflet's attribution), CSS url() and
		// module imports.
		loads := []*regexp.Regexp{cssURL, moduleImport}
		if path.Ext(p) == ".html" || path.Ext(p) == ".svg" {
			loads = append(loads, attrRef)
		}
		for _, re := range loads {
			for _, m := range re.FindAllStringSubmatch(body, -1) {
				if outsideURL.MatchString(m[1]) && !hasAnyPrefix(m[1], namespaceHosts()) {
					t.Errorf("%s loads %s from another host", p, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVendoredLicences checks that each vendored package keeps its licence
// and that THIRD_PARTY.md names it.
func TestVendoredLicences(t *testing.T) {
	entries, err := fs.ReadDir(web.Assets(), "vendor")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("nothing is vendored")
	}
	notice, err := readThirdParty()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := fs.Stat(web.Assets(), path.Join("vendor", e.Name(), "LICENSE.txt")); err != nil {
			t.Errorf("vendor/%s has no LICENSE.txt", e.Name())
		}
		if !strings.Contains(notice, "`"+e.Name()+"`") {
			t.Errorf("THIRD_PARTY.md does not name the vendored directory %s", e.Name())
		}
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()

	get := func(p string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	cases := []struct {
		path, status, contentType, cache string
	}{
		{"/", "200 OK", "text/html; charset=utf-8", "no-cache"},
		{"/index.html", "200 OK", "text/html; charset=utf-8", "no-cache"},
		{"/js/main.js", "200 OK", "text/javascript; charset=utf-8", "no-cache"},
		{"/app.css", "200 OK", "text/css; charset=utf-8", "no-cache"},
		{"/favicon.svg", "200 OK", "image/svg+xml", "no-cache"},
		{"/vendor/leaflet@1.9.4/dist/leaflet.js", "200 OK", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/vendor/leaflet@1.9.4/dist/images/marker-icon.png", "200 OK", "image/png", "public, max-age=31536000, immutable"},
		{"/vendor/../index.html", "200 OK", "text/html; charset=utf-8", "no-cache"},
		{"/nope.js", "404 Not Found", "", ""},
	}
	for _, c := range cases {
		res := get(c.path, nil)
		if res.Status != c.status {
			t.Errorf("GET %s: %s, want %s", c.path, res.Status, c.status)
			continue
		}
		if c.contentType != "" && res.Header.Get("Content-Type") != c.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, res.Header.Get("Content-Type"), c.contentType)
		}
		if c.cache != "" && res.Header.Get("Cache-Control") != c.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", c.path, res.Header.Get("Cache-Control"), c.cache)
		}
		if res.StatusCode == http.StatusOK && res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", c.path)
		}
	}

	// The page's policy lets only this server's scripts run, and the inline
	// import map by its hash (the browser test shows the page runs under it).
	csp := get("/", nil).Header.Get("Content-Security-Policy")
	if m := importMapRe.FindStringSubmatch(readAsset(t, "index.html")); m == nil {
		t.Error("index.html has no import map")
	} else {
		sum := sha256.Sum256([]byte(m[1]))
		if want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"; !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{"default-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}

	// The index is the file index.html, byte for byte.
	res := get("/", nil)
	body, _ := io.ReadAll(res.Body)
	if string(body) != readAsset(t, "index.html") {
		t.Error("GET / is not index.html")
	}

	// A second load revalidates with the ETag and gets 304 without a body.
	etag := res.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{24}(-gz)?"$`).MatchString(etag) {
		t.Fatalf("ETag %q is not a strong hash tag", etag)
	}
	res = get("/", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match: %s, want 304", res.Status)
	}
	if other := get("/app.css", nil).Header.Get("ETag"); other == etag {
		t.Errorf("two different files share the ETag %s", etag)
	}

	// Text goes out gzipped to a browser that asks, with its own ETag.
	res = get("/vendor/leaflet@1.9.4/dist/leaflet.js", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("leaflet.js to a gzip client: Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	} else {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if string(plain) != readAsset(t, "vendor/leaflet@1.9.4/dist/leaflet.js") {
			t.Error("gzipped leaflet.js does not decompress to the file")
		}
		if res.ContentLength >= int64(len(plain)) {
			t.Errorf("gzipped length %d is not below the plain %d", res.ContentLength, len(plain))
		}
		plainTag := get("/vendor/leaflet@1.9.4/dist/leaflet.js", map[string]string{"Accept-Encoding": "identity"}).Header.Get("ETag")
		if plainTag == res.Header.Get("ETag") {
			t.Errorf("gzipped and plain leaflet.js share the ETag %s", plainTag)
		}
	}
	for _, ae := range []string{"identity", "gzip;q=0", "gzip;q=0.0, *"} {
		if enc := get("/app.css", map[string]string{"Accept-Encoding": ae}).Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("Accept-Encoding %q got Content-Encoding %q", ae, enc)
		}
	}
	if enc := get("/app.css", map[string]string{"Accept-Encoding": "br;q=1, *;q=0.5"}).Header.Get("Content-Encoding"); enc != "gzip" {
		t.Errorf("Accept-Encoding with * got Content-Encoding %q, want gzip", enc)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("x"))
	post, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed || post.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %s, Allow %q; want 405 and Allow: GET, HEAD", post.Status, post.Header.Get("Allow"))
	}

	head, err := http.Head(srv.URL + "/app.css")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength <= 0 {
		t.Errorf("HEAD /app.css: %s, length %d", head.Status, head.ContentLength)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func readThirdParty() (string, error) {
	b, err := os.ReadFile("THIRD_PARTY.md")
	return string(b), err
}

// BenchmarkHandlerStart measures building the handler: reading and hashing
// every embedded file (gzip happens on first request).
func BenchmarkHandlerStart(b *testing.B) {
	for b.Loop() {
		web.Handler()
	}
}

// BenchmarkServePage measures serving the page and everything it loads
// (gzipped, as a browser asks), per page load.
func BenchmarkServePage(b *testing.B) {
	h := web.Handler()
	var files []string
	_ = fs.WalkDir(web.Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".txt") {
			files = append(files, "/"+p)
		}
		return err
	})
	var bytes int64
	for b.Loop() {
		bytes = 0
		for _, f := range files {
			req := httptest.NewRequest(http.MethodGet, f, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			bytes += int64(rec.Body.Len())
		}
	}
	b.ReportMetric(float64(bytes), "bytes/page")
	b.ReportMetric(float64(len(files)), "files/page")
}

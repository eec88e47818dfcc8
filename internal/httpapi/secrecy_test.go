package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestSecrecyDifferential is the property of issue 11 over every endpoint:
// for a caller below a hidden work's classification, every response
// (status, headers, body) is the same whether the work is where it is
// (world a), moved elsewhere within its consultation cells (world b), or
// absent with other works of the same cells in its place (world c).
//
// Part 1: the same scripted sequence of requests (checks of points, lines,
// polygons, FeatureCollections and uploaded files on, near and far from
// every world's works; appraisals created, read, listed, reported,
// rechecked, decided; layers, counts, search; OGC landing, collections,
// extents, items with bbox, paging, filters, sorting, datetime, single
// items by a hidden and a random id; queryables; edits; tiles at every
// zoom and TileJSON; /api/me, /readyz, /healthz; errors of every kind)
// runs against the three worlds as each uncleared caller, on both stores.
// The responses are compared after normalising only what is legitimately
// random: request ids; ids the server generated for what the script
// created (the id generator is also seeded alike for each world's run);
// the times of what the script created and of the response itself;
// took_ms (the check's own timing, whose independence of hidden works
// TestSecrecyTiming shows); and tile ETags, which hash the update times of
// the script's own project sites for the reviewers, numbered by first
// appearance. Anything else that differs is a leak.
//
// Part 2: in world a, the hidden works are edited through the store (moved
// within their cells, replaced by works of the same cells, and an internal
// work moved for the public callers), and every read is byte for byte the
// same before and after each edit, ETags included.
//
// A secret caller runs the same script and must see the worlds differ, and
// every edit, or the test could not tell them apart.
func TestSecrecyDifferential(t *testing.T) {
	e := defaultEngine()
	hs := worldsOf(t, e)
	callers := []caller{
		{name: "appraiser-public", role: zone.RoleAppraiser, clearance: zone.Public},
		{name: "viewer-internal", role: zone.RoleViewer, clearance: zone.Internal},
		{name: "viewer-restricted", role: zone.RoleViewer, clearance: zone.Restricted},
		{name: "reviewer-internal", role: zone.RoleReviewer, clearance: zone.Internal},
		{name: "reviewer-restricted", role: zone.RoleReviewer, clearance: zone.Restricted},
		{name: "editor-internal", role: zone.RoleEditor, clearance: zone.Internal},
		{name: "editor-restricted", role: zone.RoleEditor, clearance: zone.Restricted},
		{name: "anonymous"},
		{name: "appraiser-secret", role: zone.RoleAppraiser, clearance: zone.Secret}, // the control, last
	}
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			b, ws := openWorlds(t, k, callers, [][]*zone.Component{hs[0][:], hs[1][:], hs[2][:]}, httpapi.Config{}, nil)
			in := newScriptInput(b, hs)
			secrets := secretStrings(hs[0], hs[1], hs[2])
			// From here on every time is the script's own, at a whole
			// second after the last hidden work was written (some times
			// are shown to the second).
			since := nextSecond()

			// Part 1: the three worlds, every caller, the whole script.
			// What the script creates gets the same ids in every world: the
			// id generator is seeded alike before each world's run (ids are
			// also numbered by order of appearance below, which alone
			// would leave lists sorted by id in a random order).
			t.Cleanup(func() { uuid.SetRand(nil) })
			for ci, who := range b.callers {
				if raceEnabled && !raceCallers[who.name] {
					continue // fewer callers under the race detector
				}
				var runs [3]*client
				for i, w := range ws {
					uuid.SetRand(rand.NewChaCha8([32]byte{byte(ci), 'z', 'p'}))
					runs[i] = &client{t: t, url: w.url, token: who.token}
					runScript(runs[i], in)
				}
				uuid.SetRand(nil)
				// Each run is normalised on its own, in order, so that
				// generated ids are numbered by their first appearance in
				// it. Tile ETags hash the update times of what the caller
				// sees, the script's own project sites included: across
				// worlds they are numbered by first appearance too (their
				// values are compared exactly in part 2).
				var canon [3][]string
				for i, r := range runs {
					n := newNormaliser(in.keep, since)
					n.tileETags = map[string]string{}
					canon[i] = n.run(r)
				}
				if who.clearance == zone.Secret {
					for i := 1; i < 3; i++ {
						if n := countDiffs(canon[0], canon[i]); n == 0 {
							t.Errorf("%s: the secret caller sees no difference between worlds a and %c: the test cannot tell the worlds apart", who.name, 'a'+i)
						} else {
							t.Logf("%s: %d of %d responses differ between worlds a and %c (as they should)", who.name, n, len(runs[0].log), 'a'+i)
						}
					}
					continue
				}
				for i := 1; i < 3; i++ {
					compareRuns(t, who.name, runs[0], canon[0], canon[i], 'a'+rune(i))
				}
				for _, r := range runs {
					r.checkPairs(t, who.name, newNormaliser(in.keep, since))
					r.scanForSecrets(t, who.name, secrets)
				}
				t.Logf("%s: %d responses compared in the three worlds", who.name, len(runs[0].log))
			}

			// Part 2: in world a, the hidden works are moved within their
			// cells, then replaced by world c's, through the store as an
			// editor would; every read of every caller is the same before
			// and after, ETags included.
			hiddenEditsMoveNothing(t, ws[0], hs, b.callers, in, since)
		})
	}
}

// nextSecond waits for the next whole second of the clock and returns it.
func nextSecond() time.Time {
	next := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(next))
	return next
}

// temporalCallers are the callers part 2 reads as: one of each scope
// (clearance, and whether unpublished sites are seen) and the control.
var temporalCallers = map[string]bool{"appraiser-public": true, "editor-internal": true, "reviewer-internal": true,
	"viewer-restricted": true, "reviewer-restricted": true, "appraiser-secret": true}

// raceCallers are the only callers of both parts under the race detector,
// which multiplies the tests' cost: a public, an internal and a restricted
// scope, one of them seeing unpublished sites, and the control.
var raceCallers = map[string]bool{"appraiser-public": true, "reviewer-internal": true, "editor-restricted": true, "appraiser-secret": true}

// hiddenEditsMoveNothing reads everything as every caller, then edits
// hidden works through the store as an editor would, reading again after
// each edit: world a's secret works moved to world b's places, then
// replaced by world c's, then an internal work moved within its cells.
// Each caller below the edited works' classification must read exactly
// what it read before the edit; one at or above it must see a change.
func hiddenEditsMoveNothing(t *testing.T, w *world, hs [3]hiddenWorks, callers []caller, in *scriptInput, since time.Time) {
	t.Helper()
	reading := func(who caller) bool {
		return temporalCallers[who.name] && (!raceEnabled || raceCallers[who.name])
	}
	var steps [][]string // each caller's reads, by step name
	read := func() [][]string {
		out := make([][]string, len(callers))
		steps = make([][]string, len(callers))
		for i, who := range callers {
			if reading(who) {
				c := &client{t: t, url: w.url, token: who.token}
				reads(c, in)
				out[i] = newNormaliser(in.keep, since).run(c)
				for _, ex := range c.log {
					steps[i] = append(steps[i], ex.method+" "+ex.target)
				}
			}
		}
		return out
	}
	ctx := t.Context()
	sync := func() {
		v, err := w.store.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := w.index.WaitFor(wctx, v); err != nil {
			t.Fatal(err)
		}
	}
	var internal *zone.Component
	for _, c := range in.base.components {
		if c.Classification == zone.Internal && c.Layer == zone.LayerDefenceWorks {
			internal = c
		}
	}
	movedInternal, _ := farthestMove(t, defaultEngine(), internal, 2500)
	edits := []struct {
		what   string
		hidden zone.Classification // the edited works' classification
		apply  func()
	}{
		{"the secret works are moved within their cells", zone.Secret, func() {
			for _, h := range hs[1] {
				if _, err := w.store.UpdateComponent(ctx, h.Clone(), 0, zone.Secret, "hidden"); err != nil {
					t.Fatalf("move %s: %v", h.Name, err)
				}
			}
		}},
		{"the secret works are replaced by others of the same cells", zone.Secret, func() {
			for i, h := range hs[1] {
				if err := w.store.DeleteComponent(ctx, h.ID, 0, zone.Secret, "hidden"); err != nil {
					t.Fatal(err)
				}
				if _, err := w.store.CreateComponent(ctx, hs[2][i].Clone(), "hidden"); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"an internal work is moved within its cells", zone.Internal, func() {
			if _, err := w.store.UpdateComponent(ctx, movedInternal.Clone(), 0, zone.Secret, "hidden"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	before := read()
	for _, e := range edits {
		e.apply()
		sync()
		after := read()
		for i, who := range callers {
			if !reading(who) {
				continue
			}
			if who.clearance >= e.hidden {
				if countDiffs(before[i], after[i]) == 0 {
					t.Errorf("%s sees nothing change when %s: the test cannot see the edit", who.name, e.what)
				}
				continue
			}
			shown := 0
			for k := range before[i] {
				if before[i][k] == after[i][k] {
					continue
				}
				if shown++; shown <= 10 {
					t.Errorf("%s: LEAK: %s changes when %s:\n%s", who.name, steps[i][k], e.what, firstDifference(before[i][k], after[i][k]))
				}
			}
		}
		before = after
	}
}

// exchange is one request and its response, as recorded.
type exchange struct {
	step    string
	method  string
	target  string
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
	asked   []string // strings the script put in the request, which the response may echo
}

// client runs a script against one world's server and records it.
type client struct {
	t     *testing.T
	url   string
	token string
	log   []*exchange
	pairs [][2]*exchange // responses that must be the same (a hidden id and a random one)
}

var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// do sends one request. hdr may be nil; asked lists what the response may
// echo of the request that differs between worlds.
func (c *client) do(step, method, target string, body []byte, hdr map[string]string, asked ...string) *exchange {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+target, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	// One host name for every world, so that links are the same.
	req.Host = "zoneplan.test"
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil && hdr["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") == "application/pdf" {
		// A PDF is compared by its text (its compressed streams and dates
		// differ from run to run); its map is the scene the HTML report's
		// SVG draws, compared there byte for byte.
		b = []byte(pdfTextForDiff(c.t, b))
	}
	ex := &exchange{step: step, method: method, target: target, reqBody: body, status: resp.StatusCode, header: resp.Header, body: b, asked: asked}
	c.log = append(c.log, ex)
	return ex
}

func (c *client) get(step, target string, asked ...string) *exchange {
	return c.do(step, http.MethodGet, target, nil, nil, asked...)
}

func (c *client) post(step, target string, body string, asked ...string) *exchange {
	return c.do(step, http.MethodPost, target, []byte(body), nil, asked...)
}

// same records that two responses must be identical (each with what it
// was asked normalised away).
func (c *client) same(a, b *exchange) { c.pairs = append(c.pairs, [2]*exchange{a, b}) }

// field reads a string member of a JSON response ("" when absent).
func (ex *exchange) field(name string) string {
	var m map[string]any
	_ = json.Unmarshal(ex.body, &m)
	s, _ := m[name].(string)
	return s
}

// normaliser maps the legitimately random parts of responses to
// placeholders.
type normaliser struct {
	keep  map[string]bool // ids kept as they are: the base's and the hidden works'
	since time.Time       // times from here on are the script's own
	ids   map[string]string
	// tileETags, when set, numbers the ETags of tiles by first appearance.
	tileETags map[string]string
}

func newNormaliser(keep map[string]bool, since time.Time) *normaliser {
	return &normaliser{keep: keep, since: since, ids: map[string]string{}}
}

var reportRE = regexp.MustCompile(`\d{2}/\d{2}/\d{4} \d{2}:\d{2}`)

// text normalises one string: request id, asked strings, generated ids
// (by order of first appearance in the run), the script's times, took_ms.
func (n *normaliser) text(s, rid string, asked []string) string {
	if rid != "" {
		s = strings.ReplaceAll(s, rid, "<request-id>")
	}
	for _, a := range asked {
		for _, form := range []string{a, url.QueryEscape(a), url.PathEscape(a)} {
			s = strings.ReplaceAll(s, form, "<asked>")
		}
	}
	s = withoutTook(s)
	s = replaceEach(s, uuidAt, func(id string) string {
		if n.keep[id] {
			return id
		}
		p, ok := n.ids[id]
		if !ok {
			p = fmt.Sprintf("<id-%d>", len(n.ids)+1)
			n.ids[id] = p
		}
		return p
	})
	s = replaceEach(s, rfc3339At, func(ts string) string {
		if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil && !tm.Before(n.since) {
			return "<time>"
		}
		return ts
	})
	if strings.Contains(s, "<html") || strings.HasPrefix(s, pdfTextMark) {
		s = reportRE.ReplaceAllStringFunc(s, func(ts string) string {
			if tm, err := time.ParseInLocation("02/01/2006 15:04", ts, time.Local); err == nil && !tm.Before(n.since.Truncate(time.Minute)) {
				return "<time>"
			}
			return ts
		})
	}
	return s
}

// withoutTook replaces the value of took_ms, the check's own timing.
func withoutTook(s string) string {
	i := strings.Index(s, `"took_ms":`)
	if i < 0 {
		return s
	}
	j := i + len(`"took_ms":`)
	k := j
	for k < len(s) && strings.IndexByte("0123456789.eE+-", s[k]) >= 0 {
		k++
	}
	return s[:j] + `"<took>"` + s[k:]
}

// replaceEach replaces every match of at (the length of a match starting
// at i, or 0) by what fn makes of it.
func replaceEach(s string, at func(s string, i int) int, fn func(string) string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		n := at(s, i)
		if n == 0 {
			i++
			continue
		}
		if last == 0 && b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteString(fn(s[i : i+n]))
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isHex(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// uuidAt is the length of a lower-case UUID starting at s[i], or 0.
func uuidAt(s string, i int) int {
	if len(s)-i < 36 || (i > 0 && isHex(s[i-1])) {
		return 0
	}
	for k := range 36 {
		c := s[i+k]
		if k == 8 || k == 13 || k == 18 || k == 23 {
			if c != '-' {
				return 0
			}
		} else if !isHex(c) {
			return 0
		}
	}
	return 36
}

// rfc3339At is the length of an RFC 3339 time starting at s[i], or 0.
func rfc3339At(s string, i int) int {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if len(s)-i < len(shape)+1 || (i > 0 && isDigit(s[i-1])) {
		return 0
	}
	for k := range len(shape) {
		c := s[i+k]
		if shape[k] == 'd' {
			if !isDigit(c) {
				return 0
			}
		} else if c != shape[k] {
			return 0
		}
	}
	k := i + len(shape)
	if k < len(s) && s[k] == '.' {
		k++
		for k < len(s) && isDigit(s[k]) {
			k++
		}
	}
	switch {
	case k < len(s) && s[k] == 'Z':
		return k + 1 - i
	case len(s)-k >= 6 && (s[k] == '+' || s[k] == '-') && isDigit(s[k+1]) && isDigit(s[k+2]) && s[k+3] == ':':
		return k + 6 - i
	}
	return 0
}

// exchange is the canonical form of a response: status, headers (but the
// date and the request id; Content-Length only when the body needed no
// normalising, since the placeholders stand for values of other lengths)
// and body.
func (n *normaliser) exchange(ex *exchange) string {
	rid := ex.header.Get("X-Request-Id")
	body := string(ex.body)
	binary := strings.HasPrefix(ex.header.Get("Content-Type"), tiles.ContentType)
	if !binary {
		body = n.text(body, rid, ex.asked)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", ex.status)
	keys := make([]string, 0, len(ex.header))
	for k := range ex.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch k {
		case "Date", "X-Request-Id":
			continue
		case "Content-Length":
			if body != string(ex.body) {
				continue
			}
		}
		v := n.text(strings.Join(ex.header[k], ", "), rid, ex.asked)
		if k == "Etag" && n.tileETags != nil && isTile(ex.target) {
			p, ok := n.tileETags[v]
			if !ok {
				p = fmt.Sprintf("<tile-etag-%d>", len(n.tileETags)+1)
				n.tileETags[v] = p
			}
			v = p
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

// run is the canonical form of every response of a run, in order.
func (n *normaliser) run(c *client) []string {
	out := make([]string, len(c.log))
	for i, ex := range c.log {
		out[i] = n.exchange(ex)
	}
	return out
}

func isTile(target string) bool {
	return strings.HasPrefix(target, "/tiles/") || strings.Contains(target, "/tiles/WebMercatorQuad/")
}

// countDiffs counts the responses of two runs that differ.
func countDiffs(a, b []string) int {
	diffs := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			diffs++
		}
	}
	return diffs + max(len(a), len(b)) - min(len(a), len(b))
}

// compareRuns fails for every response of run b that differs from run a's.
func compareRuns(t *testing.T, who string, a *client, ca, cb []string, world rune) {
	t.Helper()
	if len(ca) != len(cb) {
		t.Errorf("%s: world a answered %d requests, world %c %d", who, len(ca), world, len(cb))
	}
	shown := 0
	for i := range min(len(ca), len(cb)) {
		x, y := ca[i], cb[i]
		if x == y {
			continue
		}
		if shown++; shown <= 12 {
			t.Errorf("%s: LEAK in step %q (%s %s): world a and world %c answer differently:\n%s",
				who, a.log[i].step, a.log[i].method, a.log[i].target, world, firstDifference(x, y))
		}
	}
	if shown > 12 {
		t.Errorf("%s: ... and %d more differing responses between worlds a and %c", who, shown-12, world)
	}
}

// firstDifference shows where two texts part.
func firstDifference(x, y string) string {
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	from := max(0, i-200)
	clip := func(s string) string {
		s = s[from:min(len(s), i+200)]
		if !utf8Valid(s) {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	return fmt.Sprintf("  a: …%s…\n  %s: …%s…", clip(x), "other", clip(y))
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\ufffd") == s }

// checkPairs fails when a lookup of a hidden id and one of a random id
// are told apart.
func (c *client) checkPairs(t *testing.T, who string, n *normaliser) {
	t.Helper()
	for _, p := range c.pairs {
		if x, y := n.exchange(p[0]), n.exchange(p[1]); x != y {
			t.Errorf("%s: LEAK: %q and %q differ (a hidden id is told from a random one):\n%s", who, p[0].step, p[1].step, firstDifference(x, y))
		}
	}
}

// scanForSecrets fails when a response holds a hidden work's id, name or
// code that the request did not itself contain.
func (c *client) scanForSecrets(t *testing.T, who string, secrets []string) {
	t.Helper()
	for _, ex := range c.log {
		body := ex.body
		if ex.header.Get("Content-Encoding") == "gzip" {
			if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
				body, _ = io.ReadAll(zr)
			}
		}
		request := ex.target + "\n" + string(ex.reqBody)
		for _, s := range secrets {
			if s == "" || strings.Contains(request, s) || strings.Contains(request, url.QueryEscape(s)) || strings.Contains(request, url.PathEscape(s)) {
				continue
			}
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s: LEAK in step %q: the response holds %q of a hidden work", who, ex.step, s)
			}
		}
	}
}

// scriptInput is what every run of the script shares: the same in every
// world, so that the requests are the same.
type scriptInput struct {
	base      *base
	keep      map[string]bool
	positions []namedPoint      // every world's hidden works and the visible ones
	bounds    []namedBound      // every world's hidden works' boxes
	visible   map[string]string // layer -> the id of a visible (public) component in it
	hidden    []*zone.Component // the hidden works of every world
}

type namedPoint struct {
	name string
	p    orb.Point
}

type namedBound struct {
	name string
	b    orb.Bound
}

func newScriptInput(b *base, hs [3]hiddenWorks) *scriptInput {
	in := &scriptInput{base: b, keep: map[string]bool{}, visible: map[string]string{}}
	for _, id := range b.tokenIDs {
		in.keep[id] = true
	}
	for _, c := range b.components {
		in.keep[c.ID.String()] = true
		if c.Classification == zone.Public && c.Published() {
			if _, ok := in.visible[c.Layer]; !ok {
				in.visible[c.Layer] = c.ID.String()
			}
		}
	}
	for wi, h := range hs {
		for i, c := range h {
			in.keep[c.ID.String()] = true
			in.hidden = append(in.hidden, c)
			name := fmt.Sprintf("%c%d", 'a'+wi, i+1)
			in.positions = append(in.positions, namedPoint{name, c.Bound().Center()})
			in.bounds = append(in.bounds, namedBound{name, c.Bound()})
		}
	}
	for _, c := range b.components {
		if c.Layer != zone.LayerBorderLines {
			in.positions = append(in.positions, namedPoint{"visible " + c.Name, c.Geometry.Bound().Center()})
		}
	}
	return in
}

// randomID is an id no component or appraisal has.
const randomID = "3f1c2b7a-9d4e-4c1b-8a2f-6e5d4c3b2a19"

// runScript sends the whole sequence of requests as one caller: the
// writes, then every read. The requests are the same in every world:
// those about hidden works name the works of all three worlds.
func runScript(c *client, in *scriptInput) {
	appraisalWrites(c, in)
	edits(c, in)
	reads(c, in)
}

// reads is the part of the script that changes nothing.
func reads(c *client, in *scriptInput) {
	metaAndErrors(c)
	searches(c, in)
	checks(c, in)
	appraisalReads(c)
	ogcReads(c, in)
	tileRequests(c, in)
}

func metaAndErrors(c *client) {
	for _, p := range []string{"/healthz", "/readyz", "/api/config", "/api/me", "/api/layers", "/api/rules", "/api/crs", "/", "/api/openapi.json",
		"/api/nope", "/ogc/nope", "/tiles/nope"} {
		c.get("GET "+p, p)
	}
	c.do("method not allowed", http.MethodDelete, "/api/layers", nil, nil)
	c.do("bad token", http.MethodGet, "/api/layers", nil, map[string]string{"Authorization": "Bearer zp_not_a_token"})
	c.do("not bearer", http.MethodGet, "/api/me", nil, map[string]string{"Authorization": "Basic Zm9vOmJhcg=="})
}

func searches(c *client, in *scriptInput) {
	for _, q := range []string{"Kho đạn bí mật K9", "kho dan bi mat", "bí mật", "KHO-K9X", "K9", "SCH-S1X", "Sở chỉ huy", "TT-B1X", "tuần tra",
		"C7", "Căn cứ", "CC-C8X", "ăng-ten", "A9", "AF9", "Tân Thanh", "Q2", "R3", "zzz", "Mốc"} {
		c.get("search "+q, "/api/search?q="+url.QueryEscape(q))
		c.get("search limit 1 "+q, "/api/search?limit=1&q="+url.QueryEscape(q))
	}
	c.get("search too short", "/api/search?q=K")
	c.get("search bad limit", "/api/search?q=Kho&limit=0")
}

// footprints are the check bodies: on, near and far from every position.
func footprints(in *scriptInput) []struct{ name, body string } {
	var out []struct{ name, body string }
	add := func(name string, g orb.Geometry, props string) {
		body := geomJSON(g)
		if props != "" {
			body = `{"type":"Feature","properties":` + props + `,"geometry":` + body + `}`
		}
		out = append(out, struct{ name, body string }{name, body})
	}
	for _, np := range in.positions {
		p := np.p
		add(np.name+" point on", p, "")
		add(np.name+" polygon on", square(p, 40), "")
		add(np.name+" point 150 m E", at(p, 150, 0), "")
		add(np.name+" point 420 m N", at(p, 0, 420), "")
		add(np.name+" point 800 m W", at(p, -800, 0), "")
		add(np.name+" point 1.5 km S", at(p, 0, -1500), "")
		add(np.name+" point 3 km NE", at(p, 2100, 2100), "")
		add(np.name+" tall blasting polygon 600 m E", square(at(p, 600, 0), 100), `{"height_m":60,"activities":["blasting"]}`)
		add(np.name+" line across", orb.LineString{at(p, -300, -50), at(p, 300, 50)}, "")
		add(np.name+" line 1 km N", orb.LineString{at(p, -1000, 1000), at(p, 1000, 1000)}, "")
	}
	add("far point", at(area, 20_000, -20_000), "")
	add("far polygon", square(at(area, -25_000, 15_000), 300), `{"sector":"tourism"}`)
	add("area-wide polygon", square(area, 9000), "")
	add("multipolygon over two works", orb.MultiPolygon{square(in.positions[0].p, 60), square(in.positions[1].p, 60)}, "")
	return out
}

func featureCollection(features []string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func checks(c *client, in *scriptInput) {
	fps := footprints(in)
	for _, f := range fps {
		c.post("check "+f.name, "/api/check", f.body)
	}
	// The picture attack: a FeatureCollection grid of points.
	var grid []string
	for i := range 24 {
		for j := range 24 {
			p := at(area, -6900+600*float64(i), -6900+600*float64(j))
			grid = append(grid, `{"type":"Feature","properties":{},"geometry":`+geomJSON(p)+`}`)
		}
	}
	c.post("check grid of 576 points", "/api/check", featureCollection(grid))
	var mixed []string
	for _, f := range fps {
		if strings.Contains(f.name, "polygon") || strings.Contains(f.name, "line") {
			body := f.body
			if !strings.HasPrefix(body, `{"type":"Feature"`) {
				body = `{"type":"Feature","properties":{},"geometry":` + body + `}`
			}
			mixed = append(mixed, body)
		}
	}
	c.post("check mixed collection", "/api/check", featureCollection(mixed))
	c.post("check one-feature collection", "/api/check", featureCollection(mixed[:1]))
	c.post("check mixed collection without geometry", "/api/check?geometry=none", featureCollection(mixed))
	c.post("check error: unknown geometry", "/api/check?geometry=simple", featureCollection(mixed[:1]))
	c.post("check in UTM 48N", "/api/check?crs=EPSG:3405", `{"type":"Point","coordinates":[631000,2378000]}`)
	// An uploaded file with project attributes beside it.
	body, ctype := multipartFile("du_an.geojson", []byte(featureCollection(mixed[:3])), map[string]string{"height_m": "40", "activities": "mining"})
	c.do("check an uploaded file", http.MethodPost, "/api/check", body, map[string]string{"Content-Type": ctype})
	for _, bad := range []struct{ name, body string }{
		{"empty", ""}, {"not json", "{"}, {"unknown type", `{"type":"Circle","coordinates":[106.3,21.5]}`},
		{"bowtie", `{"type":"Polygon","coordinates":[[[106.3,21.5],[106.31,21.51],[106.31,21.5],[106.3,21.51],[106.3,21.5]]]}`},
		{"open ring", `{"type":"Polygon","coordinates":[[[106.3,21.5],[106.31,21.51],[106.31,21.5]]]}`},
		{"out of range", `{"type":"Point","coordinates":[206.3,121.5]}`},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`},
		{"bad height", `{"type":"Feature","properties":{"height_m":"tall"},"geometry":{"type":"Point","coordinates":[106.3,21.5]}}`},
	} {
		c.post("check error: "+bad.name, "/api/check", bad.body)
	}
	c.post("check error: unknown crs", "/api/check?crs=EPSG:1", `{"type":"Point","coordinates":[106.3,21.5]}`)
}

// appraisalWrites creates, rechecks and decides appraisals, reading each
// back as it goes.
func appraisalWrites(c *client, in *scriptInput) {
	var ids []string
	for i, np := range in.positions[:9] {
		if i%3 == 2 {
			continue
		}
		props := `"height_m":45,"activities":["crowd"],"sector":"energy","kind":"energy",`
		ex := c.post("appraisal create near "+np.name, "/api/appraisals",
			`{"name":"Dự án thử `+np.name+`","investor":"Công ty thử",`+props+`"footprint":`+geomJSON(square(at(np.p, 200, 100), 120))+`}`)
		ids = append(ids, orDefault(ex.field("id"), randomID))
	}
	body, ctype := multipartFile("khu_dat.geojson", []byte(geomJSON(square(at(in.positions[1].p, -150, 120), 90))),
		map[string]string{"name": "Dự án tải lên", "investor": "Công ty thử", "height_m": "20"})
	c.do("appraisal create from an uploaded file", http.MethodPost, "/api/appraisals", body, map[string]string{"Content-Type": ctype})
	c.post("appraisal create far", "/api/appraisals", `{"name":"Dự án xa","footprint":`+geomJSON(square(at(area, 30_000, 5_000), 200))+`}`)
	c.post("appraisal error: no name", "/api/appraisals", `{"footprint":{"type":"Point","coordinates":[106.3,21.5]}}`)
	c.post("appraisal error: no footprint", "/api/appraisals", `{"name":"x"}`)
	c.post("appraisal error: two features", "/api/appraisals", `{"name":"x","footprint":`+featureCollection([]string{
		`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.3,21.5]}}`,
		`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.31,21.5]}}`})+`}`)
	for i, id := range ids {
		c.get(fmt.Sprintf("appraisal %d get", i), "/api/appraisals/"+id)
		c.get(fmt.Sprintf("appraisal %d get without geometry", i), "/api/appraisals/"+id+"?geometry=none")
		c.get(fmt.Sprintf("appraisal %d report", i), "/api/appraisals/"+id+"/report")
		if i < 2 {
			c.get(fmt.Sprintf("appraisal %d report pdf", i), "/api/appraisals/"+id+"/report.pdf")
		}
	}
	if len(ids) > 0 {
		c.get("appraisal report pdf in English", "/api/appraisals/"+ids[0]+"/report.pdf?lang=en")
	}
	if len(ids) > 0 {
		c.post("appraisal recheck", "/api/appraisals/"+ids[0]+"/recheck", "")
		c.get("appraisal get after recheck", "/api/appraisals/"+ids[0])
		c.get("appraisal report after recheck", "/api/appraisals/"+ids[0]+"/report")
	}
	// Reviewers decide an appraisal near a hidden work and read it back.
	target := orDefault(listed(c.get("appraisal list for decision", "/api/appraisals?status=pending&q=a1"), 0), randomID)
	c.post("appraisal decision", "/api/appraisals/"+target+"/decision", `{"outcome":"approved_with_conditions","note":"giữ khoảng cách"}`)
	c.post("appraisal decision without note", "/api/appraisals/"+target+"/decision", `{"outcome":"approved_with_conditions"}`)
	c.post("appraisal decision bad outcome", "/api/appraisals/"+target+"/decision", `{"outcome":"maybe"}`)
	c.get("appraisal decided get", "/api/appraisals/"+target)
	c.get("appraisal decided report", "/api/appraisals/"+target+"/report")
	c.get("appraisal decided report pdf", "/api/appraisals/"+target+"/report.pdf")
	c.post("appraisal random id recheck", "/api/appraisals/"+randomID+"/recheck", "")
	c.post("appraisal random id decision", "/api/appraisals/"+randomID+"/decision", `{"outcome":"approved"}`)
	c.post("appraisal publish", "/api/appraisals/"+target+"/publish", "")
}

// listed is the id of the i-th appraisal of a list response.
func listed(ex *exchange, i int) string {
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	_ = json.Unmarshal(ex.body, &page)
	if i >= len(page.Items) {
		return ""
	}
	return page.Items[i].ID
}

// appraisalReads lists the appraisals the caller may see and reads the
// listed ones.
func appraisalReads(c *client) {
	for _, q := range []string{"", "?verdict=review", "?verdict=conflict", "?verdict=clear", "?status=pending", "?q=th%E1%BB%AD",
		"?limit=2&offset=1", "?verdict=maybe", "?limit=0"} {
		c.get("appraisal list "+q, "/api/appraisals"+q)
	}
	all := c.get("appraisal list all", "/api/appraisals?limit=500")
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	_ = json.Unmarshal(all.body, &page)
	for i, it := range page.Items {
		c.get(fmt.Sprintf("appraisal listed %d get", i), "/api/appraisals/"+it.ID)
		c.get(fmt.Sprintf("appraisal listed %d report", i), "/api/appraisals/"+it.ID+"/report")
	}
	c.get("appraisal random id", "/api/appraisals/"+randomID)
	c.get("appraisal random id report", "/api/appraisals/"+randomID+"/report")
	c.get("appraisal random id report pdf", "/api/appraisals/"+randomID+"/report.pdf")
	c.get("appraisal bad id", "/api/appraisals/not-an-id")
}

// multipartFile is a multipart/form-data body holding one file and
// fields, with its content type. The boundary is fixed, so the requests
// are the same in every world.
func multipartFile(name string, file []byte, fields map[string]string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("zoneplan-secrecy-test-boundary")
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		_ = mw.WriteField(k, fields[k])
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(file)
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func bboxParam(b orb.Bound) string {
	return fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
}

func ogcReads(c *client, in *scriptInput) {
	for _, p := range []string{"/ogc", "/ogc?f=html", "/ogc/conformance", "/ogc/conformance?f=html", "/ogc/api",
		"/ogc/collections", "/ogc/collections?f=html", "/ogc/tileMatrixSets", "/ogc/tileMatrixSets/WebMercatorQuad", "/ogc?f=xml"} {
		c.get("GET "+p, p)
	}
	c.do("collections as HTML by Accept", http.MethodGet, "/ogc/collections", nil, map[string]string{"Accept": "text/html"})
	// Hidden works live in these layers (world c's in other layers than
	// world a's): their collections get every query.
	hiddenLayers := map[string]bool{zone.LayerDefenceWorks: true, zone.LayerCombatBases: true, zone.LayerPatrolRoutes: true, zone.LayerProjectSites: true}
	for _, l := range zone.LayerIDs() {
		col := "/ogc/collections/" + l
		for _, p := range []string{"", "?f=html", "/queryables", "/items", "/items?f=html", "/items?limit=2", "/items?limit=2&offset=2",
			"/items?limit=1&offset=1&f=html", "/items?sortby=-updated_at", "/items?sortby=name,-code&limit=3",
			"/items?sortby=created_at", "/items?properties=name,code", "/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857",
			"/items?classification=secret", "/tiles", "/tiles/WebMercatorQuad"} {
			c.get("GET "+col+p, col+p)
		}
		c.get("items bbox area "+l, col+"/items?bbox="+bboxParam(square(area, 12_000).Bound()))
		if !hiddenLayers[l] {
			continue
		}
		c.get("items bbox area html "+l, col+"/items?f=html&bbox="+bboxParam(square(area, 12_000).Bound()))
		c.get("items bbox far "+l, col+"/items?bbox=100,10,100.1,10.1")
		built := url.QueryEscape(in.base.built.UTC().Format(time.RFC3339Nano))
		for _, dt := range []string{built + "/..", "../" + built, built, "2000-01-01T00:00:00Z/" + built} {
			c.get("items datetime "+l, col+"/items?datetime="+dt)
		}
		for _, f := range []string{"name LIKE '%bí mật%'", "code = 'KHO-K9X'", "code LIKE 'TT-B%'", "classification = 'secret'",
			"kind = 'depot'", "kind = 'command_post' AND name LIKE 'S%'", "updated_at > TIMESTAMP('" + in.base.built.UTC().Format(time.RFC3339) + "')",
			"group = 'I'", "function_type = 'C'", "nosuch = 1", "name LIKE"} {
			c.get("items filter "+l+" "+f, col+"/items?filter-lang=cql2-text&filter="+url.QueryEscape(f))
		}
		for _, nb := range in.bounds {
			for _, grow := range []float64{0, 1500} {
				b := nb.b
				b.Min, b.Max = at(b.Min, -grow, -grow), at(b.Max, grow, grow)
				c.get(fmt.Sprintf("items bbox %s %s +%g m", l, nb.name, grow), col+"/items?bbox="+bboxParam(b))
			}
			f := "S_INTERSECTS(geometry, " + wktPolygon(square(nb.b.Center(), 400)) + ")"
			c.get(fmt.Sprintf("items spatial filter %s %s", l, nb.name), col+"/items?filter="+url.QueryEscape(f))
		}
		for _, p := range []string{"?bbox=1,2,3", "?limit=0", "?offset=-1", "?sortby=nosuch", "?datetime=yesterday", "?f=xml"} {
			c.get("items error "+l+" "+p, col+"/items"+p)
		}
	}
	c.get("unknown collection", "/ogc/collections/secret_things")
	c.get("unknown collection items", "/ogc/collections/secret_things/items")

	// Single items: each hidden work by its id, in its layer and another,
	// against a random id; a visible item, revalidated.
	for i, h := range in.hidden {
		id := h.ID.String()
		for _, l := range []string{h.Layer, zone.LayerBorderLines} {
			for _, f := range []string{"", "?f=html"} {
				hidden := c.get(fmt.Sprintf("item hidden %d in %s %s", i, l, f), "/ogc/collections/"+l+"/items/"+id+f, id)
				random := c.get(fmt.Sprintf("item random id in %s %s", l, f), "/ogc/collections/"+l+"/items/"+randomID+f, randomID)
				c.same(hidden, random)
			}
			inm := c.do(fmt.Sprintf("item hidden %d in %s If-None-Match", i, l), http.MethodGet, "/ogc/collections/"+l+"/items/"+id, nil, map[string]string{"If-None-Match": `"1"`}, id)
			inmRandom := c.do(fmt.Sprintf("item random in %s If-None-Match", l), http.MethodGet, "/ogc/collections/"+l+"/items/"+randomID, nil, map[string]string{"If-None-Match": `"1"`}, randomID)
			c.same(inm, inmRandom)
		}
	}
	for _, l := range slices.Sorted(maps.Keys(in.visible)) {
		id := in.visible[l]
		item := c.get("visible item "+l, "/ogc/collections/"+l+"/items/"+id)
		c.get("visible item html "+l, "/ogc/collections/"+l+"/items/"+id+"?f=html")
		c.do("visible item revalidated "+l, http.MethodGet, "/ogc/collections/"+l+"/items/"+id, nil, map[string]string{"If-None-Match": item.header.Get("ETag")})
	}
	c.get("item bad id", "/ogc/collections/defence_works/items/not-a-uuid")
}

func wktPolygon(p orb.Polygon) string {
	var parts []string
	for _, pt := range p[0] {
		parts = append(parts, fmt.Sprintf("%.7f %.7f", pt[0], pt[1]))
	}
	return "POLYGON((" + strings.Join(parts, ", ") + "))"
}

func edits(c *client, in *scriptInput) {
	line := func(name, code string) string {
		return `{"type":"Feature","properties":{"name":"` + name + `","code":"` + code + `","kind":"land_border"},"geometry":` +
			geomJSON(orb.LineString{at(area, -9000, 12_000), at(area, 9000, 12_500)}) + `}`
	}
	created := c.post("edit create border line", "/ogc/collections/border_lines/items", line("Biên giới mới", "BL-NEW"))
	id := orDefault(created.field("id"), randomID)
	c.post("edit create duplicate code", "/ogc/collections/border_lines/items", line("Biên giới trùng", "BL-1"))
	for _, h := range in.hidden {
		// Codes are unique per layer: a hidden work's code in another
		// layer is accepted (and the line removed again).
		withCode := c.post("edit create with a hidden code", "/ogc/collections/border_lines/items", line("Mã trùng", h.Code))
		c.do("edit delete the line with a hidden code", http.MethodDelete, "/ogc/collections/border_lines/items/"+orDefault(withCode.field("id"), randomID), nil, nil)
		withID := `{"type":"Feature","id":"` + h.ID.String() + `","properties":{"name":"x","kind":"land_border"},"geometry":{"type":"LineString","coordinates":[[106.3,21.6],[106.31,21.6]]}}`
		hidden := c.do("edit create with a hidden id", http.MethodPost, "/ogc/collections/border_lines/items", []byte(withID), nil, h.ID.String())
		random := c.do("edit create with a random id", http.MethodPost, "/ogc/collections/border_lines/items",
			[]byte(strings.ReplaceAll(withID, h.ID.String(), randomID)), nil, randomID)
		c.same(hidden, random)
		feature := `{"type":"Feature","properties":{"name":"x","code":"` + h.Code + `","classification":"public"},"geometry":` + geomJSON(h.Geometry) + `}`
		c.post("edit create in the hidden work's layer", "/ogc/collections/"+h.Layer+"/items", feature)
		for _, l := range []string{h.Layer, zone.LayerBorderLines} {
			for _, m := range []string{http.MethodPut, http.MethodDelete} {
				var body []byte
				if m != http.MethodDelete {
					body = []byte(line("Sửa", "BL-EDIT"))
				}
				hid := c.do("edit "+m+" hidden id in "+l, m, "/ogc/collections/"+l+"/items/"+h.ID.String(), body, nil, h.ID.String())
				rnd := c.do("edit "+m+" random id in "+l, m, "/ogc/collections/"+l+"/items/"+randomID, body, nil, randomID)
				c.same(hid, rnd)
			}
		}
	}
	c.do("edit patch new line", http.MethodPatch, "/ogc/collections/border_lines/items/"+id, []byte(`{"properties":{"name":"Biên giới đã sửa"}}`),
		map[string]string{"If-Match": created.header.Get("ETag"), "Content-Type": "application/merge-patch+json"})
	c.do("edit stale put", http.MethodPut, "/ogc/collections/border_lines/items/"+id, []byte(line("Cũ", "BL-OLD")), map[string]string{"If-Match": `"1"`})
	c.do("edit delete new line", http.MethodDelete, "/ogc/collections/border_lines/items/"+id, nil, nil)
	c.post("edit create invalid", "/ogc/collections/border_lines/items", `{"type":"Feature","properties":{},"geometry":null}`)
}

func tileRequests(c *client, in *scriptInput) {
	for _, l := range append(zone.LayerIDs(), tiles.AllLayers, "nosuch") {
		c.get("tilejson "+l, "/tiles/"+l+".json")
	}
	gz := map[string]string{"Accept-Encoding": "gzip"}
	for z := 0; z <= tiles.MaxZoom; z++ {
		seen := map[maptile.Tile]bool{}
		for _, np := range in.positions {
			tl := maptile.At(np.p, maptile.Zoom(z))
			if seen[tl] {
				continue
			}
			seen[tl] = true
			layers := []string{tiles.AllLayers}
			if z == 6 || z == 10 || z == 13 || z == 16 {
				layers = append(layers, zone.LayerDefenceWorks, zone.LayerCombatBases, zone.LayerPatrolRoutes, zone.LayerProjectSites)
			}
			for _, l := range layers {
				path := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", l, tl.Z, tl.X, tl.Y)
				first := c.do("tile "+path, http.MethodGet, path, nil, gz)
				if z%5 == 0 {
					c.get("tile plain "+path, path)
					c.do("tile HEAD "+path, http.MethodHead, path, nil, gz)
					c.do("tile revalidated "+path, http.MethodGet, path, nil, map[string]string{"If-None-Match": first.header.Get("ETag"), "Accept-Encoding": "gzip"})
				}
			}
			if z == 11 || z == 15 {
				path := fmt.Sprintf("/ogc/collections/defence_works/tiles/WebMercatorQuad/%d/%d/%d", tl.Z, tl.Y, tl.X)
				c.do("ogc tile "+path, http.MethodGet, path, nil, gz)
			}
		}
	}
	for _, p := range []string{"/tiles/all/23/0/0.mvt", "/tiles/all/3/9/0.mvt", "/tiles/all/x/0/0.mvt", "/tiles/nosuch/1/0/0.mvt",
		"/ogc/collections/all/tiles/WebMercatorQuad/1/0/0"} {
		c.get("tile error "+p, p)
	}
}

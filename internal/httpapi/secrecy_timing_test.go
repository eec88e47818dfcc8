//go:build unix

package httpapi_test

import (
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// selfCPU is the CPU time this process has used, user plus system: on
// a shared machine a steadier measure of work than wall time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapAllocs is the number of heap objects this process has allocated
// (exact: ReadMemStats flushes every processor's cache, which the
// runtime/metrics counters do not).
func heapAllocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// work is what a batch of requests cost the process.
type work struct {
	cpu    time.Duration
	allocs uint64
}

// measure runs fn and returns its cost.
func measure(fn func()) work {
	c0, a0 := selfCPU(), heapAllocs()
	fn()
	return work{selfCPU() - c0, heapAllocs() - a0}
}

func median[T time.Duration | float64](xs []T) T {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

// hiddenPacked is how many hidden works the dense world adds.
const hiddenPacked = 40_000

// maxCPURatio bounds the ratio of median CPU times an uncleared caller's
// request may show between the worlds. Clean runs stay within 8%; walking
// the hidden works' trees and skipping them (no allocation, no answer
// changed) costs x1.9 to x2.9 at 40,000 works; reading them, x20 to x80.
const maxCPURatio = 1.35

// TestSecrecyTiming shows that how long an uncleared caller's answers take
// does not depend on the works hidden from it, without timing anything on
// the wall clock. Two worlds have the same consultation cells: "sparse"
// holds one secret depot; "dense" holds 40,000 more secret works packed
// inside the depot's anchor cell (so the cells are the same). The same
// requests (a check, a FeatureCollection check, tiles built afresh, items
// by bbox, search, layers) are sent to both, and each one's cost to the
// whole process is measured: CPU time, request by request, sparse and
// dense in turn, compared by medians; and heap allocations, an exact count
// over small batches. For an uncleared caller they must agree
// (allocations within 2%, median CPU time within maxCPURatio): the engine,
// the tiles, the items and the search walk only the trees of the caller's
// scope, and the consultation cells, the same in both worlds, stand in for
// the rest. A secret caller, whose checks and tiles do read the 40,000
// works, must see the dense world cost many times more, or the measurement
// could not tell. Appraisal writes, whose stored check reads every work
// (a secret caller's costs x100 more in the dense world), are answered to
// an uncleared caller no sooner than the configured floor, in either world.
func TestSecrecyTiming(t *testing.T) {
	if raceEnabled {
		t.Skip("timing is measured without the race detector: it multiplies costs unevenly and drops pooled objects at random")
	}
	e := defaultEngine()
	g := e.Grid()
	depot := depotAt(at(area, 300, -200))
	home := g.Bound(g.CellAt(depot.Geometry.(orb.Point)))
	var packed []*zone.Component
	for i := range hiddenPacked {
		u, v := lattice(i)
		packed = append(packed, &zone.Component{ID: uuid.New(), Layer: zone.LayerDefenceWorks, Kind: zone.KindObservationPost,
			Name: fmt.Sprintf("Đài quan sát mật %d", i), Classification: zone.Secret, Synthetic: true,
			Geometry: orb.Point{home.Min[0] + (0.05+0.9*u)*(home.Max[0]-home.Min[0]), home.Min[1] + (0.05+0.9*v)*(home.Max[1]-home.Min[1])}})
	}
	union := map[string]bool{}
	for _, c := range packed {
		for _, cell := range strings.Fields(cellsOf(e, c)) {
			union[cell] = true
		}
	}
	for _, cell := range strings.Fields(cellsOf(e, depot)) {
		delete(union, cell)
	}
	if len(union) > 0 {
		t.Fatalf("the packed works reach %d cells outside the depot's", len(union))
	}

	floor := 150 * time.Millisecond
	callers := []caller{
		{name: "appraiser-public", role: zone.RoleAppraiser, clearance: zone.Public},
		{name: "reviewer-restricted", role: zone.RoleReviewer, clearance: zone.Restricted},
		{name: "appraiser-secret", role: zone.RoleAppraiser, clearance: zone.Secret},
	}
	// The tile cache off: every tile is built, as a cold one would be.
	b, ws := openWorlds(t, storeKinds()[0], callers, [][]*zone.Component{{depot}, append([]*zone.Component{depot}, packed...)},
		httpapi.Config{UnclearedWriteFloor: floor}, &tiles.Options{CacheBytes: 0})
	sparse, dense := ws[0], ws[1]
	token := map[string]string{}
	for _, c := range b.callers {
		token[c.name] = c.token
	}

	p := depot.Geometry.(orb.Point)
	z14 := maptile.At(p, 14)
	requests := []struct {
		name, method, path, body string
		control                  bool // the secret caller's cost must depend on the hidden works
	}{
		{"check near the depot", http.MethodPost, "/api/check", geomJSON(square(at(p, 250, 150), 150)), true},
		{"check of 25 points", http.MethodPost, "/api/check", pointsCollection(grid5(p, 400)), false},
		{"tile z14 all layers", http.MethodGet, fmt.Sprintf("/tiles/all/14/%d/%d.mvt", z14.X, z14.Y), "", true},
		{"tile z12 defence works", http.MethodGet, fmt.Sprintf("/tiles/defence_works/12/%d/%d.mvt", z14.X/4, z14.Y/4), "", false},
		{"items by bbox", http.MethodGet, "/ogc/collections/defence_works/items?bbox=" + bboxParam(home), "", false},
		{"search", http.MethodGet, "/api/search?q=" + "%C4%90%C3%A0i", "", false},
		{"layers", http.MethodGet, "/api/layers", "", false},
	}
	run := func(w *world, token, method, path, body string, n int) {
		c := &client{t: t, url: w.url, token: token}
		for range n {
			var b []byte
			if body != "" {
				b = []byte(body)
			}
			if ex := c.do(path, method, path, b, nil); ex.status != http.StatusOK {
				t.Fatalf("%s %s: %d %s", method, path, ex.status, ex.body)
			}
		}
	}
	// compare sends each request to both worlds as who: the CPU time of
	// each single request, sparse and dense in turn, pairs times over
	// (medians: a garbage collection or a descheduling spoils a few
	// samples, not the median); and the exact allocations of a few
	// batches.
	compare := func(who string, pairs, batches int, control bool) {
		for _, r := range requests {
			if control && !r.control {
				continue
			}
			// Warm both worlds up: connections, pools, caches.
			run(sparse, token[who], r.method, r.path, r.body, 2)
			run(dense, token[who], r.method, r.path, r.body, 2)
			var cpu [2][]time.Duration
			for range pairs {
				for i, w := range []*world{sparse, dense} {
					cpu[i] = append(cpu[i], measure(func() { run(w, token[who], r.method, r.path, r.body, 1) }).cpu)
				}
			}
			var allocs [2][]float64
			for range batches {
				for i, w := range []*world{sparse, dense} {
					allocs[i] = append(allocs[i], float64(measure(func() { run(w, token[who], r.method, r.path, r.body, 3) }).allocs))
				}
			}
			cs, cd := median(cpu[0]), median(cpu[1])
			as, ad := median(allocs[0]), median(allocs[1])
			cpuRatio, allocRatio := float64(cd)/float64(cs), ad/as
			t.Logf("%s, %s: median CPU sparse %v, dense %v (x%.2f); allocations for 3: %.0f and %.0f (x%.3f)",
				who, r.name, cs, cd, cpuRatio, as, ad, allocRatio)
			if control {
				if cpuRatio < 3 || allocRatio < 3 {
					t.Errorf("%s, %s: the dense world costs only x%.2f CPU, x%.2f allocations: the measurement cannot see the hidden works", who, r.name, cpuRatio, allocRatio)
				}
				continue
			}
			if math.Abs(ad-as) > 0.02*as+20 {
				t.Errorf("LEAK: %s, %s: %.0f allocations for 3 requests with %d more hidden works, %.0f without", who, r.name, ad, hiddenPacked, as)
			}
			if cpuRatio > maxCPURatio || cpuRatio < 1/maxCPURatio {
				t.Errorf("LEAK: %s, %s: x%.2f CPU time with %d more hidden works", who, r.name, cpuRatio, hiddenPacked)
			}
		}
	}
	compare("appraiser-public", 150, 3, false)
	compare("reviewer-restricted", 100, 3, false)
	compare("appraiser-secret", 3, 1, true)

	// The answers themselves are the same in both worlds (the full
	// property is TestSecrecyDifferential's).
	for _, who := range []string{"appraiser-public", "reviewer-restricted"} {
		for _, r := range requests {
			var body []byte
			if r.body != "" {
				body = []byte(r.body)
			}
			x := (&client{t: t, url: sparse.url, token: token[who]}).do(r.name, r.method, r.path, body, nil)
			y := (&client{t: t, url: dense.url, token: token[who]}).do(r.name, r.method, r.path, body, nil)
			if a, b := withoutTook(string(x.body)), withoutTook(string(y.body)); a != b {
				t.Errorf("LEAK: %s, %s: the answers differ between the worlds:\n%s", who, r.name, firstDifference(a, b))
			}
		}
	}

	// Appraisal writes: the stored check reads every work (its cost does
	// depend on the hidden ones), so an uncleared caller is answered no
	// sooner than the floor in either world.
	body := `{"name":"Nhà máy gần kho","footprint":` + geomJSON(square(at(p, 250, 150), 150)) + `}`
	for _, w := range []struct {
		name string
		srv  *world
	}{{"sparse", sparse}, {"dense", dense}} {
		start := time.Now()
		status, _, resp := send(t, http.MethodPost, w.srv.url+"/api/appraisals", token["appraiser-public"], []byte(body))
		took := time.Since(start)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, resp)
		}
		t.Logf("%s world: an uncleared appraisal answered after %v (floor %v)", w.name, took, floor)
		if took < floor {
			t.Errorf("LEAK: %s world: an uncleared appraisal was answered in %v, before the %v floor", w.name, took, floor)
		}
		id := jsonField(t, resp, "id")
		start = time.Now()
		if status, _, resp := send(t, http.MethodPost, w.srv.url+"/api/appraisals/"+id+"/recheck", token["appraiser-public"], nil); status != http.StatusOK {
			t.Fatalf("recheck: %d %s", status, resp)
		}
		if took := time.Since(start); took < floor {
			t.Errorf("LEAK: %s world: an uncleared recheck was answered in %v, before the %v floor", w.name, took, floor)
		}
	}
	// The work the floor hides: a secret caller's appraisal (no floor) in
	// the dense world costs several times the sparse world's.
	var cost [2]work
	for i, w := range []*world{sparse, dense} {
		cost[i] = measure(func() {
			for range 1 {
				if status, _, resp := send(t, http.MethodPost, w.url+"/api/appraisals", token["appraiser-secret"], []byte(body)); status != http.StatusCreated {
					t.Fatalf("create: %d %s", status, resp)
				}
			}
		})
	}
	t.Logf("a secret appraisal: sparse %v, %d allocations; dense %v, %d allocations", cost[0].cpu, cost[0].allocs, cost[1].cpu, cost[1].allocs)
	if cost[1].allocs < 3*cost[0].allocs {
		t.Errorf("the stored check costs no more with 40,000 works near: the floor test shows nothing")
	}
}

// grid5 is 5 × 5 points step metres apart around p.
func grid5(p orb.Point, step float64) []orb.Point {
	var out []orb.Point
	for i := -2; i <= 2; i++ {
		for j := -2; j <= 2; j++ {
			out = append(out, at(p, step*float64(i), step*float64(j)))
		}
	}
	return out
}

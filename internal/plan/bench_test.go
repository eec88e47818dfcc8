package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// districtPlan is n parcels tiling a square district around centre:
// adjacent quadrilaterals of about 60 m (a 316 x 316 grid for 100,000
// parcels is about 19 km across), each corner jittered so that
// neighbours still share their edges, with a land use and a height.
func districtPlan(n int, centre orb.Point) *geojson.FeatureCollection {
	side := int(math.Ceil(math.Sqrt(float64(n))))
	const stepM = 60.0
	dLat := stepM / 110_760.0
	dLon := stepM / (111_320.0 * math.Cos(centre[1]*math.Pi/180))
	x0, y0 := centre[0]-float64(side)/2*dLon, centre[1]-float64(side)/2*dLat
	corner := func(i, j int) orb.Point {
		// Deterministic jitter, shared by the four parcels meeting here.
		h := math.Sin(float64(i*7919+j*104729)) * 0.2
		return orb.Point{x0 + (float64(i)+h)*dLon, y0 + (float64(j)-h)*dLat}
	}
	fc := geojson.NewFeatureCollection()
	uses := []string{"ODT", "ONT", "CLN", "TMD", "SKC", "DGT"}
	for k := range n {
		i, j := k%side, k/side
		ring := orb.Ring{corner(i, j), corner(i+1, j), corner(i+1, j+1), corner(i, j+1), corner(i, j)}
		f := geojson.NewFeature(orb.Polygon{ring})
		f.Properties = geojson.Properties{"MA_THUA": "T" + strconv.Itoa(k), "LOAI_DAT": uses[k%len(uses)], "TANG_CAO": float64(3 + k%40)}
		fc.Append(f)
	}
	return fc
}

// BenchmarkDistrictPlan runs a master-plan job of 100,000 generated
// parcels tiling a district of Lạng Sơn (the generated data's region)
// against 100,000 components (demo.Scale, every defence layer and
// clearance), end to end through the server: the plan uploaded with
// POST /api/plans, checked by the job manager under the check class,
// every parcel stored by clearance in the embedded store. Meanwhile a
// client sends POST /api/check of single footprints, one after another
// from two goroutines, as normal traffic; its latencies are measured
// first with no job (the baseline, same run) and then during the job.
//
// Reported: the job's wall time and parcels/s; engine-s, the same
// parcels through check.Engine.Record alone, one core, no store (the
// job's floor, measured on every tenth parcel and scaled); and the normal checks' p50 and p99 before and during the
// job. Set ZONEPLAN_BENCH_PARCELS to run fewer parcels.
//
//	nice go test -run '^$' -bench BenchmarkDistrictPlan -benchtime 1x -timeout 30m ./internal/plan
func BenchmarkDistrictPlan(b *testing.B) {
	nParcels, nComponents := 100_000, 100_000
	if v, err := strconv.Atoi(os.Getenv("ZONEPLAN_BENCH_PARCELS")); err == nil && v > 0 {
		nParcels = v
	}
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(b.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	byLayer := map[string][]*zone.Component{}
	if err := demo.Scale(1, nComponents, 0, func(c *zone.Component) error {
		byLayer[c.Layer] = append(byLayer[c.Layer], c)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for l, cs := range byLayer {
		if _, err := st.ImportComponents(ctx, l, cs, zone.ImportOptions{By: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	byLayer = nil
	ix := index.New()
	if err := ix.Load(ctx, st); err != nil {
		b.Fatal(err)
	}
	active, err := check.NewActive(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d components stored and indexed in %v", ix.Snapshot().Len(), time.Since(start).Round(time.Millisecond))
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Rules: active,
		Auth: &auth.Authenticator{Tokens: st, CacheTTL: time.Minute}, Config: httpapi.Config{Version: "bench", UnclearedWriteFloor: -1}}))
	defer srv.Close()
	token, _, err := auth.Issue(ctx, st, "bench", zone.RoleAppraiser, zone.Secret, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}

	centre := orb.Point{106.60, 21.80}
	fc := districtPlan(nParcels, centre)
	file, err := json.Marshal(fc)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("plan: %d parcels, %.1f MiB of GeoJSON, %.1f km across", nParcels, float64(len(file))/(1<<20),
		math.Sqrt(float64(nParcels))*60/1000)

	// The engine alone on the same parcels: the job's floor.
	// Every tenth parcel (up to 10,000), scaled to the whole plan.
	eng := active.Engine()
	t0 := time.Now()
	sampled := 0
	for i := 0; i < len(fc.Features) && sampled < 10_000; i += 10 {
		eng.Record(ix.Snapshot(), check.SiteFootprint(fc.Features[i].Geometry, map[string]any{}))
		sampled++
	}
	engineS := time.Since(t0).Seconds() * float64(nParcels) / float64(sampled)
	b.Logf("engine alone (Record, %d parcels sampled, scaled): %.1f s (%.0f parcels/s)", sampled, engineS, float64(nParcels)/engineS)
	fc = nil

	// Normal traffic: single checks around the district, back to back.
	probe := func(stop <-chan struct{}) []time.Duration {
		var mu sync.Mutex
		var durs []time.Duration
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					lon := centre[0] - 0.1 + 0.2*math.Mod(float64(i*37+g*11)*0.618034, 1)
					lat := centre[1] - 0.1 + 0.2*math.Mod(float64(i*53+g*7)*0.414214, 1)
					body := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`,
						lon, lat, lon+0.002, lat, lon+0.002, lat+0.002, lon, lat+0.002, lon, lat)
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/check", bytes.NewReader([]byte(body)))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					t := time.Now()
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("check: %d", resp.StatusCode)
						return
					}
					mu.Lock()
					durs = append(durs, time.Since(t))
					mu.Unlock()
					time.Sleep(20 * time.Millisecond) // about 40 checks/s from both
				}
			}()
		}
		<-stop
		wg.Wait()
		return durs
	}
	stop := make(chan struct{})
	go func() { time.Sleep(10 * time.Second); close(stop) }()
	before := probe(stop)

	b.ResetTimer()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "quy-hoach-phan-khu.geojson")
	_, _ = fw.Write(file)
	_ = mw.WriteField("map", "name=MA_THUA,land_use=LOAI_DAT,height=TANG_CAO")
	_ = mw.Close()
	file = nil
	jobStart := time.Now()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/plans", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("POST /api/plans: %d %s", resp.StatusCode, created)
	}
	accepted := time.Since(jobStart)
	loc := resp.Header.Get("Location")
	stop = make(chan struct{})
	during := make(chan []time.Duration)
	go func() { during <- probe(stop) }()
	var state struct {
		State  string         `json:"state"`
		Done   int            `json:"done"`
		Counts map[string]int `json:"counts"`
	}
	for {
		time.Sleep(200 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+loc, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&state)
		resp.Body.Close()
		if zone.PlanFinished(state.State) {
			break
		}
	}
	jobS := time.Since(jobStart).Seconds()
	close(stop)
	dur := <-during
	b.StopTimer()
	if state.State != zone.PlanDone || state.Done != nParcels {
		b.Fatalf("job ended %s with %d of %d parcels", state.State, state.Done, nParcels)
	}
	p := func(ds []time.Duration, q float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
	}
	b.Logf("job: %.1f s (upload accepted in %v), %.0f parcels/s; counts %v", jobS, accepted.Round(time.Millisecond), float64(nParcels)/jobS, state.Counts)
	b.Logf("normal checks: before p50 %.1f ms p99 %.1f ms (%d); during p50 %.1f ms p99 %.1f ms (%d)",
		p(before, 0.5), p(before, 0.99), len(before), p(dur, 0.5), p(dur, 0.99), len(dur))
	b.ReportMetric(jobS, "job-s")
	b.ReportMetric(engineS, "engine-s")
	b.ReportMetric(jobS/engineS, "job/engine")
	b.ReportMetric(jobS/60, "job/target")
	b.ReportMetric(p(before, 0.99), "p99-before-ms")
	b.ReportMetric(p(dur, 0.99), "p99-during-ms")
}

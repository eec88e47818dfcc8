package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Benchmarks of items?bbox=...&limit=1000 pages. `make bench-features`
// runs the server against a 100,000-component PostGIS database with wrk,
// and BenchmarkOGCRawSQL for the raw PostGIS ST_AsGeoJSON query of the same
// pages at the same concurrency. Both read the boxes from
// ZONEPLAN_BENCH_BOXES (one "minLon,minLat,maxLon,maxLat" a line).

// benchConcurrency is the number of concurrent clients (wrk -c).
func benchConcurrency() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("ZONEPLAN_BENCH_CONCURRENCY"), &n); err != nil || n < 1 {
		return 16
	}
	return n
}

func benchBoxes(b *testing.B) []string {
	b.Helper()
	path := os.Getenv("ZONEPLAN_BENCH_BOXES")
	if path == "" {
		b.Skip("ZONEPLAN_BENCH_BOXES is not set (make bench-features sets it)")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var boxes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			boxes = append(boxes, line)
		}
	}
	if len(boxes) == 0 {
		b.Fatalf("%s holds no boxes", path)
	}
	return boxes
}

// runConcurrently performs b.N page fetches over the boxes with
// benchConcurrency workers and reports pages/s and features/s.
func runConcurrently(b *testing.B, boxes []string, fetch func(ctx context.Context, box string) (int, error)) {
	b.Helper()
	var next, features atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < benchConcurrency(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				n, err := fetch(context.Background(), boxes[i%int64(len(boxes))])
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				features.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/elapsed, "pages/s")
	b.ReportMetric(float64(features.Load())/elapsed, "features/s")
}

// rawPageSQL is what a server without the index would run for one page:
// the caller's clearance, the box (ST_Intersects, touching counts), id
// order, 1,000 rows, each as a GeoJSON feature.
const rawPageSQL = `SELECT ST_AsGeoJSON(t.*, 'geom', 9)::text FROM (
	SELECT id, layer, kind, name, code, function_type, "group", classification, properties, synthetic,
	       version, created_at, updated_at, created_by, updated_by, geom
	FROM components
	WHERE layer = $1 AND classification <= $2 AND ST_Intersects(geom, ST_MakeEnvelope($3, $4, $5, $6, 4326))
	ORDER BY id LIMIT 1000) t`

func BenchmarkOGCRawSQL(b *testing.B) {
	boxes := benchBoxes(b)
	dsn := os.Getenv("ZONEPLAN_BENCH_PG")
	if dsn == "" {
		b.Skip("ZONEPLAN_BENCH_PG is not set (make bench-features sets it)")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(benchConcurrency())
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	// Open every connection now and note its backend, to report the
	// database's CPU time per page (steadier than wall time on a shared
	// machine; readable when PostgreSQL runs on this host).
	backends := pgtest.BackendPIDs(b, pool)
	cpu0, cpuOK := processCPU(backends)
	defer func() {
		if cpu1, ok := processCPU(backends); ok && cpuOK && b.N > 0 {
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "db-cpu-us/page")
		}
	}()
	runConcurrently(b, boxes, func(ctx context.Context, box string) (int, error) {
		var x0, y0, x1, y1 float64
		if _, err := fmt.Sscanf(box, "%g,%g,%g,%g", &x0, &y0, &x1, &y1); err != nil {
			return 0, err
		}
		rows, err := pool.Query(ctx, rawPageSQL, zone.LayerDefenceWorks, int(zone.Secret), x0, y0, x1, y1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var feature []byte
			if err := rows.Scan(&feature); err != nil {
				return 0, err
			}
			n++
		}
		return n, rows.Err()
	})
}

// BenchmarkOGCItemsHTTP fetches the same pages from a running server
// (ZONEPLAN_BENCH_URL, token ZONEPLAN_BENCH_TOKEN) with a Go client, a
// cross-check of the wrk figure for plain pages (the client does not ask
// for gzip, as wrk's plain run does not).
func BenchmarkOGCItemsHTTP(b *testing.B) {
	boxes := benchBoxes(b)
	base, tok := os.Getenv("ZONEPLAN_BENCH_URL"), os.Getenv("ZONEPLAN_BENCH_TOKEN")
	if base == "" {
		b.Skip("ZONEPLAN_BENCH_URL is not set (make bench-features sets it)")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency(), DisableCompression: true}}
	runConcurrently(b, boxes, func(ctx context.Context, box string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ogc/collections/defence_works/items?limit=1000&bbox="+box, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%s: %d %.200s", box, resp.StatusCode, body)
		}
		if err != nil {
			return 0, err
		}
		// numberReturned is among the members after the features.
		var n int
		tail := string(body[max(0, len(body)-4096):])
		if i := strings.LastIndex(tail, `"numberReturned":`); i >= 0 {
			fmt.Sscan(tail[i+len(`"numberReturned":`):], &n)
		}
		return n, nil
	})
}

// processCPU sums the user and system CPU time of processes from
// /proc/PID/stat; ok is false when one cannot be read.
func processCPU(pids []int) (total time.Duration, ok bool) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, false
		}
		// Fields after the command name (which may hold spaces).
		fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		if len(fields) < 13 {
			return 0, false
		}
		var utime, stime int64
		fmt.Sscan(fields[11], &utime)
		fmt.Sscan(fields[12], &stime)
		total += time.Duration(utime+stime) * tick
	}
	return total, true
}

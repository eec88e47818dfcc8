package audit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// BenchmarkRecorder is what one check's entry costs, all told: recording
// it (the request's part) and appending it in batches (the recorder's
// part, on the same cores, and on PostGIS the database backends' too), as
// CPU time per entry, which a busy shared machine blurs less than wall
// time. A check's own CPU time is in BenchmarkCheckAuditTrail
// (internal/httpapi), beside which this is the trail's share.
//
//	CI=true go test -run '^$' -bench Recorder -benchtime 20000x ./internal/audit/
func BenchmarkRecorder(b *testing.B) {
	detail := []byte(`{"footprint_sha256":"9f1c0e3b7d8a4f6e2b5c1a9d0e7f3b6c8a2d4e1f0b9c7a5e3d1f8b6a4c2e0d9","bbox":[106.71234,21.84567,106.71567,21.84891],` +
		`"features":1,"verdict":"review","findings":2,"consultation":true,"ruleset":"2025.1"}`)
	for _, s := range []struct {
		name string
		open func(testing.TB) (zone.Store, []int)
	}{{"embedded", func(tb testing.TB) (zone.Store, []int) { return openStore(tb.(*testing.B)), nil }}, {"postgis", benchPostGIS}} {
		b.Run(s.name, func(b *testing.B) {
			st, backends := s.open(b)
			r := audit.NewRecorder(st, audit.Options{})
			p := zone.Principal{TokenID: uuid.New(), Name: "Thẩm định viên An", Role: zone.RoleAppraiser, Clearance: zone.Public}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, self0 := cpuOf(b, backends), cpuOf(b, nil)
			// In batches of 200, as a recorder sees them at 2,000 checks/s.
			for i := 0; i < b.N; i++ {
				r.Record(zone.AuditEntry{Action: zone.AuditCheck, ActorID: p.TokenID, Actor: p.Name, Role: p.Role,
					ActorClearance: p.Clearance, Classification: p.Clearance, Detail: append([]byte(nil), detail...)})
				if i%200 == 199 {
					if err := r.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := r.Close(ctx); err != nil {
				b.Fatal(err)
			}
			used, self := cpuOf(b, backends)-cpu0, cpuOf(b, nil)-self0
			b.StopTimer()
			b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-us/entry")
			b.ReportMetric(float64(self.Microseconds())/float64(b.N), "self-cpu-us/entry")
			if s := r.Stats(); s.Appended != int64(b.N) {
				b.Fatalf("%d of %d entries appended", s.Appended, b.N)
			}
		})
	}
}

func benchPostGIS(tb testing.TB) (zone.Store, []int) {
	b := tb.(*testing.B)
	dsn := pgtest.New(b)
	if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
		b.Fatal(err)
	}
	st, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, pgtest.BackendPIDs(b, st.Pool())
}

// cpuOf is the CPU time of this process and of the processes pids.
func cpuOf(b *testing.B, pids []int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		var ut, stime int64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &stime)
		total += time.Duration(ut+stime) * 10 * time.Millisecond // USER_HZ 100
	}
	return total
}

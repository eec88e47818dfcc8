package postgis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestAuditTrailRefusesChanges: the triggers refuse UPDATE, DELETE and
// TRUNCATE of audit_log, also under session_replication_role = replica
// (where ordinary triggers do not fire).
func TestAuditTrailRefusesChanges(t *testing.T) {
	s, dsn := openTest(t)
	ctx := t.Context()
	if _, err := s.AppendAudit(ctx, []zone.AuditEntry{
		storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "", zone.Public, time.Now()),
		storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "", zone.Public, time.Now()),
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, replica := range []bool{false, true} {
		if replica {
			if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
				t.Fatal(err)
			}
		}
		for _, sql := range []string{
			`UPDATE audit_log SET actor = 'someone else' WHERE seq = 1`,
			`DELETE FROM audit_log WHERE seq = 2`,
			`TRUNCATE audit_log`,
		} {
			_, err := conn.Exec(ctx, sql)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s (replica %v): got %v, want the append-only refusal", sql, replica, err)
			}
		}
	}
	rep, err := audit.Verify(ctx, s)
	if err != nil || rep.Break != nil || rep.Entries != 2 {
		t.Fatalf("after refused changes: %+v %v, want the 2 entries intact", rep, err)
	}
}

// TestAuditOneChainFromTwoInstances: two stores (two pools, as two server
// instances) append at once to one database; the trail is one intact
// chain holding every entry once.
func TestAuditOneChainFromTwoInstances(t *testing.T) {
	a, dsn := openTest(t)
	b := openOn(t, dsn)
	const batches, per = 25, 8
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	ids := make(chan uuid.UUID, 4*batches*per)
	for w, st := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				var es []zone.AuditEntry
				for j := range per {
					e := storetest.AuditEntry(zone.AuditCheck, fmt.Sprintf("instance %d", w), uuid.New(), fmt.Sprintf("%d.%d", i, j), zone.Public, time.Now())
					es = append(es, e)
					ids <- e.ID
				}
				if _, err := st.AppendAudit(context.Background(), es); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := audit.Verify(t.Context(), b)
	if err != nil || rep.Break != nil || rep.Entries != 4*batches*per {
		t.Fatalf("two instances' appends: %+v %v, want one intact chain of %d", rep, err, 4*batches*per)
	}
	seen := map[uuid.UUID]int{}
	if err := a.ScanAudit(t.Context(), 0, func(e zone.AuditEntry) error { seen[e.ID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Fatalf("entry %s stored %d times", id, seen[id])
		}
	}
}

package postgis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// How pgx v5.12 behaves when its server is frozen (SIGSTOP), as measured by
// TestFrozenAndStoppedDatabase: a query whose context ends returns at once,
// because the default context watcher (DeadlineContextWatcherHandler) sets
// a past deadline on the socket rather than sending a cancel request from
// the caller's goroutine. The broken connection is then closed in the
// background (asyncClose), which does send a cancel request on a new
// connection and waits up to 15 s for the frozen server to answer it; the
// pool counts that connection as in use meanwhile. New connections the pool
// makes for waiting callers hang in the background until ConnectTimeout
// (pgxpool's own default is 2 minutes): the frozen server's kernel accepts
// the TCP connection, and nothing answers the startup message. Acquire
// honours its context throughout, so callers never hang, but the pool
// fills with such connections: hence ConnectTimeout, and the prober that
// stops calls from trying at all while the server does not answer.

// openFaulty opens a store with the server's deadlines and a fast prober on
// a new database of c.
func openFaulty(t *testing.T, c *pgtest.Cluster) (*Store, string) {
	t.Helper()
	dsn := c.NewDatabase(t)
	if err := Migrate(t.Context(), dsn, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return openProbed(t, dsn, 200*time.Millisecond), dsn
}

// openProbed opens a store on dsn with the server's deadlines and a prober
// every probe.
func openProbed(t *testing.T, dsn string, probe time.Duration) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, Options{MaxConns: 4, StatementTimeout: 15 * time.Second,
		IdleInTransactionTimeout: 15 * time.Second, ProbeInterval: probe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// auditCalls are the audit trail's calls on s, each bounded by the call
// timeout (ScanAudit, a long call, by a deadline of its own).
func auditCalls(s *Store) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"AppendAudit": func(ctx context.Context) error {
			_, err := s.AppendAudit(ctx, []zone.AuditEntry{storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "", zone.Public, time.Now())})
			return err
		},
		"ListAudit": func(ctx context.Context) error {
			_, err := s.ListAudit(ctx, zone.AuditQuery{Clearance: zone.Secret, Limit: 5})
			return err
		},
		"ScanAudit": func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
			defer cancel()
			return s.ScanAudit(ctx, 0, func(zone.AuditEntry) error { return nil })
		},
	}
}

// waitUntil polls cond every 20 ms until it holds or limit passes.
func waitUntil(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestFrozenAndStoppedDatabase: with the database frozen, and with it
// stopped, every call (more at once than the pool holds) returns
// CodeUnavailable with a Retry-After within its deadline; once the prober
// has found the database unreachable, calls fail at once; when the
// database is back, the same store works again.
func TestFrozenAndStoppedDatabase(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	s, _ := openFaulty(t, c)
	comp := storetest.Create(t, s, storetest.NewComponent(zone.LayerCombatBases, "Căn cứ A", orb.Point{105.1, 21.2}))
	hash := []byte("0123456789abcdef0123456789abcdef")
	if err := s.CreateToken(t.Context(), &zone.Token{Name: "viewer", Role: zone.RoleViewer, Clearance: zone.Public, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"GetComponent": func(ctx context.Context) error { _, err := s.GetComponent(ctx, comp.ID, zone.Secret); return err },
		"TokenByHash":  func(ctx context.Context) error { _, err := s.TokenByHash(ctx, hash); return err },
		"CreateComponent": func(ctx context.Context) error {
			_, err := s.CreateComponent(ctx, storetest.NewComponent(zone.LayerDefenceWorks, "Kho", orb.Point{105.2, 21.3}), "test")
			return err
		},
		"ListAppraisals": func(ctx context.Context) error {
			_, _, err := s.ListAppraisals(ctx, zone.AppraisalQuery{Limit: 5})
			return err
		},
		"DataVersion": func(ctx context.Context) error { _, err := s.DataVersion(ctx); return err },
		"ActiveRuleSet": func(ctx context.Context) error {
			_, _, err := s.ActiveRuleSet(ctx)
			if zone.ErrorCode(err) == zone.CodeNotFound {
				return nil
			}
			return err
		},
		"Ping": s.Ping,
	}
	maps.Copy(calls, auditCalls(s))
	outage := func(t *testing.T, down, up func(testing.TB)) {
		down(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var slowest time.Duration
		for round := range 3 {
			for name, call := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					err := call(context.Background())
					took := time.Since(start)
					mu.Lock()
					slowest = max(slowest, took)
					mu.Unlock()
					if zone.ErrorCode(err) != zone.CodeUnavailable || zone.ErrorRetryAfter(err) <= 0 {
						t.Errorf("round %d, %s: got %v, want unavailable with a Retry-After", round, name, err)
					}
					if took > DefaultCallTimeout+500*time.Millisecond {
						t.Errorf("round %d, %s: answered after %s, more than the call deadline %s", round, name, took, DefaultCallTimeout)
					}
				}()
			}
			time.Sleep(300 * time.Millisecond)
		}
		returned := make(chan struct{})
		go func() { wg.Wait(); close(returned) }()
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			up(t) // let the hung calls return, then fail
			<-returned
			t.Fatal("calls still hung 10 s into the outage")
		}
		mu.Lock()
		t.Logf("slowest call during the outage: %s", slowest)
		mu.Unlock()
		if !waitUntil(5*time.Second, s.health.down.Load) {
			t.Fatal("the prober did not find the database unreachable within 5 s")
		}
		for name, call := range calls {
			start := time.Now()
			err := call(context.Background())
			if took := time.Since(start); zone.ErrorCode(err) != zone.CodeUnavailable || took > 50*time.Millisecond {
				t.Errorf("%s once the database is known unreachable: %v after %s, want unavailable at once", name, err, took)
			}
		}
		up(t)
		start := time.Now()
		if !waitUntil(10*time.Second, func() bool { return s.Ping(context.Background()) == nil }) {
			t.Fatal("the store did not recover within 10 s of the database's return")
		}
		t.Logf("recovered %s after the database's return", time.Since(start).Round(time.Millisecond))
		for name, call := range calls {
			if err := call(context.Background()); err != nil {
				t.Errorf("after recovery, %s: %v", name, err)
			}
		}
	}
	t.Run("Frozen", func(t *testing.T) { outage(t, c.Freeze, c.Thaw) })
	t.Run("Stopped", func(t *testing.T) { outage(t, c.Stop, c.Start) })
}

// TestCallsUnderWayEndWhenTheDatabaseIsFoundDown: a call already waiting
// on a frozen database when the prober finds it down ends then (unavailable,
// with a Retry-After), as the calls after it fail at once, not at its own
// timeout (here 20 s).
func TestCallsUnderWayEndWhenTheDatabaseIsFoundDown(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	first, dsn := openFaulty(t, c)
	first.Close()
	s, err := Open(t.Context(), dsn, Options{MaxConns: 4, StatementTimeout: 30 * time.Second,
		IdleInTransactionTimeout: 30 * time.Second, ProbeInterval: 200 * time.Millisecond, CallTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.DataVersion(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Freeze(t)
	defer c.Thaw(t)
	start := time.Now()
	_, err = s.DataVersion(context.Background())
	took := time.Since(start)
	if zone.ErrorCode(err) != zone.CodeUnavailable || zone.ErrorRetryAfter(err) <= 0 {
		t.Fatalf("a call under way during the freeze: %v, want unavailable with a Retry-After", err)
	}
	if !s.health.down.Load() {
		t.Fatal("the call ended before the prober found the database down")
	}
	// the prober's interval and its own timeout, and a margin
	if took > 200*time.Millisecond+probeTimeout+time.Second {
		t.Fatalf("the call ended %s into the freeze, long after the prober found it down", took)
	}
	t.Logf("the call under way ended %s into the freeze", took.Round(time.Millisecond))
}

// TestAuditCallsWakeTheProber: an audit trail call that finds the
// database unavailable makes the prober probe at once (here it would
// otherwise wait an hour), as every other call does.
func TestAuditCallsWakeTheProber(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	first, dsn := openFaulty(t, c)
	first.Close()
	stores := map[string]*Store{}
	for name := range auditCalls(nil) {
		stores[name] = openProbed(t, dsn, time.Hour)
	}
	c.Stop(t)
	defer c.Start(t)
	for name, s := range stores {
		if err := auditCalls(s)[name](context.Background()); zone.ErrorCode(err) != zone.CodeUnavailable {
			t.Errorf("%s with the database stopped: %v, want unavailable", name, err)
		}
		if !waitUntil(3*time.Second, s.health.down.Load) {
			t.Errorf("%s found the database unavailable and the prober did not probe", name)
		}
	}
}

// starBase is a combat base with a 2,000-vertex outline (32 KB of WKB).
func starBase(i int) *zone.Component {
	ring := make(orb.Ring, 0, 2001)
	cx, cy := 104+float64(i%50)*0.01, 21+float64(i/50)*0.01
	for k := range 2000 {
		a := 2 * math.Pi * float64(k) / 2000
		r := 0.003 * (1 + 0.1*math.Sin(7*a+float64(k%13)))
		ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	return storetest.NewComponent(zone.LayerCombatBases, fmt.Sprintf("Căn cứ %d", i), orb.Polygon{ring})
}

// TestDiskFull: SQLSTATE 53100 is CodeStorageFull; Ping says so until the
// prober finds room again; what was stored stays readable.
func TestDiskFull(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.ClusterOptions{DiskMB: 32})
	s, dsn := openFaulty(t, c)
	auditor := openProbed(t, dsn, 200*time.Millisecond) // another instance, which only appends to the trail
	ctx := t.Context()
	var stored []*zone.Component
	for i := range 3 {
		stored = append(stored, storetest.Create(t, s, starBase(i)))
	}
	filler, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close(context.Background())
	fill := func() {
		t.Helper()
		if _, err := filler.Exec(ctx, `CREATE TABLE filler (b bytea); ALTER TABLE filler ALTER b SET STORAGE EXTERNAL`); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			_, err := filler.Exec(ctx, `INSERT INTO filler SELECT convert_to(repeat('x', 1 << 20), 'UTF8')`)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == sqlDiskFull {
				break
			}
			if err != nil || i > 100 {
				t.Fatalf("filling the disk: %v after %d MB", err, i)
			}
		}
		var full error
		for i := range 50 {
			if _, err := s.CreateComponent(ctx, starBase(100+i), "test"); err != nil {
				full = err
				break
			}
		}
		storetest.RequireCode(t, full, zone.CodeStorageFull, "a write on a full disk")
	}
	room := func() {
		t.Helper()
		if _, err := filler.Exec(ctx, `DROP TABLE filler`); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(5*time.Second, func() bool { return s.Ping(ctx) == nil }) {
			t.Fatalf("Ping still says %v 5 s after the disk has room", s.Ping(ctx))
		}
		if _, err := s.CreateComponent(ctx, starBase(999), "test"); err != nil {
			t.Fatalf("a write once the disk has room: %v", err)
		}
	}
	fill()
	// An audit append that finds the disk full marks its store full too.
	var auditFull error
	big := storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "", zone.Public, time.Now())
	noise := make([]byte, 32<<10)
	for range 50 {
		rand.Read(noise) // incompressible: TOAST cannot make it small
		big.ID, big.Detail = uuid.New(), json.RawMessage(`{"note":"`+hex.EncodeToString(noise)+`"}`)
		if _, err := auditor.AppendAudit(ctx, []zone.AuditEntry{big}); err != nil {
			auditFull = err
			break
		}
	}
	storetest.RequireCode(t, auditFull, zone.CodeStorageFull, "an audit append on a full disk")
	storetest.RequireCode(t, auditor.Ping(ctx), zone.CodeStorageFull, "Ping of the store whose audit append found the disk full")
	storetest.RequireCode(t, s.Ping(ctx), zone.CodeStorageFull, "Ping with the disk full")
	time.Sleep(500 * time.Millisecond) // a few probes, which must not find room
	storetest.RequireCode(t, s.Ping(ctx), zone.CodeStorageFull, "Ping with the disk still full")
	for _, c := range stored {
		if _, err := s.GetComponent(ctx, c.ID, zone.Secret); err != nil {
			t.Fatalf("a component stored before the disk filled: %v", err)
		}
	}
	room()
	// Full again, after probes that found room: they must not find it now.
	fill()
	time.Sleep(500 * time.Millisecond)
	storetest.RequireCode(t, s.Ping(ctx), zone.CodeStorageFull, "Ping with the disk full a second time")
	room()
	var probes int
	if err := filler.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'zoneplan_disk_probe%'`).Scan(&probes); err != nil || probes != 0 {
		t.Fatalf("disk probes left %d tables behind (%v)", probes, err)
	}
}

// TestDiskProbeAddsNoCatalogRows: the disk probe, run on a disk with room,
// succeeds, leaves disk_probe empty, and inserts no catalog rows (which a
// table created per probe did, a dozen dead ones each second of a full
// disk).
func TestDiskProbeAddsNoCatalogRows(t *testing.T) {
	_, dsn := openTest(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	inserted := func() int64 {
		t.Helper()
		// This backend's own counts, flushed when it goes idle.
		if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := conn.QueryRow(ctx, `SELECT sum(n_tup_ins) FROM pg_stat_sys_tables
			WHERE relname IN ('pg_class', 'pg_type', 'pg_attribute', 'pg_depend')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := inserted()
	for range 10 {
		if err := probeDisk(ctx, conn); err != nil {
			t.Fatalf("a disk probe with room: %v", err)
		}
	}
	if n := inserted() - before; n != 0 {
		t.Errorf("10 disk probes inserted %d catalog rows", n)
	}
	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM disk_probe`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("disk_probe holds %d rows after the probes (%v)", rows, err)
	}
}

// TestStatementLimits: the pool's connections get statement_timeout and
// idle_in_transaction_session_timeout (unless the DSN sets them), a short
// statement running past the limit is cancelled, and a long call (a full
// listing read slowly, holding its statement open) is not.
func TestStatementLimits(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := t.Context()
	if err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, Options{StatementTimeout: 200 * time.Millisecond, IdleInTransactionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, want := range map[string]string{"statement_timeout": "200ms", "idle_in_transaction_session_timeout": "300ms"} {
		var got string
		if err := s.pool.QueryRow(ctx, "SHOW "+name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %s", name, got, err, want)
		}
	}
	_, err = s.pool.Exec(ctx, `SELECT pg_sleep(0.5)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Errorf("a statement past statement_timeout: %v, want query_canceled (57014)", err)
	}
	if err := dbError(err, "read"); zone.ErrorCode(err) != zone.CodeUnavailable || zone.ErrorRetryAfter(err) <= 0 {
		t.Errorf("a statement past statement_timeout maps to %v, want unavailable with a Retry-After", err)
	}
	// 400 components of 40 KB: more than the socket buffers hold, so the
	// listing's statement stays open while the callback reads slowly.
	cs := make([]*zone.Component, 400)
	for i := range cs {
		cs[i] = storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{104 + float64(i)*0.001, 22})
		cs[i].Properties = map[string]any{"survey_note": strings.Repeat(fmt.Sprintf("Mốc %d đo lại. ", i), 2500)}
	}
	if _, err := s.ImportComponents(ctx, zone.LayerBorderMarkers, cs, zone.ImportOptions{By: "test"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n := 0
	if err := s.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, func(*zone.Component) error {
		n++
		time.Sleep(2 * time.Millisecond)
		return nil
	}); err != nil || n != len(cs) {
		t.Fatalf("a slow full listing: %d of %d after %s: %v", n, len(cs), time.Since(start), err)
	}
	// The DSN's own setting wins.
	other, err := Open(ctx, dsn+"&statement_timeout=1234", Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var got string
	if err := other.pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&got); err != nil || got != "1234ms" {
		t.Errorf("statement_timeout with the DSN setting it: %q, %v", got, err)
	}
}

package postgis

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestParsePosition(t *testing.T) {
	for _, s := range []string{"0/0", "0/16B3748", "16/B374D848", "FFFFFFFF/FFFFFFFF"} {
		p, err := ParsePosition(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePosition(%q) = %v (%s), %v", s, uint64(p), p, err)
		}
	}
	if p, _ := ParsePosition("1/0"); p != 1<<32 {
		t.Errorf("1/0 = %d, want 2^32", uint64(p))
	}
	// The insert position past a page's header is the end of the record
	// before it; anywhere else it is itself.
	for in, want := range map[string]string{"0/2018": "0/2000", "1/1000028": "1/1000000", "0/1000018": "0/1000018",
		"0/2020": "0/2020", "0/2000": "0/2000", "0/18": "0/18", "0/28": "0/0"} {
		p, _ := ParsePosition(in)
		if got := recordEnd(p).String(); got != want {
			t.Errorf("recordEnd(%s) = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "/", "0/", "/1", "12", "0/1/2", "G/1", "123456789/0", "-1/0", " 0 /1"} {
		if _, err := ParsePosition(bad); zone.ErrorCode(err) != zone.CodeInvalid {
			t.Errorf("ParsePosition(%q): %v, want invalid", bad, err)
		}
	}
}

// TestStandbyStore: a store on a hot standby of a primary that a second
// store writes to. It follows the change log by position (a subscription
// signals an edit, ChangesSince has it), hears revocations through the
// token_revocations table, waits for a write's position, reports the lag
// while replay is paused and while its WAL receiver is stopped (a broken
// link, seen through the primary's position), and fails writes as
// read-only.
func TestStandbyStore(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	primary, dsn := openFaulty(t, c)
	r := c.StartReplica(t)
	standby, err := Open(t.Context(), r.URL(pgtest.DBName(dsn)), Options{MaxConns: 4, ProbeInterval: 200 * time.Millisecond,
		Standby: true, PrimaryPosition: primary.WritePosition})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Close() })
	ctx := t.Context()
	if !waitUntil(5*time.Second, func() bool { return standby.ReplicaStatus().Known }) {
		t.Fatal("the standby's status is not known after 5 s")
	}
	if st := standby.ReplicaStatus(); !st.Standby || st.Lag != 0 {
		t.Fatalf("status %+v, want a standby with no lag", st)
	}
	changes, err := standby.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from, err := standby.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revocations, err := standby.WatchRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// An edit on the primary: its position, once replayed, gives a data
	// version whose changes hold it; a subscription is signalled.
	created, err := primary.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở BCHQS xã Bản Sao",
		Geometry: orb.Point{105.5, 22.5}, Synthetic: true}, "test")
	if err != nil {
		t.Fatal(err)
	}
	pos, err := primary.WritePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	version, err := standby.WaitReplayed(waitCtx, pos)
	cancel()
	if err != nil {
		t.Fatalf("WaitReplayed(%s): %v", pos, err)
	}
	if version <= from {
		t.Fatalf("WaitReplayed's data version %d is not past %d", version, from)
	}
	seen := false
	if _, err := standby.ChangesSince(ctx, from, func(ch zone.Change) error {
		seen = seen || ch.ID == created.ID
		return nil
	}); err != nil || !seen {
		t.Fatalf("the standby's change log after %d: %v, holds the edit: %v", from, err, seen)
	}
	select {
	case <-changes:
	case <-time.After(2 * time.Second):
		t.Fatal("no change signal from the standby within 2 s of the edit's replay")
	}

	// A revocation on the primary reaches the standby's watchers.
	tok := &zone.Token{Name: "Người xem", Role: zone.RoleViewer, Clearance: zone.Public, Hash: []byte("standby-test-hash")}
	if err := primary.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := primary.RevokeToken(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-revocations:
		if id != tok.ID {
			t.Fatalf("revocation of %s heard as %s", tok.ID, id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the revocation did not reach the standby's watcher within 2 s")
	}

	// Writes through the standby store are read-only errors.
	if _, err := standby.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "x",
		Geometry: orb.Point{105, 22}, Synthetic: true}, "test"); zone.ErrorCode(err) != zone.CodeReadOnly {
		t.Fatalf("a write on the standby: %v, want read_only", err)
	}

	// Replay paused: a new position is not reached, and the lag grows.
	onReplica, err := pgx.Connect(ctx, r.URL(pgtest.DBName(dsn)))
	if err != nil {
		t.Fatal(err)
	}
	defer onReplica.Close(context.Background())
	if _, err := onReplica.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở chờ",
		Geometry: orb.Point{105.6, 22.6}, Synthetic: true}, "test"); err != nil {
		t.Fatal(err)
	}
	if pos, err = primary.WritePosition(ctx); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = standby.WaitReplayed(waitCtx, pos)
	cancel()
	if zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("WaitReplayed with replay paused: %v, want unavailable", err)
	}
	if !waitUntil(5*time.Second, func() bool { return standby.ReplicaStatus().Lag > 700*time.Millisecond }) {
		t.Fatalf("lag with replay paused: %+v", standby.ReplicaStatus())
	}
	if _, err := onReplica.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel = context.WithTimeout(ctx, 5*time.Second)
	_, err = standby.WaitReplayed(waitCtx, pos)
	cancel()
	if err != nil {
		t.Fatalf("WaitReplayed once replay resumed: %v", err)
	}
	if !waitUntil(2*time.Second, func() bool { return standby.ReplicaStatus().Lag == 0 }) {
		t.Fatalf("lag once replay resumed: %+v", standby.ReplicaStatus())
	}
	// An idle primary: its position (the end of its last record) is what
	// the standby replays, so no lag builds up.
	time.Sleep(time.Second)
	if st := standby.ReplicaStatus(); st.Lag != 0 {
		t.Fatalf("lag with an idle primary: %+v", st)
	}

	// A broken link: the standby's WAL receiver stopped (SIGSTOP) receives
	// nothing, so only the primary's position shows the lag.
	var receiver int
	if err := onReplica.QueryRow(ctx, `SELECT pid FROM pg_stat_wal_receiver`).Scan(&receiver); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(receiver, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(receiver, syscall.SIGCONT)
		}
	}()
	if _, err := primary.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở khi mất kết nối",
		Geometry: orb.Point{105.7, 22.7}, Synthetic: true}, "test"); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(5*time.Second, func() bool { return standby.ReplicaStatus().Lag > 700*time.Millisecond }) {
		t.Fatalf("lag with the WAL receiver stopped: %+v", standby.ReplicaStatus())
	}
	if err := syscall.Kill(receiver, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	if !waitUntil(5*time.Second, func() bool { return standby.ReplicaStatus().Lag == 0 }) {
		t.Fatalf("lag once the WAL receiver goes on: %+v", standby.ReplicaStatus())
	}

	// Migrating a standby says what to do instead.
	if err := Migrate(ctx, r.URL(pgtest.DBName(dsn)), nil); zone.ErrorCode(err) != zone.CodeReadOnly {
		t.Fatalf("Migrate on the standby: %v, want read_only", err)
	}
}

// TestPositionKey: every database gets a key of its own, at least 32
// random bytes, made by its migration and read back unchanged.
func TestPositionKey(t *testing.T) {
	var keys [2][]byte
	for i := range keys {
		dsn := pgtest.New(t)
		if err := Migrate(t.Context(), dsn, nil); err != nil {
			t.Fatal(err)
		}
		s := openOn(t, dsn)
		k, err := s.PositionKey(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.PositionKey(t.Context())
		if err != nil || !bytes.Equal(k, again) {
			t.Fatalf("the key read twice: %x, %x (%v)", k, again, err)
		}
		if len(k) < 32 || bytes.Count(k, k[:1]) == len(k) {
			t.Fatalf("position key %x: want at least 32 random bytes", k)
		}
		keys[i] = k
	}
	if bytes.Equal(keys[0], keys[1]) {
		t.Fatal("two databases have the same position key")
	}
}

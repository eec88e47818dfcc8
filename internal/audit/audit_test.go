package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// chain seals n entries in memory, as a store would.
func chain(t *testing.T, n int) []zone.AuditEntry {
	t.Helper()
	out := make([]zone.AuditEntry, n)
	seq, prev := int64(0), audit.Genesis()
	for i := range out {
		e := storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "", zone.Public, time.Now())
		if err := audit.Seal(&e, seq, prev); err != nil {
			t.Fatal(err)
		}
		out[i], seq, prev = e, e.Seq, e.Hash
	}
	return out
}

func verify(es []zone.AuditEntry) *audit.Break {
	v := audit.NewVerifier()
	for _, e := range es {
		if b := v.Next(e); b != nil {
			return b
		}
	}
	return v.End()
}

// TestVerifierNamesTheBreak: every kind of tampering is found at the
// entry it touched, with what was touched.
func TestVerifierNamesTheBreak(t *testing.T) {
	if b := verify(chain(t, 6)); b != nil {
		t.Fatalf("intact chain reported broken: %v", b)
	}
	for _, c := range []struct {
		name   string
		tamper func([]zone.AuditEntry) []zone.AuditEntry
		seq    int64
		field  string
	}{
		{"a detail changed", func(es []zone.AuditEntry) []zone.AuditEntry {
			es[2].Detail = json.RawMessage(`{"verdict":"clear"}`)
			return es
		}, 3, "content"},
		{"the actor changed", func(es []zone.AuditEntry) []zone.AuditEntry { es[1].Actor = "someone else"; return es }, 2, "content"},
		{"the classification changed", func(es []zone.AuditEntry) []zone.AuditEntry { es[3].Classification = zone.Secret; return es }, 4, "content"},
		{"the time moved", func(es []zone.AuditEntry) []zone.AuditEntry { es[0].Time = es[0].Time.Add(time.Microsecond); return es }, 1, "content"},
		{"a stored hash changed", func(es []zone.AuditEntry) []zone.AuditEntry { es[2].Hash[0] ^= 1; return es }, 3, "hash"},
		{"an entry removed", func(es []zone.AuditEntry) []zone.AuditEntry { return append(es[:2:2], es[3:]...) }, 4, "seq"},
		{"two entries swapped", func(es []zone.AuditEntry) []zone.AuditEntry { es[2], es[3] = es[3], es[2]; return es }, 4, "seq"},
		{"an entry rewritten with its hash recomputed", func(es []zone.AuditEntry) []zone.AuditEntry {
			es[2].Actor = "someone else"
			es[2].Hash = audit.HashOf(es[2].Prev, &es[2])
			return es
		}, 4, "prev"},
		{"the last entry changed", func(es []zone.AuditEntry) []zone.AuditEntry { es[5].Action = "nothing"; return es }, 6, "content or hash"},
		{"the first entry's link changed", func(es []zone.AuditEntry) []zone.AuditEntry { es[0].Prev = es[1].Hash; return es }, 1, "prev"},
	} {
		b := verify(c.tamper(chain(t, 6)))
		if b == nil || b.Seq != c.seq || b.Field != c.field {
			t.Errorf("%s: got %v, want a break at entry %d in %s", c.name, b, c.seq, c.field)
		}
	}
}

// TestCanonicalCoversEveryField: changing any one field changes the hash.
func TestCanonicalCoversEveryField(t *testing.T) {
	e := chain(t, 1)[0]
	base := audit.HashOf(e.Prev, &e)
	for name, change := range map[string]func(*zone.AuditEntry){
		"seq":             func(e *zone.AuditEntry) { e.Seq++ },
		"id":              func(e *zone.AuditEntry) { e.ID = uuid.New() },
		"time":            func(e *zone.AuditEntry) { e.Time = e.Time.Add(time.Microsecond) },
		"action":          func(e *zone.AuditEntry) { e.Action += "x" },
		"actor id":        func(e *zone.AuditEntry) { e.ActorID = uuid.New() },
		"actor":           func(e *zone.AuditEntry) { e.Actor += "x" },
		"role":            func(e *zone.AuditEntry) { e.Role = zone.RoleAdmin },
		"actor clearance": func(e *zone.AuditEntry) { e.ActorClearance = zone.Secret },
		"object":          func(e *zone.AuditEntry) { e.Object = "x" },
		"layer":           func(e *zone.AuditEntry) { e.Layer = "x" },
		"classification":  func(e *zone.AuditEntry) { e.Classification = zone.Secret },
		"detail":          func(e *zone.AuditEntry) { e.Detail = json.RawMessage(`{}`) },
		"prev":            func(e *zone.AuditEntry) { e.Prev = append([]byte{1}, e.Prev[1:]...) },
		// Shifting bytes from one field to the next must change it too.
		"actor/role boundary": func(e *zone.AuditEntry) { e.Actor, e.Role = e.Actor+string(e.Role), "" },
	} {
		c := e
		change(&c)
		if string(audit.HashOf(c.Prev, &c)) == string(base) {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}

func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "audit.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// faulty is a real store whose appends fail while down is set (a database
// that stopped answering) and that counts append transactions.
type faulty struct {
	zone.Store
	down    atomic.Bool
	appends atomic.Int64
}

func (f *faulty) AppendAudit(ctx context.Context, es []zone.AuditEntry) ([]zone.AuditEntry, error) {
	if f.down.Load() {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "database down"}
	}
	f.appends.Add(1)
	return f.Store.AppendAudit(ctx, es)
}

func entry(i int) zone.AuditEntry {
	return zone.AuditEntry{Action: zone.AuditCheck, Actor: fmt.Sprintf("caller %d", i), Detail: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
}

// TestRecorderBatches: many entries from many goroutines reach the store
// in few transactions, in one intact chain, each once.
func TestRecorderBatches(t *testing.T) {
	st := &faulty{Store: openStore(t)}
	r := audit.NewRecorder(st, audit.Options{FlushEvery: 20 * time.Millisecond, BatchMax: 200})
	const goroutines, each = 8, 250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := r.Admit(); err != nil {
					t.Error(err)
					return
				}
				r.Record(entry(g*each + i))
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rep, err := audit.Verify(ctx, st)
	if err != nil || rep.Break != nil || rep.Entries != goroutines*each {
		t.Fatalf("%+v %v: want an intact chain of %d", rep, err, goroutines*each)
	}
	if n := st.appends.Load(); n > goroutines*each/20 {
		t.Errorf("%d entries took %d append transactions: not batched", goroutines*each, n)
	}
	seen := map[string]bool{}
	_ = st.ScanAudit(ctx, 0, func(e zone.AuditEntry) error {
		if seen[e.Actor] {
			t.Errorf("%s recorded twice", e.Actor)
		}
		seen[e.Actor] = true
		return nil
	})
	if s := r.Stats(); s.Appended != goroutines*each || s.Queued != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestRecorderOutage: while the store fails, entries stay queued and
// actions are admitted up to the backlog; past it Admit refuses with 503
// and a Retry-After; once the store answers, everything queued is
// appended in order and actions are admitted again.
func TestRecorderOutage(t *testing.T) {
	st := &faulty{Store: openStore(t)}
	st.down.Store(true)
	r := audit.NewRecorder(st, audit.Options{FlushEvery: 10 * time.Millisecond, BatchMax: 10, Backlog: 50, RetryAfter: 3 * time.Second})
	defer r.Close(context.Background())
	for i := range 50 {
		if err := r.Admit(); err != nil {
			t.Fatalf("entry %d refused below the backlog: %v", i, err)
		}
		r.Record(entry(i))
	}
	err := r.Admit()
	if zone.ErrorCode(err) != zone.CodeUnavailable || zone.ErrorRetryAfter(err) != 3*time.Second {
		t.Fatalf("Admit with a full backlog: %v, want unavailable with Retry-After 3s", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if err := r.Flush(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush while the store is down: %v, want the deadline", err)
	}
	cancel()
	if s := r.Stats(); !s.Failing || s.Failures == 0 || s.Refused != 1 || s.Queued != 50 {
		t.Fatalf("stats while down: %+v", s)
	}
	st.down.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("Flush after recovery: %v", err)
	}
	if err := r.Admit(); err != nil {
		t.Fatalf("Admit after recovery: %v", err)
	}
	i := 0
	err = st.ScanAudit(ctx, 0, func(e zone.AuditEntry) error {
		if e.Actor != fmt.Sprintf("caller %d", i) {
			return fmt.Errorf("entry %d is %q, want caller %d", e.Seq, e.Actor, i)
		}
		i++
		return nil
	})
	if err != nil || i != 50 {
		t.Fatalf("after the outage: %d entries, %v", i, err)
	}
}

// TestRecorderCloseFlushes: what is queued at Close is appended before it
// returns, and RecordNow does not wait for the tick.
func TestRecorderCloseFlushes(t *testing.T) {
	st := openStore(t)
	r := audit.NewRecorder(st, audit.Options{FlushEvery: time.Hour})
	r.RecordNow(entry(0))
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats().Appended == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if r.Stats().Appended != 1 {
		t.Fatal("RecordNow's entry waited for the tick (an hour)")
	}
	for i := 1; i <= 5; i++ {
		r.Record(entry(i))
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), st)
	if err != nil || rep.Entries != 6 || rep.Break != nil {
		t.Fatalf("after Close: %+v %v, want 6 entries", rep, err)
	}
	if err := r.Admit(); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Errorf("Admit after Close: %v", err)
	}
}

// TestEncodeDecode: the stored form reads back to the entry, and
// SealEncoded seals as Seal does.
func TestEncodeDecode(t *testing.T) {
	es := chain(t, 2)
	for _, e := range es {
		got, err := audit.Decode(audit.Encode(&e))
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != e.Seq || got.ID != e.ID || !got.Time.Equal(e.Time) || got.Actor != e.Actor || got.Role != e.Role ||
			got.ActorID != e.ActorID || got.Classification != e.Classification || string(got.Detail) != string(e.Detail) ||
			string(got.Prev) != string(e.Prev) || string(got.Hash) != string(e.Hash) {
			t.Fatalf("decoded %+v\nwant    %+v", got, e)
		}
	}
	e := storetest.AuditEntry(zone.AuditCheck, "An", uuid.New(), "x", zone.Internal, time.Now())
	c := e
	rec, err := audit.SealEncoded(&e, es[1].Seq, es[1].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Seal(&c, es[1].Seq, es[1].Hash); err != nil {
		t.Fatal(err)
	}
	if string(e.Hash) != string(c.Hash) || string(rec) != string(audit.Encode(&c)) {
		t.Fatal("SealEncoded differs from Seal and Encode")
	}
	if b := verify(append(es, e)); b != nil {
		t.Fatalf("sealed onto the chain: %v", b)
	}
	for _, bad := range [][]byte{nil, rec[:40], rec[:len(rec)-1], append([]byte("x"), rec...)} {
		if _, err := audit.Decode(bad); err == nil {
			t.Errorf("Decode of %d bad bytes succeeded", len(bad))
		}
	}
}

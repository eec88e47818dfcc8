// Package embedded is zoneplan's no-database store: every zone.Store
// operation kept in one bbolt file that a single process opens at a time.
//
// Layout (bucket: key -> value):
//
//	components: id (16 bytes) -> component record (JSON, geometries as WKB)
//	layer_index: layer 0x00 id -> classification (1 byte) + geometry envelope (4 float64)
//	codes: layer 0x00 code -> id
//	changes: seq (8 bytes, big endian) -> deleted flag (1 byte) + id (16) + layer
//	meta: "format", "seq" (latest change), "pruned" (changes up to it are gone), "ruleset"
//	tokens: id -> token record; token_hashes: hash -> id
//	appraisals: id -> appraisal; checks: appraisal id + time + check id -> check record
//	check_views: check key + clearance (1 byte) -> the check's result as that clearance sees it
//	rulesets: version -> rule set record
//	coverage: id -> coverage record (JSON, geometry as WKB); meta "coverage" is its version (coverage.go)
//	audit: seq (8 bytes) -> audit entry; audit_ids, audit_objects, audit_actors: its indexes (audit.go)
//
// Commits are fsynced (bbolt's default), so an acknowledged write survives
// the process being killed. A write that finds the disk full (ENOSPC) is
// rolled back whole (bbolt writes its pages before the meta page that
// makes them current) and fails with CodeStorageFull; Ping then reports
// the store full until the file's filesystem has room again.
package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/zoneplan/zoneplan/internal/zone"
)

var _ zone.Store = (*Store)(nil)

// format names the file layout; a file of another format is refused.
const format = "zoneplan-embedded/1"

var (
	bucketComponents = []byte("components")
	bucketLayerIndex = []byte("layer_index")
	bucketCodes      = []byte("codes")
	bucketChanges    = []byte("changes")
	bucketMeta       = []byte("meta")
	bucketTokens     = []byte("tokens")
	bucketTokenHash  = []byte("token_hashes")
	bucketAppraisals = []byte("appraisals")
	bucketChecks     = []byte("checks")
	bucketViews      = []byte("check_views")
	bucketRuleSets   = []byte("rulesets")
	bucketCoverage   = []byte("coverage")

	bucketAudit        = []byte("audit")
	bucketAuditIDs     = []byte("audit_ids")
	bucketAuditObjects = []byte("audit_objects")
	bucketAuditActors  = []byte("audit_actors")

	metaFormat  = []byte("format")
	metaSeq     = []byte("seq")
	metaPruned  = []byte("pruned")
	metaRuleSet = []byte("ruleset")
)

func allBuckets() [][]byte {
	return [][]byte{bucketComponents, bucketLayerIndex, bucketCodes, bucketChanges, bucketMeta,
		bucketTokens, bucketTokenHash, bucketAppraisals, bucketChecks, bucketViews, bucketRuleSets,
		bucketCoverage, bucketAudit, bucketAuditIDs, bucketAuditObjects, bucketAuditActors}
}

// Options tunes Open. The zero value is usable.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file before failing; default 200ms.
	LockTimeout time.Duration
	// KeepChanges is how many change-log entries are kept for ChangesSince;
	// default 100,000. Older ones are pruned (ChangesSince then answers
	// zone.ErrChangesPruned and the caller reloads). Only this process
	// writes the file and its index follows within moments, so a short log
	// is enough.
	KeepChanges int64
}

// Store is the embedded zone.Store. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	path    string
	created bool
	keep    int64
	changes *hub[struct{}]  // a value after each committed change to components, coalesced
	revoked *hub[uuid.UUID] // revoked tokens' ids; a watcher revocationBuffer behind is dropped
	now     func() time.Time
	// full is set when a write finds the disk full, and cleared by the
	// next write that succeeds or by Ping finding room (spaceMargin).
	full atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

// Open opens or creates the store file at path. When another process holds
// the file it fails within opt.LockTimeout with CodeUnavailable.
func Open(path string, opt Options) (*Store, error) {
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = 200 * time.Millisecond
	}
	if opt.KeepChanges <= 0 {
		opt.KeepChanges = 100_000
	}
	created := false
	if fi, err := os.Stat(path); errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0) {
		created = true
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opt.LockTimeout,
		FreelistType: bolt.FreelistMapType,
		// Map 1 GiB of address space up front (the file does not grow with
		// it): every remap while the file grows copies all pages a write
		// transaction holds, which dominated large imports.
		InitialMmapSize: 1 << 30,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Err: err, Message: fmt.Sprintf(
			"database file %s is in use by another zoneplan process (is the server running?); stop it or point ZONEPLAN_DB elsewhere", path)}
	}
	if err != nil {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Err: err, Message: fmt.Sprintf("cannot open database file %s: %v", path, err)}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets() {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch got := meta.Get(metaFormat); {
		case got == nil:
			return meta.Put(metaFormat, []byte(format))
		case string(got) != format:
			return zone.Errorf(zone.CodeUnavailable, "database file %s has format %q; this zoneplan reads %q", path, got, format)
		}
		return nil
	})
	if err != nil {
		db.Close()
		if zone.ErrorCode(err) == zone.CodeUnavailable {
			return nil, err
		}
		return nil, &zone.Error{Code: zone.CodeUnavailable, Err: err, Message: fmt.Sprintf("cannot open database file %s: %v", path, err)}
	}
	return &Store{db: db, path: path, created: created, keep: opt.KeepChanges, changes: newHub[struct{}](1, false), revoked: newHub[uuid.UUID](revocationBuffer, true),
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// Created reports whether this Open created the file (it did not exist or
// was empty), so the caller may seed it.
func (s *Store) Created() bool { return s.created }

// Path is the file the store keeps its data in.
func (s *Store) Path() string { return s.path }

// Ping reports whether the store is open, and CodeStorageFull while a
// write has found the disk full and the file's filesystem has not had
// spaceMargin free since.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.fail(s.db.View(func(*bolt.Tx) error { return nil }), "ping"); err != nil {
		return err
	}
	if s.full.Load() {
		if free, ok := freeSpace(s.path); !ok || free < spaceMargin {
			return &zone.Error{Code: zone.CodeStorageFull, Message: "the embedded store's disk is full"}
		}
		s.full.Store(false)
	}
	return nil
}

// spaceMargin is the free space at which a store found full counts as
// having room again: many ordinary writes' worth (a component is a few KB;
// bbolt grows its file sparsely, so growth itself needs no room).
const spaceMargin = 1 << 20

// Close closes the file and every subscription. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.changes.close()
		s.revoked.close()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// fail turns a bbolt or encoding error into a zone error; zone errors pass
// through unchanged.
func (s *Store) fail(err error, op string) error {
	if err == nil {
		return nil
	}
	var ze *zone.Error
	if errors.As(err, &ze) {
		return err
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return &zone.Error{Code: zone.CodeUnavailable, Message: "the embedded store is closed", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &zone.Error{Code: zone.CodeUnavailable, Message: op + " was cancelled", Err: err}
	}
	if noSpace(err) {
		s.full.Store(true)
		return &zone.Error{Code: zone.CodeStorageFull, Message: op + ": the embedded store's disk is full; nothing was written", Err: err}
	}
	return zone.InternalError(err, "embedded store: %s", op)
}

// noSpace reports whether err is a full disk or quota. bbolt wraps some
// file errors with %s rather than %w, so the message is matched too.
func noSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// update runs fn in one write transaction and tells subscribers after a
// commit that changed components.
func (s *Store) update(ctx context.Context, op string, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return s.fail(err, op)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := newTxn(tx, s)
		if err := fn(t); err != nil {
			return err
		}
		if err := t.finish(); err != nil {
			return err
		}
		if t.changed {
			tx.OnCommit(func() { s.changes.send(struct{}{}) })
		}
		return nil
	})
	if err == nil {
		s.full.Store(false) // a commit found room
	}
	return s.fail(err, op)
}

func (s *Store) view(ctx context.Context, op string, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return s.fail(err, op)
	}
	return s.fail(s.db.View(func(tx *bolt.Tx) error { return fn(newTxn(tx, s)) }), op)
}

func u64(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func putU64(v int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return b
}

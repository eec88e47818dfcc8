package embedded

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The audit trail: bucket audit holds the entries (seq, 8 bytes big endian
// -> audit.Encode: the canonical encoding, which holds every field, between
// the two hashes), and three index buckets lead to them: audit_ids
// (entry id -> seq), audit_objects (object 0x00 seq -> nothing) and
// audit_actors (actor token id, seq -> nothing). The code only ever puts new
// keys in these buckets; it never changes or deletes one.

func decodeAudit(v []byte) (zone.AuditEntry, error) { return audit.Decode(v) }

func objectKey(object string, seq int64) []byte {
	return append(append([]byte(object), 0), putU64(seq)...)
}

func actorKey(id uuid.UUID, seq int64) []byte { return append(id[:len(id):len(id)], putU64(seq)...) }

// AppendAudit seals and appends entries in one write transaction (bbolt
// has one writer at a time, so the chain is one).
func (s *Store) AppendAudit(ctx context.Context, entries []zone.AuditEntry) ([]zone.AuditEntry, error) {
	out := make([]zone.AuditEntry, 0, len(entries))
	err := s.update(ctx, "append audit entries", func(t *txn) error {
		out = out[:0]
		b, ids := t.tx.Bucket(bucketAudit), t.tx.Bucket(bucketAuditIDs)
		objects, actors := t.tx.Bucket(bucketAuditObjects), t.tx.Bucket(bucketAuditActors)
		b.FillPercent, ids.FillPercent = 1.0, 1.0 // sequential keys (ids are UUIDv7): full pages
		seq, prev := int64(0), audit.Genesis()
		if k, v := b.Cursor().Last(); k != nil {
			last, err := decodeAudit(v)
			if err != nil {
				return err
			}
			seq, prev = u64(k), last.Hash
		}
		for _, e := range entries {
			if ids.Get(e.ID[:]) != nil {
				continue
			}
			rec, err := audit.SealEncoded(&e, seq, prev)
			if err != nil {
				return zone.Errorf(zone.CodeInvalid, "%v", err)
			}
			key := putU64(e.Seq)
			if err := b.Put(key, rec); err != nil {
				return err
			}
			if err := ids.Put(e.ID[:], key); err != nil {
				return err
			}
			if e.Object != "" {
				if err := objects.Put(objectKey(e.Object, e.Seq), nil); err != nil {
					return err
				}
			}
			if e.ActorID != uuid.Nil {
				if err := actors.Put(actorKey(e.ActorID, e.Seq), nil); err != nil {
					return err
				}
			}
			seq, prev = e.Seq, e.Hash
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// clockSlack is how far before Since a newest-first listing keeps looking:
// entries are appended in time order, but a wall clock may step back.
const clockSlack = time.Hour

// ListAudit returns the entries q selects, newest first: through the
// object or actor index when q names one, else walking the trail back.
func (s *Store) ListAudit(ctx context.Context, q zone.AuditQuery) ([]zone.AuditEntry, error) {
	var out []zone.AuditEntry
	err := s.view(ctx, "list audit entries", func(t *txn) error {
		b := t.tx.Bucket(bucketAudit)
		before := int64(1<<63 - 1)
		if q.Before != uuid.Nil {
			v := t.tx.Bucket(bucketAuditIDs).Get(q.Before[:])
			if v == nil {
				return zone.Errorf(zone.CodeInvalid, "no audit entry %s to continue from", q.Before)
			}
			before = u64(v)
		}
		actorID, actorIsID := uuid.Nil, false
		if id, err := uuid.Parse(q.Actor); err == nil {
			actorID, actorIsID = id, true
		}
		// seqs walks the candidate sequence numbers below before, newest first.
		var seqs func(fn func(seq int64) bool)
		switch {
		case q.Object != "":
			seqs = indexWalk(t.tx.Bucket(bucketAuditObjects), append([]byte(q.Object), 0), before)
		case actorIsID:
			seqs = indexWalk(t.tx.Bucket(bucketAuditActors), actorID[:], before)
		default:
			seqs = func(fn func(int64) bool) {
				c := b.Cursor()
				k, _ := c.Seek(putU64(before))
				if k == nil {
					k, _ = c.Last()
				}
				for ; k != nil; k, _ = c.Prev() {
					if seq := u64(k); seq < before && !fn(seq) {
						return
					}
				}
			}
		}
		var ferr error
		seqs(func(seq int64) bool {
			if q.AfterSeq > 0 && seq <= q.AfterSeq {
				return false
			}
			v := b.Get(putU64(seq))
			if v == nil {
				return true
			}
			e, err := decodeAudit(v)
			if err != nil {
				ferr = err
				return false
			}
			if !q.Since.IsZero() && e.Time.Before(q.Since.Add(-clockSlack)) {
				return false
			}
			if auditMatches(&e, q, actorID, actorIsID) {
				out = append(out, e)
			}
			return q.Limit <= 0 || len(out) < q.Limit
		})
		return ferr
	})
	return out, err
}

// indexWalk walks an index bucket's keys prefix+seq for seq below before,
// newest first.
func indexWalk(idx *bolt.Bucket, prefix []byte, before int64) func(func(int64) bool) {
	return func(fn func(int64) bool) {
		c := idx.Cursor()
		start := append(append([]byte(nil), prefix...), putU64(before)...)
		k, _ := c.Seek(start)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, _ = c.Prev() {
			if !fn(u64(k[len(prefix):])) {
				return
			}
		}
	}
}

// auditMatches applies q's filters to e.
func auditMatches(e *zone.AuditEntry, q zone.AuditQuery, actorID uuid.UUID, actorIsID bool) bool {
	switch {
	case !q.Clearance.Allows(e.Classification):
		return false
	case q.Actor != "" && actorIsID && e.ActorID != actorID:
		return false
	case q.Actor != "" && !actorIsID && e.Actor != q.Actor:
		return false
	case q.Object != "" && e.Object != q.Object:
		return false
	case !q.Since.IsZero() && e.Time.Before(q.Since):
		return false
	case !q.Until.IsZero() && !e.Time.Before(q.Until):
		return false
	}
	if q.Action != "" {
		if p, ok := strings.CutSuffix(q.Action, "*"); ok {
			return strings.HasPrefix(e.Action, p)
		}
		return e.Action == q.Action
	}
	return true
}

// ScanAudit calls fn for every entry after seq after, in chain order.
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(zone.AuditEntry) error) error {
	return s.view(ctx, "scan the audit trail", func(t *txn) error {
		c := t.tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(putU64(after + 1)); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := decodeAudit(v)
			if err != nil {
				return zone.InternalError(err, "audit entry %d does not decode", u64(k))
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

package embedded

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/paulmach/orb/encoding/wkb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/zone"
)

var metaCoverage = []byte("coverage")

// coverageRecord is a stored coverage: its fields, the geometry as WKB.
type coverageRecord struct {
	zone.Coverage
	WKB []byte `json:"wkb"`
}

func decodeCoverage(b []byte) (*zone.Coverage, error) {
	var r coverageRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	g, err := wkb.Unmarshal(r.WKB)
	if err != nil {
		return nil, err
	}
	mp, ok := zone.AsMultiPolygon(g)
	if !ok {
		return nil, zone.InternalError(nil, "stored coverage %s is not a polygon", r.ID)
	}
	c := r.Coverage
	c.Geometry = mp
	return &c, nil
}

// PutCoverage creates or replaces a coverage (zone.CoverageStore).
func (s *Store) PutCoverage(ctx context.Context, c *zone.Coverage, ifVersion int64, clearance zone.Classification, by string) (*zone.Coverage, error) {
	in, err := zone.PrepareCoverage(c)
	if err != nil {
		return nil, err
	}
	g, err := wkb.Marshal(in.Geometry)
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "the coverage geometry cannot be encoded: %v", err)
	}
	var out *zone.Coverage
	err = s.coverageUpdate(ctx, "store the coverage", func(b *bolt.Bucket) error {
		var version int64
		if old := b.Get(in.ID[:]); old != nil {
			prev, err := decodeCoverage(old)
			if err != nil {
				return err
			}
			if !clearance.Allows(prev.Classification) {
				return zone.Errorf(zone.CodeNotFound, "no coverage %s", in.ID)
			}
			version = prev.Version
		}
		if version == 0 && ifVersion != 0 || version != 0 && ifVersion != 0 && ifVersion != version {
			return zone.Errorf(zone.CodeConflict, "coverage %s is at version %d, not %d", in.ID, version, ifVersion)
		}
		in.Version, in.UpdatedBy, in.UpdatedAt = version+1, by, s.now()
		rec, err := json.Marshal(coverageRecord{Coverage: in, WKB: g})
		if err != nil {
			return err
		}
		out = &in
		return b.Put(in.ID[:], rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// coverageUpdate runs fn on the coverage bucket in a write transaction,
// advances the coverage version and, once committed, signals the change
// feed's subscribers.
func (s *Store) coverageUpdate(ctx context.Context, op string, fn func(*bolt.Bucket) error) error {
	return s.update(ctx, op, func(t *txn) error {
		if err := fn(t.tx.Bucket(bucketCoverage)); err != nil {
			return err
		}
		t.tx.OnCommit(func() { s.changes.send(struct{}{}) })
		return t.meta.Put(metaCoverage, putU64(u64(t.meta.Get(metaCoverage))+1))
	})
}

// GetCoverage returns one coverage (zone.CoverageStore).
func (s *Store) GetCoverage(ctx context.Context, id uuid.UUID, clearance zone.Classification) (*zone.Coverage, error) {
	var out *zone.Coverage
	err := s.view(ctx, "read the coverage", func(t *txn) error {
		b := t.tx.Bucket(bucketCoverage).Get(id[:])
		if b == nil {
			return zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
		}
		c, err := decodeCoverage(b)
		if err != nil {
			return err
		}
		if !clearance.Allows(c.Classification) {
			return zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
		}
		out = c
		return nil
	})
	return out, err
}

// ListCoverage lists every coverage up to clearance (zone.CoverageStore).
func (s *Store) ListCoverage(ctx context.Context, clearance zone.Classification) ([]zone.Coverage, error) {
	var out []zone.Coverage
	err := s.view(ctx, "list the coverage", func(t *txn) error {
		return t.tx.Bucket(bucketCoverage).ForEach(func(_, v []byte) error {
			c, err := decodeCoverage(v)
			if err != nil {
				return err
			}
			if clearance.Allows(c.Classification) {
				out = append(out, *c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	zone.SortCoverage(out)
	return out, nil
}

// DeleteCoverage removes one coverage (zone.CoverageStore).
func (s *Store) DeleteCoverage(ctx context.Context, id uuid.UUID, ifVersion int64, clearance zone.Classification, by string) error {
	return s.coverageUpdate(ctx, "delete the coverage", func(b *bolt.Bucket) error {
		old := b.Get(id[:])
		if old == nil {
			return zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
		}
		c, err := decodeCoverage(old)
		if err != nil {
			return err
		}
		if !clearance.Allows(c.Classification) {
			return zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
		}
		if ifVersion != 0 && ifVersion != c.Version {
			return zone.Errorf(zone.CodeConflict, "coverage %s is at version %d, not %d", id, c.Version, ifVersion)
		}
		return b.Delete(id[:])
	})
}

// CoverageVersion grows with every change to the coverage (zone.CoverageStore).
func (s *Store) CoverageVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.view(ctx, "read the coverage version", func(t *txn) error {
		v = u64(t.meta.Get(metaCoverage))
		return nil
	})
	return v, err
}

package postgis

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

const coverageColumns = `id, layer, area, status, as_of, classification, note, ST_AsBinary(geom), version, updated_by, updated_at`

func scanCoverage(row pgx.Row) (*zone.Coverage, error) {
	var c zone.Coverage
	var cl int16
	var g []byte
	if err := row.Scan(&c.ID, &c.Layer, &c.Area, &c.Status, &c.AsOf, &cl, &c.Note, &g, &c.Version, &c.UpdatedBy, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.Classification = zone.Classification(cl)
	c.AsOf, c.UpdatedAt = c.AsOf.UTC(), c.UpdatedAt.UTC()
	geom, err := wkb.Unmarshal(g)
	if err != nil {
		return nil, zone.InternalError(err, "coverage %s has a geometry that does not decode", c.ID)
	}
	mp, ok := zone.AsMultiPolygon(geom)
	if !ok {
		return nil, zone.InternalError(nil, "coverage %s is not a polygon", c.ID)
	}
	c.Geometry = mp
	return &c, nil
}

// PutCoverage creates or replaces a coverage (zone.CoverageStore).
func (s *Store) PutCoverage(ctx context.Context, c *zone.Coverage, ifVersion int64, clearance zone.Classification, by string) (_ *zone.Coverage, err error) {
	in, err := zone.PrepareCoverage(c)
	if err != nil {
		return nil, err
	}
	g, err := wkb.Marshal(in.Geometry)
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "the coverage geometry cannot be encoded: %v", err)
	}
	ctx, end, err := s.call(ctx, "store the coverage")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, dbError(err, "store the coverage")
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var version int64
	var cl int16
	err = tx.QueryRow(ctx, `SELECT version, classification FROM coverage WHERE id = $1 FOR UPDATE`, in.ID).Scan(&version, &cl)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		version = 0
	case err != nil:
		return nil, dbError(err, "store the coverage")
	case !clearance.Allows(zone.Classification(cl)):
		return nil, zone.Errorf(zone.CodeNotFound, "no coverage %s", in.ID)
	}
	if version == 0 && ifVersion != 0 || version != 0 && ifVersion != 0 && ifVersion != version {
		return nil, zone.Errorf(zone.CodeConflict, "coverage %s is at version %d, not %d", in.ID, version, ifVersion)
	}
	row := tx.QueryRow(ctx, `INSERT INTO coverage (id, layer, area, status, as_of, classification, note, geom, version, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, ST_Multi(ST_GeomFromWKB($8, 4326)), $9, $10, now())
		ON CONFLICT (id) DO UPDATE SET layer = EXCLUDED.layer, area = EXCLUDED.area, status = EXCLUDED.status,
			as_of = EXCLUDED.as_of, classification = EXCLUDED.classification, note = EXCLUDED.note, geom = EXCLUDED.geom,
			version = EXCLUDED.version, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
		RETURNING `+coverageColumns,
		in.ID, in.Layer, in.Area, in.Status, in.AsOf, int16(in.Classification), in.Note, g, version+1, by)
	out, err := scanCoverage(row)
	if err != nil {
		return nil, dbError(err, "store the coverage")
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, dbError(err, "store the coverage")
	}
	return out, nil
}

// GetCoverage returns one coverage (zone.CoverageStore).
func (s *Store) GetCoverage(ctx context.Context, id uuid.UUID, clearance zone.Classification) (_ *zone.Coverage, err error) {
	ctx, end, err := s.call(ctx, "read the coverage")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	c, err := scanCoverage(s.pool.QueryRow(ctx, `SELECT `+coverageColumns+` FROM coverage WHERE id = $1 AND classification <= $2`, id, int16(clearance)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
	}
	if err != nil {
		return nil, dbError(err, "read the coverage")
	}
	return c, nil
}

// ListCoverage lists every coverage up to clearance (zone.CoverageStore).
func (s *Store) ListCoverage(ctx context.Context, clearance zone.Classification) (_ []zone.Coverage, err error) {
	ctx, end, err := s.call(ctx, "list the coverage")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	rows, err := s.pool.Query(ctx, `SELECT `+coverageColumns+` FROM coverage WHERE classification <= $1`, int16(clearance))
	if err != nil {
		return nil, dbError(err, "list the coverage")
	}
	defer rows.Close()
	var out []zone.Coverage
	for rows.Next() {
		c, err := scanCoverage(rows)
		if err != nil {
			return nil, dbError(err, "list the coverage")
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "list the coverage")
	}
	zone.SortCoverage(out)
	return out, nil
}

// DeleteCoverage removes one coverage (zone.CoverageStore).
func (s *Store) DeleteCoverage(ctx context.Context, id uuid.UUID, ifVersion int64, clearance zone.Classification, by string) (err error) {
	ctx, end, err := s.call(ctx, "delete the coverage")
	if err != nil {
		return err
	}
	defer end(&err)
	var version int64
	err = s.pool.QueryRow(ctx, `DELETE FROM coverage WHERE id = $1 AND classification <= $2 AND ($3 = 0 OR version = $3) RETURNING version`,
		id, int16(clearance), ifVersion).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM coverage WHERE id = $1 AND classification <= $2)`, id, int16(clearance)).Scan(&exists); err != nil {
			return dbError(err, "delete the coverage")
		}
		if exists {
			return zone.Errorf(zone.CodeConflict, "coverage %s is not at version %d", id, ifVersion)
		}
		return zone.Errorf(zone.CodeNotFound, "no coverage %s", id)
	}
	return dbError(err, "delete the coverage")
}

// CoverageVersion grows with every change to the coverage table, however
// made (zone.CoverageStore).
func (s *Store) CoverageVersion(ctx context.Context) (_ int64, err error) {
	ctx, end, err := s.call(ctx, "read the coverage version")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT version FROM coverage_version`).Scan(&v); err != nil {
		return 0, dbError(err, "read the coverage version")
	}
	return v, nil
}

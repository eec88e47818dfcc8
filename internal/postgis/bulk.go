package postgis

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// ListAllComponents calls fn for every component, of every layer and
// classification, in no particular order: the index's full load
// (index.BulkSource). fn is called from one goroutine, after everything is
// read.
//
// It reads the components and their zones as two plain table scans on two
// connections at once, in one snapshot (exported by the first transaction,
// taken up by the second), and joins them here by id. ListComponents'
// one-row-per-component query has the database look up and aggregate each
// component's zones in a nested loop and sort by layer: at a million
// components that was most of a 20 s start. Here the database streams
// two tables and both cores decode.
//
// The components share equal property maps and short strings
// (zone.Sharer): treat them as read-only.
func (s *Store) ListAllComponents(ctx context.Context, fn func(*zone.Component) error) (err error) {
	ctx, end, err := s.longCall(ctx, "list components")
	if err != nil {
		return err
	}
	defer end(&err)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	first, err := s.beginBulk(ctx, "")
	if err != nil {
		return dbError(err, "list components")
	}
	defer first.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	var snapshot string
	if err := first.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return dbError(err, "list components")
	}
	second, err := s.beginBulk(ctx, snapshot)
	if err != nil {
		return dbError(err, "list components")
	}
	defer second.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only

	var (
		wg       sync.WaitGroup
		zones    map[uuid.UUID][]orderedZone
		zonesErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if zones, zonesErr = readAllZones(ctx, second); zonesErr != nil {
			cancel()
		}
	}()
	cs, compErr := readAllComponents(ctx, first)
	if compErr != nil {
		cancel()
	}
	wg.Wait()
	if err := errors.Join(compErr, zonesErr); err != nil {
		if ze := (*zone.Error)(nil); errors.As(err, &ze) {
			return err
		}
		return dbError(err, "list components")
	}
	sh := zone.NewSharer()
	for i, c := range cs {
		cs[i] = nil // the index keeps what it wants; let the rest go
		if zs := zones[c.ID]; len(zs) > 0 {
			slices.SortFunc(zs, func(a, b orderedZone) int { return int(a.ord) - int(b.ord) })
			c.Zones = make([]zone.ProtectionZone, len(zs))
			for j, z := range zs {
				c.Zones[j] = z.ProtectionZone
			}
		}
		sh.Share(c)
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// beginBulk begins a read-only repeatable-read transaction free of the
// pool's statement timeout and of JIT compilation (a second of planning
// for two sequential scans), in snapshot when not "".
func (s *Store) beginBulk(ctx context.Context, snapshot string) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	if snapshot != "" {
		// The identifier comes from pg_export_snapshot: hex digits and
		// dashes; checked all the same before it is put into SQL.
		if strings.Trim(snapshot, "0123456789ABCDEFabcdef-") != "" {
			_ = tx.Rollback(ctx)
			return nil, zone.InternalError(nil, "unexpected snapshot identifier %q", snapshot)
		}
		if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+snapshot+`'`); err != nil {
			_ = tx.Rollback(ctx)
			return nil, err
		}
	}
	if err := s.liftStatementTimeout(ctx, tx); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// readAllComponents reads every component row, without zones.
func readAllComponents(ctx context.Context, tx pgx.Tx) ([]*zone.Component, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.layer, c.kind, c.name, coalesce(c.code, ''), c.function_type, c."group",
		c.classification, c.properties::text, c.synthetic, c.version, c.created_at, c.updated_at, c.created_by, c.updated_by,
		ST_AsBinary(c.geom) FROM components c`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sh := zone.NewSharer()
	var (
		cs             []*zone.Component
		c              zone.Component
		classification int16
		functionType   string
		group          string
		props          []byte
		geom           []byte
	)
	dest := []any{&c.ID, &c.Layer, &c.Kind, &c.Name, &c.Code, &functionType, &group, &classification,
		&props, &c.Synthetic, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.CreatedBy, &c.UpdatedBy, &geom}
	for rows.Next() {
		c = zone.Component{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		c.FunctionType, c.Group = zone.FunctionType(functionType), zone.Group(group)
		c.Classification = zone.Classification(classification)
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		if c.Properties, err = sh.Properties(props); err != nil {
			return nil, zone.InternalError(err, "cannot decode the properties of component %s", c.ID)
		}
		if c.Geometry, err = wkb.Unmarshal(geom); err != nil {
			return nil, zone.InternalError(err, "cannot decode the geometry of component %s", c.ID)
		}
		cc := c
		cs = append(cs, &cc)
	}
	return cs, rows.Err()
}

// orderedZone is a zone read with its position among its component's.
type orderedZone struct {
	zone.ProtectionZone
	ord int16
}

// readAllZones reads every protection zone, by component.
func readAllZones(ctx context.Context, tx pgx.Tx) (map[uuid.UUID][]orderedZone, error) {
	rows, err := tx.Query(ctx, `SELECT component_id, kind, ord, ST_AsBinary(geom), given_as_polygon, decision,
		coalesce(to_char(decision_date, 'YYYY-MM-DD'), ''), width_m FROM protection_zones`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID][]orderedZone{}
	var (
		id     uuid.UUID
		z      orderedZone
		kind   string
		geom   []byte
		single bool
	)
	dest := []any{&id, &kind, &z.ord, &geom, &single, &z.Decision, &z.DecisionDate, &z.WidthM}
	for rows.Next() {
		z = orderedZone{}
		geom = nil
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		z.Kind = zone.ZoneKind(kind)
		if geom != nil {
			if z.Geometry, err = zoneGeometry(geom, single); err != nil {
				return nil, zone.InternalError(err, "cannot decode zone %s of component %s", z.Kind, id)
			}
		}
		out[id] = append(out[id], z)
	}
	return out, rows.Err()
}

// zoneGeometry decodes a zone's stored WKB: a Polygon is stored as a
// MultiPolygon of one, and given back as given.
func zoneGeometry(b []byte, single bool) (orb.Geometry, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	if mp, ok := g.(orb.MultiPolygon); ok && single && len(mp) == 1 {
		return mp[0], nil
	}
	return g, nil
}

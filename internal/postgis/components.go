package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// componentColumn is one selected column of a component row: its expression
// and, for the change feed's outer join where the component may be gone, the
// value that stands for it.
type componentColumn struct{ expr, absent string }

// componentColumns are the columns scanComponent reads, in this order. The
// zone arrays come from zonesLateral, ordered as the zones were given.
func componentColumns() []componentColumn {
	return []componentColumn{
		{"c.id", "'00000000-0000-0000-0000-000000000000'::uuid"},
		{"c.layer", "''"},
		{"c.kind", "''"},
		{"c.name", "''"},
		{"coalesce(c.code, '')", "''"},
		{"c.function_type", "''"},
		{`c."group"`, "''"},
		{"c.classification", "0::smallint"},
		{"c.properties", "'{}'::jsonb"},
		{"c.synthetic", "false"},
		{"c.version", "0::bigint"},
		{"c.created_at", "'epoch'::timestamptz"},
		{"c.updated_at", "'epoch'::timestamptz"},
		{"c.created_by", "''"},
		{"c.updated_by", "''"},
		{"ST_AsBinary(c.geom)", "''::bytea"},
		{"z.kinds", ""},
		{"z.geoms", ""},
		{"z.single", ""},
		{"z.decisions", ""},
		{"z.dates", ""},
		{"z.widths", ""},
	}
}

// zonesLateral aggregates a component's zones into parallel arrays (NULL
// arrays when it has none), so one row carries the whole component.
const zonesLateral = `LATERAL (
	SELECT array_agg(kind ORDER BY ord) AS kinds,
	       array_agg(ST_AsBinary(geom) ORDER BY ord) AS geoms,
	       array_agg(given_as_polygon ORDER BY ord) AS single,
	       array_agg(decision ORDER BY ord) AS decisions,
	       array_agg(coalesce(to_char(decision_date, 'YYYY-MM-DD'), '') ORDER BY ord) AS dates,
	       array_agg(width_m ORDER BY ord) AS widths
	FROM protection_zones WHERE component_id = c.id) z`

// componentSelectList is the column list of a component read. With
// outerJoin, a missing component (the change feed's LEFT JOIN) reads as
// zero values instead of NULLs.
func componentSelectList(outerJoin bool) string {
	cols := componentColumns()
	exprs := make([]string, len(cols))
	for i, col := range cols {
		exprs[i] = col.expr
		if outerJoin && col.absent != "" {
			exprs[i] = "coalesce(" + col.expr + ", " + col.absent + ")"
		}
	}
	return strings.Join(exprs, ", ")
}

// selectComponents returns the SELECT list and FROM clause of a component read.
func selectComponents() string {
	return "SELECT " + componentSelectList(false) + " FROM components c CROSS JOIN " + zonesLateral
}

// componentRow receives one row of componentColumns().
type componentRow struct {
	c              zone.Component
	code           string
	functionType   string
	group          string
	classification int16
	properties     map[string]any
	geom           []byte
	zoneKinds      []string
	zoneGeoms      [][]byte
	zoneSingle     []bool
	zoneDecisions  []string
	zoneDates      []string
	zoneWidths     []float64
}

func (r *componentRow) dest() []any {
	return []any{&r.c.ID, &r.c.Layer, &r.c.Kind, &r.c.Name, &r.code, &r.functionType, &r.group, &r.classification,
		&r.properties, &r.c.Synthetic, &r.c.Version, &r.c.CreatedAt, &r.c.UpdatedAt, &r.c.CreatedBy, &r.c.UpdatedBy,
		&r.geom, &r.zoneKinds, &r.zoneGeoms, &r.zoneSingle, &r.zoneDecisions, &r.zoneDates, &r.zoneWidths}
}

// component builds the scanned component.
func (r *componentRow) component() (*zone.Component, error) {
	c := r.c
	c.Code = r.code
	c.FunctionType = zone.FunctionType(r.functionType)
	c.Group = zone.Group(r.group)
	c.Classification = zone.Classification(r.classification)
	c.Properties = r.properties
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	g, err := wkb.Unmarshal(r.geom)
	if err != nil {
		return nil, zone.InternalError(err, "cannot decode the geometry of component %s", c.ID)
	}
	c.Geometry = g
	if n := len(r.zoneKinds); n > 0 {
		if len(r.zoneGeoms) != n || len(r.zoneSingle) != n || len(r.zoneDecisions) != n || len(r.zoneDates) != n || len(r.zoneWidths) != n {
			return nil, zone.InternalError(nil, "zones of component %s read inconsistently", c.ID)
		}
		c.Zones = make([]zone.ProtectionZone, n)
		for i := range n {
			z := zone.ProtectionZone{Kind: zone.ZoneKind(r.zoneKinds[i]), Decision: r.zoneDecisions[i], DecisionDate: r.zoneDates[i], WidthM: r.zoneWidths[i]}
			if r.zoneGeoms[i] != nil {
				zg, err := zoneGeometry(r.zoneGeoms[i], r.zoneSingle[i])
				if err != nil {
					return nil, zone.InternalError(err, "cannot decode zone %s of component %s", z.Kind, c.ID)
				}
				z.Geometry = zg
			}
			c.Zones[i] = z
		}
	}
	c.ShareNames()
	return &c, nil
}

// componentValues are the parameters that write a component.
type componentValues struct {
	code       *string // nil for no code
	properties string  // JSON object
	geom       []byte  // WKB, stored with SRID 4326
	zones      zoneValues
}

// zoneValues are a component's zones as parallel arrays, for one
// INSERT ... SELECT FROM unnest(...).
type zoneValues struct {
	ord       []int16
	kinds     []string
	geoms     [][]byte
	single    []bool
	decisions []string
	dates     []string
	widths    []float64
}

// valuesOf encodes a validated component for writing.
func valuesOf(c *zone.Component) (componentValues, error) {
	var v componentValues
	if c.Code != "" {
		code := c.Code
		v.code = &code
	}
	props := c.Properties
	if props == nil {
		props = map[string]any{}
	}
	b, err := json.Marshal(props)
	if err != nil {
		return v, zone.Errorf(zone.CodeInvalid, "properties cannot be written as JSON: %v", err)
	}
	v.properties = string(b)
	if v.geom, err = wkb.Marshal(c.Geometry); err != nil {
		return v, zone.Errorf(zone.CodeInvalid, "geometry cannot be encoded: %v", err)
	}
	for i, z := range c.Zones {
		var g []byte
		single := false
		if z.Geometry != nil {
			if g, err = wkb.Marshal(z.Geometry); err != nil {
				return v, zone.Errorf(zone.CodeInvalid, "zone %s geometry cannot be encoded: %v", z.Kind, err)
			}
			_, single = z.Geometry.(orb.Polygon)
		}
		if z.DecisionDate != "" {
			if _, err := time.Parse("2006-01-02", z.DecisionDate); err != nil {
				return v, &zone.Error{Code: zone.CodeInvalid, Message: "invalid protection zone",
					Details: []zone.Detail{{Index: -1, Pointer: fmt.Sprintf("properties.zones[%d].decision_date", i),
						Reason: fmt.Sprintf("decision_date %q is not YYYY-MM-DD", z.DecisionDate)}}}
			}
		}
		v.zones.ord = append(v.zones.ord, int16(i))
		v.zones.kinds = append(v.zones.kinds, string(z.Kind))
		v.zones.geoms = append(v.zones.geoms, g)
		v.zones.single = append(v.zones.single, single)
		v.zones.decisions = append(v.zones.decisions, z.Decision)
		v.zones.dates = append(v.zones.dates, z.DecisionDate)
		v.zones.widths = append(v.zones.widths, z.WidthM)
	}
	return v, nil
}

// insertZonesSQL writes the zones of one component from parallel arrays.
const insertZonesSQL = `INSERT INTO protection_zones
	(component_id, ord, kind, geom, given_as_polygon, decision, decision_date, width_m)
SELECT $1, u.ord, u.kind, ST_Multi(ST_GeomFromWKB(u.wkb, 4326)), u.single, u.decision, nullif(u.date, '')::date, u.width
FROM unnest($2::smallint[], $3::text[], $4::bytea[], $5::boolean[], $6::text[], $7::text[], $8::float8[])
	AS u(ord, kind, wkb, single, decision, date, width)`

func insertZones(ctx context.Context, tx pgx.Tx, id uuid.UUID, z zoneValues) error {
	if len(z.kinds) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, insertZonesSQL, id, z.ord, z.kinds, z.geoms, z.single, z.decisions, z.dates, z.widths)
	return err
}

// validated returns a copy of c with defaults applied, or an invalid error
// with every problem.
func validated(c *zone.Component) (*zone.Component, error) {
	if c == nil {
		return nil, zone.Errorf(zone.CodeInvalid, "no component given")
	}
	c = c.Clone()
	if probs := c.Validate(); len(probs) > 0 {
		return nil, invalidComponent(probs)
	}
	return c, nil
}

// invalidComponent is the error for a component that fails validation: the
// message names the first problem, Details list all.
func invalidComponent(probs []zone.Detail) *zone.Error {
	first := probs[0]
	msg := "invalid component: "
	if first.Pointer != "" {
		msg += first.Pointer + ": "
	}
	msg += first.Reason
	if len(probs) > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", len(probs)-1)
	}
	return &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: probs}
}

// writeError maps a failed component write, naming the duplicate id or code.
func writeError(err error, c *zone.Component, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		switch pe.ConstraintName {
		case "components_pkey":
			return &zone.Error{Code: zone.CodeConflict, Message: fmt.Sprintf("component %s already exists", c.ID), Err: err}
		case "components_layer_code_key":
			return &zone.Error{Code: zone.CodeConflict, Message: fmt.Sprintf("layer %s already has a component with code %q", c.Layer, c.Code), Err: err}
		}
	}
	return dbError(err, what)
}

// CreateComponent validates c, assigns an id when it has none, and stores it
// with version 1.
func (s *Store) CreateComponent(ctx context.Context, c *zone.Component, by string) (_ *zone.Component, err error) {
	c, err = validated(c)
	if err != nil {
		return nil, err
	}
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	v, err := valuesOf(c)
	if err != nil {
		return nil, err
	}
	ctx, end, err := s.call(ctx, "store the component")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO components
			(id, layer, kind, name, code, function_type, "group", classification, properties, synthetic,
			 version, created_at, updated_at, created_by, updated_by, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, 1, now(), now(), $11, $11, ST_GeomFromWKB($12, 4326))
			RETURNING created_at`,
			c.ID, c.Layer, c.Kind, c.Name, v.code, string(c.FunctionType), string(c.Group), int16(c.Classification),
			v.properties, c.Synthetic, by, v.geom).Scan(&c.CreatedAt)
		if err != nil {
			return err
		}
		return insertZones(ctx, tx, c.ID, v.zones)
	})
	if err != nil {
		return nil, writeError(err, c, "store the component")
	}
	c.Version = 1
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.CreatedAt
	c.CreatedBy, c.UpdatedBy = by, by
	return c, nil
}

// GetComponent returns one component, not found when it is missing or
// above clearance.
func (s *Store) GetComponent(ctx context.Context, id uuid.UUID, clearance zone.Classification) (_ *zone.Component, err error) {
	ctx, end, err := s.call(ctx, "read the component")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	var r componentRow
	err = s.pool.QueryRow(ctx, selectComponents()+` WHERE c.id = $1 AND c.classification <= $2`, id, int16(clearance)).Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, dbError(err, "read the component")
	}
	return r.component()
}

func notFound(id uuid.UUID) error {
	return zone.Errorf(zone.CodeNotFound, "component %s not found", id)
}

// UpdateComponent replaces the component with c.ID and its zones; the
// version increments by one in the same statement, so concurrent updates
// never lose one.
func (s *Store) UpdateComponent(ctx context.Context, c *zone.Component, ifVersion int64, clearance zone.Classification, by string) (_ *zone.Component, err error) {
	c, err = validated(c)
	if err != nil {
		return nil, err
	}
	v, err := valuesOf(c)
	if err != nil {
		return nil, err
	}
	ctx, end, err := s.call(ctx, "update the component")
	if err != nil {
		return nil, err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE components SET
				layer = $2, kind = $3, name = $4, code = $5, function_type = $6, "group" = $7, classification = $8,
				properties = $9::jsonb, synthetic = $10, geom = ST_GeomFromWKB($11, 4326),
				version = version + 1, updated_at = now(), updated_by = $12
			WHERE id = $1 AND classification <= $13 AND ($14::bigint = 0 OR version = $14)
			RETURNING version, created_at, created_by, updated_at`,
			c.ID, c.Layer, c.Kind, c.Name, v.code, string(c.FunctionType), string(c.Group), int16(c.Classification),
			v.properties, c.Synthetic, v.geom, by, int16(clearance), ifVersion).
			Scan(&c.Version, &c.CreatedAt, &c.CreatedBy, &c.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return whyNotWritten(ctx, tx, c.ID, ifVersion, clearance)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM protection_zones WHERE component_id = $1`, c.ID); err != nil {
			return err
		}
		return insertZones(ctx, tx, c.ID, v.zones)
	})
	if err != nil {
		return nil, writeError(err, c, "update the component")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.UpdatedBy = by
	return c, nil
}

// whyNotWritten explains a guarded write that matched no row: the component
// is missing or above clearance (not found), or its version moved (conflict).
func whyNotWritten(ctx context.Context, tx pgx.Tx, id uuid.UUID, ifVersion int64, clearance zone.Classification) error {
	var stored int64
	err := tx.QueryRow(ctx, `SELECT version FROM components WHERE id = $1 AND classification <= $2`, id, int16(clearance)).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	return zone.Errorf(zone.CodeConflict, "component %s is at version %d, not %d: it changed since it was read", id, stored, ifVersion)
}

// DeleteComponent removes a component and its zones, with the same version
// and clearance rules as UpdateComponent.
func (s *Store) DeleteComponent(ctx context.Context, id uuid.UUID, ifVersion int64, clearance zone.Classification, by string) (err error) {
	ctx, end, err := s.call(ctx, "delete the component")
	if err != nil {
		return err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM components WHERE id = $1 AND classification <= $2 AND ($3::bigint = 0 OR version = $3)`,
			id, int16(clearance), ifVersion)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return whyNotWritten(ctx, tx, id, ifVersion, clearance)
		}
		return nil
	})
	return dbError(err, "delete the component")
}

// queryFilter builds the WHERE clause of a component query. Only fixed SQL
// fragments are joined; every value is a parameter.
func queryFilter(q zone.Query) (string, []any) {
	args := []any{int16(q.Clearance)}
	conds := []string{"c.classification <= $1"}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.Layers) > 0 {
		conds = append(conds, "c.layer = ANY("+param(q.Layers)+"::text[])")
	}
	if len(q.IDs) > 0 {
		conds = append(conds, "c.id = ANY("+param(q.IDs)+"::uuid[])")
	}
	if q.Bound != nil {
		// && uses the GiST index on the boxes; ST_Intersects is exact.
		// Touching the box counts.
		env := "ST_MakeEnvelope(" + param(q.Bound.Min[0]) + "::float8, " + param(q.Bound.Min[1]) + "::float8, " +
			param(q.Bound.Max[0]) + "::float8, " + param(q.Bound.Max[1]) + "::float8, 4326)"
		conds = append(conds, "c.geom && "+env+" AND ST_Intersects(c.geom, "+env+")")
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListComponents streams the matching components ordered by layer then id
// (byte order), one row at a time, in a read-only transaction free of the
// pool's statement_timeout (a full listing is a long call). fn runs while
// the query holds one pool connection, so calling the store from fn needs a
// second one.
func (s *Store) ListComponents(ctx context.Context, q zone.Query, fn func(*zone.Component) error) (err error) {
	ctx, end, err := s.longCall(ctx, "list components")
	if err != nil {
		return err
	}
	defer end(&err)
	where, args := queryFilter(q)
	sql := selectComponents() + where + " ORDER BY c.layer, c.id"
	if q.Limit > 0 {
		args = append(args, q.Limit)
		sql += " LIMIT $" + strconv.Itoa(len(args))
	}
	if q.Offset > 0 {
		args = append(args, q.Offset)
		sql += " OFFSET $" + strconv.Itoa(len(args))
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var r componentRow
		for rows.Next() {
			r = componentRow{}
			if err := rows.Scan(r.dest()...); err != nil {
				return err
			}
			c, err := r.component()
			if err != nil {
				return callbackError{err}
			}
			if err := fn(c); err != nil {
				return callbackError{err}
			}
		}
		return rows.Err()
	})
	var ce callbackError
	if errors.As(err, &ce) {
		return ce.err
	}
	return dbError(err, "list components")
}

// CountComponents counts what ListComponents would return without Limit and
// Offset.
// Counting a large store is a long call.
func (s *Store) CountComponents(ctx context.Context, q zone.Query) (_ int, err error) {
	ctx, end, err := s.longCall(ctx, "count components")
	if err != nil {
		return 0, err
	}
	defer end(&err)
	where, args := queryFilter(q)
	var n int
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM components c`+where, args...).Scan(&n)
	})
	if err != nil {
		return 0, dbError(err, "count components")
	}
	return n, nil
}

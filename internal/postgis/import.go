package postgis

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// componentWritersLockKey is the transaction advisory lock the triggers of
// migrations/00002_components.sql take before any write to components.
const componentWritersLockKey int64 = 7318505613001

// progressEvery is how many copied rows pass between Progress calls.
const progressEvery = 1000

// ImportComponents validates every component, then writes all of them in
// one transaction: rows are streamed with COPY into temporary tables and
// moved into components and protection_zones by set-based INSERT ... SELECT
// statements. Without Upsert an existing id or (layer, code) fails the whole
// import with CodeConflict and one Detail per clashing component.
func (s *Store) ImportComponents(ctx context.Context, layer string, cs []*zone.Component, opt zone.ImportOptions) (zone.ImportResult, error) {
	var res zone.ImportResult
	if _, ok := zone.LookupLayer(layer); !ok {
		_, err := zone.GetLayer(layer)
		return res, err
	}
	rows, err := prepareImport(layer, cs)
	if err != nil {
		return res, err
	}
	if len(rows) == 0 {
		return res, nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := copyImport(ctx, tx, rows, opt.Progress); err != nil {
			return err
		}
		if err := resolveImportIDs(ctx, tx, layer, opt.Upsert); err != nil {
			return err
		}
		var err error
		res, err = mergeImport(ctx, tx, layer, opt.By)
		return err
	})
	if err != nil {
		return zone.ImportResult{}, dbError(err, "import the components")
	}
	if opt.Progress != nil {
		opt.Progress(len(rows))
	}
	return res, nil
}

// importRow is one validated component, encoded for COPY.
type importRow struct {
	c *zone.Component
	v componentValues
}

// prepareImport validates and encodes every component. Every bad component
// gets its details (Index = its position); duplicates inside the batch are
// reported too, so nothing reaches the database unless all are good.
func prepareImport(layer string, cs []*zone.Component) ([]importRow, error) {
	var probs []zone.Detail
	rows := make([]importRow, 0, len(cs))
	ids := make(map[uuid.UUID]int, len(cs))
	codes := make(map[string]int, len(cs))
	for i, in := range cs {
		if in == nil {
			probs = append(probs, zone.Detail{Index: i, Reason: "component is missing"})
			continue
		}
		c := in.Clone()
		if c.Layer == "" {
			c.Layer = layer
		}
		if c.Layer != layer {
			probs = append(probs, zone.Detail{Index: i, Pointer: "properties.layer", Reason: fmt.Sprintf("component belongs to layer %q, not %q", c.Layer, layer)})
			continue
		}
		bad := c.Validate()
		if c.ID != uuid.Nil {
			if j, dup := ids[c.ID]; dup {
				bad = append(bad, zone.Detail{Pointer: "id", Reason: fmt.Sprintf("id %s is also used by component #%d", c.ID, j)})
			}
			ids[c.ID] = i
		}
		if c.Code != "" {
			if j, dup := codes[c.Code]; dup {
				bad = append(bad, zone.Detail{Pointer: "properties.code", Reason: fmt.Sprintf("code %q is also used by component #%d", c.Code, j)})
			}
			codes[c.Code] = i
		}
		var v componentValues
		if len(bad) == 0 {
			var err error
			if v, err = valuesOf(c); err != nil {
				bad = append(bad, detailsOf(err)...)
			}
		}
		for _, d := range bad {
			d.Index = i
			probs = append(probs, d)
		}
		rows = append(rows, importRow{c: c, v: v})
	}
	if len(probs) > 0 {
		bad := map[int]bool{}
		for _, d := range probs {
			bad[d.Index] = true
		}
		return nil, &zone.Error{Code: zone.CodeInvalid,
			Message: fmt.Sprintf("%d of %d components are invalid; nothing was imported", len(bad), len(cs)), Details: probs}
	}
	return rows, nil
}

// detailsOf returns the details of a zone error, or one detail with its
// message.
func detailsOf(err error) []zone.Detail {
	if ds := zone.ErrorDetails(err); len(ds) > 0 {
		return ds
	}
	return []zone.Detail{{Index: -1, Reason: zone.ErrorMessage(err)}}
}

// copyImport creates the temporary tables and COPYs the rows into them,
// reporting progress as rows stream.
func copyImport(ctx context.Context, tx pgx.Tx, rows []importRow, progress func(int)) error {
	// import_rows.ord is the component's position in the input; id is NULL
	// when the input has none (resolveImportIDs fills it).
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_rows (
			ord int NOT NULL, id uuid, kind text, name text, code text COLLATE "C",
			function_type text, "group" text, classification smallint, properties jsonb,
			synthetic boolean, wkb bytea, existed boolean NOT NULL DEFAULT false) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_zones (
			ord int NOT NULL, zord smallint, kind text, wkb bytea, single boolean,
			decision text, decision_date text, width_m float8) ON COMMIT DROP`); err != nil {
		return err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(rows) {
			return nil, nil
		}
		r := rows[i]
		var id any
		if r.c.ID != uuid.Nil {
			id = r.c.ID
		}
		vals := []any{i, id, r.c.Kind, r.c.Name, r.v.code, string(r.c.FunctionType), string(r.c.Group),
			int16(r.c.Classification), r.v.properties, r.c.Synthetic, r.v.geom}
		i++
		if progress != nil && i%progressEvery == 0 {
			progress(i)
		}
		return vals, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"ord", "id", "kind", "name", "code",
		"function_type", "group", "classification", "properties", "synthetic", "wkb"}, src); err != nil {
		return err
	}
	var zones [][]any
	for i, r := range rows {
		z := r.v.zones
		for k := range z.kinds {
			zones = append(zones, []any{i, z.ord[k], z.kinds[k], z.geoms[k], z.single[k], z.decisions[k], z.dates[k], z.widths[k]})
		}
	}
	if len(zones) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_zones"}, []string{"ord", "zord", "kind", "wkb", "single",
			"decision", "decision_date", "width_m"}, pgx.CopyFromRows(zones)); err != nil {
			return err
		}
	}
	return nil
}

// resolveImportIDs gives every imported row its id: with Upsert, a row
// without an id takes the id of the stored component with its code; the
// rest get new ids. Without Upsert, any existing id or code is a conflict,
// reported per row.
func resolveImportIDs(ctx context.Context, tx pgx.Tx, layer string, upsert bool) error {
	// Take the component writers' lock now (the triggers would take it at the
	// merge), so no other writer changes ids or codes between this check and
	// the merge.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, componentWritersLockKey); err != nil {
		return err
	}
	if upsert {
		if _, err := tx.Exec(ctx, `UPDATE import_rows r SET id = c.id
			FROM components c
			WHERE r.id IS NULL AND r.code IS NOT NULL AND c.layer = $1 AND c.code = r.code`, layer); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE import_rows SET id = gen_random_uuid() WHERE id IS NULL`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE import_rows r SET existed = true FROM components c WHERE c.id = r.id`); err != nil {
		return err
	}
	// Clashes: without Upsert every existing id; always, a code held by
	// another component of the layer, and (with Upsert) an id held by a
	// component of another layer.
	rows, err := tx.Query(ctx, `
		SELECT r.ord, 'id', 'component '||r.id||' already exists'
		FROM import_rows r WHERE r.existed AND NOT $2
		UNION ALL
		SELECT r.ord, 'properties.code', 'layer '||$1||' already has a component with code "'||r.code||'"'
		FROM import_rows r JOIN components c ON c.layer = $1 AND c.code = r.code AND (c.id <> r.id OR NOT $2)
		UNION ALL
		SELECT r.ord, 'id', 'component '||r.id||' belongs to layer '||c.layer
		FROM import_rows r JOIN components c ON c.id = r.id AND c.layer <> $1 AND $2
		ORDER BY 1`, layer, upsert)
	if err != nil {
		return err
	}
	defer rows.Close()
	var probs []zone.Detail
	for rows.Next() {
		var d zone.Detail
		if err := rows.Scan(&d.Index, &d.Pointer, &d.Reason); err != nil {
			return err
		}
		probs = append(probs, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(probs) > 0 {
		return &zone.Error{Code: zone.CodeConflict,
			Message: fmt.Sprintf("%d components clash with stored ones (first: #%d %s); nothing was imported", len(probs), probs[0].Index, probs[0].Reason),
			Details: probs}
	}
	return nil
}

// mergeImport moves the rows into components (insert, or replace with the
// version incremented) and replaces their zones.
func mergeImport(ctx context.Context, tx pgx.Tx, layer, by string) (zone.ImportResult, error) {
	var res zone.ImportResult
	err := tx.QueryRow(ctx, `WITH merged AS (
			INSERT INTO components AS c (id, layer, kind, name, code, function_type, "group", classification, properties,
				synthetic, version, created_at, updated_at, created_by, updated_by, geom)
			SELECT r.id, $1, r.kind, r.name, r.code, r.function_type, r."group", r.classification, r.properties,
				r.synthetic, 1, now(), now(), $2, $2, ST_GeomFromWKB(r.wkb, 4326)
			FROM import_rows r ORDER BY r.ord
			ON CONFLICT (id) DO UPDATE SET
				layer = excluded.layer, kind = excluded.kind, name = excluded.name, code = excluded.code,
				function_type = excluded.function_type, "group" = excluded."group",
				classification = excluded.classification, properties = excluded.properties,
				synthetic = excluded.synthetic, geom = excluded.geom,
				version = c.version + 1, updated_at = now(), updated_by = excluded.updated_by
			RETURNING (xmax = 0) AS inserted)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged`,
		layer, by).Scan(&res.Created, &res.Updated)
	if err != nil {
		return res, err
	}
	if res.Updated > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM protection_zones z USING import_rows r WHERE r.existed AND z.component_id = r.id`); err != nil {
			return res, err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO protection_zones
			(component_id, ord, kind, geom, given_as_polygon, decision, decision_date, width_m)
		SELECT r.id, z.zord, z.kind, ST_Multi(ST_GeomFromWKB(z.wkb, 4326)), z.single, z.decision,
			nullif(z.decision_date, '')::date, z.width_m
		FROM import_zones z JOIN import_rows r ON r.ord = z.ord`)
	return res, err
}

package postgis

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

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
func (s *Store) ImportComponents(ctx context.Context, layer string, cs []*zone.Component, opt zone.ImportOptions) (_ zone.ImportResult, err error) {
	var res zone.ImportResult
	if _, ok := zone.LookupLayer(layer); !ok {
		_, err := zone.GetLayer(layer)
		return res, err
	}
	start := time.Now()
	rows, err := prepareImport(layer, cs)
	if err != nil {
		return res, err
	}
	validatedAt := time.Now()
	var copiedAt, resolvedAt time.Time
	if len(rows) == 0 {
		return res, nil
	}
	ctx, end, err := s.longCall(ctx, "import the components")
	if err != nil {
		return res, err
	}
	defer end(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.liftStatementTimeout(ctx, tx); err != nil {
			return err
		}
		if err := copyImport(ctx, tx, rows, opt.Progress); err != nil {
			return err
		}
		copiedAt = time.Now()
		if err := resolveImportIDs(ctx, tx, layer, opt.Upsert); err != nil {
			return err
		}
		resolvedAt = time.Now()
		var err error
		res, err = mergeImport(ctx, tx, layer, opt.By)
		return err
	})
	s.log.Debug("import", "layer", layer, "components", len(rows), "validate", validatedAt.Sub(start),
		"copy", copiedAt.Sub(validatedAt), "resolve", resolvedAt.Sub(copiedAt), "merge_and_commit", time.Since(resolvedAt), "err", err)
	if err != nil {
		return zone.ImportResult{}, dbError(err, "import the components")
	}
	if opt.Progress != nil {
		opt.Progress(len(rows))
	}
	return res, nil
}

// importRow is one validated component, encoded for COPY. givenID is false
// when the input had no id and the store made one up.
type importRow struct {
	c       *zone.Component
	v       componentValues
	givenID bool
	probs   []zone.Detail
}

// prepareImport validates and encodes every component, on every CPU (the
// exact geometry checks dominate). Every bad component gets its details
// (Index = its position); duplicates inside the batch are reported too, so
// nothing reaches the database unless all are good.
func prepareImport(layer string, cs []*zone.Component) ([]importRow, error) {
	rows := make([]importRow, len(cs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(cs)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cs); i += workers {
				rows[i] = prepareRow(layer, cs[i])
			}
		}()
	}
	wg.Wait()

	var probs []zone.Detail
	ids := make(map[uuid.UUID]int, len(cs))
	codes := make(map[string]int, len(cs))
	for i := range rows {
		r := &rows[i]
		if r.c != nil && r.givenID {
			if j, dup := ids[r.c.ID]; dup {
				r.probs = append(r.probs, zone.Detail{Pointer: "id", Reason: fmt.Sprintf("id %s is also used by component #%d", r.c.ID, j)})
			}
			ids[r.c.ID] = i
		}
		if r.c != nil && r.c.Code != "" {
			if j, dup := codes[r.c.Code]; dup {
				r.probs = append(r.probs, zone.Detail{Pointer: "properties.code", Reason: fmt.Sprintf("code %q is also used by component #%d", r.c.Code, j)})
			}
			codes[r.c.Code] = i
		}
		for _, d := range r.probs {
			d.Index = i
			probs = append(probs, d)
		}
	}
	if len(probs) > 0 {
		bad := map[int]bool{}
		for _, d := range probs {
			bad[d.Index] = true
		}
		return nil, &zone.Error{Code: zone.CodeInvalid,
			Message: fmt.Sprintf("%d of %d components are invalid (first: #%d %s); nothing was imported", len(bad), len(cs), probs[0].Index, probs[0].Reason),
			Details: probs}
	}
	return rows, nil
}

// prepareRow validates and encodes one component of an import.
func prepareRow(layer string, in *zone.Component) importRow {
	if in == nil {
		return importRow{probs: []zone.Detail{{Reason: "component is missing"}}}
	}
	c := in.Clone()
	if c.Layer == "" {
		c.Layer = layer
	}
	if c.Layer != layer {
		return importRow{probs: []zone.Detail{{Pointer: "properties.layer", Reason: fmt.Sprintf("component belongs to layer %q, not %q", c.Layer, layer)}}}
	}
	r := importRow{c: c, givenID: c.ID != uuid.Nil}
	if !r.givenID {
		c.ID = uuid.New()
	}
	if r.probs = c.Validate(); len(r.probs) > 0 {
		return r
	}
	var err error
	if r.v, err = valuesOf(c); err != nil {
		r.probs = detailsOf(err)
	}
	return r
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
	// Room to sort and hash 100k rows in memory (the triggers sort by id);
	// no JIT, whose compilation of these one-off statements costs more than
	// it saves.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return err
	}
	// import_rows.ord is the component's position in the input; given_id is
	// false when the store made the id up (an upsert may then match by code).
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_rows (
			ord int NOT NULL, id uuid NOT NULL, given_id boolean NOT NULL, kind text, name text, code text COLLATE "C",
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
		vals := []any{i, r.c.ID, r.givenID, r.c.Kind, r.c.Name, r.v.code, string(r.c.FunctionType), string(r.c.Group),
			int16(r.c.Classification), r.v.properties, r.c.Synthetic, r.v.geom}
		i++
		if progress != nil && i%progressEvery == 0 {
			progress(i)
		}
		return vals, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"ord", "id", "given_id", "kind", "name", "code",
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
	// Temporary tables get no statistics by themselves; the joins below
	// need them to pick hash joins over nested loops.
	_, err := tx.Exec(ctx, `ANALYZE import_rows`)
	return err
}

// resolveImportIDs settles which stored component each imported row is:
// with Upsert, a row without an id takes the id of the stored component with
// its code. Rows whose id is stored are marked existed. Then every clash is
// reported per row: without Upsert any existing id or code; always a code
// held by another component of the layer, an id of a component of another
// layer, or two rows that resolve to one component.
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
			WHERE NOT r.given_id AND r.code IS NOT NULL AND c.layer = $1 AND c.code = r.code`, layer); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE import_rows r SET existed = true FROM components c WHERE c.id = r.id`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `
		SELECT r.ord, 'id', 'component '||r.id||' already exists'
		FROM import_rows r WHERE r.existed AND NOT $2
		UNION ALL
		SELECT r.ord, 'properties.code', 'layer '||$1||' already has a component with code "'||r.code||'"'
		FROM import_rows r JOIN components c ON c.layer = $1 AND c.code = r.code AND (c.id <> r.id OR NOT $2)
		UNION ALL
		SELECT r.ord, 'id', 'component '||r.id||' belongs to layer '||c.layer
		FROM import_rows r JOIN components c ON c.id = r.id AND c.layer <> $1 AND $2
		UNION ALL
		SELECT d.ord, 'id', 'resolves to component '||d.id||' like another component of the import'
		FROM (SELECT ord, id, count(*) OVER (PARTITION BY id) AS n FROM import_rows) d WHERE d.n > 1
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

// mergeImport replaces the stored components the import names (version + 1,
// creation kept), inserts the others, and replaces their zones: set-based
// statements, one each.
func mergeImport(ctx context.Context, tx pgx.Tx, layer, by string) (zone.ImportResult, error) {
	var res zone.ImportResult
	tag, err := tx.Exec(ctx, `UPDATE components c SET
			layer = $1, kind = r.kind, name = r.name, code = r.code, function_type = r.function_type,
			"group" = r."group", classification = r.classification, properties = r.properties,
			synthetic = r.synthetic, geom = ST_GeomFromWKB(r.wkb, 4326),
			version = c.version + 1, updated_at = now(), updated_by = $2
		FROM import_rows r WHERE r.existed AND c.id = r.id`, layer, by)
	if err != nil {
		return res, err
	}
	res.Updated = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `INSERT INTO components (id, layer, kind, name, code, function_type, "group", classification,
			properties, synthetic, version, created_at, updated_at, created_by, updated_by, geom)
		SELECT r.id, $1, r.kind, r.name, r.code, r.function_type, r."group", r.classification,
			r.properties, r.synthetic, 1, now(), now(), $2, $2, ST_GeomFromWKB(r.wkb, 4326)
		FROM import_rows r WHERE NOT r.existed`, layer, by)
	if err != nil {
		return res, err
	}
	res.Created = int(tag.RowsAffected())
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

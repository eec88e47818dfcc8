package embedded

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// scanBatch is how many components a list reads per read transaction; the
// callback runs outside any transaction, so a slow reader never holds the
// file's pages (or a writer growing it) hostage.
const scanBatch = 256

// maxDetails bounds the per-feature problems one error carries.
const maxDetails = 1000

func invalid(what string, probs []zone.Detail) error {
	d := probs[0]
	msg := fmt.Sprintf("%s is invalid: %s", what, d.Reason)
	if d.Pointer != "" {
		msg = fmt.Sprintf("%s is invalid at %s: %s", what, d.Pointer, d.Reason)
	}
	return &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: probs}
}

func notFound(id uuid.UUID) error {
	return zone.Errorf(zone.CodeNotFound, "component %s not found", id)
}

func newID() (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, zone.InternalError(err, "cannot make an id")
	}
	return id, nil
}

// CreateComponent validates and stores a new component.
func (s *Store) CreateComponent(ctx context.Context, c *zone.Component, by string) (*zone.Component, error) {
	c = c.Clone()
	if probs := c.Validate(); len(probs) > 0 {
		return nil, invalid("component", probs)
	}
	if c.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		c.ID = id
	}
	now := s.now()
	c.Version, c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy = 1, now, now, by, by
	err := s.update(ctx, "create component", func(t *txn) error {
		if t.comps.Get(c.ID[:]) != nil {
			return zone.Errorf(zone.CodeConflict, "component %s already exists", c.ID)
		}
		return t.put(c, nil)
	})
	if err != nil {
		return nil, err
	}
	return c.Clone(), nil
}

// GetComponent returns one component the clearance allows.
func (s *Store) GetComponent(ctx context.Context, id uuid.UUID, clearance zone.Classification) (*zone.Component, error) {
	var c *zone.Component
	err := s.view(ctx, "get component", func(t *txn) error {
		var err error
		c, err = t.component(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c == nil || !clearance.Allows(c.Classification) {
		return nil, notFound(id)
	}
	return c, nil
}

// UpdateComponent replaces a component, checking its version when ifVersion
// is not 0.
func (s *Store) UpdateComponent(ctx context.Context, c *zone.Component, ifVersion int64, clearance zone.Classification, by string) (*zone.Component, error) {
	c = c.Clone()
	if probs := c.Validate(); len(probs) > 0 {
		return nil, invalid("component", probs)
	}
	err := s.update(ctx, "update component", func(t *txn) error {
		old, err := t.component(c.ID)
		if err != nil {
			return err
		}
		if old == nil || !clearance.Allows(old.Classification) {
			return notFound(c.ID)
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return zone.Errorf(zone.CodeConflict, "component %s is at version %d, not %d: reload it and apply the change again", c.ID, old.Version, ifVersion)
		}
		c.Version = old.Version + 1
		c.CreatedAt, c.CreatedBy = old.CreatedAt, old.CreatedBy
		c.UpdatedAt, c.UpdatedBy = later(s.now(), old.UpdatedAt), by
		return t.put(c, old)
	})
	if err != nil {
		return nil, err
	}
	return c.Clone(), nil
}

// DeleteComponent removes a component, checking its version when ifVersion
// is not 0.
func (s *Store) DeleteComponent(ctx context.Context, id uuid.UUID, ifVersion int64, clearance zone.Classification, by string) error {
	return s.update(ctx, "delete component", func(t *txn) error {
		old, err := t.component(id)
		if err != nil {
			return err
		}
		if old == nil || !clearance.Allows(old.Classification) {
			return notFound(id)
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return zone.Errorf(zone.CodeConflict, "component %s is at version %d, not %d: reload it before deleting", id, old.Version, ifVersion)
		}
		return t.remove(old)
	})
}

// ListComponents streams the matching components ordered by layer, then id.
func (s *Store) ListComponents(ctx context.Context, q zone.Query, fn func(*zone.Component) error) error {
	if len(q.IDs) > 0 {
		cs, err := s.byIDs(ctx, q)
		if err != nil {
			return err
		}
		for _, c := range page(cs, q.Offset, q.Limit) {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	skip, remaining := q.Offset, q.Limit
	for _, prefix := range layerPrefixes(q.Layers) {
		var after []byte
		for {
			var batch []*zone.Component
			exhausted := true
			err := s.view(ctx, "list components", func(t *txn) error {
				cur := t.index.Cursor()
				k, v := seek(cur, prefix)
				if after != nil {
					k, v = cur.Seek(append(slices.Clip(after), 0))
				}
				for ; k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
					after = append(after[:0], k...)
					c, ok, err := t.match(q, k, v, true)
					if err != nil {
						return err
					}
					if !ok {
						continue
					}
					if skip > 0 {
						skip--
						continue
					}
					batch = append(batch, c)
					if (q.Limit > 0 && len(batch) == remaining) || len(batch) == scanBatch {
						exhausted = false
						return nil
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, c := range batch {
				if err := fn(c); err != nil {
					return err
				}
			}
			if q.Limit > 0 {
				if remaining -= len(batch); remaining <= 0 {
					return nil
				}
			}
			if exhausted {
				break
			}
		}
	}
	return nil
}

// ListAllComponents calls fn for every component, of every layer and
// classification, in id order (index.BulkSource): one read transaction
// over the components, no layer index, and equal properties and short
// strings shared (zone.Sharer): treat the components as read-only.
func (s *Store) ListAllComponents(ctx context.Context, fn func(*zone.Component) error) error {
	var cs []*zone.Component
	err := s.view(ctx, "list components", func(t *txn) error {
		sh := zone.NewSharer()
		cur := t.comps.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if len(cs)%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if len(k) != len(uuid.UUID{}) {
				return fmt.Errorf("component key of %d bytes", len(k))
			}
			c, err := decodeShared(uuid.UUID(k), v, sh)
			if err != nil {
				return err
			}
			cs = append(cs, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cs {
		cs[i] = nil
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// CountComponents counts what ListComponents would return without Limit
// and Offset.
func (s *Store) CountComponents(ctx context.Context, q zone.Query) (int, error) {
	if len(q.IDs) > 0 {
		cs, err := s.byIDs(ctx, q)
		return len(cs), err
	}
	n := 0
	err := s.view(ctx, "count components", func(t *txn) error {
		for _, prefix := range layerPrefixes(q.Layers) {
			cur := t.index.Cursor()
			for k, v := seek(cur, prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
				_, ok, err := t.match(q, k, v, false)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
		}
		return nil
	})
	return n, err
}

// match applies the query's clearance and bound to one layer-index entry,
// decoding the component when decode is set or when the exact intersection
// test needs its geometry.
func (t *txn) match(q zone.Query, k, v []byte, decode bool) (*zone.Component, bool, error) {
	class, env := decodeIndexValue(v)
	if !q.Clearance.Allows(class) {
		return nil, false, nil
	}
	exact := false
	if q.Bound != nil {
		if !boundsTouch(*q.Bound, env) {
			return nil, false, nil
		}
		exact = !boundWithin(env, *q.Bound)
	}
	if !decode && !exact {
		return nil, true, nil
	}
	c, err := t.component(uuid.UUID(k[len(k)-16:]))
	if err != nil || c == nil {
		return nil, false, err
	}
	if exact && !intersectsBound(c.Geometry, *q.Bound) {
		return nil, false, nil
	}
	return c, true, nil
}

// byIDs returns the components a query with IDs selects, ordered by layer
// then id.
func (s *Store) byIDs(ctx context.Context, q zone.Query) ([]*zone.Component, error) {
	layers := map[string]bool{}
	for _, l := range q.Layers {
		layers[l] = true
	}
	seen := map[uuid.UUID]bool{}
	var out []*zone.Component
	err := s.view(ctx, "list components by id", func(t *txn) error {
		for _, id := range q.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			c, err := t.component(id)
			if err != nil {
				return err
			}
			if c == nil || !q.Clearance.Allows(c.Classification) || (len(layers) > 0 && !layers[c.Layer]) {
				continue
			}
			if q.Bound != nil && !intersectsBound(c.Geometry, *q.Bound) {
				continue
			}
			out = append(out, c)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Layer != out[j].Layer {
			return out[i].Layer < out[j].Layer
		}
		return bytes.Compare(out[i].ID[:], out[j].ID[:]) < 0
	})
	return out, err
}

func page[T any](xs []T, offset, limit int) []T {
	if offset >= len(xs) {
		return nil
	}
	xs = xs[max(offset, 0):]
	if limit > 0 && limit < len(xs) {
		xs = xs[:limit]
	}
	return xs
}

// seek positions cur at the first key with prefix (the first key of all for
// a nil prefix).
func seek(cur *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	if len(prefix) == 0 {
		return cur.First()
	}
	return cur.Seek(prefix)
}

// later returns a, or b when b is later: an update's stamp never goes
// back in time even if the clock does.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// layerPrefixes returns the layer-index prefixes to scan, in key order:
// one per requested layer, or the whole index.
func layerPrefixes(layers []string) [][]byte {
	if len(layers) == 0 {
		return [][]byte{nil}
	}
	ls := slices.Clone(layers)
	slices.Sort(ls)
	ls = slices.Compact(ls)
	out := make([][]byte, len(ls))
	for i, l := range ls {
		out[i] = append([]byte(l), 0)
	}
	return out
}

// ImportComponents validates every component, then writes all of them in
// one transaction, or none.
func (s *Store) ImportComponents(ctx context.Context, layer string, cs []*zone.Component, opt zone.ImportOptions) (zone.ImportResult, error) {
	if _, err := zone.GetLayer(layer); err != nil {
		return zone.ImportResult{}, err
	}
	prepared, probs := prepareImport(layer, cs)
	if len(probs) > 0 {
		return zone.ImportResult{}, importError(zone.CodeInvalid, "invalid", probs, len(cs))
	}
	if probs := batchDuplicates(prepared); len(probs) > 0 {
		return zone.ImportResult{}, importError(zone.CodeConflict, "duplicated within the import", probs, len(cs))
	}
	now := s.now()
	var res zone.ImportResult
	err := s.update(ctx, "import components", func(t *txn) error {
		res = zone.ImportResult{}
		var conflicts []zone.Detail
		conflict := func(i int, format string, args ...any) {
			conflicts = append(conflicts, zone.Detail{Index: i, Reason: fmt.Sprintf(format, args...)})
		}
		for i, c := range prepared {
			if i%1000 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				if opt.Progress != nil && i > 0 {
					opt.Progress(i)
				}
			}
			var old *zone.Component
			var err error
			switch {
			case c.ID != uuid.Nil:
				if old, err = t.component(c.ID); err != nil {
					return err
				}
				if old != nil && old.Layer != layer {
					conflict(i, "id %s belongs to a component of layer %s", c.ID, old.Layer)
					continue
				}
				if old != nil && !opt.Upsert {
					conflict(i, "id %s already exists (import with upsert to replace it)", c.ID)
					continue
				}
			case c.Code != "":
				if owner := t.codeOwner(layer, c.Code); owner != uuid.Nil {
					if !opt.Upsert {
						conflict(i, "code %q is already used in layer %s (import with upsert to replace it)", c.Code, layer)
						continue
					}
					if old, err = t.component(owner); err != nil {
						return err
					}
					c.ID = owner
				}
			}
			if c.ID == uuid.Nil {
				if c.ID, err = newID(); err != nil {
					return err
				}
			}
			if old != nil {
				c.Version, c.CreatedAt, c.CreatedBy = old.Version+1, old.CreatedAt, old.CreatedBy
				c.UpdatedAt, c.UpdatedBy = later(now, old.UpdatedAt), opt.By
				res.Updated++
			} else {
				c.Version, c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy = 1, now, now, opt.By, opt.By
				res.Created++
			}
			if err := t.put(c, old); err != nil {
				if zone.ErrorCode(err) == zone.CodeConflict {
					conflict(i, "%s", zone.ErrorMessage(err))
					continue
				}
				return err
			}
		}
		if len(conflicts) > 0 {
			return importError(zone.CodeConflict, "in conflict with stored components", conflicts, len(cs))
		}
		if opt.Progress != nil {
			opt.Progress(len(prepared))
		}
		return nil
	})
	if err != nil {
		return zone.ImportResult{}, err
	}
	return res, nil
}

func importError(code zone.Code, what string, probs []zone.Detail, total int) error {
	bad := map[int]bool{}
	for _, d := range probs {
		bad[d.Index] = true
	}
	msg := fmt.Sprintf("%d of %d features are %s; nothing was imported", len(bad), total, what)
	if len(probs) > maxDetails {
		msg += fmt.Sprintf(" (the first %d problems are listed)", maxDetails)
		probs = probs[:maxDetails]
	}
	return &zone.Error{Code: code, Message: msg, Details: probs}
}

// prepareImport clones and validates every component, on every core, and
// returns the clones and the problems in index order.
func prepareImport(layer string, cs []*zone.Component) ([]*zone.Component, []zone.Detail) {
	out := make([]*zone.Component, len(cs))
	perItem := make([][]zone.Detail, len(cs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cs) {
					return
				}
				if cs[i] == nil {
					perItem[i] = []zone.Detail{{Index: i, Reason: "feature is null"}}
					continue
				}
				c := cs[i].Clone()
				if c.Layer == "" {
					c.Layer = layer
				}
				if c.Layer != layer {
					perItem[i] = []zone.Detail{{Index: i, Pointer: "properties.layer", Reason: fmt.Sprintf("feature belongs to layer %q, not %q", c.Layer, layer)}}
					continue
				}
				probs := c.Validate()
				for j := range probs {
					probs[j].Index = i
				}
				perItem[i], out[i] = probs, c
			}
		}()
	}
	wg.Wait()
	var probs []zone.Detail
	for _, p := range perItem {
		probs = append(probs, p...)
	}
	return out, probs
}

// batchDuplicates finds ids and codes given twice in one import.
func batchDuplicates(cs []*zone.Component) []zone.Detail {
	var probs []zone.Detail
	ids := map[uuid.UUID]int{}
	codes := map[string]int{}
	for i, c := range cs {
		if c.ID != uuid.Nil {
			if j, dup := ids[c.ID]; dup {
				probs = append(probs, zone.Detail{Index: i, Pointer: "id", Reason: fmt.Sprintf("id %s is also feature %d's", c.ID, j)})
			} else {
				ids[c.ID] = i
			}
		}
		if c.Code != "" {
			if j, dup := codes[c.Code]; dup {
				probs = append(probs, zone.Detail{Index: i, Pointer: "properties.code", Reason: fmt.Sprintf("code %q is also feature %d's", c.Code, j)})
			} else {
				codes[c.Code] = i
			}
		}
	}
	return probs
}

// boundsTouch reports whether two boxes share at least one point.
func boundsTouch(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && b.Min[0] <= a.Max[0] && a.Min[1] <= b.Max[1] && b.Min[1] <= a.Max[1]
}

// boundWithin reports whether inner lies inside outer, edges included.
func boundWithin(inner, outer orb.Bound) bool {
	return inner.Min[0] >= outer.Min[0] && inner.Min[1] >= outer.Min[1] && inner.Max[0] <= outer.Max[0] && inner.Max[1] <= outer.Max[1]
}

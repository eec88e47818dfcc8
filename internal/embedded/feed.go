package embedded

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// DataVersion is the sequence number of the latest committed change.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.view(ctx, "data version", func(t *txn) error {
		v = t.currentSeq()
		return nil
	})
	return v, err
}

// ChangesSince reports the changes after seq, one per component (its state
// now), in the order of each component's latest change.
func (s *Store) ChangesSince(ctx context.Context, seq int64, fn func(zone.Change) error) (int64, error) {
	var reached int64
	var out []zone.Change
	err := s.view(ctx, "changes since", func(t *txn) error {
		reached = t.currentSeq()
		if seq >= reached {
			return nil
		}
		if seq < u64(t.meta.Get(metaPruned)) {
			return zone.ErrChangesPruned
		}
		type entry struct {
			seq     int64
			layer   string
			deleted bool
		}
		latest := map[uuid.UUID]entry{}
		var order []uuid.UUID
		cur := t.changes.Cursor()
		for k, v := cur.Seek(putU64(seq + 1)); k != nil; k, v = cur.Next() {
			if len(v) < 17 {
				continue
			}
			id := uuid.UUID(v[1:17])
			if _, seen := latest[id]; !seen {
				order = append(order, id)
			}
			latest[id] = entry{seq: u64(k), deleted: v[0] == 1, layer: string(v[17:])}
		}
		out = make([]zone.Change, 0, len(order))
		for _, id := range order {
			e := latest[id]
			ch := zone.Change{Seq: e.seq, ID: id, Layer: e.layer, Deleted: e.deleted}
			if !e.deleted {
				c, err := t.component(id)
				if err != nil {
					return err
				}
				if c == nil {
					ch.Deleted = true
				} else {
					ch.Component = c
				}
			}
			out = append(out, ch)
		}
		return nil
	})
	if err != nil {
		return seq, err
	}
	// order holds first appearances; the feed is ordered by latest change.
	sortChanges(out)
	for _, ch := range out {
		if err := fn(ch); err != nil {
			return seq, err
		}
	}
	return reached, nil
}

func sortChanges(cs []zone.Change) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Seq < cs[j].Seq })
}

// Subscribe returns a channel that receives a value after each committed
// change to components; only this process can write the file, so every
// change passes through here. Values coalesce: the channel holds at most
// one pending.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	ch, ok := s.changes.subscribe(ctx)
	if !ok {
		return nil, zone.Errorf(zone.CodeUnavailable, "the embedded store is closed")
	}
	return ch, nil
}

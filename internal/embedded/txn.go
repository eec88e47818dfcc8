package embedded

import (
	"encoding/binary"
	"math"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// txn is one bbolt transaction with the component buckets at hand and the
// change sequence it advances.
type txn struct {
	tx                                 *bolt.Tx
	s                                  *Store
	comps, index, codes, changes, meta *bolt.Bucket
	seq                                int64
	seqLoaded                          bool
	changed                            bool
}

func newTxn(tx *bolt.Tx, s *Store) *txn {
	t := &txn{
		tx: tx, s: s,
		comps:   tx.Bucket(bucketComponents),
		index:   tx.Bucket(bucketLayerIndex),
		codes:   tx.Bucket(bucketCodes),
		changes: tx.Bucket(bucketChanges),
		meta:    tx.Bucket(bucketMeta),
	}
	if tx.Writable() {
		// New ids are UUIDv7 and change keys a counter: both mostly append,
		// where full pages split best.
		t.comps.FillPercent = 0.9
		t.index.FillPercent = 0.9
		t.changes.FillPercent = 1.0
	}
	return t
}

// component returns the stored component with id, nil when there is none.
func (t *txn) component(id uuid.UUID) (*zone.Component, error) {
	b := t.comps.Get(id[:])
	if b == nil {
		return nil, nil
	}
	return decodeComponent(id, b)
}

// codeOwner returns the id holding code in layer, the zero UUID when none.
func (t *txn) codeOwner(layer, code string) uuid.UUID {
	v := t.codes.Get(codeKey(layer, code))
	if len(v) != 16 {
		return uuid.Nil
	}
	return uuid.UUID(v)
}

// put stores c, which replaces old (nil for a new component), keeping the
// layer index, the code index and the change log in step. A code held by
// another component of the layer is a conflict.
func (t *txn) put(c, old *zone.Component) error {
	if c.Code != "" {
		if owner := t.codeOwner(c.Layer, c.Code); owner != uuid.Nil && owner != c.ID {
			return zone.Errorf(zone.CodeConflict, "code %q is already used in layer %s", c.Code, c.Layer)
		}
	}
	rec, err := encodeComponent(c)
	if err != nil {
		return err
	}
	if old != nil {
		if old.Code != "" && (old.Code != c.Code || old.Layer != c.Layer) {
			if err := t.codes.Delete(codeKey(old.Layer, old.Code)); err != nil {
				return err
			}
		}
		if old.Layer != c.Layer {
			if err := t.index.Delete(indexKey(old.Layer, old.ID)); err != nil {
				return err
			}
		}
	}
	if err := t.comps.Put(c.ID[:], rec); err != nil {
		return err
	}
	if err := t.index.Put(indexKey(c.Layer, c.ID), indexValue(c)); err != nil {
		return err
	}
	if c.Code != "" && (old == nil || old.Code != c.Code || old.Layer != c.Layer) {
		if err := t.codes.Put(codeKey(c.Layer, c.Code), c.ID[:]); err != nil {
			return err
		}
	}
	return t.logChange(c.ID, c.Layer, false)
}

// remove deletes a stored component and its index entries.
func (t *txn) remove(old *zone.Component) error {
	if err := t.comps.Delete(old.ID[:]); err != nil {
		return err
	}
	if err := t.index.Delete(indexKey(old.Layer, old.ID)); err != nil {
		return err
	}
	if old.Code != "" {
		if err := t.codes.Delete(codeKey(old.Layer, old.Code)); err != nil {
			return err
		}
	}
	return t.logChange(old.ID, old.Layer, true)
}

func (t *txn) currentSeq() int64 {
	if !t.seqLoaded {
		t.seq = u64(t.meta.Get(metaSeq))
		t.seqLoaded = true
	}
	return t.seq
}

func (t *txn) logChange(id uuid.UUID, layer string, deleted bool) error {
	t.seq = t.currentSeq() + 1
	t.changed = true
	v := make([]byte, 0, 17+len(layer))
	if deleted {
		v = append(v, 1)
	} else {
		v = append(v, 0)
	}
	v = append(v, id[:]...)
	v = append(v, layer...)
	return t.changes.Put(putU64(t.seq), v)
}

// finish saves the sequence reached and prunes the change log to the
// store's KeepChanges newest entries.
func (t *txn) finish() error {
	if !t.changed {
		return nil
	}
	if err := t.meta.Put(metaSeq, putU64(t.seq)); err != nil {
		return err
	}
	cutoff := t.seq - t.s.keep
	if cutoff <= u64(t.meta.Get(metaPruned)) {
		return nil
	}
	// Collect first: deleting under a moving cursor skips entries.
	var old [][]byte
	c := t.changes.Cursor()
	for k, _ := c.First(); k != nil && u64(k) <= cutoff; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := t.changes.Delete(k); err != nil {
			return err
		}
	}
	return t.meta.Put(metaPruned, putU64(cutoff))
}

func indexKey(layer string, id uuid.UUID) []byte {
	k := make([]byte, 0, len(layer)+17)
	k = append(k, layer...)
	k = append(k, 0)
	return append(k, id[:]...)
}

func codeKey(layer, code string) []byte {
	k := make([]byte, 0, len(layer)+1+len(code))
	k = append(k, layer...)
	k = append(k, 0)
	return append(k, code...)
}

// indexValue is what a scan needs before decoding a component: its
// classification and the envelope of its geometry (lon/lat degrees).
func indexValue(c *zone.Component) []byte {
	b := c.Geometry.Bound()
	v := make([]byte, 33)
	v[0] = byte(c.Classification)
	for i, f := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		binary.LittleEndian.PutUint64(v[1+8*i:], math.Float64bits(f))
	}
	return v
}

func decodeIndexValue(v []byte) (zone.Classification, orb.Bound) {
	if len(v) != 33 {
		// An unreadable entry is shown only to secret clearance and tested
		// against every bound: never to the wrong caller, never missed.
		return zone.Secret, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	}
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(v[1+8*i:])) }
	return zone.Classification(v[0]), orb.Bound{Min: orb.Point{f(0), f(1)}, Max: orb.Point{f(2), f(3)}}
}

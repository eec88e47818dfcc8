package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb/encoding/wkb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Master-plan jobs (zone.PlanStore):
//
//	plans: id -> plan record (JSON, counts by clearance included)
//	plan_parcels: id -> (bucket) seq (4 bytes) -> parcel record (JSON, geometry as WKB)
//	plan_views: id + clearance (1 byte) -> (bucket) seq -> the parcel's view for that clearance
//
// A clearance's views are a bucket of their own, so reading one reader's
// parcels reads nothing of the views above it.

var (
	bucketPlans       = []byte("plans")
	bucketPlanParcels = []byte("plan_parcels")
	bucketPlanViews   = []byte("plan_views")
)

type planRecord struct {
	zone.Plan
	Counts json.RawMessage `json:"counts"`
}

type parcelRecord struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
	Geometry   []byte         `json:"geometry"`
}

type parcelViewRecord struct {
	Verdict string          `json:"verdict"`
	Result  json.RawMessage `json:"result"`
	Reason  string          `json:"reason,omitempty"`
	At      time.Time       `json:"at"`
}

func seqKey(seq int) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(seq))
	return b
}

func viewBucketKey(id uuid.UUID, cl zone.Classification) []byte {
	return append(append([]byte(nil), id[:]...), byte(cl))
}

func planBuckets(tx *bolt.Tx) (plans, parcels, views *bolt.Bucket, err error) {
	for _, name := range [][]byte{bucketPlans, bucketPlanParcels, bucketPlanViews} {
		if tx.Writable() {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return tx.Bucket(bucketPlans), tx.Bucket(bucketPlanParcels), tx.Bucket(bucketPlanViews), nil
}

func planNotFound(id uuid.UUID) error {
	return zone.Errorf(zone.CodeNotFound, "plan %s not found", id)
}

func getPlan(plans *bolt.Bucket, id uuid.UUID) (*zone.Plan, error) {
	if plans == nil {
		return nil, planNotFound(id)
	}
	b := plans.Get(id[:])
	if b == nil {
		return nil, planNotFound(id)
	}
	var r planRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	c, err := zone.ParsePlanCounts(r.Counts)
	if err != nil {
		return nil, err
	}
	p := r.Plan
	p.Counts = c
	return &p, nil
}

func putPlan(plans *bolt.Bucket, p *zone.Plan) error {
	b, err := json.Marshal(planRecord{Plan: *p, Counts: zone.PlanCountsJSON(p.Counts)})
	if err != nil {
		return err
	}
	return plans.Put(p.ID[:], b)
}

// CreatePlan stores a job and its parcels, unchecked, in one transaction.
func (s *Store) CreatePlan(ctx context.Context, p *zone.Plan, parcels []zone.PlanParcel) (*zone.Plan, error) {
	if p == nil || strings.TrimSpace(p.Name) == "" {
		return nil, zone.Errorf(zone.CodeInvalid, "a plan needs a name")
	}
	if len(parcels) == 0 {
		return nil, zone.Errorf(zone.CodeInvalid, "a plan needs at least one parcel")
	}
	out := *p
	if out.ID == uuid.Nil {
		id, err := newID()
		if err != nil {
			return nil, err
		}
		out.ID = id
	}
	now := s.now()
	out.State, out.Done, out.Total, out.Error = zone.PlanQueued, 0, len(parcels), ""
	out.CreatedAt, out.UpdatedAt = now, now
	out.Counts, _ = zone.ParsePlanCounts(nil)
	recs := make([][]byte, len(parcels))
	for i := range parcels {
		pc := &parcels[i]
		if pc.Geometry == nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d has no geometry", i)
		}
		g, err := wkb.Marshal(pc.Geometry)
		if err != nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d: %v", i, err)
		}
		if recs[i], err = json.Marshal(parcelRecord{Name: pc.Name, Properties: pc.Properties, Geometry: g}); err != nil {
			return nil, zone.Errorf(zone.CodeInvalid, "parcel %d: %v", i, err)
		}
	}
	err := s.update(ctx, "store the plan", func(t *txn) error {
		plans, pb, _, err := planBuckets(t.tx)
		if err != nil {
			return err
		}
		if plans.Get(out.ID[:]) != nil {
			return zone.Errorf(zone.CodeConflict, "plan %s already exists", out.ID)
		}
		if err := putPlan(plans, &out); err != nil {
			return err
		}
		b, err := pb.CreateBucket(out.ID[:])
		if err != nil {
			return err
		}
		b.FillPercent = 1 // keys are written in order
		for i, r := range recs {
			if err := b.Put(seqKey(i), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPlan returns one job.
func (s *Store) GetPlan(ctx context.Context, id uuid.UUID) (*zone.Plan, error) {
	var p *zone.Plan
	err := s.view(ctx, "read the plan", func(t *txn) error {
		var err error
		p, err = getPlan(t.tx.Bucket(bucketPlans), id)
		return err
	})
	return p, err
}

// ListPlans returns jobs newest first.
func (s *Store) ListPlans(ctx context.Context, createdBy string, states ...string) ([]zone.Plan, error) {
	var out []zone.Plan
	err := s.view(ctx, "list the plans", func(t *txn) error {
		plans := t.tx.Bucket(bucketPlans)
		if plans == nil {
			return nil
		}
		return plans.ForEach(func(k, _ []byte) error {
			p, err := getPlan(plans, uuid.UUID(k))
			if err != nil {
				return err
			}
			if createdBy != "" && p.CreatedBy != createdBy {
				return nil
			}
			if len(states) > 0 && !contains(states, p.State) {
				return nil
			}
			out = append(out, *p)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return strings.Compare(out[i].ID.String(), out[j].ID.String()) > 0
	})
	return out, err
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// SetPlanState moves a job to state; a cancelled job stays cancelled.
func (s *Store) SetPlanState(ctx context.Context, id uuid.UUID, state, errText string) (*zone.Plan, error) {
	if !validPlanState(state) {
		return nil, zone.Errorf(zone.CodeInvalid, "unknown plan state %q", state)
	}
	var p *zone.Plan
	err := s.update(ctx, "update the plan", func(t *txn) error {
		plans, _, _, err := planBuckets(t.tx)
		if err != nil {
			return err
		}
		if p, err = getPlan(plans, id); err != nil {
			return err
		}
		if p.State == zone.PlanCancelled && state != zone.PlanCancelled {
			return zone.Errorf(zone.CodeConflict, "plan %s was cancelled", id)
		}
		p.State, p.Error, p.UpdatedAt = state, errText, s.now()
		return putPlan(plans, p)
	})
	return p, err
}

func validPlanState(st string) bool {
	switch st {
	case zone.PlanQueued, zone.PlanRunning, zone.PlanDone, zone.PlanCancelled, zone.PlanFailed:
		return true
	}
	return false
}

// SaveParcelResults stores parcels' checks and moves the job's progress.
func (s *Store) SaveParcelResults(ctx context.Context, id uuid.UUID, rulesetVersion string, rs []zone.ParcelResult) error {
	for _, r := range rs {
		if err := validParcelResult(r); err != nil {
			return err
		}
	}
	return s.update(ctx, "store the parcels' checks", func(t *txn) error {
		plans, pb, vb, err := planBuckets(t.tx)
		if err != nil {
			return err
		}
		p, err := getPlan(plans, id)
		if err != nil {
			return err
		}
		doneBefore := p.Done
		parcels := pb.Bucket(id[:])
		var views [zone.Levels]*bolt.Bucket
		for _, cl := range zone.Classifications() {
			if views[cl], err = vb.CreateBucketIfNotExists(viewBucketKey(id, cl)); err != nil {
				return err
			}
		}
		for _, r := range rs {
			k := seqKey(r.Seq)
			if parcels == nil || parcels.Get(k) == nil {
				return zone.Errorf(zone.CodeNotFound, "plan %s has no parcel %d", id, r.Seq)
			}
			first := views[zone.Secret].Get(k) == nil
			for _, cl := range zone.Classifications() {
				if old := views[cl].Get(k); old != nil {
					var ov parcelViewRecord
					if err := json.Unmarshal(old, &ov); err != nil {
						return err
					}
					p.Counts[cl][ov.Verdict]--
					if p.Counts[cl][ov.Verdict] <= 0 {
						delete(p.Counts[cl], ov.Verdict)
					}
				}
				v := r.Views[cl]
				b, err := json.Marshal(parcelViewRecord{Verdict: v.Verdict, Result: v.Result, Reason: r.Reason, At: r.At.UTC()})
				if err != nil {
					return err
				}
				if err := views[cl].Put(k, b); err != nil {
					return err
				}
				p.Counts[cl][v.Verdict]++
			}
			if first {
				p.Done++
			}
		}
		if rulesetVersion != "" {
			p.RulesetVersion = rulesetVersion
		}
		if p.Done != doneBefore { // a re-check leaves it: see zone.PlanStore.SaveParcelResults
			p.UpdatedAt = s.now()
		}
		return putPlan(plans, p)
	})
}

func validParcelResult(r zone.ParcelResult) error {
	for _, cl := range zone.Classifications() {
		v := r.Views[cl]
		if v.Verdict == "" || !json.Valid(v.Result) {
			return zone.Errorf(zone.CodeInvalid, "parcel %d: the %s view of its check is missing or not JSON", r.Seq, cl)
		}
	}
	return nil
}

// ListParcels streams a job's parcels in order, each with the reader's view.
func (s *Store) ListParcels(ctx context.Context, id uuid.UUID, q zone.ParcelQuery, fn func(*zone.PlanParcel) error) error {
	cl := q.Clearance
	if !cl.Valid() {
		cl = zone.Public
	}
	return s.view(ctx, "list the plan's parcels", func(t *txn) error {
		if _, err := getPlan(t.tx.Bucket(bucketPlans), id); err != nil {
			return err
		}
		var parcels, views, secret *bolt.Bucket
		if b := t.tx.Bucket(bucketPlanParcels); b != nil {
			parcels = b.Bucket(id[:])
		}
		if parcels == nil {
			return nil
		}
		if b := t.tx.Bucket(bucketPlanViews); b != nil {
			views = b.Bucket(viewBucketKey(id, cl))
			secret = b.Bucket(viewBucketKey(id, zone.Secret))
		}
		c := parcels.Cursor()
		skipped, sent := 0, 0
		for k, v := c.Seek(seqKey(max(q.FromSeq, 0))); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if q.Unchecked && secret != nil && secret.Get(k) != nil {
				continue
			}
			var vr *parcelViewRecord
			if views != nil {
				if b := views.Get(k); b != nil {
					vr = &parcelViewRecord{}
					if err := json.Unmarshal(b, vr); err != nil {
						return err
					}
				}
			}
			if q.Verdict != "" && (vr == nil || vr.Verdict != q.Verdict) {
				continue
			}
			var pr parcelRecord
			if err := json.Unmarshal(v, &pr); err != nil {
				return err
			}
			g, err := wkb.Unmarshal(pr.Geometry)
			if err != nil {
				return err
			}
			if q.Bound != nil && !q.Bound.Intersects(g.Bound()) {
				continue
			}
			if skipped < q.Offset {
				skipped++
				continue
			}
			pc := &zone.PlanParcel{PlanID: id, Seq: int(binary.BigEndian.Uint32(k)), Name: pr.Name, Properties: pr.Properties, Geometry: g}
			if vr != nil {
				pc.Checked, pc.CheckedAt, pc.Reason = true, vr.At, vr.Reason
				pc.Views[cl] = zone.CheckView{Verdict: vr.Verdict, Result: vr.Result}
			}
			if err := fn(pc); err != nil {
				return err
			}
			if sent++; q.Limit > 0 && sent >= q.Limit {
				return nil
			}
		}
		return nil
	})
}

// DeletePlan removes a job and everything of it.
func (s *Store) DeletePlan(ctx context.Context, id uuid.UUID) error {
	return s.update(ctx, "delete the plan", func(t *txn) error {
		plans, pb, vb, err := planBuckets(t.tx)
		if err != nil {
			return err
		}
		if plans.Get(id[:]) == nil {
			return planNotFound(id)
		}
		if err := plans.Delete(id[:]); err != nil {
			return err
		}
		if pb.Bucket(id[:]) != nil {
			if err := pb.DeleteBucket(id[:]); err != nil {
				return err
			}
		}
		for _, cl := range zone.Classifications() {
			if vb.Bucket(viewBucketKey(id, cl)) != nil {
				if err := vb.DeleteBucket(viewBucketKey(id, cl)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

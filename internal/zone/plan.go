package zone

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
)

// Plan job states. A job is queued when created, running while a worker
// checks its parcels, and ends done, cancelled or failed. A queued or
// running job found at start-up is resumed from its first unchecked parcel.
const (
	PlanQueued    = "queued"
	PlanRunning   = "running"
	PlanDone      = "done"
	PlanCancelled = "cancelled"
	PlanFailed    = "failed"
)

// PlanFinished reports whether a job in state st will not run again.
func PlanFinished(st string) bool {
	return st == PlanDone || st == PlanCancelled || st == PlanFailed
}

// Plan is a master-plan job: a file of parcels checked one by one in the
// background against the defence data. Counts holds, by clearance, how
// many checked parcels got each verdict as a reader of that clearance
// sees them; a reader is only ever shown the counts of its own clearance.
type Plan struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Source describes the uploaded file: its name, format and CRS.
	File   string `json:"file"`
	Format string `json:"format"`
	CRS    string `json:"crs"`
	// Mapping is the plan's attribute names for the project fields
	// (name, sector, height_m, activities).
	Mapping map[string]string      `json:"mapping,omitempty"`
	Total   int                    `json:"total"`
	Done    int                    `json:"done"`
	Counts  [Levels]map[string]int `json:"-"`
	Error   string                 `json:"error,omitempty"`
	// RulesetVersion is the rule set the latest parcel was checked against.
	RulesetVersion string `json:"ruleset_version,omitempty"`
}

// PlanParcel is one parcel of a plan: its footprint and mapped project
// attributes, and once checked its result as every clearance sees it.
type PlanParcel struct {
	PlanID uuid.UUID
	Seq    int // position in the uploaded file, from 0
	Name   string
	// Properties are the project attributes mapped from the file
	// (PropSector, PropHeightM, PropActivities) and the file's own
	// attributes under their own names.
	Properties map[string]any
	Geometry   orb.Geometry // WGS84 lon/lat
	Checked    bool
	CheckedAt  time.Time
	// Reason says why the parcel was last checked again after its first
	// check (a change of the data or rules); "" for a first check.
	Reason string
	// Views, when checked: the parcel's result as each clearance sees it.
	// Read back for one reader, only Views[cl] of the reader's clearance
	// is filled (ParcelView).
	Views [Levels]CheckView
}

// Bound is the parcel's lon/lat bounding box.
func (p *PlanParcel) Bound() orb.Bound { return p.Geometry.Bound() }

// ParcelResult is a parcel's check, to store: its views by clearance.
type ParcelResult struct {
	Seq    int
	Views  [Levels]CheckView
	Reason string
	At     time.Time
}

// ParcelQuery selects parcels of one plan for ListParcels.
type ParcelQuery struct {
	// Clearance is the reader's: the one view read and filtered on.
	Clearance Classification
	Verdict   string // only parcels of this verdict as the reader sees it
	Unchecked bool   // only parcels not checked yet (resuming a job)
	FromSeq   int    // only parcels with Seq >= FromSeq
	Limit     int    // 0: no limit
	Offset    int
	// Bound, when set, keeps parcels whose bounding box intersects it.
	Bound *orb.Bound
}

// PlanStore keeps master-plan jobs and their parcels.
type PlanStore interface {
	// CreatePlan stores a new job (state queued, Done 0) and all its
	// parcels unchecked, in one transaction; p.Total is len(parcels).
	CreatePlan(ctx context.Context, p *Plan, parcels []PlanParcel) (*Plan, error)
	// GetPlan returns a job with its counts by clearance; not-found when missing.
	GetPlan(ctx context.Context, id uuid.UUID) (*Plan, error)
	// ListPlans returns jobs, newest first; createdBy "" for all, states
	// empty for every state.
	ListPlans(ctx context.Context, createdBy string, states ...string) ([]Plan, error)
	// SetPlanState moves a job to a state, with an error text for failed.
	// A job already cancelled stays cancelled (CodeConflict when asked to
	// run again), so a worker's late write never revives it.
	SetPlanState(ctx context.Context, id uuid.UUID, state, errText string) (*Plan, error)
	// SaveParcelResults stores checks of parcels, counts a parcel's first
	// check in Done, moves the counts by clearance from the parcel's old
	// verdicts to its new ones, and sets the job's rule set version, all
	// in one transaction. UpdatedAt moves with Done only: a re-check
	// leaves it, for every reader sees it and a re-check may follow the
	// edit of a work hidden from them.
	SaveParcelResults(ctx context.Context, id uuid.UUID, rulesetVersion string, rs []ParcelResult) error
	// ListParcels streams a job's parcels in Seq order, each with only the
	// view of q.Clearance. Returning an error from fn stops and returns it.
	ListParcels(ctx context.Context, id uuid.UUID, q ParcelQuery, fn func(*PlanParcel) error) error
	// DeletePlan removes a job and its parcels.
	DeletePlan(ctx context.Context, id uuid.UUID) error
}

// PlanCounts returns the job's verdict counts as a reader of clearance cl may see it: the counts
// of that clearance only, never nil.
func (p *Plan) PlanCounts(cl Classification) map[string]int {
	if !cl.Valid() {
		cl = Public
	}
	out := map[string]int{}
	for k, v := range p.Counts[cl] {
		out[k] = v
	}
	return out
}

// PlanCountsJSON encodes Plan.Counts for a store (one JSON value).
func PlanCountsJSON(c [Levels]map[string]int) []byte {
	m := make([]map[string]int, Levels)
	for i := range c {
		m[i] = c[i]
		if m[i] == nil {
			m[i] = map[string]int{}
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// ParsePlanCounts reads what PlanCountsJSON wrote.
func ParsePlanCounts(b []byte) ([Levels]map[string]int, error) {
	var out [Levels]map[string]int
	var m []map[string]int
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return out, err
		}
	}
	for i := range out {
		out[i] = map[string]int{}
		if i < len(m) && m[i] != nil {
			out[i] = m[i]
		}
	}
	return out, nil
}

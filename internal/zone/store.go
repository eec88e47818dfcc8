package zone

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
)

// Query selects components. The zero Query selects every public component of
// every layer.
type Query struct {
	Layers    []string       // empty: every layer
	Bound     *orb.Bound     // WGS84 box; a component matches when its geometry intersects it (touching counts)
	Clearance Classification // only components with Classification <= Clearance
	IDs       []uuid.UUID    // when set, only these
	Limit     int            // 0: no limit
	Offset    int
}

// Store is everything zoneplan keeps. Both backends (PostGIS and the
// embedded file) implement it and pass the same contract suite
// (internal/storetest).
type Store interface {
	ComponentStore
	ChangeFeed
	TokenStore
	RevocationFeed
	AppraisalStore
	PlanStore
	RuleSetStore
	AuditStore
	CoverageStore
	// Ping reports whether the store can serve: nil, CodeUnavailable while
	// it is unreachable, CodeStorageFull while its disk is full.
	Ping(ctx context.Context) error
	Close() error
}

// ComponentStore keeps defence components and project sites. Every read
// takes the caller's clearance: a component above it does not exist for the
// caller (not found, never forbidden), in lists, counts and lookups alike.
type ComponentStore interface {
	// CreateComponent validates c, assigns an id when c.ID is zero, sets
	// version 1 and the timestamps, stores it and returns the stored copy.
	CreateComponent(ctx context.Context, c *Component, by string) (*Component, error)
	// GetComponent returns one component, not-found when it is missing or
	// above clearance.
	GetComponent(ctx context.Context, id uuid.UUID, clearance Classification) (*Component, error)
	// UpdateComponent replaces the component with c.ID. When ifVersion is not
	// 0 and differs from the stored version, it fails with CodeConflict.
	// The version increments by one. A component above clearance is not found.
	UpdateComponent(ctx context.Context, c *Component, ifVersion int64, clearance Classification, by string) (*Component, error)
	// DeleteComponent removes a component, with the same version and
	// clearance rules as UpdateComponent.
	DeleteComponent(ctx context.Context, id uuid.UUID, ifVersion int64, clearance Classification, by string) error
	// ListComponents streams the matching components ordered by layer then id.
	// Returning an error from fn stops the scan and returns that error.
	ListComponents(ctx context.Context, q Query, fn func(*Component) error) error
	// CountComponents counts what ListComponents would return without Limit and Offset.
	CountComponents(ctx context.Context, q Query) (int, error)
	// ImportComponents validates every component first and writes all or
	// nothing in one transaction. Invalid components fail the whole import
	// with CodeInvalid and one Detail per bad component (Index = position in
	// cs). With Upsert, a component whose id (or, without an id, whose code
	// within the layer) exists replaces it; otherwise an existing id or code
	// is a conflict. Progress, when set, is called with the count written so far.
	ImportComponents(ctx context.Context, layer string, cs []*Component, opt ImportOptions) (ImportResult, error)
}

// ImportOptions tunes ImportComponents.
type ImportOptions struct {
	Upsert   bool
	By       string
	Progress func(done int)
}

// ImportResult counts what an import wrote.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// Change is one committed change to a component. Component is the state
// after the change, nil when it was deleted.
type Change struct {
	Seq       int64
	ID        uuid.UUID
	Layer     string
	Deleted   bool
	Component *Component
}

// ChangeFeed lets the in-memory index follow the store, including changes
// other server instances make to a shared PostGIS.
type ChangeFeed interface {
	// DataVersion is the sequence number of the latest committed change (0 for
	// a store never changed). It only grows.
	DataVersion(ctx context.Context) (int64, error)
	// ChangesSince calls fn, in sequence order, for the changes committed after
	// seq, at most one per component (its latest state), and returns the
	// sequence number reached. It fails with ErrChangesPruned when changes after
	// seq are no longer kept; the caller must then reload everything.
	ChangesSince(ctx context.Context, seq int64, fn func(Change) error) (int64, error)
	// Subscribe returns a channel that receives a value soon after any change
	// is committed, by this process or (PostGIS) any other; values may be
	// coalesced. The channel is closed when ctx ends.
	Subscribe(ctx context.Context) (<-chan struct{}, error)
}

// ErrChangesPruned is returned by ChangesSince when the change log no longer
// reaches back to the requested sequence number.
var ErrChangesPruned = &Error{Code: CodeUnavailable, Message: "change log pruned; reload"}

// TokenStore keeps API tokens (only hashes of their secrets).
type TokenStore interface {
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with the given secret hash, not-found
	// when none (revoked and expired tokens are returned; the caller checks Active).
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks a token revoked; not-found when there is no such token.
	RevokeToken(ctx context.Context, id uuid.UUID, at time.Time) error
}

// RevocationFeed tells a server of token revocations made anywhere, so that
// a revoked token is refused at once by every instance sharing the store.
type RevocationFeed interface {
	// WatchRevocations returns a channel that receives the id of every
	// token revoked after it returns (by this process or, with PostGIS, any
	// other). The channel is closed when ctx ends, when the store closes,
	// and when the feed is interrupted: revocations may then have been
	// missed, so the caller distrusts what it learned before and watches
	// again.
	WatchRevocations(ctx context.Context) (<-chan uuid.UUID, error)
}

// Appraisal statuses.
const (
	StatusPending                = "pending"
	StatusApproved               = "approved"
	StatusApprovedWithConditions = "approved_with_conditions"
	StatusRejected               = "rejected"
)

// Appraisal is the record of one civil project's appraisal: its project site
// (a component of layer project_sites), its immutable check records, and the
// reviewer's decision. What a store returns is as one reader sees it: the
// verdict and every check's result as a caller of the reader's clearance
// would get them.
type Appraisal struct {
	ID        uuid.UUID     `json:"id"`
	SiteID    uuid.UUID     `json:"site_id"`
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	Verdict   string        `json:"verdict"`    // of the latest check, as the reader sees it
	CreatedBy string        `json:"created_by"` // token name
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	Decision  *Decision     `json:"decision,omitempty"`
	Checks    []CheckRecord `json:"checks,omitempty"` // newest first; filled by GetAppraisal
	// Stale is the change-impact mark as the reader sees it (impact.go);
	// nil when the reader is told of no change since the latest check.
	Stale *StaleMark `json:"stale,omitempty"`
}

// Levels is the number of clearances, the length of every by-clearance array.
const Levels = int(Secret) + 1

// Decision is a reviewer's ruling on an appraisal.
type Decision struct {
	Outcome string    `json:"outcome"` // approved, approved_with_conditions, rejected
	Note    string    `json:"note"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// CheckRecord is one stored check of an appraisal. It is never changed after
// it is written.
//
// A record is written with Views: the check as each clearance sees it
// (check.Record), kept apart, so that reading one reader's view reads
// nothing of the others (its time and size say nothing of what is hidden).
// Read back for a reader of clearance cl, Verdict and Result are that view
// and ViewOf is cl; a record written without views (before they were kept)
// comes back with its full result and ViewOf Secret, for the caller to
// redact.
type CheckRecord struct {
	ID             uuid.UUID `json:"id"`
	AppraisalID    uuid.UUID `json:"appraisal_id"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	Verdict        string    `json:"verdict"`
	RulesetVersion string    `json:"ruleset_version"`
	// DataVersion is the store's data version when checked; read back only
	// for a reader cleared for everything.
	DataVersion int64           `json:"data_version,omitempty"`
	Result      json.RawMessage `json:"result"`
	ViewOf      Classification  `json:"-"`
	// Views, by clearance, when writing; Views[Secret] is the full check.
	Views [Levels]CheckView `json:"-"`
	// Recheck marks a record the background re-check wrote after a change
	// (impact.go); Reason and Diff are then the reader's: why, and what
	// changed since the record before.
	Recheck bool       `json:"recheck,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	Diff    *CheckDiff `json:"diff,omitempty"`
}

// CheckView is a check's verdict and result as one clearance sees it.
type CheckView struct {
	Verdict string
	Result  json.RawMessage
}

// Full returns the record's full verdict and result: Views[Secret] when
// views are set, else Verdict and Result.
func (r *CheckRecord) Full() CheckView {
	if v := r.Views[Secret]; v.Verdict != "" {
		return v
	}
	return CheckView{Verdict: r.Verdict, Result: r.Result}
}

// View returns the view of clearance cl, falling back to the nearest
// clearance above it that has one (the full check at worst). ok is false
// when the fallback was needed.
func (r *CheckRecord) View(cl Classification) (v CheckView, of Classification, ok bool) {
	if !cl.Valid() {
		cl = Public
	}
	for c := cl; c <= Secret; c++ {
		if r.Views[c].Verdict != "" {
			return r.Views[c], c, c == cl
		}
	}
	return r.Full(), Secret, cl == Secret
}

// AppraisalQuery filters ListAppraisals.
type AppraisalQuery struct {
	CreatedBy string // "" for all
	Status    string
	Verdict   string // as the reader (Clearance) sees it
	Text      string // case-insensitive substring of the name
	Limit     int    // 0: no limit
	Offset    int
	// Clearance is the reader's: verdicts are listed and filtered as a
	// caller of that clearance sees them.
	Clearance Classification
	// Stale keeps the appraisals with a change-impact mark the reader sees.
	Stale bool
	// WorseFirst lists first the approved ones (with or without
	// conditions) whose re-check made the verdict worse for the reader.
	WorseFirst bool
}

// AppraisalStore keeps appraisals and their check records. Every read takes
// the reader's clearance and returns verdicts and results as a caller of
// that clearance would get them (CheckRecord).
type AppraisalStore interface {
	// CreateAppraisal stores the project site, the appraisal and its first
	// check in one transaction, setting the site's status and verdict
	// properties (the public verdict, and PropVerdicts by clearance).
	CreateAppraisal(ctx context.Context, a *Appraisal, site *Component, first CheckRecord) (*Appraisal, error)
	// GetAppraisal returns an appraisal with its checks, newest first, as a
	// reader of clearance cl sees them.
	GetAppraisal(ctx context.Context, id uuid.UUID, cl Classification) (*Appraisal, error)
	// ListAppraisals returns one page, newest first, and the total matched.
	ListAppraisals(ctx context.Context, q AppraisalQuery) ([]Appraisal, int, error)
	// AddCheck appends a check record and makes its verdicts the
	// appraisal's (and its site's) latest; the appraisal comes back as a
	// reader of clearance cl sees it. It clears the stale marks, except
	// those whose re-check made the verdict worse (kept for the reviewer).
	AddCheck(ctx context.Context, rec CheckRecord, cl Classification) (*Appraisal, error)
	// DecideAppraisal records a decision and sets the status (and the
	// site's); it clears every stale mark.
	DecideAppraisal(ctx context.Context, id uuid.UUID, d Decision, cl Classification) (*Appraisal, error)
	AppraisalImpact
}

// SiteVerdicts is the PropVerdicts value of a check's views: the verdict
// by clearance name.
func SiteVerdicts(views [Levels]CheckView) map[string]any {
	m := make(map[string]any, Levels)
	for _, cl := range Classifications() {
		if v := views[cl].Verdict; v != "" {
			m[cl.String()] = v
		}
	}
	return m
}

// RuleSetStore keeps the versions of the conflict rule set an admin loaded,
// so every server instance checks against the same active set.
type RuleSetStore interface {
	// ActiveRuleSet returns the latest saved rule set document and its
	// version; not-found when none was ever saved (the embedded default applies).
	ActiveRuleSet(ctx context.Context) (version string, doc []byte, err error)
	// SaveRuleSet stores a validated rule set document and makes it active;
	// conflict when that version was saved before.
	SaveRuleSet(ctx context.Context, version string, doc []byte, by string) error
}

// StoreState names what a Ping error says of a store: "ready" (nil),
// "degraded" (unreachable: reads are served from memory), "storage_full"
// or "failing". /readyz and the store_state metric say the same.
type StoreState string

// The states a store can be in (StoreStateOf).
const (
	StoreReady       StoreState = "ready"
	StoreDegraded    StoreState = "degraded"
	StoreStorageFull StoreState = "storage_full"
	StoreFailing     StoreState = "failing"
)

// StoreStates lists every StoreState.
func StoreStates() []StoreState {
	return []StoreState{StoreReady, StoreDegraded, StoreStorageFull, StoreFailing}
}

// StoreStateOf is the state a Ping error says the store is in.
func StoreStateOf(pingErr error) StoreState {
	switch ErrorCode(pingErr) {
	case "":
		return StoreReady
	case CodeUnavailable:
		return StoreDegraded
	case CodeStorageFull:
		return StoreStorageFull
	}
	return StoreFailing
}

package zone

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Audit actions: what an AuditEntry records. Families share a prefix
// ("appraisal.", "component.", "token.") that the audit query can select.
const (
	AuditCheck              = "check"             // a quick check (POST /api/check)
	AuditAppraisalCreated   = "appraisal.created" // an appraisal and its first check
	AuditAppraisalRechecked = "appraisal.rechecked"
	AuditAppraisalDecided   = "appraisal.decided"
	AuditAppraisalWorse     = "appraisal.worse"     // a background re-check after a change made an approved appraisal's verdict worse
	AuditAppraisalPublished = "appraisal.published" // its project site made visible to every reader
	AuditReportRead         = "report.read"         // an appraisal's report read (HTML or PDF); not one of its steps
	AuditComponentCreated   = "component.created"
	AuditComponentUpdated   = "component.updated"
	AuditComponentDeleted   = "component.deleted"
	AuditComponentsImported = "component.imported" // a whole import, one entry (counts, not every id)
	AuditFeatureRead        = "feature.read"       // a feature above public read by id
	AuditExport             = "export"             // a layer exported by the CLI
	AuditTokenCreated       = "token.created"
	AuditTokenRevoked       = "token.revoked"
	AuditTokenRefused       = "token.refused" // a revoked or expired token was presented
	AuditRuleSetLoaded      = "ruleset.loaded"
	AuditCoverageSet        = "coverage.set"     // a layer's coverage created or replaced
	AuditCoverageDeleted    = "coverage.deleted" // a layer's coverage removed
	AuditProbing            = "alert.probing"    // a token's checks touched consultation areas unusually often
	AuditSuspensionLifted   = "alert.lifted"     // an administrator lifted a token's suspension
	AuditPlanCreated        = "plan.created"     // a master-plan job submitted
	AuditPlanCancelled      = "plan.cancelled"   // a master-plan job cancelled
	AuditPlanRead           = "plan.read"        // a master-plan job's results read (parcels, summary, download, report)
)

// AuditEntry is one entry of the audit trail: who did what, when, to what,
// and the classification of what the entry reveals (a reader of the trail
// sees only entries at or below their clearance).
//
// Entries form a hash chain: Seq counts from 1 without gaps, Prev is the
// Hash of the entry before (32 zero bytes for the first), and Hash is the
// SHA-256 of Prev and the entry's canonical encoding (package audit). The
// store assigns Seq, Prev and Hash when it appends; everything else is set
// by the caller. Detail is JSON whose bytes are kept exactly.
type AuditEntry struct {
	Seq            int64
	ID             uuid.UUID // random; names the entry without revealing its place in the chain
	Time           time.Time // UTC, microseconds
	Action         string
	ActorID        uuid.UUID // the token; zero for a local command
	Actor          string    // the token's name, or "cli:<user>"
	Role           Role
	ActorClearance Classification
	Object         string // the appraisal, component, token or rule set version acted on; "" for none
	Layer          string // the component's layer, for component entries
	Classification Classification
	Detail         json.RawMessage
	Prev           []byte
	Hash           []byte
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Actor  string // a token id, or an actor's name; "" for all
	Action string // exact, or a prefix ending in "*" ("appraisal.*"); "" for all
	Object string // "" for all
	Since  time.Time
	Until  time.Time // exclusive; zero for no bound
	// Clearance is the reader's: only entries classified at most this.
	Clearance Classification
	// Before continues a listing: only entries older (in the chain) than
	// the entry with this id. A cursor of an entry that does not exist is
	// CodeInvalid.
	Before uuid.UUID
	// AfterSeq, when positive, keeps only entries later in the chain than
	// sequence number AfterSeq, and ends the walk there: a follower's
	// reading of what came since it last looked costs what came, not the
	// trail's length.
	AfterSeq int64
	Limit    int // 0: no limit
}

// AuditStore keeps the audit trail: appended to, never changed.
type AuditStore interface {
	// AppendAudit appends entries, in order, in one transaction: each gets
	// the next Seq, Prev and its Hash (audit.Seal). Appends from several
	// processes on one store serialise, so the trail stays one chain. An
	// entry whose ID is already in the trail is skipped (a retried append
	// whose first attempt committed unseen). It returns the entries as
	// sealed (skipped ones left out).
	AppendAudit(ctx context.Context, entries []AuditEntry) ([]AuditEntry, error)
	// ListAudit returns the entries q selects, newest first.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// ScanAudit calls fn for every entry after sequence number after, in
	// chain order, as stored (nothing re-derived); an error from fn stops
	// the scan and is returned.
	ScanAudit(ctx context.Context, after int64, fn func(AuditEntry) error) error
}

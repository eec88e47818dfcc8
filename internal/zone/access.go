package zone

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Classification is how sensitive a component is, and also a caller's
// clearance: a caller sees a component only when Clearance >= Classification.
// The zero value is Public, so an unset clearance sees the least.
type Classification int

const (
	Public Classification = iota
	Internal
	Restricted
	Secret
)

var classificationNames = [...]string{"public", "internal", "restricted", "secret"}

// Classifications lists every level, lowest first.
func Classifications() []Classification {
	return []Classification{Public, Internal, Restricted, Secret}
}

func (c Classification) String() string {
	if c < Public || c > Secret {
		return fmt.Sprintf("classification(%d)", int(c))
	}
	return classificationNames[c]
}

// Valid reports whether c is one of the four levels.
func (c Classification) Valid() bool { return c >= Public && c <= Secret }

// Allows reports whether a caller with clearance c may see something
// classified as other.
func (c Classification) Allows(other Classification) bool { return c >= other }

// ParseClassification parses "public", "internal", "restricted" or "secret".
func ParseClassification(s string) (Classification, error) {
	for i, n := range classificationNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Classification(i), nil
		}
	}
	return Public, Errorf(CodeInvalid, "unknown classification %q (want public, internal, restricted or secret)", s)
}

func (c Classification) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("invalid classification %d", int(c))
	}
	return []byte(c.String()), nil
}

func (c *Classification) UnmarshalText(b []byte) error {
	v, err := ParseClassification(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Role is what a caller may do. Roles are not ordered except that admin may
// do everything; what each allows is the table rolePermissions.
type Role string

const (
	RoleViewer    Role = "viewer"    // planner: read layers
	RoleAppraiser Role = "appraiser" // run checks, create appraisals
	RoleReviewer  Role = "reviewer"  // decide appraisals
	RoleEditor    Role = "editor"    // edit defence data
	RoleAdmin     Role = "admin"     // tokens, rules, everything
	RoleAuditor   Role = "auditor"   // read the audit trail and its alerts
)

// Roles lists every role.
func Roles() []Role {
	return []Role{RoleViewer, RoleAppraiser, RoleReviewer, RoleEditor, RoleAdmin, RoleAuditor}
}

// Permission is one kind of action guarded by role.
type Permission string

const (
	PermRead         Permission = "read"            // read layers, features, tiles
	PermCheck        Permission = "check"           // run a conflict check
	PermAppraise     Permission = "appraise"        // create and recheck appraisals
	PermReadAllAppr  Permission = "read_appraisals" // see every appraisal, not only one's own
	PermDecide       Permission = "decide"          // decide an appraisal
	PermEdit         Permission = "edit"            // create, change, delete defence components
	PermManageTokens Permission = "manage_tokens"   // create, list, revoke tokens
	PermManageRules  Permission = "manage_rules"    // load a rule set
	PermPublish      Permission = "publish"         // publish an appraisal's project site to every reader
	PermReadAudit    Permission = "read_audit"      // read the audit trail and probing alerts (entries up to one's clearance)
	PermManageCover  Permission = "manage_coverage" // set and delete the coverage of layers (where their data is complete)
)

// rolePermissions is the whole access policy by role, in one table.
var rolePermissions = map[Role][]Permission{
	RoleViewer:    {PermRead},
	RoleAppraiser: {PermRead, PermCheck, PermAppraise},
	RoleReviewer:  {PermRead, PermCheck, PermReadAllAppr, PermDecide},
	RoleEditor:    {PermRead, PermCheck, PermEdit},
	RoleAdmin:     {PermRead, PermCheck, PermAppraise, PermReadAllAppr, PermDecide, PermEdit, PermManageTokens, PermManageRules, PermPublish, PermReadAudit, PermManageCover},
	RoleAuditor:   {PermRead, PermReadAudit},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := rolePermissions[r]; return ok }

// Can reports whether role r grants p.
func (r Role) Can(p Permission) bool {
	for _, q := range rolePermissions[r] {
		if q == p {
			return true
		}
	}
	return false
}

// Permissions lists what role r grants.
func (r Role) Permissions() []Permission {
	return append([]Permission(nil), rolePermissions[r]...)
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", Errorf(CodeInvalid, "unknown role %q (want viewer, appraiser, reviewer, editor, admin or auditor)", s)
	}
	return r, nil
}

// Principal is the caller of a request or command, as authenticated.
type Principal struct {
	TokenID   uuid.UUID      `json:"token_id"`
	Name      string         `json:"name"`
	Role      Role           `json:"role"`
	Clearance Classification `json:"clearance"`
	Anonymous bool           `json:"anonymous,omitempty"`
}

// Scope is what one caller may see of the stored components: those
// classified at most Clearance and, of the project sites an appraisal
// created, only the published ones unless Unpublished (reviewers and
// admins, who may read every appraisal). Nothing outside a caller's scope
// exists for them: not in lists, counts, tiles, search or lookups.
type Scope struct {
	Clearance   Classification
	Unpublished bool
}

// ScopeOf is the scope of a caller of clearance c who may not read every
// appraisal.
func ScopeOf(c Classification) Scope { return Scope{Clearance: c} }

// FullScope sees every component (the checker, the CLI's own commands).
func FullScope() Scope { return Scope{Clearance: Secret, Unpublished: true} }

// Sees reports whether a caller of scope s may see c.
func (s Scope) Sees(c *Component) bool {
	return s.Clearance.Allows(c.Classification) && (s.Unpublished || c.Published())
}

// MayWrite reports whether a caller of scope s may create, change or
// delete components of layer l: only one who sees all the layer can hold
// (its ceiling; and, for project sites, the unpublished ones too), so that
// no refusal (a duplicate code, an existing id) tells of a component the
// caller cannot see.
func (s Scope) MayWrite(l *Layer) bool {
	return s.Clearance.Allows(l.Ceiling) && (l.ID != LayerProjectSites || s.Unpublished)
}

// Scope is what the principal may see.
func (p Principal) Scope() Scope {
	return Scope{Clearance: p.Clearance, Unpublished: p.Can(PermReadAllAppr)}
}

// Anonymous is the caller allowed by --public-read: read public features only.
func AnonymousPrincipal() Principal {
	return Principal{Name: "anonymous", Role: RoleViewer, Clearance: Public, Anonymous: true}
}

// System is the principal of local CLI commands that act on the store
// directly (import, seed, gen): whoever can open the store sees everything.
func SystemPrincipal(name string) Principal {
	return Principal{Name: name, Role: RoleAdmin, Clearance: Secret}
}

// Can reports whether the principal's role grants p.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }

// Require returns a forbidden error unless the principal may do perm.
func (p Principal) Require(perm Permission) error {
	if p.Can(perm) {
		return nil
	}
	return Errorf(CodeForbidden, "role %s may not %s", p.Role, strings.ReplaceAll(string(perm), "_", " "))
}

// Token is a stored API token. Only the SHA-256 of the secret is kept.
type Token struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	// Person and Title are who holds the token and their title (chức vụ),
	// as documents print them ("Nguyễn Văn An", "Trưởng phòng Tác chiến");
	// empty for a program's token.
	Person    string         `json:"person,omitempty"`
	Title     string         `json:"title,omitempty"`
	Role      Role           `json:"role"`
	Clearance Classification `json:"clearance"`
	Hash      []byte         `json:"-"`
	CreatedAt time.Time      `json:"created_at"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
	RevokedAt *time.Time     `json:"revoked_at,omitempty"`
}

// Signatory is how a document names the token's holder: the person (or,
// without one, the token's name) and the title.
func (t *Token) Signatory() (name, title string) {
	if t.Person != "" {
		return t.Person, t.Title
	}
	return t.Name, t.Title
}

// Active reports whether t may authenticate at time now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// Principal returns the caller a token stands for.
func (t *Token) Principal() Principal {
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Clearance: t.Clearance}
}

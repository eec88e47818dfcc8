package httpapi

import (
	"net/http"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// handleRules returns the rule set in force, with its version.
func (s *server) handleRules() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		encode(w, http.StatusOK, s.Rules.Engine().RuleSet())
	}
}

// handleRulesLoad validates a new rule-set document (YAML or JSON) in full
// and, only if it is valid, saves it as the new version in force.
func (s *server) handleRulesLoad() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		body, err := readBody(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		rs, err := s.Rules.Load(writeContext(r), body, p.Name)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditRuleSetLoaded, rs.Version, "", zone.Public, map[string]int{"rules": len(rs.Rules)}))
		s.Log.Info("rule set loaded", "by", p.Name, "version", rs.Version, "rules", len(rs.Rules))
		encode(w, http.StatusCreated, rs)
	}
}

package httpapi

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func (s *server) handleTokenList() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		ts, err := s.Store.ListTokens(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ts == nil {
			ts = []zone.Token{}
		}
		encode(w, http.StatusOK, ts)
	}
}

// handleTokenCreate issues a token; the secret is in this response only.
func (s *server) handleTokenCreate() func(http.ResponseWriter, *http.Request, zone.Principal) {
	type request struct {
		Name      string `json:"name"`
		Person    string `json:"person"` // who holds it, as reports print the name
		Title     string `json:"title"`  // their title, printed under the name
		Role      string `json:"role"`
		Clearance string `json:"clearance"`
		Expires   string `json:"expires"` // "30d", "12h"; empty for none
	}
	type response struct {
		zone.Token
		Secret string `json:"token"`
	}
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		req, err := decode[request](r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		role, err := zone.ParseRole(req.Role)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		clearance, err := zone.ParseClassification(req.Clearance)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ttl, err := auth.ParseDuration(req.Expires)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		secret, t, err := auth.IssueTo(writeContext(r), s.Store, req.Name, auth.Holder{Person: req.Person, Title: req.Title}, role, clearance, ttl, time.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditTokenCreated, t.ID.String(), "", zone.Public, tokenDetail(t)))
		s.Log.Info("token created", "by", p.Name, "token_id", t.ID, "name", t.Name, "role", t.Role, "clearance", t.Clearance.String())
		w.Header().Set("Location", "/api/tokens/"+t.ID.String())
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusCreated, response{Token: *t, Secret: secret})
	}
}

func (s *server) handleTokenRevoke() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		id, err := uuid.Parse(chi.URLParam(r, "id"))
		if err != nil {
			s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no token %q", chi.URLParam(r, "id")))
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.Store.RevokeToken(writeContext(r), id, time.Now()); err != nil {
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditTokenRevoked, id.String(), "", zone.Public, struct{}{}))
		s.Auth.Revoked(id) // here at once; other instances through the store's revocation feed
		s.Log.Info("token revoked", "by", p.Name, "token_id", id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// tokenDetail is what a token's audit entry says of it (never its secret
// or hash).
func tokenDetail(t *zone.Token) any {
	return struct {
		Name      string     `json:"name"`
		Person    string     `json:"person,omitempty"`
		Title     string     `json:"title,omitempty"`
		Role      zone.Role  `json:"role"`
		Clearance string     `json:"clearance"`
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}{t.Name, t.Person, t.Title, t.Role, t.Clearance.String(), t.ExpiresAt}
}

package httpapi

import (
	"net/http"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// handleCheck runs a quick check, not kept as a record. The footprint is a
// GeoJSON body or an uploaded file, in the CRS of the crs parameter
// (readFootprintInput). The audit log line
// says who checked what area and the verdict, never which components.
func (s *server) handleCheck() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		in, err := readFootprintInput(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if in.Upload {
			if in.Attributes, err = checkAttributes(in.Fields); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		dec, err := in.footprints()
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		fps := dec.Footprints
		res := s.Rules.Engine().CheckAll(s.Index.Snapshot(), fps, p)
		s.audit(r, p, "check", fps, res)
		encode(w, http.StatusOK, res)
	}
}

// failInput writes an input error: 422 when the request was well-formed but
// its content (a geometry) is not acceptable, else as mapped by code.
func (s *server) failInput(w http.ResponseWriter, r *http.Request, err error) {
	if zone.ErrorCode(err) == zone.CodeInvalid {
		writeErrorStatus(w, r, s.Log, err, http.StatusUnprocessableEntity)
		return
	}
	s.fail(w, r, err)
}

// audit logs one check: caller, what area, verdict, versions. Every check is
// logged (Decree 164/2018 appraisal practice); the line names no component.
func (s *server) audit(r *http.Request, p zone.Principal, what string, fps []check.Footprint, res check.Result) {
	var b [4]float64
	for i, fp := range fps {
		bb := fp.Geometry.Bound()
		if i == 0 {
			b = [4]float64{bb.Min[0], bb.Min[1], bb.Max[0], bb.Max[1]}
			continue
		}
		b = [4]float64{min(b[0], bb.Min[0]), min(b[1], bb.Min[1]), max(b[2], bb.Max[0]), max(b[3], bb.Max[1])}
	}
	s.Log.Info("audit "+what, "request_id", requestID(r.Context()), "caller", p.Name, "token_id", p.TokenID,
		"role", p.Role, "clearance", p.Clearance.String(), "footprints", len(fps), "bbox", b,
		"verdict", res.Verdict, "findings", len(res.Findings), "ruleset", res.RulesetVersion, "data_version", res.DataVersion)
}

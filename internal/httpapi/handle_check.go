package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// handleCheck runs a quick check, not kept as a record. The footprint is a
// GeoJSON body or an uploaded file, in the CRS of the crs parameter
// (readFootprintInput). A caller below secret is held to the quota (rate,
// daily footprints, features per check) and may be suspended for probing;
// every check is recorded in the audit trail (trail.go), never naming a
// component. ?geometry=none answers without overlap geometries.
func (s *server) handleCheck() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		withGeometry, err := overlapGeometry(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		in, err := readFootprintInput(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		in.MaxFeatures = s.Quota.MaxFeatures(p)
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
		if err := s.Quota.Spend(p, quota.Checks, len(fps)); err != nil {
			s.fail(w, r, err)
			return
		}
		start := time.Now()
		eng := s.Rules.Engine()
		if !withGeometry {
			eng = eng.WithoutOverlapGeometry()
		}
		res := eng.CheckAll(s.Index.Snapshot(), fps, p)
		s.Metrics.ObserveCheck(time.Since(start), len(res.Findings))
		s.recordCheck(r, p, zone.AuditCheck, "", fps, res, "")
		buf := answerBuffers.Get().(*[]byte)
		*buf = res.AppendJSON((*buf)[:0])
		writeEncoded(w, http.StatusOK, *buf)
		if cap(*buf) <= maxPooledAnswer {
			answerBuffers.Put(buf)
		}
	}
}

// overlapGeometry reads the geometry parameter of a request whose answer
// holds checks: none leaves every finding's overlap geometry out (its area
// stays), full (the default) keeps it.
func overlapGeometry(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("geometry"); v {
	case "", "full":
		return true, nil
	case "none":
		return false, nil
	default:
		return false, fieldError("geometry", "geometry: want none (findings without their overlap geometry) or full (the default), not %q", v)
	}
}

// answerBuffers hold checks' answers while they are written: a dense
// check's is some 40 KB, allocated afresh it is garbage-collector work.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAnswer is the largest answer buffer kept for reuse.
const maxPooledAnswer = 1 << 20

// failInput writes an input error: 422 when the request was well-formed but
// its content (a geometry) is not acceptable, else as mapped by code.
func (s *server) failInput(w http.ResponseWriter, r *http.Request, err error) {
	if zone.ErrorCode(err) == zone.CodeInvalid {
		writeErrorStatus(w, r, s.Log, err, http.StatusUnprocessableEntity)
		return
	}
	s.fail(w, r, err)
}

package check

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// StoredCheck checks an appraisal's project site once at full clearance
// and returns the record to store, with the check as every clearance sees
// it (Record), and the views themselves.
func (e *Engine) StoredCheck(src Source, site *zone.Component, appraisalID uuid.UUID, by string) (zone.CheckRecord, Views, error) {
	views := e.Record(src, SiteFootprint(site.Geometry, site.Properties))
	full := views[zone.Secret]
	rec := zone.CheckRecord{
		ID: uuid.New(), AppraisalID: appraisalID, CreatedAt: time.Now().UTC(), CreatedBy: by,
		RulesetVersion: full.RulesetVersion, DataVersion: full.DataVersion,
	}
	for cl, v := range views {
		raw, err := json.Marshal(v)
		if err != nil {
			return zone.CheckRecord{}, views, zone.InternalError(err, "encode check result")
		}
		rec.Views[cl] = zone.CheckView{Verdict: string(v.Verdict), Result: raw}
	}
	rec.Verdict, rec.Result = rec.Views[zone.Secret].Verdict, rec.Views[zone.Secret].Result
	return rec, views, nil
}

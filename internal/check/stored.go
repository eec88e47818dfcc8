package check

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// SiteFootprint is the footprint of an appraisal's project site: its
// geometry and the project attributes rules depend on.
func SiteFootprint(site *zone.Component) Footprint {
	fp := Footprint{Index: -1, Geometry: site.Geometry, Properties: site.Properties}
	if h, ok := site.Properties[zone.PropHeightM].(float64); ok {
		fp.HeightM = h
	}
	if as, ok := site.Properties[zone.PropActivities].([]any); ok {
		for _, a := range as {
			if s, ok := a.(string); ok {
				fp.Activities = append(fp.Activities, s)
			}
		}
	}
	fp.Sector, _ = site.Properties[zone.PropSector].(string)
	return fp
}

// StoredCheck checks an appraisal's project site once at full clearance
// and returns the record to store, with the check as every clearance sees
// it (Record), and the views themselves.
func (e *Engine) StoredCheck(src Source, site *zone.Component, appraisalID uuid.UUID, by string) (zone.CheckRecord, Views, error) {
	views := e.Record(src, SiteFootprint(site))
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

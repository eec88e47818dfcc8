package httpapi

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/plan"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Master-plan jobs: a plan file of up to plan.MaxParcels parcels is
// uploaded (POST /api/plans), checked in the background by the job
// manager (package plan), and read as its state and progress, its
// parcels, a summary and downloads. Everything a reader gets of the
// results is the view of the reader's clearance that the job stored
// (check.Engine.Record), as an appraisal's records are: hidden works
// appear only as referrals.

// planView is a job as one reader sees it: the verdict counts of the
// reader's clearance only.
type planView struct {
	ID             uuid.UUID         `json:"id"`
	Name           string            `json:"name"`
	State          string            `json:"state"`
	CreatedBy      string            `json:"created_by"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	File           string            `json:"file"`
	Format         string            `json:"format"`
	CRS            string            `json:"crs"`
	Mapping        map[string]string `json:"mapping,omitempty"`
	Total          int               `json:"total"`
	Done           int               `json:"done"`
	Counts         map[string]int    `json:"counts"`
	RemainingS     *float64          `json:"remaining_s"` // estimated seconds left; null when unknown or finished
	Error          string            `json:"error,omitempty"`
	RulesetVersion string            `json:"ruleset_version,omitempty"`
}

func (s *server) planView(pl *zone.Plan, p zone.Principal) planView {
	v := planView{ID: pl.ID, Name: pl.Name, State: pl.State, CreatedBy: pl.CreatedBy, CreatedAt: pl.CreatedAt, UpdatedAt: pl.UpdatedAt,
		File: pl.File, Format: pl.Format, CRS: pl.CRS, Mapping: pl.Mapping, Total: pl.Total, Done: pl.Done,
		Counts: pl.PlanCounts(level(p.Clearance)), Error: pl.Error, RulesetVersion: pl.RulesetVersion}
	if s.Plans != nil && !zone.PlanFinished(pl.State) {
		if d, ok := s.Plans.Remaining(pl); ok {
			sec := float64(d.Round(time.Second) / time.Second)
			v.RemainingS = &sec
		}
	}
	return v
}

// handlePlanCreate reads an uploaded plan file (multipart: file, and
// the fields crs, format, name and map), checks its parcels are valid,
// stores the job and answers 202 with its Location.
func (s *server) handlePlanCreate() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.Plans == nil {
			s.fail(w, r, zone.Errorf(zone.CodeUnavailable, "plan jobs do not run on this instance"))
			return
		}
		in, err := readFootprintInput(r)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		if !in.Upload {
			s.failInput(w, r, fieldError("file", "a plan is uploaded as a file (multipart/form-data with a file field)"))
			return
		}
		for k := range in.Fields {
			if !oneOf(k, "name", "map") {
				s.failInput(w, r, fieldError(k, "unknown form field %q (want file, crs, format, name, map)", k))
				return
			}
		}
		mapping, err := plan.ParseMapping(in.Fields.Get("map"))
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		name := strings.TrimSpace(in.Fields.Get("name"))
		if name == "" {
			name = in.Name
		}
		if d := textLimit("name", name, MaxNameChars, oneLine); d != nil {
			s.failInput(w, r, &zone.Error{Code: zone.CodeInvalid, Message: d.Reason, Details: []zone.Detail{*d}})
			return
		}
		dec, err := formats.Decode(in.Name, in.Data, formats.Options{CRS: in.CRS, Format: in.Format, Limits: plan.Limits()})
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		parcels, err := plan.Parcels(in.Name, dec.Features, mapping)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		in.Data, dec = nil, &formats.Result{Format: dec.Format, CRS: dec.CRS} // let the file go before the store write
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		crsCode := ""
		if dec.CRS != nil {
			crsCode = dec.CRS.Code
		}
		created, err := s.Plans.Submit(writeContext(r), &zone.Plan{Name: name, CreatedBy: owner(p), File: in.Name, Format: string(dec.Format),
			CRS: crsCode, Mapping: mapping.Map()}, parcels)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditPlanCreated, created.ID.String(), "", zone.Public,
			map[string]any{"parcels": created.Total, "file": in.Name}))
		w.Header().Set("Location", "/api/plans/"+created.ID.String())
		encode(w, http.StatusAccepted, s.planView(created, p))
	}
}

func (s *server) planOf(w http.ResponseWriter, r *http.Request) (*zone.Plan, bool) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no plan %q", chi.URLParam(r, "id")))
		return nil, false
	}
	pl, err := s.Store.GetPlan(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return pl, true
}

// handlePlanList lists the jobs, newest first.
func (s *server) handlePlanList() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pls, err := s.Store.ListPlans(r.Context(), "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := make([]planView, 0, len(pls))
		for i := range pls {
			out = append(out, s.planView(&pls[i], p))
		}
		encode(w, http.StatusOK, map[string]any{"plans": out})
	}
}

// handlePlanGet gives a job's state and progress.
func (s *server) handlePlanGet() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, s.planView(pl, p))
	}
}

// handlePlanCancel cancels a queued or running job.
func (s *server) handlePlanCancel() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		if s.Plans == nil {
			s.fail(w, r, zone.Errorf(zone.CodeUnavailable, "plan jobs do not run on this instance"))
			return
		}
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		if err := s.auditable(); err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := s.Plans.Cancel(writeContext(r), pl.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.recordNow(entry(p, zone.AuditPlanCancelled, pl.ID.String(), "", zone.Public, map[string]any{"done": c.Done, "total": c.Total}))
		encode(w, http.StatusOK, s.planView(c, p))
	}
}

// parcelView is one parcel's result as the reader sees it.
type parcelView struct {
	Seq        int             `json:"seq"`
	Name       string          `json:"name"`
	Verdict    string          `json:"verdict"` // "" while not checked yet
	Reason     string          `json:"recheck_reason,omitempty"`
	Properties map[string]any  `json:"properties"`
	Findings   []check.Finding `json:"findings"`
}

// recheckReason is why the parcel was checked again, for readers cleared
// for everything only: the change impact watcher words it as such a reader
// sees the change (a hidden work's id and layer), and which parcels carry
// one would draw a hidden work's reach for anyone else. Other readers see
// only what their own view of the parcel shows.
func recheckReason(pc *zone.PlanParcel, cl zone.Classification) string {
	if cl < zone.Secret {
		return ""
	}
	return pc.Reason
}

func toParcelView(pc *zone.PlanParcel, cl zone.Classification) (parcelView, error) {
	res, err := plan.Result(pc, cl)
	if err != nil {
		return parcelView{}, err
	}
	pv := parcelView{Seq: pc.Seq, Name: pc.Name, Verdict: pc.Views[cl].Verdict, Reason: recheckReason(pc, cl), Properties: pc.Properties, Findings: res.Findings}
	if pv.Properties == nil {
		pv.Properties = map[string]any{}
	}
	if pv.Findings == nil {
		pv.Findings = []check.Finding{}
	}
	return pv, nil
}

// parcelQuery reads verdict, limit and offset.
func parcelQuery(r *http.Request, cl zone.Classification, defLimit int) (zone.ParcelQuery, error) {
	q := zone.ParcelQuery{Clearance: cl, Limit: defLimit}
	v := r.URL.Query()
	q.Verdict = v.Get("verdict")
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10_000 {
			return q, fieldError("limit", "limit must be a whole number from 1 to 10000")
		}
		q.Limit = n
	}
	if o := v.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return q, fieldError("offset", "offset must be a whole number, 0 or more")
		}
		q.Offset = n
	}
	return q, nil
}

// handlePlanParcels lists a page of a job's parcels with their verdicts
// and findings (?verdict=, limit, offset).
func (s *server) handlePlanParcels() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		cl := level(p.Clearance)
		q, err := parcelQuery(r, cl, 100)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		out := []parcelView{}
		err = s.Store.ListParcels(r.Context(), pl.ID, q, func(pc *zone.PlanParcel) error {
			pv, err := toParcelView(pc, cl)
			out = append(out, pv)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.record(entry(p, zone.AuditPlanRead, pl.ID.String(), "", zone.Public, map[string]any{"what": "parcels"}))
		encode(w, http.StatusOK, map[string]any{"parcels": out, "offset": q.Offset, "limit": q.Limit})
	}
}

// handlePlanParcel gives one parcel: its geometry and its findings.
func (s *server) handlePlanParcel() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		seq, err := strconv.Atoi(chi.URLParam(r, "seq"))
		if err != nil || seq < 0 || seq >= pl.Total {
			s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no parcel %q in this plan", chi.URLParam(r, "seq")))
			return
		}
		cl := level(p.Clearance)
		var f *geojson.Feature
		err = s.Store.ListParcels(r.Context(), pl.ID, zone.ParcelQuery{Clearance: cl, FromSeq: seq, Limit: 1}, func(pc *zone.PlanParcel) error {
			pv, err := toParcelView(pc, cl)
			if err != nil {
				return err
			}
			f = geojson.NewFeature(pc.Geometry)
			f.ID = pc.Seq
			f.Properties = geojson.Properties{"seq": pv.Seq, "name": pv.Name, "verdict": pv.Verdict, "properties": pv.Properties,
				"findings": pv.Findings, "recheck_reason": pv.Reason}
			return nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.record(entry(p, zone.AuditPlanRead, pl.ID.String(), "", zone.Public, map[string]any{"what": "parcel", "seq": seq}))
		writeJSON(w, http.StatusOK, "application/geo+json", f)
	}
}

// planSummary is a job's summary (plan.Summarize) for one reader, with
// the job as the reader sees it.
type planSummary struct {
	Plan planView `json:"plan"`
	*plan.Summary
}

// handlePlanSummary gives the job's summary.
func (s *server) handlePlanSummary() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		sum, err := plan.Summarize(r.Context(), s.Store, pl.ID, level(p.Clearance))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.record(entry(p, zone.AuditPlanRead, pl.ID.String(), "", zone.Public, map[string]any{"what": "summary"}))
		encode(w, http.StatusOK, planSummary{Plan: s.planView(pl, p), Summary: sum})
	}
}

// verdictColours colour parcels by verdict on the map and in downloads;
// a verdict not listed (one added later) gets the fallback.
var verdictColours = map[string]string{
	string(rules.Clear):    "#2e7d32",
	string(rules.Notice):   "#1565c0",
	string(rules.Review):   "#f9a825",
	string(rules.Conflict): "#c62828",
}

const fallbackColour = "#6a1b9a"

func verdictColour(v string) string {
	if v == "" {
		return "#9e9e9e" // not checked yet
	}
	if c, ok := verdictColours[v]; ok {
		return c
	}
	return fallbackColour
}

// parcelRow is what the downloads give of a parcel: its verdict, the
// rules and zone kinds of its findings, the number of findings.
func parcelRow(pc *zone.PlanParcel, cl zone.Classification) (verdict, ruleList, zoneList string, findings int, err error) {
	res, err := plan.Result(pc, cl)
	if err != nil {
		return "", "", "", 0, err
	}
	var rs, zs []string
	seenR, seenZ := map[string]bool{}, map[string]bool{}
	for _, f := range res.Findings {
		if !seenR[f.Rule] {
			seenR[f.Rule] = true
			rs = append(rs, f.Rule)
		}
		if z := string(f.Zone); !seenZ[z] {
			seenZ[z] = true
			zs = append(zs, z)
		}
	}
	return pc.Views[cl].Verdict, strings.Join(rs, ";"), strings.Join(zs, ";"), len(res.Findings), nil
}

// handlePlanDownload streams the job's results: GeoJSON (each parcel
// with its verdict, colour, rules, zones and findings count, and the
// file's attributes), CSV (the same without geometry, with a
// representative point) or a zipped shapefile (polygon parcels, WGS84).
func (s *server) handlePlanDownload(format string) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		cl := level(p.Clearance)
		name := "plan-" + pl.ID.String()
		s.record(entry(p, zone.AuditPlanRead, pl.ID.String(), "", zone.Public, map[string]any{"what": "download", "format": format}))
		switch format {
		case "geojson":
			w.Header().Set("Content-Type", "application/geo+json")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.geojson"`)
			bw := bufio.NewWriterSize(w, 64<<10)
			bw.WriteString(`{"type":"FeatureCollection","name":` + strconv.Quote(pl.Name) + `,"features":[`)
			first := true
			err := s.Store.ListParcels(r.Context(), pl.ID, zone.ParcelQuery{Clearance: cl}, func(pc *zone.PlanParcel) error {
				verdict, rs, zs, n, err := parcelRow(pc, cl)
				if err != nil {
					return err
				}
				f := geojson.NewFeature(pc.Geometry)
				f.ID = pc.Seq
				for k, v := range pc.Properties {
					f.Properties[k] = v
				}
				f.Properties["plan_seq"], f.Properties["plan_name"] = pc.Seq, pc.Name
				f.Properties["verdict"], f.Properties["colour"] = verdict, verdictColour(verdict)
				f.Properties["rules"], f.Properties["zones"], f.Properties["findings"] = rs, zs, n
				b, err := json.Marshal(f)
				if err != nil {
					return err
				}
				if !first {
					bw.WriteByte(',')
				}
				first = false
				_, err = bw.Write(b)
				return err
			})
			if err != nil {
				s.Log.Warn("plan download cut short", "plan", pl.ID, "err", err)
				return
			}
			bw.WriteString("]}\n")
			bw.Flush()
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
			bw := bufio.NewWriterSize(w, 64<<10)
			bw.WriteString("\xef\xbb\xbf") // Excel reads UTF-8 with its mark
			cw := csv.NewWriter(bw)
			_ = cw.Write([]string{"seq", "name", "verdict", "rules", "zones", "findings", "lon", "lat", "recheck_reason"})
			err := s.Store.ListParcels(r.Context(), pl.ID, zone.ParcelQuery{Clearance: cl}, func(pc *zone.PlanParcel) error {
				verdict, rs, zs, n, err := parcelRow(pc, cl)
				if err != nil {
					return err
				}
				c := pc.Geometry.Bound().Center()
				return cw.Write([]string{strconv.Itoa(pc.Seq), pc.Name, verdict, rs, zs, strconv.Itoa(n),
					strconv.FormatFloat(c[0], 'f', 7, 64), strconv.FormatFloat(c[1], 'f', 7, 64), recheckReason(pc, cl)})
			})
			cw.Flush()
			if err != nil {
				s.Log.Warn("plan download cut short", "plan", pl.ID, "err", err)
				return
			}
			bw.Flush()
		case "shapefile":
			// The format needs its record count and sizes up front, so the
			// archive is built whole before it is sent (a heavy page).
			fields := []formats.ShapeField{{Name: "plan_seq", Width: 10, Numeric: true}, {Name: "plan_name", Width: 100},
				{Name: "verdict", Width: 16}, {Name: "rules", Width: 254}, {Name: "zones", Width: 160}, {Name: "findings", Width: 6, Numeric: true}}
			var recs []formats.ShapeRecord
			err := s.Store.ListParcels(r.Context(), pl.ID, zone.ParcelQuery{Clearance: cl}, func(pc *zone.PlanParcel) error {
				verdict, rs, zs, n, err := parcelRow(pc, cl)
				if err != nil {
					return err
				}
				switch pc.Geometry.(type) {
				case orb.Polygon, orb.MultiPolygon:
				default:
					return nil // a polygon shapefile: points and lines are in the GeoJSON and CSV
				}
				recs = append(recs, formats.ShapeRecord{Geometry: pc.Geometry, Values: []any{pc.Seq, pc.Name, verdict, rs, zs, n}})
				return nil
			})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			var buf bytes.Buffer
			if err := formats.WriteShapefileZip(&buf, "plan", fields, recs); err != nil {
				s.fail(w, r, zone.InternalError(err, "write the shapefile"))
				return
			}
			w.Header().Set("Content-Type", "application/zip")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
			_, _ = w.Write(buf.Bytes())
		}
	}
}

// handlePlanItems is the job's plan collection as a GeoJSON page, the
// way an OGC API - Features items page reads (bbox=minLon,minLat,maxLon,maxLat,
// limit, offset, a next link while more may follow): each parcel with its
// verdict and the colour the map draws it in. It is the documented
// route of a plan's collection (/api/plans/{id}/items), beside the
// downloads.
func (s *server) handlePlanItems() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		pl, ok := s.planOf(w, r)
		if !ok {
			return
		}
		cl := level(p.Clearance)
		q, err := parcelQuery(r, cl, 1000)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		if b := r.URL.Query().Get("bbox"); b != "" {
			parts := strings.Split(b, ",")
			var v [4]float64
			if len(parts) != 4 {
				s.failInput(w, r, fieldError("bbox", "bbox must be minLon,minLat,maxLon,maxLat"))
				return
			}
			for i, part := range parts {
				if v[i], err = strconv.ParseFloat(strings.TrimSpace(part), 64); err != nil {
					s.failInput(w, r, fieldError("bbox", "bbox must be minLon,minLat,maxLon,maxLat"))
					return
				}
			}
			q.Bound = &orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
		}
		fc := geojson.NewFeatureCollection()
		err = s.Store.ListParcels(r.Context(), pl.ID, q, func(pc *zone.PlanParcel) error {
			verdict, rs, zs, n, err := parcelRow(pc, cl)
			if err != nil {
				return err
			}
			f := geojson.NewFeature(pc.Geometry)
			f.ID = pc.Seq
			f.Properties = geojson.Properties{"seq": pc.Seq, "name": pc.Name, "verdict": verdict, "colour": verdictColour(verdict),
				"rules": rs, "zones": zs, "findings": n}
			fc.Append(f)
			return nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := map[string]any{"type": "FeatureCollection", "features": fc.Features, "numberReturned": len(fc.Features)}
		if len(fc.Features) == q.Limit {
			next := *r.URL
			v := next.Query()
			v.Set("offset", strconv.Itoa(q.Offset+q.Limit))
			next.RawQuery = v.Encode()
			out["links"] = []map[string]string{{"rel": "next", "type": "application/geo+json", "href": next.RequestURI()}}
		}
		writeJSON(w, http.StatusOK, "application/geo+json", out)
	}
}

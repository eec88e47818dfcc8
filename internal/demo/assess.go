package demo

import (
	"math"
	"strings"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Verdicts, mildest first (DOMAIN.md, "Verdicts").
const (
	Clear    = "clear"
	Review   = "review"
	Conflict = "conflict"
)

func verdictRank(v string) int {
	switch v {
	case Review:
		return 1
	case Conflict:
		return 2
	}
	return 0
}

// Assumptions Assess makes where the rule set is free to choose.
const (
	borderBeltM  = 1_000 // widest border belt (Decree 34/2014: 100-1,000 m)
	clearBorderM = 2_000 // a clear site keeps this far from the border line
	clearFarM    = 5_000 // and this far from every component, beyond any rule's distance
	edgeMarginM  = 25    // closer than this to a zone edge, a rule's tolerance could tip the verdict
	tallHeightM  = 100   // a project this tall escalates review to conflict
	// A project taller than this, or with residential or crowd use, may be
	// escalated by a rule inside an approved zone: no certain verdict there.
	mayEscalateHeightM = 25
	escalatesNear      = "escalated"
)

// Assessment is what Assess concludes about one project site.
type Assessment struct {
	Verdict string   // clear, review or conflict
	Reasons []string // one per finding, no names, codes or distances of components
	// Certain is false when the verdict could depend on a choice the rule
	// set makes (a rule's distance or tolerance, how touching a point work
	// or a patrol route is judged); demo sites are placed so it is true.
	Certain bool
}

// Assess applies the verdict table of DOMAIN.md to a project site against
// the components (border lines included), in metres on the ellipsoid:
//
//   - conflict: the site touches defence land (a polygon work), an approved
//     restricted area, a border marker or the border line; or it blasts,
//     mines or stands 100 m or taller inside an approved protected area or
//     safety belt;
//   - review: it is inside a protected area, a safety belt, a provisional
//     zone (a conflict found only through a provisional width is at most
//     review) or the 1,000 m border belt;
//   - clear: none of those, at least 2 km from the border and 5 km from
//     every component, beyond any plausible rule distance.
//
// Inside an approved protected area or safety belt, a site with residential
// or crowd use or taller than 25 m is not certain: a rule set may escalate
// it (the default one does for depots).
//
// It is the demo's own statement of intent, used to place sites and to test
// them; the conflict checker is the authority.
func Assess(site *zone.Component, comps []*zone.Component) Assessment {
	a := Assessment{Verdict: Clear, Certain: true}
	escalates := escalating(site)
	find := func(v, reason string) {
		if verdictRank(v) > verdictRank(a.Verdict) {
			a.Verdict = v
		}
		for _, r := range a.Reasons {
			if r == reason {
				return
			}
		}
		a.Reasons = append(a.Reasons, reason)
	}
	near := false
	siteBound := site.Geometry.Bound()
	for _, c := range comps {
		if c.Layer == zone.LayerProjectSites {
			continue
		}
		if !expand(c.Bound(), c.MaxWidthM()+clearFarM+500).Intersects(siteBound) {
			continue
		}
		d := componentDistance(site.Geometry, c.Geometry)
		if d < clearFarM {
			near = true
		}
		what := withArticle(strings.ReplaceAll(c.Kind, "_", " "))
		switch c.Layer {
		case zone.LayerBorderLines:
			switch {
			case d == 0:
				find(Conflict, "crosses the national border line")
			case d <= borderBeltM:
				find(Review, "inside the border belt")
			}
			if d < clearBorderM {
				near = true
			}
			continue
		case zone.LayerBorderMarkers:
			if d == 0 {
				find(Conflict, "touches a border marker")
			}
			continue
		case zone.LayerPatrolRoutes:
			if d == 0 {
				a.Certain = false // crossing a patrol route: the rule set decides
			}
			continue
		}
		if d == 0 {
			if zone.ClassOf(c.Geometry) == zone.GeomPolygon {
				find(Conflict, "overlaps the land of "+what)
			} else {
				a.Certain = false // covering a point work: the rule set decides
			}
		}
		for _, z := range c.Zones {
			zoneName := strings.ReplaceAll(string(z.Kind), "_", " ")
			if z.Approved() {
				dz := DistanceM(site.Geometry, z.Geometry)
				if dz > 0 && dz < edgeMarginM {
					a.Certain = false
				}
				if dz > 0 {
					continue
				}
				switch {
				case z.Kind == zone.RestrictedArea:
					find(Conflict, "overlaps the approved "+zoneName+" of "+what)
				case escalates != "":
					find(Conflict, escalates+" inside the approved "+zoneName+" of "+what+" ("+escalatesNear+")")
				default:
					find(Review, "inside the approved "+zoneName+" of "+what)
					if mayEscalate(site) {
						a.Certain = false // a rule may escalate crowds, housing or height
					}
				}
				continue
			}
			if math.Abs(d-z.WidthM) < edgeMarginM {
				a.Certain = false
			}
			if d <= z.WidthM {
				find(Review, "inside the provisional "+zoneName+" of "+what)
			}
		}
	}
	if a.Verdict == Clear && near {
		a.Certain = false
	}
	return a
}

// escalating names what about a site escalates review to conflict, "" when
// nothing does.
func escalating(site *zone.Component) string {
	if acts, ok := site.Properties[zone.PropActivities].([]any); ok {
		for _, v := range acts {
			if v == zone.ActivityBlasting || v == zone.ActivityMining {
				return "blasting or mining"
			}
		}
	}
	if h, ok := site.Properties[zone.PropHeightM].(float64); ok && h >= tallHeightM {
		return "a structure 100 m or taller"
	}
	return ""
}

// mayEscalate reports whether a rule set could escalate the site inside an
// approved zone for what it is (residential or crowd use, a height over
// 25 m), though DOMAIN.md does not say it must.
func mayEscalate(site *zone.Component) bool {
	if acts, ok := site.Properties[zone.PropActivities].([]any); ok {
		for _, v := range acts {
			if v == zone.ActivityResidential || v == zone.ActivityCrowd {
				return true
			}
		}
	}
	h, _ := site.Properties[zone.PropHeightM].(float64)
	return h > mayEscalateHeightM
}

// componentDistance is DistanceM, with long lines (the border) measured
// chunk by chunk near g only; +Inf beyond clearFarM.
func componentDistance(g, c orb.Geometry) float64 {
	var lines []orb.LineString
	switch l := c.(type) {
	case orb.LineString:
		lines = []orb.LineString{l}
	case orb.MultiLineString:
		lines = l
	}
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	if n > 64 {
		return newLineIndex(lines).distanceWithin(g, clearFarM)
	}
	return DistanceM(g, c)
}

// withArticle prefixes a noun phrase with "a" or "an".
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

package check

import (
	"cmp"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Consultation areas stand in, in the checks of a caller below a work's
// classification, for the work and all its zones. They are cells of the
// grid of package consult (at least the rule set's consultation.cell_m a
// side) covering the work's reach, the farthest any rule tests it (its
// geometry and approved zones widened by the largest rule distance or
// provisional width plus the edge tolerance, with a margin), placed
// relative to the cell holding the work's centre (consult.Grid.Covering):
// so every footprint that would get any finding from the work, a notice
// included, touches one of its cells, and the cells say where the work is
// only to that one cell.
//
// A caller below secret gets, for a footprint touching any such cell, one
// referral finding (rule defence-consultation, zone consultation_area,
// verdict review, the consultation's basis and message and the contact),
// never conflict or clear because of a hidden work, never a distance,
// band, overlap, count or kind; several works in one cell, or several
// cells, make one referral. What such a caller can learn is therefore
// bounded by the cells: moving a work anywhere that keeps its cells (any
// move that keeps its centre in the same cell does), or replacing it by
// another work with the same cells, changes no answer.

// Grid is the consultation grid of the engine's rule set.
func (e *Engine) Grid() consult.Grid { return e.grid }

// ConsultationKey names the rule set and grid the engine makes cells with;
// a Source whose cells were made with another key is not trusted for
// referrals.
func (e *Engine) ConsultationKey() string { return e.key }

// reachMarginM and reachMarginRel widen a work's reach for its cells, so
// that rounding in the checker's local projection (a footprint's edge is
// straight there, not in degrees) never puts a finding outside them.
const (
	reachMarginM   = 25
	reachMarginRel = 0.005
)

// Reach is how far, in metres beyond c's geometry and approved zones, any
// rule of the set can find c; false when no rule applies to c (then no
// footprint can get a finding from it, and it needs no cells).
func (e *Engine) Reach(c *zone.Component) (float64, bool) {
	rs, reach := e.applicable(c, nil)
	if len(rs) == 0 {
		return 0, false
	}
	return reach*(1+reachMarginRel) + reachMarginM + touchSlackM, true
}

// MaxConsultedCells bounds the consultation cells a result lists for one
// footprint (Result.Consulted).
const MaxConsultedCells = 64

// Consultation is the consultation cells one footprint of a check touched
// (at most MaxConsultedCells): what the referral it got came from. It is
// for the server's probing detection only and never encoded (the caller
// learns the referral, not the cells).
type Consultation struct {
	Index int // the footprint's Index (-1 for a single footprint)
	Cells []consult.Cell
}

// referred returns the consultation cells of the works a caller of
// clearance cl cannot see that footprint g touches (nil when none, and
// always for a caller cleared for everything). The cells come from src,
// whose work depends on the cells alone; a Source whose cells were made
// for another rule set (a rule-set change in progress) is not trusted, and
// the cells are computed from the hidden works themselves instead.
func (e *Engine) referred(src Source, g orb.Geometry, cl zone.Classification) []consult.Cell {
	if cl >= zone.Secret {
		return nil
	}
	gb := g.Bound()
	if grid, key := src.Consultation(); key == e.key {
		var cells []consult.Cell
		src.Consulted(gb, cl, func(c consult.Cell) bool {
			if zone.IntersectsBound(g, gb, grid.Bound(c)) {
				cells = append(cells, c)
			}
			return true
		})
		return firstCells(cells)
	}
	return e.referredDirect(src, g, cl)
}

// firstCells is at most MaxConsultedCells of cells, each once, the first by
// key: which ones depends on the set of cells alone, never on the order the
// works behind them were found in (by tier, so by classification).
func firstCells(cells []consult.Cell) []consult.Cell {
	slices.SortFunc(cells, func(a, b consult.Cell) int { return cmp.Compare(a.Key(), b.Key()) })
	cells = slices.CompactFunc(cells, func(a, b consult.Cell) bool { return a.Key() == b.Key() })
	return cells[:min(len(cells), MaxConsultedCells)]
}

// referredDirect is referred from the works themselves: every work above
// cl whose box comes within the widest reach of g, its cells computed here.
func (e *Engine) referredDirect(src Source, g orb.Geometry, cl zone.Classification) []consult.Cell {
	gb := g.Bound()
	search := consult.Widen(gb, (e.rs.MaxDistanceM()+src.MaxZoneWidthIn(zone.FullScope()))*1.01+100+3*e.grid.CellM)
	var cells []consult.Cell
	src.SearchScope(search, zone.FullScope(), func(c *zone.Component) bool {
		if cl.Allows(c.Classification) {
			return true
		}
		reach, ok := e.Reach(c)
		if !ok {
			return true
		}
		geoms := []orb.Geometry{c.Geometry}
		for _, z := range c.Zones {
			if z.Geometry != nil {
				geoms = append(geoms, z.Geometry)
			}
		}
		for key := range e.grid.Covering(reach, geoms...) {
			cell := consult.CellOf(key)
			if zone.IntersectsBound(g, gb, e.grid.Bound(cell)) {
				cells = append(cells, cell)
			}
		}
		return true
	})
	return firstCells(cells)
}

// consulted is the Consultation of footprint fp, nil when it touched no cell.
func consulted(fp *Footprint, cells []consult.Cell) []Consultation {
	if len(cells) == 0 {
		return nil
	}
	return []Consultation{{Index: fp.Index, Cells: cells}}
}

// referral is the one finding a referred footprint gets.
func (e *Engine) referral() Finding {
	c := e.rs.Consultation
	contact := e.rs.Contact
	return Finding{
		Verdict: rules.Review, Rule: rules.RuleConsultation, Zone: rules.ZoneConsultation,
		Basis: c.Basis.EN, BasisVI: c.Basis.VI, Message: c.Message.EN, MessageVI: c.Message.VI,
		Component: ComponentRef{Redacted: true}, Contact: &contact,
	}
}

// Views is one check as each clearance sees it, indexed by
// zone.Classification: Views[zone.Secret] is the full result; each other
// is exactly what Check would give a caller of that clearance (TookMS
// aside, which is left out of the views below secret: it measures work on
// the hidden works too).
type Views [zone.Secret + 1]Result

// Record checks one footprint once at full clearance and returns the
// result as every clearance sees it, for an appraisal's stored record.
func (e *Engine) Record(src Source, fp Footprint) Views {
	start := time.Now()
	fs, stats := e.findings(src, &fp, zone.FullScope())
	var v Views
	for _, cl := range zone.Classifications() {
		res := e.header(src, cl)
		res.Footprint = stats
		cells := e.referred(src, fp.Geometry, cl)
		res.Verdict, res.Findings = e.render(visibleTo(fs, cl), cl, len(cells) > 0, e.uncovered(src, fp.Geometry, cl))
		res.Consulted = consulted(&fp, cells)
		v[cl] = res
	}
	v[zone.Secret].TookMS = ms(time.Since(start))
	return v
}

// visibleTo keeps the findings whose component a caller of clearance cl
// may see.
func visibleTo(fs []*finding, cl zone.Classification) []*finding {
	out := make([]*finding, 0, len(fs))
	for _, f := range fs {
		if cl.Allows(f.comp.Classification) {
			out = append(out, f)
		}
	}
	return out
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Exit statuses of `zoneplan check`, so scripts can branch on the verdict.
// incomplete took the next free status rather than renumbering review and
// conflict, which scripts already test: every verdict but clear is
// non-zero, as before.
const (
	exitClear      = 0
	exitReview     = 2
	exitConflict   = 3
	exitIncomplete = 4
)

func cmdCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", "check [--json] [--crs CRS] [--format F] FILE|-",
		"Checks a project footprint against the defence components in the store and the rule set in force:\n"+
			"GeoJSON (geometry, Feature or FeatureCollection), KML, KMZ, a zipped shapefile, or a boundary-point\n"+
			"table (point number, X northing, Y easting) with --crs naming its VN-2000 zone.\n"+
			"Prints a table, or the full result with --json. Exit status: 0 clear, 4 incomplete (outside the declared\n"+
			"coverage of a layer some rule tests), 2 review, 3 conflict, 1 error.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var inf inputFlags
	addInputFlags(fs, &inf)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "check takes one file (or - for standard input)"}
	}
	in, err := readInputFile(e, fs.Arg(0), inf)
	if err != nil {
		return err
	}
	fps, err := in.footprints()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	active, err := check.NewActive(ctx, st)
	if err != nil {
		return err
	}
	ix, err := loadIndex(ctx, st)
	if err != nil {
		return err
	}
	// Whoever can open the store sees everything in it: the local CLI runs
	// at full clearance.
	res := active.Engine().CheckAll(ix.Snapshot(), fps, zone.SystemPrincipal("cli:"+osUser(e)))
	e.log.Debug("check", "verdict", res.Verdict, "findings", len(res.Findings), "ms", res.TookMS)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if err := printCheck(e.stdout, res); err != nil {
		return err
	}
	return exitForVerdict(res.Verdict)
}

// loadIndex loads the store's components and coverage into an index, as
// serve holds them, for the CLI's checks: without the coverage every
// footprint would be incomplete.
func loadIndex(ctx context.Context, st zone.Store) (*index.Index, error) {
	ix := index.New()
	if err := ix.Load(ctx, st); err != nil {
		return nil, err
	}
	cov, err := coverage.Load(ctx, st)
	if err != nil {
		return nil, err
	}
	ix.SetCoverage(cov)
	return ix, nil
}

// printCheck writes a result as a table: one line per feature for a
// collection, then the findings.
func printCheck(w io.Writer, res check.Result) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERDICT: %s\t(rule set %s, data version %d, %.1f ms)\n", strings.ToUpper(string(res.Verdict)), res.RulesetVersion, res.DataVersion, res.TookMS)
	if len(res.Features) > 0 {
		fmt.Fprintln(tw, "\nFEATURE\tVERDICT\tFINDINGS\tAREA m²\tLENGTH m")
		for _, f := range res.Features {
			fmt.Fprintf(tw, "#%d\t%s\t%d\t%.0f\t%.0f\n", f.Index, f.Verdict, len(f.Findings), f.Footprint.AreaM2, f.Footprint.LengthM)
		}
	}
	if len(res.Findings) > 0 {
		fmt.Fprintln(tw, "\nVERDICT\tRULE\tZONE\tCOMPONENT\tDISTANCE\tOVERLAP m²\tBASIS")
		for _, f := range res.Findings {
			comp, dist, overlap := "(classified: "+f.Band+")", "-", "-"
			switch {
			case f.Incomplete():
				comp = "(no complete data of " + f.Component.Layer + ")"
			case !f.Component.Redacted:
				comp = fmt.Sprintf("%s [%s/%s]", f.Component.Name, f.Component.Layer, f.Component.Kind)
			}
			if f.DistanceM != nil {
				dist = fmt.Sprintf("%.1f m", *f.DistanceM)
			}
			if f.OverlapAreaM2 != nil && *f.OverlapAreaM2 > 0 {
				overlap = fmt.Sprintf("%.0f", *f.OverlapAreaM2)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Verdict, f.Rule, f.Zone, comp, dist, overlap, f.Basis)
		}
	}
	return tw.Flush()
}

func cmdRules(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "load" && args[0] != "show") {
		fmt.Fprintln(e.stderr, "Usage: zoneplan rules show | rules load FILE\n\n"+
			"  show        prints the rule set in force (YAML or JSON as loaded; the embedded default otherwise)\n"+
			"  load FILE   validates a rule-set document in full and, only if valid, makes it the version in force")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return exitError{code: 2}
	}
	sub := args[0]
	fs := newFlags(e, "rules "+sub, "rules "+sub+map[string]string{"load": " FILE", "show": ""}[sub], "Manages the conflict rule set.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	active, err := check.NewActive(ctx, st)
	if err != nil {
		return err
	}
	if sub == "show" {
		doc := active.Document()
		if doc == nil {
			b, err := json.MarshalIndent(active.Engine().RuleSet(), "", "  ")
			if err != nil {
				return err
			}
			doc = append(b, '\n')
		}
		_, err := e.stdout.Write(doc)
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "rules load takes one file"}
	}
	doc, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return zone.Errorf(zone.CodeInvalid, "cannot read %s: %v", fs.Arg(0), err)
	}
	rs, err := active.Load(ctx, doc, "cli:"+osUser(e))
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: not loaded; the rule set in force is unchanged\n", fs.Arg(0))
		return err
	}
	if err := recordCLI(ctx, e, st, zone.AuditRuleSetLoaded, rs.Version, "", zone.Public, map[string]int{"rules": len(rs.Rules)}); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "rule set %s (%d rules) is now in force\n", rs.Version, len(rs.Rules))
	return nil
}

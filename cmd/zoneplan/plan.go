package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/plan"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// cmdPlan runs `zoneplan plan check FILE`: a master plan checked parcel by
// parcel as a job in the store (the server lists it with the others), in
// this process, with a progress bar on a terminal and the summary table at
// the end. Its exit status is check's, for the worst parcel.
func cmdPlan(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(e.stderr, "Usage: zoneplan plan check [--crs CRS] [--format F] [--map FIELDS] [--name NAME] FILE\n\n"+
			"  check FILE   checks every parcel of a master plan (GeoJSON, KML, KMZ or a zipped shapefile, up to 200,000\n"+
			"               parcels) and prints the summary; exit status 0 clear, 2 review, 3 conflict (the worst parcel), 1 error")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return exitError{code: 2}
	}
	fs := newFlags(e, "plan check", "plan check [--crs CRS] [--format F] [--map FIELDS] [--name NAME] FILE",
		"Checks every parcel of a master plan against the defence components in the store and the rule set in force,\n"+
			"as a job kept in the store. --map names the file's attributes holding the project fields:\n"+
			"name=TEN_LO,land_use=LOAI_DAT,height=CHIEU_CAO,activities=HOAT_DONG (or a JSON object).\n"+
			"Exit status: 0 clear, 2 review, 3 conflict (the worst parcel), 1 error.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	var inf inputFlags
	addInputFlags(fs, &inf)
	mapFlag := fs.String("map", "", "the plan's attribute names for name, sector (land_use), height_m (height), activities")
	name := fs.String("name", "", "the plan's name (default: the file name)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "plan check takes one file"}
	}
	mapping, err := plan.ParseMapping(*mapFlag)
	if err != nil {
		return err
	}
	in, err := readInputFile(e, fs.Arg(0), inf)
	if err != nil {
		return err
	}
	dec, err := formats.Decode(filepath.Base(in.name), in.data, formats.Options{CRS: in.crs, Format: in.format, Limits: plan.Limits()})
	if err != nil {
		return err
	}
	parcels, err := plan.Parcels(filepath.Base(in.name), dec.Features, mapping)
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
	ix.SetConsultation(active.Engine())
	m := plan.New(plan.Options{Store: st, Engine: active.Engine, Source: func() check.Source { return ix.Snapshot() }, Log: e.log})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := m.Start(runCtx); err != nil {
		return err
	}
	defer m.Close()
	title := *name
	if title == "" {
		title = filepath.Base(in.name)
	}
	crsCode := ""
	if dec.CRS != nil {
		crsCode = dec.CRS.Code
	}
	by := "cli:" + osUser(e)
	p, err := m.Submit(ctx, &zone.Plan{Name: title, CreatedBy: by, File: filepath.Base(in.name), Format: string(dec.Format), CRS: crsCode,
		Mapping: mapping.Map()}, parcels)
	if err != nil {
		return err
	}
	if err := recordCLI(ctx, e, st, zone.AuditPlanCreated, p.ID.String(), "", zone.Public, map[string]any{"parcels": p.Total, "file": p.File}); err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if isTerminal(e.stderr) {
		bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("checking parcels"), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	start := time.Now()
	for {
		cur, err := st.GetPlan(context.WithoutCancel(ctx), p.ID)
		if err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Set(cur.Done)
		}
		if zone.PlanFinished(cur.State) {
			p = cur
			break
		}
		if ctx.Err() != nil {
			// Interrupted: the job is cancelled rather than left for a server to resume.
			_, _ = m.Cancel(context.WithoutCancel(ctx), p.ID)
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	el := time.Since(start)
	if p.State != zone.PlanDone {
		return zone.Errorf(zone.CodeUnavailable, "plan %s %s: %s", p.ID, p.State, p.Error)
	}
	// Whoever can open the store sees everything in it: the local CLI reads
	// at full clearance.
	sum, err := plan.Summarize(ctx, st, p.ID, zone.Secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "checked %d parcels in %s (%.0f parcels/s); plan %s\n", p.Total, el.Round(time.Millisecond), float64(p.Total)/el.Seconds(), p.ID)
	if err := printPlanSummary(e.stdout, p, sum); err != nil {
		return err
	}
	return exitForVerdict(sum.Worst())
}

// printPlanSummary writes the summary table: parcels by verdict, rule,
// zone kind and component.
func printPlanSummary(w io.Writer, p *zone.Plan, sum *plan.Summary) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "PLAN: %s\t%d parcels\t(rule set %s)\n", p.Name, p.Total, p.RulesetVersion)
	fmt.Fprintln(tw, "\nVERDICT\tPARCELS")
	for _, v := range sum.Verdicts() {
		fmt.Fprintf(tw, "%s\t%d\n", strings.ToUpper(v), sum.ByVerdict[v])
	}
	if len(sum.ByRule) > 0 {
		fmt.Fprintln(tw, "\nRULE\tPARCELS\tMESSAGE")
		for _, r := range sortedKeys(sum.ByRule) {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", r, sum.ByRule[r], sum.Rules[r].Message)
		}
		fmt.Fprintln(tw, "\nZONE\tPARCELS")
		for _, z := range sortedKeys(sum.ByZone) {
			fmt.Fprintf(tw, "%s\t%d\n", z, sum.ByZone[z])
		}
	}
	if len(sum.ByComponent) > 0 {
		fmt.Fprintln(tw, "\nCOMPONENT\tPARCELS")
		for _, c := range sum.ByComponent {
			fmt.Fprintf(tw, "%s [%s/%s]\t%d\n", c.Name, c.Layer, c.Kind, c.Parcels)
		}
	}
	return tw.Flush()
}

// sortedKeys lists m's keys by count, most first, then by name.
func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (m[out[j]] > m[out[j-1]] || m[out[j]] == m[out[j-1]] && out[j] < out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// exitForVerdict is the exit status `check` gives a verdict.
func exitForVerdict(v rules.Verdict) error {
	switch v {
	case rules.Conflict:
		return exitError{code: exitConflict}
	case rules.Review:
		return exitError{code: exitReview}
	case rules.Incomplete:
		return exitError{code: exitIncomplete}
	}
	return nil
}

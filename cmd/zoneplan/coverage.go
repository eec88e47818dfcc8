package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// cmdCoverage manages the coverage of layers: the areas where their data
// is complete. The CLI runs at full clearance (whoever can open the store
// sees everything in it), and each change is in the audit trail.
func cmdCoverage(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "set" && args[0] != "list" && args[0] != "delete") {
		fmt.Fprintln(e.stderr, "Usage: zoneplan coverage list | coverage set [flags] FILE | coverage delete ID\n\n"+
			"  list         prints every layer's coverage (--json: as a GeoJSON FeatureCollection)\n"+
			"  set FILE     declares where a layer's data is complete: FILE is a GeoJSON Polygon or MultiPolygon\n"+
			"               (a geometry or a Feature), flags give the rest; with --id it replaces that coverage\n"+
			"  delete ID    removes a coverage\n\n"+
			"A check whose footprint is not wholly inside the coverage of every layer a rule tests gets the\n"+
			"verdict incomplete instead of clear.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return exitError{code: 2}
	}
	sub := args[0]
	fs := newFlags(e, "coverage "+sub, "coverage "+sub+map[string]string{"set": " [flags] FILE", "delete": " ID", "list": ""}[sub],
		"Manages where each layer's data is complete.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	asJSON := fs.Bool("json", false, "list: print a GeoJSON FeatureCollection")
	layer := fs.String("layer", "", "set: the layer (list: only this layer)")
	area := fs.String("area", "", "set: the area's name, e.g. \"Lạng Sơn\"")
	status := fs.String("status", zone.CoverageReviewed, "set: loaded or reviewed")
	asOf := fs.String("as-of", "", "set: the date the statement holds at, YYYY-MM-DD (default today, UTC+7)")
	class := fs.String("classification", "public", "set: the coverage's own classification")
	note := fs.String("note", "", "set: a note")
	idFlag := fs.String("id", "", "set: replace this coverage instead of declaring a new one")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	by := "cli:" + osUser(e)

	switch sub {
	case "list":
		cs, err := st.ListCoverage(ctx, zone.Secret)
		if err != nil {
			return err
		}
		fc := geojson.NewFeatureCollection()
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLAYER\tAREA\tSTATUS\tAS OF\tCLASSIFICATION\tVERSION")
		for i := range cs {
			c := &cs[i]
			if *layer != "" && c.Layer != *layer {
				continue
			}
			fc.Append(c.Feature())
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", c.ID, c.Layer, c.Area, c.Status, c.AsOf.Format(time.DateOnly), c.Classification, c.Version)
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetEscapeHTML(false)
			return enc.Encode(fc)
		}
		return tw.Flush()

	case "delete":
		if fs.NArg() != 1 {
			fs.Usage()
			return exitError{code: 2, msg: "coverage delete takes one id"}
		}
		id, err := uuid.Parse(fs.Arg(0))
		if err != nil {
			return zone.Errorf(zone.CodeInvalid, "%q is not a coverage id", fs.Arg(0))
		}
		old, err := st.GetCoverage(ctx, id, zone.Secret)
		if err != nil {
			return err
		}
		if err := st.DeleteCoverage(ctx, id, 0, zone.Secret, by); err != nil {
			return err
		}
		if err := recordCLI(ctx, e, st, zone.AuditCoverageDeleted, id.String(), old.Layer, old.Classification,
			map[string]any{"area": old.Area, "version": old.Version}); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "coverage %s (%s, %s) deleted\n", id, old.Layer, old.Area)
		return nil
	}

	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "coverage set takes one GeoJSON file"}
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return zone.Errorf(zone.CodeInvalid, "cannot read %s: %v", fs.Arg(0), err)
	}
	c := &zone.Coverage{Layer: *layer, Area: *area, Status: *status, Note: *note}
	if f, err := geojson.UnmarshalFeature(b); err == nil && f.Geometry != nil {
		mp, ok := zone.AsMultiPolygon(f.Geometry)
		if !ok {
			return zone.Errorf(zone.CodeInvalid, "%s: a coverage is a Polygon or MultiPolygon, not a %s", fs.Arg(0), f.Geometry.GeoJSONType())
		}
		c.Geometry = mp
	} else if g, err := geojson.UnmarshalGeometry(b); err == nil && g.Geometry() != nil {
		mp, ok := zone.AsMultiPolygon(g.Geometry())
		if !ok {
			return zone.Errorf(zone.CodeInvalid, "%s: a coverage is a Polygon or MultiPolygon, not a %s", fs.Arg(0), g.Geometry().GeoJSONType())
		}
		c.Geometry = mp
	} else {
		return zone.Errorf(zone.CodeInvalid, "%s is not a GeoJSON Polygon or MultiPolygon (a geometry or a Feature)", fs.Arg(0))
	}
	if c.Classification, err = zone.ParseClassification(*class); err != nil {
		return err
	}
	if *asOf == "" {
		c.AsOf = time.Now().In(time.FixedZone("ICT", 7*3600))
	} else if c.AsOf, err = time.Parse(time.DateOnly, *asOf); err != nil {
		return zone.Errorf(zone.CodeInvalid, "--as-of %q is not a date (YYYY-MM-DD)", *asOf)
	}
	if *idFlag != "" {
		if c.ID, err = uuid.Parse(*idFlag); err != nil {
			return zone.Errorf(zone.CodeInvalid, "--id %q is not a coverage id", *idFlag)
		}
		if _, err := st.GetCoverage(ctx, c.ID, zone.Secret); err != nil {
			return err
		}
	}
	stored, err := st.PutCoverage(ctx, c, 0, zone.Secret, by)
	if err != nil {
		return err
	}
	if err := recordCLI(ctx, e, st, zone.AuditCoverageSet, stored.ID.String(), stored.Layer, stored.Classification,
		map[string]any{"area": stored.Area, "status": stored.Status, "as_of": stored.AsOf.Format(time.DateOnly), "version": stored.Version}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", stored.ID)
	fmt.Fprintf(e.stderr, "coverage of %s over %s: %s as of %s (version %d)\n", stored.Layer, stored.Area, stored.Status, stored.AsOf.Format(time.DateOnly), stored.Version)
	return nil
}

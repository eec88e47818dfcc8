package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/paulmach/orb/geojson"
	"github.com/schollz/progressbar/v3"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/geojsonl"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "migrate [--database-url URL]", "Applies the PostGIS schema migrations (serve also does this at start).")
	url := fs.String("database-url", e.getenv("DATABASE_URL"), "PostGIS connection URL (env DATABASE_URL)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return exitError{code: 2, msg: "migrate needs a PostGIS database: set DATABASE_URL or --database-url (the embedded store needs no migrations)"}
	}
	if err := postgis.Migrate(ctx, *url, e.log); err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "migrations applied")
	return nil
}

func cmdSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "seed", "seed", "Loads the demo data (real border lines, synthetic components and project sites) into an empty store.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	sc.NoDemo = true // seed explicitly below, so a new file is not seeded twice
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.CountComponents(ctx, zone.Query{Clearance: zone.Secret})
	if err != nil {
		return err
	}
	if n > 0 {
		return zone.Errorf(zone.CodeConflict, "the %s already holds %d components; seed loads only into an empty store", sc.describe(), n)
	}
	n, err = seedDemo(ctx, e, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "seeded %d demo components into the %s\n", n, sc.describe())
	return nil
}

func cmdImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "import [flags] LAYER FILE|-",
		"Imports a file into a layer: GeoJSON, KML, KMZ, a zipped shapefile, or a boundary-point table, in\n"+
			"WGS84 or the CRS of --crs (or of the file's crs member or .prj). Every feature is validated first;\n"+
			"if any is bad, each bad one is reported by index and reason and nothing is written. Otherwise all\n"+
			"features are written in one transaction.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	var inf inputFlags
	addInputFlags(fs, &inf)
	upsert := fs.Bool("upsert", false, "replace features whose id (or, without an id, whose code) already exists")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return exitError{code: 2, msg: "import takes a layer and a file (or - for standard input)"}
	}
	layer, err := zone.GetLayer(fs.Arg(0))
	if err != nil {
		return err
	}
	in, err := readInputFile(e, fs.Arg(1), inf)
	if err != nil {
		return err
	}
	cs, err := in.components(layer.ID)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()

	opt := zone.ImportOptions{Upsert: *upsert, By: "cli:" + osUser(e)}
	var bar *progressbar.ProgressBar
	if isTerminal(e.stderr) {
		bar = progressbar.NewOptions(len(cs), progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("importing "+layer.ID), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		opt.Progress = func(done int) { _ = bar.Set(done) }
	}
	start := time.Now()
	res, err := st.ImportComponents(ctx, layer.ID, cs, opt)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := recordImport(ctx, e, st, layer.ID, cs, res); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(e.stderr, "imported %d features into %s (%d created, %d updated) in %s (%.0f features/s)\n",
		res.Created+res.Updated, layer.ID, res.Created, res.Updated, el.Round(time.Millisecond), float64(len(cs))/el.Seconds())
	return nil
}

// readInput reads a file, or standard input for "-".
func readInput(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "cannot read %s: %v", name, err)
	}
	return b, nil
}

// decodeFeatures decodes a FeatureCollection (or a single Feature) feature by
// feature, so one malformed feature is reported by its index instead of
// failing the whole file, and validates every component.
func decodeFeatures(layer string, raw []byte) ([]*zone.Component, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		return nil, zone.Errorf(zone.CodeInvalid, "not a GeoJSON document: %v", err)
	}
	switch fc.Type {
	case "FeatureCollection":
	case "Feature":
		fc.Features = []json.RawMessage{raw}
	default:
		return nil, zone.Errorf(zone.CodeInvalid, "GeoJSON type %q: want a FeatureCollection or a Feature", fc.Type)
	}
	var probs []zone.Detail
	cs := make([]*zone.Component, 0, len(fc.Features))
	for i, rf := range fc.Features {
		f, err := geojson.UnmarshalFeature(rf)
		if err != nil {
			probs = append(probs, zone.Detail{Index: i, Reason: "not a GeoJSON feature: " + err.Error()})
			continue
		}
		c, ds := zone.FromFeature(layer, f)
		for _, d := range ds {
			d.Index = i
			probs = append(probs, d)
		}
		if len(ds) == 0 {
			cs = append(cs, c)
		}
	}
	if len(probs) > 0 {
		bad := map[int]bool{}
		for _, p := range probs {
			bad[p.Index] = true
		}
		return nil, &zone.Error{Code: zone.CodeInvalid, Details: probs,
			Message: fmt.Sprintf("%d of %d features are invalid; nothing was imported", len(bad), len(fc.Features))}
	}
	return cs, nil
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "export [flags] LAYER", "Writes every feature of a layer as a GeoJSON FeatureCollection on standard output,\n"+
		"in WGS84 or, with --crs, in that CRS (east first, named in a crs member).")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	crsRef := fs.String("crs", "", "write coordinates in this CRS (EPSG:5899, an OGC URI, VN2000:TM3:<central meridian>); default WGS84")
	if err := parse(fs, args); err != nil {
		return err
	}
	var outCRS *crs.CRS
	if *crsRef != "" {
		c, err := crs.Lookup(*crsRef)
		if err != nil {
			return err
		}
		outCRS = c
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "export takes one layer"}
	}
	layer, err := zone.GetLayer(fs.Arg(0))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	// Recorded before anything is written: an export the trail cannot
	// record does not happen. It reveals what the layer can hold.
	crsName := "EPSG:4326"
	if outCRS != nil {
		crsName = outCRS.Code
	}
	if err := recordCLI(ctx, e, st, zone.AuditExport, "", layer.ID, layer.Ceiling, map[string]string{"crs": crsName}); err != nil {
		return err
	}
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	n, err := writeCollectionIn(ctx, w, st, layer.ID, outCRS)
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d features of %s\n", n, layer.ID)
	return nil
}

// writeCollection streams a layer as a FeatureCollection, one feature per line.
func writeCollection(ctx context.Context, w io.Writer, st zone.ComponentStore, layer string) (int, error) {
	fw := geojsonl.NewWriter(w)
	err := st.ListComponents(ctx, zone.Query{Layers: []string{layer}, Clearance: zone.Secret}, func(c *zone.Component) error {
		return fw.Write(c.Feature())
	})
	if err != nil {
		return fw.Count(), err
	}
	return fw.Count(), fw.Close(nil)
}

func cmdGen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gen", "gen [--components N] [--projects M] [--seed S] [--out DIR]",
		"Generates synthetic components and project sites at scale (fixed seed, so runs are repeatable),\n"+
			"into the configured store, or as one GeoJSON file per layer with --out.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	components := fs.Int("components", 100_000, "number of defence components")
	projects := fs.Int("projects", 10_000, "number of project sites")
	seed := fs.Int64("seed", 1, "random seed")
	out := fs.String("out", "", "write GeoJSON files into this directory instead of the store")
	batch := fs.Int("batch", 50_000, "components per import transaction")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *components < 0 || *projects < 0 || *batch <= 0 {
		return exitError{code: 2, msg: "--components and --projects must be >= 0, --batch > 0"}
	}
	start := time.Now()
	total := *components + *projects
	var bar *progressbar.ProgressBar
	if isTerminal(e.stderr) {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("generating"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	done := 0
	tick := func() {
		done++
		if bar != nil && done%1000 == 0 {
			_ = bar.Set(done)
		}
	}
	if *out != "" {
		if err := genFiles(*out, *seed, *components, *projects, tick); err != nil {
			return err
		}
	} else {
		sc.NoDemo = true
		st, err := openStore(ctx, e, sc)
		if err != nil {
			return err
		}
		defer st.Close()
		pending := map[string][]*zone.Component{}
		flush := func(layer string) error {
			if len(pending[layer]) == 0 {
				return nil
			}
			res, err := st.ImportComponents(ctx, layer, pending[layer], zone.ImportOptions{By: "gen"})
			if err == nil {
				err = recordImport(ctx, e, st, layer, pending[layer], res)
			}
			pending[layer] = pending[layer][:0]
			return err
		}
		err = demo.Scale(*seed, *components, *projects, func(c *zone.Component) error {
			tick()
			pending[c.Layer] = append(pending[c.Layer], c)
			if len(pending[c.Layer]) >= *batch {
				return flush(c.Layer)
			}
			return nil
		})
		for _, l := range zone.LayerIDs() {
			if err == nil {
				err = flush(l)
			}
		}
		if err != nil {
			return err
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(e.stderr, "generated %d components and %d project sites in %s\n", *components, *projects, time.Since(start).Round(time.Millisecond))
	return nil
}

// genFiles writes the generated features as one GeoJSON file per layer.
func genFiles(dir string, seed int64, components, projects int, tick func()) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]*os.File{}
	writers := map[string]*geojsonl.Writer{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	err := demo.Scale(seed, components, projects, func(c *zone.Component) error {
		tick()
		fw, ok := writers[c.Layer]
		if !ok {
			f, err := os.Create(filepath.Join(dir, c.Layer+".geojson"))
			if err != nil {
				return err
			}
			files[c.Layer] = f
			fw = geojsonl.NewWriter(f)
			writers[c.Layer] = fw
		}
		return fw.Write(c.Feature())
	})
	if err != nil {
		return err
	}
	for layer, fw := range writers {
		if err := fw.Close(nil); err != nil {
			return err
		}
		if err := files[layer].Close(); err != nil {
			return err
		}
		delete(files, layer)
	}
	return nil
}

// recordImport records an import in the audit trail: one entry for the
// whole (its layer and counts, classified at its most classified
// component), not one for each component.
func recordImport(ctx context.Context, e *env, st zone.AuditStore, layer string, cs []*zone.Component, res zone.ImportResult) error {
	cl := zone.Public
	for _, c := range cs {
		cl = max(cl, c.Classification)
	}
	return recordCLI(ctx, e, st, zone.AuditComponentsImported, "", layer, cl, map[string]int{
		"features": len(cs), "created": res.Created, "updated": res.Updated})
}

func osUser(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

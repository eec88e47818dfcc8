package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// env is what every command gets: the standard streams, the environment and
// a logger writing to stderr.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// command is one subcommand of the CLI.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the HTTP server (web map, APIs)", cmdServe},
		"migrate":  {"apply the PostGIS schema migrations", cmdMigrate},
		"seed":     {"load the demo data into an empty store", cmdSeed},
		"import":   {"import GeoJSON, KML/KMZ, a zipped shapefile or a point table into a layer (all or nothing)", cmdImport},
		"export":   {"write a layer as GeoJSON to standard output", cmdExport},
		"gen":      {"generate synthetic data at scale (fixed seed)", cmdGen},
		"token":    {"create, list and revoke API tokens", cmdToken},
		"check":    {"check a footprint against the defence components (exit 0 clear, 4 incomplete, 2 review, 3 conflict)", cmdCheck},
		"plan":     {"check every parcel of a master plan as a job (exit as check, for the worst parcel)", cmdPlan},
		"rules":    {"show the rule set in force, or load a new version", cmdRules},
		"coverage": {"list, set and delete where each layer's data is complete", cmdCoverage},
		"audit":    {"verify the audit trail's hash chain, or export it as JSON lines", cmdAudit},
		"version":  {"print the version", cmdVersion},
	}
}

// exitError ends the process with a given status; msg may be empty when the
// command already printed what went wrong.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("ZONEPLAN_LOG_LEVEL"))}))}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return exitError{code: 2}
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", args[0])}
	}
	err := c.run(ctx, e, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "zoneplan: defensive-zone planning service and CLI")
	fmt.Fprintln(w, "\nUsage: zoneplan <command> [flags]   (zoneplan <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEnvironment: DATABASE_URL (PostGIS; unset = embedded file), ZONEPLAN_DB (embedded file, default ./zoneplan.db),")
	fmt.Fprintln(w, "ZONEPLAN_ADDR (listen address, default :8080), ZONEPLAN_LOG_LEVEL (debug, info, warn, error).")
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// newFlags makes a command's flag set; parse errors and --help return
// through run instead of exiting.
func newFlags(e *env, name, usageLine, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: zoneplan %s\n\n%s\n\nFlags:\n", usageLine, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; a bad flag is an exit 2 with the usage already printed.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return exitError{code: 2}
	}
	return nil
}

// describe renders an error for the terminal: the safe message, then each
// detail on its own line.
func describe(err error) string {
	var ze *zone.Error
	if !errors.As(err, &ze) {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(ze.Message)
	if ze.Code == zone.CodeInternal && ze.Err != nil {
		b.WriteString(": " + ze.Err.Error())
	}
	for _, d := range ze.Details {
		b.WriteString("\n  ")
		if d.Index >= 0 {
			fmt.Fprintf(&b, "feature #%d: ", d.Index)
		}
		if d.Pointer != "" {
			b.WriteString(d.Pointer + ": ")
		}
		b.WriteString(d.Reason)
	}
	return b.String()
}

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// the module's build info is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
		return v
	}
	return "dev"
}

func cmdVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "version", "Prints the version of this binary.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "zoneplan", versionString())
	return nil
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress bar helps; in logs and pipes it would only add carriage returns.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

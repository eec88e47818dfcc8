package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func cmdToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, "Usage: zoneplan token create|list|revoke [flags]\n\n"+
			"  create --name N --role R --clearance C [--person P --title T] [--expires 30d]\n"+
			"                                                           prints the new token alone on standard output\n"+
			"  list                                                     lists tokens (never their secrets)\n"+
			"  revoke ID                                                revokes a token\n\n"+
			"Roles: viewer, appraiser, reviewer, editor, admin, auditor. Clearances: public, internal, restricted, secret.")
		if len(args) == 0 {
			return exitError{code: 2}
		}
		return nil
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(ctx, e, args[1:])
	case "list":
		return cmdTokenList(ctx, e, args[1:])
	case "revoke":
		return cmdTokenRevoke(ctx, e, args[1:])
	}
	return exitError{code: 2, msg: fmt.Sprintf("unknown token command %q (want create, list or revoke)", args[0])}
}

func cmdTokenCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token create", "token create --name N --role R --clearance C [--person P --title T] [--expires D]",
		"Creates an API token and prints it, alone, on standard output. Only its hash is stored: it cannot be shown again.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	name := fs.String("name", "", "who or what uses the token (required)")
	person := fs.String("person", "", "the full name of the person who holds the token, as reports print it (e.g. \"Nguyễn Văn An\")")
	title := fs.String("title", "", "the holder's title, as reports print it under the name (e.g. \"Trưởng phòng Tác chiến\")")
	roleS := fs.String("role", "", "viewer, appraiser, reviewer, editor, admin or auditor (required)")
	clearS := fs.String("clearance", "public", "public, internal, restricted or secret")
	expires := fs.String("expires", "", "lifetime such as 30d or 12h; empty: no expiry")
	if err := parse(fs, args); err != nil {
		return err
	}
	role, err := zone.ParseRole(*roleS)
	if err != nil {
		return err
	}
	clearance, err := zone.ParseClassification(*clearS)
	if err != nil {
		return err
	}
	ttl, err := auth.ParseDuration(*expires)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, t, err := auth.IssueTo(ctx, st, *name, auth.Holder{Person: *person, Title: *title}, role, clearance, ttl, time.Now())
	if err != nil {
		return err
	}
	if err := recordCLI(ctx, e, st, zone.AuditTokenCreated, t.ID.String(), "", zone.Public, map[string]any{
		"name": t.Name, "person": t.Person, "title": t.Title, "role": t.Role, "clearance": t.Clearance.String(), "expires_at": t.ExpiresAt}); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "created token %s (%s, role %s, clearance %s); it is shown only now:\n", t.ID, t.Name, t.Role, t.Clearance)
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func cmdTokenList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token list", "token list", "Lists tokens: id, name, role, clearance, created, expiry, revocation.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPERSON\tTITLE\tROLE\tCLEARANCE\tCREATED\tEXPIRES\tSTATE")
	now := time.Now()
	for _, t := range ts {
		exp, state := "-", "active"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format(time.RFC3339)
		}
		switch {
		case t.RevokedAt != nil:
			state = "revoked " + t.RevokedAt.Format(time.RFC3339)
		case !t.Active(now):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, dash(t.Person), dash(t.Title), t.Role, t.Clearance, t.CreatedAt.Format(time.RFC3339), exp, state)
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token revoke", "token revoke ID", "Revokes a token at once; requests with it get 401 from then on.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2, msg: "token revoke takes one token id"}
	}
	id, err := uuid.Parse(fs.Arg(0))
	if err != nil {
		return zone.Errorf(zone.CodeInvalid, "%q is not a token id (see zoneplan token list)", fs.Arg(0))
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeToken(ctx, id, time.Now()); err != nil {
		return err
	}
	if err := recordCLI(ctx, e, st, zone.AuditTokenRevoked, id.String(), "", zone.Public, struct{}{}); err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "revoked", id)
	return nil
}

// dash is s, or "-" for an empty column.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

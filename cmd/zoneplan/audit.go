package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func cmdAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(e.stderr, "Usage: zoneplan audit verify [--anchor SEQ:HASH] | audit export [--since T] [--until T]\n\n"+
			"  verify   checks the audit trail's hash chain; exit 0 and a summary when intact, 1 and the first broken entry when not\n"+
			"  export   writes the audit trail as JSON lines on standard output, oldest first")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return exitError{code: 2}
	}
	if args[0] == "verify" {
		return cmdAuditVerify(ctx, e, args[1:])
	}
	return cmdAuditExport(ctx, e, args[1:])
}

func cmdAuditVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit verify", "audit verify [--anchor SEQ:HASH]...",
		"Walks the whole audit trail and checks its hash chain: every entry's hash covers the one before it.\n"+
			"Intact: prints the number of entries and the head (SEQ:HASH; keep it elsewhere and pass it as --anchor\n"+
			"later, to catch a trail rewritten from before it) and exits 0. Broken: names the first broken entry and\n"+
			"what is wrong with it on standard error and exits 1.")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	var anchors []audit.Anchor
	fs.Func("anchor", "a head printed by an earlier verify (SEQ:HASH) that the trail must still hold; repeatable", func(s string) error {
		a, err := audit.ParseAnchor(s)
		if err != nil {
			return err
		}
		anchors = append(anchors, a)
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st, anchors...)
	if err != nil {
		return err
	}
	if rep.Break != nil {
		return exitError{code: 1, msg: fmt.Sprintf("audit trail broken at entry %d (%s): %s", rep.Break.Seq, rep.Break.Field, rep.Break.Reason)}
	}
	fmt.Fprintf(e.stdout, "audit trail intact: %d entries, head %s\n", rep.Entries, rep.Head)
	return nil
}

// exportedEntry is one line of `audit export`: every field of the entry,
// its chain included.
type exportedEntry struct {
	Seq            int64           `json:"seq"`
	ID             uuid.UUID       `json:"id"`
	Time           time.Time       `json:"time"`
	Action         string          `json:"action"`
	ActorID        *uuid.UUID      `json:"actor_id,omitempty"`
	Actor          string          `json:"actor"`
	Role           zone.Role       `json:"role"`
	ActorClearance string          `json:"actor_clearance"`
	Object         string          `json:"object,omitempty"`
	Layer          string          `json:"layer,omitempty"`
	Classification string          `json:"classification"`
	Detail         json.RawMessage `json:"detail"`
	PrevHash       string          `json:"prev_hash"`
	Hash           string          `json:"hash"`
}

func cmdAuditExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit export", "audit export [--since T] [--until T]",
		"Writes the audit trail as JSON lines on standard output, oldest first, one entry a line with its\n"+
			"sequence number and hashes (whoever can open the store reads every entry).")
	var sc storeConfig
	addStoreFlags(fs, e, &sc, true)
	since := fs.String("since", "", "only entries at or after this RFC 3339 time (e.g. 2025-03-01T00:00:00+07:00)")
	until := fs.String("until", "", "only entries before this RFC 3339 time")
	if err := parse(fs, args); err != nil {
		return err
	}
	var from, to time.Time
	for _, f := range []struct {
		name, raw string
		t         *time.Time
	}{{"--since", *since, &from}, {"--until", *until, &to}} {
		if f.raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.raw)
		if err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("%s %q: want an RFC 3339 time such as 2025-03-01T00:00:00+07:00", f.name, f.raw)}
		}
		*f.t = t
	}
	st, err := openStore(ctx, e, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	err = st.ScanAudit(ctx, 0, func(a zone.AuditEntry) error {
		if (!from.IsZero() && a.Time.Before(from)) || (!to.IsZero() && !a.Time.Before(to)) {
			return nil
		}
		x := exportedEntry{Seq: a.Seq, ID: a.ID, Time: a.Time, Action: a.Action, Actor: a.Actor, Role: a.Role,
			ActorClearance: a.ActorClearance.String(), Object: a.Object, Layer: a.Layer, Classification: a.Classification.String(),
			Detail: a.Detail, PrevHash: hex.EncodeToString(a.Prev), Hash: hex.EncodeToString(a.Hash)}
		if a.ActorID != uuid.Nil {
			id := a.ActorID
			x.ActorID = &id
		}
		n++
		return enc.Encode(x)
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d audit entries\n", n)
	return nil
}

// recordCLI appends one entry of a local command to the trail at once
// (a command has no recorder: it acts once and exits).
func recordCLI(ctx context.Context, e *env, st zone.AuditStore, action, object, layer string, cl zone.Classification, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	p := zone.SystemPrincipal("cli:" + osUser(e))
	_, err = st.AppendAudit(ctx, []zone.AuditEntry{{ID: uuid.New(), Time: time.Now(), Action: action, Actor: p.Name, Role: p.Role,
		ActorClearance: p.Clearance, Object: object, Layer: layer, Classification: cl, Detail: b}})
	if err != nil {
		return fmt.Errorf("recording %s in the audit trail: %w", action, err)
	}
	return nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// runCLI runs one command and returns its output and error.
func runCLI(env map[string]string, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// makeTrail writes a trail of five entries through the CLI: three tokens
// created, one revoked, a layer exported.
func makeTrail(t *testing.T, env map[string]string) {
	t.Helper()
	var id string
	for _, name := range []string{"An", "Bình", "Cường"} {
		out, errOut, err := runCLI(env, "token", "create", "--no-demo", "--name", name, "--role", "appraiser", "--clearance", "public")
		if err != nil {
			t.Fatalf("token create: %v %s", err, errOut)
		}
		_ = out
		id = strings.Fields(strings.TrimPrefix(errOut, "created token "))[0]
	}
	if _, errOut, err := runCLI(env, "token", "revoke", "--no-demo", id); err != nil {
		t.Fatalf("token revoke: %v %s", err, errOut)
	}
	if _, errOut, err := runCLI(env, "export", "--no-demo", "defence_works"); err != nil {
		t.Fatalf("export: %v %s", err, errOut)
	}
}

// verifyBreaksAt runs audit verify and wants it to fail naming entry seq.
func verifyBreaksAt(t *testing.T, env map[string]string, seq string) {
	t.Helper()
	_, _, err := runCLI(env, "audit", "verify", "--no-demo")
	var ex exitError
	if !errors.As(err, &ex) || ex.code == 0 || !strings.Contains(ex.msg, "broken at entry "+seq+" ") {
		t.Fatalf("audit verify after tampering with entry %s: %v, want a non-zero exit naming entry %s", seq, err, seq)
	}
	t.Logf("verify says: %s", ex.msg)
}

// checkExport reads audit export's lines: five entries, oldest first, the
// actions the CLI recorded; --since in the future gives none.
func checkExport(t *testing.T, env map[string]string) string {
	t.Helper()
	out, errOut, err := runCLI(env, "audit", "export", "--no-demo")
	if err != nil {
		t.Fatalf("audit export: %v %s", err, errOut)
	}
	var actions []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e struct {
			Seq            int64  `json:"seq"`
			Action         string `json:"action"`
			Actor          string `json:"actor"`
			Layer          string `json:"layer"`
			Classification string `json:"classification"`
			Hash           string `json:"hash"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if e.Seq != int64(len(actions)+1) || len(e.Hash) != 64 || !strings.HasPrefix(e.Actor, "cli:") {
			t.Fatalf("export line %s", sc.Text())
		}
		if e.Action == "export" && (e.Layer != "defence_works" || e.Classification != "secret") {
			t.Fatalf("export entry: %s", sc.Text())
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "token.created token.created token.created token.revoked export" {
		t.Fatalf("exported actions: %s", got)
	}
	out, _, err = runCLI(env, "audit", "export", "--no-demo", "--since", time.Now().Add(time.Hour).Format(time.RFC3339))
	if err != nil || out != "" {
		t.Fatalf("export --since the future: %q %v", out, err)
	}
	out, _, err = runCLI(env, "audit", "verify", "--no-demo")
	if err != nil || !strings.HasPrefix(out, "audit trail intact: 5 entries, head 5:") {
		t.Fatalf("audit verify of an intact trail: %q %v", out, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(out, "audit trail intact: 5 entries, head "))
}

// TestAuditVerifyEmbedded: an entry changed by writing the bucket directly
// is named by `audit verify`, which exits non-zero; an anchor taken
// before catches the trail rewritten from the start.
func TestAuditVerifyEmbedded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "z.db")
	env := map[string]string{"ZONEPLAN_DB": file, "USER": "kiemtra"}
	makeTrail(t, env)
	head := checkExport(t, env)

	// Change the actor of entry 2, as someone with the file and bbolt would.
	db, err := bolt.Open(file, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		key := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := b.Get(key)
		if v == nil {
			return errors.New("no entry 2")
		}
		changed := bytes.Replace(v, []byte("cli:kiemtra"), []byte("cli:someone"), 1)
		if bytes.Equal(changed, v) {
			return errors.New("entry 2 does not hold the actor's name")
		}
		return b.Put(key, changed)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	verifyBreaksAt(t, env, "2")

	// A trail rewritten whole (every hash recomputed) passes the chain, not
	// the anchor: simulated by starting a new file and writing five others.
	env2 := map[string]string{"ZONEPLAN_DB": filepath.Join(t.TempDir(), "other.db"), "USER": "kiemtra"}
	makeTrail(t, env2)
	if _, _, err := runCLI(env2, "audit", "verify", "--no-demo", "--anchor", head); err == nil || !strings.Contains(err.Error(), "anchor") {
		t.Fatalf("verify against another trail's head: %v, want an anchor break", err)
	}
}

// TestAuditVerifyPostGIS: an entry changed by a superuser who disabled
// the trigger is named by `audit verify`, which exits non-zero.
func TestAuditVerifyPostGIS(t *testing.T) {
	dsn := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "USER": "kiemtra"}
	makeTrail(t, env)
	checkExport(t, env)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var original string
	if err := conn.QueryRow(ctx, `SELECT detail::text FROM audit_log WHERE seq = 3`).Scan(&original); err != nil {
		t.Fatal(err)
	}
	// The trigger refuses it first.
	if _, err := conn.Exec(ctx, `UPDATE audit_log SET detail = '{"name":"someone"}' WHERE seq = 3`); err == nil {
		t.Fatal("UPDATE of the trail was not refused")
	}
	for _, sql := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
		`UPDATE audit_log SET detail = '{"name":"someone"}' WHERE seq = 3`,
		`ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	verifyBreaksAt(t, env, "3")

	// Restored, the chain holds again; an entry removed instead is named
	// by the one after it.
	for _, sql := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
		`UPDATE audit_log SET detail = '` + original + `' WHERE seq = 3`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if out, _, err := runCLI(env, "audit", "verify", "--no-demo"); err != nil || !strings.Contains(out, "intact: 5 entries") {
		t.Fatalf("restored trail: %q %v", out, err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM audit_log WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	verifyBreaksAt(t, env, "5")
}

// TestServeRecordsTheTrail: `serve` wires the recorder: a check through
// the running server is in the trail once the server has stopped (the
// recorder is closed after the HTTP server, before the store), and the
// quota flags reach the server.
func TestServeRecordsTheTrail(t *testing.T) {
	file := filepath.Join(t.TempDir(), "z.db")
	env := map[string]string{"ZONEPLAN_DB": file}
	srv := startServer(t, env, "--no-demo", "--check-burst", "1", "--check-rate", "1")
	if srv.Admin == "" {
		t.Fatal("no admin token printed")
	}
	body := `{"name":"An","role":"appraiser","clearance":"public"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.Admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	statuses := []int{}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/check", strings.NewReader(`{"type":"Point","coordinates":[106.5,21.5]}`))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusTooManyRequests {
		t.Fatalf("checks with --check-burst 1: %v, want 200 then 429", statuses)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(env, "audit", "export")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"action":"token.created"`) || strings.Count(out, `"action":"check"`) != 1 {
		t.Fatalf("the trail after serve: %s", out)
	}
}

//go:build linux

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func placeIDs(t *testing.T, url string) string {
	t.Helper()
	var ids string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := connect(t, url)
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM place`).Scan(&ids); err != nil {
		t.Fatalf("read place: %v", err)
	}
	return ids
}

// waitFor polls f until it returns true or the timeout passes.
func waitFor(timeout time.Duration, f func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return true
		}
	}
	return f()
}

func logSince(t *testing.T, c *Cluster, offset int64) string {
	t.Helper()
	return readFrom(c.LogPath(), offset)
}

// requireStopped checks that pid and all its descendants are stopped.
func requireStopped(t *testing.T, pid int, wantMin int) {
	t.Helper()
	procs := append(descendants(pid), procInfo{procID: procID{pid: pid}})
	if len(procs) < wantMin {
		t.Errorf("only %d processes under the postmaster, want at least %d", len(procs), wantMin)
	}
	for _, p := range procs {
		st, ok := readStat(p.pid)
		if ok && st.state != 'T' && st.state != 't' {
			t.Errorf("process %d is in state %c, not stopped", p.pid, st.state)
		}
	}
}

// TestCluster walks one cluster through the chaos tests' operations; each
// step builds on the previous one.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{Settings: map[string]string{"work_mem": "7MB"}})
	if c.Port() == 5432 || c.Port() == 0 {
		t.Fatalf("port %d", c.Port())
	}
	db := c.NewDatabase(t)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"write", func(t *testing.T) {
			conn := connect(t, db)
			var workMem string
			if err := conn.QueryRow(context.Background(), "SHOW work_mem").Scan(&workMem); err != nil || workMem != "7MB" {
				t.Errorf("work_mem = %q, %v; want the 7MB of Settings", workMem, err)
			}
			mustExec(t, conn, `CREATE TABLE place (id int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)`)
			mustExec(t, conn, `INSERT INTO place VALUES (1, ST_SetSRID(ST_MakePoint(5, 52), 4326))`)
			var wkt string
			if err := conn.QueryRow(context.Background(), `SELECT ST_AsText(geom) FROM place WHERE id = 1`).Scan(&wkt); err != nil || wkt != "POINT(5 52)" {
				t.Errorf("read back %q, %v", wkt, err)
			}
			if os.Geteuid() == 0 {
				u, err := user.Lookup("postgres")
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(c.DataDir())
				if err != nil {
					t.Fatal(err)
				}
				if uid := fi.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != u.Uid {
					t.Errorf("data directory owned by uid %d, want postgres (%s)", uid, u.Uid)
				}
			}
		}},
		{"freeze", func(t *testing.T) {
			conn := connect(t, db)
			c.Freeze(t)
			defer c.Thaw(t)
			// postmaster, checkpointer, background writer, walwriter,
			// autovacuum launcher, logical replication launcher, our backend
			requireStopped(t, c.Pid(), 7)

			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := conn.Exec(ctx, "SELECT 1")
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("the query took %v to time out", elapsed)
			}
			if err == nil || !pgconn.Timeout(err) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("query on a frozen server: err = %v, want a pgconn timeout", err)
			}
			if !conn.IsClosed() {
				t.Errorf("the connection is still open after its timeout")
			}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel2()
			if conn2, err := pgx.Connect(ctx2, db); err == nil {
				conn2.Close(context.Background())
				t.Errorf("connected to a frozen server")
			} else if !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("connect to a frozen server: %v, want a timeout", err)
			}

			c.Thaw(t)
			if got := placeIDs(t, db); got != "1" {
				t.Errorf("after Thaw: ids %q, want 1", got)
			}
		}},
		{"stop", func(t *testing.T) {
			pid, offset := c.Pid(), fileSize(c.LogPath())
			c.Stop(t)
			if c.Pid() != 0 {
				t.Errorf("Pid() = %d after Stop", c.Pid())
			}
			if _, ok := readStat(pid); ok {
				t.Errorf("postmaster %d still exists", pid)
			}
			if log := logSince(t, c, offset); !strings.Contains(log, "fast shutdown request") {
				t.Errorf("no fast shutdown in the log:\n%s", log)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, db)
			if err == nil {
				conn.Close(context.Background())
				t.Fatal("connected to a stopped server")
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("connect to a stopped server: %v, want connection refused", err)
			}
		}},
		{"start", func(t *testing.T) {
			port := c.Port()
			c.Start(t)
			if c.Port() != port || c.Pid() == 0 {
				t.Errorf("port %d pid %d after Start; want port %d", c.Port(), c.Pid(), port)
			}
			if got := placeIDs(t, db); got != "1" {
				t.Errorf("after restart: ids %q, want 1", got)
			}
		}},
		{"kill", func(t *testing.T) {
			conn := connect(t, db)
			mustExec(t, conn, `SET synchronous_commit = on`) // durable across the crash
			mustExec(t, conn, `INSERT INTO place VALUES (2, ST_SetSRID(ST_MakePoint(6, 53), 4326))`)
			offset := fileSize(c.LogPath())
			c.Kill(t)
			if log := logSince(t, c, offset); !strings.Contains(log, "immediate shutdown request") {
				t.Errorf("no immediate shutdown in the log:\n%s", log)
			}
			c.Start(t)
			if log := logSince(t, c, offset); !strings.Contains(log, "automatic recovery in progress") {
				t.Errorf("no crash recovery in the log:\n%s", log)
			}
			if got := placeIDs(t, db); got != "1,2" {
				t.Errorf("after crash recovery: ids %q, want 1,2", got)
			}
		}},
		{"replica", func(t *testing.T) {
			r := c.StartReplica(t)
			if r.Port() == c.Port() || r.DataDir() == c.DataDir() {
				t.Fatalf("replica shares port %d or data dir %s", r.Port(), r.DataDir())
			}
			rdb := r.URL(DBName(db))
			primary := connect(t, db)
			mustExec(t, primary, `INSERT INTO place VALUES (3, ST_SetSRID(ST_MakePoint(7, 54), 4326))`)
			if !waitFor(5*time.Second, func() bool { return placeIDs(t, rdb) == "1,2,3" }) {
				t.Errorf("replica has ids %q, want 1,2,3", placeIDs(t, rdb))
			}

			rconn := connect(t, rdb)
			_, err := rconn.Exec(context.Background(), `INSERT INTO place VALUES (99, ST_SetSRID(ST_MakePoint(0, 0), 4326))`)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
				t.Errorf("write on the replica: %v, want SQLSTATE 25006", err)
			}

			r.Freeze(t)
			requireStopped(t, r.Pid(), 5)
			if st, _ := readStat(c.Pid()); st.state == 'T' {
				t.Errorf("freezing the replica froze the primary")
			}
			r.Thaw(t)

			r.Stop(t)
			mustExec(t, primary, `INSERT INTO place VALUES (4, ST_SetSRID(ST_MakePoint(8, 55), 4326))`)
			r.Start(t)
			if !waitFor(5*time.Second, func() bool { return placeIDs(t, rdb) == "1,2,3,4" }) {
				t.Errorf("restarted replica has ids %q, want 1,2,3,4", placeIDs(t, rdb))
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %s failed; the later ones depend on it", s.name)
		}
	}
}

// TestClusterDiskFull fills the tmpfs tablespace: INSERT must fail with
// SQLSTATE 53100, the server must live on, and dropping the table must make
// room again.
func TestClusterDiskFull(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{DiskMB: 16})
	db := c.NewDatabase(t)
	conn := connect(t, db)
	ctx := context.Background()
	mustExec(t, conn, `CREATE TABLE fill (id serial PRIMARY KEY, pad text NOT NULL)`)
	var ts string
	if err := conn.QueryRow(ctx, `SELECT coalesce(tablespace, '') FROM pg_tables WHERE tablename = 'fill'`).Scan(&ts); err != nil || ts != DiskTablespace {
		t.Fatalf("table fill is in tablespace %q (%v), want %s", ts, err, DiskTablespace)
	}
	pid := c.Pid()

	var err error
	rounds := 0
	for ; rounds < 100 && err == nil; rounds++ { // ~1 MB a round, below the 2 kB at which TOAST compresses
		_, err = conn.Exec(ctx, `INSERT INTO fill (pad) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000) g`)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53100" || !strings.Contains(pgErr.Message, "could not extend file") {
		t.Fatalf("after %d rounds: %v, want SQLSTATE 53100 could not extend file", rounds, err)
	}
	t.Logf("after %d rounds: %s", rounds, pgErr.Message)
	if rounds < 10 {
		t.Errorf("disk full after only %d MB of rows", rounds)
	}

	// The same session still works: no backend crashed (a crash would have
	// reset them all), and a checkpoint can write the full table's pages.
	mustExec(t, conn, `CHECKPOINT`)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM fill`).Scan(&n); err != nil || n < 9000 {
		t.Errorf("count after disk full: %d, %v", n, err)
	}
	// TRUNCATE needs a page for the new, empty primary key's metapage, so
	// on a full disk it fails too; DROP TABLE frees the space at once.
	if _, err := conn.Exec(ctx, `TRUNCATE fill`); err != nil {
		if !errors.As(err, &pgErr) || pgErr.Code != "53100" {
			t.Errorf("TRUNCATE on a full disk: %v, want success or SQLSTATE 53100", err)
		}
	}
	mustExec(t, conn, `DELETE FROM fill`)
	mustExec(t, conn, `DROP TABLE fill`)
	mustExec(t, conn, `CREATE TABLE fill (id serial PRIMARY KEY, pad text NOT NULL)`)
	mustExec(t, conn, `INSERT INTO fill (pad) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000) g`)
	if c.Pid() != pid {
		t.Errorf("postmaster pid changed from %d to %d", pid, c.Pid())
	}
	if log := readFrom(c.LogPath(), 0); strings.Contains(log, "terminated by signal") || strings.Contains(log, "PANIC") {
		t.Errorf("the server crashed:\n%s", log)
	}
}

// TestClusterCleanupFrozen ends a test with its cluster frozen: the cleanup
// must still stop every process, unmount the tmpfs and remove the folder.
func TestClusterCleanupFrozen(t *testing.T) {
	t.Parallel()
	var procs []procInfo
	var root, disk string
	t.Run("frozen", func(t *testing.T) {
		opt := ClusterOptions{}
		if os.Geteuid() == 0 {
			opt.DiskMB = 8
		}
		c := StartCluster(t, opt)
		root, disk = c.root, c.disk
		procs = append(descendants(c.Pid()), procInfo{procID: c.pm.procID()})
		c.Freeze(t)
	})
	if root == "" {
		t.Fatal("no cluster was started")
	}
	if !waitFor(5*time.Second, func() bool {
		for _, p := range procs {
			if p.alive() {
				return false
			}
		}
		return true
	}) {
		t.Errorf("processes of the cluster survived its cleanup: %v", procs)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists: %v", root, err)
	}
	if disk != "" && isMounted(disk) {
		t.Errorf("%s is still mounted", disk)
		_ = unmount(disk)
	}
}

func (p *postmaster) procID() procID {
	st, _ := readStat(p.pid)
	return st.procID
}

// TestReapDir fakes the folder of a test binary that died with a frozen
// cluster: a "postmaster" (a shell whose command line names the data
// directory) with a child, a frozen process and, as root, a tmpfs.
func TestReapDir(t *testing.T) {
	root, err := os.MkdirTemp("", "pgtestreap-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	self, _ := readStat(os.Getpid())
	owner := fmt.Sprintf("%d %d %s\n", self.pid, self.start, pidNamespace())
	if err := os.WriteFile(filepath.Join(root, "owner"), []byte(owner), 0o644); err != nil {
		t.Fatal(err)
	}
	if reaped, err := reapDir(root); reaped || err != nil {
		t.Fatalf("reaped the folder of a live process: %v", err)
	}
	// The same pid with another start time: a dead owner whose pid was reused.
	owner = fmt.Sprintf("%d %d %s\n", self.pid, self.start+1, pidNamespace())
	if err := os.WriteFile(filepath.Join(root, "owner"), []byte(owner), 0o644); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(root, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	pm := exec.Command("sh", "-c", "sleep 60; :", data)
	frozen := exec.Command("sleep", "60")
	for _, cmd := range []*exec.Cmd{pm, frozen} {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	var child procInfo
	if !waitFor(5*time.Second, func() bool {
		d := descendants(pm.Process.Pid)
		if len(d) > 0 {
			child = d[0]
		}
		return len(d) > 0
	}) {
		t.Fatal("the fake postmaster has no child")
	}
	pmID := (&postmaster{pid: pm.Process.Pid}).procID()
	if err := os.WriteFile(filepath.Join(data, "postmaster.pid"), []byte(strconv.Itoa(pmID.pid)+"\n"+data+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fz, err := freezeTree(frozen.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "frozen"), fmt.Appendf(nil, "%d %d\n", fz[0].pid, fz[0].start), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(root, "disk")
	if os.Geteuid() == 0 {
		if err := os.Mkdir(disk, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := mountTmpfs(disk, 1, 0, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if isMounted(disk) {
				_ = unmount(disk)
			}
		})
	}

	reaped, err := reapDir(root)
	if !reaped || err != nil {
		t.Fatalf("reapDir = %v, %v; want reaped", reaped, err)
	}
	for name, p := range map[string]procID{"postmaster": pmID, "its child": child.procID, "frozen process": fz[0]} {
		if !waitFor(2*time.Second, func() bool { return !p.alive() }) {
			t.Errorf("the %s (pid %d) survived", name, p.pid)
		}
	}
	if isMounted(disk) {
		t.Errorf("%s is still mounted", disk)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists: %v", root, err)
	}
}

//go:build unix

package pgtest

// A Cluster is a PostgreSQL server that belongs to one test, for chaos tests
// that freeze, stop, crash, fill up or replicate it. It never touches the
// shared server on 127.0.0.1:5432.
//
// Layout of a cluster's folder (os.TempDir()/pgtest-NNN, owned by the
// postgres OS user when the test runs as root):
//
//	data/          the data directory, WAL included (pg_wal stays here, on the normal disk)
//	disk/          with DiskMB > 0: a tmpfs of that size, the location of tablespace pgtest_disk
//	postgres.log   the server's stderr: every log line, kept across restarts
//	.s.PGSQL.PORT  the unix socket (omitted when the folder's path is too long)
//	owner, frozen  bookkeeping for the reaper of leftovers from killed test runs
//
// How things work:
//   - The postmaster is started directly (postgres -D data -p PORT), as a child
//     of the test process, with the postgres OS user's credentials when the
//     test runs as root. Stop and Kill send it the signals pg_ctl would send
//     (SIGINT for "-m fast", SIGQUIT for "-m immediate") and wait for it to
//     exit. Being its parent means its exit is seen at once, and Linux's
//     parent-death signal kills it if the test binary dies (go test -timeout
//     panics skip cleanups); its backends then exit by themselves.
//   - Freeze sends SIGSTOP to the postmaster, waits until the kernel reports
//     it stopped (so it can fork no more), then stops every descendant found
//     in /proc (checkpointer, walwriter, backends, walsenders...), repeating
//     until no new one appears. PostgreSQL puts each child in its own session,
//     so signalling a process group would miss them.
//   - A tmpfs holds a tablespace, not the data directory: when it fills,
//     extending a table or index file fails with SQLSTATE 53100 ("could not
//     extend file ...: No space left on device"), the statement's transaction
//     aborts and the server keeps running. WAL and the catalogs stay on the
//     normal disk (PostgreSQL PANICs when it cannot write WAL).
//   - Cleanup (registered first thing) thaws, stops immediately (then
//     SIGKILLs whatever is left), unmounts the tmpfs and removes the folder.
//     If the test binary dies without cleanups (a go test -timeout panic,
//     often caused by a frozen server), a watchdog shell reading a pipe from
//     it sees EOF and kills the frozen processes, unmounts and removes the
//     folder; the parent-death signal kills a postmaster that was not
//     frozen. As a last resort StartCluster reaps folders whose owning test
//     process is gone.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// reapOnce runs reapStale once per test binary.
var reapOnce sync.Once

// DiskTablespace is the tablespace on the tmpfs of ClusterOptions.DiskMB.
const DiskTablespace = "pgtest_disk"

// Timeouts for the server to come up (crash recovery included) and go down.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	killTimeout  = 10 * time.Second
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// DiskMB > 0 mounts a tmpfs of that many MiB (root only; otherwise the
	// test is Unavailable) and creates tablespace DiskTablespace on it.
	// Databases made by NewDatabase store their tables and indexes there
	// (ALTER DATABASE ... SET default_tablespace), while WAL, catalogs and
	// the postgis extension's own tables stay on the normal disk, so filling
	// it gives SQLSTATE 53100 on INSERT rather than a crash. Once it is full,
	// TRUNCATE, VACUUM and CREATE TABLE fail with 53100 too (each needs a new
	// page: an index metapage, a visibility map); DELETE succeeds but frees
	// nothing; DROP TABLE frees the space at once. Replicas get a tmpfs of
	// the same size for their copy of the tablespace.
	DiskMB int

	// Settings are extra postgresql.conf lines, applied after pgtest's fast
	// test defaults (fsync=off, synchronous_commit=off, ...) and so overriding
	// them. The port, listen_addresses and unix_socket_directories are set on
	// the command line and cannot be changed here.
	Settings map[string]string
}

// Cluster is a PostgreSQL server owned by one test. Its methods take the
// test's tb and fail it, with the tail of the server log, when something goes
// wrong; call them from the test's goroutine, except Thaw, which reports
// with tb.Errorf and may be called from any goroutine.
type Cluster struct {
	bin     string              // PostgreSQL's bindir
	root    string              // the cluster's folder
	data    string              // data directory
	logPath string              // server log
	sock    string              // unix socket directory, "" for TCP only
	disk    string              // tmpfs mount point, "" without DiskMB
	cred    *syscall.Credential // nil: run as the current user
	opt     ClusterOptions
	replica bool
	guard   *watchdog

	mu     sync.Mutex
	port   int
	pm     *postmaster // nil while stopped
	frozen []procID    // processes stopped by Freeze
}

// postmaster is one run of the server process.
type postmaster struct {
	pid  int
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, set before done is closed
}

func (p *postmaster) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// StartCluster initdb's a new cluster in a temporary folder, starts it on a
// free 127.0.0.1 port and registers its cleanup (thaw, stop immediately,
// unmount, remove). Without PostgreSQL binaries, a postgres OS user (when
// root) or Linux, the test is Unavailable.
func StartCluster(tb testing.TB, opt ClusterOptions) *Cluster {
	tb.Helper()
	c := newCluster(tb, opt, false)
	initdb := []string{"-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"}
	if err := c.run(startTimeout, "initdb", initdb...); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if err := c.writeFile(filepath.Join(c.data, "pg_hba.conf"), hbaConf); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	conf, err := os.ReadFile(filepath.Join(c.data, "postgresql.conf"))
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	extra, err := settingsConf(opt.Settings)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	conf = append(conf, baseConf+extra...)
	if err := c.writeFile(filepath.Join(c.data, "postgresql.conf"), string(conf)); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	c.startFirst(tb)
	if c.disk != "" {
		c.exec(tb, "postgres", "CREATE TABLESPACE "+DiskTablespace+" LOCATION "+quoteLiteral(c.disk))
	}
	return c
}

// StartReplica makes a hot standby of c: pg_basebackup -R (WAL streamed, no
// replication slot; the primary keeps wal_keep_size=256MB for it) into a new
// folder, started on a new free port, with its own cleanup. Freeze, Stop,
// Kill and Start work on it as on a primary. Create tablespaces only before
// StartReplica: one created later would be replayed into the primary's
// folder. c must be a running primary.
func (c *Cluster) StartReplica(tb testing.TB) *Cluster {
	tb.Helper()
	c.mu.Lock()
	running, port := c.pm != nil, c.port
	c.mu.Unlock()
	if c.replica {
		tb.Fatalf("pgtest: StartReplica of a replica (cascading) is not supported")
	}
	if !running {
		tb.Fatalf("pgtest: StartReplica: the primary is not running")
	}
	r := newCluster(tb, c.opt, true)
	args := []string{"-D", r.data, "-R", "-X", "stream", "-c", "fast", "--no-sync",
		"-d", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres", port)}
	if c.disk != "" {
		args = append(args, "-T", c.disk+"="+r.disk)
	}
	if err := r.run(startTimeout, "pg_basebackup", args...); err != nil {
		c.fatalf(tb, "start replica: %v", err)
	}
	r.startFirst(tb)
	return r
}

// URL returns the URL of database db as the superuser postgres.
func (c *Cluster) URL(db string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, url.PathEscape(db))
}

// DBName returns the database name in a PostgreSQL URL, such as one from
// NewDatabase, to reach the same database on a replica: r.URL(DBName(u)).
func DBName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// NewDatabase creates a database with the postgis extension and returns its
// URL. With DiskMB its tables default to DiskTablespace. The database lives
// as long as the cluster. c must be a running primary.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	if c.replica {
		tb.Fatalf("pgtest: NewDatabase on a replica; create it on the primary")
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "zoneplan_test_" + hex.EncodeToString(suffix[:])
	c.exec(tb, "postgres", "CREATE DATABASE "+name)
	var avail bool
	c.query(tb, "postgres", `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')`, &avail)
	if !avail {
		Unavailable(tb, "PostGIS is not installed for the PostgreSQL in %s", c.bin)
	}
	c.exec(tb, name, "CREATE EXTENSION postgis")
	if c.disk != "" {
		c.exec(tb, name, "ALTER DATABASE "+name+" SET default_tablespace = "+DiskTablespace)
	}
	return c.URL(name)
}

// Port returns the TCP port; it does not change across Stop and Start.
func (c *Cluster) Port() int { c.mu.Lock(); defer c.mu.Unlock(); return c.port }

// DataDir returns the data directory.
func (c *Cluster) DataDir() string { return c.data }

// LogPath returns the server log, which accumulates across restarts.
func (c *Cluster) LogPath() string { return c.logPath }

// Pid returns the postmaster's pid, or 0 while the cluster is stopped.
func (c *Cluster) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil {
		return 0
	}
	return c.pm.pid
}

// Freeze stops the postmaster and all its descendants with SIGSTOP, as a
// stalled disk or a paused VM would: connections are still accepted by the
// kernel but nothing answers. It returns once all of them are stopped.
func (c *Cluster) Freeze(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil || c.pm.exited() {
		tb.Fatalf("pgtest: Freeze: the cluster is not running")
	}
	if c.frozen != nil {
		tb.Fatalf("pgtest: Freeze: already frozen")
	}
	frozen, err := freezeTree(c.pm.pid)
	c.frozen = frozen
	if werr := c.writeFrozen(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		c.thawLocked()
		tb.Fatalf("pgtest: Freeze: %v", err)
	}
}

// Thaw resumes the processes stopped by Freeze (SIGCONT). It does nothing
// when the cluster is not frozen, and may be called from any goroutine.
func (c *Cluster) Thaw(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.thawLocked(); err != nil {
		tb.Errorf("pgtest: Thaw: %v", err)
	}
}

// Stop shuts the server down like pg_ctl stop -m fast (SIGINT: roll back
// sessions, checkpoint) and waits until it has exited. A frozen cluster is
// thawed first.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	c.shutdownOrFail(tb, syscall.SIGINT, stopTimeout, "Stop")
}

// Kill shuts the server down like pg_ctl stop -m immediate (SIGQUIT: no
// checkpoint, crash recovery on the next Start) and waits until it has
// exited. A frozen cluster is thawed first. With the default
// synchronous_commit=off, commits of the last ~200 ms (wal_writer_delay) may
// be lost, as in a real crash; set synchronous_commit=on (in Settings or the
// session) where a test asserts durability.
func (c *Cluster) Kill(tb testing.TB) {
	tb.Helper()
	c.shutdownOrFail(tb, syscall.SIGQUIT, killTimeout, "Kill")
}

// Start starts the stopped server again on the same port and data directory
// and waits until it accepts connections (a replica: until it is consistent
// and accepts read-only ones).
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm != nil {
		tb.Fatalf("pgtest: Start: already running (pid %d)", c.pm.pid)
	}
	if err := c.startLocked(false); err != nil {
		c.fatalf(tb, "Start: %v", err)
	}
}

// newCluster makes the folder, registers the cleanup and mounts the tmpfs.
func newCluster(tb testing.TB, opt ClusterOptions, replica bool) *Cluster {
	tb.Helper()
	if err := platformSupported(); err != nil {
		Unavailable(tb, "a pgtest cluster: %v", err)
	}
	bin, err := binDir()
	if err != nil {
		Unavailable(tb, "PostgreSQL server binaries: %v", err)
	}
	c := &Cluster{bin: bin, opt: opt, replica: replica}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(tb, "the postgres OS user, to run PostgreSQL as root: %v", err)
		}
		c.cred, err = credential(u)
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
	}
	if opt.DiskMB > 0 && os.Geteuid() != 0 {
		Unavailable(tb, "root, to mount a tmpfs for DiskMB=%d", opt.DiskMB)
	}
	reapOnce.Do(func() { reapStale(tb) })

	tmp := os.TempDir()
	if c.cred != nil {
		if err := checkTraversable(tmp); err != nil {
			tb.Fatalf("pgtest: the postgres user cannot reach %s (set TMPDIR): %v", tmp, err)
		}
	}
	c.root, err = os.MkdirTemp(tmp, "pgtest-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { c.destroy(tb) })
	if err := writeOwner(c.root); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if c.guard, err = startWatchdog(c.root); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if err := c.chown(c.root); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	c.data = filepath.Join(c.root, "data")
	c.logPath = filepath.Join(c.root, "postgres.log")
	// The socket's path, ".s.PGSQL.NNNNN" included, must fit in 107 bytes.
	if len(c.root) < 80 && !strings.ContainsAny(c.root, ` ,"\'\\`) {
		c.sock = c.root
	}
	if opt.DiskMB > 0 {
		c.disk = filepath.Join(c.root, "disk")
		if err := os.Mkdir(c.disk, 0o700); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		uid, gid := os.Getuid(), os.Getgid()
		if c.cred != nil {
			uid, gid = int(c.cred.Uid), int(c.cred.Gid)
		}
		if err := mountTmpfs(c.disk, opt.DiskMB, uid, gid); err != nil {
			Unavailable(tb, "a tmpfs mount for DiskMB (needs root with CAP_SYS_ADMIN): %v", err)
		}
	}
	return c
}

// startFirst starts a new cluster on a free port, trying other ports while
// the chosen one turns out to be taken.
func (c *Cluster) startFirst(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.startLocked(true); err != nil {
		c.fatalf(tb, "start: %v", err)
	}
}

func (c *Cluster) startLocked(newPort bool) error {
	for attempt := 1; ; attempt++ {
		if newPort {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
		}
		logStart := fileSize(c.logPath)
		pm, err := c.spawn()
		if err != nil {
			return err
		}
		err = c.waitReady(pm)
		if err == nil {
			c.pm = pm
			return nil
		}
		if !pm.exited() {
			c.pm = pm
			_ = c.shutdownLocked(syscall.SIGQUIT, killTimeout)
		}
		if newPort && attempt < 5 && strings.Contains(readFrom(c.logPath, logStart), "already in use") {
			continue
		}
		return err
	}
}

// spawn starts the postmaster as a child of a locked OS thread that waits
// for it: the parent-death signal fires when that thread ends, so the thread
// must live as long as the postmaster.
func (c *Cluster) spawn() (*postmaster, error) {
	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.data, "-p", strconv.Itoa(c.port),
		"-c", "unix_socket_directories="+c.sock)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env, cmd.Dir = c.env(), c.root
	cmd.SysProcAttr = sysProcAttr(c.cred, true)
	pm := &postmaster{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		logf.Close()
		if err != nil {
			started <- err
			return
		}
		pm.pid = cmd.Process.Pid
		started <- nil
		pm.err = cmd.Wait()
		close(pm.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("run postgres: %w", err)
	}
	return pm, nil
}

// waitReady polls until the server answers a query, it exits, or
// startTimeout passes.
func (c *Cluster) waitReady(pm *postmaster) error {
	deadline := time.Now().Add(startTimeout)
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.port)
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(context.Background())
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres (pid %d) accepts no connection after %v: %v", pm.pid, startTimeout, last)
		}
		select {
		case <-pm.done:
			return fmt.Errorf("postgres exited (%v) before accepting connections", pm.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) shutdownOrFail(tb testing.TB, sig syscall.Signal, timeout time.Duration, what string) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil {
		tb.Fatalf("pgtest: %s: the cluster is not running", what)
	}
	if c.pm.exited() {
		err := c.pm.err
		c.pm = nil
		c.fatalf(tb, "%s: postgres had already exited by itself (%v)", what, err)
	}
	if err := c.shutdownLocked(sig, timeout); err != nil {
		c.fatalf(tb, "%s: %v", what, err)
	}
}

// shutdownLocked thaws, signals the postmaster and waits for it to exit;
// after timeout it SIGKILLs it and all its descendants.
func (c *Cluster) shutdownLocked(sig syscall.Signal, timeout time.Duration) error {
	pm := c.pm
	if pm == nil {
		return nil
	}
	thawErr := c.thawLocked()
	c.pm = nil
	if pm.exited() {
		return thawErr
	}
	_ = syscall.Kill(pm.pid, sig)
	select {
	case <-pm.done:
		return thawErr
	case <-time.After(timeout):
	}
	for _, p := range descendants(pm.pid) {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(pm.pid, syscall.SIGKILL)
	select {
	case <-pm.done:
	case <-time.After(killTimeout):
		return fmt.Errorf("postgres (pid %d) survived SIGKILL", pm.pid)
	}
	return fmt.Errorf("postgres did not exit within %v of %v; killed it", timeout, sig)
}

// thawLocked resumes the frozen processes and, in case something was missed,
// all current descendants of the postmaster.
func (c *Cluster) thawLocked() error {
	if c.frozen == nil {
		return nil
	}
	for _, p := range c.frozen {
		if p.alive() {
			_ = syscall.Kill(p.pid, syscall.SIGCONT)
		}
	}
	if c.pm != nil {
		for _, p := range descendants(c.pm.pid) {
			_ = syscall.Kill(p.pid, syscall.SIGCONT)
		}
	}
	c.frozen = nil
	if err := os.Remove(filepath.Join(c.root, "frozen")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (c *Cluster) writeFrozen() error {
	var b strings.Builder
	for _, p := range c.frozen {
		fmt.Fprintf(&b, "%d %d\n", p.pid, p.start)
	}
	return os.WriteFile(filepath.Join(c.root, "frozen"), []byte(b.String()), 0o644)
}

// destroy is the cleanup: thaw, stop immediately, unmount, remove.
func (c *Cluster) destroy(tb testing.TB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.guard.stop()
	if err := c.shutdownLocked(syscall.SIGQUIT, killTimeout); err != nil {
		tb.Errorf("pgtest: cleanup of %s: %v\n%s", c.root, err, c.logTail())
	}
	if c.disk != "" && isMounted(c.disk) {
		if err := unmount(c.disk); err != nil {
			tb.Errorf("pgtest: cleanup: unmount %s: %v", c.disk, err)
			return // do not delete through a mount we could not remove
		}
	}
	if err := os.RemoveAll(c.root); err != nil {
		tb.Errorf("pgtest: cleanup: %v", err)
	}
}

// watchdogScript runs when the test process dies without its cleanups (its
// end of our stdin closes): it kills the frozen processes, which would
// otherwise stay stopped forever (the postmaster itself dies of its
// parent-death signal), then unmounts the tmpfs and removes the folder.
const watchdogScript = `read _
for p in $(cut -d' ' -f1 "$1/frozen" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
umount -l "$1/disk" 2>/dev/null
rm -rf "$1"
`

// watchdog is a shell that cleans up a cluster after the test process dies.
type watchdog struct {
	cmd *exec.Cmd
	w   *os.File // never written; closed by the kernel when we die
}

func startWatchdog(root string) (*watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog", root)
	cmd.Stdin = r
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = sysProcAttr(nil, false) // own process group: a ^C to ours spares it
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start the watchdog: %w", err)
	}
	return &watchdog{cmd: cmd, w: w}, nil
}

// stop ends the watchdog without letting it act.
func (g *watchdog) stop() {
	if g == nil {
		return
	}
	_ = g.cmd.Process.Kill()
	_ = g.cmd.Wait()
	g.w.Close()
}

// fatalf fails the test with the tail of the server log.
func (c *Cluster) fatalf(tb testing.TB, format string, args ...any) {
	tb.Helper()
	tb.Fatalf("pgtest: "+format+"\n%s", append(args, c.logTail())...)
}

// logTail returns the last lines of the server log, labelled.
func (c *Cluster) logTail() string {
	const max = 6000
	s := readFrom(c.logPath, fileSize(c.logPath)-max)
	if len(s) >= max {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return fmt.Sprintf("--- tail of %s ---\n%s--- end of log ---", c.logPath, s)
}

// exec runs one statement in database db, failing the test on error.
func (c *Cluster) exec(tb testing.TB, db, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		c.fatalf(tb, "connect to %s: %v", db, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		c.fatalf(tb, "%s: %v", sql, err)
	}
}

func (c *Cluster) query(tb testing.TB, db, sql string, dest ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		c.fatalf(tb, "connect to %s: %v", db, err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		c.fatalf(tb, "%s: %v", sql, err)
	}
}

// run runs a PostgreSQL client program as the server's OS user.
func (c *Cluster) run(timeout time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Env, cmd.Dir = c.env(), c.root
	cmd.SysProcAttr = sysProcAttr(c.cred, false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// env is a clean environment: no PG* variables of the test run leak in.
func (c *Cluster) env() []string {
	return []string{"PATH=" + c.bin + ":/usr/bin:/bin", "HOME=" + c.root, "LANG=C", "LC_ALL=C"}
}

// writeFile writes a file readable by the server's OS user.
func (c *Cluster) writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	return c.chown(path)
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

const hbaConf = `# pgtest: trust on the loopback and the socket, replication included
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
`

const baseConf = `
# pgtest: fast, disposable test settings
listen_addresses = '127.0.0.1'
max_connections = 100
shared_buffers = '32MB'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
`

var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// settingsConf renders Settings as postgresql.conf lines, sorted by name.
func settingsConf(settings map[string]string) (string, error) {
	names := make([]string, 0, len(settings))
	for k := range settings {
		if !settingName.MatchString(k) {
			return "", fmt.Errorf("invalid setting name %q", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	if len(names) > 0 {
		b.WriteString("# pgtest: ClusterOptions.Settings\n")
	}
	for _, k := range names {
		fmt.Fprintf(&b, "%s = %s\n", k, quoteLiteral(settings[k]))
	}
	return b.String(), nil
}

// quoteLiteral quotes s as an SQL or postgresql.conf string.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}

// binDir finds the directory of initdb and postgres: $ZONEPLAN_PG_BINDIR,
// then `pg_config --bindir`, then the newest /usr/lib/postgresql/*/bin.
func binDir() (string, error) {
	var candidates []string
	if d := os.Getenv("ZONEPLAN_PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	candidates = append(candidates, dirs...)
	for _, d := range candidates {
		ok := true
		for _, name := range []string{"initdb", "postgres", "pg_basebackup"} {
			if fi, err := os.Stat(filepath.Join(d, name)); err != nil || fi.Mode()&0o111 == 0 {
				ok = false
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb, postgres and pg_basebackup in %v (set ZONEPLAN_PG_BINDIR)", candidates)
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func credential(u *user.User) (*syscall.Credential, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			cred.Groups = append(cred.Groups, uint32(g))
		}
	}
	return cred, nil
}

// checkTraversable checks that others may search dir and its parents.
func checkTraversable(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s has mode %v", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// freePort asks the kernel for a free loopback port. Another process may take
// it before postgres binds it; startLocked then retries.
func freePort() (int, error) {
	for range 10 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 5432 { // the shared server's, never ours
			return port, nil
		}
	}
	return 0, errors.New("no free port")
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the file's content from offset on.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if offset > 0 {
		if _, err := f.Seek(offset, 0); err != nil {
			return ""
		}
	}
	var b strings.Builder
	r := bufio.NewReader(f)
	_, _ = r.WriteTo(&b)
	return b.String()
}

package embedded

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The lock and crash tests re-run this test binary as a second process,
// selected by these variables.
const (
	helperModeEnv = "ZONEPLAN_EMBEDDED_HELPER"
	helperPathEnv = "ZONEPLAN_EMBEDDED_HELPER_DB"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperModeEnv); mode != "" {
		os.Exit(runHelper(mode, os.Getenv(helperPathEnv)))
	}
	os.Exit(m.Run())
}

// runHelper is the second process: "hold" opens the file and keeps it open
// until its stdin closes; "write" creates components one by one, printing
// "ok N" after each acknowledged create, until it is killed (or has made
// 20,000).
func runHelper(mode, path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	switch mode {
	case "hold":
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		s.Close()
		return 0
	case "write":
		// Bounded, in case the parent is gone without killing it.
		for i := 0; i < 20_000; i++ {
			c := storetest.NewComponent(zone.LayerBorderMarkers, fmt.Sprintf("Mốc %d", i), orb.Point{106 + float64(i%1000)/1000, 21.5})
			c.Code = fmt.Sprintf("K%05d", i)
			if _, err := s.CreateComponent(context.Background(), c, "writer"); err != nil {
				fmt.Println("error:", err)
				return 2
			}
			fmt.Printf("ok %d\n", i)
		}
		return 0
	}
	fmt.Println("unknown helper mode", mode)
	return 2
}

// startHelper starts the second process and returns it with its stdin and
// a reader of its output lines.
func startHelper(t *testing.T, mode, path string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the helper process: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, stdin, bufio.NewScanner(stdout)
}

// readLine returns the helper's next output line, failing after a generous
// wait rather than hanging the test run.
func readLine(t *testing.T, sc *bufio.Scanner) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		if sc.Scan() {
			line <- sc.Text()
		} else {
			line <- "<helper output ended>"
		}
	}()
	select {
	case l := <-line:
		return l
	case <-time.After(60 * time.Second):
		t.Fatal("the helper process printed nothing for 60s")
		return ""
	}
}

func TestOpenRefusesAtOnceWhileAnotherProcessHoldsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoneplan.db")
	cmd, stdin, out := startHelper(t, "hold", path)
	if l := readLine(t, out); l != "locked" {
		t.Fatalf("helper said %q, want locked", l)
	}

	type result struct {
		s   *Store
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		s, err := Open(path, Options{})
		done <- result{s, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Open hung while another process holds the file")
	}
	t.Logf("Open refused after %v", time.Since(start))
	if r.err == nil {
		r.s.Close()
		t.Fatal("Open succeeded while another process holds the file")
	}
	storetest.RequireCode(t, r.err, zone.CodeUnavailable, "Open of a file in use")
	msg := zone.ErrorMessage(r.err)
	for _, want := range []string{path, "in use by another zoneplan process", "ZONEPLAN_DB"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper exited with %v", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after the other process let go: %v", err)
	}
	defer s.Close()
	if s.Created() {
		t.Error("Created() is true for a file another process created")
	}
}

func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zoneplan.db")
	cmd, _, out := startHelper(t, "write", path)
	const acked = 100
	for i := 0; i < acked; i++ {
		if l, want := readLine(t, out), fmt.Sprintf("ok %d", i); l != want {
			t.Fatalf("helper said %q, want %q", l, want)
		}
	}
	// SIGKILL while the helper goes on writing: no chance to flush or close.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("file inconsistent after kill -9: %v", err)
	}
	codes := map[string]bool{}
	err = s.ListComponents(context.Background(), zone.Query{}, func(c *zone.Component) error {
		codes[c.Code] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < acked; i++ {
		if code := fmt.Sprintf("K%05d", i); !codes[code] {
			t.Errorf("acknowledged component %s lost after kill -9", code)
		}
	}
	v, err := s.DataVersion(context.Background())
	if err != nil || v < acked || int(v) != len(codes) {
		t.Errorf("after kill -9: data version %d (%v), %d components; want one change per stored component, at least %d", v, err, len(codes), acked)
	}
	t.Logf("%d components acknowledged, %d stored when killed", acked, len(codes))
}

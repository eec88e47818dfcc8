package embedded

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// bigComponent is a combat base whose outline has 2,000 vertices (about
// 32 KB of WKB), so that a few of them fill what room a disk has left.
func bigComponent(i int) *zone.Component {
	ring := make(orb.Ring, 0, 2001)
	cx, cy := 104+float64(i%50)*0.01, 21+float64(i/50)*0.01
	for k := range 2000 {
		a := 2 * math.Pi * float64(k) / 2000
		r := 0.003 * (1 + 0.1*math.Sin(7*a))
		ring = append(ring, orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	return storetest.NewComponent(zone.LayerCombatBases, fmt.Sprintf("Căn cứ %d", i), orb.Polygon{ring})
}

// TestDiskFull: on a full disk a write fails with CodeStorageFull and
// stores nothing, what was stored stays readable (and intact in the file),
// Ping reports the store full until the disk has room, and writes work
// again then without reopening.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	dir := pgtest.SmallDisk(t, 8)
	path := filepath.Join(dir, "z.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	filler := pgtest.FillDisk(t, dir, 512<<10)

	var stored []*zone.Component
	var full error
	for i := range 200 {
		c, err := s.CreateComponent(ctx, bigComponent(i), "test")
		if err != nil {
			full = err
			break
		}
		stored = append(stored, c)
	}
	if full == nil {
		t.Fatalf("200 large components fitted in 512 KB of disk")
	}
	storetest.RequireCode(t, full, zone.CodeStorageFull, "a write on a full disk")
	t.Logf("%d components stored before the disk was full: %v", len(stored), full)
	storetest.RequireCode(t, s.Ping(ctx), zone.CodeStorageFull, "Ping on a full disk")

	// Nothing stored is lost, and the failed write left nothing behind.
	for _, c := range stored {
		if _, err := s.GetComponent(ctx, c.ID, zone.Secret); err != nil {
			t.Fatalf("component stored before the disk filled: %v", err)
		}
	}
	if n, err := s.CountComponents(ctx, zone.Query{Clearance: zone.Secret}); err != nil || n != len(stored) {
		t.Fatalf("CountComponents = %d, %v; want %d", n, err, len(stored))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once the disk has room: %v", err)
	}
	again, err := s.CreateComponent(ctx, bigComponent(999), "test")
	if err != nil {
		t.Fatalf("a write once the disk has room: %v", err)
	}
	stored = append(stored, again)

	// The file is whole: reopened, every component is there and bbolt's
	// consistency check passes.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountComponents(ctx, zone.Query{Clearance: zone.Secret}); err != nil || n != len(stored) {
		t.Fatalf("after reopening, CountComponents = %d, %v; want %d", n, err, len(stored))
	}
	for _, c := range stored {
		got, err := s.GetComponent(ctx, c.ID, zone.Secret)
		if err != nil || got.Name != c.Name {
			t.Fatalf("after reopening, component %s: %v", c.Name, err)
		}
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt consistency check: %v", err)
	}
}

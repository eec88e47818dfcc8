package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
)

// positionSighting is what a caller can make of the Zoneplan-Position
// values it is given.
type positionSighting struct {
	Statuses []int
	Lengths  []int
	// Readable: every value reads as a log position (an LSN); Delta is
	// then the second minus the first: the WAL others wrote in between.
	Readable bool
	Delta    int64
	// Distinct: the two values differ.
	Distinct bool
	// Decoded: the base64url-decoded lengths (-1: not base64url).
	Decoded []int
}

// sightPositions runs one world: a write instance on a database of its
// own, a public-clearance appraiser making two appraisals, and between
// them, when hidden, an editor with secret clearance storing a large
// secret combat base. It returns what the appraiser can see of the two
// answers' positions.
func sightPositions(t *testing.T, hidden bool) positionSighting {
	t.Helper()
	writer := startServer(t, map[string]string{"DATABASE_URL": pgtest.New(t)},
		"--appraisal-rate", "0", "--appraisal-daily", "0")
	if writer.Admin == "" {
		t.Fatalf("no admin token printed:\n%s", writer.Stderr.String())
	}
	token := func(name, role, clearance string) string {
		a := call(t, http.MethodPost, writer.URL+"/api/tokens", writer.Admin,
			[]byte(fmt.Sprintf(`{"name":%q,"role":%q,"clearance":%q}`, name, role, clearance)))
		var tok struct {
			Token string `json:"token"`
		}
		if a.status != http.StatusCreated || json.Unmarshal(a.body, &tok) != nil {
			t.Fatalf("create token %s: %d %s", name, a.status, a.body)
		}
		return tok.Token
	}
	appraiser, editor := token("Thẩm định viên", "appraiser", "public"), token("Biên tập viên mật", "editor", "secret")
	appraise := func(name string) answer {
		return call(t, http.MethodPost, writer.URL+"/api/appraisals", appraiser,
			[]byte(fmt.Sprintf(`{"name":%q,"footprint":{"type":"Point","coordinates":[105.8,21.0]}}`, name)))
	}
	first := appraise("Nhà máy một")
	if hidden {
		// A secret polygon of 2,000 vertices: tens of kilobytes of WAL.
		var ring strings.Builder
		for i := range 2000 {
			a := 2 * math.Pi * float64(i) / 2000
			fmt.Fprintf(&ring, "[%f,%f],", 106.0+0.05*math.Cos(a), 21.5+0.05*math.Sin(a))
		}
		f := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[%s[106.05,21.5]]]},"properties":{"name":"Căn cứ mật","classification":"secret"}}`, ring.String())
		if a := call(t, http.MethodPost, writer.URL+"/ogc/collections/combat_bases/items", editor, []byte(f)); a.status != http.StatusCreated {
			t.Fatalf("the hidden secret edit: %d %.300s", a.status, a.body)
		}
	}
	second := appraise("Nhà máy hai")
	var s positionSighting
	values := []string{first.header.Get(httpapi.PositionHeader), second.header.Get(httpapi.PositionHeader)}
	s.Readable = true
	var lsn [2]postgis.Position
	for i, a := range []answer{first, second} {
		s.Statuses = append(s.Statuses, a.status)
		s.Lengths = append(s.Lengths, len(values[i]))
		raw, err := base64.RawURLEncoding.DecodeString(values[i])
		if err != nil {
			s.Decoded = append(s.Decoded, -1)
		} else {
			s.Decoded = append(s.Decoded, len(raw))
		}
		p, err := postgis.ParsePosition(values[i])
		s.Readable = s.Readable && err == nil
		lsn[i] = p
	}
	if s.Readable {
		s.Delta = int64(lsn[1] - lsn[0])
	}
	s.Distinct = values[0] != values[1]
	return s
}

// TestPositionRevealsNothingOfOthersWrites: a low-clearance appraiser's two
// writes give it the same sight of their Zoneplan-Position values whether
// or not someone stored a secret edit in between: values of one length,
// not log positions, that it cannot subtract. (A raw LSN gave the WAL
// bytes written in between, secret edits included.)
func TestPositionRevealsNothingOfOthersWrites(t *testing.T) {
	without, with := sightPositions(t, false), sightPositions(t, true)
	if fmt.Sprint(without) != fmt.Sprint(with) {
		t.Fatalf("the appraiser sees its positions differently with a hidden secret edit between its writes:\nwithout: %+v\nwith:    %+v", without, with)
	}
	if without.Statuses[0] != http.StatusCreated || without.Statuses[1] != http.StatusCreated {
		t.Fatalf("appraisals: %v, want 201 201", without.Statuses)
	}
	if without.Readable || without.Lengths[0] == 0 || !without.Distinct {
		t.Fatalf("positions: %+v, want present, distinct and not log positions", without)
	}
}

package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// tableRow is one boundary point as read.
type tableRow struct {
	line   int // 1-based line in the file
	number string
	x, y   float64 // X northing, Y easting, metres
}

// decodeTable reads a boundary-point table — point number, X, Y — in the
// projected CRS opt.CRS (a VN-2000 zone), X being the northing and Y the
// easting as Vietnamese surveys write them, and closes the points into one
// polygon in the given order. It takes CSV (comma, semicolon or tab) or text
// pasted from a survey (columns separated by spaces); an optional header
// row may name the X and Y columns ("X", "X (m)", "Tọa độ X", "Northing",
// "Easting"); without one, three or more columns are number, X, Y (further
// columns, e.g. edge lengths, ignored) and two are X, Y. Decimal commas
// ("2417143,85") are read when the column separator is not a comma. A last
// row repeating the first point is dropped (the ring is closed anyway).
func decodeTable(name string, data []byte, opt Options) (*Result, error) {
	c := opt.CRS
	if c == nil {
		return nil, fileError(name, "a boundary-point table needs its CRS: choose the VN-2000 zone it was surveyed in (e.g. EPSG:9215 for Lang Son, or VN2000:TM3:<central meridian>)")
	}
	if c.Kind != crs.Projected {
		return nil, fileError(name, "a boundary-point table holds X (northing) and Y (easting) in metres; %s is geographic: choose the VN-2000 zone", c.Code)
	}
	text := string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	delim := tableDelimiter(text)
	records, lines, err := splitTable(text, delim)
	if err != nil {
		return nil, fileError(name, "%v", err)
	}
	if len(records) == 0 {
		return nil, fileError(name, "empty table: expected rows of point number, X, Y")
	}
	numCol, xCol, yCol := -1, -1, -1
	first := 0
	if isHeader(records[0], delim) {
		numCol, xCol, yCol = headerColumns(records[0])
		_, numErr := parseNumber(records[0][0], delim)
		if xCol >= 0 && yCol >= 0 || numErr != nil {
			first = 1
		} else {
			numCol, xCol, yCol = -1, -1, -1 // a data row whose coordinates are bad: report it below
		}
	}
	p := &problems{file: name}
	var rows []tableRow
	for i := first; i < len(records); i++ {
		rec, line := records[i], lines[i]
		where := fmt.Sprintf("row %d", line)
		nc, xc, yc := numCol, xCol, yCol
		if xc < 0 || yc < 0 {
			switch {
			case len(rec) >= 3:
				nc, xc, yc = 0, 1, 2
			case len(rec) == 2:
				nc, xc, yc = -1, 0, 1
			default:
				p.add(line-1, where, "has %d column, expected point number, X (northing), Y (easting)", len(rec))
				continue
			}
		}
		if xc >= len(rec) || yc >= len(rec) {
			p.add(line-1, where, "has %d columns; X and Y are columns %d and %d", len(rec), xc+1, yc+1)
			continue
		}
		x, errX := parseNumber(rec[xc], delim)
		y, errY := parseNumber(rec[yc], delim)
		if errX != nil {
			p.add(line-1, where, "X %q is not a number", rec[xc])
		}
		if errY != nil {
			p.add(line-1, where, "Y %q is not a number", rec[yc])
		}
		if errX != nil || errY != nil {
			continue
		}
		num := strconv.Itoa(len(rows) + 1)
		if nc >= 0 && nc < len(rec) && strings.TrimSpace(rec[nc]) != "" {
			num = strings.TrimSpace(rec[nc])
		}
		// The zone's valid extent catches the classic mistake of X and Y
		// written as easting, northing.
		if reason := c.Plausible(orb.Point{y, x}); reason != "" {
			if c.Plausible(orb.Point{x, y}) == "" {
				p.add(line-1, where, "point %s: X %s, Y %s: X and Y look swapped: X is the northing (about %s in %s) and Y the easting (about %s), as Vietnamese surveys write them",
					num, ftoa(x), ftoa(y), ftoa(round(typicalNorthing(c), 10000)), c.Code, ftoa(round(typicalEasting(c), 10000)))
			} else {
				p.add(line-1, where, "point %s: X %s, Y %s (northing, easting): %s", num, ftoa(x), ftoa(y), reason)
			}
			continue
		}
		rows = append(rows, tableRow{line: line, number: num, x: x, y: y})
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if len(rows) > 1 && rows[0].x == rows[len(rows)-1].x && rows[0].y == rows[len(rows)-1].y {
		rows = rows[:len(rows)-1]
	}
	if len(rows) < 3 {
		return nil, fileError(name, "a boundary needs at least 3 points, the table has %d", len(rows))
	}
	ring := make(orb.Ring, 0, len(rows)+1)
	numbers := make([]any, len(rows))
	for i, r := range rows {
		ring = append(ring, orb.Point{r.y, r.x})
		numbers[i] = r.number
	}
	ring = closeRing(ring)
	f := geojson.NewFeature(orb.Polygon{ring})
	f.Properties["point_numbers"] = numbers
	if !finish(p, 0, fmt.Sprintf("boundary of rows %d-%d", rows[0].line, rows[len(rows)-1].line), f, c) {
		return nil, p.err()
	}
	fc := geojson.NewFeatureCollection()
	fc.Append(f)
	return &Result{CRS: c, Features: fc}, nil
}

// typicalNorthing and typicalEasting are the centre of c's area of use in
// c's coordinates, to show what a right X and Y look like.
func typicalNorthing(c *crs.CRS) float64 {
	p, _ := c.FromWGS84(c.Bounds.Center())
	return p[1]
}

func typicalEasting(c *crs.CRS) float64 {
	p, _ := c.FromWGS84(c.Bounds.Center())
	return p[0]
}

func round(v, to float64) float64 { return float64(int64(v/to+0.5)) * to }

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// tableDelimiter picks the column separator from the last non-empty line
// (data rows outnumber the header): tab, semicolon, comma when splitting on
// it gives at least two numbers, else runs of white space (0).
func tableDelimiter(text string) rune {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	switch {
	case strings.Contains(last, "\t"):
		return '\t'
	case strings.Contains(last, ";"):
		return ';'
	case strings.Contains(last, ","):
		numeric := 0
		for _, cell := range strings.Split(last, ",") {
			if _, err := strconv.ParseFloat(strings.TrimSpace(cell), 64); err == nil {
				numeric++
			}
		}
		if numeric >= 2 {
			return ','
		}
	}
	return 0
}

// splitTable splits the text into records of cells with their 1-based line
// numbers, skipping blank lines.
func splitTable(text string, delim rune) ([][]string, []int, error) {
	var recs [][]string
	var lines []int
	if delim == 0 {
		for i, l := range strings.Split(text, "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				recs = append(recs, f)
				lines = append(lines, i+1)
			}
		}
		return recs, lines, nil
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := r.FieldPos(0)
		blank := true
		for _, c := range rec {
			if strings.TrimSpace(c) != "" {
				blank = false
			}
		}
		if !blank {
			recs = append(recs, rec)
			lines = append(lines, line)
		}
	}
	return recs, lines, nil
}

// isHeader: the first record is a header when no cell after the first is
// a number.
func isHeader(rec []string, delim rune) bool {
	for _, c := range rec[min(1, len(rec)-1):] {
		if _, err := parseNumber(c, delim); err == nil {
			return false
		}
	}
	return true
}

// headerColumns finds the number, X and Y columns by name; -1 when absent.
func headerColumns(rec []string) (num, x, y int) {
	num, x, y = -1, -1, -1
	for i, cell := range rec {
		s := squash(cell)
		s = strings.TrimSuffix(s, "m") // "X (m)"
		switch {
		case s == "x" || strings.HasSuffix(s, "độx") || strings.HasSuffix(s, "dox") || s == "northing" || s == "n":
			x = i
		case s == "y" || strings.HasSuffix(s, "độy") || strings.HasSuffix(s, "doy") || s == "easting" || s == "e":
			y = i
		case num < 0:
			num = i
		}
	}
	return num, x, y
}

// parseNumber reads a coordinate: "2417143.85", or with a decimal comma
// "2417143,85" when the column separator is not a comma; spaces and
// thousands separators ("2.417.143,85", "2,417,143.85", "2 417 143,85")
// are dropped.
func parseNumber(s string, delim rune) (float64, error) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	if delim != ',' && strings.Contains(s, ",") {
		dot, comma := strings.LastIndex(s, "."), strings.LastIndex(s, ",")
		switch {
		case dot >= 0 && comma > dot: // 2.417.143,85
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		case dot >= 0: // 2,417,143.85
			s = strings.ReplaceAll(s, ",", "")
		case strings.Count(s, ",") == 1: // 2417143,85
			s = strings.Replace(s, ",", ".", 1)
		default: // 2,417,143
			s = strings.ReplaceAll(s, ",", "")
		}
	}
	if s == "" {
		return 0, errors.New("empty")
	}
	return strconv.ParseFloat(s, 64)
}

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
// Rows are read one at a time; a table with more rows than one boundary may
// have vertices (MaxFeatureVertices, or MaxVertices if lower) is refused at
// the first row past them.
func decodeTable(name string, data []byte, opt Options, bud *budget) (*Result, error) {
	c := opt.CRS
	if c == nil {
		return nil, fileError(name, "a boundary-point table needs its CRS: choose the VN-2000 zone it was surveyed in (e.g. EPSG:9215 for Lang Son, or VN2000:TM3:<central meridian>)")
	}
	if c.Kind != crs.Projected {
		return nil, fileError(name, "a boundary-point table holds X (northing) and Y (easting) in metres; %s is geographic: choose the VN-2000 zone", c.Code)
	}
	if err := bud.feature(name, "polygons"); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	delim := tableDelimiter(lastLine(data))
	next := tableRecords(data, delim)
	rec, line, err := next()
	if err != nil {
		return nil, fileError(name, "%v", err)
	}
	if rec == nil {
		return nil, fileError(name, "empty table: expected rows of point number, X, Y")
	}
	numCol, xCol, yCol := -1, -1, -1
	if isHeader(rec, delim) {
		numCol, xCol, yCol = headerColumns(rec)
		_, numErr := parseNumber(rec[0], delim)
		if xCol >= 0 && yCol >= 0 || numErr != nil {
			// The header is not a row.
			if rec, line, err = next(); err != nil {
				return nil, fileError(name, "%v", err)
			}
		} else {
			numCol, xCol, yCol = -1, -1, -1 // a data row whose coordinates are bad: report it below
		}
	}
	p := &problems{file: name}
	var rows []tableRow
	addRow := func(rec []string, line int) {
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
				return
			}
		}
		if xc >= len(rec) || yc >= len(rec) {
			p.add(line-1, where, "has %d columns; X and Y are columns %d and %d", len(rec), xc+1, yc+1)
			return
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
			return
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
			return
		}
		rows = append(rows, tableRow{line: line, number: num, x: x, y: y})
	}
	// Each row is a vertex of the boundary or a problem, so a table with
	// more rows than a feature may have vertices is refused either way:
	// stop at the first row past them.
	maxRows := min(bud.lim.MaxFeatureVertices, bud.lim.MaxVertices)
	for n := 1; rec != nil; n++ {
		if n > maxRows {
			return nil, limitError(name, -1, "", "more than %d rows: a boundary may have at most %d vertices (the limit per feature)", maxRows, maxRows)
		}
		addRow(rec, line)
		if rec, line, err = next(); err != nil {
			return nil, fileError(name, "%v", err)
		}
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
	if err := bud.featureVertices(name, 0, "", len(rows)+1); err != nil {
		return nil, err
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

// lastLine is the last non-empty line of a table, trimmed: CR LF, CR and
// LF all end a line.
func lastLine(data []byte) string {
	t := bytes.TrimSpace(data)
	return string(bytes.TrimSpace(t[bytes.LastIndexAny(t, "\r\n")+1:]))
}

// tableDelimiter picks the column separator from the last non-empty line
// (data rows outnumber the header): tab, semicolon, comma when splitting on
// it gives at least two numbers, else runs of white space (0).
func tableDelimiter(last string) rune {
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

// tableRecords returns a function giving the table's records one at a time
// with their 1-based line numbers, skipping blank lines; nil at the end.
// CR LF and a lone CR end a line as LF does.
func tableRecords(data []byte, delim rune) func() ([]string, int, error) {
	if delim == 0 {
		line, rest := 0, data
		return func() ([]string, int, error) {
			for len(rest) > 0 {
				line++
				var l []byte
				i := bytes.IndexAny(rest, "\r\n")
				switch {
				case i < 0:
					l, rest = rest, nil
				case rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n':
					l, rest = rest[:i], rest[i+2:]
				default:
					l, rest = rest[:i], rest[i+1:]
				}
				if f := strings.Fields(string(l)); len(f) > 0 {
					return f, line, nil
				}
			}
			return nil, 0, nil
		}
	}
	r := csv.NewReader(&lfReader{data: data})
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.TrimLeadingSpace = true
	return func() ([]string, int, error) {
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return nil, 0, nil
			}
			if err != nil {
				return nil, 0, err
			}
			line, _ := r.FieldPos(0)
			for _, c := range rec {
				if strings.TrimSpace(c) != "" {
					return rec, line, nil
				}
			}
		}
	}
}

// lfReader reads data with CR LF and lone CRs as LF.
type lfReader struct {
	data []byte
	i    int
}

func (r *lfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.i < len(r.data) {
		c := r.data[r.i]
		r.i++
		if c == '\r' {
			if r.i < len(r.data) && r.data[r.i] == '\n' {
				continue
			}
			c = '\n'
		}
		p[n] = c
		n++
	}
	if n == 0 && r.i >= len(r.data) {
		return 0, io.EOF
	}
	return n, nil
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

// numberSpaces are the thousands separators parseNumber drops; built once,
// as a Replacer costs about a kilobyte to build and a table has a row per
// vertex.
var numberSpaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// parseNumber reads a coordinate: "2417143.85", or with a decimal comma
// "2417143,85" when the column separator is not a comma; spaces and
// thousands separators ("2.417.143,85", "2,417,143.85", "2 417 143,85")
// are dropped.
func parseNumber(s string, delim rune) (float64, error) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))
	s = numberSpaces.Replace(s)
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

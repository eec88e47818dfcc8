package check

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/zoneplan/zoneplan/internal/rules"
)

// AppendJSON appends r as JSON, byte for byte what encoding/json writes for
// it without HTML escaping (TestResultJSONMatchesEncodingJSON), and
// returns the extended buffer. A dense check's answer is some forty
// findings: through encoding/json, by reflection and then a second scan
// of every overlap's own encoding, writing it cost a fifth of the check.
// A float that JSON cannot hold (NaN, an infinity; never made by the
// checker) is written as null.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"verdict":`...)
	b = appendJSONString(b, string(r.Verdict))
	b = append(b, `,"ruleset_version":`...)
	b = appendJSONString(b, r.RulesetVersion)
	if r.DataVersion != 0 {
		b = append(b, `,"data_version":`...)
		b = strconv.AppendInt(b, r.DataVersion, 10)
	}
	b = append(b, `,"data_view":`...)
	b = appendJSONString(b, r.DataView)
	b = append(b, `,"footprint":`...)
	b = r.Footprint.appendJSON(b)
	if r.TookMS != 0 {
		b = append(b, `,"took_ms":`...)
		b = appendJSONFloat(b, r.TookMS)
	}
	b = append(b, `,"findings":`...)
	b = appendFindings(b, r.Findings)
	if len(r.Features) > 0 {
		b = append(b, `,"features":[`...)
		for i := range r.Features {
			if i > 0 {
				b = append(b, ',')
			}
			f := &r.Features[i]
			b = append(b, `{"index":`...)
			b = strconv.AppendInt(b, int64(f.Index), 10)
			b = append(b, `,"verdict":`...)
			b = appendJSONString(b, string(f.Verdict))
			b = append(b, `,"footprint":`...)
			b = f.Footprint.appendJSON(b)
			b = append(b, `,"findings":`...)
			b = appendFindings(b, f.Findings)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// MarshalJSON is AppendJSON, for a Result inside other values (a stored
// appraisal's).
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

func (s FootprintStats) appendJSON(b []byte) []byte {
	b = append(b, `{"area_m2":`...)
	b = appendJSONFloat(b, s.AreaM2)
	b = append(b, `,"length_m":`...)
	b = appendJSONFloat(b, s.LengthM)
	return append(b, '}')
}

func appendFindings(b []byte, fs []Finding) []byte {
	if fs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = fs[i].appendJSON(b)
	}
	return append(b, ']')
}

func (f *Finding) appendJSON(b []byte) []byte {
	b = append(b, `{"verdict":`...)
	b = appendJSONString(b, string(f.Verdict))
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, f.Rule)
	b = append(b, `,"zone":`...)
	b = appendJSONString(b, string(f.Zone))
	b = append(b, `,"basis":`...)
	b = appendJSONString(b, f.Basis)
	b = append(b, `,"basis_vi":`...)
	b = appendJSONString(b, f.BasisVI)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, f.Message)
	b = append(b, `,"message_vi":`...)
	b = appendJSONString(b, f.MessageVI)
	b = append(b, `,"component":`...)
	b = f.Component.appendJSON(b)
	b = append(b, `,"distance_m":`...)
	b = appendJSONFloatPtr(b, f.DistanceM)
	b = append(b, `,"overlap_area_m2":`...)
	b = appendJSONFloatPtr(b, f.OverlapAreaM2)
	b = append(b, `,"overlap":`...)
	b = f.Overlap.appendJSON(b)
	if f.Provisional {
		b = append(b, `,"provisional":true`...)
	}
	if f.EdgeTolerance {
		b = append(b, `,"edge_tolerance":true`...)
	}
	if f.EscalatedFrom != "" {
		b = append(b, `,"escalated_from":`...)
		b = appendJSONString(b, string(f.EscalatedFrom))
	}
	if f.Band != "" {
		b = append(b, `,"band":`...)
		b = appendJSONString(b, f.Band)
	}
	if f.BandVI != "" {
		b = append(b, `,"band_vi":`...)
		b = appendJSONString(b, f.BandVI)
	}
	if f.Contact != nil {
		b = append(b, `,"contact":`...)
		b = appendText(b, f.Contact)
	}
	return append(b, '}')
}

func (c *ComponentRef) appendJSON(b []byte) []byte {
	sep := byte('{') // before the first member, then ','
	if c.ID != "" {
		b = append(append(b, sep), `"id":`...)
		b, sep = appendJSONString(b, c.ID), ','
	}
	if c.Layer != "" {
		b = append(append(b, sep), `"layer":`...)
		b, sep = appendJSONString(b, c.Layer), ','
	}
	if c.Kind != "" {
		b = append(append(b, sep), `"kind":`...)
		b, sep = appendJSONString(b, c.Kind), ','
	}
	if c.Name != "" {
		b = append(append(b, sep), `"name":`...)
		b, sep = appendJSONString(b, c.Name), ','
	}
	if c.Classification != nil {
		b = append(append(b, sep), `"classification":`...)
		if t, err := c.Classification.MarshalText(); err == nil {
			b = appendJSONString(b, string(t))
		} else {
			b = append(b, "null"...)
		}
		sep = ','
	}
	if c.Redacted {
		b, sep = append(append(b, sep), `"redacted":true`...), ','
	}
	if sep == '{' {
		b = append(b, '{')
	}
	return append(b, '}')
}

func appendText(b []byte, t *rules.Text) []byte {
	b = append(b, `{"vi":`...)
	b = appendJSONString(b, t.VI)
	b = append(b, `,"en":`...)
	b = appendJSONString(b, t.EN)
	return append(b, '}')
}

func appendJSONFloatPtr(b []byte, f *float64) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	return appendJSONFloat(b, *f)
}

// appendJSONFloat writes f as encoding/json does: the shortest decimal
// that reads back as f, in exponent form only below 1e-6 or from 1e21.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString writes s as a JSON string as encoding/json does with
// HTML escaping off: quotes, backslashes and control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

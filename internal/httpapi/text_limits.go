package httpapi

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Limits of the texts an appraisal carries. A report prints each whole,
// so each is bounded where it is written: an unbounded project name or
// note made a report of hundreds of pages, at a reader's every request.
// A name, an investor and a sector are one line. (A kind and each
// activity are one of a few words, which the layer's schema checks.)
const (
	MaxNameChars     = 300
	MaxInvestorChars = 300
	MaxSectorChars   = 100
	MaxActivities    = 50
	MaxNoteChars     = 4000
	MaxNoteLines     = 60
	oneLine          = 1
)

// textLimit is the detail of a text over its limit (nil when within):
// its length in characters (code points) or its lines.
func textLimit(field, value string, maxChars, maxLines int) *zone.Detail {
	if n := utf8.RuneCountInString(value); n > maxChars {
		return &zone.Detail{Index: -1, Pointer: field,
			Reason: fmt.Sprintf("%s is %d characters long, more than the %d allowed", field, n, maxChars)}
	}
	if n := lineCount(value); n > maxLines {
		return &zone.Detail{Index: -1, Pointer: field,
			Reason: fmt.Sprintf("%s has %d lines, more than the %d allowed", field, n, maxLines)}
	}
	return nil
}

// lineCount counts the lines of s, a line break being a line feed, a
// carriage return (alone or before a line feed) or a Unicode line or
// paragraph separator; a break at the end starts no line.
func lineCount(s string) int {
	s = lineBreaks.Replace(s)
	return 1 + strings.Count(strings.TrimSuffix(s, "\n"), "\n")
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")

// appraisalTextLimits checks the texts of an appraisal request.
func appraisalTextLimits(req appraisalRequest) error {
	var ds []zone.Detail
	add := func(d *zone.Detail) {
		if d != nil {
			ds = append(ds, *d)
		}
	}
	add(textLimit("name", req.Name, MaxNameChars, oneLine))
	add(textLimit("investor", req.Investor, MaxInvestorChars, oneLine))
	add(textLimit("sector", req.Sector, MaxSectorChars, oneLine))
	if n := len(req.Activities); n > MaxActivities {
		ds = append(ds, zone.Detail{Index: -1, Pointer: "activities",
			Reason: fmt.Sprintf("activities has %d entries, more than the %d allowed", n, MaxActivities)})
	}
	if len(ds) == 0 {
		return nil
	}
	return &zone.Error{Code: zone.CodeInvalid, Message: "the appraisal's texts are too long", Details: ds}
}

// decisionTextLimits checks a decision's note.
func decisionTextLimits(note string) error {
	if d := textLimit("note", note, MaxNoteChars, MaxNoteLines); d != nil {
		return &zone.Error{Code: zone.CodeInvalid, Message: "the decision's note is too long", Details: []zone.Detail{*d}}
	}
	return nil
}

package formats

import (
	"errors"
	"fmt"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// NameRecords rewrites a validation error about features decoded from file
// so that each problem names the file and the record ("site.zip: feature 3:
// properties.height_m"), the convention of this package's own errors.
// Records are counted from 1, as people count them.
func NameRecords(err error, file string) error {
	var ze *zone.Error
	if !errors.As(err, &ze) {
		return err
	}
	out := &zone.Error{Code: ze.Code, Err: ze.Err, Message: file + ": " + ze.Message}
	for _, d := range ze.Details {
		where := file
		if d.Index >= 0 {
			where += fmt.Sprintf(": feature %d", d.Index+1)
		}
		if d.Pointer != "" {
			where += ": " + d.Pointer
		}
		d.Pointer = where
		out.Details = append(out.Details, d)
	}
	if len(out.Details) > 0 {
		out.Message = out.Details[0].Pointer + ": " + out.Details[0].Reason
		if n := len(out.Details) - 1; n > 0 {
			out.Message += fmt.Sprintf(" (and %d more problems)", n)
		}
	}
	return out
}

package formats

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Limits bound what decoding one upload may read and hold. A field left
// zero (or negative) takes its DefaultLimits value, so Options{} decodes
// with the defaults. The decoders count while they read and stop at the
// first limit crossed, without reading the rest of the file.
type Limits struct {
	// MaxFileBytes bounds the uploaded file itself (default MaxFileBytes,
	// 64 MiB). Crossing it is CodeTooLarge; every other limit is CodeLimit.
	MaxFileBytes int64
	// MaxExpandedBytes bounds what one zip member unpacks to (default 64
	// MiB), MaxExpandedTotal what all the members read from one zip unpack
	// to together (default 256 MiB). Bytes are counted as they are
	// inflated; the sizes a zip's headers declare only refuse early.
	MaxExpandedBytes int64
	MaxExpandedTotal int64
	// MaxEntries bounds the files in a zip (default 1000).
	MaxEntries int
	// MaxFeatures bounds the features of one upload: GeoJSON features, KML
	// placemarks and the features they give, shapefile records (and .dbf
	// records), and a table's one polygon. The default, 10,000, is the
	// check API's maximum; callers allowed fewer pass fewer. The decoder
	// stops at the first feature past it.
	MaxFeatures int
	// MaxVertices bounds the coordinate positions of one upload, counted as
	// the file gives them (default 1,000,000).
	MaxVertices int
	// MaxFeatureVertices bounds the positions of one feature (of one KML
	// <coordinates>, of one table's boundary). The default and most is
	// zone.MaxVertices, the most zone.ValidateGeometry accepts, so it
	// refuses only what would be refused anyway, before it is read.
	MaxFeatureVertices int
	// MaxAttributes bounds the attribute values of one upload (default
	// 500,000: 50 for each of 10,000 features): every JSON value in a
	// GeoJSON feature outside its geometry (nested ones each count), each
	// KML name, description and data value, each dBASE field of each
	// record. A decoded value costs up to about 160 bytes (a map entry, its
	// string) however few it takes in the file (a 1-byte dBASE field, a "0,"
	// in a JSON array), so values need a bound of their own.
	MaxAttributes int
}

// Defaults that keep a hostile upload from exhausting memory; the package
// doc says what they cost.
const (
	MaxFileBytes     = 64 << 20  // the uploaded file itself
	MaxZipTotalBytes = 256 << 20 // all members read from a zip, uncompressed
	MaxZipEntries    = 1000
	maxDetails       = 50 // problems listed per file; the count says how many more

	defaultMaxExpandedBytes = 64 << 20 // one zip member, uncompressed
	defaultMaxFeatures      = 10_000
	defaultMaxVertices      = 1_000_000
	defaultMaxAttributes    = 500_000

	// maxXMLToken bounds one XML token (a text run, CDATA section,
	// comment or tag): encoding/xml holds a whole token, growing its buffer
	// by doubling, before returning it, so a long run must be refused
	// before it is read rather than counted after. 16 MiB is 100,000
	// coordinate tuples (zone.MaxVertices) at 167 bytes each.
	maxXMLToken = 16 << 20
)

// DefaultLimits returns the limits an upload gets when Options.Limits is
// zero.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:       MaxFileBytes,
		MaxExpandedBytes:   defaultMaxExpandedBytes,
		MaxExpandedTotal:   MaxZipTotalBytes,
		MaxEntries:         MaxZipEntries,
		MaxFeatures:        defaultMaxFeatures,
		MaxVertices:        defaultMaxVertices,
		MaxFeatureVertices: zone.MaxVertices,
		MaxAttributes:      defaultMaxAttributes,
	}
}

// WithDefaults returns l with every zero or negative field set to its
// default, and MaxFeatureVertices at most zone.MaxVertices.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	def := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	def64 := func(v *int64, dv int64) {
		if *v <= 0 {
			*v = dv
		}
	}
	def64(&l.MaxFileBytes, d.MaxFileBytes)
	def64(&l.MaxExpandedBytes, d.MaxExpandedBytes)
	def64(&l.MaxExpandedTotal, d.MaxExpandedTotal)
	def(&l.MaxEntries, d.MaxEntries)
	def(&l.MaxFeatures, d.MaxFeatures)
	def(&l.MaxVertices, d.MaxVertices)
	def(&l.MaxFeatureVertices, d.MaxFeatureVertices)
	def(&l.MaxAttributes, d.MaxAttributes)
	l.MaxFeatureVertices = min(l.MaxFeatureVertices, zone.MaxVertices)
	return l
}

// limitError is a limit crossed while reading file: CodeLimit, one Detail
// (index as in problems.add: the record, or -1 for the whole file).
func limitError(file string, index int, where, format string, args ...any) error {
	ptr := file
	if where != "" {
		ptr += ": " + where
	}
	reason := fmt.Sprintf(format, args...)
	return &zone.Error{Code: zone.CodeLimit, Message: ptr + ": " + reason, Details: []zone.Detail{{Index: index, Pointer: ptr, Reason: reason}}}
}

// zoneErr returns err as a *zone.Error when it is one (a limit or a damaged
// zip member, passed up unchanged through encoding/xml, encoding/json and
// io.ReadFull), else nil.
func zoneErr(err error) *zone.Error {
	var ze *zone.Error
	if errors.As(err, &ze) {
		return ze
	}
	return nil
}

// BytesText writes a byte count as people read limits: "64 MiB",
// "256 KiB", or bytes. It is how every limit is named in an answer (the
// upload readers here, the request body limits in httpapi).
func BytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// budget counts what one upload has given so far against its Limits. The
// decoders call it as they read each record, so the first record past a
// limit stops the decode.
type budget struct {
	lim                         Limits
	features, vertices, attribs int
}

func newBudget(lim Limits) *budget { return &budget{lim: lim.WithDefaults()} }

// feature counts one more feature (what names them: "features",
// "placemarks", "shapes", "records").
func (b *budget) feature(file, what string) error {
	b.features++
	if b.features > b.lim.MaxFeatures {
		return limitError(file, -1, "", "more than %d %s (the limit per upload)", b.lim.MaxFeatures, what)
	}
	return nil
}

// featureVertices checks the n positions of one feature, record index i
// named where, against the per-feature limit and adds them to the upload's.
func (b *budget) featureVertices(file string, i int, where string, n int) error {
	if n > b.lim.MaxFeatureVertices {
		return limitError(file, i, where, "more than %d vertices (the limit per feature)", b.lim.MaxFeatureVertices)
	}
	return b.addVertices(file, n)
}

// addVertices adds n positions to the upload's count.
func (b *budget) addVertices(file string, n int) error {
	b.vertices += n
	if b.vertices > b.lim.MaxVertices {
		return limitError(file, -1, "", "more than %d vertices (the limit per upload)", b.lim.MaxVertices)
	}
	return nil
}

// attributes adds n attribute values to the upload's count.
func (b *budget) attributes(file string, n int) error {
	b.attribs += n
	if b.attribs > b.lim.MaxAttributes {
		return limitError(file, -1, "", "more than %d attribute values (the limit per upload)", b.lim.MaxAttributes)
	}
	return nil
}

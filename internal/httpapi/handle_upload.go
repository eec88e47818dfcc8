package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// This file is the one way a footprint enters the API, for checks and
// appraisals alike: a JSON body (GeoJSON, WGS84 unless a crs query
// parameter or a GeoJSON "crs" member says otherwise), or a multipart
// upload of a file in any format package formats reads. Whatever came in
// leaves as []check.Footprint in WGS84 longitude, latitude, validated, or
// as a CodeInvalid error naming the file, the record and the problem.
// Nothing here stores anything.

// footprintInput is the footprint of a check or appraisal request as sent.
type footprintInput struct {
	Name   string         // the uploaded file's name, or what the JSON body is called in errors
	Data   []byte         // the file, or the GeoJSON
	CRS    *crs.CRS       // from the crs query parameter or form field; nil: WGS84, or what the file says
	Format formats.Format // from the format field; "" sniffs
	Upload bool           // a multipart/form-data upload
	Fields url.Values     // an upload's form fields other than file, crs and format
	// Pointer prefixes the detail pointers of a WGS84 JSON footprint
	// ("footprint." inside an appraisal request), so they point into the body.
	Pointer string
	// Attributes, when set, are project attributes (height_m, activities,
	// sector) given beside an uploaded file for a check; they are set on
	// every footprint, over what the file says, and validated as if the
	// file had them.
	Attributes map[string]any
	// MaxFeatures, when positive, caps the features read (the caller's
	// quota.Limiter cap): the decoder stops at the first one past it.
	MaxFeatures int
}

// An upload's parts: at most maxParts of them, each field other than the
// file at most maxFormField bytes and all of them together maxFormFields.
// Parts are read one by one from the body as it arrives, never through
// ParseMultipartForm: nothing is written to temporary files.
const (
	maxParts      = 32
	maxFormField  = 64 << 10
	maxFormFields = 256 << 10
)

// readFootprintInput reads a check or appraisal request body: a
// multipart/form-data upload with one "file" part (and "crs", "format" and,
// for appraisals, the project's fields), or anything else as a JSON body.
// The crs may be given as a query parameter or a form field, not both
// differently.
func readFootprintInput(r *http.Request) (*footprintInput, error) {
	in := &footprintInput{Name: "request body"}
	q := r.URL.Query()
	crsRef, format := q.Get("crs"), q.Get("format")
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		in.Upload = true
		in.Fields = url.Values{}
		if err := readMultipart(r, params["boundary"], in); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"crs", &crsRef}, {"format", &format}} {
			if fv := strings.TrimSpace(in.Fields.Get(f.name)); fv != "" {
				if *f.v != "" && *f.v != fv {
					return nil, fieldError(f.name, "%s is given both as a query parameter (%q) and a form field (%q)", f.name, *f.v, fv)
				}
				*f.v = fv
			}
			in.Fields.Del(f.name)
		}
	} else {
		b, err := readBody(r)
		if err != nil {
			return nil, err
		}
		in.Data, in.Format = b, formats.GeoJSON
		if format != "" {
			return nil, fieldError("format", "format applies to uploaded files (multipart/form-data); a JSON body is GeoJSON")
		}
	}
	if crsRef != "" {
		c, err := crs.Lookup(crsRef)
		if err != nil {
			return nil, fieldError("crs", "%s", zone.ErrorMessage(err))
		}
		in.CRS = c
	}
	if format != "" {
		f, err := parseFormat(format)
		if err != nil {
			return nil, err
		}
		in.Format = f
	}
	return in, nil
}

// readMultipart reads the parts of an upload into in: exactly one "file"
// part, bounded by formats.MaxFileBytes (413 past it), and a few small
// text fields. What it holds is the file and the fields (maxFormFields);
// from a received body (receive, which counts the copy against the body
// budget) the file is read into one buffer of the body's size, never
// grown.
func readMultipart(r *http.Request, boundary string, in *footprintInput) error {
	if boundary == "" {
		return zone.Errorf(zone.CodeInvalid, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, r.Body, maxUploadBody), boundary)
	files, parts, fieldBytes := 0, 0, 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return uploadReadError(err)
		}
		if parts++; parts > maxParts {
			return fieldError("upload", "the upload has more than %d parts (a file and a few fields are expected)", maxParts)
		}
		name := part.FormName()
		if part.FileName() != "" || name == "file" {
			if name != "file" {
				return fieldError(name, "upload the file in a form field named \"file\", not %q", name)
			}
			files++
			if files > 1 {
				return fieldError("file", "upload one file per request (a shapefile as one .zip holding its .shp, .shx, .dbf and .prj)")
			}
			in.Name = part.FileName()
			if in.Name == "" {
				in.Name = "upload"
			}
			var b []byte
			if rb, ok := r.Body.(*receivedBody); ok {
				b, err = readInto(make([]byte, 0, min(len(rb.data), formats.MaxFileBytes+1)), io.LimitReader(part, formats.MaxFileBytes+1))
			} else {
				b, err = io.ReadAll(io.LimitReader(part, formats.MaxFileBytes+1))
			}
			if err != nil {
				return uploadReadError(err)
			}
			if len(b) > formats.MaxFileBytes {
				return &zone.Error{Code: zone.CodeTooLarge, Message: fmt.Sprintf("%s is larger than %d MiB (the limit per uploaded file)", in.Name, formats.MaxFileBytes>>20),
					Details: []zone.Detail{{Index: -1, Pointer: "file", Reason: fmt.Sprintf("larger than %d MiB", formats.MaxFileBytes>>20)}}}
			}
			in.Data = b
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		if err != nil {
			return uploadReadError(err)
		}
		if len(b) > maxFormField {
			return fieldError(name, "form field %s is longer than %d KiB", name, maxFormField>>10)
		}
		if fieldBytes += len(b); fieldBytes > maxFormFields {
			return fieldError(name, "the upload's form fields are longer than %d KiB in all", maxFormFields>>10)
		}
		in.Fields.Add(name, string(b))
	}
	if files == 0 {
		return fieldError("file", "the upload has no file: send it in a form field named \"file\"")
	}
	if len(bytes.TrimSpace(in.Data)) == 0 {
		return fieldError("file", "%s is empty", in.Name)
	}
	return nil
}

func uploadReadError(err error) error {
	return bodyError(err, "reading the multipart upload")
}

// fieldError is an input error about one request field or parameter.
func fieldError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &zone.Error{Code: zone.CodeInvalid, Message: msg, Details: []zone.Detail{{Index: -1, Pointer: field, Reason: msg}}}
}

// parseFormat reads a format name as people write it.
func parseFormat(s string) (formats.Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "geojson", "json":
		return formats.GeoJSON, nil
	case "kml":
		return formats.KML, nil
	case "kmz":
		return formats.KMZ, nil
	case "shapefile", "shp", "zip":
		return formats.Shapefile, nil
	case "table", "csv", "txt", "text":
		return formats.Table, nil
	}
	return "", fieldError("format", "unknown format %q: want geojson, kml, kmz, shapefile (a .zip) or table (CSV or text: point number, X, Y)", s)
}

// footprints turns the input into WGS84 footprints with
// check.DecodeFootprints, the one reader the CLI uses too. A JSON body is
// GeoJSON by definition; the pointers of its errors are made relative to
// the request body.
func (in *footprintInput) footprints() (check.Decoded, error) {
	ci := check.Input{Name: in.Name, Data: in.Data, CRS: in.CRS, Format: in.Format, Upload: in.Upload, Attributes: in.Attributes}
	ci.Limits.MaxFeatures = in.MaxFeatures
	if !in.Upload {
		ci.Format = formats.GeoJSON
	}
	d, err := check.DecodeFootprints(ci)
	if err != nil {
		if ci.Plain() {
			err = zone.WithPointers(err, func(ptr string) string { return in.Pointer + ptr })
		}
		return check.Decoded{}, err
	}
	return d, nil
}

// appraisalFromForm reads the project's attributes from an upload's form
// fields: name, investor, sector, kind, height_m (metres), activities
// (comma-separated). Any other field is refused, as unknown JSON fields are.
func appraisalFromForm(v url.Values) (appraisalRequest, error) {
	var req appraisalRequest
	for k := range v {
		if !oneOf(k, "name", "investor", "sector", "kind", "height_m", "activities") {
			return req, fieldError(k, "unknown form field %q (want file, crs, format, name, investor, sector, kind, height_m, activities)", k)
		}
	}
	req.Name, req.Investor = v.Get("name"), strings.TrimSpace(v.Get("investor"))
	req.Sector, req.Kind = strings.TrimSpace(v.Get("sector")), strings.TrimSpace(v.Get("kind"))
	if h := strings.TrimSpace(v.Get("height_m")); h != "" {
		f, err := strconv.ParseFloat(strings.Replace(h, ",", ".", 1), 64)
		if err != nil {
			return req, fieldError("height_m", "height_m %q is not a number of metres", h)
		}
		req.HeightM = &f
	}
	for _, a := range strings.Split(v.Get("activities"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			req.Activities = append(req.Activities, a)
		}
	}
	return req, nil
}

// checkAttributes reads the project attributes a check upload may give as
// form fields (height_m, activities comma-separated, sector) into
// footprint properties; any other field is refused.
func checkAttributes(v url.Values) (map[string]any, error) {
	for k := range v {
		if !oneOf(k, "height_m", "activities", "sector") {
			return nil, fieldError(k, "unknown form field %q (want file, crs, format, height_m, activities, sector)", k)
		}
	}
	req, err := appraisalFromForm(v)
	if err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	if req.HeightM != nil {
		attrs[zone.PropHeightM] = *req.HeightM
	}
	if len(req.Activities) > 0 {
		acts := make([]any, len(req.Activities))
		for i, a := range req.Activities {
			acts[i] = a
		}
		attrs[zone.PropActivities] = acts
	}
	if req.Sector != "" {
		attrs[zone.PropSector] = req.Sector
	}
	return attrs, nil
}

// decodeJSON reads b into v as decode does a request body: unknown fields
// are an error.
func decodeJSON[T any](b []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, zone.Errorf(zone.CodeInvalid, "request body is not valid JSON for this call: %v", err)
	}
	return v, nil
}

// handleCRSList lists the CRSs footprints may be given in (the web page's
// CRS picker): code, OGC URI, name, kind, area of use and its WGS84 box.
// Any other VN-2000 TM-3 zone is accepted as VN2000:TM3:<central meridian>.
func handleCRSList() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		encode(w, http.StatusOK, crs.Supported())
	}
}

// handleConvert reads a footprint the way a check would and returns it as
// WGS84 GeoJSON, with the format and CRS it was read in: the web page's
// preview before checking. Nothing is checked, logged as a check or stored.
func (s *server) handleConvert() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		in, err := readFootprintInput(r)
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		dec, err := in.footprints()
		if err != nil {
			s.failInput(w, r, err)
			return
		}
		fc := geojson.NewFeatureCollection()
		for _, fp := range dec.Footprints {
			f := geojson.NewFeature(fp.Geometry)
			if fp.Properties != nil {
				f.Properties = fp.Properties
			}
			fc.Append(f)
		}
		encode(w, http.StatusOK, map[string]any{"format": dec.Format, "crs": dec.CRS, "footprints": fc})
	}
}

// readInto reads r to its end into buf's spare capacity, growing it only
// if r holds more than that.
func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

package httpapi

import (
	"net/http"
	"regexp"
	"strings"

	"golang.org/x/text/language"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Error messages in Vietnamese.
//
// The server's errors are written in English where they are made (in the
// domain, the decoders, the handlers); a caller who asks for Vietnamese,
// with ?lang=vi or an Accept-Language that prefers vi (a Vietnamese
// browser sends one), gets the problem's title, detail and each error's
// reason translated here, phrase by phrase, before it is written. JSON
// data (findings, layers) is not translated: it carries both languages
// side by side (message/message_vi, basis/basis_vi, band/band_vi,
// title_vi/title_en) and the client picks. A phrase the catalogue does not
// know stays in English; TestErrorCatalogue holds every entry to a
// translation with no English left in it, and TestUploadErrorsInVietnamese
// the upload errors a person meets most.

// wantsVietnamese reports whether the caller asked for Vietnamese: ?lang=vi,
// or else an Accept-Language whose best match between en and vi is vi.
func wantsVietnamese(r *http.Request) bool {
	if r == nil || r.URL == nil {
		return false
	}
	switch strings.ToLower(r.URL.Query().Get("lang")) {
	case "vi", "vi-vn":
		return true
	case "en":
		return false
	}
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return false
	}
	tags, _, err := language.ParseAcceptLanguage(al)
	if err != nil || len(tags) == 0 {
		return false
	}
	_, i, _ := languageMatcher.Match(tags...)
	return i == 1
}

var languageMatcher = language.NewMatcher([]language.Tag{language.English, language.Vietnamese})

// titlesVI are the problem titles (HTTP status texts) in Vietnamese.
var titlesVI = map[int]string{
	http.StatusBadRequest:            "Yêu cầu không hợp lệ",
	http.StatusUnauthorized:          "Chưa xác thực",
	http.StatusForbidden:             "Không có quyền",
	http.StatusNotFound:              "Không tìm thấy",
	http.StatusMethodNotAllowed:      "Phương thức không được phép",
	http.StatusConflict:              "Xung đột dữ liệu",
	http.StatusRequestEntityTooLarge: "Dữ liệu gửi lên quá lớn",
	http.StatusUnprocessableEntity:   "Dữ liệu không hợp lệ",
	http.StatusTooManyRequests:       "Quá nhiều yêu cầu",
	http.StatusInternalServerError:   "Lỗi máy chủ",
	http.StatusServiceUnavailable:    "Dịch vụ tạm thời không sẵn sàng",
	http.StatusInsufficientStorage:   "Hết dung lượng lưu trữ",
}

// phraseVI is one catalogue entry: an English phrase (a regular
// expression; its groups are the values the message names) and its
// Vietnamese, with $1... for the groups. Example is a message it must
// translate, for the test.
type phraseVI struct {
	en      *regexp.Regexp
	vi      string
	example string
}

func phrase(en, vi, example string) phraseVI {
	return phraseVI{en: regexp.MustCompile(en), vi: vi, example: example}
}

// catalogueVI is tried in order on each message; longer phrases come
// before the shorter ones they contain.
var catalogueVI = []phraseVI{
	// Geometries (zone.Component.Validate, check.DecodeFootprint).
	phrase(`a polygon ring needs at least 4 points \(3 distinct, closed\), has (\d+)`,
		"một vòng của đa giác cần ít nhất 4 điểm (3 điểm phân biệt, khép kín), hiện có $1",
		"a polygon ring needs at least 4 points (3 distinct, closed), has 3"),
	phrase(`a line needs at least 2 points, has (\d+)`, "một đường cần ít nhất 2 điểm, hiện có $1",
		"a line needs at least 2 points, has 1"),
	phrase(`ring is not closed: first point (\[[^\]]*\]) differs from last (\[[^\]]*\])`,
		"vòng chưa khép kín: điểm đầu $1 khác điểm cuối $2", "ring is not closed: first point [106.1 21.5] differs from last [106.2 21.5]"),
	phrase(`coordinate (\[[^\]]*\]) is outside longitude -180\.\.180, latitude -90\.\.90 \(is it in another CRS\?\)`,
		"tọa độ $1 nằm ngoài kinh độ -180..180, vĩ độ -90..90 (dữ liệu có thuộc hệ tọa độ khác không?)",
		"coordinate [512345, 2412345] is outside longitude -180..180, latitude -90..90 (is it in another CRS?)"),
	phrase(`coordinate is not a number`, "tọa độ không phải là số", "coordinate is not a number"),
	phrase(`ring intersects itself: `, "vòng tự cắt: ", "ring intersects itself: "),
	phrase(`validating ring at index (\d+): polygon `, "vòng (chỉ số $1) của đa giác: ", "validating ring at index 0: polygon "),
	phrase(`\(at or near \{([^}]*)\}\)`, "(tại hoặc gần điểm $1)", "(at or near {106.1 21.5})"),
	phrase(`ring not simple`, "vòng không đơn (tự cắt)", "ring not simple"),
	phrase(`invalid geometry: `, "hình học không hợp lệ: ", "invalid geometry: "),
	phrase(`(?:the )?geometry is missing`, "thiếu hình học", "geometry is missing"),
	phrase(`(?:the )?geometry is empty`, "hình học rỗng", "the geometry is empty"),
	phrase(`polygon is empty`, "đa giác rỗng", "polygon is empty"),
	phrase(`the geometry has no type`, "hình học không có kiểu", "the geometry has no type"),
	phrase(`geometry type "?([A-Za-z]+)"? is not supported \(use ([^)]*)\)`,
		"kiểu hình học $1 không được hỗ trợ (dùng $2)", `geometry type "Circle" is not supported (use Point, LineString, Polygon)`),
	phrase(`geometry has (\d+) vertices, more than the (\d+) allowed`, "hình học có $1 đỉnh, vượt quá $2 đỉnh cho phép",
		"geometry has 600000 vertices, more than the 500000 allowed"),
	phrase(`the request has (\d+) vertices in all, more than the (\d+) allowed`, "yêu cầu có tổng cộng $1 đỉnh, vượt quá $2 đỉnh cho phép",
		"the request has 600000 vertices in all, more than the 500000 allowed"),
	phrase(`coordinates do not fit a ([A-Za-z]+): `, "tọa độ không khớp với kiểu $1: ", "coordinates do not fit a Polygon: "),
	// GeoJSON bodies (check.DecodeFootprint).
	phrase(`the footprint is not valid GeoJSON for a check`, "ranh giới dự án không phải GeoJSON hợp lệ để kiểm tra",
		"the footprint is not valid GeoJSON for a check"),
	phrase(`the request body is empty; send a GeoJSON geometry, Feature or FeatureCollection`,
		"nội dung yêu cầu rỗng; hãy gửi một hình học, Feature hoặc FeatureCollection GeoJSON",
		"the request body is empty; send a GeoJSON geometry, Feature or FeatureCollection"),
	phrase(`not a GeoJSON object: `, "không phải đối tượng GeoJSON: ", "not a GeoJSON object: "),
	phrase(`not a GeoJSON geometry: `, "không phải hình học GeoJSON: ", "not a GeoJSON geometry: "),
	phrase(`the FeatureCollection has no features`, "FeatureCollection không có đối tượng nào", "the FeatureCollection has no features"),
	phrase(`(\d+) features, more than the (\d+) allowed in one check`, "$1 đối tượng, vượt quá $2 đối tượng cho phép trong một lần kiểm tra",
		"120 features, more than the 100 allowed in one check"),
	phrase(`a FeatureCollection member must be a Feature, got "([^"]*)"`, "phần tử của FeatureCollection phải là Feature, nhận được \"$1\"",
		`a FeatureCollection member must be a Feature, got "Point"`),
	phrase(`the feature has no geometry`, "đối tượng không có hình học", "the feature has no geometry"),
	phrase(`properties must be an object: `, "properties phải là một đối tượng: ", "properties must be an object: "),
	phrase(`height_m must be a number of metres, got (.*)`, "height_m phải là số mét, nhận được $1", "height_m must be a number of metres, got cao"),
	phrase(`height_m must be between 0 and 10000 metres, got (.*)`, "height_m phải từ 0 đến 10000 mét, nhận được $1",
		"height_m must be between 0 and 10000 metres, got -5"),
	phrase(`height_m "([^"]*)" is not a number of metres`, "height_m \"$1\" không phải là số mét", `height_m "cao" is not a number of metres`),
	phrase(`sector must be a string, got (.*)`, "sector phải là chuỗi ký tự, nhận được $1", "sector must be a string, got 5"),
	// Files (package formats, the upload handler).
	phrase(`cannot tell the format: expected GeoJSON, KML, KMZ, a zipped shapefile, or a boundary-point table \(CSV or text\)`,
		"không nhận ra định dạng: cần GeoJSON, KML, KMZ, shapefile nén zip hoặc bảng tọa độ điểm mốc (CSV hoặc văn bản)",
		"cannot tell the format: expected GeoJSON, KML, KMZ, a zipped shapefile, or a boundary-point table (CSV or text)"),
	phrase(`upload a shapefile as one \.zip holding its \.shp, \.shx, \.dbf and \.prj`,
		"hãy tải shapefile lên dưới dạng một tệp .zip gồm .shp, .shx, .dbf và .prj",
		"upload a shapefile as one .zip holding its .shp, .shx, .dbf and .prj"),
	phrase(`a boundary needs at least 3 points, the table has (\d+)`, "ranh giới cần ít nhất 3 điểm, bảng chỉ có $1",
		"a boundary needs at least 3 points, the table has 2"),
	phrase(`a boundary-point table needs its CRS: choose the VN-2000 zone it was surveyed in \(e\.g\. (EPSG:\d+) for Lang Son, or VN2000:TM3:<central meridian>\)`,
		"bảng tọa độ điểm mốc cần hệ tọa độ: hãy chọn múi VN-2000 đã dùng khi đo đạc (ví dụ $1 cho Lạng Sơn, hoặc VN2000:TM3:<kinh tuyến trục>)",
		"a boundary-point table needs its CRS: choose the VN-2000 zone it was surveyed in (e.g. EPSG:9215 for Lang Son, or VN2000:TM3:<central meridian>)"),
	phrase(`empty table: expected rows of point number, X, Y`, "bảng rỗng: cần các dòng gồm số hiệu điểm, X, Y",
		"empty table: expected rows of point number, X, Y"),
	phrase(`bad number "([^"]*)" in `, "số không hợp lệ \"$1\" trong ", `bad number "24x12" in `),
	phrase(`request body is larger than ([^(]*) \(the limit of this endpoint\)`, "nội dung yêu cầu lớn hơn $1 (giới hạn của chức năng này)",
		"request body is larger than 1 MiB (the limit of this endpoint)"),
	phrase(`is larger than (\d+) MiB \(the limit per uploaded file\)`, "lớn hơn $1 MiB (giới hạn cho mỗi tệp tải lên)",
		"is larger than 32 MiB (the limit per uploaded file)"),
	phrase(`larger than (\d+) MiB`, "lớn hơn $1 MiB", "larger than 32 MiB"),
	phrase(`request body is not valid JSON for this call: `, "nội dung yêu cầu không phải JSON hợp lệ cho chức năng này: ",
		"request body is not valid JSON for this call: "),
	phrase(`multipart/form-data without a boundary`, "multipart/form-data thiếu boundary", "multipart/form-data without a boundary"),
	phrase(`unknown form field "([^"]*)" \(want ([^)]*)\)`, "trường biểu mẫu \"$1\" không được hỗ trợ (cần: $2)",
		`unknown form field "owner" (want crs, height_m)`),
	phrase(`broken XML: `, "XML bị lỗi: ", "broken XML: "),
	phrase(`placemark (\d+) \(line (\d+)\): `, "Placemark $1 (dòng $2): ", "placemark 1 (line 3): "),
	phrase(`not valid KML: `, "không phải KML hợp lệ: ", "not valid KML: "),
	phrase(`XML syntax error on line (\d+): `, "lỗi cú pháp XML ở dòng $1: ", "XML syntax error on line 4: "),
	phrase(`unexpected EOF`, "tệp kết thúc đột ngột", "unexpected EOF"),
	phrase(`cannot read from the archive \(truncated or damaged\?\): `, "không đọc được tệp nén (bị cắt cụt hoặc hỏng?): ",
		"cannot read from the archive (truncated or damaged?): "),
	phrase(`feature (\d+): `, "đối tượng $1: ", "feature 3: "),
	phrase(`(?:the )?CRS (\S+) is not supported; supported: `, "hệ tọa độ $1 không được hỗ trợ; hỗ trợ: ", "CRS EPSG:2000 is not supported; supported: "),
	// Checks' answers (overlapGeometry).
	phrase(`geometry: want none \(findings without their overlap geometry\) or full \(the default\), not "([^"]*)"`,
		"chỉ nhận none (kết quả không kèm hình học vùng chồng lấn) hoặc full (mặc định), không nhận \"$1\"",
		`geometry: want none (findings without their overlap geometry) or full (the default), not "no"`),
	// Appraisals.
	phrase(`the appraisal needs a project name`, "hồ sơ thẩm định cần tên dự án", "the appraisal needs a project name"),
	phrase(`name is required`, "cần có tên", "name is required"),
	phrase(`the appraisal's texts are too long`, "các nội dung văn bản của hồ sơ thẩm định quá dài", "the appraisal's texts are too long"),
	phrase(`the decision's note is too long`, "ghi chú của quyết định quá dài", "the decision's note is too long"),
	phrase(`(\S+) is (\d+) characters long, more than the (\d+) allowed`, "$1 dài $2 ký tự, vượt quá $3 ký tự cho phép",
		"investor is 301 characters long, more than the 300 allowed"),
	phrase(`(\S+) has (\d+) lines, more than the (\d+) allowed`, "$1 có $2 dòng, vượt quá $3 dòng cho phép",
		"investor has 2 lines, more than the 1 allowed"),
	phrase(`(\S+) has (\d+) entries, more than the (\d+) allowed`, "$1 có $2 mục, vượt quá $3 mục cho phép",
		"activities has 51 entries, more than the 50 allowed"),
	phrase(`the appraisal needs a footprint`, "hồ sơ thẩm định cần ranh giới dự án", "the appraisal needs a footprint"),
	phrase(`footprint \(a GeoJSON geometry or Feature, or an uploaded file\) is required`,
		"cần có ranh giới dự án (hình học hoặc Feature GeoJSON, hoặc một tệp tải lên)",
		"footprint (a GeoJSON geometry or Feature, or an uploaded file) is required"),
	phrase(`an appraisal has one footprint; (\S+) holds (\d+) features \(merge them into one Multi geometry\)`,
		"một hồ sơ thẩm định có một ranh giới dự án; $1 chứa $2 đối tượng (hãy gộp thành một hình học Multi)",
		"an appraisal has one footprint; footprint holds 2 features (merge them into one Multi geometry)"),
	phrase(`the project's attributes are not valid`, "thuộc tính của dự án không hợp lệ", "the project's attributes are not valid"),
	phrase(`approval with conditions needs a note stating the conditions`, "chấp thuận có điều kiện cần ghi rõ các điều kiện",
		"approval with conditions needs a note stating the conditions"),
	phrase(`lang "([^"]*)": want vi or en`, "ngôn ngữ \"$1\": chỉ có vi hoặc en", `lang "fr": want vi or en`),
	// Coverage (zone.Coverage.Validate, zone.CoverageFromFeature, handle_coverage.go).
	phrase(`the coverage is not valid`, "phạm vi dữ liệu không hợp lệ", "the coverage is not valid"),
	phrase(`a new coverage takes no id; the server gives it one`, "phạm vi dữ liệu mới không kèm mã; máy chủ tự cấp mã",
		"a new coverage takes no id; the server gives it one"),
	phrase(`the body's id differs from the path's`, "mã trong nội dung khác mã trên đường dẫn", "the body's id differs from the path's"),
	phrase(`no coverage (\S+)`, "không có phạm vi dữ liệu $1", "no coverage 01961234-5678-7000-8000-000000000000"),
	phrase(`coverage (\S+) is at version (\d+), not (\d+)`, "phạm vi dữ liệu $1 đang ở phiên bản $2, không phải $3",
		"coverage 01961234-5678-7000-8000-000000000000 is at version 2, not 1"),
	phrase(`coverage (\S+) is not at version (\d+)`, "phạm vi dữ liệu $1 không ở phiên bản $2",
		"coverage 01961234-5678-7000-8000-000000000000 is not at version 1"),
	phrase(`a coverage area must span at least 1 km²`, "một vùng phạm vi dữ liệu phải rộng ít nhất 1 km²", "a coverage area must span at least 1 km²"),
	phrase(`a coverage is a Polygon or MultiPolygon, not a (\S+)`, "phạm vi dữ liệu phải là Polygon hoặc MultiPolygon, không phải $1",
		"a coverage is a Polygon or MultiPolygon, not a Point"),
	phrase(`status "([^"]*)" is not loaded or reviewed`, "trạng thái \"$1\" phải là loaded (đã nạp) hoặc reviewed (đã rà soát)",
		`status "done" is not loaded or reviewed`),
	phrase(`the date the coverage holds at is missing`, "thiếu ngày xác nhận phạm vi dữ liệu", "the date the coverage holds at is missing"),
	phrase(`the area's name is missing`, "thiếu tên khu vực", "the area's name is missing"),
	phrase(`not a date \(YYYY-MM-DD\): "([^"]*)"`, "không phải ngày (YYYY-MM-DD): \"$1\"", `not a date (YYYY-MM-DD): "hôm qua"`),
	phrase(`a coverage needs a Polygon or MultiPolygon geometry`, "phạm vi dữ liệu cần hình học Polygon hoặc MultiPolygon",
		"a coverage needs a Polygon or MultiPolygon geometry"),
	phrase(`text is not UTF-8 of at most 500 characters`, "văn bản phải là UTF-8, tối đa 500 ký tự", "text is not UTF-8 of at most 500 characters"),
	phrase(`the body must be one GeoJSON Feature`, "nội dung phải là đúng một Feature GeoJSON", "the body must be one GeoJSON Feature"),
	phrase(`verdict "([^"]*)": want clear, incomplete, review or conflict`,
		"kết luận \"$1\": chỉ có clear (không vướng), incomplete (thiếu dữ liệu), review (cần xem xét) hoặc conflict (xung đột)",
		`verdict "ok": want clear, incomplete, review or conflict`),
	phrase(`(stale|worse) "([^"]*)": want true or false`, "$1 \"$2\": chỉ nhận true hoặc false", `stale "có": want true or false`),
	// Master-plan jobs.
	phrase(`plan jobs do not run on this instance`, "máy chủ này không chạy tác vụ quy hoạch", "plan jobs do not run on this instance"),
	phrase(`a plan is uploaded as a file \(multipart/form-data with a file field\)`,
		"quy hoạch phải được tải lên dưới dạng tệp (multipart/form-data có trường chứa tệp)",
		"a plan is uploaded as a file (multipart/form-data with a file field)"),
	phrase(`the mapping is not a JSON object of field names to attribute names: `,
		"bảng ánh xạ không phải đối tượng JSON từ tên trường sang tên thuộc tính: ",
		"the mapping is not a JSON object of field names to attribute names: "),
	phrase(`"([^"]*)" in the mapping is not field=ATTRIBUTE`, "\"$1\" trong bảng ánh xạ không có dạng trường=THUỘC_TÍNH",
		`"TEN" in the mapping is not field=ATTRIBUTE`),
	phrase(`the mapping gives no attribute for (\S+)`, "bảng ánh xạ không chỉ ra thuộc tính cho $1", "the mapping gives no attribute for height"),
	phrase(`unknown field "([^"]*)" in the mapping \(want name, sector or land_use, height_m, activities\)`,
		"trường \"$1\" trong bảng ánh xạ không được hỗ trợ (cần: tên, lĩnh vực hoặc mục đích sử dụng đất, chiều cao, hoạt động)",
		`unknown field "owner" in the mapping (want name, sector or land_use, height_m, activities)`),
	phrase(`no parcel of (.+) has the attribute "([^"]*)" the mapping names`,
		"không thửa nào của $1 có thuộc tính \"$2\" mà bảng ánh xạ nêu", `no parcel of plan.zip has the attribute "TEN" the mapping names`),
	phrase(`(.+) holds (\d+) parcels, more than the (\d+) a plan may hold`, "$1 có $2 thửa, vượt quá $3 thửa cho phép của một quy hoạch",
		"plan.zip holds 200001 parcels, more than the 200000 a plan may hold"),
	phrase(`(.+) holds no parcels`, "$1 không có thửa nào", "plan.zip holds no parcels"),
	phrase(`(.+): (\d+) parcels are not valid`, "$1: $2 thửa không hợp lệ", "plan.zip: 3 parcels are not valid"),
	phrase(`(.+): a parcel is not valid`, "$1: một thửa không hợp lệ", "plan.zip: a parcel is not valid"),
	phrase(`height "([^"]*)" is not a number of metres`, "chiều cao \"$1\" không phải số mét", `height "cao" is not a number of metres`),
	phrase(`height (\S+) m is out of range \(0 to 10000\)`, "chiều cao $1 m nằm ngoài khoảng cho phép (0 đến 10000)",
		"height -5 m is out of range (0 to 10000)"),
	phrase(`no plan "([^"]*)"`, "không có quy hoạch \"$1\"", `no plan "x"`),
	phrase(`plan (\S+) not found`, "không tìm thấy quy hoạch $1", "plan 0190b2c4-0000-7000-8000-000000000000 not found"),
	phrase(`no parcel "([^"]*)" in this plan`, "quy hoạch này không có thửa \"$1\"", `no parcel "12" in this plan`),
	phrase(`plan (\S+) is already (\S+)`, "quy hoạch $1 đã ở trạng thái $2", "plan 0190b2c4-0000-7000-8000-000000000000 is already done"),
	phrase(`plan (\S+) was cancelled`, "quy hoạch $1 đã bị hủy", "plan 0190b2c4-0000-7000-8000-000000000000 was cancelled"),
	phrase(`limit must be a whole number from 1 to 10000`, "số thửa mỗi trang phải là số nguyên từ 1 đến 10000", "limit must be a whole number from 1 to 10000"),
	phrase(`offset must be a whole number, 0 or more`, "offset phải là số nguyên từ 0 trở lên", "offset must be a whole number, 0 or more"),
	phrase(`bbox must be minLon,minLat,maxLon,maxLat`, "khung bao phải có dạng kinh độ nhỏ nhất,vĩ độ nhỏ nhất,kinh độ lớn nhất,vĩ độ lớn nhất",
		"bbox must be minLon,minLat,maxLon,maxLat"),
	phrase(`a plan needs a name`, "quy hoạch cần có tên", "a plan needs a name"),
	phrase(`a plan needs at least one parcel`, "quy hoạch cần ít nhất một thửa", "a plan needs at least one parcel"),
	// Access and the server.
	phrase(`internal error \(request `, "lỗi nội bộ (yêu cầu ", "internal error (request "),
	phrase(`no such resource: `, "không có tài nguyên: ", "no such resource: "),
	phrase(`no appraisal "([^"]*)"`, "không có hồ sơ thẩm định \"$1\"", `no appraisal "x"`),
}

// translateVI returns msg in Vietnamese, phrase by phrase.
func translateVI(msg string) string {
	for _, p := range catalogueVI {
		if p.en.MatchString(msg) {
			msg = p.en.ReplaceAllString(msg, p.vi)
		}
	}
	return msg
}

// localiseProblem turns a problem's texts into Vietnamese when the caller
// asked for it.
func localiseProblem(r *http.Request, p *problem) bool {
	if !wantsVietnamese(r) {
		return false
	}
	if t, ok := titlesVI[p.Status]; ok {
		p.Title = t
	}
	p.Detail = translateVI(p.Detail)
	if len(p.Errors) > 0 {
		es := make([]zone.Detail, len(p.Errors))
		copy(es, p.Errors)
		for i := range es {
			es[i].Reason = translateVI(es[i].Reason)
		}
		p.Errors = es
	}
	return true
}

package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Lang is the one language of a report: "vi" (the default) or "en".
type Lang string

const (
	VI Lang = "vi"
	EN Lang = "en"
)

// ParseLang reads a report language; "" is Vietnamese.
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "vi", "vi-vn":
		return VI, nil
	case "en", "en-gb", "en-us":
		return EN, nil
	}
	return "", zone.Errorf(zone.CodeInvalid, "lang %q: want vi or en", s)
}

// Pick returns vi or en by language.
func (l Lang) Pick(vi, en string) string { return l.pick(vi, en) }

// pick returns vi or en by language.
func (l Lang) pick(vi, en string) string {
	if l == EN {
		return en
	}
	return vi
}

// words is every fixed text of a report, by language.
type words struct {
	Nation, Motto, Number, Title, Subject                string
	Project, Name, Investor, Sector, Height, Activities  string
	Area, Length, Status, Record, Verdict, Findings      string
	Map, MapNote, Coordinates, CoordinatesNote           string
	Point, Northing, Easting, Latitude, Longitude        string
	Rule, Zone, Component, Distance, Overlap, Basis      string
	NoFindings, Classified, Provisional, Escalated       string
	EdgeTolerance                                        string
	Decision, Outcome, Note, DecidedBy, DecidedAt        string
	NotDecided, History, HistDate, HistVerdict, HistRule string
	HistBy, Appraiser, Reviewer, Printed, Scope          string
	Legend, LegendFootprint, LegendOverlap               string
	LegendZones, North                                   string
	Unsigned, Recipients, RecipientsList, Page, Of       string
	Grid, Province                                       string
}

var vocabulary = map[Lang]words{
	VI: {
		Nation: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Motto: "Độc lập - Tự do - Hạnh phúc",
		Number: "Số", Title: "BÁO CÁO",
		Subject: "Kết quả thẩm định không gian về quốc phòng đối với dự án",
		Project: "I. THÔNG TIN DỰ ÁN", Name: "Tên dự án", Investor: "Chủ đầu tư", Sector: "Lĩnh vực",
		Height: "Chiều cao công trình", Activities: "Hoạt động", Area: "Diện tích", Length: "Chiều dài",
		Status: "Trạng thái hồ sơ", Record: "Mã hồ sơ", Verdict: "II. KẾT LUẬN KIỂM TRA",
		Findings: "III. CÁC VƯỚNG MẮC PHÁT HIỆN", Map: "IV. SƠ ĐỒ VỊ TRÍ",
		MapNote:     "Sơ đồ trích lục trên nền bản đồ nền ngoại tuyến; lưới tọa độ VN-2000",
		Coordinates: "V. TỌA ĐỘ CÁC ĐỈNH RANH GIỚI DỰ ÁN",
		CoordinatesNote: "Hệ tọa độ VN-2000, múi chiếu 3°, kinh tuyến trục %s (%s), k = 0,9999; " +
			"X: tọa độ Bắc, Y: tọa độ Đông, đơn vị mét. WGS84: vĩ độ, kinh độ, đơn vị độ thập phân.",
		Point: "Điểm", Northing: "X (m)", Easting: "Y (m)", Latitude: "Vĩ độ (WGS84)", Longitude: "Kinh độ (WGS84)",
		Rule: "Nội dung", Zone: "Vùng", Component: "Công trình", Distance: "Khoảng cách", Overlap: "Chồng lấn",
		Basis: "Căn cứ pháp lý", NoFindings: "Không phát hiện vướng mắc nào.",
		Classified: "Thông tin được bảo mật", Provisional: "tạm tính", Escalated: "nâng từ mức",
		EdgeTolerance: "trong dung sai ranh giới",
		Decision:      "VII. QUYẾT ĐỊNH", Outcome: "Kết luận", Note: "Ghi chú, điều kiện", DecidedBy: "Người quyết định",
		DecidedAt: "Ngày quyết định", NotDecided: "Hồ sơ chưa có quyết định.",
		History: "VI. LỊCH SỬ KIỂM TRA", HistDate: "Thời điểm", HistVerdict: "Kết luận", HistRule: "Bộ quy tắc",
		HistBy: "Người kiểm tra", Appraiser: "NGƯỜI THẨM ĐỊNH", Reviewer: "NGƯỜI PHÊ DUYỆT",
		Printed: "In bởi %s lúc %s. Bộ quy tắc %s.",
		Scope:   "Báo cáo chỉ gồm phần không gian của việc thẩm định theo Nghị định số 164/2018/NĐ-CP.",
		Legend:  "Chú giải", LegendFootprint: "Ranh giới dự án", LegendOverlap: "Phần chồng lấn",
		LegendZones: "Vùng bảo vệ công trình", North: "B",
		Unsigned: "(chưa ký)", Recipients: "Nơi nhận:", RecipientsList: "- Chủ đầu tư;\n- Lưu: hồ sơ thẩm định.",
		Page: "Trang", Of: "/", Grid: "Lưới VN-2000", Province: "tỉnh",
	},
	EN: {
		Nation: "SOCIALIST REPUBLIC OF VIET NAM", Motto: "Independence - Freedom - Happiness",
		Number: "No.", Title: "REPORT",
		Subject: "Result of the defence spatial appraisal of the project",
		Project: "I. THE PROJECT", Name: "Project name", Investor: "Investor", Sector: "Sector",
		Height: "Height of the works", Activities: "Activities", Area: "Area", Length: "Length",
		Status: "Status of the file", Record: "File id", Verdict: "II. CONCLUSION OF THE CHECK",
		Findings: "III. FINDINGS", Map: "IV. LOCATION MAP",
		MapNote:     "Map extract over the offline base map; VN-2000 grid",
		Coordinates: "V. COORDINATES OF THE PROJECT BOUNDARY",
		CoordinatesNote: "VN-2000, 3° zone, central meridian %s (%s), k = 0.9999; " +
			"X northing, Y easting, in metres. WGS84: latitude, longitude, decimal degrees.",
		Point: "Point", Northing: "X (m)", Easting: "Y (m)", Latitude: "Latitude (WGS84)", Longitude: "Longitude (WGS84)",
		Rule: "Finding", Zone: "Zone", Component: "Component", Distance: "Distance", Overlap: "Overlap",
		Basis: "Legal basis", NoFindings: "No findings.",
		Classified: "Classified", Provisional: "provisional", Escalated: "raised from",
		EdgeTolerance: "within the edge tolerance",
		Decision:      "VII. DECISION", Outcome: "Outcome", Note: "Note, conditions", DecidedBy: "Decided by",
		DecidedAt: "Date of decision", NotDecided: "No decision has been recorded.",
		History: "VI. CHECK HISTORY", HistDate: "Time", HistVerdict: "Verdict", HistRule: "Rule set",
		HistBy: "Checked by", Appraiser: "APPRAISER", Reviewer: "APPROVED BY",
		Printed: "Printed by %s at %s. Rule set %s.",
		Scope:   "This report covers the spatial part of the appraisal under Decree 164/2018/ND-CP only.",
		Legend:  "Legend", LegendFootprint: "Project boundary", LegendOverlap: "Overlap",
		LegendZones: "Protection zones", North: "N",
		Unsigned: "(not signed)", Recipients: "To:", RecipientsList: "- The investor;\n- File.",
		Page: "Page", Of: "/", Grid: "VN-2000 grid", Province: "province",
	},
}

// terms names the codes a report prints: verdicts, statuses, decision
// outcomes, zones, layers and kinds, sectors and activities.
var terms = map[string][2]string{ // code -> {vi, en}
	"conflict": {"XUNG ĐỘT", "CONFLICT"}, "review": {"CẦN XEM XÉT", "REVIEW"},
	"notice": {"LƯU Ý", "NOTICE"}, "clear": {"KHÔNG VƯỚNG", "CLEAR"},
	"incomplete":    {"THIẾU DỮ LIỆU", "INCOMPLETE DATA"},
	"data_coverage": {"Phạm vi dữ liệu đầy đủ", "Data coverage"},
	"pending":       {"Đang chờ quyết định", "Pending"}, "approved": {"Chấp thuận", "Approved"},
	"approved_with_conditions": {"Chấp thuận có điều kiện", "Approved with conditions"},
	"rejected":                 {"Không chấp thuận", "Rejected"},
	"restricted_area":          {"Khu vực cấm", "Restricted area"}, "protected_area": {"Khu vực bảo vệ", "Protected area"},
	"safety_belt": {"Vành đai an toàn", "Safety belt"}, "border_belt": {"Vành đai biên giới", "Border belt"},
	"consultation_area": {"Vùng tham vấn quốc phòng", "Defence consultation area"},
	"component":         {"Chính công trình", "The component itself"},
	"distance":          {"Khoảng cách tới công trình", "Distance to the component"},
	"land_border":       {"Đường biên giới đất liền", "Land border"}, "border_marker": {"Mốc quốc giới", "Border marker"},
	"patrol_route": {"Đường tuần tra biên giới", "Border patrol route"}, "combat_base": {"Căn cứ chiến đấu", "Combat base"},
	"commune_hq": {"Trụ sở Ban CHQS xã", "Commune military HQ"}, "command_post": {"Sở chỉ huy", "Command post"},
	"rear_base": {"Căn cứ hậu phương", "Rear base"}, "logistics_base": {"Căn cứ hậu cần - kỹ thuật", "Logistics-technical base"},
	"artillery_position": {"Trận địa pháo", "Artillery position"}, "observation_post": {"Đài quan sát", "Observation post"},
	"depot": {"Kho", "Depot"}, "antenna_field": {"Trận địa ăng-ten", "Antenna field"},
	"shooting_range": {"Trường bắn", "Shooting range"}, "military_zone": {"Khu quân sự", "Military zone"},
	"border_restricted_zone": {"Vùng cấm biên giới", "Border restricted zone"},
	"project":                {"Dự án", "Project"}, "factory": {"Nhà máy", "Factory"}, "resort": {"Khu nghỉ dưỡng", "Resort"},
	"mine": {"Mỏ", "Mine"}, "road": {"Đường giao thông", "Road"}, "residential": {"Khu dân cư", "Residential"},
	"port": {"Cảng", "Port"}, "energy": {"Năng lượng", "Energy"}, "agriculture": {"Nông nghiệp", "Agriculture"},
	"industry": {"Công nghiệp", "Industry"}, "tourism": {"Du lịch", "Tourism"}, "transport": {"Giao thông", "Transport"},
	"blasting": {"nổ mìn", "blasting"}, "mining": {"khai thác khoáng sản", "mining"}, "crowd": {"tập trung đông người", "crowds"},
}

// term names a code in the language; a code it does not know (free text
// such as a sector the appraiser typed) is printed as it is.
func (l Lang) term(code string) string {
	if t, ok := terms[code]; ok {
		return l.pick(t[0], t[1])
	}
	if lay, ok := zone.LookupLayer(code); ok {
		return l.pick(lay.TitleVI, lay.TitleEN)
	}
	return code
}

// number writes v with the given decimals as the language writes numbers:
// Vietnamese groups thousands with a dot and uses a decimal comma
// ("66.046,5"); English a comma and a decimal point ("66,046.5").
func (l Lang) number(v float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	group, point := l.pick(".", ","), l.pick(",", ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(point + frac)
	}
	return b.String()
}

// plain writes v with the given decimals without grouping, with the
// language's decimal mark: how survey tables write coordinates.
func (l Lang) plain(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	return strings.Replace(s, ".", l.pick(",", "."), 1)
}

// metres writes a distance: metres to the decimetre below 1 km, else km.
func (l Lang) metres(p *float64) string {
	if p == nil {
		return "—"
	}
	if *p >= 1000 {
		return l.number(*p/1000, 2) + " km"
	}
	return l.number(*p, 1) + " m"
}

// area writes an area in whole square metres, or hectares from 10 ha.
func (l Lang) area(m2 float64) string {
	if m2 >= 100_000 {
		return fmt.Sprintf("%s m² (%s ha)", l.number(math.Round(m2), 0), l.number(m2/10_000, 2))
	}
	return l.number(math.Round(m2), 0) + " m²"
}

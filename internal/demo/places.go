package demo

import "github.com/paulmach/orb"

// province is one area the demo fills: a disc around an inland point of the
// province (WGS84 lon/lat, radius in metres) and public place names (districts
// and communes) to name synthetic components after. The disc is only a
// sampling area: every position drawn from it is kept only if it is on land
// inside Vietnam.
type province struct {
	name      string // "Lạng Sơn"
	title     string // "tỉnh Lạng Sơn"
	abbr      string // code prefix
	centre    orb.Point
	radiusM   float64
	border    bool   // on the land border
	neighbour string // ISO code of the country across the border it patrols
	places    []string
}

// provinces lists the northern border provinces from west to east, then
// Hải Phòng.
func provinces() []province {
	return []province{
		{"Điện Biên", "tỉnh Điện Biên", "DB", orb.Point{103.10, 21.60}, 40_000, true, "LA",
			[]string{"Mường Nhé", "Mường Chà", "Nậm Pồ", "Tủa Chùa", "Tuần Giáo", "Điện Biên Đông", "Mường Ảng", "Sín Thầu", "Mường Lay", "Thanh Nưa", "Na Ư", "Mường Phăng"}},
		{"Lai Châu", "tỉnh Lai Châu", "LCH", orb.Point{103.30, 22.30}, 35_000, true, "CN",
			[]string{"Phong Thổ", "Sìn Hồ", "Mường Tè", "Nậm Nhùn", "Tam Đường", "Than Uyên", "Tân Uyên", "Dào San", "Ma Ly Pho", "Thu Lũm", "Pa Ủ", "Huổi Luông"}},
		{"Lào Cai", "tỉnh Lào Cai", "LC", orb.Point{104.05, 22.30}, 35_000, true, "CN",
			[]string{"Bát Xát", "Mường Khương", "Si Ma Cai", "Bắc Hà", "Bảo Thắng", "Sa Pa", "Văn Bàn", "Bảo Yên", "Y Tý", "A Mú Sung", "Pha Long", "Cốc Lếu"}},
		{"Hà Giang", "tỉnh Hà Giang", "HG", orb.Point{104.95, 22.75}, 40_000, true, "CN",
			[]string{"Đồng Văn", "Mèo Vạc", "Yên Minh", "Quản Bạ", "Vị Xuyên", "Hoàng Su Phì", "Xín Mần", "Bắc Mê", "Thanh Thủy", "Lũng Cú", "Phó Bảng", "Bắc Quang"}},
		{"Cao Bằng", "tỉnh Cao Bằng", "CB", orb.Point{106.15, 22.65}, 40_000, true, "CN",
			[]string{"Trùng Khánh", "Hà Quảng", "Trà Lĩnh", "Quảng Hòa", "Bảo Lạc", "Bảo Lâm", "Nguyên Bình", "Thạch An", "Hòa An", "Đàm Thủy", "Lý Quốc", "Sóc Hà"}},
		{"Lạng Sơn", "tỉnh Lạng Sơn", "LS", orb.Point{106.60, 21.85}, 40_000, true, "CN",
			[]string{"Cao Lộc", "Văn Lãng", "Tràng Định", "Lộc Bình", "Đình Lập", "Hữu Lũng", "Chi Lăng", "Đồng Đăng", "Tân Thanh", "Bắc Sơn", "Na Sầm", "Mẫu Sơn"}},
		{"Quảng Ninh", "tỉnh Quảng Ninh", "QN", orb.Point{107.35, 21.30}, 40_000, true, "CN",
			[]string{"Móng Cái", "Hải Hà", "Bình Liêu", "Đầm Hà", "Tiên Yên", "Ba Chẽ", "Vân Đồn", "Cẩm Phả", "Hoành Bồ", "Quảng Đức", "Hoành Mô", "Đồng Văn"}},
		{"Hải Phòng", "thành phố Hải Phòng", "HP", orb.Point{106.62, 20.86}, 25_000, false, "",
			[]string{"Thủy Nguyên", "An Dương", "An Lão", "Kiến Thụy", "Tiên Lãng", "Vĩnh Bảo", "Cát Hải", "Đồ Sơn", "Dương Kinh", "Hải An", "Kiến An", "Lập Lễ"}},
	}
}

// scaleRegions are inland discs (centre, radius in metres) from north to
// south Vietnam that Scale spreads components over.
func scaleRegions() []struct {
	centre  orb.Point
	radiusM float64
} {
	type r = struct {
		centre  orb.Point
		radiusM float64
	}
	return []r{
		{orb.Point{105.85, 21.03}, 20_000}, // Hà Nội
		{orb.Point{106.20, 21.30}, 15_000}, // Bắc Giang
		{orb.Point{105.80, 21.60}, 15_000}, // Thái Nguyên
		{orb.Point{106.60, 21.80}, 15_000}, // Lạng Sơn
		{orb.Point{106.20, 22.55}, 12_000}, // Cao Bằng
		{orb.Point{104.95, 22.70}, 10_000}, // Hà Giang
		{orb.Point{105.20, 21.80}, 15_000}, // Tuyên Quang
		{orb.Point{104.60, 21.70}, 15_000}, // Yên Bái
		{orb.Point{104.00, 21.30}, 20_000}, // Sơn La
		{orb.Point{105.30, 20.80}, 15_000}, // Hòa Bình
		{orb.Point{105.50, 19.95}, 20_000}, // Thanh Hóa
		{orb.Point{105.30, 19.00}, 20_000}, // Nghệ An
		{orb.Point{105.75, 18.30}, 10_000}, // Hà Tĩnh
		{orb.Point{106.40, 17.50}, 8_000},  // Quảng Bình
		{orb.Point{106.90, 16.75}, 7_000},  // Quảng Trị
		{orb.Point{107.50, 16.30}, 7_000},  // Huế
		{orb.Point{107.90, 15.70}, 12_000}, // Quảng Nam
		{orb.Point{108.60, 15.00}, 8_000},  // Quảng Ngãi
		{orb.Point{108.00, 13.90}, 25_000}, // Gia Lai
		{orb.Point{108.10, 12.70}, 25_000}, // Đắk Lắk
		{orb.Point{108.20, 11.80}, 20_000}, // Lâm Đồng
		{orb.Point{107.20, 11.10}, 15_000}, // Đồng Nai
		{orb.Point{106.65, 10.85}, 12_000}, // Hồ Chí Minh
		{orb.Point{105.70, 10.00}, 15_000}, // Cần Thơ
		{orb.Point{105.10, 9.25}, 10_000},  // Cà Mau
		{orb.Point{106.62, 20.88}, 8_000},  // Hải Phòng
		{orb.Point{107.20, 21.10}, 8_000},  // Quảng Ninh
	}
}

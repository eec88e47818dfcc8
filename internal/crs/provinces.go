package crs

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"
)

// Province is one of Vietnam's 63 provinces and cities as they were before
// the 2025 reorganisation, with the central meridian of its VN-2000 TM-3
// zone (Circular 973/2001/TT-TCĐC, appendix). Survey data keeps the
// meridian of the old province it was measured in, so the table keeps the
// old names: a province merged in 2025 still has its own meridian.
type Province struct {
	Name   string    // "Lạng Sơn"
	Lon0   float64   // central meridian, degrees east
	Centre orb.Point // the provincial capital, WGS84 lon/lat (approximate)
}

// provinces lists the provinces, north to south, with their capitals.
func provinces() []Province {
	return []Province{
		{"Lai Châu", 103, orb.Point{103.46, 22.40}},
		{"Điện Biên", 103, orb.Point{103.02, 21.39}},
		{"Sơn La", 104, orb.Point{103.91, 21.33}},
		{"Lào Cai", 104.75, orb.Point{103.97, 22.48}},
		{"Yên Bái", 104.75, orb.Point{104.87, 21.72}},
		{"Hà Giang", 105.5, orb.Point{104.98, 22.82}},
		{"Tuyên Quang", 106, orb.Point{105.21, 21.82}},
		{"Cao Bằng", 105.75, orb.Point{106.26, 22.67}},
		{"Bắc Kạn", 106.5, orb.Point{105.83, 22.15}},
		{"Lạng Sơn", 107.25, orb.Point{106.76, 21.85}},
		{"Thái Nguyên", 106.5, orb.Point{105.84, 21.59}},
		{"Phú Thọ", 104.75, orb.Point{105.40, 21.32}},
		{"Vĩnh Phúc", 105, orb.Point{105.60, 21.31}},
		{"Bắc Giang", 107, orb.Point{106.19, 21.27}},
		{"Quảng Ninh", 107.75, orb.Point{107.08, 20.95}},
		{"Bắc Ninh", 105.5, orb.Point{106.07, 21.18}},
		{"Hà Nội", 105, orb.Point{105.85, 21.03}},
		{"Hải Dương", 105.5, orb.Point{106.33, 20.94}},
		{"Hải Phòng", 105.75, orb.Point{106.68, 20.86}},
		{"Hưng Yên", 105.5, orb.Point{106.05, 20.65}},
		{"Hòa Bình", 106, orb.Point{105.34, 20.82}},
		{"Hà Nam", 105, orb.Point{105.92, 20.54}},
		{"Thái Bình", 105.5, orb.Point{106.34, 20.45}},
		{"Nam Định", 105.5, orb.Point{106.17, 20.42}},
		{"Ninh Bình", 105, orb.Point{105.97, 20.25}},
		{"Thanh Hóa", 105, orb.Point{105.78, 19.81}},
		{"Nghệ An", 104.75, orb.Point{105.68, 18.67}},
		{"Hà Tĩnh", 105.5, orb.Point{105.90, 18.34}},
		{"Quảng Bình", 106, orb.Point{106.60, 17.47}},
		{"Quảng Trị", 106.25, orb.Point{107.10, 16.75}},
		{"Thừa Thiên Huế", 107, orb.Point{107.58, 16.46}},
		{"Đà Nẵng", 107.75, orb.Point{108.21, 16.05}},
		{"Quảng Nam", 107.75, orb.Point{108.47, 15.57}},
		{"Quảng Ngãi", 108, orb.Point{108.80, 15.12}},
		{"Kon Tum", 107.5, orb.Point{108.00, 14.35}},
		{"Gia Lai", 108.5, orb.Point{108.00, 13.98}},
		{"Bình Định", 108.25, orb.Point{109.22, 13.78}},
		{"Phú Yên", 108.5, orb.Point{109.31, 13.09}},
		{"Đắk Lắk", 108.5, orb.Point{108.04, 12.67}},
		{"Đắk Nông", 108.5, orb.Point{107.69, 12.00}},
		{"Khánh Hòa", 108.25, orb.Point{109.19, 12.24}},
		{"Lâm Đồng", 107.75, orb.Point{108.44, 11.94}},
		{"Ninh Thuận", 108.25, orb.Point{108.99, 11.57}},
		{"Bình Phước", 106.25, orb.Point{106.90, 11.53}},
		{"Tây Ninh", 105.5, orb.Point{106.10, 11.31}},
		{"Bình Dương", 105.75, orb.Point{106.65, 10.98}},
		{"Đồng Nai", 107.75, orb.Point{106.82, 10.95}},
		{"Bình Thuận", 108.5, orb.Point{108.10, 10.93}},
		{"Thành phố Hồ Chí Minh", 105.75, orb.Point{106.70, 10.78}},
		{"Bà Rịa - Vũng Tàu", 107.75, orb.Point{107.17, 10.50}},
		{"Long An", 105.75, orb.Point{106.41, 10.54}},
		{"Đồng Tháp", 105, orb.Point{105.63, 10.46}},
		{"Tiền Giang", 105.75, orb.Point{106.36, 10.36}},
		{"An Giang", 104.75, orb.Point{105.44, 10.39}},
		{"Bến Tre", 105.75, orb.Point{106.38, 10.24}},
		{"Vĩnh Long", 105.5, orb.Point{105.97, 10.25}},
		{"Cần Thơ", 105, orb.Point{105.78, 10.03}},
		{"Trà Vinh", 105.5, orb.Point{106.34, 9.93}},
		{"Hậu Giang", 105, orb.Point{105.47, 9.78}},
		{"Kiên Giang", 104.5, orb.Point{105.08, 10.01}},
		{"Sóc Trăng", 105.5, orb.Point{105.97, 9.60}},
		{"Bạc Liêu", 105, orb.Point{105.72, 9.29}},
		{"Cà Mau", 104.5, orb.Point{105.15, 9.18}},
	}
}

// NearestProvince returns the province whose capital is nearest to p
// (geodesic distance) and its VN-2000 TM-3 zone. zoneplan holds no
// provincial boundaries, so this is the province a point most likely lies
// in, not a legal determination: near a provincial boundary it may be the
// neighbour, whose zone then differs by a fraction of a degree of central
// meridian, and the coordinates stay exact in the zone named.
func NearestProvince(p orb.Point) (Province, *CRS) {
	best, bestM := Province{}, math.Inf(1)
	for _, pr := range provinces() {
		var m float64
		geodesic.WGS84.Inverse(p[1], p[0], pr.Centre[1], pr.Centre[0], &m, nil, nil)
		if m < bestM {
			best, bestM = pr, m
		}
	}
	c, err := CustomTM3(best.Lon0)
	if err != nil {
		// Every meridian of the table is within CustomTM3's range.
		panic("crs: provincial meridian out of range: " + err.Error())
	}
	return best, c
}

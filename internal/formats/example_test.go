package formats_test

import (
	"fmt"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A boundary table pasted from a survey, in VN-2000 TM-3 107°15'.
func ExampleDecode() {
	table := "Điểm  X  Y\n1 2417150,00 448120,00\n2 2417180,50 448295,25\n3 2417085,75 448340,00\n"
	res, err := formats.Decode("pasted.txt", []byte(table), formats.Options{CRS: crs.Must("EPSG:9215")})
	if err != nil {
		panic(err)
	}
	f := res.Features.Features[0]
	fmt.Println(res.Format, res.CRS.Code, f.Geometry.GeoJSONType(), f.Properties["point_numbers"])

	// X and Y as easting, northing: flagged, row by row.
	_, err = formats.Decode("swapped.csv", []byte("1,448120,2417150\n2,448295.25,2417180.5\n3,448340,2417085.75\n"), formats.Options{CRS: crs.Must("EPSG:9215")})
	d := zone.ErrorDetails(err)
	fmt.Println(len(d), d[0].Pointer)
	// Output:
	// table EPSG:9215 Polygon [1 2 3]
	// 3 swapped.csv: row 1
}

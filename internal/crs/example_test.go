package crs_test

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// A Lang Son survey point, X 2417150 (northing), Y 448120 (easting), in
// VN-2000 TM-3 107°15': orb points are east first.
func ExampleCRS_ToWGS84() {
	c, err := crs.Lookup("http://www.opengis.net/def/crs/EPSG/0/9215")
	if err != nil {
		panic(err)
	}
	p, err := c.ToWGS84(orb.Point{448120, 2417150})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: lon %.6f, lat %.6f\n", c.Name, p[0], p[1])

	// The same numbers written the other way round are caught.
	_, err = c.ToWGS84(orb.Point{2417150, 448120})
	fmt.Println(err != nil)
	// Output:
	// VN-2000 / TM-3 107-15: lon 106.749957, lat 21.850055
	// true
}

// A province whose central meridian has no EPSG code of its own.
func ExampleLookup_custom() {
	c, err := crs.Lookup("VN2000:TM3:106-45")
	if err != nil {
		panic(err)
	}
	lon0, k0, _ := c.CentralMeridian()
	fmt.Println(c.Code, c.Name, lon0, k0)
	// Output: VN2000:TM3:106.75 VN-2000 / TM-3 106-45 106.75 0.9999
}

// Package crs converts coordinates between WGS84 and the coordinate systems
// Vietnamese survey and cadastral data come in: VN-2000 geographic
// (EPSG:4756), VN-2000 UTM 48N/49N (EPSG:3405, 3406), the VN-2000 provincial
// TM-3 zones (EPSG:5896-5899, 9205-9218, and any other central meridian as a
// custom zone), and Web Mercator (EPSG:3857).
//
// It is pure Go so that zoneplan stays one static binary: a transverse
// Mercator by Krüger's series to order n^6 (tmerc.go) and the 7-parameter
// Helmert of Decision 05/2007/QĐ-BTNMT (EPSG:6960, helmert.go), used for the
// whole country. PROJ would use EPSG:5194 in the Mekong delta unless the
// transformation is pinned; this package never does. The oracle test holds
// every CRS against PROJ (PostGIS ST_Transform with pinned +towgs84).
//
// Conventions: an orb.Point is always (x, y) = (east, north): longitude,
// latitude in degrees for geographic CRSs (also for EPSG:4326 and
// EPSG:4756, whose authority axis order is latitude first; see
// (*CRS).LatLonAxisOrder), easting, northing in metres for projected ones.
// Vietnamese survey tables write X for northing and Y for easting: swapping
// them is the caller's job (package formats does it for boundary tables).
// Heights are not carried: a point is taken at height 0 on its own datum's
// ellipsoid, as PROJ does for 2D coordinates; the horizontal effect is
// nanometres.
package crs

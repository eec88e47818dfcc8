// Package zone is zoneplan's domain: defence components and the layers they
// belong to, protection zones, classifications, roles and clearances, the
// store contract every storage backend implements, and the error codes the
// HTTP layer maps to statuses.
//
// Geometric conventions used throughout zoneplan: geometries are in WGS84
// (EPSG:4326) with longitude first, as GeoJSON writes them; distances and
// areas are metres and square metres on the WGS84 ellipsoid; a point on a
// boundary counts as inside.
//
// Everything else in zoneplan points inward to this package; it imports no
// store, no HTTP and no index.
package zone

// Package cql parses OGC CQL2 text filters (OGC 21-065) and translates them
// two ways with one set of type rules: to a parameterised PostgreSQL/PostGIS
// WHERE fragment (ToSQL) and to a Go predicate for the in-memory index
// (Compile). Property names are resolved by the caller's Schema.
//
// Geometry literals are WGS84 longitude/latitude (CRS84), tested in two
// dimensions; S_INTERSECTS counts touching as intersecting in both
// backends.
package cql

// Package cql parses OGC CQL2 text filters (OGC 21-065) and translates them
// two ways with one set of type rules: to a parameterised PostgreSQL/PostGIS
// WHERE fragment (ToSQL) and to a Go predicate for the in-memory index
// (Compile). Property names are resolved by the caller's Schema.
//
//	e, err := cql.Parse(text)               // *SyntaxError with a 1-based position
//	err = cql.Check(e, schema)              // unknown property, type mismatch
//	where, args, err := cql.ToSQL(e, schema, 3) // "$3", "$4", ... every literal in args
//	match, err := cql.Compile(e, schema)    // match(get) for each record
//	so, err := cql.NewSorter(schema, keys)  // sortby in Go, as OrderBySQL in SQL
//
// Supported: comparisons, AND/OR/NOT, LIKE, IN, BETWEEN, IS [NOT] NULL,
// CASEI, ACCENTI, TIMESTAMP/DATE literals, and the spatial predicates
// S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS, S_TOUCHES, S_CROSSES,
// S_OVERLAPS, S_EQUALS over WKT and BBOX literals. Not supported (a clear
// error): temporal (T_*) and array (A_*) functions, INTERVAL, arithmetic.
//
// Both backends use SQL's three-valued logic: a comparison with NULL is
// unknown, NOT unknown is unknown, and a record matches only when the
// filter is true. Geometry literals are WGS84 longitude/latitude (CRS84),
// tested in two dimensions; S_INTERSECTS counts touching as intersecting.
package cql

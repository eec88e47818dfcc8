# zoneplan: build, test, benchmarks.
GO ?= go
ZONEPLAN_TEST_PG ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export ZONEPLAN_TEST_PG

.PHONY: all build run test deps vet bench web

all: build

build:
	CGO_ENABLED=0 $(GO) build -o bin/zoneplan ./cmd/zoneplan

run:
	$(GO) run ./cmd/zoneplan serve

# Re-vendors Leaflet and its plugins from npm (web/package-lock.json) into
# web/static/vendor; the result is committed so `go build` alone works.
web:
	cd web && ./vendor.sh

# Installs what is missing (PostGIS, GDAL, Chromium, wrk, QGIS), then vets and runs
# every test with the race detector against a real PostGIS.
test: deps vet
	$(GO) test -race -count=1 -timeout 20m ./...

deps:
	@./.ci/deps

vet:
	@test -z "$$(gofmt -l cmd internal web data migrations 2>/dev/null)" || (gofmt -l cmd internal web data migrations; echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Vector tile benchmark: PostGIS with 100,000 synthetic components, wrk
# against `zoneplan serve` (cache off, then on) and pgbench on the raw
# ST_AsMVT query for the same tiles; with PG_TILESERV=/path/to/pg_tileserv,
# pg_tileserv on the same tiles (latency p50/p99, bytes). Figures:
# docs/performance.md.
.PHONY: bench-tiles
bench-tiles:
	@./.ci/bench-tiles/run

# Mixed load: 64 connections for 60 s (half tiles z10-14, three tenths item
# pages, one fifth checks) on PostGIS with 100,000 generated components
# (BENCH_LOAD_COMPONENTS=1000000 BENCH_LOAD_TEMPLATE=db for the 1M run),
# against a baseline build and this one in the same run. Figures:
# docs/performance.md.
.PHONY: bench-load
bench-load:
	@./.ci/bench-load/run

# Start-up time and memory of serve on an existing generated database:
# BENCH_DATABASE_URL=postgres://.../zp_1m make bench-start
.PHONY: bench-start
bench-start:
	@./.ci/bench-start/run

# OGC API - Features benchmark (script .ci/bench-features/run):
# items?bbox=...&limit=1000 pages from `zoneplan serve` (wrk, plain and
# gzipped) against the raw PostGIS ST_AsGeoJSON query of the same pages
# (BenchmarkOGCRawSQL) and, with PG_FEATURESERV=/path/to/pg_featureserv,
# against pg_featureserv on the same database, on 100,000 generated
# components and 10,000 project sites in a throwaway database. Figures:
# docs/performance.md.
BENCH_FEATURES_CONCURRENCY ?= 8
BENCH_FEATURES_SECONDS ?= 20
BENCH_FEATURES_PORT ?= 18093
.PHONY: bench-features
bench-features:
	@BENCH_FEATURES_CONCURRENCY=$(BENCH_FEATURES_CONCURRENCY) BENCH_FEATURES_SECONDS=$(BENCH_FEATURES_SECONDS) \
		BENCH_FEATURES_PORT=$(BENCH_FEATURES_PORT) ./.ci/bench-features/run

# Read instances on a streaming replica: a primary and a hot standby of its
# own (never the server on 5432), a write instance and three read instances,
# the mixed load on 1, 2 and 3 of them. Figures: docs/scale-out.md.
.PHONY: bench-replicas
bench-replicas:
	@./.ci/bench-replicas/run

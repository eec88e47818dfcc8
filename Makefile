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
# ST_AsMVT query for the same tiles. Figures: docs/performance.md.
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

# OGC API - Features benchmark: items?bbox=...&limit=1000 pages from
# `zoneplan serve` (wrk, internal/httpapi/testdata/ogc_items_bench.lua)
# against the raw PostGIS ST_AsGeoJSON query of the same pages at the same
# concurrency (BenchmarkOGCRawSQL), on 100,000 generated components and
# 10,000 project sites in a throwaway database. Figures: docs/performance.md.
BENCH_FEATURES_CONCURRENCY ?= 8
BENCH_FEATURES_SECONDS ?= 20
BENCH_FEATURES_PORT ?= 18093
.PHONY: bench-features
bench-features:
	@set -eu; \
	admin='$(ZONEPLAN_TEST_PG)'; db=zp_bench_features_$$$$; tmp=$$(mktemp -d); pid=; \
	url=$$(printf '%s' "$$admin" | sed -E "s#(://[^/]+/)[^?]*#\1$$db#"); \
	trap 'test -z "$$pid" || { kill $$pid; wait $$pid || true; }; psql -q "$$admin" -c "DROP DATABASE IF EXISTS $$db" >/dev/null; rm -rf $$tmp' EXIT; \
	psql -q "$$admin" -c "CREATE DATABASE $$db"; \
	$(GO) build -o $$tmp/zoneplan ./cmd/zoneplan; \
	export DATABASE_URL="$$url"; \
	$$tmp/zoneplan migrate >/dev/null 2>&1; \
	$$tmp/zoneplan gen --components 100000 --projects 10000; \
	tok=$$($$tmp/zoneplan token create --name bench --role viewer --clearance secret 2>/dev/null); \
	psql -qAt "$$url" -c "SELECT format('%s,%s,%s,%s', round((ST_X(c)-0.2)::numeric,4), round((ST_Y(c)-0.2)::numeric,4), round((ST_X(c)+0.2)::numeric,4), round((ST_Y(c)+0.2)::numeric,4)) FROM (SELECT ST_Centroid(geom) c FROM components WHERE layer = 'defence_works' ORDER BY id LIMIT 200) s" > $$tmp/boxes; \
	$$tmp/zoneplan serve --addr 127.0.0.1:$(BENCH_FEATURES_PORT) > $$tmp/serve.log 2>&1 & pid=$$!; \
	until curl -sf http://127.0.0.1:$(BENCH_FEATURES_PORT)/readyz >/dev/null; do sleep 0.5; done; \
	matched=0; for b in $$(cat $$tmp/boxes); do \
		n=$$(curl -sf -H "Authorization: Bearer $$tok" "http://127.0.0.1:$(BENCH_FEATURES_PORT)/ogc/collections/defence_works/items?limit=1000&bbox=$$b" | tail -c 200 | sed -nE 's/.*"numberReturned":([0-9]+).*/\1/p'); \
		matched=$$((matched + n)); done; \
	echo "== 200 pages, $$matched features (one warm-up pass); concurrency $(BENCH_FEATURES_CONCURRENCY), $(BENCH_FEATURES_SECONDS) s, $$(nproc) CPUs"; \
	echo "== zoneplan serve (wrk):"; \
	cpu0=$$(awk '{print $$14 + $$15}' /proc/$$pid/stat); \
	ZONEPLAN_BENCH_BOXES=$$tmp/boxes wrk -t2 -c$(BENCH_FEATURES_CONCURRENCY) -d$(BENCH_FEATURES_SECONDS)s --latency \
		-s internal/httpapi/testdata/ogc_items_bench.lua -H "Authorization: Bearer $$tok" http://127.0.0.1:$(BENCH_FEATURES_PORT) | tee $$tmp/wrk.out; \
	cpu1=$$(awk '{print $$14 + $$15}' /proc/$$pid/stat); \
	reqs=$$(sed -nE 's/^ *([0-9]+) requests in.*/\1/p' $$tmp/wrk.out); \
	echo "== server CPU: $$(( (cpu1 - cpu0) * 1000 / $$(getconf CLK_TCK) )) ms for $$reqs pages = $$(( (cpu1 - cpu0) * 1000000 / $$(getconf CLK_TCK) / reqs )) us per page"; \
	echo "== raw PostGIS ST_AsGeoJSON query of the same pages, and the server again through a Go client:"; \
	ZONEPLAN_BENCH_BOXES=$$tmp/boxes ZONEPLAN_BENCH_PG="$$url" ZONEPLAN_BENCH_CONCURRENCY=$(BENCH_FEATURES_CONCURRENCY) \
	ZONEPLAN_BENCH_URL=http://127.0.0.1:$(BENCH_FEATURES_PORT) ZONEPLAN_BENCH_TOKEN="$$tok" \
		$(GO) test -run '^$$' -bench 'BenchmarkOGCRawSQL|BenchmarkOGCItemsHTTP' -benchtime 1000x -count 1 ./internal/httpapi/

# Read instances on a streaming replica: a primary and a hot standby of its
# own (never the server on 5432), a write instance and three read instances,
# the mixed load on 1, 2 and 3 of them. Figures: docs/scale-out.md.
.PHONY: bench-replicas
bench-replicas:
	@./.ci/bench-replicas/run

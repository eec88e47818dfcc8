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

# Installs what is missing (PostGIS, GDAL, Chromium, wrk), then vets and runs
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

# subsetd — run `make help` for the targets.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN := bin/subsetd

.PHONY: help setup build demo demo/cli serve test test/python test/race test/short lint bench bench/large bench/stats bench/nodes bench/index bench/push bench/go fmt sample

help: ## list the targets
	@grep -E '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install missing system packages (netCDF/HDF5 libraries, NCO, CDO...)
	@scripts/setup.sh

build: setup ## build bin/subsetd
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/subsetd

sample: build ## generate the sample data under var/sample
	@mkdir -p var/sample/data
	@[ -s var/sample/data/sst.nc ] || go run ./testdata/gensample -out var/sample/data/sst.nc

demo: build ## start the server on sample data, run a 15-region job with submit --wait, fetch every file (sha256 checked), print values per region
	scripts/demo.sh

demo/cli: sample ## cut 14 African coastal regions out of the sample data with the CLI into var/sample/out
	$(BIN) subset --regions bench/africa14.json --time 2020-01-03/2020-01-10 --out var/sample/out var/sample/data/sst.nc

serve: sample ## run the server on the sample data (127.0.0.1:8080, no keys: --auth none) until Ctrl-C
	$(BIN) serve --data var/sample/data --state var/sample/state --auth none

# Tests that need the third-party files of ../shared/realdata skip when it
# is absent; each skip is listed in this file and printed once at the end.
export SUBSETD_SKIPPED := $(CURDIR)/var/test-skipped.txt
# The corrupt-file corpus test (e2e) writes its counts here; printed at the end.
export SUBSETD_CORPUS_REPORT := $(CURDIR)/var/test-corpus.txt

test: setup ## run every test, and the race detector on the concurrent packages
	@mkdir -p var && : > $(SUBSETD_SKIPPED) && : > $(SUBSETD_CORPUS_REPORT)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go test -count=1 -timeout 40m ./...
	go test -count=1 -race -timeout 20m ./jobs/... ./catalog/... ./worker/... ./api/... ./server/... ./readers/netcdf ./readers/hdf5
	$(MAKE) --no-print-directory test/python
	@cat $(SUBSETD_CORPUS_REPORT)
	@if [ -s $(SUBSETD_SKIPPED) ]; then echo "skipped (../shared/realdata absent): $$(sort -u $(SUBSETD_SKIPPED) | tr '\n' ' ')"; fi

test/python: build ## the Python client's tests (clients/python) against bin/subsetd serve
	/usr/bin/python3 -m pytest -q clients/python/tests

test/race: setup ## run the tests of concurrent packages with the race detector
	go test -count=1 -race -timeout 40m ./jobs/... ./catalog/... ./worker/... ./api/... ./server/... ./readers/...

test/short: setup ## quick tests only
	go test -count=1 -short ./...

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...

bench: build ## benchmarks: CLI and server vs 14 ncks calls (and xarray), one-region turnaround, worker RSS, API reads, profiles before/after
	bench/engine.sh
	bench/server.sh

bench/large: build ## the 520-step input (5.6 GB on disk, 20 GB of values; generated once, minutes): CLI and server vs ncks, peak RSS per process
	bench/large.sh

bench/stats: build ## statistics benchmark: with the cut vs the cut alone, --stats-only vs 14 cdo fldmean calls (prints figures)
	bench/stats.sh

bench/polygon: build ## one large polygon through the server: POST time, server and worker peak RSS for 20,000 and 60,000 vertices
	bench/polygon.sh

bench/push: build ## polling throughput beside 500 open event streams, and files.zip vs plain downloads of the same files (MB/s)
	bench/push.sh

bench/nodes: build ## several nodes: queue cost per no-op task on SQLite vs PostgreSQL (round trips, connections), the 14-region job on 1 vs 3 nodes (prints figures)
	bench/nodes.sh

bench/index: setup ## index benchmark: 10,000 generated files indexed (files/s), search p50/p99 at 10k and 100k files
	bench/index.sh

bench/go: setup ## Go benchmarks
	go test -run '^$$' -bench . -benchmem ./...

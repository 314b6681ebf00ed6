#!/usr/bin/env bash
# Index benchmark: generates N (default 10,000) small NetCDF granules (20 x 20
# at 0.25°, anywhere on the globe, one time step in 2015..2024; copies of one
# ncgen'd classic file with their coordinates, time and values patched), runs
# `subsetd index` with 2 inspector workers on 2 cores and prints files/s, then
# the latency (p50/p99) of bbox+time searches at N catalogued files and at
# 100,000 (the 90,000 more are synthetic rows written through
# index.Store.Put, not files). Not part of the tests.
# Usage: bench/index.sh [N]   (env BENCH_DIR for the data, default bench/data/index)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
dir=${BENCH_DIR:-bench/data/index}
mkdir -p bin "$dir"
go build -o bin/subsetd ./cmd/subsetd
go build -o bin/indexbench ./bench/indexbench
pin=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin="taskset -c 0,1"; fi

rm -rf "$dir/data" "$dir/state"
bin/indexbench gen -out "$dir/data" -n "$n"
sync
echo "== subsetd index, 2 workers${pin:+ ($pin)}, cold index"
start=$(date +%s.%N)
$pin bin/subsetd index --data "$dir/data" --state "$dir/state" --workers 2 --quiet | sed 's/^/  /'
end=$(date +%s.%N)
echo "  wall time $(echo "$end - $start" | bc) s: $(echo "scale=1; $n / ($end - $start)" | bc) files/s (the command, start-up included)"
echo "== subsetd index again, nothing changed"
$pin bin/subsetd index --data "$dir/data" --state "$dir/state" --workers 2 --quiet | sed 's/^/  /'

echo "== search latency at $n files"
bin/indexbench query -state "$dir/state" -n 2000 | sed 's/^/  /'
echo "== search latency at 100,000 files"
bin/indexbench fill -state "$dir/state" -total 100000 | sed 's/^/  /'
bin/indexbench query -state "$dir/state" -n 2000 | sed 's/^/  /'

#!/usr/bin/env bash
# The large-input benchmark (minutes: generating the input alone takes about
# 10 minutes on 2 cores; it is kept in BENCH_DIR afterwards): the 14 regions
# of bench/africa14.json cut from a 520 x 1800 x 3600 NetCDF-4 file (float32
# + packed int16, deflate 4, chunks 1x512x512: 5.6 GB on disk, 20.2 GB of
# values) with the default memory budget, by the command line versus 14
# ncks calls (peak RSS of each; target <= 256 MiB), then through the server
# (the workers' peak RSS).
# Usage: bench/large.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir" bin
go build -o bin/subsetd ./cmd/subsetd
go build -o bin/gensample ./testdata/gensample
in=$dir/sst_520x1800x3600.nc
if [ ! -s "$in" ]; then
  echo "generating $in (about 10 minutes) ..."
  bin/gensample -out "$in.part" -nt 520 -nlat 1800 -nlon 3600 -deflate 4 -chunks 1,512,512
  mv "$in.part" "$in"
fi
regions=bench/africa14.json
echo "== 14 regions on $in ($(du -h "$in" | cut -f1)), default memory budget, $rounds rounds"
bench/compare.py "$rounds" \
  "subsetd=rm -rf $dir/out_large && bin/subsetd subset --regions $regions --out $dir/out_large $in >/dev/null" \
  "ncks=bench/ncks14.sh $regions $in $dir/out_ncks_large"
echo
echo "== the same job through the server (2 workers)"
bench/server.sh "$rounds" "$in" | sed -n '/^== 2/,/^last job/p'

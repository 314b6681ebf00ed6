#!/usr/bin/env bash
# Engine benchmark: 14 African coastal regions cut from a 16 x 1800 x 3600
# NetCDF-4 file (float32 + packed int16, deflate 4, chunks 1x512x512) by one
# `subsetd subset` call versus 14 sequential `ncks -4 -L 1` calls, alternating,
# in the same run. Prints times, the ratio, output sizes and subsetd's peak RSS.
# Usage: bench/engine.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
. bench/common.sh
regions=bench/africa14.json
names=$(python3 -c 'import json,sys; [print(r["name"], *["%.6f" % x for x in r["bbox"]]) for r in json.load(open(sys.argv[1]))["regions"]]' "$regions")

run_subsetd() {
  rm -rf "$dir/out_subsetd"
  /usr/bin/time -f '%e %M' -o "$dir/time_subsetd" bin/subsetd subset --regions "$regions" --out "$dir/out_subsetd" "$in" >/dev/null
}
run_ncks() {
  rm -rf "$dir/out_ncks"; mkdir -p "$dir/out_ncks"
  local start end
  start=$(date +%s.%N)
  while read -r name w s e n; do
    ncks -O -4 -L 1 -d lat,"$s","$n" -d lon,"$w","$e" "$in" "$dir/out_ncks/$name.nc" 2>>"$dir/ncks.log"
  done <<<"$names"
  end=$(date +%s.%N)
  echo "$end - $start" | bc > "$dir/time_ncks"
}
# Warm the page cache once so neither side pays for the first read.
cat "$in" >/dev/null
ts=(); tn=(); rss=()
for ((i = 1; i <= rounds; i++)); do
  run_subsetd; read -r t m < "$dir/time_subsetd"; ts+=("$t"); rss+=("$m")
  run_ncks; tn+=("$(cat "$dir/time_ncks")")
  echo "round $i: subsetd ${ts[-1]} s (peak RSS $((m / 1024)) MiB), 14 x ncks ${tn[-1]} s"
done
ms=$(median "${ts[@]}"); mn=$(median "${tn[@]}"); mr=$(median "${rss[@]}")
echo
echo "input:              $in ($(du -h "$in" | cut -f1))"
echo "subsetd (median):   $ms s, peak RSS $((mr / 1024)) MiB"
echo "14 x ncks (median): $mn s"
echo "ratio subsetd/ncks: $(echo "scale=3; $ms / $mn" | bc)   (target <= 0.5)"
echo "output bytes:       subsetd $(du -cb "$dir"/out_subsetd/*.nc | tail -1 | cut -f1), ncks $(du -cb "$dir"/out_ncks/*.nc | tail -1 | cut -f1)"

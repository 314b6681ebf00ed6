#!/usr/bin/env bash
# 14 sequential ncks calls, one per region of a regions file: the reference
# of the benchmarks. Usage: bench/ncks14.sh REGIONS.json IN.nc OUTDIR
set -euo pipefail
regions=$1 in=$2 out=$3
rm -rf "$out"; mkdir -p "$out"
python3 -c 'import json,sys; [print(r["name"], *["%.6f" % x for x in r["bbox"]]) for r in json.load(open(sys.argv[1]))["regions"]]' "$regions" |
  while read -r name w s e n; do
    ncks -O -4 -L 1 -d lat,"$s","$n" -d lon,"$w","$e" "$in" "$out/$name.nc"
  done

#!/usr/bin/env bash
# Statistics benchmark (not a test): the mean of 2 variables (sst, packed
# sla) over each of the 14 African coastal regions of bench/africa14.json
# at each of the 16 steps of the engine benchmark's file, in one run:
#  1. the cut with statistics versus the cut alone (one `subsetd subset`
#     call each, alternating): what the statistics add;
#  2. --stats-only versus 14 sequential `cdo -b F64 -fldmean -sellonlatbox` calls
#     producing the same numbers (checked: largest relative difference
#     printed; target stats-only <= 0.1x the CDO loop).
# Prints median times, ratios and peak RSS. The CDO loop reads every field
# of the file for each region (about 8 s a region here): it runs
# CDO_ROUNDS times (default 1), the subsetd runs ROUNDS times.
# Usage: bench/stats.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cdo_rounds=${CDO_ROUNDS:-1}
. bench/common.sh
command -v cdo >/dev/null || { echo "cdo is needed: scripts/setup.sh installs it" >&2; exit 1; }
regions=bench/africa14.json
names=$(python3 -c 'import json,sys; [print(r["name"], *["%.6f" % x for x in r["bbox"]]) for r in json.load(open(sys.argv[1]))["regions"]]' "$regions")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run NAME ARGS...: one subsetd subset call into $out/NAME, "seconds rss_kb" in $out/NAME.time
run() {
  local name=$1; shift
  rm -rf "${out:?}/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" bin/subsetd subset --regions "$regions" --out "$out/$name" "$@" "$in" >/dev/null
}
run_cdo() {
  rm -rf "$out/cdo"; mkdir -p "$out/cdo"
  local start end
  start=$(date +%s.%N)
  while read -r name w s e n; do
    cdo -s -b F64 -fldmean -sellonlatbox,"$w","$e","$s","$n" "$in" "$out/cdo/$name.nc"
  done <<<"$names"
  end=$(date +%s.%N)
  echo "$end - $start" | bc > "$out/cdo.time"
}
cat "$in" >/dev/null   # warm the page cache for every side
tc=(); tcs=(); ts=(); tk=(); rc=(); rcs=(); rs=()
for ((i = 1; i <= rounds; i++)); do
  run cut --vars sst,sla;                                         read -r t m < "$out/cut.time"; tc+=("$t"); rc+=("$m")
  run cutstats --vars sst,sla --stats mean;                       read -r t m < "$out/cutstats.time"; tcs+=("$t"); rcs+=("$m")
  run only --stats mean --stats-vars sst,sla --stats-only;        read -r t m < "$out/only.time"; ts+=("$t"); rs+=("$m")
  line="round $i: cut ${tc[-1]} s, cut + statistics ${tcs[-1]} s, statistics only ${ts[-1]} s"
  if ((i <= cdo_rounds)); then
    run_cdo; tk+=("$(cat "$out/cdo.time")"); line+=", 14 x cdo fldmean ${tk[-1]} s"
  fi
  echo "$line"
done
# The same numbers: every mean of stats.csv against CDO's.
maxrel=$(python3 - "$out" <<'PY'
import csv, subprocess, sys
out = sys.argv[1]
ours = {}
for r in csv.DictReader(open(out + "/only/stats.csv")):
    if r["op"] == "mean" and r["value"]:
        ours[(r["region"], r["variable"], r["time"][:10], r["time"][11:19])] = float(r["value"])
worst, n = 0.0, 0
for region in sorted({k[0] for k in ours}):
    tab = subprocess.run(["cdo", "-s", "outputtab,name,date,time,value", out + "/cdo/" + region + ".nc"], capture_output=True, text=True, check=True).stdout
    for line in tab.splitlines():
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        mine = ours[(region, f[0], f[1], f[2])]
        worst = max(worst, abs(mine - float(f[3])) / max(abs(float(f[3])), 1e-300))
        n += 1
if n != len(ours):
    sys.exit("compared %d values of %d" % (n, len(ours)))
print("%.2g over %d means (the others have no valid cell: land)" % (worst, n))
PY
)
mc=$(median "${tc[@]}"); mcs=$(median "${tcs[@]}"); ms=$(median "${ts[@]}"); mk=$(median "${tk[@]}")
echo
echo "input:                     $in ($(du -h "$in" | cut -f1)); 14 regions x 16 steps x 2 variables"
echo "cut alone (median):        $mc s, peak RSS $(( $(median "${rc[@]}") / 1024 )) MiB"
echo "cut + statistics (median): $mcs s, peak RSS $(( $(median "${rcs[@]}") / 1024 )) MiB"
echo "statistics only (median):  $ms s, peak RSS $(( $(median "${rs[@]}") / 1024 )) MiB"
echo "14 x cdo fldmean (median): $mk s"
echo "ratio cut+stats/cut:       $(echo "scale=3; $mcs / $mc" | bc)"
echo "ratio stats-only/cdo:      $(echo "scale=4; $ms / $mk" | bc)   (target <= 0.1)"
echo "same numbers as cdo:       largest relative difference $maxrel"

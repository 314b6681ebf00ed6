#!/usr/bin/env bash
# Server benchmark (not a test): prints figures and ratios.
#  1. turnaround of a one-region job on a small file (POST -> successful,
#     polled every 5 ms) versus one ncks call on the same box;
#  2. the 14-region job of the engine benchmark (bench/africa14.json on a
#     16 x 1800 x 3600 NetCDF-4 file) through the server with 2 workers
#     versus 14 sequential ncks calls (target <= 0.35);
#  3. GET /v1/jobs/{id} throughput and latency with 50 connections (wrk,
#     installed with apt-get when missing; target >= 5,000 requests/s).
# Usage: bench/server.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
. bench/common.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
data=$dir/serve_data
state=$(mktemp -d)
rm -rf "$data" && mkdir -p "$data"
ln "$in" "$data/sst.nc" 2>/dev/null || cp "$in" "$data/sst.nc"   # symlinks out of the data dir are refused
ncgen -k nc4 -o "$data/small.nc" testdata/grids/global2deg.cdl
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
bin/subsetd serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --workers 2 --log-level warn 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
cat "$in" >/dev/null   # warm the page cache for both sides

# job BODY -> seconds from POST to a final status (prints "secs id status")
job() {
  python3 - "$url" "$1" <<'PY'
import json, sys, time, urllib.request
url, body = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
req = urllib.request.Request(url + "/v1/jobs", data=body.encode(), headers={"Content-Type": "application/json"})
j = json.load(urllib.request.urlopen(req))
while j["status"] in ("accepted", "running"):
    time.sleep(0.005)
    j = json.load(urllib.request.urlopen(url + "/v1/jobs/" + j["id"]))
print("%.4f %s %s" % (time.perf_counter() - t0, j["id"], j["status"]))
PY
}
now() { date +%s.%N; }

echo "== 1. one region on a small file (90 x 180), $rounds rounds"
one='{"dataset": "small", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]}]}'
job "$one" >/dev/null   # warm-up: dataset description, first worker start
t1=(); t2=()
for ((i = 1; i <= rounds; i++)); do
  read -r t id st < <(job "$one"); t1+=("$t")
  s=$(now); ncks -O -4 -L 1 -d lat,-35.,-15. -d lon,8.,20. "$data/small.nc" "$dir/ncks_one.nc"; e=$(now)
  t2+=("$(echo "$e - $s" | bc)")
  echo "round $i: server $t s ($st), ncks ${t2[-1]} s"
done
m1=$(median "${t1[@]}"); m2=$(median "${t2[@]}")
echo "median: server $m1 s, ncks $m2 s, ratio $(echo "scale=2; $m1 / $m2" | bc)"

echo
echo "== 2. 14 regions (bench/africa14.json) on $in ($(du -h "$in" | cut -f1)), 2 workers, $rounds rounds"
body=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["dataset"]="sst"; print(json.dumps(r))' bench/africa14.json)
names=$(python3 -c 'import json,sys; [print(r["name"], *["%.6f" % x for x in r["bbox"]]) for r in json.load(open(sys.argv[1]))["regions"]]' bench/africa14.json)
ts=(); tn=()
for ((i = 1; i <= rounds; i++)); do
  read -r t id st < <(job "$body"); ts+=("$t")
  rm -rf "$dir/out_ncks"; mkdir -p "$dir/out_ncks"
  s=$(now)
  while read -r name w so e n; do
    ncks -O -4 -L 1 -d lat,"$so","$n" -d lon,"$w","$e" "$in" "$dir/out_ncks/$name.nc" 2>>"$dir/ncks.log"
  done <<<"$names"
  e=$(now); tn+=("$(echo "$e - $s" | bc)")
  echo "round $i: server $t s ($st), 14 x ncks ${tn[-1]} s"
done
ms=$(median "${ts[@]}"); mn=$(median "${tn[@]}")
echo "median: server $ms s, 14 x ncks $mn s, ratio $(echo "scale=3; $ms / $mn" | bc)   (target <= 0.35)"

echo
echo "== 3. GET /v1/jobs/{id} with 50 connections, 10 s (wrk -t2 -c50)"
wrk -t2 -c50 -d10s --latency "$url/v1/jobs/$id" | tee "$dir/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
echo
echo "summary: one-region turnaround $m1 s (ncks $m2 s); 14 regions $ms s vs $mn s (ratio $(echo "scale=3; $ms / $mn" | bc)); GET job $rps req/s, p99 $p99 (target >= 5000 req/s)"

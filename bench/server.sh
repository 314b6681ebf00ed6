#!/usr/bin/env bash
# Server benchmark (not a test): prints figures and ratios, in one run.
#  0. the CPU the idle server uses (River's polling, maintenance);
#  1. a one-region job on a small file (POST -> the final status event of
#     the job's event stream) versus one ncks call on the same box (target <= 1.5);
#  2. the 14-region job of the engine benchmark (bench/africa14.json on a
#     16 x 1800 x 3600 NetCDF-4 file) through the server with 2 workers
#     versus 14 sequential ncks calls (target <= 0.20), and the peak RSS of
#     the worker processes;
#  3. with 150 finished jobs stored, GET /v1/jobs?limit=100 and
#     GET /v1/jobs/{id} at 50 connections (wrk, installed with apt-get when
#     missing; targets >= 5,000 requests/s and p99 < 20 ms).
# Usage: bench/server.sh [ROUNDS] [INPUT]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
. bench/common.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
in=${2:-$in}
data=$dir/serve_data
state=$(mktemp -d)
rm -rf "$data" && mkdir -p "$data"
ln "$in" "$data/sst.nc" 2>/dev/null || cp "$in" "$data/sst.nc"   # symlinks out of the data dir are refused
ncgen -k nc4 -o "$data/small.nc" testdata/grids/global2deg.cdl
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
bin/subsetd serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --auth none --workers 2 --log-level warn 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 300); do curl -sf "$url/readyz" | grep -q '"indexed":true' && break; sleep 0.1; done
cat "$in" >/dev/null   # warm the page cache for both sides

echo "== 0. the idle server's CPU (its workers waiting), over 5 s"
ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
t0=$(ticks); sleep 5; t1=$(ticks)
echo "idle CPU: $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) * 100 / (5 * hz)}')% of a core"

echo "== 1. one region on a small file (90 x 180), $rounds rounds"
echo '{"dataset": "small", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]}]}' > "$dir/one.json"
bench/server_jobs.py "$url" "$dir/one.json" "$rounds" \
  "ncks -O -4 -L 1 -d lat,-35.,-15. -d lon,8.,20. $data/small.nc $dir/ncks_one.nc" bin/subsetd | tee "$dir/one.txt"

echo
echo "== 2. 14 regions (bench/africa14.json) on $in ($(du -h "$in" | cut -f1)), 2 workers, $rounds rounds"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["dataset"]="sst"; print(json.dumps(r))' bench/africa14.json > "$dir/job14.json"
bench/server_jobs.py "$url" "$dir/job14.json" "$rounds" "bench/ncks14.sh bench/africa14.json $in $dir/out_ncks" bin/subsetd | tee "$dir/job14.txt"
id=$(awk '/^last job:/ {print $3}' "$dir/job14.txt")

echo
echo "== 3. reads at 50 connections, 10 s each (wrk -t2 -c50), 150 jobs stored"
for i in $(seq 150); do
  curl -sf -H 'Content-Type: application/json' -d @"$dir/one.json" "$url/v1/jobs" >/dev/null
done
python3 - "$url" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
for _ in range(600):
    l = json.load(urllib.request.urlopen(url + "/v1/jobs?status=accepted,running&limit=1"))
    if not l["jobs"]:
        break
    time.sleep(0.2)
PY
for path in "/v1/jobs?limit=100" "/v1/jobs/$id"; do
  wrk -t2 -c50 -d10s --latency "$url$path" > "$dir/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
  echo "GET $path: $rps requests/s, p50 $p50, p99 $p99"
done

#!/usr/bin/env bash
# Push and packaging benchmark (not a test): prints figures, in one run.
#  1. GET /v1/jobs/{id} of a running job at 50 connections (wrk -t2 -c50,
#     10 s) without event streams and with 500 Server-Sent Events streams
#     open on ten running jobs (bench/sseload), ROUNDS times in turn,
#     medians; the streams held to the end are counted. The jobs are kept running by
#     the worker's test delay (SUBSETD_TEST_TASK_DELAY), so the streams are
#     what a dashboard holds: open, idle but for heartbeats.
#  2. a job of the 14 regions of bench/africa14.json and the four quarters
#     of the globe on the benchmark input, once; then its files downloaded as GET /v1/jobs/{id}/files.zip and one by
#     one (the same bytes, one connection), ROUNDS times each: MB/s, median.
# Usage: bench/push.sh [ROUNDS (3)] [STREAMS (500)]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
streams=${2:-500}
. bench/common.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
go build -o bin/sseload ./bench/sseload
ulimit -n 4096 2>/dev/null || true
data=$dir/push_data
rm -rf "$data" && mkdir -p "$data"
ln "$in" "$data/sst.nc" 2>/dev/null || cp "$in" "$data/sst.nc"
ncgen -k nc4 -o "$data/small.nc" testdata/grids/global2deg.cdl
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=() states=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "${states[@]}"; }
trap cleanup EXIT
# serve PORT [ENV=VALUE]: a server on the data, auth none, 2 workers.
serve() {
  local port=$1 state; state=$(mktemp -d); states+=("$state")
  env "${@:2}" bin/subsetd serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --auth none --workers 2 --warm-workers 0 --log-level warn 2>>"$dir/push_serve.log" &
  pids+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "server on $port not ready" >&2; exit 1
}
submit() { curl -sf -H 'Content-Type: application/json' -d "$2" "$1/v1/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
rate() { # wrk on URL: requests/s, p50, p99
  wrk -t2 -c50 -d10s --latency "$1" > "$dir/push_wrk.txt"
  echo "$(awk '/Requests\/sec/ {print $2}' "$dir/push_wrk.txt") requests/s, p50 $(awk '$1 == "50%" {print $2}' "$dir/push_wrk.txt"), p99 $(awk '$1 == "99%" {print $2}' "$dir/push_wrk.txt")"
}

echo "== 1. polling beside $streams open event streams"
port=$(freeport); url=http://127.0.0.1:$port
serve "$port" SUBSETD_TEST_TASK_DELAY=1h
one='{"dataset": "small", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]}]}'
ids=()
for i in $(seq 10); do ids+=("$(submit "$url" "$one")"); done
sleep 1
poll=$url/v1/jobs/${ids[0]}
status=$(curl -sf "$poll" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
echo "polled: GET /v1/jobs/{id} of a $status job"
# Rounds alternate, so that the shared machine's load falls on both sides.
without=() with=()
for r in $(seq "$rounds"); do
  without+=("$(rate "$poll")")
  coproc SSE { bin/sseload -url "$url" -jobs "$(IFS=,; echo "${ids[*]}")" -n "$streams" -hold 10m; }
  read -r line <&"${SSE[0]}"
  with+=("$(rate "$poll")")
  exec {SSE[1]}>&-   # close sseload's input: it lets the streams go
  read -r line <&"${SSE[0]}"
  wait "$SSE_PID" 2>/dev/null || true
  echo "round $r: without ${without[-1]}; with ${with[-1]}; streams: $line; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
rps() { printf '%s\n' "$@" | awk '{print $1}'; }
echo "median without streams: $(median $(rps "${without[@]}")) requests/s"
echo "median with $streams streams: $(median $(rps "${with[@]}")) requests/s"
echo
echo "== 2. files.zip vs plain downloads of the same files, $rounds rounds"
port=$(freeport); url=http://127.0.0.1:$port
serve "$port"
# The 14 regions of the engine benchmark and four quarters of the globe:
# files of a few hundred KB to tens of MB.
job=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); r["dataset"] = "sst"
r["regions"] += [{"name": f"q{i}", "bbox": b} for i, b in enumerate([[-180, -90, 0, 0], [0, -90, 180, 0], [-180, 0, 0, 90], [0, 0, 180, 90]])]
print(json.dumps(r))' bench/africa14.json)
id=$(submit "$url" "$job")
python3 - "$url/v1/jobs/$id" "$url" "$dir/push_files.txt" <<'PY'
import json, sys, time, urllib.request
job, base, out = sys.argv[1:]
for _ in range(3000):
    j = json.load(urllib.request.urlopen(job))
    if j["status"] not in ("accepted", "running"):
        break
    time.sleep(0.1)
assert j["status"] == "successful", j["status"]
files = [f for r in j["regions"] for f in r["files"]]
with open(out, "w") as fh:
    for f in files:
        fh.write(f'url = "{base}{f["href"]}"\noutput = "/dev/null"\n')
print(f'{len(files)} files, {sum(f["size"] for f in files) / 1e6:.1f} MB')
PY
now() { date +%s.%N; }
zips=() plains=()
for _ in $(seq "$rounds"); do
  t0=$(now); bytes=$(curl -sf -o /dev/null -w '%{size_download}' "$url/v1/jobs/$id/files.zip"); t1=$(now)
  zips+=("$(echo "$bytes $t0 $t1" | awk '{printf "%.1f", $1 / 1e6 / ($3 - $2)}')")
  t0=$(now); pbytes=$(curl -sf -K "$dir/push_files.txt" -w '%{size_download}\n' | awk '{s += $1} END {print s}'); t1=$(now)
  plains+=("$(echo "$pbytes $t0 $t1" | awk '{printf "%.1f", $1 / 1e6 / ($3 - $2)}')")
done
echo "files.zip: $(median "${zips[@]}") MB/s ($bytes bytes; rounds: ${zips[*]})"
echo "one by one: $(median "${plains[@]}") MB/s ($pbytes bytes; rounds: ${plains[*]})"

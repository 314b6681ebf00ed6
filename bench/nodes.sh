#!/usr/bin/env bash
# Several-node benchmark (not a test): prints figures.
#  1. the queue's own cost per task with no-op tasks (no worker process:
#     submission transaction, River, StartTask, FinishTask) on SQLite and on
#     PostgreSQL: tasks/s, and on PostgreSQL database round trips per task,
#     round trips per second of an idle node, connections per node
#     (BenchmarkQueueNoop in jobs/queue);
#  2. the 14-region job (bench/africa14.json on the 16 x 1800 x 3600 input
#     of bench/common.sh) on 1 node and on 3 nodes (2 workers each) on one
#     PostgreSQL and one state directory: one job at a time (median of
#     ROUNDS), and 6 jobs submitted at once, round-robin (wall time);
#     the single node on SQLite beside them.
# PostgreSQL: a throwaway cluster in /tmp (initdb as the postgres user when
# run as root; a Unix socket, no TCP), removed at the end.
# Usage: bench/nodes.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
. bench/common.sh

echo "== 1. queue cost per no-op task (300 tasks, 8 River workers, 4 submitters)"
go test -run '^$' -bench BenchmarkQueueNoop -benchtime 3x ./jobs/queue/ | grep Benchmark

pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
pg=$(mktemp -d /tmp/subsetd-bench-pg.XXXX)
as=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg"; as=(runuser -u postgres --); fi
"${as[@]}" "$pgbin/initdb" -D "$pg/data" -A trust -U postgres --no-sync >/dev/null
"${as[@]}" "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories=$pg -c max_connections=200" start >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "${as[@]}" "$pgbin/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg" "${states[@]}"
}
states=()
trap cleanup EXIT
psql() { "$pgbin/psql" -h "$pg" -U postgres -q "$@"; }

data=$dir/nodes_data
rm -rf "$data" && mkdir -p "$data"
ln "$in" "$data/sst.nc" 2>/dev/null || cp "$in" "$data/sst.nc"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["dataset"]="sst"; print(json.dumps(r))' bench/africa14.json > "$dir/nodes_job14.json"
cat "$in" >/dev/null

# start_nodes N DATABASE: N nodes on one new state directory; sets urls.
start_nodes() {
  local n=$1 db=$2 state
  state=$(mktemp -d); states+=("$state")
  urls=()
  for i in $(seq "$n"); do
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local dbflag=()
    [ -n "$db" ] && dbflag=(--database "$db")
    bin/subsetd serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --auth none --workers 2 --warm-workers 2 \
      --log-level warn "${dbflag[@]}" 2>>"$dir/nodes_serve.log" &
    pids+=($!)
    urls+=("http://127.0.0.1:$port")
  done
  for u in "${urls[@]}"; do
    for _ in $(seq 300); do curl -sf "$u/readyz" >/dev/null && break; sleep 0.1; done
  done
}
stop_nodes() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

# run_jobs ROUNDS URL...: the 14-region job ROUNDS times one at a time
# (median seconds), then 6 at once, round-robin over the URLs (wall seconds).
run_jobs() {
  python3 - "$dir/nodes_job14.json" "$@" <<'PY'
import json, statistics, sys, time, urllib.request
body, rounds, urls = open(sys.argv[1]).read().encode(), int(sys.argv[2]), sys.argv[3:]
def submit(u):
    r = urllib.request.Request(u + "/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r))["id"]
def wait(u, ids):
    for i in ids:
        while True:
            j = json.load(urllib.request.urlopen(u + "/v1/jobs/" + i))
            if j["status"] not in ("accepted", "running"):
                if j["status"] != "successful":
                    sys.exit("job %s: %s" % (i, j["status"]))
                break
            time.sleep(0.01)
one = []
for k in range(rounds):
    t0 = time.perf_counter()
    wait(urls[0], [submit(urls[k % len(urls)])])
    one.append(time.perf_counter() - t0)
t0 = time.perf_counter()
ids = [submit(urls[k % len(urls)]) for k in range(6)]
wait(urls[-1], ids)
six = time.perf_counter() - t0
print("  one job: median %.2f s (%s)   6 jobs at once: %.2f s (%.2f jobs/s)" % (
    statistics.median(one), " ".join("%.2f" % x for x in one), six, 6 / six))
PY
}

echo
echo "== 2. 14 regions on $in ($(du -h "$in" | cut -f1)), 2 workers per node, $rounds rounds, $(nproc) cores"
echo "1 node, SQLite:"
start_nodes 1 ""
run_jobs "$rounds" "${urls[@]}"
stop_nodes
for n in 1 3; do
  psql -d postgres -c "CREATE DATABASE nodes$n"
  psql -d "nodes$n" -c "CREATE EXTENSION postgis"
  db="postgres:///nodes$n?host=$pg&user=postgres&sslmode=disable"
  echo "$n node(s), PostgreSQL:"
  start_nodes "$n" "$db"
  run_jobs "$rounds" "${urls[@]}"
  conns=$(psql -d postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'nodes$n'")
  echo "  connections to the database: $conns ($n node(s))"
  stop_nodes
done

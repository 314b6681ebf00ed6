#!/usr/bin/env bash
# Polygon benchmark (not a test): the cost of one large polygon through the
# real server. For zigzag Polygons of 20,000 and 60,000 vertices (teeth of
# a comb across the globe, each edge spanning 160° of latitude: the shape
# that made every edge land in thousands of latitude bands) it prints the
# time of the POST, the server's peak RSS after it, the time of the cut and
# the peak RSS of the worker that cut it (a 720 x 1440 grid, overlap rule
# so that every cell is tested against the polygon's edges), each with the
# CPU time it took (the server's during the POST, the worker's: figures that
# a loaded machine changes less than wall-clock times).
# Targets: the 60,000-vertex POST < 1 s, server RSS < 256 MiB.
# Usage: bench/polygon.sh [VERTICES...]   (default 20000 60000; env BENCH_DIR, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir" bin
go build -o bin/subsetd ./cmd/subsetd
go build -o bin/gensample ./testdata/gensample
data=$dir/polygon_data
state=$(mktemp -d)
rm -rf "$data" && mkdir -p "$data"
bin/gensample -out "$data/grid.nc" -nt 1 -nlat 720 -nlon 1440 -deflate 1 -chunks 1,360,360 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
bin/subsetd serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --auth none --workers 1 --warm-workers 0 \
  --log-level warn 2>"$dir/polygon_serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 300); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
python3 - "$url" "$pid" "$dir" "${@:-20000 60000}" <<'PY'
import json, os, sys, time, urllib.request

url, server, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sizes = [int(n) for a in sys.argv[4:] for n in a.split()]

def hwm(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0

def cpu(pid):
    """CPU seconds (user + system) a process has used."""
    try:
        st = open("/proc/%d/stat" % pid).read()
        f = st[st.rindex(")") + 2:].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0

def workers():
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % p).read()
            cmd = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == server and len(cmd) > 1 and cmd[1] == b"worker":
            out.append(int(p))
    return out

def zigzag(n):
    teeth = n - 5
    pos = [[round(-179 + 358 * i / (teeth - 1), 4), 80 if i % 2 else -80] for i in range(teeth)]
    pos += [[179, -85], [90, -85], [0, -85], [-90, -85], [-179, -85], [-179, -80]]
    return {"type": "Polygon", "coordinates": [pos]}

print("vertices  body      POST (server CPU)     server peak RSS  cut (worker CPU)    worker peak RSS  status")
for n in sizes:
    body = json.dumps({"dataset": "grid", "select": "overlap", "regions": [{"name": "zigzag%d" % n, "geometry": zigzag(n)}]},
                      separators=(",", ":")).encode()
    req = urllib.request.Request(url + "/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    c0 = cpu(server)
    t0 = time.monotonic()
    try:
        resp = urllib.request.urlopen(req)
        doc = json.load(resp)
    except urllib.error.HTTPError as e:
        print("%-9d %-9s POST answered %d: %s" % (n, "%.0f KB" % (len(body) / 1000), e.code, e.read().decode()[:300]))
        continue
    post = time.monotonic() - t0
    pcpu = cpu(server) - c0
    srss = hwm(server)
    peak, t1, wcpu = 0.0, time.monotonic(), {}
    while True:
        for w in workers():
            peak = max(peak, hwm(w))
            wcpu[w] = cpu(w)
        d = json.load(urllib.request.urlopen(url + "/v1/jobs/" + doc["id"]))
        if d["status"] in ("successful", "failed", "dismissed"):
            break
        time.sleep(0.02)
    cut = time.monotonic() - t1
    msg = d["status"]
    if d["status"] != "successful":
        msg += ": " + "; ".join(r.get("message", "") for r in d["regions"])
    print("%-9d %-9s %-21s %-16s %-19s %-16s %s" % (n, "%.0f KB" % (len(body) / 1000), "%.3f s (%.2f s)" % (post, pcpu), "%.0f MiB" % srss,
                                                     "%.1f s (%.1f s)" % (cut, sum(wcpu.values())), "%.0f MiB" % peak, msg))
PY

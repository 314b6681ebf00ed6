#!/usr/bin/env bash
# The README's first command: starts `subsetd serve` on generated sample data,
# submits a job of 14 African coastal regions plus a named zone with the
# command line as a client (subsetd submit --wait), downloads every file
# (subsetd fetch: sha256 checked against the manifest), prints a line of
# values per region (valid cells, mean), then stops the server. It serves with API keys, as for others: the demo
# makes a key of its own (revoking the previous demo's). Leaves the outputs
# in var/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/subsetd
# Debian's python3 (python3-netcdf4, installed by scripts/setup.sh) reads the files.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
data=var/sample/data
state=var/sample/state
mkdir -p "$data" var/sample/out
[ -s "$data/sst.nc" ] || go run ./testdata/gensample -out "$data/sst.nc"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
$bin keys revoke demo --state "$state" 2>/dev/null || true
key=$($bin keys create --name demo --state "$state" 2>/dev/null)
echo "== subsetd keys create --name demo --state $state -> ${key:0:9}..."
auth="Authorization: Bearer $key"
echo "== subsetd serve --data $data --state $state --addr 127.0.0.1:$port (log: var/sample/serve.log)"
$bin serve --data "$data" --state "$state" --addr "127.0.0.1:$port" --log-level warn 2>var/sample/serve.log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "$url/readyz" | grep -q '"indexed":true' && break; sleep 0.1; done

echo "== GET /v1/datasets/sst"
curl -sf -H "$auth" "$url/v1/datasets/sst" | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in d if k in ("id","kind","file_count","extent","time")})' || true

echo "== subsetd submit --wait --regions bench/africa14.json --region africa/benguela_current --vars sst --time 2020-01-03/2020-01-10 sst"
export SUBSETD_SERVER=$url SUBSETD_KEY=$key
job=$($bin submit --wait --regions bench/africa14.json --region africa/benguela_current \
          --vars sst --time 2020-01-03/2020-01-10 sst)
echo "   job $job (subsetd status $job shows it again)"
out=var/sample/out/demo
rm -rf "$out"
echo "== subsetd fetch --out $out $job   (every file, sha256 checked against the manifest)"
$bin fetch --out "$out" "$job" >var/sample/out/demo.files
echo "== what the files hold (sst over the kept cells, fill left out)"
# Every region must hold ocean: a region all fill would mean the sample
# and the regions no longer meet.
$py - var/sample/out/demo.files <<'PY'
import os, sys
import netCDF4, numpy as np
bad = []
for path in open(sys.argv[1]).read().split():   # in the job's order
    with netCDF4.Dataset(path) as ds:
        v = ds["sst"]
        a = np.ma.masked_invalid(v[:])
        n, total = int(a.count()), a.size
        name = os.path.basename(path)[:-3]
        if n == 0:
            bad.append(name)
            print("   %-26s %6d of %6d cells valid" % (name, n, total))
        else:
            print("   %-26s %6d of %6d cells valid, mean %.2f %s (min %.2f, max %.2f)" % (name, n, total, a.mean(), v.units, a.min(), a.max()))
if bad:
    sys.exit("regions without a valid cell: " + ", ".join(bad))
PY

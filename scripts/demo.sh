#!/usr/bin/env bash
# The README's first command: starts `subsetd serve` on generated sample data,
# submits a job of 14 African coastal regions plus a named zone over HTTP,
# polls it to the end, downloads a file and checks it against the manifest,
# then stops the server. It serves with API keys, as for others: the demo
# makes a key of its own (revoking the previous demo's). Leaves the outputs
# in var/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/subsetd
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
for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done

echo "== GET /v1/datasets/sst"
curl -sf -H "$auth" "$url/v1/datasets/sst" | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in d if k in ("id","kind","file_count","extent","time")})' || true

body=$(python3 - <<'PY'
import json
regions = json.load(open("bench/africa14.json"))["regions"]
regions.append({"ref": "africa/benguela_current"})
print(json.dumps({"dataset": "sst", "regions": regions, "variables": ["sst"],
                  "time": {"start": "2020-01-03", "end": "2020-01-10"}}))
PY
)
echo "== POST /v1/jobs (15 regions)"
loc=$(curl -sf -D - -o /dev/null "$url/v1/jobs" -H "$auth" -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$$" -d "$body" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
echo "   Location: $loc"
status=""
for _ in $(seq 600); do
  status=$(curl -sf -H "$auth" "$url$loc" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["progress"])')
  case $status in successful*|failed*|dismissed*) break ;; esac
  sleep 0.2
done
echo "== GET $loc -> $status"
curl -sf -H "$auth" "$url$loc" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["regions"]:
    f = r.get("files") or [{}]
    print("   %-24s %-10s %8s bytes  %s" % (r["name"], r["status"], f[0].get("size", ""), f[0].get("href", r.get("message", ""))))'
href=$(curl -sf -H "$auth" "$url$loc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["regions"][7]["files"][0]["href"])')
curl -sf -H "$auth" -o var/sample/out/benguela.nc "$url$href"
want=$(curl -sf -H "$auth" "$url$loc/manifest.json" | python3 -c 'import json,sys; m=json.load(sys.stdin); print([f["sha256"] for f in m["files"] if f["name"]=="benguela.nc"][0])')
got=$(sha256sum var/sample/out/benguela.nc | cut -d' ' -f1)
echo "== downloaded var/sample/out/benguela.nc: sha256 $got ($([ "$got" = "$want" ] && echo matches || echo DOES NOT MATCH) the manifest)"
[ "$got" = "$want" ] && [[ $status == successful* ]]

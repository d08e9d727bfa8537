#!/usr/bin/env bash
# Load benchmark of `rewardkit serve` against a FastAPI + uvicorn server
# with the same reward (baseline_server.py), in the same run, with wrk.
#   bench/server/run.sh BUILD_DIR [SECONDS per run, default 10] [SOAK seconds, default 0]
# Prints a table and the commands to reproduce it. Needs wrk and Debian's
# python3-fastapi python3-uvicorn (scripts/deps.sh bench).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
secs=${2:-10}
soak=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/bench/out/server"
mkdir -p "$out"
py=/usr/bin/python3

# Request bodies: 1 record and 256 records of realistic 2-4 KB rollouts.
data="$root/bench/out/records.jsonl"
[ -s "$data" ] || python3 "$root/bench/gen_records.py" -n 2000 -o "$data" >/dev/null
python3 - "$data" "$out" <<'PY'
import json, sys
recs = []
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        recs.append({"response": r["response"], "reference": r["reference"]})
        if len(recs) == 256:
            break
json.dump(recs[:1], open(sys.argv[2] + "/one.json", "w"))
json.dump(recs, open(sys.argv[2] + "/batch.json", "w"))
PY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p1=$(free_port); p2=$(free_port)
"$build/rewardkit" serve --spec "$here/spec.json" --port "$p1" --threads 2 --quiet \
  --max-connections 2048 2>"$out/rk.log" &
rk=$!
(cd "$here" && exec $py -m uvicorn baseline_server:app --host 127.0.0.1 --port "$p2" \
  --workers 2 --log-level warning) 2>"$out/py.log" &
pyd=$!
trap 'kill $rk $pyd 2>/dev/null; wait 2>/dev/null' EXIT
for port in $p1 $p2; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
run() {  # name port body records conns secs
  local res
  local t=2; [ "$5" -lt 2 ] && t=1
  res=$(BODY="$out/$3" wrk -t"$t" -c"$5" -d"$6"s -s "$here/post.lua" "http://127.0.0.1:$2/v1/score")
  local rps p50 p99 bad
  rps=$(echo "$res" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$res" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p')
  p99=$(echo "$res" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
  bad=$(echo "$res" | sed -n 's/.*non2xx=\([0-9]*\).*/\1/p')
  local errs
  errs=$(echo "$res" | awk '/Socket errors/ {print $0}')
  printf "%-26s %6s %7s %10.0f %11.0f %8s %8s %6s %s\n" "$1" "$4" "$5" "$rps" \
    "$(echo "$rps * $4" | bc -l)" "$p50" "$p99" "${bad:-0}" "$errs"
  echo "$1 $4 $rps" >>"$out/rates"
}
: >"$out/rates"
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1 /proc/loadavg)"
echo "== wrk -t2, ${secs}s per run; the load generator shares the 2 CPUs with the server"
printf "%-26s %6s %7s %10s %11s %8s %8s %6s\n" server records conns "req/s" "records/s" p50_ms p99_ms non2xx
run "rewardkit serve" "$p1" one.json 1 32 "$secs"
run "python fastapi+uvicorn" "$p2" one.json 1 32 "$secs"
run "rewardkit serve" "$p1" batch.json 256 8 "$secs"
run "python fastapi+uvicorn" "$p2" batch.json 256 8 "$secs"
max1=$(awk '$1 == "rewardkit" && $3 == 1 {print $4; exit}' "$out/rates")
half=$(printf "%.0f" "$(echo "$max1 / 2" | bc -l)")
echo "== latency at half the maximum rate: open loop, $half req/s of 1-record requests, 16 connections"
echo "   (bench_http_rate: latency from each request's scheduled send time)"
echo "   rewardkit serve: $("$build/bench_http_rate" "$p1" "$out/one.json" "$half" "$secs" 16 || true)"
python3 - "$out/rates" <<'PY'
import sys
rates = {}
for line in open(sys.argv[1]):
    *name, recs, rps = line.split()
    rates.setdefault((" ".join(name), recs), []).append(float(rps) * int(recs))
for recs in ("1", "256"):
    rk = rates[("rewardkit serve", recs)][0]
    py = rates[("python fastapi+uvicorn", recs)][0]
    print(f"== {recs}-record requests: rewardkit {rk:.0f} records/s, python {py:.0f}: {rk / py:.1f}x")
PY
if [ "$soak" -gt 0 ]; then
  echo "== soak: ${soak}s at saturation (1-record requests, 64 connections)"
  before=$(rss $rk)
  run "rewardkit serve (soak)" "$p1" one.json 1 64 "$soak"
  after=$(rss $rk)
  echo "   RSS before ${before} kB, after ${after} kB"
fi
echo "== reproduce: bench/server/run.sh $(realpath --relative-to="$root" "$build") $secs $soak"

#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - the `make bench` end-to-end benchmark.
#
# Scores N synthetic rollouts (default 100000, 2-4 KB responses) through
# bench/mixed_spec.json (format + exact + mcq + soft overlong, routed by
# task): read JSONL, score, write JSONL. In the same run, on the same file:
#   - rewardkit score with 1 and 2 threads (best of RK_BENCH_REPEAT, default 3);
#   - the Python baseline a user writes today (bench/baseline_reward.py),
#     on a prefix when the full file would take more than ~60 s;
#   - floors: `cat IN > /dev/null` (reading the bytes once), `wc -l`, and
#     `cat IN > FILE` (reading and writing them once).
# rewardkit is timed writing its output to a file and to /dev/null (all the
# formatting and write calls, without the page-cache copy of the output).
# Prints the machine, a table (records/s, MB/s, ratio vs Python, cost in
# units of `cat`), the agreement of rewardkit's rewards with the baseline's,
# and the commands to reproduce. Not a test: nothing here asserts a speed.
# Exits non-zero if rewardkit fails or writes the wrong number of lines.
#
# Environment: RK_BENCH_N (records), RK_BENCH_REPEAT (runs per timing),
# RK_BENCH_PY_MAX_S (budget for the Python run, default 60).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bench/run.sh BUILD_DIR   (e.g. bench/run.sh build)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "$1" && pwd)
rk="$build/rewardkit"
spec="$here/mixed_spec.json"
out="$here/out"
N=${RK_BENCH_N:-100000}
REPEAT=${RK_BENCH_REPEAT:-3}
PY_MAX_S=${RK_BENCH_PY_MAX_S:-60}
PY=${PYTHON:-python3}

if [ ! -x "$rk" ]; then
  echo "bench: no rewardkit binary at $rk (build first: make build)" >&2
  exit 1
fi
mkdir -p "$out"
data="$out/records.jsonl"

now() { date +%s.%N; }
# best_of VAR PREP CMD...: runs PREP (untimed) then CMD, $REPEAT times, and
# stores the fastest wall time of CMD.
best_of() {
  local __var=$1 __prep=$2
  shift 2
  local best="" t0 t1 dt
  for ((i = 0; i < REPEAT; i++)); do
    $__prep
    t0=$(now)
    "$@"
    t1=$(now)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    if [ -z "$best" ] || awk -v d="$dt" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$dt; fi
  done
  printf -v "$__var" '%s' "$best"
}

echo "== machine"
echo "  cpu:     $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) online CPUs)"
echo "  kernel:  $(uname -srm)"
echo "  python:  $($PY --version 2>&1)"
echo "  binary:  $rk ($("$rk" --version))"
read -r l1 l5 _ < /proc/loadavg
echo "  load:    $l1 (1 min), $l5 (5 min) before the run"
if awk -v l="$l1" 'BEGIN { exit !(l > 0.5) }'; then
  echo "  warning: the machine is busy (load $l1 on $(nproc) CPUs); figures, the 2-thread ones above all, will be low"
fi

echo "== data"
# Generated once per (generator, N); reused by later runs when unchanged.
stamp="$(cksum < "$here/gen_records.py" | cut -d' ' -f1)-$N"
if [ -s "$data" ] && [ "$(cat "$out/records.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "  reusing $data"
else
  t0=$(now)
  "$PY" "$here/gen_records.py" -n "$N" -o "$data"
  echo "$stamp" > "$out/records.stamp"
  echo "  generated in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
fi
bytes=$(stat -c %s "$data")
lines=$(wc -l < "$data")
echo "  $data: $lines records, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
if [ "$lines" -ne "$N" ]; then
  echo "bench: expected $N records in $data, found $lines" >&2
  exit 1
fi

echo "== spec"
if ! "$rk" validate "$spec" > /dev/null 2> "$out/validate.err"; then
  cat "$out/validate.err" >&2
  echo "bench: rewardkit cannot load $spec" >&2
  exit 1
fi
echo "  $spec: valid"

echo "== timing (best of $REPEAT)"
# Writing a fresh file costs far less than overwriting a big one that is
# still dirty in the page cache: every timed run that writes a file starts
# from a deleted output and a sync (both untimed).
fresh() { rm -f "$out"/rk_t?.jsonl "$out/copy.jsonl" "$out/py.jsonl"; sync; }
cat "$data" > /dev/null # warm the page cache
best_of t_cat : sh -c "cat '$data' > /dev/null"
best_of t_wc : sh -c "wc -l < '$data' > /dev/null"
best_of t_cp fresh sh -c "cat '$data' > '$out/copy.jsonl'"
rm -f "$out/copy.jsonl"

rk_run() { # threads output
  if ! "$rk" score --spec "$spec" --threads "$1" --quiet "$data" -o "$2"; then
    echo "bench: rewardkit score --threads $1 failed" >&2
    exit 1
  fi
}
best_of t_rk1n : rk_run 1 /dev/null
best_of t_rk2n : rk_run 2 /dev/null
best_of t_rk2 fresh rk_run 2 "$out/rk_t2.jsonl"
mv "$out/rk_t2.jsonl" "$out/rk_t2.keep"
best_of t_rk1 fresh rk_run 1 "$out/rk_t1.jsonl"
mv "$out/rk_t2.keep" "$out/rk_t2.jsonl"
for t in 1 2; do
  got=$(wc -l < "$out/rk_t$t.jsonl")
  if [ "$got" -ne "$N" ]; then
    echo "bench: rewardkit --threads $t wrote $got lines for $N records" >&2
    exit 1
  fi
done
if cmp -s "$out/rk_t1.jsonl" "$out/rk_t2.jsonl"; then
  same_out="identical"
else
  same_out="DIFFERENT (bug: output must not depend on the thread count)"
fi

# Python: time a 10k prefix, then the whole file if it fits the budget.
py_n=$((N < 10000 ? N : 10000))
sync
t0=$(now)
"$PY" "$here/baseline_reward.py" --limit "$py_n" "$data" "$out/py.jsonl" 2> /dev/null
t_py=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.6f", b - a }')
if [ "$py_n" -lt "$N" ] && awk -v t="$t_py" -v n="$py_n" -v N="$N" -v m="$PY_MAX_S" \
  'BEGIN { exit !(t * N / n <= m) }'; then
  py_n=$N
  rm -f "$out/py.jsonl"
  sync
  t0=$(now)
  "$PY" "$here/baseline_reward.py" "$data" "$out/py.jsonl" 2> /dev/null
  t_py=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.6f", b - a }')
fi
py_bytes=$(head -n "$py_n" "$data" | wc -c)

echo
printf '%-34s %7s %8s %9s %11s %8s %10s %8s\n' tool threads records seconds records/s MB/s "vs Python" "x cat"
row() { # name threads records seconds bytes
  awk -v name="$1" -v th="$2" -v n="$3" -v t="$4" -v b="$5" -v pyr="$py_n" -v pyt="$t_py" \
    -v cat_t="$t_cat" -v N="$N" 'BEGIN {
      rate = n / t; pyrate = pyr / pyt
      # x cat: time per record over the time cat spends per record
      printf "%-34s %7s %8d %9.3f %11.0f %8.1f %9.1fx %8.1f\n", name, th, n, t, rate, b / 1e6 / t, rate / pyrate, t / cat_t * (N / n)
    }'
}
row "rewardkit score -o FILE" 1 "$N" "$t_rk1" "$bytes"
row "rewardkit score -o FILE" 2 "$N" "$t_rk2" "$bytes"
row "rewardkit score -o /dev/null" 1 "$N" "$t_rk1n" "$bytes"
row "rewardkit score -o /dev/null" 2 "$N" "$t_rk2n" "$bytes"
row "python baseline -> FILE" 1 "$py_n" "$t_py" "$py_bytes"
row "floor: cat IN > /dev/null" 1 "$N" "$t_cat" "$bytes"
row "floor: wc -l IN" 1 "$N" "$t_wc" "$bytes"
row "floor: cat IN > FILE" 1 "$N" "$t_cp" "$bytes"
echo
echo "  records/s = records / wall seconds, including process start, reading the"
echo "  JSONL, scoring and writing the output JSONL; MB/s counts input bytes."
echo "  'x cat' = wall time per record over the time cat takes for the same bytes."
echo "  -o /dev/null still formats and writes every output line; it leaves out the"
echo "  page-cache copy of the output file, whose cost depends on the disk."
if [ "$py_n" -lt "$N" ]; then
  echo "  Python ran on the first $py_n records (the whole file would exceed ${PY_MAX_S} s)."
fi
echo "  rewardkit output with 1 and 2 threads: $same_out"

echo
echo "== agreement with the Python baseline (first $py_n records)"
"$PY" "$here/baseline_reward.py" --compare "$out/rk_t1.jsonl" "$out/py.jsonl" | sed 's/^/  /'

cat <<EOF

== reproduce
  make bench                      # or: bench/run.sh $1
  $PY bench/gen_records.py -n $N -o bench/out/records.jsonl
  $rk score --spec bench/mixed_spec.json --threads 1 --quiet bench/out/records.jsonl -o bench/out/rk_t1.jsonl
  $rk score --spec bench/mixed_spec.json --threads 2 --quiet bench/out/records.jsonl -o bench/out/rk_t2.jsonl
  $rk score --spec bench/mixed_spec.json --threads 1 --quiet bench/out/records.jsonl -o /dev/null
  $PY bench/baseline_reward.py bench/out/records.jsonl bench/out/py.jsonl$([ "$py_n" -lt "$N" ] && echo " --limit $py_n")
  cat bench/out/records.jsonl > /dev/null; cat bench/out/records.jsonl > bench/out/copy.jsonl
  $PY bench/baseline_reward.py --compare bench/out/rk_t1.jsonl bench/out/py.jsonl
EOF

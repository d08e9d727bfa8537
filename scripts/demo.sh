#!/usr/bin/env bash
# `make demo`: scores the bundled rollouts with the R1-style spec (format +
# accuracy, GRPO advantages) and shows what a trainer would receive.
set -euo pipefail
bin=${1:-build/rewardkit}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== $($bin --version)"
echo "== spec: examples/r1_format_accuracy.json"
cat examples/r1_format_accuracy.json
echo
echo "== scoring examples/data/rollouts.jsonl (16 rollouts, 4 prompts x 4 samples)"
$bin score --spec examples/r1_format_accuracy.json --explain \
  examples/data/rollouts.jsonl -o "$out"
echo
echo "== one output record"
head -n 1 "$out"
echo
echo "== per rollout"
python3 - "$out" <<'PY'
import json, sys
print(f"{'id':>3} {'group':5} {'reward':>6} {'status':12} {'advantage':>9}  components / why")
for line in open(sys.argv[1]):
    r = json.loads(line)
    comps = " ".join(f"{k}={v}" for k, v in r["components"].items())
    why = r.get("explain", {}).get("accuracy", "")
    adv = r.get("advantage")
    adv = f"{adv:9.4f}" if isinstance(adv, (int, float)) else f"{'null':>9}"
    rew = r["reward"] if r["reward"] is not None else "null"
    print(f"{r['id']:>3} {r['group']:5} {rew:>6} {r['status']:12} {adv}  {comps}  [{why}]")
PY
echo
echo "== one pair, explained: rewardkit check exact 72 '... #### 72' --arg extract=gsm8k_strict"
$bin check exact 72 'She sold 48 + 24 = 72 clips. #### 72' --arg extract=gsm8k_strict

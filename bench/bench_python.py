"""Throughput of the Python binding against the CLI on the same spec and
data (issue 7): records/s for batches of 256 and 4096 records, given as
JSONL lines (bytes) and as dicts, with 1 and 2 library threads; then the
cost of one call per record (verl's compute_score signature) against the
same reward written in Python.

Usage: python3 bench/bench_python.py BUILD_DIR [RECORDS.jsonl] [N]
(make bench runs it on bench/out/records.jsonl; N records, default 50000).
"""
import json
import os
import subprocess
import sys
import time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
data = sys.argv[2] if len(sys.argv) > 2 else "bench/out/records.jsonl"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
spec = "bench/mixed_spec.json"
os.environ.setdefault("REWARDKIT_LIB", os.path.join(build, "librewardkit.so"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import rewardkit  # noqa: E402

with open(data, "rb") as f:
    lines = [l.rstrip(b"\n") for _, l in zip(range(n), f)]
n = len(lines)
subset = "/tmp/rk_bench_python.jsonl"
with open(subset, "wb") as f:
    f.write(b"\n".join(lines) + b"\n")
dicts = [json.loads(l) for l in lines]


def consume(results):
    """What a trainer does with a step's results before the next step:
    reads the rewards, then lets the dicts go. (Keeping all 50,000 results
    alive instead makes CPython's cyclic GC walk them again and again.)"""
    return sum(r["reward"] or 0.0 for r in results)


def best(fn, repeat=5):
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


rows = []
for threads in (1, 2):
    cli = best(lambda: subprocess.run(
        [os.path.join(build, "rewardkit"), "score", "--quiet", "--threads", str(threads),
         "--spec", spec, subset, "-o", "/dev/null"], check=True))
    rows.append(("CLI (JSONL file -> file)", threads, "-", cli, 1.0))
    scorer = rewardkit.Scorer(spec, threads=threads)
    for batch in (256, 4096):
        t = best(lambda: [consume(scorer.score_jsonl(lines[i:i + batch]))
                          for i in range(0, n, batch)])
        rows.append(("binding, JSONL lines", threads, batch, t, cli / t))
        t = best(lambda: [consume(scorer.score(dicts[i:i + batch]))
                          for i in range(0, n, batch)])
        rows.append(("binding, dicts", threads, batch, t, cli / t))
    scorer.close()

# One record per call, as verl's naive reward manager and EasyR1's
# sequential one call a reward function: the per-call cost against the
# same reward written in Python (bench/baseline_reward.py, verl's
# signature), on the first 20,000 records.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_reward  # noqa: E402
from rewardkit.adapters import verl  # noqa: E402

with open(spec) as f:
    spec_dict = json.load(f)
few = dicts[:20000]
args = [(d["task"], d["response"], d["reference"]) for d in few]
single = rewardkit.Scorer(spec_dict, threads=1)
calls = [
    ("Python reward (baseline)", lambda: [baseline_reward.compute_score(*a) for a in args]),
    ("verl.compute_score", lambda: [verl.compute_score(*a, spec=spec_dict) for a in args]),
    ("Scorer.score([record])", lambda: [single.score([d]) for d in few]),
]
per_call = [(name, best(fn, 3) / len(few)) for name, fn in calls]
base = per_call[0][1]
agree = sum(abs(baseline_reward.compute_score(*a)["score"]
                - verl.compute_score(*a, spec=spec_dict)["score"]) < 1e-9 for a in args)

print(f"bench_python: {n} records of {data}, spec {spec}, load {os.getloadavg()[0]:.2f}")
print(f"{'path':28} {'threads':>7} {'batch':>6} {'seconds':>8} {'records/s':>10} {'vs CLI':>7}")
for name, th, b, t, ratio in rows:
    print(f"{name:28} {th:>7} {b:>6} {t:8.3f} {n / t:10.0f} {ratio:7.0%}")
print(f"\none record per call, {len(few)} records, 1 library thread:")
print(f"{'call':28} {'us/call':>8} {'vs Python':>9}")
for name, t in per_call:
    print(f"{name:28} {t * 1e6:8.2f} {base / t:8.1f}x")
print(f"same score as the Python reward on {agree} of {len(few)} records")
print(f"reproduce: python3 bench/bench_python.py {os.path.relpath(build)} {data} {n}")

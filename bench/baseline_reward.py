#!/usr/bin/env python3
# baseline for benchmarking only: the Python code users write today; not part of rewardkit
#
# The reward that bench/mixed_spec.json computes, written the way verl /
# TRL / EasyR1 users write it (reference/rl_frameworks.md, section b):
#   format   R1 regex fullmatch  <think>.*?</think>\s*<answer>.*?</answer>  (EasyR1 r1v, VLM-R1)
#   answer   the last <answer>(.*?)</answer>                                (search-R1, r1v)
#   exact    SQuAD normalisation: lower, drop string.punctuation, articles, whitespace
#   mcq      the option letter, "(B)" first, else the last standalone A-E
#   length   TRL get_soft_overlong_punishment(max 4096, cache 1024) on len(response)
# reward = 0.1 * format + 0.9 * accuracy + soft_overlong, by task ("math" / "mcq").
#
# Standard library only, one process, one record at a time (like verl's
# naive reward manager or a TRL reward function).
#
#   python3 bench/baseline_reward.py IN.jsonl OUT.jsonl [--limit N]
#   python3 bench/baseline_reward.py --compare RK_OUT.jsonl PY_OUT.jsonl
#       agreement between rewardkit's output and this baseline's, record by
#       record, with the kinds of disagreement and examples.
import argparse
import collections
import json
import re
import string
import sys
import time

# --------------------------------------------------------------- reward

R1_FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)
ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
PAREN_LETTER = re.compile(r"\(([A-E])\)")
LETTER = re.compile(r"\b([A-E])\b")
PUNCT = set(string.punctuation)

MAX_LEN, CACHE_LEN = 4096, 1024


def normalize_answer(s):
    """SQuAD evaluate-v2.0 normalisation (search-R1, many QA rewards)."""
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        return "".join(ch for ch in text if ch not in PUNCT)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def format_reward(response):
    return 1.0 if R1_FORMAT.fullmatch(response) else 0.0


def extract_answer(response):
    matches = ANSWER_TAG.findall(response)
    return matches[-1].strip() if matches else None


def extract_choice(text):
    m = PAREN_LETTER.search(text)
    if m:
        return m.group(1)
    letters = LETTER.findall(text)
    return letters[-1] if letters else None


def soft_overlong_punishment(length, max_len=MAX_LEN, cache_len=CACHE_LEN):
    expected = max_len - cache_len
    if length <= expected:
        return 0.0
    if length <= max_len:
        return (expected - length) / cache_len
    return -1.0


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    """verl-style custom reward: a dict with "score" and logged components."""
    fmt = format_reward(solution_str)
    answer = extract_answer(solution_str)
    if answer is None:
        acc = 0.0
    elif data_source == "mcq":
        choice = extract_choice(answer)
        acc = 1.0 if choice is not None and choice == ground_truth.strip().upper() else 0.0
    else:
        acc = 1.0 if normalize_answer(answer) == normalize_answer(ground_truth) else 0.0
    overlong = soft_overlong_punishment(len(solution_str))
    return {"score": 0.1 * fmt + 0.9 * acc + overlong,
            "format": fmt, "accuracy": acc, "overlong": overlong}


def score_file(in_path, out_path, limit):
    n = 0
    t0 = time.perf_counter()
    with open(in_path, encoding="utf-8") as fin, open(out_path, "w", encoding="utf-8") as fout:
        for line in fin:
            if limit and n >= limit:
                break
            rec = json.loads(line)
            s = compute_score(rec.get("task"), rec["response"], rec["reference"])
            rec["reward"] = s.pop("score")
            rec["components"] = s
            fout.write(json.dumps(rec) + "\n")
            n += 1
    dt = time.perf_counter() - t0
    print(f"baseline: {n} records in {dt:.2f} s ({n / dt:.0f} records/s)", file=sys.stderr)


# ----------------------------------------------------------- agreement

def answer_shape(ans):
    """A coarse shape of an answer to group disagreements: ASCII digit runs
    become 9, full-width digit runs ９, option letters X; other text stays."""
    if ans is None:
        return "(no answer tag)"
    s = re.sub(r"[0-9]+", "9", ans)
    s = re.sub(r"[\uff10-\uff19]+", "\uff19", s)
    s = re.sub(r"(?<![A-Za-z\\])[A-E](?![A-Za-z])", "X", s)
    return repr(s[:40])


def compare(rk_path, py_path, examples=2):
    """Record-by-record agreement of rewardkit's output with the baseline's.
    Reads only as many rewardkit lines as the baseline wrote."""
    total = agree = 0
    kinds = collections.Counter()
    samples = collections.defaultdict(list)
    statuses = collections.Counter()
    with open(rk_path, encoding="utf-8") as frk, open(py_path, encoding="utf-8") as fpy:
        for lpy in fpy:
            lrk = frk.readline()
            if not lrk:
                print("compare: rewardkit output is shorter than the baseline's", file=sys.stderr)
                break
            rk, py = json.loads(lrk), json.loads(lpy)
            if rk.get("id") != py.get("id"):
                raise SystemExit(f"compare: id mismatch at line {total + 1}: "
                                 f"{rk.get('id')!r} vs {py.get('id')!r}")
            total += 1
            statuses[rk.get("status")] += 1
            r1, r2 = rk.get("reward"), py["reward"]
            if r1 is not None and abs(r1 - r2) <= 1e-9:
                agree += 1
                continue
            rc = rk.get("components") or {}
            pc = py["components"]
            diff = [k for k in ("format", "accuracy", "overlong")
                    if not (isinstance(rc.get(k), (int, float)) and abs(rc[k] - pc[k]) <= 1e-9)]
            if r1 is None:
                kind = f"rewardkit reward null (status {rk.get('status')})"
            else:
                kind = "differs in " + "+".join(diff) if diff else "differs in total only"
            ans = extract_answer(py["response"])
            kind = f"{py.get('task')}: {kind}; answer shaped {answer_shape(ans)}"
            kinds[kind] += 1
            if len(samples[kind]) < examples:
                samples[kind].append(
                    f"id {py.get('id')}: reference {py['reference']!r}, answer tag "
                    f"{ans if ans is None else ans[:60]!r}; rewardkit {r1} "
                    f"{ {k: rc.get(k) for k in diff} } status {rk.get('status')}; "
                    f"python {r2:.6g} { {k: pc[k] for k in diff} }")
    rate = agree / total if total else 0.0
    print(f"agreement: {agree}/{total} records ({100 * rate:.2f}%) have the same reward")
    print("rewardkit statuses: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    for kind, cnt in kinds.most_common():
        print(f"  {cnt:6d} ({100 * cnt / total:.2f}%)  {kind}")
        for s in samples[kind]:
            print(f"           e.g. {s}")
    return rate


def main():
    ap = argparse.ArgumentParser(description="Python reward baseline (benchmarking only)")
    ap.add_argument("paths", nargs=2, metavar=("IN", "OUT"))
    ap.add_argument("--limit", type=int, default=0, help="score only the first N records")
    ap.add_argument("--compare", action="store_true",
                    help="IN is rewardkit's output, OUT the baseline's: print the agreement")
    a = ap.parse_args()
    if a.compare:
        compare(a.paths[0], a.paths[1])
    else:
        score_file(a.paths[0], a.paths[1], a.limit)


if __name__ == "__main__":
    main()

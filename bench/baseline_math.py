#!/usr/bin/env python3
# baseline for benchmarking only: the Python math reward users run today; not part of rewardkit
#
# Written the way verl's default math reward (verl/utils/reward_score/math.py,
# Hendrycks MATH is_equiv) and OpenRLHF-style math rewards are written, with
# the usual sympy fallback (prime_math / Qwen-style):
#   1. the last \boxed{...} (\fbox too), braces matched;
#   2. Hendrycks strip_string normalisation (spaces, \left \right, \dfrac,
#      units in \text, "0.5" -> ".5" style fixes, \frac12 -> \frac{1}{2});
#   3. equal strings -> 1;
#   4. else both sides to sympy: sympy's parse_latex needs antlr4, which is
#      not installable here (no pip), so a regex LaTeX -> Python translation
#      (\frac, \sqrt, \pi, ^, \cdot, implicit products) feeds parse_expr, then
#      simplify(a - b) == 0, under a 5 s SIGALRM guard (main thread only, as
#      the real tools do).
# Math-Verify itself is not installable here (no pip / no network); its
# published figure (36-42 pairs/s, reference/math_verifiers.md section 5) is
# quoted next to this one in docs/benchmarks.md.
#
#   python3 bench/baseline_math.py PAIRS.jsonl [--limit N]
# prints one JSON line: pairs, pairs_per_s, p50_ms, p99_ms, max_ms, correct,
# and writes the per-pair rewards to PAIRS.jsonl.py_rewards.
import argparse
import json
import re
import signal
import sys
import time

import sympy
from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application,
                                        parse_expr, standard_transformations)


def last_boxed_only_string(s):
    idx = max(s.rfind("\\boxed"), s.rfind("\\fbox"))
    if idx < 0:
        return None
    i, depth, start = idx, 0, None
    while i < len(s):
        if s[i] == "{":
            depth += 1
            if start is None:
                start = i
        elif s[i] == "}":
            depth -= 1
            if depth == 0 and start is not None:
                return s[start + 1:i]
        i += 1
    return None


def fix_fracs(s):
    subs = s.split("\\frac")
    out = subs[0]
    for sub in subs[1:]:
        out += "\\frac"
        if sub and sub[0] == "{":
            out += sub
        elif len(sub) >= 2:
            a, b = sub[0], sub[1]
            if b != "{":
                out += "{" + a + "}{" + b + "}" + sub[2:]
            else:
                out += "{" + a + "}" + b + sub[2:]
        else:
            return s
    return out


def strip_string(s):
    s = s.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "").replace("\\%", "").replace("%", "")
    s = re.sub(r"\\text\{\s*[a-zA-Z ]+\}$", "", s)
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if s.startswith("."):
        s = "0" + s
    if len(s.split("=")) == 2 and len(s.split("=")[0]) <= 2:
        s = s.split("=")[1]
    s = fix_fracs(s)
    s = s.replace(" ", "")
    if s == "0.5":
        s = "\\frac{1}{2}"
    return s


TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)


def latex_to_sympy(s):
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/")
    s = s.replace("\\pi", " pi ").replace("\\infty", "oo")
    for _ in range(10):
        s2 = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        s2 = re.sub(r"\\sqrt\[([^{}\]]*)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", s2)
        s2 = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", s2)
        s2 = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", s2)
        if s2 == s:
            break
        s = s2
    s = s.replace("\\sin", "sin").replace("\\cos", "cos").replace("\\tan", "tan")
    s = s.replace("\\ln", "log").replace("\\log", "log").replace("{", "(").replace("}", ")")
    s = s.replace("\\", "")
    return parse_expr(s, transformations=TRANSFORMS, evaluate=True)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def is_equiv(gold, pred):
    if pred is None:
        return 0.0
    a, b = strip_string(gold), strip_string(pred)
    if a == b:
        return 1.0
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(5)
    try:
        ea, eb = latex_to_sympy(a), latex_to_sympy(b)
        return 1.0 if sympy.simplify(ea - eb) == 0 else 0.0
    except Exception:
        return 0.0
    finally:
        signal.alarm(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    recs = [json.loads(l) for l in open(args.pairs)]
    if args.limit:
        recs = recs[: args.limit]
    times, rewards = [], []
    t_all = time.perf_counter()
    for r in recs:
        t0 = time.perf_counter()
        rewards.append(is_equiv(r["reference"], last_boxed_only_string(r["response"])))
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_all
    times.sort()
    n = len(times)
    with open(args.pairs + ".py_rewards", "w") as f:
        for v in rewards:
            f.write("%g\n" % v)
    print(json.dumps({"pairs": n, "pairs_per_s": n / total, "p50_ms": times[n // 2] * 1e3,
                      "p99_ms": times[min(n - 1, int(n * 0.99))] * 1e3, "max_ms": times[-1] * 1e3,
                      "correct": sum(rewards)}))


if __name__ == "__main__":
    sys.exit(main())

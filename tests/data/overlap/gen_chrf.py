#!/usr/bin/env python3
"""Expected sentence chrF (default mode: no eps smoothing, char_order 6,
word_order 0, beta 2, whitespace removed) for the pairs of test_overlap's
chrf_default_exact, as sacreBLEU 2.x computes it: the statistics and
CHRF._compute_f_score written out here, run outside the test. Prints each
pair with the score's repr and hex form (pasted into the test).

    python3 tests/data/overlap/gen_chrf.py
"""
from collections import Counter

PAIRS = [("yes", "no"), ("ab", "ab c"), ("abc", "!!!"),
         ("the cat sat", "a cat sat down"), ("Kate sat", "sat Kate")]


def stats(hyp, ref, order=6):
    hyp, ref = "".join(hyp.split()), "".join(ref.split())
    out = []
    for n in range(1, order + 1):
        h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        out += [sum(h.values()), sum(r.values()), sum((h & r).values())]
    return out


def f_score(st, beta=2, order=6):
    eps, factor = 1e-16, beta ** 2
    avg_p = avg_r = 0.0
    eff = 0
    for i in range(order):
        n_hyp, n_ref, n_match = st[3 * i:3 * i + 3]
        prec = n_match / n_hyp if n_hyp > 0 else eps
        rec = n_match / n_ref if n_ref > 0 else eps
        if n_hyp > 0 and n_ref > 0:  # only these orders are averaged
            avg_p += prec
            avg_r += rec
            eff += 1
    if eff:
        avg_p /= eff
        avg_r /= eff
    else:
        avg_p = avg_r = 0.0
    if avg_p + avg_r:
        s = (1 + factor) * avg_p * avg_r
        s /= factor * avg_p + avg_r
        return 100 * s
    return 0.0


for h, r in PAIRS:
    v = f_score(stats(h, r))
    print(repr(h), repr(r), repr(v), v.hex())

#!/usr/bin/python3
"""BASELINE for bench_overlap: the Python a user runs today for each overlap
metric, timed on the same pairs as rewardkit, in the same run.

- BLEU: nltk.translate.bleu_score.sentence_bleu with SmoothingFunction()
  .method3 (NIST geometric smoothing = sacreBLEU's "exp"), whitespace
  tokens. Debian python3-nltk.
- chrF: nltk.translate.chrf_score.sentence_chrf(beta=2) (per-order F
  averaged = sacreBLEU's eps_smoothing mode). Debian python3-nltk.
- ROUGE-L, ROUGE-2: a faithful port (written for this benchmark) of
  google-research rouge-score: tokenize.py and rouge_scorer._score_lcs /
  _score_ngrams with its full LCS table in Python lists.
- SQuAD F1: a port of evaluate-v2.0.py normalize_answer / compute_f1.
- CIDEr-D: a port of pycocoevalcap cider_scorer.py (CIDEr-D variant) with
  the corpus df table of tools/cider_df.py.

These ports are baselines, not references: the tests check rewardkit
against published vectors. The per-pair scores are written out so that
bench_overlap can report the largest difference to rewardkit.

    /usr/bin/python3 bench/baseline_overlap.py PAIRS.jsonl DF.json SCORES.tsv [passes]

Prints "metric<TAB>pairs_per_s" per metric, from the process CPU time of
the best pass (the machine's cores are shared, so wall time would measure
the neighbours).
"""
import collections
import json
import math
import re
import string
import sys
import time

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from nltk.translate.chrf_score import sentence_chrf

# ------------------------------------------------------------ rouge-score

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_VALID = re.compile(r"^[a-z0-9]+$")


def rouge_tokenize(text):
    text = text.lower()
    text = _NON_ALNUM.sub(" ", text)
    return [t for t in _SPACES.split(text) if _VALID.match(t)]


def _fmeasure(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _lcs_table(ref, can):
    rows, cols = len(ref), len(can)
    t = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if ref[i - 1] == can[j - 1]:
                t[i][j] = t[i - 1][j - 1] + 1
            else:
                t[i][j] = max(t[i - 1][j], t[i][j - 1])
    return t


def rouge_l(target, prediction):
    tt, pt = rouge_tokenize(target), rouge_tokenize(prediction)
    if not tt or not pt:
        return 0.0
    lcs = _lcs_table(tt, pt)[-1][-1]
    return _fmeasure(lcs / len(pt), lcs / len(tt))


def _ngrams(tokens, n):
    c = collections.Counter()
    for g in (tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)):
        c[g] += 1
    return c


def rouge_n(target, prediction, n=2):
    tg, pg = _ngrams(rouge_tokenize(target), n), _ngrams(rouge_tokenize(prediction), n)
    inter = sum(min(tg[g], pg[g]) for g in tg)
    p = inter / max(sum(pg.values()), 1)
    r = inter / max(sum(tg.values()), 1)
    return _fmeasure(p, r)

# ------------------------------------------------------------ SQuAD F1


def normalize_answer(s):
    s = s.lower()
    exclude = set(string.punctuation)
    s = "".join(ch for ch in s if ch not in exclude)
    s = re.sub(r"\b(a|an|the)\b", " ", s, flags=re.UNICODE)
    return " ".join(s.split())


def squad_f1(gold, pred):
    g = normalize_answer(gold).split() if gold else []
    p = normalize_answer(pred).split() if pred else []
    common = collections.Counter(g) & collections.Counter(p)
    same = sum(common.values())
    if len(g) == 0 or len(p) == 0:
        return float(g == p)
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)

# ------------------------------------------------------------ CIDEr-D


def precook(s, n=4):
    words = s.split()
    counts = collections.defaultdict(int)
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i:i + k])] += 1
    return counts


class CiderD:
    def __init__(self, df_path, n=4, sigma=6.0):
        with open(df_path, encoding="utf-8") as f:
            d = json.load(f)
        self.ref_len = d["ref_len"]
        self.df = {tuple(k.split(" ")): v for k, v in d["df"].items()}
        self.n, self.sigma = n, sigma

    def counts2vec(self, cnts):
        vec = [collections.defaultdict(float) for _ in range(self.n)]
        norm = [0.0] * self.n
        length = 0
        for ngram, tf in cnts.items():
            df = math.log(max(1.0, self.df.get(ngram, 0.0)))
            n = len(ngram) - 1
            vec[n][ngram] = float(tf) * (self.ref_len - df)
            norm[n] += vec[n][ngram] ** 2
            if n == 1:
                length += tf
        return vec, [math.sqrt(x) for x in norm], length

    def sim(self, vh, vr, nh, nr, lh, lr):
        delta = float(lh - lr)
        val = [0.0] * self.n
        for n in range(self.n):
            for ngram in vh[n]:
                val[n] += min(vh[n][ngram], vr[n][ngram]) * vr[n][ngram]
            if nh[n] != 0 and nr[n] != 0:
                val[n] /= nh[n] * nr[n]
            val[n] *= math.e ** (-(delta ** 2) / (2 * self.sigma ** 2))
        return val

    def score(self, hyp, refs):
        vec, norm, length = self.counts2vec(precook(hyp))
        total = [0.0] * self.n
        for r in refs:
            vr, nr, lr = self.counts2vec(precook(r))
            s = self.sim(vec, vr, norm, nr, length, lr)
            total = [a + b for a, b in zip(total, s)]
        return sum(total) / self.n / len(refs) * 10.0

# ------------------------------------------------------------ driver


def main():
    pairs_path, df_path, out_path = sys.argv[1:4]
    passes = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    pairs = []
    with open(pairs_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            pairs.append((r["response"], r["reference"]))
    cider = CiderD(df_path)
    sm = SmoothingFunction().method3
    metrics = [
        ("f1", lambda h, r: squad_f1(r, h)),
        ("rougeL", lambda h, r: rouge_l(r, h)),
        ("rouge2", lambda h, r: rouge_n(r, h, 2)),
        ("bleu", lambda h, r: sentence_bleu([r.split()], h.split(), smoothing_function=sm)),
        ("chrf", lambda h, r: sentence_chrf(r, h, beta=2.0)),
        ("cider_d", lambda h, r: cider.score(h, [r]) / 10.0),
    ]
    cols = {}
    for name, fn in metrics:
        best = 1e30
        for _ in range(passes):
            t0 = time.process_time()  # CPU time: the 2 cores are shared
            vals = [fn(h, r) for h, r in pairs]
            best = min(best, time.process_time() - t0)
        cols[name] = vals
        print(f"{name}\t{len(pairs) / best:.1f}", flush=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\t".join(n for n, _ in metrics) + "\n")
        for i in range(len(pairs)):
            f.write("\t".join(repr(float(cols[n][i])) for n, _ in metrics) + "\n")


if __name__ == "__main__":
    main()

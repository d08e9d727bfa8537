#!/usr/bin/env python3
"""baseline_edit.py - BASELINE for bench/bench_edit.c: the Python a user runs
today for the edit-distance metrics, timed on the same pairs.

Not rewardkit code and not a reference for its values: pure-Python ports,
written for this benchmark, of the published definitions (jiwer 3.x
CER/WER default transforms with a unit-cost Levenshtein; Qwen-VL/lmms-eval
ANLS; GT-Vision-Lab vqaEval.py VQA accuracy; mmf EvalAI processor for
TextVQA; lmms-eval ChartQA relaxed accuracy; keyword coverage and ordered
keyword chains with a Sellers approximate search; SQuAD evaluate-v2.0
exact match; the share of letters in the reference's script, with
unicodedata and a table of Unicode blocks), plus python-Levenshtein (Debian
python3-levenshtein, C extension) for edit distance and ratio.

Usage: baseline_edit.py PAIRS.jsonl [seconds_per_metric]
Prints one line per metric: "<metric> <pairs/s> <mean score> <pairs>".
"""
import bisect
import json
import math
import os
import re
import sys
import time
import unicodedata

import Levenshtein  # python3-levenshtein

# Agri-R1's graded keyword tiers: the port the tests' expected values come
# from (tests/data/edit/gen_tiers.py), one copy for both.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "data", "edit"))
import gen_tiers  # noqa: E402


# ------------------------------------------------------------ distance

def lev(a, b):
    """Unit-cost Levenshtein, the two-row dynamic programme."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# ------------------------------------------------------------ jiwer 3.x

_multi_space = re.compile(r"\s\s+")


def jiwer_words(s):
    s = _multi_space.sub(" ", s).strip()
    return [w for w in s.split(" ") if len(w) >= 1]


def wer_reward(hyp, ref):
    r, h = jiwer_words(ref), jiwer_words(hyp)
    if not r:
        raise ValueError("one or more references are empty strings")
    return max(0.0, 1.0 - lev(r, h) / len(r))


def cer_reward(hyp, ref):
    r, h = list(ref.strip()), list(hyp.strip())
    if not r:
        raise ValueError("one or more references are empty strings")
    return max(0.0, 1.0 - lev(r, h) / len(r))


# ---------------------------------------------------- python-Levenshtein

def edit_ratio_lev(pred, ref):
    pred, ref = pred.strip(), ref.strip()
    m = max(len(pred), len(ref))
    return 1.0 if m == 0 else 1.0 - Levenshtein.distance(pred, ref) / m


def edit_ratio_indel(pred, ref):
    return Levenshtein.ratio(pred.strip(), ref.strip())


# ----------------------------------------------------------------- ANLS

def anls_compute(groundtruth, prediction):
    gt_answer = " ".join(groundtruth.strip().lower().split())
    det_answer = " ".join(prediction.strip().lower().split())
    dist = lev(gt_answer, det_answer)
    length = max(len(groundtruth.upper()), len(prediction.upper()))
    return 0.0 if length == 0 else float(dist) / float(length)


def anls(pred, refs, tau=0.5):
    refs = refs if isinstance(refs, list) else [refs]
    s = 1 - min(anls_compute(r, pred) for r in refs)
    return 0.0 if s < tau else s


# ------------------------------------------------------------ VQA (v2)

CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've",
    "couldnt": "couldn't", "couldn'tve": "couldn't've", "couldnt've": "couldn't've",
    "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't",
    "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've",
    "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's",
    "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've", "isnt": "isn't",
    "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "let's": "let's", "maam": "ma'am", "mightnt": "mightn't",
    "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've",
    "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've",
    "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at",
    "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's",
    "shouldve": "should've", "shouldnt": "shouldn't", "shouldnt've": "shouldn't've",
    "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd",
    "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've",
    "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd",
    "somethingd've": "something'd've", "something'dve": "something'd've",
    "somethingll": "something'll", "thats": "that's", "thered": "there'd",
    "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're",
    "theres": "there's", "theyd": "they'd", "theyd've": "they'd've",
    "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're",
    "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've",
    "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's",
    "whered": "where'd", "wheres": "where's", "whereve": "where've", "whod": "who'd",
    "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's",
    "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's",
    "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all",
    "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd",
    "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll",
    "youre": "you're", "youve": "you've",
}
MANUAL_MAP = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3",
              "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
              "nine": "9", "ten": "10"}
ARTICLES = ["a", "an", "the"]
PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
COMMA_STRIP = re.compile(r"(\d)(\,)(\d)")
PUNCT = [";", r"/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-",
         ">", "<", "@", "`", ",", "?", "!"]


def process_punctuation(in_text):
    out_text = in_text
    for p in PUNCT:
        if (p + " " in in_text or " " + p in in_text) or (re.search(COMMA_STRIP, in_text) is not None):
            out_text = out_text.replace(p, "")
        else:
            out_text = out_text.replace(p, " ")
    return PERIOD_STRIP.sub("", out_text, re.UNICODE)


def process_digit_article(in_text):
    out = []
    for word in in_text.lower().split():
        word = MANUAL_MAP.setdefault(word, word)
        if word not in ARTICLES:
            out.append(word)
    for i, word in enumerate(out):
        if word in CONTRACTIONS:
            out[i] = CONTRACTIONS[word]
    return " ".join(out)


def vqa_acc(pred, gts):
    res = pred.replace("\n", " ").replace("\t", " ").strip()
    res = process_digit_article(process_punctuation(res))
    gts = [g.replace("\n", " ").replace("\t", " ").strip() for g in gts]
    if len(set(gts)) > 1:
        gts = [process_punctuation(g) for g in gts]
    accs = []
    for i in range(len(gts)):
        others = gts[:i] + gts[i + 1:]
        accs.append(min(1, float(sum(1 for g in others if g == res)) / 3))
    return sum(accs) / len(accs)


# ------------------------------------------------------- ChartQA relaxed

def relaxed_correctness(prediction, target, max_relative_change=0.05):
    def _to_float(text):
        try:
            if text.endswith("%"):
                return float(text.rstrip("%")) / 100.0
            return float(text)
        except ValueError:
            return None
    p, t = _to_float(prediction), _to_float(target)
    if p is not None and t:
        return abs(p - t) / abs(t) <= max_relative_change
    return prediction.lower() == target.lower()


def relaxed_acc(pred, refs):
    refs = refs if isinstance(refs, list) else [refs]
    return float(max(relaxed_correctness(pred.strip(), r) for r in refs))


# ------------------------------------------------------- keyword coverage

def sellers(pat, text, k):
    """Smallest edit distance of pat to any substring of text (<= k exits)."""
    m = len(pat)
    col = list(range(m + 1))
    best = m
    for c in text:
        prev_diag, col[0] = col[0], 0
        for i in range(1, m + 1):
            cur = min(col[i] + 1, col[i - 1] + 1, prev_diag + (pat[i - 1] != c))
            prev_diag, col[i] = col[i], cur
        if col[m] < best:
            best = col[m]
            if best <= k:
                return best
    return best


def keywords(response, groups, min_sim=0.8):
    text = " ".join(response.casefold().split())
    found = 0
    for g in groups:
        alts = g if isinstance(g, list) else [g]
        for kw in alts:
            kw = " ".join(kw.casefold().split())
            k = min(int(math.floor((1 - min_sim) * len(kw) + 1e-9)), len(kw) - 1)
            if kw in text or sellers(kw, text, k) <= k:
                found += 1
                break
    return found / len(groups)


def keyword_chain(response, groups, min_sim=0.8):
    """Groups in the given order: each is searched (Sellers, stopping at
    the first end within k edits) after the end of the previous match."""
    text = " ".join(response.casefold().split())
    found, pos = 0, 0
    for g in groups:
        alts = g if isinstance(g, list) else [g]
        best_end = None
        for kw in alts:
            kw = " ".join(kw.casefold().split())
            m = len(kw)
            k = min(int(math.floor((1 - min_sim) * m + 1e-9)), m - 1)
            col = list(range(m + 1))
            for j in range(pos, len(text)):
                c = text[j]
                prev_diag, col[0] = col[0], 0
                for i in range(1, m + 1):
                    cur = min(col[i] + 1, col[i - 1] + 1, prev_diag + (kw[i - 1] != c))
                    prev_diag, col[i] = col[i], cur
                if col[m] <= k:
                    if best_end is None or j + 1 < best_end:
                        best_end = j + 1
                    break
        if best_end is not None:
            found += 1
            pos = best_end
    return found / len(groups)


# ------------------------------------------------------------ SQuAD EM

def squad_normalize(s):
    """evaluate-v2.0.py normalize_answer."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in SQUAD_PUNCT)
    s = SQUAD_ARTICLES.sub(" ", s)
    return " ".join(s.split())


SQUAD_PUNCT = set(__import__("string").punctuation)
SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def squad_em(pred, refs):
    """evaluate-v2.0.py: golds that normalise to nothing are dropped (none
    left: ['']); the best compute_exact over the golds."""
    refs = refs if isinstance(refs, list) else [refs]
    golds = [a for a in refs if squad_normalize(a)] or [""]
    p = squad_normalize(pred)
    return max(float(squad_normalize(a) == p) for a in golds)


# ------------------------------------------------------------ script consistency

SCRIPTS = ["latin", "greek", "cyrillic", "armenian", "hebrew", "arabic", "devanagari",
           "bengali", "tamil", "telugu", "thai", "georgian", "hangul", "hiragana",
           "katakana", "han"]
OTHER = len(SCRIPTS)
S = {name: i for i, name in enumerate(SCRIPTS)}
# Unicode blocks of each script (start, end, script), sorted by start.
BLOCKS = [
    (0x0041, 0x005A, S["latin"]), (0x0061, 0x007A, S["latin"]), (0x00AA, 0x00AA, S["latin"]),
    (0x00BA, 0x00BA, S["latin"]), (0x00C0, 0x02AF, S["latin"]), (0x0370, 0x03FF, S["greek"]),
    (0x0400, 0x052F, S["cyrillic"]), (0x0530, 0x058F, S["armenian"]),
    (0x0590, 0x05FF, S["hebrew"]), (0x0600, 0x06FF, S["arabic"]), (0x0750, 0x077F, S["arabic"]),
    (0x0870, 0x08FF, S["arabic"]), (0x0900, 0x097F, S["devanagari"]),
    (0x0980, 0x09FF, S["bengali"]), (0x0B80, 0x0BFF, S["tamil"]), (0x0C00, 0x0C7F, S["telugu"]),
    (0x0E00, 0x0E7F, S["thai"]), (0x10A0, 0x10FF, S["georgian"]), (0x1100, 0x11FF, S["hangul"]),
    (0x1C80, 0x1C8F, S["cyrillic"]), (0x1C90, 0x1CBF, S["georgian"]),
    (0x1D00, 0x1D7F, S["latin"]), (0x1E00, 0x1EFF, S["latin"]), (0x1F00, 0x1FFF, S["greek"]),
    (0x2C60, 0x2C7F, S["latin"]), (0x2D00, 0x2D2F, S["georgian"]),
    (0x2DE0, 0x2DFF, S["cyrillic"]), (0x2E80, 0x2FDF, S["han"]), (0x3005, 0x3007, S["han"]),
    (0x3021, 0x3029, S["han"]), (0x3038, 0x303B, S["han"]), (0x3040, 0x309F, S["hiragana"]),
    (0x30A0, 0x30FF, S["katakana"]), (0x3130, 0x318F, S["hangul"]),
    (0x31F0, 0x31FF, S["katakana"]), (0x3400, 0x4DBF, S["han"]), (0x4E00, 0x9FFF, S["han"]),
    (0xA640, 0xA69F, S["cyrillic"]), (0xA720, 0xA7FF, S["latin"]),
    (0xA8E0, 0xA8FF, S["devanagari"]), (0xA960, 0xA97F, S["hangul"]),
    (0xAB30, 0xAB6F, S["latin"]), (0xAC00, 0xD7FF, S["hangul"]), (0xF900, 0xFAFF, S["han"]),
    (0xFB00, 0xFB06, S["latin"]), (0xFB13, 0xFB17, S["armenian"]),
    (0xFB1D, 0xFB4F, S["hebrew"]), (0xFB50, 0xFDFF, S["arabic"]), (0xFE70, 0xFEFF, S["arabic"]),
    (0xFF21, 0xFF3A, S["latin"]), (0xFF41, 0xFF5A, S["latin"]),
    (0xFF66, 0xFF9F, S["katakana"]), (0xFFA0, 0xFFDC, S["hangul"]),
    (0x20000, 0x323AF, S["han"]),
]
BLOCK_STARTS = [b[0] for b in BLOCKS]


def script_counts(text):
    counts, total = [0] * (OTHER + 1), 0
    for ch in text:
        if unicodedata.category(ch)[0] != "L":
            continue
        cp = ord(ch)
        i = bisect.bisect_right(BLOCK_STARTS, cp) - 1
        counts[BLOCKS[i][2] if i >= 0 and cp <= BLOCKS[i][1] else OTHER] += 1
        total += 1
    return counts, total


def expected_scripts(reference):
    """The dominant script of the reference; Han or kana with kana present
    is Japanese (Han + kana), Hangul is Korean (Hangul + Han)."""
    counts, _ = script_counts(reference)
    best = max(range(OTHER), key=lambda i: (counts[i], -i))
    if counts[best] == 0:
        return None
    kana = counts[S["hiragana"]] or counts[S["katakana"]]
    if best in (S["han"], S["hiragana"], S["katakana"]) and kana:
        return {S["han"], S["hiragana"], S["katakana"]}
    if best == S["hangul"]:
        return {S["hangul"], S["han"]}
    return {best}


def lang_consistency(response, reference, no_letters=1.0):
    want = expected_scripts(reference)
    counts, total = script_counts(response)
    if total == 0:
        return no_letters
    return sum(counts[i] for i in want) / total


FUNCS = {
    "cer": lambda r: cer_reward(r["response"], r["reference"]),
    "wer": lambda r: wer_reward(r["response"], r["reference"]),
    "edit_ratio": lambda r: edit_ratio_lev(r["response"], r["reference"]),
    "edit_ratio_indel": lambda r: edit_ratio_indel(r["response"], r["reference"]),
    "anls": lambda r: anls(r["response"], r["reference"]),
    "vqa_acc": lambda r: vqa_acc(r["response"], r["reference"]),
    "relaxed_acc": lambda r: relaxed_acc(r["response"], r["reference"]),
    "keywords": lambda r: keywords(r["response"], r["reference"]),
    "edit_ratio_page": lambda r: edit_ratio_lev(r["response"], r["reference"]),
    "edit_ratio_indel_page": lambda r: edit_ratio_indel(r["response"], r["reference"]),
    "edit_ratio_far": lambda r: edit_ratio_lev(r["response"], r["reference"]),
    "edit_ratio_indel_far": lambda r: edit_ratio_indel(r["response"], r["reference"]),
    "keyword_chain": lambda r: keyword_chain(r["response"], r["reference"]),
    "keywords_tiers": lambda r: gen_tiers.reward(r["response"], [[k] for k in r["reference"]],
                                                 None, gen_tiers.AGRI_RELATED),
    "em": lambda r: squad_em(r["response"], r["reference"]),
    "lang_consistency": lambda r: lang_consistency(r["response"], r["reference"]),
}


def main():
    path = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    by_metric = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_metric.setdefault(r["metric"], []).append(r)
    for name, recs in by_metric.items():
        fn = FUNCS[name]
        mean = sum(fn(r) for r in recs) / len(recs)
        # CPU time, like the C side: other load on the machine does not count.
        done, t0 = 0, time.process_time()
        while True:
            for r in recs:
                fn(r)
            done += len(recs)
            dt = time.process_time() - t0
            if dt >= seconds:
                break
        print(f"{name} {done / dt:.1f} {mean:.12f} {len(recs)}", flush=True)


if __name__ == "__main__":
    main()

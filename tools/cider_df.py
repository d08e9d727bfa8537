#!/usr/bin/env python3
"""Build the document-frequency table that rewardkit's `cider_d` reads.

CIDEr-D weighs each n-gram by how many images' reference sets contain it
(pycocoevalcap CiderScorer.compute_doc_freq). A per-record reward cannot
see the corpus, so the table is computed once here from the training (or
evaluation) references and given to the reward as `df_file`.

Input: JSONL, one image per line, its reference captions in a field that is
a string or an array of strings (default: the first of reference,
ground_truth, label, answer, solution, references, refs that is present).
Captions are split on whitespace exactly as cider_scorer.precook does, so
tokenize them (PTB tokenizer, lowercase) the same way as the responses.

Output (JSON):
  {"ref_len": log(number of images), "num_images": N, "n": 4,
   "df": {"a": 812, "a man": 97, ...}}   n-grams of 1..4 words, one space

    python3 tools/cider_df.py refs.jsonl -o df.json [--field F] [--lowercase]

Standard library only.
"""
import argparse
import json
import math
import sys

FIELDS = ("reference", "ground_truth", "label", "answer", "solution",
          "references", "refs")


def ngrams(words, n=4):
    out = set()
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            out.add(" ".join(words[i:i + k]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="JSONL, one image per line ('-' = stdin)")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--field", help="field holding the reference captions")
    ap.add_argument("--lowercase", action="store_true")
    a = ap.parse_args()
    src = sys.stdin if a.input == "-" else open(a.input, encoding="utf-8")
    df = {}
    images = 0
    for lineno, line in enumerate(src, 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        field = a.field or next((f for f in FIELDS if f in rec), None)
        if field is None or field not in rec:
            sys.exit(f"line {lineno}: no reference field")
        refs = rec[field]
        if isinstance(refs, str):
            refs = [refs]
        seen = set()
        for r in refs:
            if a.lowercase:
                r = r.lower()
            seen |= ngrams(r.split())
        for g in seen:
            df[g] = df.get(g, 0) + 1
        images += 1
    if images == 0:
        sys.exit("no images")
    out = {"ref_len": math.log(float(images)), "num_images": images, "n": 4,
           "df": df}
    dst = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    json.dump(out, dst, ensure_ascii=False, sort_keys=True)
    dst.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Expected values for `keywords` with "grading": "tiers" (tests/data/edit/
tiers.tsv: spec, record, reward; read by test_edit's keywords_tiers_port).

A port, written for this test, of the five-tier match of Agri-R1's training
script (grpo_agri_vqa_v3.py, fuzzy_match_score_v3): on the lower-cased
answer, for a synonym group (term list), the first tier reached by any
term: 1.0 the term is a substring; 0.85 a term of several words has all
but at most one of its words of more than 3 characters in the answer;
0.7 a word of more than 4 characters and a word of the answer of more than
4 share a 6-character prefix one way or the other (kw[:6] in word or
word[:6] in kw); 0.5 a word of more than 3 characters is in the answer;
0.25 the term contains a key of the related table and the answer one of
its words. The reward is sum(weight * grade) / sum(weight).

    python3 tests/data/edit/gen_tiers.py > tests/data/edit/tiers.tsv
"""
import json
import random

AGRI_RELATED = {
    "blight": ["disease", "infection", "lesion"],
    "rot": ["decay", "rotting", "damaged"],
    "spot": ["lesion", "mark", "blotch"],
}


def grade(text, terms, related):
    t = text.lower()
    low = [x.lower() for x in terms]
    if any(x in t for x in low):
        return 1.0
    for x in low:
        ws = x.split()
        if len(ws) > 1 and sum(1 for w in ws if w in t and len(w) > 3) >= len(ws) - 1:
            return 0.85
    tw = [w for w in t.split() if len(w) > 4]
    for x in low:
        for k in (w for w in x.split() if len(w) > 4):
            if any(k[:6] in w or w[:6] in k for w in tw):
                return 0.7
    for x in low:
        if any(w in t for w in x.split() if len(w) > 3):
            return 0.5
    for x in low:
        for key, words in related.items():
            if key in x and any(w in t for w in words):
                return 0.25
    return 0.0


def reward(text, groups, weights, related):
    ws = weights or [1.0] * len(groups)
    return sum(w * grade(text, g, related) for w, g in zip(ws, groups)) / sum(ws)


WORDS = ["tomato", "tomatoes", "plant", "late", "blight", "early", "leaf", "spot", "septoria",
         "mosaic", "virus", "mildew", "powdery", "corn", "maize", "rust", "common", "disease",
         "infection", "lesion", "decay", "rot", "black", "healthy", "grape", "apple", "scab",
         "Phytophthora", "infestans", "ΟΔΟΣ", "Σ", "İstanbul", "ÄPFEL", "äpfel", "the", "a",
         "is", "with", "signs", "of", "mark", "blotch", "rotting", "alternaria", "solani"]
SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\n"]


def sentence(rng, n, near):
    out = []
    for i in range(n):
        w = rng.choice(near if near and rng.random() < 0.5 else WORDS)
        if rng.random() < 0.15:  # a typo or a cut word
            k = rng.randrange(len(w))
            w = w[:k] + w[k + 1:] if rng.random() < 0.5 else w[:k] + "x" + w[k:]
        out.append(w)
        if i + 1 < n:
            out.append(rng.choice(SPACES))
    return "".join(out).strip()


def term(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.choice([1, 1, 2, 2, 3]))).strip() or "leaf"


def main():
    rng = random.Random(2026)
    for i in range(400):
        groups = [[term(rng) for _ in range(rng.choice([1, 2, 3]))]
                  for _ in range(rng.choice([1, 2, 3]))]
        near = [w for g in groups for t in g for w in t.split()]
        answer = sentence(rng, rng.choice([1, 3, 6, 12]), near)  # an empty answer is unparseable
        args = {"grading": "tiers"}
        weights = None
        if i % 3 == 0:
            weights = [rng.choice([0.5, 0.8, 1.2, 2.0]) for _ in groups]
            args["weights"] = weights
        related = AGRI_RELATED
        if i % 7 == 0:
            related = {"leaf": ["signs", "mark"], "σ": ["οδος"]}
            args["related"] = related
        spec = {"reward": {"fn": "keywords", "args": args}}
        record = {"response": answer, "reference": groups}
        print(json.dumps(spec, ensure_ascii=False), json.dumps(record, ensure_ascii=False),
              repr(reward(answer, groups, weights, related)), sep="\t")


if __name__ == "__main__":
    main()

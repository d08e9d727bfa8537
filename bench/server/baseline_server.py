"""Baseline for benchmarking only: the Python reward server users write
today (FastAPI + uvicorn, as in OpenRLHF-style remote reward examples);
not part of rewardkit. Same reward as bench/server/spec.json: R1 format
(1) + exact match of the <answer> content (1), SQuAD-style normalisation.

POST /v1/score   JSON array of records -> {"results": [{"reward", "components"}]}
Run: /usr/bin/python3 -m uvicorn baseline_server:app --port 8001 --workers 2
"""
import re
import string

from fastapi import FastAPI, Request

app = FastAPI()
FORMAT = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCT = str.maketrans("", "", string.punctuation)


def norm(s):
    return " ".join(ARTICLES.sub(" ", s.lower().translate(PUNCT)).split())


def score(rec):
    resp = rec.get("response", "")
    fmt = 1.0 if FORMAT.fullmatch(resp) else 0.0
    m = ANSWER.findall(resp)
    acc = 1.0 if m and norm(m[-1]) == norm(str(rec.get("reference", ""))) else 0.0
    return {"reward": fmt + acc, "components": {"format": fmt, "accuracy": acc}}


@app.post("/v1/score")
async def v1_score(request: Request):
    records = await request.json()
    return {"results": [score(r) for r in records]}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}

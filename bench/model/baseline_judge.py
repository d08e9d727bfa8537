"""Baseline for bench/model/bench_model.py: the judge reward as Python
trainers compute it today (verl's reward loop style: asyncio + aiohttp,
one POST per record, a concurrency limit, P(yes) renormalised over the
yes/no variants of the first token's top logprobs).

usage: baseline_judge.py URL RECORDS.jsonl CONCURRENCY  -> prints
"<records> <seconds> <mean reward>" on stdout.
Needs Debian's python3-aiohttp (run with /usr/bin/python3)."""
import asyncio
import json
import math
import sys
import time

import aiohttp

TEMPLATE = "Question: {prompt}\nResponse: {response}\nIs the response correct? Answer Yes or No."


def p_yes(top):
    yes = no = 0.0
    seen = set()
    for alt in top:
        tok = alt["token"]
        if tok in seen:
            continue
        seen.add(tok)
        t = tok.strip().strip("\u2581\u0120").lower()
        p = math.exp(alt["logprob"]) if alt["logprob"] > -9999 else 0.0
        if t == "yes":
            yes += p
        elif t == "no":
            no += p
    return yes / (yes + no) if yes + no > 0 else 0.0


async def one(session, sem, url, rec):
    body = {"model": "m", "max_tokens": 1, "temperature": 0, "logprobs": True,
            "top_logprobs": 20,
            "messages": [{"role": "user", "content": TEMPLATE.format(**rec)}]}
    async with sem:
        for attempt in range(4):
            try:
                async with session.post(url + "/v1/chat/completions", json=body) as r:
                    if r.status == 200:
                        js = await r.json()
                        return p_yes(js["choices"][0]["logprobs"]["content"][0]["top_logprobs"])
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2 * 2 ** attempt)
    return 0.0


async def main():
    url, path, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
    recs = [json.loads(l) for l in open(path)]
    sem = asyncio.Semaphore(conc)
    t0 = time.perf_counter()
    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as s:
        rewards = await asyncio.gather(*(one(s, sem, url, r) for r in recs))
    dt = time.perf_counter() - t0
    print(len(recs), f"{dt:.4f}", f"{sum(rewards) / len(rewards):.6f}")


asyncio.run(main())

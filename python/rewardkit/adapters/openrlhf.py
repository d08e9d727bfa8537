"""OpenRLHF: --reward.remote_url (formerly --remote_rm_url) pointing at a
.py file that re-exports `reward_func` from here (examples/openrlhf/).

    reward_func(queries, prompts, labels, **kwargs)
        -> {"rewards": [float], "scores": [float], "extra_logs": {name: [float]}}

OpenRLHF passes `queries` = prompt + response as one string (special tokens
kept). The response is cut out of it like this:
  1. if the query starts with its prompt, the rest of the query;
  2. else, if a response_marker is given (kwarg or $REWARDKIT_RESPONSE_MARKER,
     e.g. "<|im_start|>assistant\\n"), the text after its last occurrence;
  3. else the whole query.
Then trailing end-of-sequence tokens (eos_tokens, default below) and
whitespace at both ends are removed (a chat template's newline after the
prompt would otherwise fail fullmatch format checks). Values are lists of floats (torch tensors when
as_tensor=True and torch is importable). A null reward becomes 0.0 with
extra_logs["rk_valid"] = 0; "scores" (used by dynamic filtering) equal the
rewards.
"""
import os

from . import NULL_SCORE, flat, scorer_for

EOS_TOKENS = ("<|im_end|>", "<|endoftext|>", "</s>", "<|eot_id|>",
              "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<eos>", "<|end|>")


def cut_response(query, prompt, marker=None, eos_tokens=EOS_TOKENS):
    """The response part of an OpenRLHF query (see the module doc)."""
    if prompt and query.startswith(prompt):
        resp = query[len(prompt):]
    elif marker and marker in query:
        resp = query[query.rindex(marker) + len(marker):]
    else:
        resp = query
    changed = True
    while changed:
        changed = False
        resp = resp.rstrip()
        for tok in eos_tokens:
            if tok and resp.endswith(tok):
                resp = resp[: -len(tok)]
                changed = True
    return resp.lstrip()


def reward_func(queries, prompts, labels, **kwargs):
    scorer = scorer_for(kwargs.get("spec"))
    marker = kwargs.get("response_marker", os.environ.get("REWARDKIT_RESPONSE_MARKER"))
    eos = kwargs.get("eos_tokens", EOS_TOKENS)
    n = len(queries)
    recs = []
    for i in range(n):
        prompt = prompts[i] if prompts is not None else ""
        rec = {"prompt": prompt, "response": cut_response(queries[i], prompt, marker, eos)}
        if labels is not None:
            rec["reference"] = labels[i]
        recs.append(rec)
    null = kwargs.get("null_score", NULL_SCORE)
    flats = [flat(r, "reward", null) for r in scorer.score(recs)]
    rewards = [f.pop("reward") for f in flats]
    logs = {}
    for f in flats:
        for k, v in f.items():
            logs.setdefault(k, []).append(v)
    out = {"rewards": rewards, "scores": list(rewards), "extra_logs": logs}
    if kwargs.get("as_tensor"):
        try:
            import torch
        except ImportError:
            return out
        out = {"rewards": torch.tensor(rewards, dtype=torch.float32),
               "scores": torch.tensor(rewards, dtype=torch.float32),
               "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in logs.items()}}
    return out

"""EasyR1: worker.reward.reward_function points at a file that sets
REWARD_TYPE and re-exports one of these (examples/easyr1/).

    compute_score(reward_input, **kwargs) -> {"overall": float, <component>: float, ...}
        reward_input = {"response": str, "response_length": int, "ground_truth": str}
    compute_score_batch(reward_inputs, **kwargs) -> list of the same dicts

response_length reaches the length rewards (their "auto" unit uses it).
"""
from . import NULL_SCORE, flat, scorer_for

REWARD_TYPE = "batch"


def _record(ri):
    rec = dict(ri)
    return rec


def compute_score(reward_input, **kwargs):
    scorer = scorer_for(kwargs.get("spec"))
    result = scorer.score([_record(reward_input)])[0]
    return flat(result, "overall", kwargs.get("null_score", NULL_SCORE))


def compute_score_batch(reward_inputs, **kwargs):
    scorer = scorer_for(kwargs.get("spec"))
    null = kwargs.get("null_score", NULL_SCORE)
    return [flat(r, "overall", null) for r in scorer.score([_record(ri) for ri in reward_inputs])]

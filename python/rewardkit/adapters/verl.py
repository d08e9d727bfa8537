"""verl: custom_reward_function.path points at a file that re-exports
`compute_score` from here (examples/verl/).

    compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)
        -> {"score": float, <component>: float, ..., "rk_valid": 1.0|0.0}
    compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs)
        -> list of the same dicts (verl's batch reward manager)

data_source is the record's task: it selects the spec's route. The spec
comes from kwargs["spec"] (verl: custom_reward_function.reward_kwargs.spec)
or $REWARDKIT_SPEC. A null reward is returned as score 0.0 with rk_valid 0
(verl needs a number); pass null_score=... to change it.
"""
from . import NULL_SCORE, flat, scorer_for


def _record(data_source, solution_str, ground_truth, extra_info):
    # "response" (the canonical name of solution_str) lets the binding hand
    # the text over beside the JSON instead of escaping it.
    rec = {"data_source": data_source, "response": solution_str,
           "ground_truth": ground_truth}
    if extra_info is not None:
        rec["extra_info"] = extra_info
    return rec


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    scorer = scorer_for(kwargs.get("spec"))
    result = scorer.score([_record(data_source, solution_str, ground_truth, extra_info)])[0]
    return flat(result, "score", kwargs.get("null_score", NULL_SCORE))


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None,
                        **kwargs):
    scorer = scorer_for(kwargs.get("spec"))
    n = len(solution_strs)
    if extra_infos is None:
        extra_infos = [None] * n
    recs = [_record(data_sources[i], solution_strs[i], ground_truths[i], extra_infos[i])
            for i in range(n)]
    null = kwargs.get("null_score", NULL_SCORE)
    return [flat(r, "score", null) for r in scorer.score(recs)]

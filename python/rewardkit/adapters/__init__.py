"""Drop-in reward functions for RL trainers, with each trainer's exact
signature: rewardkit.adapters.verl, .trl, .openrlhf, .easyr1.

Every adapter takes the spec from a `spec` keyword argument (a path, a
dict or JSON text) or else from the REWARDKIT_SPEC environment variable.
Compiled specs are cached, so calling an adapter per sample is cheap.
"""
import copy
import json
import os
import threading

from .. import Scorer, SpecError

_CACHE = {}
_CACHE_LOCK = threading.Lock()
# The last spec asked for, as (the object, a deep copy of it, its Scorer):
# a trainer passes the same spec object on every call, and comparing it
# with the copy costs a tenth of json.dumps (which the cache key takes).
# The copy, not the object, so that a spec changed in place is seen.
_LAST = (None, None, None)

# Returned in place of a null reward (status invalid_reference, timeout or
# error) where a trainer cannot take None; "rk_valid" is then 0.
NULL_SCORE = 0.0


def scorer_for(spec=None):
    """The cached Scorer for `spec` (path, dict or JSON text), or for
    $REWARDKIT_SPEC when spec is None."""
    global _LAST
    if spec is None:
        spec = os.environ.get("REWARDKIT_SPEC")
        if not spec:
            raise SpecError("rewardkit: no spec: pass spec=... (a path or a dict; verl: "
                            "reward_kwargs.spec) or set REWARDKIT_SPEC")
    last, snapshot, scorer = _LAST
    if spec is last and type(spec) is dict and spec == snapshot:
        return scorer
    key = json.dumps(spec, sort_keys=True) if isinstance(spec, dict) else str(spec)
    with _CACHE_LOCK:
        scorer = _CACHE.get(key)
    if scorer is None:
        scorer = Scorer(spec)
        with _CACHE_LOCK:
            scorer = _CACHE.setdefault(key, scorer)
    if type(spec) is dict:
        _LAST = (spec, copy.deepcopy(spec), scorer)
    return scorer


def flat(result, reward_key, null_score=NULL_SCORE):
    """One result as a flat dict of numbers: the reward under reward_key,
    every component (NaN when not computed), rk_valid (1/0), and the
    advantage when there is one. Every record gets the same keys, which
    trainers that collect per-key lists rely on."""
    reward = result["reward"]
    out = {reward_key: null_score if reward is None else reward}
    for name, value in result["components"].items():
        out[name] = float("nan") if value is None else value
    out["rk_valid"] = 0.0 if reward is None else 1.0
    if "advantage" in result:
        adv = result["advantage"]
        out["rk_advantage"] = float("nan") if adv is None else adv
    return out

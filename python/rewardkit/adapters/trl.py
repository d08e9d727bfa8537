"""TRL (GRPOTrainer): reward functions with TRL's signature.

    make_reward(spec=None) -> fn(prompts, completions, **kwargs) -> list[float | None]
        the spec's whole reward
    make_trl_rewards(spec=None) -> [fn, ...]
        one function per top-level component (named after it), so that
        TRL's reward_weights and per-function logging apply;
        trl_reward_weights(spec) gives the spec's weights in the same order.

Records are built from TRL's arguments: prompt and completion (plain
strings or conversational message lists) plus every dataset column TRL
passes as a keyword (solution, answer, ground_truth, task, ...: the usual
aliases of docs/spec.md). A null reward (invalid reference, timeout, error)
and a component that does not apply (another route, a closed gate) are
None: TRL then leaves that function out for that sample.

The functions of one make_trl_rewards() call share one scoring pass per
batch: TRL calls them one after the other with the same inputs.
"""
import threading

from .. import SpecError, _encode
from . import scorer_for

# Keywords TRL passes that are not dataset columns.
_NOT_COLUMNS = {"trainer_state", "log_extra", "log_metric", "environments",
                "completion_ids", "completions_ids", "spec"}


def _records(prompts, completions, kwargs):
    n = len(completions)
    cols = {k: v for k, v in kwargs.items()
            if k not in _NOT_COLUMNS and isinstance(v, (list, tuple)) and len(v) == n}
    recs = []
    for i in range(n):
        rec = {"completion": completions[i]}
        if prompts is not None:
            rec["prompt"] = prompts[i]
        for k, v in cols.items():
            rec[k] = v[i]
        recs.append(rec)
    return recs


class _Shared:
    """Scores a batch once for all the functions of one make_trl_rewards()."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.lock = threading.Lock()
        self.key = None
        self.results = None

    def results_for(self, prompts, completions, kwargs):
        lines = [_encode(r) for r in _records(prompts, completions, kwargs)]
        with self.lock:
            if self.key == lines:
                return self.results
        results = self.scorer.score(lines)
        with self.lock:
            self.key, self.results = lines, results
        return results


def make_reward(spec=None, name="rewardkit"):
    """TRL reward function for the spec's whole reward."""
    scorer = scorer_for(spec)

    def reward(prompts=None, completions=None, **kwargs):
        return [r["reward"] for r in scorer.score(_records(prompts, completions, kwargs))]

    reward.__name__ = name
    reward.__qualname__ = name
    return reward


def _top_level(spec_dict):
    root = spec_dict["reward"]
    for kind in ("sum", "mean", "min", "max", "product", "tiers"):
        if kind in root:
            return root[kind]
    return [root]


def make_trl_rewards(spec=None):
    """One TRL reward function per top-level node of the spec (each must be
    a leaf or have a "name"), named after its component."""
    scorer = scorer_for(spec)
    shared = _Shared(scorer)
    funcs = []
    for i, node in enumerate(_top_level(scorer.spec)):
        name = node.get("name") or node.get("fn")
        if not name or name not in scorer.components:
            raise SpecError(f"spec: reward node {i} has no component name: give it a "
                            "\"name\" to use it as a TRL reward function")

        def fn(prompts=None, completions=None, _name=name, **kwargs):
            return [r["components"][_name] for r in shared.results_for(prompts, completions,
                                                                       kwargs)]

        fn.__name__ = name
        fn.__qualname__ = name
        funcs.append(fn)
    return funcs


def trl_reward_weights(spec=None):
    """The top-level nodes' weights, in make_trl_rewards() order: pass them
    as GRPOConfig(reward_weights=...)."""
    return [float(n.get("weight", 1.0)) for n in _top_level(scorer_for(spec).spec)]

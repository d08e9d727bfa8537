# verl custom reward: point custom_reward_function.path at this file.
# data_source picks the spec's route; the spec comes from reward_kwargs.spec
# (or $REWARDKIT_SPEC). See README.md beside this file.
from rewardkit.adapters.verl import compute_score, compute_score_batch  # noqa: F401

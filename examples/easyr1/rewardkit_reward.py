# EasyR1 reward function: worker.reward.reward_function=examples/easyr1/rewardkit_reward.py:compute_score
# with worker.reward.reward_function_kwargs.spec=examples/geo3k.json
# (or $REWARDKIT_SPEC). Batch mode; for the sequential form import
# compute_score from rewardkit.adapters.easyr1 and set REWARD_TYPE = "sequential".
from rewardkit.adapters.easyr1 import compute_score_batch as compute_score  # noqa: F401

REWARD_TYPE = "batch"

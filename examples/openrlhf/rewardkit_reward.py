# OpenRLHF custom reward: --reward.remote_url examples/openrlhf/rewardkit_reward.py
# (older versions: --remote_rm_url). Set REWARDKIT_SPEC to the spec file, and
# REWARDKIT_RESPONSE_MARKER when prompts are not a prefix of the queries
# (e.g. "<|im_start|>assistant\n").
from rewardkit.adapters.openrlhf import reward_func  # noqa: F401

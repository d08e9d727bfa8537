# TRL GRPOTrainer with rewardkit rewards: one reward function per
# top-level component, so TRL logs rewards/format/mean, rewards/accuracy/mean
# and applies the spec's weights through reward_weights.
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

from rewardkit.adapters.trl import make_trl_rewards, trl_reward_weights

SPEC = "examples/r1_format_accuracy.json"   # or a dict

dataset = load_dataset("openai/gsm8k", "main", split="train")  # column "answer" = reference
dataset = dataset.map(lambda r: {"prompt": r["question"],
                                 "answer": r["answer"].split("####")[-1].strip()})

trainer = GRPOTrainer(
    model="Qwen/Qwen2.5-0.5B-Instruct",
    reward_funcs=make_trl_rewards(SPEC),
    args=GRPOConfig(output_dir="grpo-rewardkit", reward_weights=trl_reward_weights(SPEC)),
    train_dataset=dataset,
)
trainer.train()

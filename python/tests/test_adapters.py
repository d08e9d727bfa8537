"""The trainer adapters, called exactly as each trainer calls its reward
function (signatures from the frameworks' sources, see
docs/python.md), checked for types and shapes and against the CLI's
values on the same records."""
import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_binding import cli_score  # noqa: E402

from rewardkit.adapters import easyr1, openrlhf, trl, verl  # noqa: E402

SPEC = {"reward": {"route": {
    "gsm8k": {"sum": [
        {"fn": "format", "name": "format", "args": {"preset": "r1"}, "weight": 0.1},
        {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}, "weight": 0.9}]},
    "*": {"fn": "exact", "name": "plain"}}}}

FLAT_SPEC = {"reward": {"sum": [
    {"fn": "format", "name": "format", "args": {"preset": "r1"}, "weight": 0.1},
    {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}, "weight": 0.9}]}}

GOOD = "<think>48 + 24 = 72</think><answer>72</answer>"
BAD_FORMAT = "The answer is 72"
WRONG = "<think>hmm</think><answer>70</answer>"


class Verl(unittest.TestCase):
    def test_compute_score_signature_and_values(self):
        # verl NaiveRewardManager: compute_score(data_source=..., solution_str=...,
        # ground_truth=..., extra_info=...) plus reward_kwargs.
        out = verl.compute_score(data_source="gsm8k", solution_str=GOOD, ground_truth="72",
                                 extra_info={"index": 3}, spec=SPEC)
        self.assertIsInstance(out, dict)
        self.assertAlmostEqual(out["score"], 1.0, places=12)  # 0.1 * 1 + 0.9 * 1
        self.assertEqual(out["format"], 1.0)
        self.assertEqual(out["accuracy"], 1.0)
        self.assertTrue(math.isnan(out["plain"]))  # other route: not computed
        self.assertEqual(out["rk_valid"], 1.0)
        # Positional form, other route (data_source selects it).
        out = verl.compute_score("openqa", "The answer is Paris.", "paris", None, spec=SPEC)
        self.assertEqual(out["score"], 1.0)

    def test_same_keys_for_every_sample(self):
        a = verl.compute_score("gsm8k", GOOD, "72", spec=SPEC)
        b = verl.compute_score("other", "x", "y", spec=SPEC)
        c = verl.compute_score("gsm8k", GOOD, None, spec=SPEC)  # no reference
        self.assertEqual(set(a), set(b))
        self.assertEqual(set(a), set(c))
        self.assertEqual((c["score"], c["rk_valid"]), (0.0, 0.0))

    def test_batch_matches_cli(self):
        srcs = ["gsm8k", "gsm8k", "gsm8k", "trivia"]
        sols = [GOOD, BAD_FORMAT, WRONG, "Paris"]
        gts = ["72", "72", "72", "paris"]
        out = verl.compute_score_batch(srcs, sols, gts, [None] * 4, spec=SPEC)
        cli = cli_score([{"data_source": s, "solution_str": r, "ground_truth": g}
                         for s, r, g in zip(srcs, sols, gts)], SPEC)
        self.assertEqual([o["score"] for o in out], [c["reward"] for c in cli])
        self.assertEqual(len(out), 4)

    def test_spec_from_environment(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "geo3k.json")
        os.environ["REWARDKIT_SPEC"] = os.path.abspath(path)
        try:
            out = verl.compute_score("geo3k", "<think>x</think> so \\boxed{3}", "3")
        finally:
            del os.environ["REWARDKIT_SPEC"]
        self.assertAlmostEqual(out["score"], 1.0, places=12)

    def test_a_spec_changed_in_place_is_seen(self):
        # The adapters remember the last spec object; changing it in place
        # between calls must still change the reward.
        spec = {"reward": {"fn": "constant", "args": {"value": 0.25}}}
        self.assertEqual(verl.compute_score("x", "a", "b", spec=spec)["score"], 0.25)
        self.assertEqual(verl.compute_score("x", "a", "b", spec=spec)["score"], 0.25)
        spec["reward"]["args"]["value"] = 0.75
        self.assertEqual(verl.compute_score("x", "a", "b", spec=spec)["score"], 0.75)
        other = {"reward": {"fn": "constant", "args": {"value": 0.5}}}
        self.assertEqual(verl.compute_score("x", "a", "b", spec=other)["score"], 0.5)
        self.assertEqual(verl.compute_score("x", "a", "b", spec=spec)["score"], 0.75)


class Trl(unittest.TestCase):
    def test_plain_and_conversational(self):
        reward = trl.make_reward(FLAT_SPEC)
        # GRPOTrainer: reward_func(prompts=..., completions=..., completion_ids=...,
        # **dataset columns, trainer_state=...)
        prompts = ["q1", "q2"]
        out = reward(prompts=prompts, completions=[GOOD, BAD_FORMAT], completion_ids=[[1], [2]],
                     solution=["72", "72"], trainer_state=object())
        self.assertEqual(len(out), 2)
        self.assertAlmostEqual(out[0], 1.0, places=12)
        self.assertEqual(out[1], 0.0)
        conv = [[{"role": "assistant", "content": GOOD}], [{"role": "assistant", "content": WRONG}]]
        out = reward(prompts=[[{"role": "user", "content": "q"}]] * 2, completions=conv,
                     solution=["72", "72"])
        self.assertAlmostEqual(out[0], 1.0, places=12)
        self.assertAlmostEqual(out[1], 0.1, places=12)

    def test_none_when_not_applicable(self):
        reward = trl.make_reward(FLAT_SPEC)
        out = reward(prompts=["q"], completions=[GOOD])  # no reference column
        self.assertEqual(out, [None])

    def test_one_function_per_component(self):
        funcs = trl.make_trl_rewards(FLAT_SPEC)
        self.assertEqual([f.__name__ for f in funcs], ["format", "accuracy"])
        self.assertEqual(trl.trl_reward_weights(FLAT_SPEC), [0.1, 0.9])
        kwargs = dict(prompts=["a", "b", "c"], completions=[GOOD, BAD_FORMAT, WRONG],
                      answer=["72", "72", "72"])
        self.assertEqual(funcs[0](**kwargs), [1.0, 0.0, 1.0])
        self.assertEqual(funcs[1](**kwargs), [1.0, 0.0, 0.0])
        # Weighted like TRL does, the sum equals the spec's reward.
        whole = trl.make_reward(FLAT_SPEC)(**kwargs)
        w = trl.trl_reward_weights(FLAT_SPEC)
        for i in range(3):
            self.assertAlmostEqual(w[0] * funcs[0](**kwargs)[i] + w[1] * funcs[1](**kwargs)[i],
                                   whole[i], places=12)

    def test_route_components_are_none_elsewhere(self):
        funcs = trl.make_trl_rewards({"reward": {"sum": [
            {"route": {"math": {"fn": "exact"}, "*": {"fn": "constant", "args": {"value": 0}}},
             "name": "acc"},
            {"fn": "format", "name": "fmt"}]}})
        self.assertEqual([f.__name__ for f in funcs], ["acc", "fmt"])


class OpenRLHF(unittest.TestCase):
    def test_reward_func(self):
        prompt = "<|im_start|>user\nHow many?<|im_end|>\n<|im_start|>assistant\n"
        queries = [prompt + GOOD + "<|im_end|>", prompt + WRONG + "<|im_end|>"]
        out = openrlhf.reward_func(queries, [prompt, prompt], ["72", "72"], spec=FLAT_SPEC)
        self.assertEqual(set(out), {"rewards", "scores", "extra_logs"})
        self.assertEqual(len(out["rewards"]), 2)
        self.assertAlmostEqual(out["rewards"][0], 1.0, places=12)
        self.assertAlmostEqual(out["rewards"][1], 0.1, places=12)
        self.assertEqual(out["scores"], out["rewards"])
        self.assertEqual(out["extra_logs"]["format"], [1.0, 1.0])
        self.assertEqual(out["extra_logs"]["accuracy"], [1.0, 0.0])
        self.assertEqual(out["extra_logs"]["rk_valid"], [1.0, 1.0])

    def test_cut_response(self):
        self.assertEqual(openrlhf.cut_response("PQ resp</s>", "PQ"), "resp")
        marker = "<|im_start|>assistant\n"
        q = "<|im_start|>user\nhi<|im_end|>\n" + marker + "the answer<|im_end|><|endoftext|>"
        self.assertEqual(openrlhf.cut_response(q, "other prompt", marker), "the answer")
        self.assertEqual(openrlhf.cut_response("whole", "nope"), "whole")

    def test_matches_cli(self):
        queries = ["P" + GOOD, "P" + BAD_FORMAT]
        out = openrlhf.reward_func(queries, ["P", "P"], ["72", "72"], spec=FLAT_SPEC)
        cli = cli_score([{"response": GOOD, "reference": "72"},
                         {"response": BAD_FORMAT, "reference": "72"}], FLAT_SPEC)
        self.assertEqual(out["rewards"], [c["reward"] for c in cli])


class Examples(unittest.TestCase):
    """The reward files in examples/ import and answer like the adapters."""

    def load(self, trainer):
        import importlib.util
        path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", trainer,
                            "rewardkit_reward.py")
        spec = importlib.util.spec_from_file_location(f"rk_example_{trainer}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    def test_example_files(self):
        v = self.load("verl")
        self.assertAlmostEqual(v.compute_score("gsm8k", GOOD, "72", spec=FLAT_SPEC)["score"], 1.0)
        o = self.load("openrlhf")
        self.assertEqual(len(o.reward_func(["P" + GOOD], ["P"], ["72"], spec=FLAT_SPEC)["rewards"]), 1)
        e = self.load("easyr1")
        self.assertEqual(e.REWARD_TYPE, "batch")
        out = e.compute_score([{"response": GOOD, "response_length": 5, "ground_truth": "72"}],
                              spec=FLAT_SPEC)
        self.assertAlmostEqual(out[0]["overall"], 1.0)


class EasyR1(unittest.TestCase):
    def test_sequential_and_batch(self):
        ri = {"response": GOOD, "response_length": 12, "ground_truth": "72"}
        one = easyr1.compute_score(ri, spec=FLAT_SPEC)
        self.assertAlmostEqual(one["overall"], 1.0, places=12)
        self.assertEqual((one["format"], one["accuracy"]), (1.0, 1.0))
        batch = easyr1.compute_score_batch(
            [ri, {"response": WRONG, "response_length": 9, "ground_truth": "72"}], spec=FLAT_SPEC)
        self.assertEqual(len(batch), 2)
        self.assertAlmostEqual(batch[1]["overall"], 0.1, places=12)
        self.assertEqual(easyr1.REWARD_TYPE, "batch")

    def test_response_length_reaches_length_rewards(self):
        spec = {"reward": {"fn": "soft_overlong", "args": {"max_len": 100, "cache_len": 20}}}
        # L = 90 tokens from response_length: (100 - 20 - 90) / 20 = -0.5.
        out = easyr1.compute_score({"response": "short", "response_length": 90,
                                    "ground_truth": ""}, spec=spec)
        self.assertEqual(out["overall"], -0.5)


if __name__ == "__main__":
    unittest.main()

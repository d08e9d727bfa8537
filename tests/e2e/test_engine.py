"""End-to-end tests of the engine through `rewardkit score`: records and
aliases, malformed input, order, combinators, advantages, filters, spec
errors, exit codes. Rewards come from the plumbing functions `field` and
`constant` so that every expected value is plain arithmetic done by hand
in the comments."""
import json
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from harness import score, score_spec, run  # noqa: E402

FIELD = {"fn": "field", "args": {"field": "x"}}


def rec(x, **kw):
    d = {"response": "r", "x": x}
    d.update(kw)
    return d


class Records(h.unittest.TestCase):
    def test_output_keeps_input_bytes_and_adds_fields(self):
        # Numbers must round-trip byte for byte, whatever their form.
        line = b'{"id": 12345678901234567890, "v": 1.10, "e": 1E+2, "response": "r", "x": 0.5}\n'
        _, out, _ = run(["score", "--quiet", "--fn", "field", "--arg", "field=x"], line)
        text = out.decode()
        self.assertTrue(text.startswith('{"id": 12345678901234567890, "v": 1.10, "e": 1E+2,'), text)
        r = json.loads(text)
        self.assertEqual(r["reward"], 0.5)
        self.assertEqual(r["status"], "ok")
        self.assertEqual(r["components"], {"field": 0.5})

    def test_reserved_input_keys_are_replaced(self):
        out = score([{"response": "r", "x": 2, "reward": 99, "status": "old"}],
                    ["--fn", "field", "--arg", "field=x"])
        self.assertEqual(out[0]["reward"], 2)
        self.assertEqual(out[0]["status"], "ok")
        self.assertEqual(out[0]["x"], 2)

    def test_malformed_lines_get_error_records_and_others_go_on(self):
        data = (b'{"response": "r", "x": 1}\n'
                b'{"response": "r", "x": \n'          # line 2: truncated
                b'[1, 2]\n'                            # line 3: not an object
                b'\n'                                  # line 4: blank, skipped
                b'{"response": "\xff", "x": 3}\n'      # line 5: invalid UTF-8
                b'{"response": "r", "x": 4}')          # line 6: no final newline
        out = score(data, ["--fn", "field", "--arg", "field=x"])
        self.assertEqual(len(out), 5)
        self.assertEqual(out[0]["reward"], 1)
        self.assertEqual((out[1]["line"], out[1]["status"], out[1]["reward"]), (2, "error", None))
        self.assertIn("line 2: invalid JSON", out[1]["error"])
        self.assertEqual(out[2]["line"], 3)
        self.assertIn("must be a JSON object", out[2]["error"])
        self.assertEqual((out[3]["line"], out[3]["status"]), (5, "error"))
        self.assertEqual(out[4]["reward"], 4)

    def test_line_over_the_limit(self):
        big = json.dumps({"response": "a" * 5000, "x": 1}).encode()
        data = b'{"response": "r", "x": 7}\n' + big + b'\n{"response": "r", "x": 8}\n'
        out = score(data, ["--fn", "field", "--arg", "field=x", "--max-line", "1000"])
        self.assertEqual([o.get("reward") for o in out], [7, None, 8])
        self.assertEqual(out[1]["line"], 2)
        self.assertIn("over the limit of 1000 bytes", out[1]["error"])

    def test_aliases(self):
        # solution_str -> response, ground_truth -> reference,
        # data_source -> task, uid -> group.
        spec = {"reward": {"route": {"math": {"fn": "exact", "args": {"extract": "none"}},
                                     "*": {"fn": "constant", "args": {"value": 0}}}}}
        out = score_spec([{"solution_str": "42", "ground_truth": "42", "data_source": "math",
                           "uid": "u1"},
                          {"solution_str": "41", "ground_truth": "42", "data_source": "math",
                           "uid": "u1"}], spec)
        self.assertEqual([o["reward"] for o in out], [1, 0])

    def test_canonical_field_beats_alias(self):
        spec = {"reward": {"route": {"a": {"fn": "constant", "args": {"value": 1}},
                                     "b": {"fn": "constant", "args": {"value": 2}}}}}
        out = score_spec([{"response": "r", "data_source": "b", "task": "a"}], spec)
        self.assertEqual(out[0]["reward"], 1)

    def test_chat_message_response(self):
        # TRL conversational completion: the last message's content.
        r = {"completion": [{"role": "assistant", "content": "hello"}], "x": 1}
        out = score([r], ["--fn", "field", "--arg", "field=x"])
        self.assertEqual(out[0]["status"], "ok")

    def test_missing_response_is_an_error_not_zero(self):
        out = score([{"reference": "72"}], ["--fn", "exact"])
        self.assertEqual(out[0]["status"], "error")
        self.assertIsNone(out[0]["reward"])
        self.assertIn("no 'response'", out[0]["error"])

    def test_field_missing_is_an_error(self):
        out = score([{"response": "r"}], ["--fn", "field", "--arg", "field=meta.score"])
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("meta.score", out[0]["error"])
        out = score([{"response": "r", "meta": {"score": [0, 0.25]}}],
                    ["--fn", "field", "--arg", "field=meta.score.1"])
        self.assertEqual(out[0]["reward"], 0.25)

    def test_order_is_input_order_for_any_thread_count(self):
        recs = [rec(i % 7, id=i) for i in range(20000)]
        one = score(recs, ["--fn", "field", "--arg", "field=x", "--threads", "1"])
        two = score(recs, ["--fn", "field", "--arg", "field=x", "--threads", "2"])
        five = score(recs, ["--fn", "field", "--arg", "field=x", "--threads", "5"])
        self.assertEqual([o["id"] for o in one], list(range(20000)))
        self.assertEqual(one, two)
        self.assertEqual(one, five)

    def test_big_lines_across_read_buffers(self):
        # 300 lines of ~100 KB (30 MB: several 8 MiB read buffers, lines
        # straddling them), one 12 MB line (the buffer must grow), and one
        # line over --max-line, in 1 and 2 threads.
        recs = [rec(i % 3, id=i, pad="x" * (100000 + i)) for i in range(300)]
        recs.insert(150, rec(5, id="big", pad="y" * 12_000_000))
        data = h.lines(recs)
        data += json.dumps(rec(1, id="huge", pad="z" * 17_000_000)).encode() + b"\n"
        data += b'{"response": "r", "x": 9, "id": "last"}\n'
        for t in ("1", "2"):
            out = score(data, ["--fn", "field", "--arg", "field=x", "--threads", t])
            ids = [o.get("id") for o in out]
            self.assertEqual(ids[:150], list(range(150)))
            self.assertEqual(ids[150], "big")
            self.assertEqual(out[150]["reward"], 5)
            self.assertEqual(ids[151:301], list(range(150, 300)))
            self.assertEqual((out[301]["status"], out[301]["line"]), ("error", 302))
            self.assertEqual(ids[302], "last")
            self.assertEqual(len(out), 303)

    def test_file_input_is_mapped_and_gives_the_same_output(self):
        # A regular file is parsed in place (mmap); stdin is read. Same bytes out.
        big = json.dumps({"response": "a" * 3000, "x": 2}).encode()
        data = (b'{"response": "r", "x": 1}\r\n\n  \n{"bad": \n' + big + b"\n" +
                b'[1]\n' + b'{"response": "r", "x": 3}' * 1 + b"\n" +
                b"\n".join(json.dumps(rec(i % 3, id=i)).encode() for i in range(9000)) +
                b'\n{"response": "r", "x": 4}')  # no final newline
        args = ["score", "--quiet", "--fn", "field", "--arg", "field=x", "--max-line", "2000"]
        _, piped, _ = run(args, data)
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
            f.write(data)
        try:
            for t in ("1", "2"):
                _, mapped, _ = run(args + ["--threads", t, f.name])
                self.assertEqual(mapped, piped)
        finally:
            os.unlink(f.name)
        out = h.jsonl(piped)
        self.assertEqual(out[0]["reward"], 1)
        self.assertEqual((out[1]["line"], out[1]["status"]), (4, "error"))
        self.assertIn("over the limit of 2000 bytes", out[2]["error"])
        self.assertEqual(out[-1]["reward"], 4)
        self.assertEqual(len(out), 9006)

    def test_timing_adds_elapsed(self):
        out = score([rec(1)], ["--fn", "field", "--arg", "field=x", "--timing"])
        self.assertGreaterEqual(out[0]["elapsed_us"], 0)


class Combinators(h.unittest.TestCase):
    def c(self, v, **kw):
        d = {"fn": "constant", "args": {"value": v}}
        d.update(kw)
        return d

    def one(self, node):
        return score_spec([rec(0)], {"reward": node})[0]

    def test_sum_weighted(self):
        # 0.9 * 1 + 0.1 * 0.5 = 0.95
        r = self.one({"sum": [self.c(1, weight=0.9, name="a"), self.c(0.5, weight=0.1, name="b")]})
        self.assertAlmostEqual(r["reward"], 0.95, places=12)
        self.assertEqual(r["components"], {"a": 1, "b": 0.5})

    def test_mean_min_max_product(self):
        kids = [self.c(1), self.c(0.5), self.c(-2)]
        self.assertAlmostEqual(self.one({"mean": kids})["reward"], (1 + 0.5 - 2) / 3)
        self.assertEqual(self.one({"min": kids})["reward"], -2)
        self.assertEqual(self.one({"max": kids})["reward"], 1)
        self.assertEqual(self.one({"product": kids})["reward"], -1)

    def test_gate(self):
        closed = self.one({"gate": self.c(0.5), "at_least": 1, "fail": -1, "then": self.c(7)})
        self.assertEqual(closed["reward"], -1)
        opened = self.one({"gate": self.c(1), "at_least": 1, "fail": -1, "then": self.c(7)})
        self.assertEqual(opened["reward"], 7)

    def test_gate_does_not_evaluate_then_when_closed(self):
        # The inner node would fail (no field); a closed gate never runs it.
        r = self.one({"gate": self.c(0), "fail": -1, "then": {"fn": "field", "args": {"field": "nope"}}})
        self.assertEqual((r["reward"], r["status"]), (-1, "ok"))

    def test_tiers(self):
        # 3 tiers, pass 1: tier 0 passes (1), tier 1 = 0.4 fails -> (1 + 0.4) / 3.
        r = self.one({"tiers": [self.c(1), self.c(0.4), self.c(1)]})
        self.assertAlmostEqual(r["reward"], 1.4 / 3, places=12)
        # Passing tier 1 outweighs any partial score in tier 2: (2 + 0) / 3.
        r = self.one({"tiers": [self.c(1), self.c(1), self.c(0)]})
        self.assertAlmostEqual(r["reward"], 2 / 3, places=12)
        r = self.one({"tiers": [self.c(1), self.c(1), self.c(0.99)], "normalize": False})
        self.assertAlmostEqual(r["reward"], 2.99, places=12)

    def test_clip_affine_threshold(self):
        self.assertEqual(self.one({"clip": self.c(5), "lower": -1, "upper": 1})["reward"], 1)
        self.assertEqual(self.one({"clip": self.c(-5), "lower": -1})["reward"], -1)
        self.assertEqual(self.one({"affine": self.c(1), "scale": 2, "shift": -1})["reward"], 1)
        self.assertEqual(self.one({"affine": self.c(0), "scale": 2, "shift": -1})["reward"], -1)
        self.assertEqual(self.one({"threshold": self.c(0.5), "at": 0.5})["reward"], 1)
        self.assertEqual(self.one({"threshold": self.c(0.49), "at": 0.5})["reward"], 0)

    def test_route(self):
        spec = {"reward": {"route": {"gsm8k": self.c(1), "aime*": self.c(2), "*": self.c(3)}}}
        out = score_spec([rec(0, task="gsm8k"), rec(0, task="aime2024"),
                          rec(0, task="other"), rec(0)], spec)
        self.assertEqual([o["reward"] for o in out], [1, 2, 3, 3])

    def test_route_without_default_is_an_error_per_record(self):
        spec = {"reward": {"route": {"gsm8k": self.c(1)}}}
        out = score_spec([rec(0, task="x"), rec(0, task="gsm8k")], spec)
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("no route for task 'x'", out[0]["error"])
        self.assertEqual(out[1]["reward"], 1)

    def test_error_propagates_to_null_reward(self):
        r = self.one({"sum": [self.c(1), {"fn": "field", "args": {"field": "nope"}}]})
        self.assertIsNone(r["reward"])
        self.assertEqual(r["status"], "error")
        self.assertIsNone(r["components"]["field"])

    def test_explain_per_component(self):
        out = score_spec([rec(0.25)], {"reward": {"sum": [FIELD, self.c(1, name="one")]}}, ["--explain"])
        self.assertEqual(out[0]["explain"], {"field": "field 'x' = 0.25", "one": "constant 1"})

    def test_auto_component_names_are_unique(self):
        r = self.one({"sum": [self.c(1), self.c(2)]})
        self.assertEqual(r["components"], {"constant": 1, "constant_2": 2})


class Groups(h.unittest.TestCase):
    def test_grpo_advantage_hand_computed(self):
        # Group a: rewards 1, 0, 0, 1 -> mean 0.5, unbiased std sqrt(1/3).
        # A = +-0.5 / (0.5773502691896258 + 1e-6).
        # Group b: 1, 1 -> zero variance -> A = 0.
        recs = [rec(1, group="a"), rec(0, group="a"), rec(1, group="b"),
                rec(0, group="a"), rec(1, group="a"), rec(1, group="b")]
        out = score(recs, ["--fn", "field", "--arg", "field=x", "--advantage", "grpo"])
        a = 0.5 / (math.sqrt(1 / 3) + 1e-6)
        want = [a, -a, 0, -a, a, 0]
        for o, w in zip(out, want):
            self.assertAlmostEqual(o["advantage"], w, places=12)

    def test_rloo(self):
        # 3, 0, 0: A_0 = 3 - 0 = 3, A_1 = 0 - 1.5 = -1.5.
        recs = [rec(3, group=1), rec(0, group=1), rec(0, group=1)]
        out = score(recs, ["--fn", "field", "--arg", "field=x", "--advantage", "rloo"])
        self.assertEqual([o["advantage"] for o in out], [3, -1.5, -1.5])

    def test_summary_counts(self):
        recs = [rec(1, group="a"), rec(1, group="a"), rec(0, group="b"), rec(1, group="b"),
                {"reference": 1}]
        path = h.spec_file({})
        try:
            _, out, err = run(["score", "--fn", "field", "--arg", "field=x", "--summary", path],
                              h.lines(recs))
            with open(path) as f:
                s = json.load(f)
        finally:
            os.unlink(path)
        self.assertEqual(s["records"], 5)
        self.assertEqual(s["scored"], 4)
        self.assertAlmostEqual(s["reward_mean"], 0.75)
        self.assertEqual(s["status"]["error"], 1)
        self.assertEqual(s["groups"], 2)
        self.assertEqual(s["zero_variance_groups"], 1)
        self.assertIn("zero-variance 1", err)

    def test_filter_flag_and_drop(self):
        recs = [rec(1, group="a"), rec(1, group="a"), rec(0, group="b"), rec(1, group="b")]
        flagged = score_spec(recs, {"reward": FIELD, "filter": {"zero_variance": True}})
        self.assertEqual([o.get("filtered") for o in flagged],
                         ["zero_variance", "zero_variance", None, None])
        dropped = score_spec(recs, {"reward": FIELD,
                                    "filter": {"zero_variance": True, "action": "drop"}})
        self.assertEqual([o["group"] for o in dropped], ["b", "b"])
        # Mean strictly inside (0.2, 0.8): group a (mean 1) out, b (0.5) in.
        ranged = score_spec(recs, {"reward": FIELD, "filter": {"mean_range": [0.2, 0.8]}})
        self.assertEqual([o.get("filtered") for o in ranged],
                         ["mean_out_of_range", "mean_out_of_range", None, None])


class SpecErrors(h.unittest.TestCase):
    def err(self, spec):
        path = h.spec_file(spec)
        try:
            code, _, err = run(["score", "--spec", path], b"", check_code=None)
        finally:
            os.unlink(path)
        self.assertEqual(code, 3, err)
        return err

    def test_unknown_function_names_path_and_suggests(self):
        e = self.err({"reward": {"sum": [{"fn": "constant"}, {"fn": "feild"}]}})
        self.assertIn("reward.sum[1]: unknown function 'feild' (did you mean 'field'?)", e)

    def test_unknown_argument(self):
        e = self.err({"reward": {"fn": "constant", "args": {"valeu": 1}}})
        self.assertIn("reward: unknown argument 'valeu' for function 'constant'", e)

    def test_wrong_type(self):
        e = self.err({"reward": {"gate": {"fn": "constant", "args": {"value": "x"}},
                                 "then": {"fn": "constant"}}})
        self.assertIn("reward.gate.args.value: expected a number, got string", e)

    def test_unknown_key_and_missing_reward(self):
        self.assertIn("unknown key 'wieght'", self.err({"reward": {"fn": "constant", "wieght": 2}}))
        self.assertIn("missing 'reward'", self.err({"advantage": "grpo"}))
        self.assertIn("unknown estimator 'gpro'", self.err({"reward": {"fn": "constant"},
                                                            "advantage": "gpro"}))

    def test_invalid_json_spec(self):
        path = h.spec_file({})
        with open(path, "w") as f:
            f.write('{"reward": {"fn": "constant",}}')
        code, _, err = run(["score", "--spec", path], b"", check_code=None)
        os.unlink(path)
        self.assertEqual(code, 3)
        self.assertIn("invalid JSON at line 1", err)


class Cli(h.unittest.TestCase):
    def test_exit_codes(self):
        self.assertEqual(run(["score", "--bogus"], check_code=None)[0], 2)
        self.assertEqual(run(["score", "--fn", "constant", "/nonexistent/x.jsonl"],
                             check_code=None)[0], 1)
        self.assertEqual(run(["frobnicate"], check_code=None)[0], 2)
        self.assertEqual(run(["--version"])[1].decode().split()[0], "rewardkit")

    def test_help_on_every_command(self):
        for cmd in ("score", "check", "list", "validate"):
            code, out, _ = run([cmd, "--help"])
            self.assertIn(b"usage: rewardkit " + cmd.encode(), out)

    def test_list_has_every_family(self):
        out = run(["list"])[1].decode()
        for name in ("exact", "mcq", "format", "regex", "overlong_dapo", "repetition", "field"):
            self.assertIn(name, out)

    def test_check(self):
        out = run(["check", "constant", "x", "y", "--arg", "value=0.5"])[1].decode()
        self.assertIn("reward  0.5", out)
        self.assertIn("status  ok", out)

    def test_check_negative_answers(self):
        out = run(["check", "exact", "-1", "The answer is -1."])[1].decode()
        self.assertIn("reward  1", out)
        out = run(["check", "exact", "--", "-x", "The answer is -y."])[1].decode()
        self.assertIn("reward  0", out)

    def test_example_agri_r1(self):
        # 0.8 x plant + 1.2 x disease: "tomato" whole (1); of "leaf mold
        # disease" only "mold" is in the answer and no 6-letter prefix is
        # shared (0.5): 0.8 + 0.6 = 1.4. Both whole: 2.
        path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "agri_r1.json")
        ref = [["tomato", "tomato plant"], ["leaf mold disease"]]
        out = score([{"response": "<answer>Tomato leaves, grey mold.</answer>", "reference": ref},
                     {"response": "<answer>tomato with leaf mold disease</answer>", "reference": ref}],
                    ["--spec", path])
        self.assertAlmostEqual(out[0]["reward"], 1.4, places=12)
        self.assertEqual(out[1]["reward"], 2)

    def test_examples_validate(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
        for name in sorted(os.listdir(root)):
            if name.endswith(".json"):
                code, _, err = run(["validate", os.path.join(root, name)], check_code=None)
                self.assertEqual(code, 0, f"{name}: {err}")


if __name__ == "__main__":
    h.main()

"""Tests of the Python binding: Scorer, errors, library loading, threads.
Expected values come from the CLI run on the same records (an independent
path through the library: JSONL in, JSONL out) or from hand arithmetic.

Run: REWARDKIT_LIB=build/librewardkit.so REWARDKIT_CLI=build/rewardkit \\
     PYTHONPATH=python python3 -m unittest discover -s python/tests
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import rewardkit

CLI = os.environ.get("REWARDKIT_CLI", "rewardkit")

SPEC = {"reward": {"sum": [
    {"fn": "format", "name": "format", "args": {"preset": "r1"}},
    {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}}]},
    "advantage": {"estimator": "grpo"}}


def cli_score(records, spec, *extra):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        p = subprocess.run([CLI, "score", "--quiet", "--spec", f.name, *extra], input=data,
                           capture_output=True, check=True, timeout=120)
        return [json.loads(l) for l in p.stdout.decode().splitlines()]
    finally:
        os.unlink(f.name)


def rollouts(n=64):
    recs = []
    for i in range(n):
        ans = str(i % 5)
        resp = (f"<think>step {i}</think><answer>{ans}</answer>" if i % 7 else
                f"no tags, answer {ans}")
        recs.append({"id": i, "group": f"g{i // 8}", "response": resp, "reference": "2"})
    return recs


def hammer(scorer, recs, want, threads, rounds):
    """Scores recs `rounds` times on each of `threads` threads sharing the
    scorer; returns what went wrong (mismatched rewards, exceptions)."""
    errors = []

    def work():
        try:
            for _ in range(rounds):
                if [r["reward"] for r in scorer.score(recs)] != want:
                    errors.append("mismatch")
        except Exception as e:  # pragma: no cover - reported by the caller
            errors.append(repr(e))

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


class ScorerTest(unittest.TestCase):
    def test_matches_cli(self):
        recs = rollouts()
        ours = rewardkit.Scorer(SPEC).score(recs)
        cli = cli_score(recs, SPEC)
        self.assertEqual(len(ours), len(cli))
        for a, b in zip(ours, cli):
            self.assertEqual(a["reward"], b["reward"])
            self.assertEqual(a["status"], b["status"])
            self.assertEqual(a["components"], b["components"])
            self.assertEqual(a["advantage"], b["advantage"])

    def test_result_shape(self):
        s = rewardkit.Scorer(SPEC)
        self.assertEqual(s.components, ["format", "accuracy"])
        r = s.score_one(response="<think>a</think><answer>2</answer>", reference="2")
        self.assertEqual(set(r), {"reward", "status", "components", "advantage"})
        self.assertEqual(r["reward"], 2.0)
        self.assertIsInstance(r["reward"], float)
        # A group of one under GRPO (verl's rule): mean 0, std 1 -> 2 / (1 + 1e-6).
        self.assertAlmostEqual(r["advantage"], 2 / (1 + 1e-6), places=12)

    def test_component_names_are_kept_verbatim(self):
        # Names with quotes, braces, backslashes and non-ASCII text come back
        # exactly as the spec wrote them; null components are None.
        odd = ['a"b', "}, {'x': 1", "back\\slash", "ünï 名"]
        spec = {"reward": {"sum": [{"fn": "exact", "name": name} for name in odd]}}
        with rewardkit.Scorer(spec) as s:
            self.assertEqual(s.components, odd)
            out = s.score([{"response": "7", "reference": "7"},
                           {"response": "7", "reference": "8"}, "{bad"])
        self.assertEqual(out[0]["components"], dict.fromkeys(odd, 1.0))
        self.assertEqual(out[1]["components"], dict.fromkeys(odd, 0.0))
        self.assertEqual(out[2]["components"], dict.fromkeys(odd))
        self.assertEqual((out[0]["reward"], out[1]["reward"], out[2]["reward"]), (4.0, 0.0, None))

    def test_json_text_and_dict_agree(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}})
        rec = {"response": "The answer is Paris.", "reference": "paris"}
        self.assertEqual(s.score([rec]), s.score([json.dumps(rec)]))
        self.assertEqual(s.score_jsonl([json.dumps(rec)])[0]["reward"], 1.0)

    def test_long_responses_passed_apart_agree_with_json(self):
        # Dicts with long responses take the path beside the JSON; their
        # results must equal those of the same records as JSON text and the
        # CLI's. The texts hold escapes, quotes, non-ASCII and astral
        # characters, and a record's other response alias must not win.
        pad = "Let us think: \"quoted\"\n\ttab \\ back \u00e9\u4e2d\U0001F600 " * 3
        recs = []
        for i in range(40):
            ans = str(i % 3)
            recs.append({"id": i, "group": f"g{i // 4}", "reference": "1",
                         "response": f"<think>{pad}{i}</think><answer>{ans}</answer>"})
        recs.append({"response": pad + "<answer>1</answer>", "solution_str": "<answer>0</answer>",
                     "reference": "1", "group": "x"})
        spec = {"reward": {"sum": [
            {"fn": "format", "name": "format", "args": {"preset": "r1"}},
            {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}}]},
            "advantage": {"estimator": "grpo"}}
        s = rewardkit.Scorer(spec)
        apart = s.score(recs)
        as_json = s.score([json.dumps(r) for r in recs])
        self.assertEqual(apart, as_json)
        cli = cli_score(recs, spec)
        self.assertEqual([a["reward"] for a in apart], [c["reward"] for c in cli])
        self.assertEqual([a["advantage"] for a in apart], [c["advantage"] for c in cli])
        self.assertEqual(apart[-1]["components"]["accuracy"], 1.0)
        self.assertEqual([a["reward"] for a in apart[:6]], [1.0, 2.0, 1.0, 1.0, 2.0, 1.0])
        # A lone surrogate or a NUL is that record's error, on both paths.
        for text in ("\ud800" * 80, "x" * 80 + "\x00"):
            bad = {"response": text, "reference": "1"}
            for r in (s.score([bad])[0], s.score([json.dumps(bad)])[0]):
                self.assertEqual(r["status"], "error")
                self.assertIsNone(r["reward"])

    def test_statuses_and_errors(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}})
        out = s.score([{"reference": "x"}, "not json", {"response": "x"},
                       {"response": "<answer></answer>", "reference": "x"}], explain=True)
        self.assertEqual(out[0]["status"], "error")
        self.assertIsNone(out[0]["reward"])
        self.assertIn("no 'response'", out[0]["error"])
        self.assertEqual(out[1]["status"], "error")
        self.assertIn("invalid JSON", out[1]["error"])
        self.assertEqual(out[2]["status"], "invalid_reference")
        self.assertIsNone(out[2]["reward"])
        self.assertIn("explain", out[3])

    def test_explain(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}}, explain=True)
        r = s.score_one(response="The answer is 72.", reference="72")
        self.assertEqual(r["explain"]["exact"],
                         "extracted '72' by answer_is; pred '72' == gold '72' (normalised)")

    def test_spec_errors(self):
        with self.assertRaises(rewardkit.SpecError) as cm:
            rewardkit.Scorer({"reward": {"sum": [{"fn": "exact"}, {"fn": "formt"}]}})
        self.assertEqual(str(cm.exception),
                         "spec: reward.sum[1]: unknown function 'formt' (did you mean 'format'?)")
        with self.assertRaises(rewardkit.SpecError):
            rewardkit.Scorer("{not json")
        with self.assertRaises(rewardkit.SpecError):
            rewardkit.Scorer("/nonexistent/spec.json")

    def test_spec_from_path(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"reward": {"fn": "constant", "args": {"value": 0.5}}}, f)
        try:
            self.assertEqual(rewardkit.Scorer(f.name).score_one(response="x")["reward"], 0.5)
        finally:
            os.unlink(f.name)

    def test_filters_flag_even_when_dropping(self):
        # Results stay aligned with the inputs: a "drop" filter flags instead.
        spec = {"reward": {"fn": "field", "args": {"field": "x"}},
                "filter": {"zero_variance": True, "action": "drop"}}
        out = rewardkit.Scorer(spec).score([
            {"response": "", "x": 1, "group": "a"}, {"response": "", "x": 1, "group": "a"},
            {"response": "", "x": 0, "group": "b"}, {"response": "", "x": 1, "group": "b"}])
        self.assertEqual([o.get("filtered") for o in out],
                         ["zero_variance", "zero_variance", None, None])

    def test_numpy_like_values_are_serialised(self):
        class Scalar:  # what numpy scalars look like to json: .item()
            def __init__(self, v):
                self.v = v

            def item(self):
                return self.v

        out = rewardkit.Scorer({"reward": {"fn": "field", "args": {"field": "x"}}}).score(
            [{"response": "", "x": Scalar(0.25)}])
        self.assertEqual(out[0]["reward"], 0.25)

    def test_threads(self):
        s = rewardkit.Scorer(SPEC, threads=1)
        recs = rollouts(256)
        want = [r["reward"] for r in s.score(recs)]
        self.assertEqual(hammer(s, recs, want, threads=16, rounds=10), [])

    def test_large_batches_in_pieces_match_cli(self):
        # Batches of >= 128 records without groups are scored in pieces
        # while earlier pieces are converted: the results, error messages
        # (with their line numbers) and explanations must equal the CLI's
        # and those of one piece.
        spec = {"reward": {"sum": [
            {"fn": "format", "name": "format", "args": {"preset": "r1"}},
            {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}}]}}
        recs = rollouts(1200)
        for i in (3, 130, 517, 1199):
            recs[i] = {"id": i, "reference": "2"}  # no response: an error
        recs[700]["response"] = "x" * 100 + "<answer>2</answer>"  # passed apart
        s = rewardkit.Scorer(spec, threads=2)
        s._pieces = True  # the pieced path, whatever this machine's CPU count
        cli = cli_score(recs, spec, "--explain")
        for explain in (False, True):
            ours = s.score(recs, explain=explain)
            self.assertEqual(len(ours), len(recs))
            for i, (a, b) in enumerate(zip(ours, cli)):
                self.assertEqual((a["reward"], a["status"], a["components"]),
                                 (b["reward"], b["status"], b["components"]), i)
                self.assertEqual(a.get("error"), b.get("error"), i)
                if explain:
                    self.assertEqual(a["explain"], b.get("explain", {}), i)
            self.assertIn("no 'response'", ours[517]["error"])
            s._pieces = False
            try:
                self.assertEqual(s.score(recs, explain=explain), ours)
            finally:
                s._pieces = True
        # Lines that are not JSON: the message names the line of the batch.
        # Any iterable of records will do (a generator takes one call).
        self.assertEqual(s.score(r for r in recs), s.score(recs))
        lines = [json.dumps(r) for r in recs]
        lines[900] = "not json"
        ours = s.score_jsonl(lines)
        self.assertEqual(ours, s.score(lines))
        self.assertTrue(ours[900]["error"].startswith("line 901: invalid JSON"),
                        ours[900]["error"])
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(spec, f)
        try:
            p = subprocess.run([CLI, "score", "--quiet", "--spec", f.name],
                               input="\n".join(lines).encode() + b"\n",
                               capture_output=True, check=True, timeout=120)
        finally:
            os.unlink(f.name)
        cli = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual([r.get("error") for r in ours], [c.get("error") for c in cli])

    def test_threads_with_pieces(self):
        spec = {"reward": {"fn": "exact", "args": {"extract": "answer_tag"}}}
        s = rewardkit.Scorer(spec, threads=2)
        s._pieces = True
        recs = rollouts(700)
        want = [r["reward"] for r in s.score(recs)]
        # i % 5 == 2 answers "2"; every 7th response has no tags.
        self.assertEqual(want[:15], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                     0.0, 0.0, 1.0, 0.0, 0.0])
        self.assertEqual(hammer(s, recs, want, threads=12, rounds=5), [])

    @unittest.skipUnless(shutil.which("taskset"), "taskset (util-linux) not installed")
    def test_all_cpus_means_the_affinity_mask(self):
        # threads=0 counts the CPUs this process may run on (a container's
        # cpuset, taskset), not the machine's: pinned to CPU 0, one thread.
        code = ("import ctypes, rewardkit\n"
                "ctx = ctypes.c_void_p()\n"
                "rewardkit._LIB.rk_ctx_create(ctypes.byref(rewardkit._lib.RkCtxOptions(0)),"
                " ctypes.byref(ctx))\n"
                "rewardkit._LIB.rk_ctx_threads.restype = ctypes.c_uint\n"
                "print(rewardkit._LIB.rk_ctx_threads(ctx))\n")
        p = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code],
                           capture_output=True, text=True, check=True, timeout=60)
        self.assertEqual(p.stdout.strip(), "1")

    def test_functions_list(self):
        fns = rewardkit.functions()
        for name in ("exact", "format", "mcq", "field"):
            self.assertIn(name, fns)

    def test_missing_library_message(self):
        code = ("import rewardkit")
        env = dict(os.environ, REWARDKIT_LIB="/nonexistent/librewardkit.so")
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
        self.assertNotEqual(p.returncode, 0)
        err = p.stderr.decode()
        self.assertIn("ImportError: rewardkit: cannot find librewardkit.so", err)
        self.assertIn("REWARDKIT_LIB", err)


if __name__ == "__main__":
    unittest.main()

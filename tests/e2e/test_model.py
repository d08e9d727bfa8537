"""End-to-end tests of the model-based rewards against real HTTP servers on
loopback: the deterministic test peer (tests/peer/lm_peer.py) speaking the
vLLM, SGLang, llama.cpp and TGI formats, with its faults (503s, dropped
connections, slow and non-JSON replies). Expected values are computed here
by hand from the peer's documented toy model (tests/peer/README.md):
prompt logprob of a token = -0.1 * code points - (1 if its text is new in
the sequence), judge top list Yes ln(0.9P), " yes" ln(0.1P), No ln(1-P),
embeddings = hashed word counts in 8 dimensions."""
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "tests", "peer", "lm_peer.py")
KINDS = ("vllm", "sglang", "llamacpp", "tgi")


class Peer:
    def __init__(self, kind, *extra):
        self.kind = kind
        self.proc = subprocess.Popen([sys.executable, PEER, "--kind", kind, "--port", "0", *extra],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError(f"peer {kind} did not start: {line}")
        self.port = int(line[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def _req(self, method, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=b"" if method == "POST" else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return json.loads(data) if data else None

    def stats(self):
        return self._req("GET", "/peer/stats")

    def reset(self):
        self._req("POST", "/peer/reset")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PEERS = {}


def setUpModule():
    for k in KINDS:
        PEERS[k] = Peer(k)
    PEERS["sglang_rm"] = Peer("sglang", "--rm")


def tearDownModule():
    for p in PEERS.values():
        p.stop()


def score(records, fn, args, extra=()):
    return h.score_spec(records, {"reward": {"fn": fn, "args": args}}, ["--explain", *extra])


def score_summary(records, fn, args):
    d = tempfile.mkdtemp()
    spec = h.spec_file({"reward": {"fn": fn, "args": args}})
    summ = os.path.join(d, "s.json")
    try:
        out = h.score(records, ["--spec", spec, "--explain", "--summary", summ])
        with open(summ) as f:
            return out, json.load(f)
    finally:
        os.unlink(spec)


def pyes(p):
    """The peer's judge list for [[p_yes=P]], renormalised by hand."""
    yes = 0.9 * p + 0.1 * p
    return yes / (yes + (1 - p))


class Judge(unittest.TestCase):
    def test_pointwise_every_server(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                out = score([{"prompt": "2+2?", "response": "4", "reference": "4"}], "judge",
                            {"url": PEERS[kind].url, "server": kind, "model": "m",
                             "template": "Q {prompt} A {response} [[p_yes=0.8]]"})
                self.assertEqual(out[0]["status"], "ok", out[0])
                self.assertAlmostEqual(out[0]["reward"], pyes(0.8), places=12)

    def test_yes_missing_from_top_k_and_clamped_values(self):
        out = score([{"prompt": "p", "response": "r"}], "judge",
                    {"url": PEERS["vllm"].url, "template": "{prompt} {response} [[no_yes]]"})
        self.assertEqual(out[0]["reward"], 0)  # no is there, yes is not: P(yes) = 0
        # "Nope" comes at vLLM's clamp of -inf (-9999); counted as a yes
        # variant it must add exactly 0.
        for kind in ("vllm", "sglang"):
            out = score([{"prompt": "p", "response": "r"}], "judge",
                        {"url": PEERS[kind].url, "server": kind, "yes": ["yes", "nope"],
                         "template": "{prompt} {response} [[p_yes=0.3]] [[clamp]]"})
            self.assertAlmostEqual(out[0]["reward"], 0.3, places=12)

    def test_pairwise_both_orders(self):
        # Both orders see P = 0.7: (0.7 + 1 - 0.7) / 2 = 0.5.
        out = score([{"prompt": "p", "response": "mine", "reference": "theirs"}], "judge",
                    {"url": PEERS["vllm"].url, "mode": "pairwise", "both_orders": True,
                     "template": "A {response} B {reference} [[p_yes=0.7]]"})
        self.assertAlmostEqual(out[0]["reward"], 0.5, places=12)

    def test_rubric_each_and_one(self):
        rubric = [{"criterion": "clear [[p_yes=0.9]]", "weight": 1},
                  {"criterion": "short [[p_yes=0.3]]", "weight": 3}]
        out = score([{"prompt": "p", "response": "r"}], "judge",
                    {"url": PEERS["sglang"].url, "server": "sglang", "mode": "rubric",
                     "rubric": rubric})
        self.assertAlmostEqual(out[0]["reward"], (1 * 0.9 + 3 * 0.3) / 4, places=12)
        out = score([{"prompt": "p", "response": "r"}], "judge",
                    {"url": PEERS["tgi"].url, "server": "tgi", "mode": "rubric",
                     "rubric_calls": "one", "rubric": ["a", "b", "c"],
                     "template": "{response} {rubric} [[say=1: yes\n2: no\n3: yes]]"})
        self.assertAlmostEqual(out[0]["reward"], 2 / 3, places=12)

    def test_cot_score_and_verdict(self):
        out = score([{"prompt": "p", "response": "r", "reference": "x"}], "judge",
                    {"url": PEERS["llamacpp"].url, "server": "llamacpp", "mode": "cot",
                     "template": "{prompt} {response} [[say=The steps hold. Score: 7/10]]"})
        self.assertAlmostEqual(out[0]["reward"], 0.7, places=12)
        out = score([{"prompt": "p", "response": "r"}], "judge",
                    {"url": PEERS["vllm"].url, "mode": "cot", "verdict": True,
                     "template": "{response} [[say=\\boxed{{True}}]]"})
        self.assertEqual(out[0]["reward"], 1)

    def test_gate_refuses_master_keys_without_calling(self):
        p = PEERS["vllm"]
        p.reset()
        recs = [{"prompt": "p", "response": r} for r in (":", "Thought process:", "  ", "解")]
        out = score(recs, "judge", {"url": p.url, "template": "{response} [[p_yes=0.9]]"})
        for o in out:
            self.assertEqual((o["reward"], o["status"]), (0, "unparseable"), o)
            self.assertIn("refused before calling the model", o["explain"]["judge"])
        self.assertEqual(p.stats()["requests"], 0)

    def test_offline(self):
        rec = {"response": "r", "judge_top_logprobs": {"Yes": math.log(0.6), "No": math.log(0.2)}}
        out = score([rec], "judge", {})
        self.assertAlmostEqual(out[0]["reward"], 0.75, places=12)


class Cache(unittest.TestCase):
    def test_identical_requests_go_out_once(self):
        p = PEERS["vllm"]
        p.reset()
        recs = [{"prompt": "same", "response": "same"}] * 5 + [{"prompt": "other", "response": "x"}]
        out, summ = score_summary(recs, "judge", {"url": p.url, "template": "{prompt} {response}"})
        self.assertEqual(len(out), 6)
        self.assertEqual(p.stats()["requests"], 2)
        self.assertEqual(summ["model"]["requests"], 2)
        self.assertGreater(summ["model"]["prompt_tokens"], 0)


# The scored text is "Q\n" + response up to <answer> + reference. Tokens of
# the reference "cat sat": "cat" (3 code points) and " sat" (4).
def lp(n, new):
    return -0.1 * n - (1.0 if new else 0.0)


class RefLogprob(unittest.TestCase):
    REC = {"prompt": "Q", "response": "<think>cat sat</think><answer>dog</answer>",
           "reference": "cat sat"}

    def test_mean_prob_sum_and_debias_on_each_server(self):
        # With the reasoning, both reference tokens occurred before.
        b = [lp(3, False), lp(4, False)]
        a = [lp(3, True), lp(4, True)]  # prompt alone: both new
        for kind in ("vllm", "sglang", "tgi"):
            with self.subTest(kind=kind):
                args = {"url": PEERS[kind].url, "server": kind}
                out = score([self.REC], "ref_logprob", args)
                self.assertAlmostEqual(out[0]["reward"], sum(map(math.exp, b)) / 2, places=12)
                out = score([self.REC], "ref_logprob", dict(args, aggregate="sum"))
                self.assertAlmostEqual(out[0]["reward"], sum(b), places=12)
                out = score([self.REC], "ref_logprob", dict(args, debias=True))
                want = sum(map(math.exp, b)) / 2 - sum(map(math.exp, a)) / 2
                self.assertAlmostEqual(out[0]["reward"], want, places=12)

    def test_vllm_chat_form(self):
        out = score([self.REC], "ref_logprob",
                    {"url": PEERS["vllm"].url, "chat": True, "template": "{prompt}"})
        b = [lp(3, False), lp(4, False)]
        self.assertAlmostEqual(out[0]["reward"], sum(map(math.exp, b)) / 2, places=12)

    def test_no_answer_tag_and_llamacpp_rejected(self):
        out = score([{"prompt": "Q", "response": "no tags", "reference": "x"}], "ref_logprob",
                    {"url": PEERS["vllm"].url})
        self.assertEqual(out[0]["status"], "unparseable")
        path = h.spec_file({"reward": {"fn": "ref_logprob", "args": {
            "url": PEERS["llamacpp"].url, "server": "llamacpp"}}})
        code, _, err = h.run(["validate", path], check_code=None)
        os.unlink(path)
        self.assertNotEqual(code, 0)
        self.assertIn("no prompt logprobs", err)

    def test_offline(self):
        rec = {"response": "r", "ref_token_logprobs": [-0.5, -1.0],
               "ref_token_logprobs_noreason": [-2.0, -2.0]}
        out = score([rec], "ref_logprob", {"debias": True})
        want = (math.exp(-0.5) + math.exp(-1.0)) / 2 - math.exp(-2.0)
        self.assertAlmostEqual(out[0]["reward"], want, places=12)


class Sar(unittest.TestCase):
    def test_sar_vllm(self):
        # With the query "Q\n": cat (new) " sat" (new) " cat" (new, the
        # space makes it another text). Without: the first token has no
        # logprob and is left out.
        rec = {"prompt": "Q", "response": "cat sat cat"}
        lq = [lp(3, True), lp(4, True), lp(4, True)]
        la = [lp(4, True), lp(4, True)]
        ppl_q = math.exp(-sum(lq) / 3)
        ppl_a = math.exp(-sum(la) / 2)
        want = max((ppl_a - ppl_q) / (ppl_a + 1e-9), -1)
        for kind in ("vllm", "sglang"):
            out = score([rec], "sar", {"url": PEERS[kind].url, "server": kind})
            self.assertEqual(out[0]["status"], "ok", out[0])
            self.assertAlmostEqual(out[0]["reward"], want, places=12)


class PromptEcho(unittest.TestCase):
    def test_prompt_echo_vllm(self):
        # Chat text: "<|user|>\n<image>Describe.\n<|assistant|>\nred cat"; the
        # prompt tokens "red" (new) and " cat" (new).
        rec = {"prompt": "red cat", "response": "", "images": ["http://x/a.png"]}
        out = score([rec], "prompt_echo", {"url": PEERS["vllm"].url, "query": "Describe."})
        self.assertEqual(out[0]["status"], "ok", out[0])
        self.assertAlmostEqual(out[0]["reward"], (lp(3, True) + lp(4, True)) / 2, places=12)


class RmScore(unittest.TestCase):
    def test_each_api(self):
        rec = {"prompt": "p [[score=2.5]]", "response": "r"}
        cases = [("vllm", "classify", PEERS["vllm"]), ("sglang", "classify", PEERS["sglang"]),
                 ("sglang", "embeddings", PEERS["sglang_rm"])]
        for kind, api, peer in cases:
            with self.subTest(kind=kind, api=api):
                out = score([rec], "rm_score", {"url": peer.url, "server": kind, "api": api,
                                                "template": "plain"})
                self.assertEqual(out[0]["status"], "ok", out[0])
                self.assertAlmostEqual(out[0]["reward"], 2.5, places=12)
        out = score([rec], "rm_score", {"url": PEERS["vllm"].url, "template": "chatml",
                                        "sigmoid": True})
        self.assertAlmostEqual(out[0]["reward"], 1 / (1 + math.exp(-2.5)), places=12)

    def test_template_required_and_tgi_rejected(self):
        for args, needle in (({"url": PEERS["vllm"].url}, "chat template"),
                             ({"url": PEERS["tgi"].url, "server": "tgi", "template": "plain"},
                              "TGI")):
            path = h.spec_file({"reward": {"fn": "rm_score", "args": args}})
            code, _, err = h.run(["validate", path], check_code=None)
            os.unlink(path)
            self.assertNotEqual(code, 0)
            self.assertIn(needle, err)


def toy_embed(text):
    """The peer's embedding: each alphanumeric word adds 1 at (sum of its
    code points) % 8, then L2 normalisation."""
    v = [0.0] * 8
    for w in "".join(ch if ch.isalnum() else " " for ch in text).split():
        v[sum(map(ord, w.lower())) % 8] += 1
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n else v


def cos(a, b):
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b)) / (na * nb) if na and nb else 0.0


class EmbedSim(unittest.TestCase):
    def test_cosine_text(self):
        # "the" -> 321 % 8 = 1, "cat" -> 312 % 8 = 0, "dog" -> 314 % 8 = 2.
        rec = {"prompt": "p", "response": "The cat.", "reference": "cat dog"}
        for kind in ("vllm", "sglang", "llamacpp"):
            out = score([rec], "embed_sim", {"url": PEERS[kind].url, "server": kind})
            self.assertAlmostEqual(out[0]["reward"], 0.5, places=12)
            self.assertAlmostEqual(out[0]["reward"], cos(toy_embed("The cat."), toy_embed("cat dog")),
                                   places=12)

    def test_clip_score_vlm_rm_vlm_rl(self):
        img = "http://img/cat"
        x = [0.0] * 8
        x[sum(map(ord, img.lower())) % 8] = 1.0
        rec = {"prompt": "p", "response": "a cat on a mat", "images": [img]}
        out = score([rec], "embed_sim", {"url": PEERS["vllm"].url, "mode": "clip_score"})
        self.assertAlmostEqual(out[0]["reward"], 2.5 * max(cos(toy_embed("a cat on a mat"), x), 0),
                               places=12)
        goals, bases = ["cat on mat", "a cat"], ["mat"]
        g = [sum(toy_embed(t)[i] for t in goals) / 2 for i in range(8)]
        b = toy_embed(bases[0])
        d = [gi - bi for gi, bi in zip(g, b)]
        dn = math.sqrt(sum(t * t for t in d))
        v = [xi - gi for xi, gi in zip(x, g)]
        s = sum(vi * di / dn for vi, di in zip(v, d))
        alpha = 0.5
        want = 1 - 0.5 * (alpha * (2 - alpha) * s * s + (1 - alpha) ** 2 * sum(t * t for t in v))
        out = score([rec], "embed_sim", {"url": PEERS["sglang"].url, "server": "sglang",
                                         "mode": "vlm_rm", "goals": goals, "baselines": bases})
        self.assertEqual(out[0]["status"], "ok", out[0])
        self.assertAlmostEqual(out[0]["reward"], want, places=12)
        z = cos(x, toy_embed("dog")) - cos(x, toy_embed("cat"))
        out = score([rec], "embed_sim", {"url": PEERS["vllm"].url, "mode": "vlm_rl",
                                         "positive": "cat", "negative": "dog"})
        self.assertAlmostEqual(out[0]["reward"], 1 - min(max(z, 0), 0.03) / 0.03, places=12)


class QaFromText(unittest.TestCase):
    def test_caprl(self):
        qs = [{"question": "What color is the ball?", "options": ["red", "blue", "green"],
               "answer": "A"},
              {"question": "How many dogs?", "options": ["one", "two"], "answer": 1},
              {"question": "Where?", "options": ["park", "beach"], "answer": "beach"}]
        # The reader answers the option found in the caption: red (right),
        # two (right), park (wrong: the answer is beach).
        rec = {"prompt": "Describe.", "response": "A red ball and two dogs in a park.",
               "questions": qs}
        for kind in ("vllm", "tgi"):
            out = score([rec], "qa_from_text", {"url": PEERS[kind].url, "server": kind,
                                                "template": "Caption: {response}\n{question}\n{options}"})
            self.assertEqual(out[0]["status"], "ok", out[0])
            self.assertAlmostEqual(out[0]["reward"], 2 / 3, places=12)


class Faults(unittest.TestCase):
    ARGS = {"template": "{prompt} {response}", "backoff_ms": 10, "timeout_ms": 2000}

    def run_one(self, prompt, **args):
        a = dict(self.ARGS, url=PEERS["vllm"].url)
        a.update(args)
        return score_summary([{"prompt": prompt, "response": "r"}], "judge", a)

    def test_503_retried_then_error_with_message(self):
        out, summ = self.run_one("x [[status=503]]")
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("HTTP 503", out[0]["error"])
        self.assertIn("4 attempts", out[0]["error"])
        self.assertEqual(summ["model"]["retries"], 3)
        self.assertIsNone(out[0]["reward"])

    def test_fail_first_recovers(self):
        out, summ = self.run_one("y [[fail_first=2]] [[p_yes=0.6]]")
        self.assertEqual(out[0]["status"], "ok")
        self.assertAlmostEqual(out[0]["reward"], 0.6, places=12)
        self.assertEqual(summ["model"]["retries"], 2)

    def test_dropped_connection_slow_reply_garbage(self):
        out, _ = self.run_one("z [[drop]]", retries=1)
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("2 attempts", out[0]["error"])
        t0 = time.time()
        out, _ = self.run_one("w [[delay_ms=3000]]", retries=0, timeout_ms=300)
        self.assertLess(time.time() - t0, 2.5)
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("imed out", out[0]["error"])
        out, _ = self.run_one("v [[garbage]]")
        self.assertEqual(out[0]["status"], "error")

    def test_oversized_reply(self):
        # 70 MiB of padding passes the client's 64 MiB limit for one reply.
        out, _ = self.run_one("u [[pad_kb=71680]]", retries=0, timeout_ms=20000)
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("reply larger than 64 MiB", out[0]["error"])
        out, _ = self.run_one("u2 [[pad_kb=64]] [[p_yes=0.8]]")
        self.assertAlmostEqual(out[0]["reward"], 0.8, places=12)

    def test_dead_url_is_skipped(self):
        dead = f"http://127.0.0.1:{closed_port()}"
        recs = [{"prompt": f"q{i} [[p_yes=0.8]]", "response": "r"} for i in range(20)]
        out = score(recs, "judge", dict(self.ARGS, url=[dead, PEERS["vllm"].url]))
        self.assertEqual([o["status"] for o in out], ["ok"] * 20)
        for o in out:
            self.assertAlmostEqual(o["reward"], 0.8, places=12)
        out = score(recs[:1], "judge", dict(self.ARGS, url=dead, retries=1))
        self.assertEqual(out[0]["status"], "error")
        self.assertIn("127.0.0.1", out[0]["error"])


class ServerMetrics(unittest.TestCase):
    def test_serve_counts_model_calls(self):
        import test_server
        spec = {"reward": {"fn": "judge", "args": {
            "url": PEERS["vllm"].url, "template": "{response} [[p_yes=0.8]]"}}}
        srv = test_server.Server(spec=spec)
        try:
            code, _, body = srv.request("POST", "/v1/score", [{"response": "a"}, {"response": "b"}])
            self.assertEqual(code, 200)
            res = json.loads(body)
            self.assertAlmostEqual(res["results"][0]["reward"], 0.8, places=12)
            self.assertEqual(res["summary"]["model"]["requests"], 2)
            _, _, m = srv.request("GET", "/metrics")
            self.assertIn('rewardkit_model_total{what="requests"} 2', m.decode())
        finally:
            srv.stop()


if __name__ == "__main__":
    h.main()

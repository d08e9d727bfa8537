#!/usr/bin/env python3
"""Tests of the LM test peer (tests/peer/lm_peer.py): the toy model's
numbers computed by hand, each server kind's wire format, every fault
directive, and 256 concurrent keep-alive connections.

Each test class starts the peer as a real process on port 0 and talks to it
over loopback with http.client. Run: python3 tests/peer/test_peer.py
"""
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "lm_peer.py")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import lm_peer  # noqa: E402  (pure toy-model functions)


def tid(t):
    """Hand formula: 1000 + sum of code points mod 30000."""
    return 1000 + sum(map(ord, t)) % 30000


class PeerProcess:
    def __init__(self, kind, *extra):
        self.p = subprocess.Popen([sys.executable, PEER, "--kind", kind, "--port", "0", *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("READY "):
            self.p.kill()
            raise RuntimeError(f"peer did not start: {line!r} {self.p.stderr.read()}")
        self.port = int(line.split()[1])

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=10)
        self.p.stdout.close()
        err = self.p.stderr.read()
        self.p.stderr.close()
        return rc, err

    def request(self, method, path, body=None, raw=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            h = {"Content-Type": "application/json"}
            h.update(headers or {})
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def post(self, path, body=None, raw=None):
        return self.request("POST", path, body, raw)

    def ok(self, path, body):
        st, _, data = self.post(path, body)
        if st != 200:
            raise AssertionError(f"{path}: HTTP {st}: {data[:500]!r}")
        return json.loads(data)


class PeerTest(unittest.TestCase):
    KIND = None
    EXTRA = ()

    @classmethod
    def setUpClass(cls):
        cls.peer = PeerProcess(cls.KIND, *cls.EXTRA)

    @classmethod
    def tearDownClass(cls):
        rc, err = cls.peer.stop()
        if rc != 0:
            raise AssertionError(f"peer exited {rc} on SIGTERM: {err}")
        if "Traceback" in err:
            raise AssertionError(f"peer printed a traceback:\n{err}")

    def assertLps(self, got, want):
        self.assertEqual(len(got), len(want), (got, want))
        for g, w in zip(got, want):
            if w is None:
                self.assertIsNone(g)
            else:
                self.assertAlmostEqual(g, w, places=9)


# Hand-computed numbers for "The cat sat. The cat":
# tokens "The", " cat", " sat", ".", " The", " cat"
# lp     null, -0.4-1, -0.4-1, -0.1-1, -0.4-1 (" The" != "The"), -0.4 (seen)
CAT = "The cat sat. The cat"
CAT_TOKS = ["The", " cat", " sat", ".", " The", " cat"]
CAT_LPS = [None, -1.4, -1.4, -1.1, -1.4, -0.4]
# judge list for P = 0.8: Yes ln .72, No ln .2, " yes" ln .08, fillers
J08 = [("Yes", math.log(0.72)), ("No", math.log(0.2)), (" yes", math.log(0.08)),
       ("Maybe", -12.0), ("The", -13.0), ("I", -14.0)]
# default P = 0.5: No ln .5 > Yes ln .45 > " yes" ln .05
J05 = [("No", math.log(0.5)), ("Yes", math.log(0.45)), (" yes", math.log(0.05)),
       ("Maybe", -12.0), ("The", -13.0), ("I", -14.0)]


class ToyModel(unittest.TestCase):
    def test_tokens_ids_logprobs(self):
        self.assertEqual(lm_peer.tokenize(CAT), CAT_TOKS)
        self.assertEqual(lm_peer.tok_id("The"), 1000 + 84 + 104 + 101)
        self.assertEqual(lm_peer.tok_id(" cat"), 1000 + 32 + 99 + 97 + 116)
        for g, w in zip(lm_peer.seq_logprobs(CAT_TOKS), CAT_LPS):
            self.assertTrue(g == w if w is None else abs(g - w) < 1e-12)
        self.assertEqual(lm_peer.tokenize("a  b!\u00e9x"), ["a", " ", " b", "!", "\u00e9", "x"])

    def test_judge_list(self):
        got = lm_peer.judge_list("[[p_yes=0.8]]", "vllm")
        self.assertEqual([t for t, _ in got], [t for t, _ in J08])
        for (_, g), (_, w) in zip(got, J08):
            self.assertAlmostEqual(g, w, places=12)
        self.assertEqual([t for t, _ in lm_peer.judge_list("x", "vllm")], [t for t, _ in J05])
        self.assertEqual([t for t, _ in lm_peer.judge_list("[[no_yes]] [[clamp]]", "sglang")],
                         ["No", "Maybe", "The", "I", "Nope"])
        self.assertEqual(lm_peer.judge_list("[[clamp]]", "sglang")[-1], ("Nope", -999999999.0))

    def test_embedding_and_mc(self):
        # "the" -> 321 % 8 = 1, "cat" -> 312 % 8 = 0, "." has no letter
        v = lm_peer.embed(["The cat."])
        self.assertAlmostEqual(v[0], 1 / math.sqrt(2))
        self.assertAlmostEqual(v[1], 1 / math.sqrt(2))
        self.assertEqual(v[2:], [0.0] * 6)
        self.assertEqual(lm_peer.embed(["..."]), [0.0] * 8)
        mc = "Question: what is shown?\nA) blue bike\nB) Red car\nC) tree\nCaption: A red car parked."
        self.assertEqual(lm_peer.mc_answer(mc), "B")
        self.assertEqual(lm_peer.mc_answer(mc.replace("red car", "boat")), "F")
        self.assertIsNone(lm_peer.mc_answer("A) x\nB) y"))


class Vllm(PeerTest):
    KIND = "vllm"

    def test_echo_logprobs(self):
        r = self.peer.ok("/v1/completions", {"model": "m", "prompt": CAT, "max_tokens": 0,
                                             "echo": True, "logprobs": 1, "temperature": 0})
        c = r["choices"][0]
        self.assertEqual(r["model"], "m")
        self.assertEqual(c["text"], CAT)
        self.assertEqual(c["logprobs"]["tokens"], CAT_TOKS)
        self.assertLps(c["logprobs"]["token_logprobs"], CAT_LPS)
        self.assertEqual(c["logprobs"]["text_offset"], [0, 3, 7, 11, 12, 16])
        self.assertIsNone(c["logprobs"]["top_logprobs"][0])
        self.assertEqual(c["logprobs"]["top_logprobs"][5], {" cat": c["logprobs"]["token_logprobs"][5]})
        self.assertEqual(r["usage"]["prompt_tokens"], 6)
        self.assertEqual(r["usage"]["completion_tokens"], 0)
        # max_tokens 1: the generated "Yes" follows, with the judge list in its top dict
        r = self.peer.ok("/v1/completions", {"prompt": CAT, "max_tokens": 1, "echo": True, "logprobs": 1})
        c = r["choices"][0]
        self.assertEqual(c["text"], CAT + "Yes")
        self.assertEqual(c["logprobs"]["tokens"][-1], "Yes")
        self.assertAlmostEqual(c["logprobs"]["token_logprobs"][-1], math.log(0.45))
        self.assertEqual(set(c["logprobs"]["top_logprobs"][-1]), {"No", "Yes"})
        self.assertEqual(c["finish_reason"], "length")
        # prompt_logprobs extension with ids
        r = self.peer.ok("/v1/completions", {"prompt": CAT, "max_tokens": 1, "prompt_logprobs": 0,
                                             "return_token_ids": True})
        c = r["choices"][0]
        self.assertEqual(c["prompt_token_ids"], [tid(t) for t in CAT_TOKS])
        self.assertIsNone(c["prompt_logprobs"][0])
        self.assertEqual(c["prompt_logprobs"][1], {str(tid(" cat")): {
            "logprob": c["prompt_logprobs"][1][str(tid(" cat"))]["logprob"], "rank": 1,
            "decoded_token": " cat"}})
        self.assertAlmostEqual(c["prompt_logprobs"][5][str(tid(" cat"))]["logprob"], -0.4)
        st, _, body = self.peer.post("/v1/completions", {"prompt": CAT, "max_tokens": 0})
        self.assertEqual(st, 400)
        self.assertIn("message", json.loads(body)["error"])

    def test_p_yes_chat(self):
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Is 2+2=4? [[p_yes=0.8]] [[clamp]]"}],
            "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20})
        c = r["choices"][0]
        self.assertEqual(c["message"]["content"], "Yes")
        first = c["logprobs"]["content"][0]
        self.assertEqual(first["token"], "Yes")
        self.assertEqual(first["bytes"], [89, 101, 115])
        top = first["top_logprobs"]
        self.assertEqual([t["token"] for t in top], [t for t, _ in J08] + ["Nope"])
        for t, (_, w) in zip(top, J08):
            self.assertAlmostEqual(t["logprob"], w, places=12)
        self.assertEqual(top[-1]["logprob"], -9999.0)
        self.assertIn("usage", r)
        # default P = 0.5; the text is still "Yes"; top_logprobs cut to 3
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Is it?"}], "max_tokens": 1,
            "logprobs": True, "top_logprobs": 3})
        first = r["choices"][0]["logprobs"]["content"][0]
        self.assertEqual(first["token"], "Yes")
        self.assertEqual([t["token"] for t in first["top_logprobs"]], ["No", "Yes", " yes"])
        # top_logprobs without logprobs, and beyond the cap of 20
        for bad in ({"top_logprobs": 2}, {"logprobs": True, "top_logprobs": 21}):
            st, _, body = self.peer.post("/v1/chat/completions", {
                "messages": [{"role": "user", "content": "x"}], **bad})
            self.assertEqual(st, 400, body)
            self.assertEqual(json.loads(body)["error"]["code"], 400)

    def test_chat_prompt_logprobs(self):
        prefix = [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": "Capital of France?"}]}]
        r = self.peer.ok("/v1/chat/completions", {
            "messages": prefix + [{"role": "assistant", "content": "Paris is"}],
            "add_generation_prompt": False, "continue_final_message": True,
            "max_tokens": 1, "prompt_logprobs": 0, "return_token_ids": True})
        self.assertNotIn("prompt_logprobs", r["choices"][0])
        plp, ids = r["prompt_logprobs"], r["prompt_token_ids"]
        self.assertIsNone(plp[0])
        self.assertEqual(len(plp), len(ids))
        # the prompt is "<|user|>\n<image>Capital of France?\n<|assistant|>\nParis is"
        t = self.peer.ok("/tokenize", {"messages": prefix, "add_generation_prompt": True})
        self.assertEqual(t["max_model_len"], 4096)
        n = t["count"]
        self.assertEqual(ids[:n], t["tokens"])
        self.assertEqual(ids[n:], [tid("Paris"), tid(" is")])
        self.assertAlmostEqual(plp[n][str(tid("Paris"))]["logprob"], -1.5)
        self.assertAlmostEqual(plp[n + 1][str(tid(" is"))]["logprob"], -1.3)
        self.assertEqual(r["choices"][0]["token_ids"], [tid("Yes")])
        st, _, body = self.peer.post("/v1/chat/completions", {
            "messages": prefix + [{"role": "assistant", "content": "P"}],
            "continue_final_message": True})
        self.assertEqual(st, 400, body)

    def test_say_and_multiple_choice(self):
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "system", "content": "[[say=ignored]]"},
                         {"role": "user", "content": "[[say=Hello there world]]"}],
            "max_tokens": 2, "logprobs": True})
        c = r["choices"][0]
        self.assertEqual(c["message"]["content"], "Hello there")
        self.assertEqual(c["finish_reason"], "length")
        self.assertLps([x["logprob"] for x in c["logprobs"]["content"]], [-1.5, -1.6])
        mc = "A) blue bike\nB) red car\nC) tree\nCaption: a Red Car parked"
        r = self.peer.ok("/v1/chat/completions", {"messages": [{"role": "user", "content": mc}]})
        self.assertEqual(r["choices"][0]["message"]["content"], "B")
        self.assertEqual(r["choices"][0]["finish_reason"], "stop")

    def test_classify_pooling_embeddings(self):
        r = self.peer.ok("/classify", {"model": "rm", "input": ["a [[score=0.42]]", "x" * 50],
                                       "use_activation": False})
        self.assertEqual([d["probs"] for d in r["data"]], [[0.0, 0.42], [0.0, 0.5]])
        self.assertEqual(r["data"][1]["index"], 1)
        self.assertIn("usage", r)
        r = self.peer.ok("/classify", {"input": "[[score=2]]"})   # default: softmax
        self.assertAlmostEqual(r["data"][0]["probs"][-1], 1 / (1 + math.exp(-2)))
        r = self.peer.ok("/pooling", {"input": ["[[score=-1.5]]"], "task": "classify",
                                      "use_activation": False})
        self.assertEqual(r["data"][0]["data"], [0.0, -1.5])
        r = self.peer.ok("/v1/embeddings", {"input": ["The cat.", "..."], "encoding_format": "float"})
        e = r["data"][0]["embedding"]
        self.assertEqual(len(e), 8)
        self.assertAlmostEqual(e[0], 1 / math.sqrt(2))
        self.assertEqual(r["data"][1]["embedding"], [0.0] * 8)
        url = "http://x/i.png"
        r = self.peer.ok("/v1/embeddings", {"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}}]}]})
        want = [0.0] * 8
        want[sum(map(ord, url)) % 8] = 1.0
        self.assertEqual(r["data"][0]["embedding"], want)

    def test_error_shapes(self):
        st, _, body = self.peer.post("/v1/nothing", {})
        self.assertEqual((st, json.loads(body)), (404, {"detail": "Not Found"}))
        st, _, body = self.peer.post("/v1/chat/completions", raw=b"{not json")
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["error"]["code"], 400)
        st, _, _ = self.peer.request("GET", "/health")
        self.assertEqual(st, 200)


class Sglang(PeerTest):
    KIND = "sglang"

    def test_generate_prompt_logprobs(self):
        r = self.peer.ok("/generate", {
            "text": CAT, "sampling_params": {"max_new_tokens": 0, "temperature": 0},
            "return_logprob": True, "logprob_start_len": 0, "return_text_in_logprobs": True})
        m = r["meta_info"]
        self.assertEqual(r["text"], "")
        self.assertEqual([x[2] for x in m["input_token_logprobs"]], CAT_TOKS)
        self.assertEqual([x[1] for x in m["input_token_logprobs"]], [tid(t) for t in CAT_TOKS])
        self.assertLps([x[0] for x in m["input_token_logprobs"]], CAT_LPS)
        self.assertEqual(m["output_token_logprobs"], [])
        self.assertEqual((m["prompt_tokens"], m["completion_tokens"]), (6, 0))
        self.assertNotIn("input_top_logprobs", m)
        # start 3, no text: entries for positions 3.. with text null
        r = self.peer.ok("/generate", {"text": [CAT, "a b"], "sampling_params": {"max_new_tokens": 0},
                                       "return_logprob": True, "logprob_start_len": 3})
        self.assertEqual(len(r), 2)
        self.assertEqual([x[2] for x in r[0]["meta_info"]["input_token_logprobs"]], [None] * 3)
        self.assertLps([x[0] for x in r[0]["meta_info"]["input_token_logprobs"]], CAT_LPS[3:])
        self.assertEqual(r[1]["meta_info"]["input_token_logprobs"], [])

    def test_generate_top_logprobs(self):
        r = self.peer.ok("/generate", {
            "text": "Judge: [[p_yes=0.8]] [[clamp]]", "image_data": "data:image/png;base64,AAAA",
            "sampling_params": {"max_new_tokens": 1, "temperature": 0},
            "return_logprob": True, "top_logprobs_num": 20, "token_ids_logprob": [tid("Yes"), 7]})
        m = r["meta_info"]
        self.assertEqual(r["text"], "Yes")
        top = m["output_top_logprobs"][0]
        self.assertEqual([x[1] for x in top], [tid(t) for t, _ in J08] + [tid("Nope")])
        self.assertEqual([x[2] for x in top], [None] * 7)
        self.assertAlmostEqual(top[0][0], math.log(0.72))
        self.assertEqual(top[-1][0], -999999999.0)
        self.assertEqual(m["input_token_logprobs"], [])   # default start -1
        self.assertEqual(m["finish_reason"], {"type": "length", "length": 1})
        ids = m["output_token_ids_logprobs"][0]
        self.assertAlmostEqual(ids[0][0], math.log(0.72))
        self.assertEqual(ids[1], [-20.0, 7, None])

    def test_chat_classify_embeddings(self):
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "ok? [[p_yes=0.8]]"}], "max_tokens": 1,
            "logprobs": True, "top_logprobs": 2})
        first = r["choices"][0]["logprobs"]["content"][0]
        self.assertEqual([t["token"] for t in first["top_logprobs"]], ["Yes", "No"])
        r = self.peer.ok("/classify", {"model": "rm", "text": ["[[score=0.25]]", "abcd"]})
        self.assertEqual([x["embedding"] for x in r], [[0.25], [0.04]])
        self.assertIn("meta_info", r[0])
        r = self.peer.ok("/classify", {"text": "[[score=3]]"})
        self.assertEqual(r["embedding"], [3.0])
        r = self.peer.ok("/v1/embeddings", {"input": [{"text": "cat", "image": "u"}]})
        v = r["data"][0]["embedding"]
        want = [0.0] * 8
        want[312 % 8] += 1
        want[ord("u") % 8] += 1
        n = math.sqrt(sum(x * x for x in want))
        self.assertEqual(len(v), 8)
        for g, w in zip(v, want):
            self.assertAlmostEqual(g, w / n)

    def test_error_shapes(self):
        st, _, body = self.peer.post("/generate", {"text": "x [[status=503]]"})
        self.assertEqual((st, json.loads(body)), (503, {"error": {"message": "lm_peer: injected status 503"}}))
        st, _, body = self.peer.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "[[status=500]]"}]})
        self.assertEqual(st, 500)
        self.assertEqual(json.loads(body)["object"], "error")
        st, _, body = self.peer.post("/generate", {"sampling_params": {}})
        self.assertEqual(st, 400)
        self.assertIn("message", json.loads(body)["error"])


class SglangRewardModel(PeerTest):
    KIND = "sglang"
    EXTRA = ("--rm",)

    def test_embeddings_as_score(self):
        r = self.peer.ok("/v1/embeddings", {"model": "rm", "input": ["[[score=0.7]]", "abc"]})
        self.assertEqual(r["data"][-1]["embedding"], [0.03])
        self.assertEqual(r["data"][0]["embedding"][-1], 0.7)


class Llamacpp(PeerTest):
    KIND = "llamacpp"

    def test_completion_n_probs(self):
        r = self.peer.ok("/completion", {"prompt": "Judge [[p_yes=0.3]]", "n_predict": 1,
                                         "n_probs": 2, "temperature": 0})
        self.assertEqual(r["content"], "No")
        self.assertEqual(r["stop_type"], "limit")
        p = r["completion_probabilities"][0]
        self.assertEqual((p["token"], p["id"]), ("No", tid("No")))
        self.assertAlmostEqual(p["logprob"], math.log(0.7))
        self.assertEqual([(t["token"], t["id"]) for t in p["top_logprobs"]],
                         [("No", tid("No")), ("Yes", tid("Yes"))])
        self.assertAlmostEqual(p["top_logprobs"][1]["logprob"], math.log(0.27))
        r = self.peer.ok("/completion", {"prompt": "x [[clamp]]", "n_predict": 1, "n_probs": 10,
                                         "post_sampling_probs": True})
        p = r["completion_probabilities"][0]
        self.assertAlmostEqual(p["prob"], 0.45)
        self.assertEqual(p["top_probs"][-1]["token"], "Nope")
        r = self.peer.ok("/completion", {"prompt": "x", "n_predict": 0, "n_probs": 5})
        self.assertNotIn("completion_probabilities", r)

    def test_echo_rejected(self):
        st, _, body = self.peer.post("/v1/completions", {"prompt": CAT, "echo": True, "logprobs": 1,
                                                         "max_tokens": 1})
        self.assertEqual(st, 500)   # std::runtime_error -> server_error in llama.cpp
        self.assertEqual(json.loads(body), {"error": {
            "code": 500, "message": "Only no echo is supported", "type": "server_error"}})
        r = self.peer.ok("/v1/completions", {"prompt": CAT, "max_tokens": 1, "logprobs": 1})
        self.assertEqual(r["choices"][0]["text"], "Yes")
        self.assertEqual(len(r["choices"][0]["logprobs"]["content"][0]["top_logprobs"]), 1)

    def test_chat_and_embeddings(self):
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "[[p_yes=0.8]] [[clamp]]"}],
            "max_tokens": 1, "logprobs": True})
        top = r["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        self.assertEqual([t["token"] for t in top], [t for t, _ in J08] + ["Nope"])
        self.assertEqual(top[-1]["logprob"], -3.4028234663852886e+38)
        r = self.peer.ok("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
        self.assertNotIn("logprobs", r["choices"][0])
        r = self.peer.ok("/v1/embeddings", {"input": ["The cat.", {"content": [
            {"type": "image_url", "image_url": {"url": "u"}}, {"type": "text", "text": "cat"}]}]})
        e0 = r["data"][0]["embedding"]
        self.assertAlmostEqual(sum(x * x for x in e0), 1.0)
        self.assertAlmostEqual(e0[1], 1 / math.sqrt(2))
        e1 = r["data"][1]["embedding"]
        self.assertAlmostEqual(e1[0], 1 / math.sqrt(2))
        self.assertAlmostEqual(e1[ord("u") % 8], 1 / math.sqrt(2))

    def test_health_and_errors(self):
        st, _, body = self.peer.request("GET", "/health")
        self.assertEqual((st, json.loads(body)), (200, {"status": "ok"}))
        st, _, body = self.peer.post("/nope", {})
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["error"]["type"], "not_found_error")
        st, _, body = self.peer.post("/completion", {"prompt": "[[status=503]]"})
        self.assertEqual(json.loads(body)["error"], {"code": 503, "type": "unavailable_error",
                                                     "message": "lm_peer: injected status 503"})


class Tgi(PeerTest):
    KIND = "tgi"

    def test_prefill(self):
        r = self.peer.ok("/generate", {"inputs": CAT, "parameters": {
            "max_new_tokens": 1, "do_sample": False, "details": True,
            "decoder_input_details": True, "top_n_tokens": 2}})
        d = r["details"]
        self.assertEqual(r["generated_text"], "Yes")
        self.assertEqual(d["prefill"][0], {"id": 1, "text": "<s>", "logprob": None})
        self.assertEqual([p["text"] for p in d["prefill"][1:]], CAT_TOKS)
        self.assertEqual([p["id"] for p in d["prefill"][1:]], [tid(t) for t in CAT_TOKS])
        # after the BOS, "The" is position 1: -0.3 - 1
        self.assertLps([p["logprob"] for p in d["prefill"]], [None, -1.3] + CAT_LPS[1:])
        self.assertEqual(d["tokens"], [{"id": tid("Yes"), "text": "Yes",
                                        "logprob": math.log(0.45), "special": False}])
        self.assertEqual([t["text"] for t in d["top_tokens"][0]], ["No", "Yes"])
        self.assertEqual((d["finish_reason"], d["generated_tokens"]), ("length", 1))

    def test_validation_and_chat(self):
        for prm, frag in (({"max_new_tokens": 1, "top_n_tokens": 6}, "top_n_tokens"),
                          ({"max_new_tokens": 0}, "max_new_tokens")):
            st, _, body = self.peer.post("/generate", {"inputs": "x", "parameters": prm})
            self.assertEqual(st, 422)
            b = json.loads(body)
            self.assertEqual(b["error_type"], "validation")
            self.assertIn(frag, b["error"])
        r = self.peer.ok("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "[[p_yes=0.8]]"}], "max_tokens": 1,
            "logprobs": True, "top_logprobs": 5})
        top = r["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        self.assertEqual([t["token"] for t in top], ["Yes", "No", " yes", "Maybe", "The"])
        st, _, body = self.peer.post("/generate", {"inputs": "[[status=503]]"})
        self.assertEqual(json.loads(body), {"error": "lm_peer: injected status 503",
                                            "error_type": "unhealthy"})
        st, hdr, body = self.peer.post("/generate", raw=b"{oops")
        self.assertEqual(st, 400)
        self.assertTrue(body.startswith(b"Failed to parse the request body as JSON"))
        st, _, body = self.peer.post("/unknown", {})
        self.assertEqual((st, body), (404, b""))


class Faults(PeerTest):
    KIND = "vllm"

    def chat(self, text):
        return {"messages": [{"role": "user", "content": text}], "max_tokens": 1}

    def test_delay_status_garbage(self):
        t0 = time.monotonic()
        r = self.peer.ok("/v1/chat/completions", self.chat("[[delay_ms=300]]"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(r["choices"][0]["message"]["content"], "Yes")
        st, _, body = self.peer.post("/v1/chat/completions", self.chat("[[status=429]]"))
        self.assertEqual(st, 429)
        self.assertEqual(json.loads(body)["error"]["code"], 429)
        st, hdr, body = self.peer.post("/v1/chat/completions", self.chat("[[garbage]]"))
        self.assertEqual(st, 200)
        with self.assertRaises(ValueError):
            json.loads(body)

    def test_fail_first_and_stats(self):
        self.peer.post("/peer/reset")
        body = self.chat("retry me [[fail_first=2]]")
        codes = [self.peer.post("/v1/chat/completions", body)[0] for _ in range(4)]
        self.assertEqual(codes, [503, 503, 200, 200])
        other = self.chat("other body [[fail_first=1]]")
        self.assertEqual(self.peer.post("/v1/chat/completions", other)[0], 503)
        self.peer.request("GET", "/health")
        st, _, data = self.peer.request("GET", "/peer/stats")
        self.assertEqual(json.loads(data), {"requests": 6, "faults": 3, "by_path": {
            "/v1/chat/completions": 5, "/health": 1}})
        self.peer.post("/peer/reset")
        st, _, data = self.peer.request("GET", "/peer/stats")
        self.assertEqual(json.loads(data), {"requests": 0, "by_path": {}, "faults": 0})
        self.assertEqual(self.peer.post("/v1/chat/completions", body)[0], 503)  # counters reset too

    def test_drop(self):
        c = http.client.HTTPConnection("127.0.0.1", self.peer.port, timeout=10)
        c.request("POST", "/v1/chat/completions", body=json.dumps(self.chat("[[drop]]")))
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            c.getresponse()
        c.close()
        self.peer.ok("/v1/chat/completions", self.chat("still alive"))

    def test_keepalive_chunked(self):
        c = http.client.HTTPConnection("127.0.0.1", self.peer.port, timeout=10)
        c.connect()
        sock = c.sock
        for i in range(3):
            c.request("POST", "/tokenize", body=iter([b'{"prompt":', b'"The cat"}']),
                      headers={"Content-Type": "application/json"}, encode_chunked=True)
            r = c.getresponse()
            self.assertEqual(json.loads(r.read())["count"], 2)
            self.assertIs(c.sock, sock)
        c.close()


class Concurrency(PeerTest):
    KIND = "sglang"
    N = 256

    def test_256_keepalive_connections(self):
        self.peer.post("/peer/reset")
        barrier = threading.Barrier(self.N, timeout=120)
        results, errors = [0] * self.N, []

        def worker(i):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.peer.port, timeout=120)
                c.connect()
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock = c.sock
                for step in range(3):
                    body = json.dumps({"text": f"req {i} {step} [[say=n{i}]]",
                                       "sampling_params": {"max_new_tokens": 4}})
                    c.request("POST", "/generate", body=body,
                              headers={"Content-Type": "application/json"})
                    r = c.getresponse()
                    data = json.loads(r.read())
                    if r.status == 200 and data["text"] == f"n{i}" and c.sock is sock:
                        results[i] += 1
                    if step == 0:
                        barrier.wait()   # all 256 connections open and idle here
                c.close()
            except Exception as e:  # noqa: BLE001
                errors.append(f"{i}: {e!r}")
                barrier.abort()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(self.N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        self.assertEqual(errors[:5], [])
        self.assertEqual(results, [3] * self.N)
        st, _, data = self.peer.request("GET", "/peer/stats")
        self.assertEqual(json.loads(data)["requests"], 3 * self.N)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""End-to-end tests of `rewardkit serve`: a real server process on
loopback, every endpoint and error code, the OpenRLHF exchange as its
client sends it, token auth, limits, idle connections, SIGHUP reload and
SIGTERM drain. Expected rewards come from the CLI on the same records."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

SPEC = {"reward": {"sum": [
    {"fn": "format", "name": "format", "args": {"preset": "r1"}},
    {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}}]}}
GOOD = "<think>48 + 24 = 72</think><answer>72</answer>"
WRONG = "<think>hmm</think><answer>70</answer>"


class Server:
    def __init__(self, *args, spec=SPEC):
        self.dir = tempfile.mkdtemp()
        self.spec_path = os.path.join(self.dir, "spec.json")
        with open(self.spec_path, "w") as f:
            json.dump(spec, f)
        self.log_path = os.path.join(self.dir, "log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([h.BIN, "serve", "--spec", self.spec_path, "--port", "0",
                                      "--threads", "2", *args], stderr=self.log)
        deadline = time.time() + 10
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.02)
            m = re.search(r"listening on [^ ]+:(\d+)", self.read_log())
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            raise AssertionError("server did not start: " + self.read_log())

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        payload = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), payload

    def json(self, method, path, body=None, headers=None):
        status, _, payload = self.request(method, path, body, headers)
        return status, json.loads(payload)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


class Endpoints(h.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server("--max-records", "100", "--max-body", "100000")

    @classmethod
    def tearDownClass(cls):
        cls.code = cls.s.stop()

    def test_score_json_array_matches_cli(self):
        recs = [{"id": i, "response": r, "reference": "72"}
                for i, r in enumerate([GOOD, WRONG, "no tags"])]
        status, out = self.s.json("POST", "/v1/score", recs)
        self.assertEqual(status, 200)
        cli = h.score_spec(recs, SPEC)
        self.assertEqual([r["reward"] for r in out["results"]], [c["reward"] for c in cli])
        self.assertEqual([r["status"] for r in out["results"]], [c["status"] for c in cli])
        self.assertEqual(out["summary"]["records"], 3)

    def test_score_jsonl_body(self):
        body = h.lines([{"response": GOOD, "reference": "72"}, {"response": WRONG,
                                                                 "reference": "72"}])
        status, out = self.s.json("POST", "/v1/score", body)
        self.assertEqual(status, 200)
        self.assertEqual([r["reward"] for r in out["results"]], [2, 1])

    def test_bad_record_inside_is_a_status_not_a_400(self):
        status, out = self.s.json("POST", "/v1/score", b'[{"response": 1}, {"x": }]')
        self.assertEqual(status, 200)
        self.assertEqual([r["status"] for r in out["results"]], ["error", "error"])

    def test_openrlhf_exchange(self):
        # As OpenRLHF's remote reward client posts it: one JSON object with
        # query (prompt + response, special tokens kept), prompts, labels.
        prompt = "<|im_start|>user\nHow many?<|im_end|>\n<|im_start|>assistant\n"
        body = {"query": [prompt + GOOD + "<|im_end|>", prompt + WRONG + "<|im_end|>"],
                "prompts": [prompt, prompt], "labels": ["72", "72"]}
        status, out = self.s.json("POST", "/get_reward", body,
                                  {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(out["rewards"], [2.0, 1.0])
        self.assertEqual(out["scores"], [2.0, 1.0])
        self.assertEqual(out["extra_logs"]["format"], [1.0, 1.0])
        self.assertEqual(out["extra_logs"]["accuracy"], [1.0, 0.0])
        self.assertEqual(out["extra_logs"]["rk_valid"], [1.0, 1.0])

    def test_openrlhf_samples_are_scored_as_the_cli_scores_them(self):
        # Each sample becomes {"response": query minus prompt and end-of-turn
        # tokens, "prompt", "reference"}; the CLI scores the records built
        # here by hand, and /get_reward must give the same numbers.
        prompt = "<|im_start|>user\nCombien ? \u00e9\u2603 \"q\"<|im_end|>\n<|im_start|>assistant\n"
        samples = [
            (prompt + GOOD + "<|im_end|>\n", prompt, "72", GOOD),
            (prompt + "<think>\u00e9\n\t\\</think>\n<answer>72</answer></s>", prompt, 72,
             "<think>\u00e9\n\t\\</think>\n<answer>72</answer>"),
            (prompt + WRONG, prompt, {"answer": "72"}, WRONG),
            (123, prompt, "72", None),  # not a string: no response, an error status
        ]
        body = {"query": [q for q, _, _, _ in samples], "prompts": [p for _, p, _, _ in samples],
                "labels": [l for _, _, l, _ in samples]}
        status, raw_type, payload = self.s.request("POST", "/get_reward", body)
        self.assertEqual(status, 200)
        self.assertIn(b'"rewards":[', payload)
        out = json.loads(payload)
        records = []
        for _, p, l, resp in samples:
            rec = {"prompt": p, "reference": l}
            if resp is not None:
                rec["response"] = resp
            records.append(rec)
        want = h.score_spec(records, SPEC)
        self.assertEqual(out["rewards"], [r["reward"] or 0.0 for r in want])
        self.assertEqual(out["extra_logs"]["format"],
                         [r["components"]["format"] or 0.0 for r in want])
        self.assertEqual(out["extra_logs"]["rk_valid"],
                         [0.0 if r["reward"] is None else 1.0 for r in want])
        self.assertEqual([r["status"] for r in want][-1], "error")
        # Every number is sent as a float, as OpenRLHF's client expects.
        for v in out["rewards"] + out["scores"] + out["extra_logs"]["accuracy"]:
            self.assertIsInstance(v, float)
        # Duplicate keys: the last one wins (as in the records' reader).
        status, out = self.s.json("POST", "/get_reward",
                                  b'{"query": ["P' + GOOD.encode() + b'"], "prompts": ["P"], '
                                  b'"labels": ["70"], "labels": ["72"]}')
        self.assertEqual((status, out["rewards"]), (200, [2.0]))
        # prompts and labels may be null or absent.
        status, out = self.s.json("POST", "/get_reward",
                                  {"query": [GOOD], "prompts": None, "labels": None})
        self.assertEqual(status, 200)
        self.assertEqual(out["extra_logs"]["format"], [1.0])
        status, out = self.s.json("POST", "/get_reward", {"query": []})
        self.assertEqual((status, out["rewards"], out["extra_logs"]["rk_valid"]), (200, [], []))
        status, out = self.s.json("POST", "/get_reward", {"query": ["a"], "labels": ["1", "2"]})
        self.assertEqual(status, 400)
        self.assertIn("as long as 'query' (1)", out["error"])
        status, out = self.s.json("POST", "/get_reward", b'["query"]')
        self.assertEqual(status, 400)
        self.assertIn("expected a JSON object", out["error"])
        status, out = self.s.json("POST", "/get_reward", b'{"query": ["\xff"]}')
        self.assertEqual(status, 400)
        self.assertIn("invalid JSON at line 1, column", out["error"])

    def test_openrlhf_null_reward_is_zero_and_flagged(self):
        status, out = self.s.json("POST", "/get_reward",
                                  {"query": ["P" + GOOD], "prompts": ["P"], "labels": [None]})
        self.assertEqual(status, 200)
        self.assertEqual(out["rewards"], [0.0])
        self.assertEqual(out["extra_logs"]["rk_valid"], [0.0])

    def test_error_codes(self):
        status, out = self.s.json("POST", "/v1/score", b"[{\"a\": 1}, ")
        self.assertEqual(status, 400)
        self.assertIn("at byte", out["error"])
        status, out = self.s.json("POST", "/get_reward", b"{\"query\": ")
        self.assertEqual(status, 400)
        self.assertIn("invalid JSON at line 1", out["error"])
        status, out = self.s.json("POST", "/get_reward", {"query": "x"})
        self.assertEqual(status, 400)
        self.assertEqual(self.s.json("GET", "/nope")[0], 404)
        self.assertEqual(self.s.json("GET", "/v1/score")[0], 405)
        self.assertEqual(self.s.json("POST", "/healthz", b"")[0], 405)
        status, out = self.s.json("POST", "/v1/score", b"x" * 200000)
        self.assertEqual(status, 413)
        self.assertIn("--max-body", out["error"])
        status, out = self.s.json("POST", "/v1/score", [{"response": ""}] * 101)
        self.assertEqual(status, 413)
        self.assertIn("--max-records", out["error"])
        self.assertEqual(self.s.json("POST", "/v1/score", b"")[0], 400)

    def test_healthz_spec_metrics(self):
        self.assertEqual(self.s.json("GET", "/healthz"), (200, {"status": "ok"}))
        status, spec = self.s.json("GET", "/v1/spec")
        self.assertEqual((status, spec), (200, SPEC))
        self.s.json("POST", "/v1/score", [{"response": GOOD, "reference": "72"}])
        status, ctype, text = self.s.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain"))
        text = text.decode()
        self.assertRegex(text, r'rewardkit_requests_total\{endpoint="/v1/score",code="200"\} \d+')
        self.assertRegex(text, r'rewardkit_records_total\{status="ok"\} \d+')
        self.assertRegex(text, r'rewardkit_request_seconds_bucket\{endpoint="/v1/score",le="\+Inf"\}')
        self.assertIn('rewardkit_component_mean{component="accuracy"}', text)

    def test_idle_connections_are_closed_and_do_not_block(self):
        socks = [socket.create_connection(("127.0.0.1", self.s.port)) for _ in range(50)]
        try:
            self.assertEqual(self.s.json("GET", "/healthz")[0], 200)
        finally:
            for sk in socks:
                sk.close()


class Auth(h.unittest.TestCase):
    def test_token(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("s3cret\n")
        s = Server("--token-file", f.name)
        try:
            self.assertEqual(s.json("POST", "/v1/score", [])[0], 401)
            self.assertEqual(s.json("POST", "/v1/score", [],
                                    {"Authorization": "Bearer wrong!"})[0], 401)
            self.assertEqual(s.json("GET", "/metrics", None,
                                    {"Authorization": "Bearer s3cre"})[0], 401)
            self.assertEqual(s.json("POST", "/v1/score", [{"response": "x"}],
                                    {"Authorization": "Bearer s3cret"})[0], 200)
            self.assertEqual(s.json("GET", "/healthz")[0], 200)  # liveness needs no token
        finally:
            s.stop()
            os.unlink(f.name)


class Batches(h.unittest.TestCase):
    def test_big_array_keeps_every_record_in_order(self):
        # Past 256 records the array is split in a second pass: every record
        # still comes back, in order, with its own reward (the CLI's).
        recs = [{"response": GOOD if i % 3 else WRONG, "reference": str(72 - i % 2)}
                for i in range(700)]
        s = Server()
        try:
            status, out = s.json("POST", "/v1/score", recs)
            self.assertEqual(status, 200)
            want = h.score_spec(recs, SPEC)
            self.assertEqual([r["reward"] for r in out["results"]], [w["reward"] for w in want])
            self.assertEqual(out["summary"]["records"], 700)
            status, out = s.json("POST", "/v1/score", recs[:256])
            self.assertEqual((status, len(out["results"])), (200, 256))
        finally:
            s.stop()
        s = Server("--max-records", "300")
        try:
            status, out = s.json("POST", "/v1/score", recs)
            self.assertEqual(status, 413)
            self.assertIn("700 records; the limit is 300", out["error"])
        finally:
            s.stop()


class Lifecycle(h.unittest.TestCase):
    def test_sighup_reload_good_and_bad(self):
        s = Server()
        try:
            new = {"reward": {"fn": "constant", "args": {"value": 0.25}}}
            with open(s.spec_path, "w") as f:
                json.dump(new, f)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline and s.json("GET", "/v1/spec")[1] != new:
                time.sleep(0.05)
            self.assertEqual(s.json("GET", "/v1/spec")[1], new)
            self.assertEqual(s.json("POST", "/v1/score", [{"response": "x"}])[1]["results"][0]
                             ["reward"], 0.25)
            with open(s.spec_path, "w") as f:
                f.write('{"reward": {"fn": "nope"}}')
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline and "still serving" not in s.read_log():
                time.sleep(0.05)
            self.assertIn("unknown function 'nope'", s.read_log())
            self.assertEqual(s.json("GET", "/v1/spec")[1], new)  # the old spec stays
        finally:
            self.assertEqual(s.stop(), 0)

    def test_sigterm_drains_in_flight_requests(self):
        s = Server()
        body = json.dumps([{"response": GOOD, "reference": "72"}] * 10).encode()
        sk = socket.create_connection(("127.0.0.1", s.port))
        sk.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body) + body[:50])
        time.sleep(0.3)  # the request is in flight: headers and part of the body read
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with self.assertRaises(OSError):  # no new connections while draining
            socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        sk.sendall(body[50:])
        resp = b""
        sk.settimeout(10)
        while b"\r\n\r\n" not in resp or len(resp.split(b"\r\n\r\n", 1)[1]) < 20:
            chunk = sk.recv(65536)
            if not chunk:
                break
            resp += chunk
        sk.close()
        self.assertTrue(resp.startswith(b"HTTP/1.1 200"), resp[:100])
        self.assertEqual(s.proc.wait(timeout=30), 0)
        s.stop()

    def test_idle_timeout(self):
        s = Server("--idle-timeout", "1")
        try:
            sk = socket.create_connection(("127.0.0.1", s.port))
            sk.settimeout(10)
            t0 = time.time()
            self.assertEqual(sk.recv(10), b"")  # closed by the server
            self.assertLess(time.time() - t0, 5)
            sk.close()
        finally:
            s.stop()

    def test_slow_client_is_disconnected(self):
        s = Server("--deadline", "300")
        try:
            body = json.dumps([{"response": GOOD, "reference": "72"}]).encode()
            sk = socket.create_connection(("127.0.0.1", s.port))
            sk.settimeout(10)
            sk.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                       % len(body))
            for i in range(0, len(body), 10):  # trickle the body, 10 bytes every 100 ms
                try:
                    sk.sendall(body[i:i + 10])
                except OSError:
                    break
                time.sleep(0.1)
            try:
                resp = sk.recv(4096)
            except ConnectionResetError:
                resp = b""
            sk.close()
            self.assertEqual(resp, b"")  # closed, body never scored
            self.assertIn("took over 300 ms (--deadline)", s.read_log())
            _, _, metrics = s.request("GET", "/metrics")
            self.assertIn(b'rewardkit_requests_total{endpoint="/v1/score",code="408"} 1', metrics)
        finally:
            s.stop()

    def test_bad_spec_at_start_exits_3(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"reward": {"fn": "exact", "args": {"extract": "boxd"}}}')
        p = subprocess.run([h.BIN, "serve", "--spec", f.name, "--port", "0"],
                           capture_output=True, timeout=30)
        os.unlink(f.name)
        self.assertEqual(p.returncode, 3)
        self.assertIn(b"reward.args.extract", p.stderr)

    def test_concurrent_clients_get_their_own_results(self):
        s = Server()
        errors = []

        def client(k):
            try:
                for i in range(20):
                    ans = str((k + i) % 3)
                    st, out = s.json("POST", "/v1/score",
                                     [{"response": f"<think>x</think><answer>{ans}</answer>",
                                       "reference": "1"}])
                    want = 2 if ans == "1" else 1
                    if st != 200 or out["results"][0]["reward"] != want:
                        errors.append((k, i, st, out))
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(s.stop(), 0)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    h.main()

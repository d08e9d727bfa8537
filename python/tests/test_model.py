"""Model-based rewards through the Python binding and a trainer adapter,
against the deterministic test peer (tests/peer/lm_peer.py) on loopback:
the judge's P(yes) for the peer's [[p_yes=0.8]] list is 0.8 by hand
(0.9*0.8 + 0.1*0.8 yes mass over 1.0 total), and many threads sharing one
Scorer each get it for their own records, with the server calls made
outside the GIL."""
import os
import subprocess
import sys
import threading
import unittest

import rewardkit
from rewardkit.adapters import verl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "tests", "peer", "lm_peer.py")


class ModelRewards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = subprocess.Popen([sys.executable, PEER, "--kind", "vllm", "--port", "0"],
                                    stdout=subprocess.PIPE, text=True)
        cls.url = "http://127.0.0.1:" + cls.peer.stdout.readline().split()[1]
        cls.spec = {"reward": {"fn": "judge", "name": "judge", "args": {
            "url": cls.url, "template": "{prompt} {response} [[p_yes=0.8]]"}}}

    @classmethod
    def tearDownClass(cls):
        cls.peer.terminate()
        cls.peer.wait(timeout=10)

    def test_threads_share_a_scorer(self):
        scorer = rewardkit.Scorer(self.spec)
        errors = []

        def work(t):
            try:
                recs = [{"prompt": f"t{t} q{i}", "response": "r"} for i in range(40)]
                for r in scorer.score(recs):
                    if r["status"] != "ok" or abs(r["reward"] - 0.8) > 1e-12:
                        errors.append(r)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_verl_adapter(self):
        out = verl.compute_score("any", "4", "4", spec=self.spec)
        self.assertAlmostEqual(out["score"], 0.8, places=12)
        self.assertAlmostEqual(out["judge"], 0.8, places=12)

    def test_server_error_is_not_a_silent_zero(self):
        spec = {"reward": {"fn": "judge", "args": {
            "url": self.url, "retries": 0, "template": "{response} [[status=500]]"}}}
        r = rewardkit.Scorer(spec).score([{"response": "x"}])[0]
        self.assertEqual(r["status"], "error")
        self.assertIsNone(r["reward"])
        self.assertIn("HTTP 500", r["error"])


if __name__ == "__main__":
    unittest.main()

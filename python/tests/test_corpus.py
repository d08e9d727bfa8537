"""Tests of Scorer.corpus_score: sacreBLEU's corpus BLEU and chrF through
the binding. Expected figures are sacreBLEU's published test vectors
(test_bleu.py, test_chrf.py) and the counts worked out by hand in
tests/unit/test_overlap.c (e2e_corpus_bleu_published).

Run: REWARDKIT_LIB=build/librewardkit.so PYTHONPATH=python \\
     python3 -m unittest discover -s python/tests -p test_corpus.py
"""
import json
import unittest

import rewardkit

HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REFS = [["The dog bit the man.", "The dog had bit the man."],
        ["It was not unexpected.", "No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog."]]
RECORDS = [{"response": h, "reference": r} for h, r in zip(HYPS, REFS)]


class CorpusScore(unittest.TestCase):
    def test_bleu_published(self):
        with rewardkit.Scorer({"reward": {"fn": "bleu"}}) as s:
            d = s.corpus_score(RECORDS)
        self.assertAlmostEqual(d["score"], 48.530827, delta=5e-7)
        self.assertEqual(d["metric"], "bleu")
        self.assertEqual(d["records"], 3)
        self.assertEqual(d["counts"], [14, 7, 5, 3])
        self.assertEqual(d["totals"], [17, 14, 11, 8])
        self.assertEqual((d["sys_len"], d["ref_len"]), (17, 18))
        self.assertFalse(d["effective_order"])

    def test_json_text_records_and_orders(self):
        # max_ngram_order 1..6 -> 77.65, 60.50, 53.93, 48.53, 46.14, 43.28
        texts = [json.dumps(r) for r in RECORDS]
        for order, want in zip(range(1, 7), [77.65, 60.50, 53.93, 48.53, 46.14, 43.28]):
            spec = {"reward": {"fn": "bleu", "args": {"max_ngram_order": order}}}
            with rewardkit.Scorer(spec) as s:
                self.assertAlmostEqual(s.corpus_score(texts)["score"], want, delta=5e-3)

    def test_chrf_published(self):
        # test_chrf.py: corpus_chrf(["a", "b"], [["a", "c"]], beta=3,
        # eps_smoothing=True) -> 8.3333; default mode -> 50.0
        recs = [{"response": "a", "reference": "a"}, {"response": "b", "reference": "c"}]
        for eps, want in ((True, 8.3333), (False, 50.0)):
            spec = {"reward": {"fn": "chrf", "args": {"beta": 3, "eps_smoothing": eps}}}
            with rewardkit.Scorer(spec) as s:
                self.assertAlmostEqual(s.corpus_score(recs)["score"], want, delta=5e-5)

    def test_errors(self):
        with rewardkit.Scorer({"reward": {"fn": "exact"}}) as s:
            with self.assertRaises(rewardkit.SpecError) as e:
                s.corpus_score(RECORDS)
            self.assertIn("fn 'exact'", str(e.exception))
        with rewardkit.Scorer({"reward": {"fn": "bleu"}}) as s:
            with self.assertRaises(rewardkit.RewardkitError) as e:
                s.corpus_score(RECORDS + [{"response": "x"}])
            self.assertIn("record 3: no reference", str(e.exception))


if __name__ == "__main__":
    unittest.main()

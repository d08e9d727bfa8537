"""End-to-end tests of `rewardkit corpus`: sacreBLEU's corpus BLEU and chrF
over JSONL records. Expected figures are sacreBLEU's published test
vectors (test_bleu.py, test_chrf.py) and the counts worked out by hand in
tests/unit/test_overlap.c (e2e_corpus_bleu_published)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from harness import run  # noqa: E402

HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REFS = [["The dog bit the man.", "The dog had bit the man."],
        ["It was not unexpected.", "No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog."]]


def published(sep=b"\n"):
    return sep.join(json.dumps({"response": hyp, "reference": refs}).encode()
                    for hyp, refs in zip(HYPS, REFS)) + sep


class Corpus(h.unittest.TestCase):
    def test_bleu_line_is_sacrebleus(self):
        _, out, _ = run(["corpus", "--fn", "bleu"], published())
        self.assertEqual(
            out.decode(),
            "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 "
            "ref_len = 18) [3 records; case:mixed|eff:no|tok:13a|smooth:exp]\n")

    def test_json_detail_and_blank_and_crlf_lines(self):
        data = b"\r\n" + published(b"\r\n") + b"   \n"
        _, out, _ = run(["corpus", "--fn", "bleu", "--json"], data)
        d = json.loads(out)
        self.assertAlmostEqual(d["score"], 48.530827, delta=5e-7)
        self.assertEqual(d["records"], 3)
        self.assertEqual(d["counts"], [14, 7, 5, 3])
        self.assertEqual(d["totals"], [17, 14, 11, 8])
        self.assertEqual((d["sys_len"], d["ref_len"]), (17, 18))

    def test_bleu_arguments_apply(self):
        _, out, _ = run(["corpus", "--fn", "bleu", "--arg", "tokenize=intl", "--json"],
                        published())
        self.assertAlmostEqual(json.loads(out)["score"], 43.91623493, delta=5e-9)

    def test_chrf_from_a_spec_file(self):
        # test_chrf.py: corpus_chrf(["a", "b"], [["a", "c"]], beta=3,
        # eps_smoothing=True) -> 8.3333
        spec = h.spec_file({"reward": {"fn": "chrf", "args": {"beta": 3, "eps_smoothing": True}}})
        data = b'{"response": "a", "reference": "a"}\n{"response": "b", "reference": "c"}\n'
        _, out, _ = run(["corpus", "--spec", spec, "--json"], data)
        os.unlink(spec)
        self.assertAlmostEqual(json.loads(out)["score"], 8.3333, delta=5e-5)

    def test_bad_record_names_its_line(self):
        data = b'{"response": "a", "reference": "a"}\n\n{"response": "a", "reference": }\n'
        code, out, err = run(["corpus", "--fn", "bleu"], data, check_code=1)
        self.assertEqual(out, b"")
        self.assertIn("line 3: invalid JSON", err)

    def test_spec_that_is_not_bleu_or_chrf(self):
        code, _, err = run(["corpus", "--fn", "exact"], published(), check_code=3)
        self.assertIn("fn 'exact'", err)
        self.assertIn("fn 'bleu' or fn 'chrf'", err)


if __name__ == "__main__":
    h.main()

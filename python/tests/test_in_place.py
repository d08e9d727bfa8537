"""Dicts read in place by the library (rk_py_records): the JSON text it
writes for a record must be exactly what Python's json module writes, the
response it hands over must be the str itself, and the scores of dicts
exactly those of the same records as JSON text and as the CLI gives them.
The expected texts come from json.dumps (the reference implementation) on
the same random objects.

Run: REWARDKIT_LIB=build/librewardkit.so REWARDKIT_CLI=build/rewardkit \\
     PYTHONPATH=python python3 -m unittest discover -s python/tests
"""
import array
import ctypes
import json
import re
import sys
import threading
import unittest

import rewardkit
from rewardkit import _lib

from test_binding import cli_score
from test_marshal import RECORD_SPEC, Objects



def decode(raw, kind):
    """A response as handed over: UTF-8 bytes (kind 0) or code units."""
    if kind == 0:
        return raw.decode()
    if kind == 1:
        return raw.decode("latin-1")
    return "".join(map(chr, array.array("H" if kind == 2 else "I", raw)))


def read(records, api=None):
    """rk_py_records on a list: None when refused, else one (JSON text,
    response str or None, kind) per record."""
    p = ctypes.POINTER(_lib.RkPyRecords)()
    api = api or rewardkit._PYAPI
    if rewardkit._PYLIB.rk_py_records(ctypes.byref(api), records, 0, len(records),
                                      ctypes.byref(p)) != 0:
        return None
    try:
        c = p.contents
        lines = ctypes.cast(c.lines, ctypes.POINTER(ctypes.c_void_p))
        resps = ctypes.cast(c.resps, ctypes.POINTER(ctypes.c_void_p))
        out = []
        for i in range(c.n):
            kind = c.kinds[i]
            resp = None
            if resps[i]:
                raw = ctypes.string_at(resps[i], c.rlens[i] * (kind or 1))
                resp = decode(raw, kind)
            out.append((ctypes.string_at(lines[i], c.lens[i]).decode(), resp, kind))
        return out
    finally:
        rewardkit._PYLIB.rk_py_records_free(p)


def readable(obj, depth=0):
    """Whether the library reads obj in place (else the binding takes its
    other paths): exact JSON types, str keys, 64-bit ints, depth <= 512."""
    if depth > 512:
        return False
    t = type(obj)
    if t is dict:
        return all(type(k) is str and readable(v, depth + 1) for k, v in obj.items())
    if t in (list, tuple):
        return all(readable(v, depth + 1) for v in obj)
    if t is int:
        return -2**63 <= obj < 2**63
    return t in (str, float, bool) or obj is None


def in_threads(work, n=8):
    """Runs work() on n threads at once and waits for them."""
    ts = [threading.Thread(target=work) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def apart(rec):
    """The record without a str "response" (what the text holds)."""
    return {k: v for k, v in rec.items() if k != "response" or type(v) is not str}


@unittest.skipUnless(rewardkit._PYLIB is not None, "this library does not read dicts in place")
class InPlaceTest(unittest.TestCase):
    def test_the_str_layout_was_found(self):
        # On CPython 3.11 (Debian 12) the code units are read where CPython
        # keeps them; were the probe to fail, every non-ASCII str would be
        # copied to UTF-8 on the caller's thread, silently slower.
        self.assertNotEqual(rewardkit._PYAPI.state_offset, 0)

    def test_same_text_as_json_dumps(self):
        gen = Objects(7, huge=False)
        taken = refused = 0
        for i in range(6000):
            gen.shared.clear()
            obj = gen.value()
            rec = {"v": obj, "response": gen.text()} if i % 2 else {"v": obj}
            got = read([rec])
            if not readable(rec):
                refused += 1
                self.assertIsNone(got, (i, rec))
                continue
            taken += 1
            self.assertIsNotNone(got, (i, rec))
            text, resp, _ = got[0]
            want = json.dumps(apart(rec), separators=(",", ":"), check_circular=False)
            self.assertEqual(text, want, (i, rec))
            self.assertEqual(resp, rec.get("response"))
        self.assertGreater(taken, 1000)
        self.assertGreater(refused, 1000)  # int keys, big ints: the other paths

    def test_strs_of_every_kind(self):
        texts = ["ascii only", "caf\u00e9", "\u20ac and \u00e9", "\U0001F600 astral",
                 "lone \ud800 high", "pair \ud83d\ude00 as two", "", "\x00nul"]
        for t in texts:
            t = "".join(list(t))  # made at run time, as a dataset's strs are
            got = read([{"response": t, "k\u00e9y " + t: [t, {t: t}]}])
            self.assertIsNotNone(got, t)
            text, resp, kind = got[0]
            self.assertEqual(resp, t)
            want_kind = 0 if t.isascii() else 1 if max(map(ord, t)) < 256 else \
                2 if max(map(ord, t)) < 65536 else 4
            self.assertEqual(kind, want_kind, t)
            self.assertEqual(text, json.dumps({"k\u00e9y " + t: [t, {t: t}]},
                                              separators=(",", ":")))

    def test_strs_as_utf8_when_their_layout_is_not_known(self):
        # The path taken when the str probe fails: UTF-8 asked of CPython
        # (kind 0); a str with surrogates has none, so the batch is refused.
        api = _lib.RkPyApi.from_buffer_copy(rewardkit._PYAPI)
        api.state_offset = 0
        texts = ["ascii", "caf\u00e9", "\u20ac 5", "x \U0001F600"]
        for t in texts:
            t = "".join(list(t))
            rec = {"response": t, "k\u00e9y": [t, {t: 1.5}]}
            got = read([rec], api)
            self.assertEqual(got, [(json.dumps(apart(rec), separators=(",", ":")), t, 0)])
        self.assertIsNone(read([{"response": "a\ud800"}], api))
        self.assertIsNone(read([{"x": "a\ud800"}], api))

    def test_responses_become_utf8_as_json_would_read_them(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}})
        pair = "".join(["\ud83d", "\ude00"])  # two code points, one character for json
        recs = [{"response": f"{p} The answer is 72.", "reference": "72"}
                for p in ("", "\u00e9", "\u20ac", "\U0001F600", pair)]
        self.assertEqual([o["reward"] for o in s.score(recs)], [1.0] * 5)
        # A surrogate pair reads as the character, as from the JSON text.
        same = [{"response": pair, "reference": "\U0001F600"}]
        self.assertEqual(s.score(same)[0]["reward"], 1.0)
        self.assertEqual(s.score([json.dumps(same[0])])[0]["reward"], 1.0)
        out = s.score([{"response": "x \ud800 y", "reference": "72"},
                       {"response": "a\x00b", "reference": "72"},
                       {"response": "\u20ac\udc00", "reference": "72"}])
        self.assertEqual(out[0]["error"], "line 1: the response holds a lone surrogate "
                         "(character 2), which is not text: it has no UTF-8 form")
        self.assertEqual(out[1]["error"], "line 2: the response holds a NUL character "
                         "(at byte 1)")
        self.assertEqual(out[2]["error"], "line 3: the response holds a lone surrogate "
                         "(character 1), which is not text: it has no UTF-8 form")

    def test_dicts_score_as_their_json_text_and_the_cli(self):
        spec = RECORD_SPEC
        gen = Objects(11, huge=False)
        recs = []
        while len(recs) < 600:
            gen.shared.clear()
            i = len(recs)
            ans = str(i % 3)
            resp = f"<think>{gen.text()}</think><answer>{ans}</answer>"
            rec = {"id": i, "reference": "1", "meta": {"x": gen.real() if i % 2 else i,
                                                       "junk": gen.value()}}
            rec["response"] = [{"role": "assistant", "content": resp}] if i % 7 == 0 else resp
            if readable(rec) and "\x00" not in resp and not re.search("[\ud800-\udfff]", resp):
                recs.append(rec)
        s = rewardkit.Scorer(spec, threads=2)
        self.assertIsNotNone(read(recs))  # every record goes in place
        key = lambda r: (r["reward"], r["status"], r.get("components"))  # noqa: E731
        for batch in (recs[:100], recs):  # one call, and the chunked path (>= 256)
            ours = s.score(batch)
            as_text = s.score([json.dumps(r) for r in batch])
            self.assertEqual(list(map(key, ours)), list(map(key, as_text)))
            col = re.compile(r" at column [0-9]+")
            for o, t in zip(ours, as_text):
                self.assertEqual(col.sub("", o.get("error", "")), col.sub("", t.get("error", "")))
        cli = cli_score(recs, spec)
        ours = s.score(recs)
        self.assertEqual([key(o) if o["status"] == "ok" else o["status"] for o in ours],
                         [key(c) if c["status"] == "ok" else c["status"] for c in cli])
        self.assertGreater(sum(o["status"] == "ok" for o in ours), 100)

    def test_what_is_not_read_in_place_takes_the_other_paths(self):
        class Record(dict):
            pass

        class Scalar:  # numpy-like: json's default= turns it into a float
            def item(self):
                return 0.5

        s = rewardkit.Scorer({"reward": {"fn": "field", "args": {"field": "x"}}})
        cases = [(Record(response="", x=0.25), 0.25), ({"response": "", "x": Scalar()}, 0.5),
                 ({"response": "", "x": 2**70}, float(2**70)), ({"response": "", "x": True}, 1.0),
                 ({"response": "", "x": 3, 7: "int key"}, 3.0)]
        for rec, want in cases:
            self.assertEqual(read([rec]) is None, not readable(rec), rec)
            self.assertEqual(s.score([{"response": "", "x": 1}, rec])[1]["reward"], want, rec)
        out = s.score([{"response": "", "x": 1}, {"response": "", "bad": {1, 2}}])
        self.assertEqual(out[1]["error"], 'line 2: field "bad": a Python set has no JSON form '
                         "(give dicts, lists, str, int, float, bool or None)")
        deep = cur = {}
        for _ in range(600):
            cur["d"] = {}
            cur = cur["d"]
        self.assertIsNone(read([deep]))
        self.assertEqual(s.score([deep])[0]["status"], "error")
        loop = {"response": "x"}
        loop["self"] = loop
        self.assertIsNone(read([loop]))
        self.assertIn("contains itself", s.score([loop])[0]["error"])

    def test_responses_are_released(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}}, threads=2)
        resp = "".join(["\u20ac The answer is ", "72."])
        before = sys.getrefcount(resp)
        for n in (1, 300, 1000):  # one call, and the chunked path
            out = s.score([{"response": resp, "reference": "72"} for _ in range(n)])
            self.assertEqual({o["reward"] for o in out}, {1.0})
            self.assertEqual(sys.getrefcount(resp), before, n)
        self.assertIsNone(read([{"response": resp, "x": {1}}]))  # refused: nothing held
        self.assertEqual(sys.getrefcount(resp), before)

    def test_max_line_counts_the_json_text_without_the_response(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}}, max_line=1000)
        out = s.score([{"response": "a" * 5000, "reference": "a"},
                       {"response": "7", "reference": "7", "pad": "y" * 2000}])
        self.assertEqual((out[0]["status"], out[0]["reward"]), ("ok", 0.0))
        self.assertIn("line 2 is 2026 bytes or more, over the limit of 1000 bytes",
                      out[1]["error"])

    def test_many_threads_share_a_scorer(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}}, threads=2)
        recs = [{"response": f"caf\u00e9 \U0001F600 The answer is {i % 5}.", "reference": "2",
                 "id": i} for i in range(400)]
        want = [1.0 if i % 5 == 2 else 0.0 for i in range(400)]
        self.assertEqual([o["reward"] for o in s.score([json.dumps(r) for r in recs])], want)
        errors = []

        def work():
            try:
                for _ in range(5):
                    got = [o["reward"] for o in s.score(recs)]
                    if got != want:
                        errors.append("mismatch")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        in_threads(work)
        self.assertEqual(errors, [])



@unittest.skipUnless(rewardkit._PY_SCORE, "this library has no rk_py_score")
class DirectTest(unittest.TestCase):
    """Batches below rewardkit._PIECES_FROM records go through one library
    call (rk_py_score): the results must be those of the general path
    (rk_py_records, then scoring, then the results read apart), which the
    tests above compare with JSON text and the CLI."""

    def general(self, scorer, records, explain=None):
        rewardkit._PY_SCORE = False
        try:
            return scorer.score(records, explain=explain)
        finally:
            rewardkit._PY_SCORE = True

    def direct(self, scorer, records, explain=None):
        out = scorer._score_direct(records, explain)
        self.assertIsNotNone(out)  # taken by rk_py_score, not handed on
        self.assertEqual(scorer.score(records, explain=explain), out)
        return out

    def test_same_results_as_the_general_path(self):
        gen = Objects(5, huge=False)
        recs = []
        for i in range(60):
            gen.shared.clear()
            resp = f"<think>{gen.text()}</think><answer>{i % 3}</answer>"
            rec = {"id": i, "reference": "1", "meta": {"x": gen.real() if i % 2 else i}}
            rec["response"] = resp
            recs.append(rec)
        recs.append({"response": "<answer>1</answer>", "reference": "1"})  # no meta.x
        self.assertTrue(all(map(readable, recs)))
        # Lone surrogates and NUL are errors (their messages come from the
        # lines), some records are: the explain and error paths are taken.
        self.assertTrue(any("\x00" in r["response"] or re.search("[\ud800-\udfff]", r["response"])
                            for r in recs))
        s = rewardkit.Scorer(RECORD_SPEC, threads=2)
        for batch in (recs, tuple(recs[:7]), recs[:1], [recs[-1]], []):
            for explain in (False, True):
                want = self.general(s, batch, explain)
                self.assertEqual(self.direct(s, batch, explain), want)
        out = self.direct(s, recs, True)
        self.assertTrue(all("explain" in o for o in out))
        errors = [o for o in out if o["status"] == "error"]
        self.assertTrue(errors)
        self.assertTrue(all(o["error"] for o in errors))
        self.assertIn("line 1: the response holds a lone surrogate (character 15)",
                      [o["error"][:58] for o in errors])

    def test_groups_and_advantages(self):
        spec = {"reward": {"fn": "exact"}, "advantage": {"estimator": "grpo"}}
        s = rewardkit.Scorer(spec)
        recs = [{"response": str(i % 2), "reference": "1", "group": f"g{i // 4}"}
                for i in range(8)]
        out = self.direct(s, recs)
        self.assertEqual(out, self.general(s, recs))
        # Each group of 4 holds rewards 0, 1, 0, 1 (mean 0.5): the records
        # of reward 1 get a positive advantage, the others a negative one
        # (the values themselves are checked in test_binding).
        self.assertEqual([o["advantage"] > 0 for o in out], [False, True] * 4)

    def test_records_not_read_in_place_go_the_general_way(self):
        s = rewardkit.Scorer({"reward": {"fn": "field", "args": {"field": "x"}}})
        for rec in ({"response": "", "x": 2**70}, {"response": "", "x": 1, 7: "int key"},
                    {"response": "", "bad": {1, 2}}):
            self.assertIsNone(s._score_direct([rec], None))
            self.assertEqual(s.score([rec]), self.general(s, [rec]))

    def test_references_are_given_back(self):
        s = rewardkit.Scorer({"reward": {"fn": "exact"}})
        resp = "".join(["\u20ac The answer is ", "72."])
        rec = {"response": resp, "reference": "72"}
        before = (sys.getrefcount(resp), sys.getrefcount(rec))
        for explain in (False, True):
            for _ in range(50):
                self.assertEqual(self.direct(s, [rec], explain)[0]["reward"], 1.0)
        bad = {"response": "x\ud800", "reference": "x"}  # an error: the batch is kept for its line
        self.assertEqual(self.direct(s, [bad, rec])[0]["status"], "error")
        self.assertEqual((sys.getrefcount(resp), sys.getrefcount(rec)), before)

    def test_threads_each_score_one_record_at_a_time(self):
        # A trainer's reward workers calling compute_score per sample.
        from rewardkit.adapters import verl
        spec = {"reward": {"fn": "grounding"}}
        cases = [(f'<answer>{{"bbox_2d": [10, 10, {20 + i}, 20]}}</answer>', [10, 10, 20, 20],
                  10 / (10 + i)) for i in range(40)]
        errors = []

        def work():
            try:
                for _ in range(20):
                    for resp, ref, want in cases:
                        got = verl.compute_score("rec", resp, ref, spec=spec)["score"]
                        if abs(got - want) > 1e-12:
                            errors.append((resp, got, want))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        in_threads(work)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()

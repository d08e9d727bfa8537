"""Dicts go to the library as Python marshal data (rk_pymarshal_to_json):
its JSON text must be exactly what Python's json module writes, and the
scores of dicts exactly those of the same records as JSON text and as the
CLI gives them. The expected texts come from json.dumps itself (the
reference implementation), run on the same random objects.

Run: REWARDKIT_LIB=build/librewardkit.so REWARDKIT_CLI=build/rewardkit \\
     PYTHONPATH=python python3 -m unittest discover -s python/tests
"""
import ctypes
import json
import marshal
import math
import random
import re
import struct
import unittest

import rewardkit
from rewardkit import _LIB

from test_binding import cli_score


def to_json(data):
    """(JSON text, None) or (None, the library's reason)."""
    out = ctypes.c_void_p()
    size = ctypes.c_size_t()
    err = ctypes.create_string_buffer(256)
    if _LIB.rk_pymarshal_to_json(data, len(data), ctypes.byref(out), ctypes.byref(size),
                                 err, len(err)) != 0:
        return None, err.value.decode()
    try:
        return ctypes.string_at(out, size.value).decode(), None
    finally:
        _LIB.rk_free(out)


# Format, answer and a field of the record's own: what the dict tests score.
RECORD_SPEC = {"reward": {"sum": [
    {"fn": "format", "name": "format", "args": {"preset": "r1"}},
    {"fn": "exact", "name": "accuracy", "args": {"extract": "answer_tag"}},
    {"fn": "field", "name": "x", "args": {"field": "meta.x"}}]}}


class Objects:
    """Random JSON-able Python objects with what makes marshal and json
    differ: escapes, non-ASCII and astral text, lone surrogates, NUL, DEL,
    ints of every size, floats at repr's switch to exponents, NaN and
    infinities, keys that are not str, tuples, and objects met twice
    (marshal writes those once and refers to them)."""

    TEXT = ["abc xyz", "\"\\\n\t\r\b\f\x00\x1f\x7f", "\u00e9\u00fc\u20ac", "\U0001F600\U0001D11E",
            "\ud800\udfff", "<answer>42</answer>"]

    def __init__(self, seed, huge=True):
        self.rnd = random.Random(seed)
        self.shared = []
        self.huge = huge  # ints past json's 4300 digits

    def text(self):
        r = self.rnd
        n = r.randrange(0, 200 if r.random() < 0.1 else 12)
        return "".join(r.choice(r.choice(self.TEXT)) for _ in range(n))

    def integer(self):
        r = self.rnd
        return r.choice([r.randrange(-2**31, 2**31), r.randrange(-2**90, 2**90),
                         r.choice([0, -1, 2**31, -2**31, -2**31 - 1, 2**63, 10**100,
                                   -10**4400 if self.huge else 7]),
                         r.randrange(-100, 100)])

    def real(self):
        r = self.rnd
        k = r.randrange(5)
        if k == 0:
            return r.choice([0.0, -0.0, 1e16, 1e15, 1e-5, 1e-4, 0.1, 1.5e300, 5e-324, 100.0,
                             float("nan"), float("inf"), -float("inf"), 123456789012345678.0])
        if k == 1:
            return r.uniform(-1, 1) * 10 ** r.randrange(-30, 30)
        if k == 2:
            return float(r.randrange(-10**6, 10**6))
        return struct.unpack("<d", r.randbytes(8))[0]

    def key(self):
        r = self.rnd
        return self.text() if r.random() < 0.6 else r.choice(
            [self.integer(), self.real(), True, False, None])

    def value(self, depth=0):
        r = self.rnd
        k = r.randrange(10 if depth < 4 else 5)
        if k == 0:
            return self.text()
        if k == 1:
            return self.integer()
        if k == 2:
            return self.real()
        if k == 3:
            return r.choice([None, True, False])
        if k == 4:
            if self.shared and r.random() < 0.5:
                return r.choice(self.shared)
            s = self.text()
            self.shared.append(s)
            return s
        if k in (5, 6):
            out = {self.key(): self.value(depth + 1) for _ in range(r.randrange(5))}
        elif k == 7:
            return tuple(self.value(depth + 1) for _ in range(r.randrange(4)))
        else:
            out = [self.value(depth + 1) for _ in range(r.randrange(4))]
        if r.random() < 0.2:
            self.shared.append(out)
        return out


@unittest.skipUnless(rewardkit._MARSHAL, "this library has no marshal reader")
class MarshalTest(unittest.TestCase):
    # Dicts the library reads in place do not go as marshal data: these
    # tests take that path away (test_in_place.py tests it).
    def setUp(self):
        self._pylib = rewardkit._PYLIB
        rewardkit._PYLIB = None

    def tearDown(self):
        rewardkit._PYLIB = self._pylib

    def test_same_text_as_json_dumps(self):
        gen = Objects(7)
        refused = 0
        for i in range(6000):
            gen.shared.clear()
            obj = gen.value()
            got, why = to_json(marshal.dumps(obj, 4))
            try:
                want = json.dumps(obj, separators=(",", ":"), check_circular=False)
            except ValueError:  # an int past 4300 digits: both refuse
                refused += 1
                self.assertIsNone(got, i)
                self.assertIn("more than 4300 digits", why)
                continue
            self.assertEqual(got, want, (i, obj))
        self.assertGreater(refused, 10)  # the refusal path was exercised

    def test_floats_as_repr(self):
        # Every power of two and its neighbours (where the shortest digits
        # are not the nearest ones of printf at 17 digits), and random bit
        # patterns: the text of each is repr()'s.
        vals = []
        for e in range(-1074, 1024):
            v = math.ldexp(1.0, e)
            vals += [v, -v, math.nextafter(v, math.inf), math.nextafter(v, 0.0)]
        rnd = random.Random(5)
        vals += [struct.unpack("<d", rnd.randbytes(8))[0] for _ in range(4000)]
        vals = [v for v in vals if v == v]
        for i in range(0, len(vals), 1000):
            chunk = vals[i:i + 1000]
            got, why = to_json(marshal.dumps(chunk, 4))
            self.assertEqual(got, json.dumps(chunk, separators=(",", ":")), why)

    def test_refusals_name_the_field_and_the_type(self):
        cases = [({"a": {1, 2}}, 'field "a": a Python set has no JSON form'),
                 ({"b": b"xy"}, 'field "b": a Python bytes object'),
                 ({"c": [1j]}, 'field "c": a Python complex number'),
                 ({(1, 2): 3}, "a dict key is a tuple"),
                 ({"e": ...}, "a Python Ellipsis")]
        loop = []
        loop.append(loop)
        cases.append(({"loop": loop}, 'field "loop": the record contains itself'))
        for obj, why in cases:
            got, msg = to_json(marshal.dumps(obj, 4))
            self.assertIsNone(got)
            self.assertIn(why, msg)
        # Big ints: the conversion is quadratic, so a record converts about
        # 18,000 digits at most (four of 4,299 pass, five refer to one).
        big = 10**4299
        self.assertEqual(to_json(marshal.dumps([big] * 4, 4))[0],
                         json.dumps([big] * 4, separators=(",", ":")))
        self.assertIn("too large in all", to_json(marshal.dumps([big] * 5, 4))[1])
        data = marshal.dumps({"response": "x" * 40, "n": 2**70}, 4)
        for cut in range(len(data)):  # every truncation is refused
            self.assertIsNone(to_json(data[:cut])[0], cut)

    def test_dicts_score_as_their_json_text_and_the_cli(self):
        spec = RECORD_SPEC
        gen = Objects(11, huge=False)
        recs = []
        for i in range(300):
            gen.shared.clear()
            ans = str(i % 3)
            resp = f"<think>{gen.text()}</think><answer>{ans}</answer>"
            rec = {"id": i, "reference": "1", "meta": {"x": gen.real() if i % 2 else i,
                                                       "junk": gen.value()}}
            if i % 5 == 0:
                rec["completion"] = resp  # the same str twice: a reference
            if i % 7 == 0:
                rec["response"] = [{"role": "assistant", "content": resp}]  # chat form
            else:
                rec["response"] = resp
            recs.append(rec)
        s = rewardkit.Scorer(spec, threads=2)
        ours = s.score(recs)
        as_text = s.score([json.dumps(r) for r in recs])
        cli = cli_score(recs, spec)
        # (The CLI's lines for records it could not read have no components.)
        key = lambda r: (r["reward"], r["status"], r.get("components"))  # noqa: E731
        self.assertEqual(list(map(key, ours)), list(map(key, as_text)))
        self.assertEqual([key(o) if o["status"] == "ok" else o["status"] for o in ours],
                         [key(c) if c["status"] == "ok" else c["status"] for c in cli])
        self.assertGreater(sum(o["status"] == "ok" for o in ours), 50)  # and the rest errors
        # Errors say the same, but for the column (the text the library
        # reads for a dict leaves the response out) and for a NUL in the
        # response, which is checked apart.
        col = re.compile(r" at column [0-9]+")
        for o, t in zip(ours, as_text):
            if "the response holds a NUL character" in o.get("error", ""):
                self.assertIn("(NUL) is not allowed", t["error"])
            else:
                self.assertEqual(col.sub("", o.get("error", "")), col.sub("", t.get("error", "")))
        # What json refuses is that record's error, with its line.
        bad = [dict(r) for r in recs[:30]]
        for i in (0, 11, 29):
            bad[i]["bad"] = {1, 2}
        out = s.score(bad)
        for i, o in enumerate(out):
            if i in (0, 11, 29):
                self.assertEqual(o["error"], f'line {i + 1}: field "bad": a Python set has no '
                                 "JSON form (give dicts, lists, str, int, float, bool or None)")
            else:
                self.assertEqual(o, ours[i])
        # NaN as a value: json writes NaN, which the reader refuses, on both paths.
        nan = {"response": "<answer>1</answer>", "reference": "1", "v": float("nan")}
        self.assertEqual(col.sub("", s.score([nan])[0]["error"]),
                         col.sub("", s.score([json.dumps(nan)])[0]["error"]))
        self.assertIn("NaN is not a JSON number", s.score([nan])[0]["error"])

    def test_max_line_counts_the_json_text_without_the_response(self):
        # As for a response handed over apart: a long response passes, a
        # long other field is over the limit.
        s = rewardkit.Scorer({"reward": {"fn": "exact"}}, max_line=1000)
        out = s.score([{"response": "a" * 5000, "reference": "a"},
                       {"response": "7", "reference": "7", "pad": "y" * 2000}])
        self.assertEqual((out[0]["status"], out[0]["reward"]), ("ok", 0.0))
        self.assertEqual(out[1]["error"], "line 2: the record's JSON text (without its "
                         "response) is over the limit of 1000 bytes (raise max_line)")

    @unittest.skipUnless(rewardkit._MARSHAL_OUT, "this library does not write results")
    def test_results_read_with_marshal_equal_those_built_from_the_table(self):
        # rk_batch_pymarshal + marshal.loads against the dicts built in
        # Python from rk_batch_table, on batches with every kind of value:
        # nulls, advantages, both filter flags, errors, -0.0, and 70
        # component names, some not ASCII.
        names = [f"c{k}\u00e9" if k % 3 else f"c{k}" for k in range(70)]
        specs = [
            {"reward": {"sum": [{"fn": "field", "name": n, "args": {"field": "x"},
                                 "weight": -1 if k % 2 else 1} for k, n in enumerate(names)]}},
            {"reward": {"fn": "field", "args": {"field": "x"}},
             "advantage": {"estimator": "grpo"},
             "filter": {"zero_variance": True, "mean_range": [0.1, 0.9], "action": "flag"}},
            {"reward": {"route": {"a": {"fn": "field", "name": "fa", "args": {"field": "x"}},
                                  "b": {"fn": "exact", "name": "fb"}}}},
        ]
        rnd = random.Random(3)
        flags = set()
        recs = []
        for i in range(300):
            x = rnd.choice([0.0, -0.0, 1.0, 0.5, 0.25, 1e-300, None, "bad"])
            group = f"g{i % 7 // 2}"
            if i < 60:  # groups of equal rewards: zero variance
                x, group = 0.5, f"z{i // 6}"
            elif i < 120:  # groups with a mean near 0: out of [0.1, 0.9]
                x, group = (0.0 if i % 2 else 1e-300), f"m{i // 6}"
            rec = {"response": "7", "reference": "7", "x": x, "group": group,
                   "task": rnd.choice(["a", "b"])}
            recs.append(rec if i % 37 else {"reference": "7"})  # no response: error
        for spec in specs:
            s = rewardkit.Scorer(spec, threads=2)
            ctx = s._take_ctx()
            try:
                lines = [json.dumps(r).encode() for r in recs]
                arr, lens, _, _ = rewardkit._arrays(lines, None)
                batch = ctypes.c_void_p()
                opts = s._options(False)
                self.assertEqual(_LIB.rk_score_batch(ctx, s._spec, ctypes.byref(opts), arr, lens,
                                                     len(lines), ctypes.byref(batch)), 0)
                try:
                    got, got_err = s._rows_marshal(batch, len(lines))
                    want, want_err = s._rows_table(batch, len(lines))
                finally:
                    _LIB.rk_batch_free(batch)
            finally:
                s._give_ctx(ctx)
            self.assertEqual(got, want)
            self.assertEqual([list(r) for r in got], [list(r) for r in want])  # key order
            self.assertEqual([repr(r) for r in got], [repr(r) for r in want])  # -0.0, types
            self.assertEqual(bool(got_err), bool(want_err))
            self.assertTrue(got_err)
            flags |= {r.get("filtered") for r in got}
        self.assertEqual(flags, {None, "zero_variance", "mean_out_of_range"})

    def test_what_marshal_cannot_write_goes_as_json(self):
        class Record(dict):  # a dict subclass: marshal refuses it
            pass

        class Scalar:  # numpy-like: json's default= turns it into a float
            def item(self):
                return 0.5

        s = rewardkit.Scorer({"reward": {"fn": "field", "args": {"field": "x"}}})
        self.assertEqual(s.score([Record(response="", x=0.25)])[0]["reward"], 0.25)
        out = s.score([{"response": "", "x": 1}, {"response": "", "x": Scalar()}])
        self.assertEqual([o["reward"] for o in out], [1.0, 0.5])


if __name__ == "__main__":
    unittest.main()

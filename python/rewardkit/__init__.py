"""rewardkit: rewards for RL post-training, computed by librewardkit (C).

    import rewardkit
    scorer = rewardkit.Scorer({"reward": {"fn": "exact"}})
    scorer.score([{"response": "The answer is 72.", "reference": "72"}])
    # -> [{"reward": 1.0, "status": "ok", "components": {"exact": 1.0}}]

Records are dicts with the fields of docs/spec.md (response, reference,
task, group, ...; the usual framework aliases work), or their JSON text.
Scoring runs in the C library outside the GIL, so one Scorer may be used
from many threads at once. Trainer adapters: rewardkit.adapters.verl,
.trl, .openrlhf, .easyr1.
"""
import array
import ctypes
import itertools
import json
import marshal
import os
import sys
import threading

from . import _lib

__version__ = _lib.PACKAGE_VERSION
__all__ = ["Scorer", "RewardkitError", "SpecError", "library_path", "functions"]

_LIB, _LIB_PATH = _lib.load()
_HAVE_APART = hasattr(_LIB, "rk_score_batch_responses") and \
    _LIB.rk_score_batch_responses.argtypes is not None
# Batches of at least this many records, when the spec has no groups and
# the machine has two CPUs or more, are scored in pieces on threads of the
# library while this thread turns the finished pieces into dicts
# (rk_score_batch_start / _next). When the library's threads take every
# CPU (threads=0, the default, or more), it scores with one thread less
# in the background and this thread scores too while it waits for a piece.
_HAVE_PIECES = getattr(_LIB, "rk_score_batch_start", None) is not None and \
    _LIB.rk_score_batch_start.argtypes is not None
_PIECES_FROM = 128


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
library_path = _LIB_PATH
_STATUS = ["ok", "unparseable", "invalid_reference", "timeout", "error"]
# array typecode of size_t (lengths handed to the library without a Python
# loop).
_SIZE_T = next(t for t in "LQI" if array.array(t).itemsize == ctypes.sizeof(ctypes.c_size_t))
_STATUS_OF = {float(i): name for i, name in enumerate(_STATUS)}
_FILTERED = [None, "zero_variance", "mean_out_of_range"]
_RK_ESPEC = -3  # rk_err RK_ESPEC


class RewardkitError(Exception):
    """A failure of the library (out of memory, bad argument, ...)."""


class SpecError(RewardkitError, ValueError):
    """The spec does not compile; the message names the place in the spec."""


def functions():
    """The built-in reward functions: {name: one-line summary}."""
    out = {}
    i = 0
    while True:
        summary = ctypes.c_char_p()
        name = _LIB.rk_fn_name(i, ctypes.byref(summary))
        if not name:
            return out
        out[name.decode()] = (summary.value or b"").decode()
        i += 1


def _spec_text(spec):
    """A spec as JSON text: a dict, a JSON string, or a path to a file."""
    if isinstance(spec, dict):
        return json.dumps(spec)
    if isinstance(spec, (bytes, bytearray)):
        return bytes(spec).decode()
    if isinstance(spec, str):
        s = spec.strip()
        if s.startswith("{"):
            return s
        if os.path.exists(spec):
            with open(spec, encoding="utf-8") as f:
                return f.read()
        raise SpecError(f"spec: '{spec}' is neither JSON nor an existing file")
    if isinstance(spec, os.PathLike):
        with open(spec, encoding="utf-8") as f:
            return f.read()
    raise SpecError(f"spec: expected a dict, JSON text or a path, got {type(spec).__name__}")


def _json_default(value):
    # numpy scalars and arrays, tensors: what datasets hand to reward functions.
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ASCII output with \u escapes is the fastest form of CPython's C encoder;
# the library decodes the escapes.
_ENCODER = json.JSONEncoder(default=_json_default, check_circular=False,
                            separators=(",", ":"))


def _dict_encoder():
    """JSONEncoder.encode without its per-call set-up: encode() builds a
    new C encoder object for every record (about 1 us, a third of a
    record's cost); this one is built once, with the same settings, and
    checked to give the same text. Falls back to _ENCODER.encode where
    CPython has no C encoder."""
    try:
        from json.encoder import c_encode_basestring_ascii, c_make_encoder
        enc = c_make_encoder(None, _json_default, c_encode_basestring_ascii, None,
                             ":", ",", False, False, True)

        def encode(obj):
            return "".join(enc(obj, 0))

        probe = {"a": [1, 2.5, None, True, "\u00e9\n\"", {"b": -0.0}], "c": 1e300}
        if encode(probe) != _ENCODER.encode(probe):
            raise ValueError("different output")
        return encode
    except Exception:  # no C encoder, or another signature: the documented path
        return _ENCODER.encode


_encode_dict = _dict_encoder()


def _marshal_reader():
    """Whether the library reads marshal.dumps(record, 4) as json reads
    this package's JSON text of the record (rk_pymarshal_to_json, checked
    on a probe holding every type a record may hold). Dicts then go to the
    library as marshal data: marshal.dumps copies strings as they are,
    where JSON escaping in Python costs about 1 us per 300 characters;
    the library escapes on its own threads."""
    fn = getattr(_LIB, "rk_pymarshal_to_json", None)
    if fn is None or fn.argtypes is None:
        return False
    shared = [1, "two"]
    probe = {"a": [1, -2**80, 2.5, 1e16, -0.0, None, True, False, "\u00e9\n\"\x7f\U0001F600"],
             "b": {"c": shared, "d": shared, 3: 0.1, 1.5: (1, 2)}, "response": "x" * 70}
    out = ctypes.c_void_p()
    size = ctypes.c_size_t()
    data = marshal.dumps(probe, 4)
    if fn(data, len(data), ctypes.byref(out), ctypes.byref(size), None, 0) != 0:
        return False
    try:
        return ctypes.string_at(out, size.value) == _ENCODER.encode(probe).encode()
    finally:
        _LIB.rk_free(out)


_MARSHAL = _marshal_reader()
# Results read with one marshal.loads (rk_batch_pymarshal) when the library
# writes them; else built here from its table. Tests compare the two.
_MARSHAL_OUT = getattr(_LIB, "rk_batch_pymarshal", None) is not None and \
    _LIB.rk_batch_pymarshal.argtypes is not None
_JSON, _PYMARSHAL = 0, 1  # RK_FORMAT_JSON, RK_FORMAT_PYMARSHAL


def _str_layout(off):
    """Where CPython keeps a str's code units (PEP 393 compact strings):
    (state_offset, kind_shift, compact_mask, ascii_mask, ascii_data,
    compact_data), checked on a str of every kind; zeros if a probe
    disagrees (the library then asks for UTF-8, which costs a copy kept in
    every non-ASCII str)."""
    layout = (4 * off, 2, 1 << 5, 1 << 6, sys.getsizeof("") - 1, sys.getsizeof("\u00e9") - 2)
    state, shift, compact, ascii_bit, ascii_data, compact_data = layout
    probes = [("plain ascii", 1, "latin-1"), ("caf\u00e9 au lait", 1, "latin-1"),
              ("\u20ac 5 \u00e9", 2, "utf-16-le"), ("a\ud800b", 2, "utf-16-le"),
              ("x \U0001F600 \u00e9", 4, "utf-32-le")]
    for text, kind, codec in probes:
        text = "".join(list(text))  # a new object, made at run time
        st = ctypes.c_uint32.from_address(id(text) + state).value
        is_ascii = text.isascii()
        if not st & compact or bool(st & ascii_bit) != is_ascii or (st >> shift & 7) != kind:
            return (0, 0, 0, 0, 0, 0)
        at = id(text) + (ascii_data if is_ascii else compact_data)
        if ctypes.string_at(at, len(text) * kind) != text.encode(codec, "surrogatepass"):
            return (0, 0, 0, 0, 0, 0)
    return layout


def _pyapi():
    """The CPython functions and types for rk_py_records, or None when the
    library cannot read this interpreter's objects in place (no
    rk_py_records, another object layout, or a text that differs from
    json's on the probe)."""
    try:
        lib = _lib.load_holding_gil(_LIB_PATH)
        if lib is None or getattr(_LIB, "rk_score_pyrecords", None) is None:
            return None, None
        api = ctypes.pythonapi
        off = ctypes.sizeof(ctypes.c_ssize_t)
        for obj in ({}, [], (), "", 1, 1.0, None, True):  # ob_type right after the count
            if ctypes.c_void_p.from_address(id(obj) + off).value != id(type(obj)):
                return None, None

        def fn(name):
            return ctypes.cast(getattr(api, name), ctypes.c_void_p).value
        pyapi = _lib.RkPyApi(
            off, id(dict), id(list), id(tuple), id(str), id(int), id(float), id(None), id(True),
            id(False), fn("PyDict_Next"), fn("PyList_Size"), fn("PyList_GetItem"),
            fn("PyTuple_Size"), fn("PyTuple_GetItem"), fn("PyUnicode_AsUTF8AndSize"),
            fn("PyFloat_AsDouble"), fn("PyLong_AsLongLongAndOverflow"), fn("PyErr_Clear"),
            fn("Py_IncRef"), fn("Py_DecRef"), fn("PyUnicode_GetLength"), *_str_layout(off),
            fn("PyEval_SaveThread"), fn("PyEval_RestoreThread"))
    except (AttributeError, OSError, ValueError):
        return None, None
    return (lib, pyapi) if _in_place_agrees(lib, pyapi) else (None, None)


def _in_place_agrees(lib, pyapi):
    """Whether rk_py_records reads a probe of every type and str kind as
    json and str.encode would."""
    shared = [1, "two"]
    probe = [{"a": [1, -2**63, 2**63 - 1, 2.5, 1e16, -0.0, float("nan"), None, True, False,
                    "\u00e9\n\"\x7f\U0001F600", "\u20ac\ud800", "caf\u00e9"],
              "b": {"c": shared, "d": (shared, ())}, "k\u00e9y": "\U0001F600",
              "response": "r\u00e9ponse \U0001F600"},
             {"response": ["not", "a", "str"], "x": {}}, {},
             {"response": "caf\u00e9"}, {"response": "\u20ac"}, {"response": "ascii"}]
    p = ctypes.POINTER(_lib.RkPyRecords)()
    if lib.rk_py_records(ctypes.byref(pyapi), probe, 0, len(probe), ctypes.byref(p)) != 0:
        return False
    codecs = {0: "utf-8", 1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}
    try:
        c = p.contents
        lines = ctypes.cast(c.lines, ctypes.POINTER(ctypes.c_void_p))
        resps = ctypes.cast(c.resps, ctypes.POINTER(ctypes.c_void_p))
        for i, rec in enumerate(probe):
            resp = rec.get("response")
            rest = {k: v for k, v in rec.items() if k != "response" or type(v) is not str}
            if ctypes.string_at(lines[i], c.lens[i]) != _ENCODER.encode(rest).encode():
                return False
            kind = c.kinds[i]
            got = None
            if resps[i]:
                got = ctypes.string_at(resps[i], c.rlens[i] * (kind or 1)).decode(
                    codecs.get(kind, "?"), "surrogatepass")
            if got != (resp if type(resp) is str else None):
                return False
        return True
    except (LookupError, ValueError):
        return False
    finally:
        lib.rk_py_records_free(p)


# Dicts read in place by the library (rk_py_records), while this thread
# holds the GIL: no bytes are made in Python, the responses are not
# copied. Batches it does not take go as marshal data or JSON.
_PYLIB, _PYAPI = _pyapi()
# A small batch read, scored and turned into results in one call
# (rk_py_score; Scorer._score_direct).
_PY_SCORE = _PYLIB is not None and _MARSHAL_OUT and \
    getattr(_PYLIB, "rk_py_score", None) is not None
_PYAPI_P = ctypes.pointer(_PYAPI) if _PY_SCORE else None
_EINVAL = -1  # RK_EINVAL


class _InPlace:
    """Records read in place (rk_py_records): stands for the list of
    record texts of a batch, and keeps what the library read alive."""
    __slots__ = ("p", "_n")

    def __init__(self, p):
        self.p = p
        self._n = p.contents.n

    def __len__(self):
        return self._n

    def __del__(self):
        if self.p and _PYLIB is not None:
            _PYLIB.rk_py_records_free(self.p)
            self.p = None


def _chunk_min(threads):
    """The smallest chunk of a long dict batch (Scorer._score_chunks).
    Chunks let the encoding of the next one overlap the scoring. When the
    library's threads take every CPU and dicts are read in place, the
    encoding is cheap and smaller chunks lose more in hand-overs than they
    gain (measured, 2 CPUs, threads=2, 256-record batches: one chunk 2.25
    us a record, chunks of 128 2.32, of 64 2.44; 1024-record batches:
    chunks of 256 2.10, 128 2.37, 512 2.47); with a CPU to spare
    (threads=1 of 2), chunks of 64 keep it busy (256-record batches: 144%
    of the CLI's records/s against 127-131% in one chunk)."""
    every_cpu = threads == 0 or threads >= _cpus()
    return 256 if _PYLIB is not None and every_cpu else _PIECES_FROM // 2


def _read_in_place(records):
    """records (a list or tuple) as _InPlace, or None if the library does
    not take them (a record that is not a plain dict of JSON types)."""
    if _PYLIB is None or not records:
        return None
    p = ctypes.POINTER(_lib.RkPyRecords)()
    if _PYLIB.rk_py_records(ctypes.byref(_PYAPI), records, 0, len(records), ctypes.byref(p)):
        return None
    return _InPlace(p)


def _encode(record):
    if isinstance(record, bytes):
        return record
    if isinstance(record, str):
        return record.encode()
    if isinstance(record, dict):
        return _encode_dict(record).encode()
    raise TypeError(f"a record is a dict or its JSON text, got {type(record).__name__}")


# Responses at least this long travel beside the record's JSON, as UTF-8
# bytes (rk_score_batch_responses): escaping a long text into JSON is most
# of what a dict record costs in Python (about 10 us for 3 KB).
_APART = 64


def _split(record):
    """(the record's JSON bytes, its response as UTF-8 bytes or None). A
    long str "response" of a dict is left out of the JSON and returned
    apart. Lone surrogates pass through as invalid UTF-8, which the library
    reports as that record's error, as it does for their JSON escapes."""
    if isinstance(record, dict):
        resp = record.get("response")
        if type(resp) is str and len(resp) >= _APART and _HAVE_APART:
            rest = record.copy()
            del rest["response"]
            return _encode_dict(rest).encode(), resp.encode("utf-8", "surrogatepass")
    return _encode(record), None


def _arrays(lines, resps):
    """The C arrays of a batch: record pointers and lengths, and the
    responses given apart (None for none; a None entry keeps the record's
    own). They keep the bytes objects alive."""
    n = len(lines)
    arr = (ctypes.c_char_p * n)()
    arr[:] = lines  # a slice assignment: faster than the constructor
    lens = (ctypes.c_size_t * n).from_buffer(array.array(_SIZE_T, map(len, lines)))
    rarr = rlens = None
    if resps is not None:
        rarr = (ctypes.c_char_p * n)()
        rarr[:] = resps
        rlens = (ctypes.c_size_t * n).from_buffer(
            array.array(_SIZE_T, [len(r) if r is not None else 0 for r in resps]))
    return arr, lens, rarr, rlens


def _fail(ctx, rc):
    msg = _LIB.rk_ctx_errmsg(ctx).decode() or _LIB.rk_strerror(rc).decode()
    raise SpecError(msg) if rc == _RK_ESPEC else RewardkitError(msg)


def _pieces(ctx):
    """The pieces of the context's started batch, as they are scored (the
    caller frees each)."""
    while True:
        batch = ctypes.c_void_p()
        rc = _LIB.rk_score_batch_next(ctx, ctypes.byref(batch))
        if rc != 0:
            _fail(ctx, rc)
        if not batch:
            return
        yield batch


def _take_all(ctx):
    """Every piece of the context's started batch, once all are scored."""
    batches = []
    try:
        batches.extend(_pieces(ctx))
    except BaseException:
        for b in batches:
            _LIB.rk_batch_free(b)
        raise
    return batches


def _row_builder(names, advantage):
    """A function that turns result columns into result dicts in one list
    comprehension with dict displays: about 3x faster than dict(zip(...))
    per record. Arguments: rewards, statuses, advantages (only when the
    spec has them), then one column per component. The component names
    only ever appear as repr() literals."""
    comp = ", ".join(f"{name!r}: c{k}" for k, name in enumerate(names))
    cvars = "".join(f", c{k}" for k in range(len(names)))
    if advantage:
        args, item, adv = "r, s, a" + cvars, "x, y, v" + cvars, ', "advantage": v'
    else:
        args, item, adv = "r, s" + cvars, "x, y" + cvars, ""
    src = (f"def rows({args}):\n"
           f"    return [{{\"reward\": x, \"status\": y, \"components\": {{{comp}}}{adv}}}\n"
           f"            for {item} in zip({args})]\n")
    env = {}
    exec(compile(src, "<rewardkit rows>", "exec"), env)
    return env["rows"]


class Scorer:
    """A compiled spec plus worker threads.

    spec: dict, JSON text, or path. threads: library worker threads per call
    (0 = all CPUs). explain: add "explain" to every result by default.
    step_budget / max_line: per-record limits (0 = library defaults).
    """

    def __init__(self, spec, *, threads=0, explain=False, step_budget=0, max_line=0):
        text = _spec_text(spec).encode()
        err = ctypes.create_string_buffer(1024)
        handle = ctypes.c_void_p()
        rc = _LIB.rk_spec_compile(text, len(text), ctypes.byref(handle), err, len(err))
        if rc != 0:
            raise SpecError(err.value.decode(errors="replace")
                            or _LIB.rk_strerror(rc).decode())
        self._spec = handle
        self._threads = threads
        self._explain = explain
        self._budget = step_budget
        self._max_line = max_line
        n = _LIB.rk_spec_ncomponents(handle)
        self.components = [_LIB.rk_spec_component(handle, k).decode() for k in range(n)]
        self.needs_groups = bool(_LIB.rk_spec_needs_groups(handle))
        self.has_advantage = "advantage" in self.spec
        self._rows = _row_builder(self.components, self.has_advantage)
        self._pieces = _HAVE_PIECES and not self.needs_groups and _cpus() > 1
        # The options of rk_py_score, by explain (made once: a call costs
        # less than building them).
        self._direct_opts = [ctypes.pointer(self._options(x)) for x in (False, True)]
        self._ctx_free = []
        self._lock = threading.Lock()

    @property
    def spec(self):
        """The spec as compiled (a dict)."""
        p = ctypes.c_void_p()
        n = ctypes.c_size_t()
        if _LIB.rk_spec_json(self._spec, ctypes.byref(p), ctypes.byref(n)) != 0:
            raise RewardkitError("out of memory")
        try:
            return json.loads(ctypes.string_at(p, n.value))
        finally:
            _LIB.rk_free(p)

    def close(self):
        with self._lock:
            for ctx in self._ctx_free:
                _LIB.rk_ctx_destroy(ctx)
            self._ctx_free = []
        if self._spec:
            _LIB.rk_spec_free(self._spec)
            self._spec = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # A context serves one call at a time; concurrent calls each borrow one.
    # list.pop and list.append are atomic: no lock on this path (a lock's
    # with-block was 0.3 us of a 6 us one-record call).
    def _take_ctx(self):
        try:
            return self._ctx_free.pop()
        except IndexError:
            pass
        ctx = ctypes.c_void_p()
        opts = _lib.RkCtxOptions(self._threads)
        rc = _LIB.rk_ctx_create(ctypes.byref(opts), ctypes.byref(ctx))
        if rc != 0:
            raise RewardkitError(_LIB.rk_strerror(rc).decode())
        return ctx

    def _give_ctx(self, ctx):
        self._ctx_free.append(ctx)

    def score(self, records, *, explain=None):
        """Scores a batch in one library call. Returns one dict per record:
        reward (float or None), status, components, and when they apply
        advantage, filtered, error, explain. Advantages and group filters
        see the groups within this batch."""
        if self._spec is None:
            raise RewardkitError("this Scorer is closed")
        readable = True  # as far as known: not yet refused by the library
        if (_PY_SCORE and _PYLIB is not None and type(records) in (list, tuple)
                and len(records) < _PIECES_FROM):
            out = self._score_direct(records, explain)
            if out is not None:
                return out
            readable = False  # refused by rk_py_score: no second try in place
        if (self._pieces and isinstance(records, (list, tuple))
                and len(records) >= 2 * _chunk_min(self._threads)):
            return self._score_chunks(records, explain)
        lines, resps, fmt = self._encode_batch(records, readable)
        return self._score_lines(lines, explain, resps, fmt)

    @staticmethod
    def _encode_batch(records, in_place=True):
        """(records, responses apart or None, their format). A batch of
        plain dicts of JSON types is read in place by the library
        (_InPlace); else plain dicts go as marshal data (the library takes
        the response apart itself); anything else - JSON text, dict
        subclasses, values marshal cannot write such as numpy scalars -
        as JSON. in_place=False: the library has just refused them."""
        if not isinstance(records, (list, tuple)):
            records = list(records)
        read = _read_in_place(records) if in_place else None
        if read is not None:
            return read, None, _JSON
        if _MARSHAL and records and set(map(type, records)) == {dict}:
            try:
                return list(map(marshal.dumps, records, itertools.repeat(4, len(records)))), \
                    None, _PYMARSHAL
            except ValueError:  # an object marshal cannot write: json's default= may
                pass
        pairs = [_split(r) for r in records]
        resps = [p[1] for p in pairs]
        return [p[0] for p in pairs], (resps if any(resps) else None), _JSON

    def _score_direct(self, records, explain):
        """score() of a list or tuple of fewer than _PIECES_FROM records in
        one library call (rk_py_score: read in place, scored without the
        GIL, results written for one marshal.loads), for a trainer that
        scores sample by sample: about 4.5 us for a one-box grounding
        record, where the general path took 10. None when the records are
        not readable in place (the general path then takes them, with its
        messages)."""
        explain = self._explain if explain is None else explain
        res = _lib.RkPyResult()
        ctx = self._take_ctx()
        try:
            rc = _PYLIB.rk_py_score(_PYAPI_P, ctx, self._spec, self._direct_opts[bool(explain)],
                                    self.has_advantage, records, ctypes.byref(res))
            if rc == _EINVAL:
                return None
            if rc != 0:
                _fail(ctx, rc)
        finally:
            self._give_ctx(ctx)
        batch = res.batch
        try:
            try:
                out = marshal.loads(ctypes.string_at(res.data, res.len))
            finally:
                _LIB.rk_free(res.data)
            if len(out) != len(records):
                raise RewardkitError("could not read the results")
            return self._add_lines(batch, out, explain, res.errors) if batch else out
        finally:
            if batch:
                _LIB.rk_batch_free(batch)

    def _score_chunks(self, records, explain):
        """score() for a long batch on the pieced path: the batch goes in
        chunks, each scored (as a started batch) while the next one is
        encoded and the previous one turned into dicts. Line numbers in
        error messages are those of the batch."""
        explain = self._explain if explain is None else explain
        n = len(records)
        step = max(_chunk_min(self._threads), -(-n // 8))
        bounds = list(range(step, n, step)) + [n]
        out = []
        ctx = self._take_ctx()
        try:
            cur = self._start(ctx, explain, *self._encode_batch(records[:bounds[0]]))
            a = 0
            for k, b_end in enumerate(bounds):
                nxt = records[b_end:bounds[k + 1]] if k + 1 < len(bounds) else None
                prepared = self._encode_batch(nxt) if nxt else None  # while `cur` is scored
                batches = _take_all(ctx)
                if prepared:
                    cur = self._start(ctx, explain, *prepared)
                try:
                    for b in batches:  # while the next chunk is scored
                        out += self._results(b, _LIB.rk_batch_count(b), explain, a)
                finally:
                    for b in batches:
                        _LIB.rk_batch_free(b)
                a = b_end
            del cur
            return out
        finally:
            _LIB.rk_score_batch_abort(ctx)
            self._give_ctx(ctx)

    def _options(self, explain, fmt=_JSON):
        return _lib.RkScoreOptions(int(bool(explain)), 0, self._budget, self._max_line, 1, fmt)

    def _start(self, ctx, explain, lines, resps, fmt=_JSON):
        """Starts a batch (rk_score_batch_start); returns what must stay
        alive until its last piece is taken."""
        opts = self._options(explain, fmt)
        if isinstance(lines, _InPlace):
            rc = _LIB.rk_score_pyrecords_start(ctx, self._spec, ctypes.byref(opts), lines.p)
            if rc != 0:
                _fail(ctx, rc)
            return lines
        arr, lens, rarr, rlens = _arrays(lines, resps)
        rc = _LIB.rk_score_batch_start(ctx, self._spec, ctypes.byref(opts), arr, lens,
                                       rarr, rlens, len(lines))
        if rc != 0:
            _fail(ctx, rc)
        return lines, resps, arr, lens, rarr, rlens

    def _score_lines(self, lines, explain, resps=None, fmt=_JSON):
        explain = self._explain if explain is None else explain
        n = len(lines)
        if n == 0:
            return []
        if n >= _PIECES_FROM and self._pieces:
            return self._score_pieces(lines, resps, fmt, explain)
        opts = self._options(explain, fmt)
        batch = ctypes.c_void_p()
        ctx = self._take_ctx()
        try:
            if isinstance(lines, _InPlace):
                rc = _LIB.rk_score_pyrecords(ctx, self._spec, ctypes.byref(opts), lines.p,
                                             ctypes.byref(batch))
            else:
                arr, lens, rarr, rlens = _arrays(lines, resps)
                if rarr is None:
                    rc = _LIB.rk_score_batch(ctx, self._spec, ctypes.byref(opts), arr, lens, n,
                                             ctypes.byref(batch))
                else:
                    rc = _LIB.rk_score_batch_responses(ctx, self._spec, ctypes.byref(opts),
                                                       arr, lens, rarr, rlens, n,
                                                       ctypes.byref(batch))
            if rc != 0:
                _fail(ctx, rc)
        finally:
            self._give_ctx(ctx)
        try:
            return self._results(batch, n, explain)
        finally:
            _LIB.rk_batch_free(batch)

    def _score_pieces(self, lines, resps, fmt, explain):
        """The library scores the batch piece by piece on threads of its
        own (rk_score_batch_start); each finished piece becomes dicts here
        while the next one is scored."""
        out = []
        ctx = self._take_ctx()
        try:
            alive = self._start(ctx, explain, lines, resps, fmt)
            for batch in _pieces(ctx):
                try:
                    out += self._results(batch, _LIB.rk_batch_count(batch), explain)
                finally:
                    _LIB.rk_batch_free(batch)
            del alive
            return out
        finally:
            _LIB.rk_score_batch_abort(ctx)  # a no-op once every piece was taken
            self._give_ctx(ctx)

    def _rows_marshal(self, batch, n):
        """The result dicts from one marshal.loads of what the library
        writes for them (rk_batch_pymarshal): about a third faster than
        building them here, and no per-call set-up. Returns (dicts, whether
        some record has status "error")."""
        p = ctypes.c_void_p()
        size = ctypes.c_size_t()
        errors = ctypes.c_size_t()
        if _LIB.rk_batch_pymarshal(batch, self._spec, int(self.has_advantage), ctypes.byref(p),
                                   ctypes.byref(size), ctypes.byref(errors)) != 0:
            raise RewardkitError("could not read the results")
        try:
            out = marshal.loads(ctypes.string_at(p, size.value))
        finally:
            _LIB.rk_free(p)
        if len(out) != n:
            raise RewardkitError("could not read the results")
        return out, errors.value

    def _rows_table(self, batch, n):
        """The result dicts built here from the library's table (for a
        library without rk_batch_pymarshal)."""
        ncol = 4 + len(self.components)
        table = array.array("d", bytes(8 * n * ncol))
        if _LIB.rk_batch_table(batch, (ctypes.c_double * (n * ncol)).from_buffer(table),
                               n * ncol) != 0:
            raise RewardkitError("could not read the results")
        # One column at a time to Python floats, in C (array slicing and
        # tolist() are faster than indexing a ctypes array); the advantage
        # column only when the spec has one, the filter flags not at all
        # unless some record has one.
        adv = self.has_advantage
        cols = [table[k::ncol].tolist() if k != 3 and (k != 2 or adv) else None
                for k in range(ncol)]
        # The library's null (NaN) is None in Python. A column holding a NaN
        # sums to NaN (a C-speed test; +inf with -inf also does, and then
        # the pass below just finds nothing to replace).
        for k in ((0, 2) if adv else (0,)) + tuple(range(4, ncol)):
            total = sum(cols[k])
            if total != total:
                cols[k] = [None if v != v else v for v in cols[k]]
        statuses = cols[1]
        cols[1] = list(map(_STATUS_OF.__getitem__, statuses))
        if adv:
            out = self._rows(*cols[:3], *cols[4:])
        else:
            out = self._rows(*cols[:2], *cols[4:])
        filts = table[3::ncol]
        if any(filts):
            for i in range(n):
                if filts[i]:
                    out[i]["filtered"] = _FILTERED[int(filts[i])]
        return out, 4.0 in statuses

    def _results(self, batch, n, explain, line0=0):
        if _MARSHAL_OUT:
            out, errors = self._rows_marshal(batch, n)
        else:
            out, errors = self._rows_table(batch, n)
        return self._add_lines(batch, out, explain, errors, line0)

    @staticmethod
    def _add_lines(batch, out, explain, errors, line0=0):
        """Adds what only the records' lines hold to the result dicts: the
        message of each record with status "error" (renumbered from line0
        for a chunk), and every explanation when explain is set."""
        n = len(out)
        if explain:
            lines = range(n)
        elif errors:  # "error": the message is in the record's line
            lines = [i for i in range(n) if out[i]["status"] == "error"]
        else:
            lines = ()
        for i in lines:
            res = out[i]
            size = ctypes.c_size_t()
            p = _LIB.rk_batch_line(batch, i, ctypes.byref(size))
            line = json.loads(ctypes.string_at(p, size.value))
            if "error" in line:
                err = line["error"]
                if line0 and err.startswith("line "):
                    # A chunk's lines count from its first record: renumber.
                    num, colon, rest = err[5:].partition(":")
                    if colon and num.isdigit():
                        err = f"line {int(num) + line0}:{rest}"
                res["error"] = err
            if explain:
                res["explain"] = line.get("explain", {})
        return out

    def score_one(self, record=None, *, explain=None, **fields):
        """Scores one record, given as a dict / JSON text or as keyword
        fields: scorer.score_one(response="...", reference="72")."""
        if record is None:
            record = fields
        elif fields:
            raise TypeError("give a record or keyword fields, not both")
        return self.score([record], explain=explain)[0]

    def corpus_score(self, records):
        """sacreBLEU's corpus score of the records (dicts or their JSON text)
        under this Scorer's spec, which must be one bleu or chrf leaf: the
        statistics of every record summed, then one score, as corpus_bleu()
        and corpus_chrf() compute it (not the mean of score()'s rewards).
        bleu's effective_order is off unless the spec sets it, as in
        corpus_bleu(). Returns a dict: "score" (0-100, sacreBLEU's scale),
        "records", "unparseable" (answers that could not be extracted,
        scored as empty), "text" (the line sacreBLEU prints), and the sums
        and settings behind the score. A record that cannot be scored
        raises RewardkitError with "record K: " (K its index in records);
        another kind of spec raises SpecError."""
        if self._spec is None:
            raise RewardkitError("this Scorer is closed")
        if getattr(_LIB, "rk_corpus_score", None) is None or \
                _LIB.rk_corpus_score.argtypes is None:
            raise RewardkitError(f"{_LIB_PATH} has no rk_corpus_score: rebuild the library")
        lines = [_encode(r) for r in records]
        arr, lens, _, _ = _arrays(lines, None)
        opts = self._options(False)
        score = ctypes.c_double()
        detail = ctypes.c_void_p()
        size = ctypes.c_size_t()
        ctx = self._take_ctx()
        try:
            rc = _LIB.rk_corpus_score(ctx, self._spec, ctypes.byref(opts), arr, lens, len(lines),
                                      ctypes.byref(score), ctypes.byref(detail),
                                      ctypes.byref(size))
            if rc != 0:
                _fail(ctx, rc)
        finally:
            self._give_ctx(ctx)
        try:
            return json.loads(ctypes.string_at(detail, size.value))
        finally:
            _LIB.rk_free(detail)

    def score_jsonl(self, lines, *, explain=None):
        """Like score() for JSONL text lines (str or bytes), without
        re-encoding them: the fastest path from a file."""
        if self._spec is None:
            raise RewardkitError("this Scorer is closed")
        if not isinstance(lines, list) or set(map(type, lines)) != {bytes}:
            lines = [l if isinstance(l, bytes) else l.encode() for l in lines]
        return self._score_lines(lines, explain)

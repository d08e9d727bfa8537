"""Loading librewardkit and declaring its C functions (ctypes).

Where the library is looked for, in order:
  1. the REWARDKIT_LIB environment variable (a path to librewardkit.so);
  2. a build tree of this checkout (../../build/librewardkit.so from here);
  3. the system: ctypes.util.find_library, then /usr/local/lib, /usr/lib.
A library whose major.minor version differs from this package's is refused.
"""
import ctypes
import ctypes.util
import os

PACKAGE_VERSION = "0.1.0"

_HOW_TO_FIX = (
    "Build and install the library first (in the rewardkit checkout: "
    "`make install PREFIX=/usr/local`, or just `make` and run from the checkout), "
    "or point REWARDKIT_LIB at librewardkit.so.")


def _candidates():
    env = os.environ.get("REWARDKIT_LIB")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for build in ("build", "build-asan"):
        yield os.path.normpath(os.path.join(here, "..", "..", build, "librewardkit.so"))
    found = ctypes.util.find_library("rewardkit")
    if found:
        yield found
    for prefix in ("/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu"):
        yield os.path.join(prefix, "librewardkit.so")


class RkBatch(ctypes.Structure):
    pass


class RkScoreOptions(ctypes.Structure):
    _fields_ = [
        ("explain", ctypes.c_int),
        ("timing", ctypes.c_int),
        ("step_budget", ctypes.c_uint64),
        ("max_line", ctypes.c_size_t),
        ("results_only", ctypes.c_int),
        ("format", ctypes.c_int),  # 0: JSON, 1: Python marshal (RK_FORMAT_PYMARSHAL)
    ]


class RkPyApi(ctypes.Structure):
    """rk_pyapi: the CPython functions and types rk_py_records uses."""
    _fields_ = [("type_offset", ctypes.c_size_t)] + [
        (name, ctypes.c_void_p) for name in (
            "dict_type", "list_type", "tuple_type", "str_type", "int_type", "float_type",
            "none", "true_", "false_", "dict_next", "list_size", "list_item", "tuple_size",
            "tuple_item", "utf8", "float_value", "long_value", "err_clear", "incref",
            "decref", "str_length")] + [
        ("state_offset", ctypes.c_size_t),
        ("kind_shift", ctypes.c_uint),
        ("compact_mask", ctypes.c_uint),
        ("ascii_mask", ctypes.c_uint),
        ("ascii_data", ctypes.c_size_t),
        ("compact_data", ctypes.c_size_t),
        ("save_thread", ctypes.c_void_p),
        ("restore_thread", ctypes.c_void_p),
    ]


class RkPyRecords(ctypes.Structure):
    _fields_ = [
        ("n", ctypes.c_size_t),
        ("lines", ctypes.POINTER(ctypes.c_char_p)),
        ("lens", ctypes.POINTER(ctypes.c_size_t)),
        ("resps", ctypes.POINTER(ctypes.c_char_p)),
        ("rlens", ctypes.POINTER(ctypes.c_size_t)),
        ("kinds", ctypes.POINTER(ctypes.c_ubyte)),
    ]


class RkPyResult(ctypes.Structure):
    _fields_ = [
        ("batch", ctypes.c_void_p),
        ("data", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("errors", ctypes.c_size_t),
    ]


def load_holding_gil(path):
    """The library's functions that read Python objects, through a PyDLL
    handle (the GIL stays held during the call), or None if it has none."""
    lib = ctypes.PyDLL(path)
    if getattr(lib, "rk_py_records", None) is None:
        return None
    rec_p = ctypes.POINTER(RkPyRecords)
    lib.rk_py_records.restype = ctypes.c_int
    lib.rk_py_records.argtypes = [ctypes.POINTER(RkPyApi), ctypes.py_object, ctypes.c_size_t,
                                  ctypes.c_size_t, ctypes.POINTER(rec_p)]
    lib.rk_py_records_free.restype = None
    lib.rk_py_records_free.argtypes = [rec_p]
    if getattr(lib, "rk_py_score", None) is not None:
        P = ctypes.c_void_p
        lib.rk_py_score.restype = ctypes.c_int
        lib.rk_py_score.argtypes = [ctypes.POINTER(RkPyApi), P, P, ctypes.POINTER(RkScoreOptions),
                                    ctypes.c_int, ctypes.py_object, ctypes.POINTER(RkPyResult)]
    return lib


class RkCtxOptions(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_uint)]


def _declare(lib):
    P = ctypes.c_void_p
    size_t = ctypes.c_size_t
    char_p = ctypes.c_char_p
    sigs = {
        "rk_version": (char_p, []),
        "rk_strerror": (char_p, [ctypes.c_int]),
        "rk_status_name": (char_p, [ctypes.c_int]),
        "rk_free": (None, [P]),
        "rk_ctx_create": (ctypes.c_int, [ctypes.POINTER(RkCtxOptions), ctypes.POINTER(P)]),
        "rk_ctx_destroy": (None, [P]),
        "rk_ctx_errmsg": (char_p, [P]),
        "rk_spec_compile": (ctypes.c_int, [char_p, size_t, ctypes.POINTER(P), char_p, size_t]),
        "rk_spec_free": (None, [P]),
        "rk_spec_json": (ctypes.c_int, [P, ctypes.POINTER(P), ctypes.POINTER(size_t)]),
        "rk_spec_needs_groups": (ctypes.c_int, [P]),
        "rk_spec_ncomponents": (size_t, [P]),
        "rk_spec_component": (char_p, [P, size_t]),
        "rk_score_batch": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                          ctypes.POINTER(char_p), ctypes.POINTER(size_t),
                                          size_t, ctypes.POINTER(P)]),
        "rk_batch_count": (size_t, [P]),
        "rk_batch_line": (P, [P, size_t, ctypes.POINTER(size_t)]),
        "rk_batch_table": (ctypes.c_int, [P, ctypes.POINTER(ctypes.c_double), size_t]),
        "rk_batch_summary": (P, [P, ctypes.POINTER(size_t)]),
        "rk_batch_free": (None, [P]),
        "rk_fn_name": (char_p, [size_t, ctypes.POINTER(char_p)]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    # Newer entry points: used when present, so that a library built
    # before them still loads (the binding then takes the plain path).
    optional = {
        "rk_score_batch_responses": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                                    ctypes.POINTER(char_p),
                                                    ctypes.POINTER(size_t),
                                                    ctypes.POINTER(char_p),
                                                    ctypes.POINTER(size_t), size_t,
                                                    ctypes.POINTER(P)]),
        "rk_score_batch_start": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                                ctypes.POINTER(char_p), ctypes.POINTER(size_t),
                                                ctypes.POINTER(char_p), ctypes.POINTER(size_t),
                                                size_t]),
        "rk_score_batch_next": (ctypes.c_int, [P, ctypes.POINTER(P)]),
        "rk_score_batch_abort": (None, [P]),
        "rk_batch_pymarshal": (ctypes.c_int, [P, P, ctypes.c_int, ctypes.POINTER(P),
                                              ctypes.POINTER(size_t), ctypes.POINTER(size_t)]),
        "rk_pymarshal_to_json": (ctypes.c_int, [char_p, size_t, ctypes.POINTER(P),
                                                ctypes.POINTER(size_t), char_p, size_t]),
        "rk_score_pyrecords": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                              ctypes.POINTER(RkPyRecords), ctypes.POINTER(P)]),
        "rk_score_pyrecords_start": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                                    ctypes.POINTER(RkPyRecords)]),
        "rk_corpus_score": (ctypes.c_int, [P, P, ctypes.POINTER(RkScoreOptions),
                                           ctypes.POINTER(char_p), ctypes.POINTER(size_t), size_t,
                                           ctypes.POINTER(ctypes.c_double), ctypes.POINTER(P),
                                           ctypes.POINTER(size_t)]),
    }
    for name, (restype, argtypes) in optional.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes


def load():
    tried = []
    for path in _candidates():
        if not os.path.exists(path) and os.sep in path:
            tried.append(f"{path} (not found)")
            continue
        try:
            # CDLL releases the GIL during every call: scoring runs in
            # parallel with other Python threads.
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
            continue
        try:
            _declare(lib)
        except AttributeError as e:
            raise ImportError(
                f"rewardkit: {path} is not a compatible librewardkit ({e}). "
                + _HOW_TO_FIX) from None
        version = lib.rk_version().decode()
        if version.split(".")[:2] != PACKAGE_VERSION.split(".")[:2]:
            raise ImportError(
                f"rewardkit: {path} is librewardkit {version}, but this Python package "
                f"is {PACKAGE_VERSION}; they must share major.minor. " + _HOW_TO_FIX)
        return lib, path
    raise ImportError("rewardkit: cannot find librewardkit.so; tried: "
                      + "; ".join(tried) + ". " + _HOW_TO_FIX)

#!/usr/bin/env python3
"""lm_peer.py - a TEST PEER, not a language model and not a real server.

A small deterministic HTTP server that answers in the wire formats of the
inference servers rewardkit's model-based rewards call (vLLM, SGLang, the
llama.cpp server, Text Generation Inference), so that tests can exercise
the real client code over real loopback sockets and check hand-computed
numbers. Behind the endpoints sits a toy "model" whose every number can be
computed by hand; faults (delays, error codes, dropped connections, non-JSON
bodies) are switched on per request by directives written in the request.

Written for rewardkit's test suite (Python 3.11 standard library only); no
code is taken from the projects it imitates. The full description (toy model
rules, directives, endpoints) is in tests/peer/README.md; the short version:

  python3 tests/peer/lm_peer.py --kind vllm|sglang|llamacpp|tgi \
      [--port 0] [--host 127.0.0.1] [--model NAME] [--rm] [--verbose]

prints "READY <port>" on stdout once it listens; SIGTERM/SIGINT exit 0.

Toy model (see README.md for worked examples)
  tokens     ` ?[A-Za-z0-9]+` (optional single leading space + maximal run
             of ASCII letters/digits) or any other single code point.
  ids        1000 + (sum of the token's code points) % 30000; BOS "<s>" = 1
             (shown by TGI only), EOS "</s>" = 2 (never emitted as a token).
  prompt lp  position 0: null; position i >= 1:
             lp = -0.1 * n - d, n = code points of the token, d = 1.0 if
             this exact token text did not occur earlier in the sequence.
  judge list J (alternatives at the first generated position), P = 0.5 or
             [[p_yes=P]]: Yes ln(0.9P), " yes" ln(0.1P), No ln(1-P),
             Maybe -12, The -13, I -14; [[no_yes]] drops the yes variants;
             [[clamp]] adds "Nope" at the server's clamp value; stable-sorted
             by logprob, descending.
"""

import argparse
import base64
import hashlib
import http.server
import json
import math
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import urlsplit

# --------------------------------------------------------------------------
# Toy tokenizer
# --------------------------------------------------------------------------

TOKEN_RE = re.compile(r" ?[A-Za-z0-9]+|.", re.S)
WORD_RE = re.compile(r"[A-Za-z0-9]")
BOS_ID, BOS_TEXT = 1, "<s>"
EOS_ID, EOS_TEXT = 2, "</s>"
MAX_MODEL_LEN = 4096

_id_to_text = {BOS_ID: BOS_TEXT, EOS_ID: EOS_TEXT}
_id_lock = threading.Lock()


def tok_id(t):
    """Token id: 1000 + (sum of code points) % 30000."""
    return 1000 + sum(ord(c) for c in t) % 30000


def tokenize(text):
    toks = TOKEN_RE.findall(text)
    with _id_lock:
        for t in toks:
            _id_to_text.setdefault(tok_id(t), t)
    return toks


def detokenize_ids(ids):
    """Token ids back to token texts. Ids are not unique, so this only works
    for ids the peer has produced before (first text seen wins)."""
    out = []
    for i in ids:
        if not isinstance(i, int) or isinstance(i, bool):
            raise BadRequest("token ids must be integers")
        t = _id_to_text.get(i)
        if t is None:
            raise BadRequest(f"token id {i} is unknown to this test peer "
                             "(send text, or ids it returned before)")
        out.append(t)
    return out


def seq_logprobs(tokens):
    """lp of each position of a sequence: None at 0, then -0.1*n - d."""
    seen, out = set(), []
    for i, t in enumerate(tokens):
        if i == 0:
            out.append(None)
        else:
            out.append(-0.1 * len(t) - (0.0 if t in seen else 1.0))
        seen.add(t)
    return out


def tok_bytes(t):
    return list(t.encode("utf-8"))


# --------------------------------------------------------------------------
# Directives
# --------------------------------------------------------------------------

RE_SAY = re.compile(r"\[\[say=(.*?)\]\]", re.S)
RE_PYES = re.compile(r"\[\[p_yes=([^\]]*)\]\]")
RE_NOYES = re.compile(r"\[\[no_yes\]\]")
RE_CLAMP = re.compile(r"\[\[clamp(?:=([^\]]*))?\]\]")
RE_SCORE = re.compile(r"\[\[score=([^\]]*)\]\]")
RE_DELAY = re.compile(r"\[\[delay_ms=(\d+)\]\]")
RE_STATUS = re.compile(r"\[\[status=(\d{3})\]\]")
RE_FAILFIRST = re.compile(r"\[\[fail_first=(\d+)\]\]")
RE_DROP = re.compile(r"\[\[drop\]\]")
RE_GARBAGE = re.compile(r"\[\[garbage\]\]")
RE_PAD = re.compile(r"\[\[pad_kb=(\d+)\]\]")

CLAMP = {"vllm": -9999.0, "sglang": -999999999.0,
         "llamacpp": -3.4028234663852886e+38,  # -FLT_MAX, llama.cpp's log(0)
         "tgi": -9999.0}
UNLISTED_LP = -20.0   # any token the toy model does not list at a position


def _float(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def judge_list(text, kind):
    """J: the alternatives at the first generated position, sorted."""
    p = 0.5
    m = RE_PYES.search(text)
    if m:
        v = _float(m.group(1))
        if v is not None and 0.0 < v < 1.0:
            p = v
    items = [("Yes", math.log(0.9 * p)), (" yes", math.log(0.1 * p)),
             ("No", math.log(1.0 - p)),
             ("Maybe", -12.0), ("The", -13.0), ("I", -14.0)]
    if RE_NOYES.search(text):
        items = [it for it in items if it[0] not in ("Yes", " yes")]
    m = RE_CLAMP.search(text)
    if m:
        v = CLAMP[kind]
        if m.group(1) is not None and _float(m.group(1)) is not None:
            v = _float(m.group(1))
        items.append(("Nope", v))
    items.sort(key=lambda it: -it[1])   # stable: ties keep the order above
    with _id_lock:
        for t, _ in items:
            _id_to_text.setdefault(tok_id(t), t)
    return items


OPTION_RE = re.compile(r"^[ \t]*([A-Z])\)[ \t]*(.*?)[ \t]*$", re.M)


def mc_answer(text):
    """The multiple-choice rule; None when the text is not multiple choice."""
    options = OPTION_RE.findall(text)
    low = text.lower()
    at = low.find("caption:")
    if len(options) < 2 or at < 0:
        return None
    caption = OPTION_RE.sub("", text[at + len("caption:"):]).lower()
    for letter, opt in options:
        opt = opt.strip().lower()
        if opt and opt in caption:
            return letter
    return "F"


class Gen:
    """A generation: tokens, their logprobs, J, finish ("length"/"stop")."""

    def __init__(self, tokens, lps, top0, finish):
        self.tokens, self.lps, self.top0, self.finish = tokens, lps, top0, finish
        self.text = "".join(tokens)
        self.ids = [tok_id(t) for t in tokens]

    def top_at(self, j, k):
        """Alternatives (token, lp) at generated position j, cut to k."""
        if k is None or k <= 0:
            return []
        if j == 0:
            return self.top0[:k]
        return [(self.tokens[j], self.lps[j])]


def generate(text, max_tokens, kind):
    """text: the model input text that carries the directives (last user
    message, or the prompt). max_tokens None = no limit."""
    J = judge_list(text, kind)
    m = RE_SAY.search(text)
    if m:
        out = m.group(1)
    else:
        out = mc_answer(text)
        if out is None:
            if RE_PYES.search(text) or RE_NOYES.search(text):
                out = J[0][0] if J else "Yes"
            else:
                out = "Yes"
    toks = tokenize(out)
    finish = "stop"
    if max_tokens is not None and len(toks) >= max_tokens:
        toks = toks[:max_tokens]
        finish = "length"
    jd = dict(J)
    seen, lps = set(), []
    for j, t in enumerate(toks):
        if j == 0 and t in jd:
            lps.append(jd[t])
        else:
            lps.append(-0.1 * len(t) - (0.0 if t in seen else 1.0))
        seen.add(t)
    return Gen(toks, lps, J, finish)


def score_of(text):
    m = RE_SCORE.search(text)
    if m and _float(m.group(1)) is not None:
        return _float(m.group(1))
    return len(text) / 100.0


def embed_words(words):
    v = [0.0] * 8
    for w in words:
        v[sum(ord(c) for c in w) % 8] += 1.0
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v


def text_words(text):
    return [t.lower()[1:] if t.startswith(" ") else t.lower()
            for t in TOKEN_RE.findall(text) if WORD_RE.search(t)]


def embed(texts=(), images=()):
    words = []
    for t in texts:
        words += text_words(t)
    for u in images:
        words.append(u.lower())
    return embed_words(words)


# --------------------------------------------------------------------------
# Chat template
# --------------------------------------------------------------------------

IMAGE_TYPES = ("image_url", "image", "input_image")


def _image_url(part):
    v = part.get(part.get("type"))
    if isinstance(v, dict):
        v = v.get("url")
    if not isinstance(v, str):
        raise BadRequest("image part without a url string")
    return v


def render_content(content, images=None, placeholder=True):
    """The text of a message content; image parts become "<image>" (or
    nothing when placeholder is False) and their URLs go to images."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise BadRequest("message content must be a string or a list of parts")
    out = []
    for part in content:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            if not isinstance(part.get("text"), str):
                raise BadRequest("text part without text")
            out.append(part["text"])
        elif isinstance(part, dict) and part.get("type") in IMAGE_TYPES:
            if images is not None:
                images.append(_image_url(part))
            if placeholder:
                out.append("<image>")
        else:
            raise BadRequest("unsupported content part")
    return "".join(out)


class Chat:
    """A templated conversation."""

    def __init__(self, messages, add_generation_prompt=True,
                 continue_final_message=False):
        if not isinstance(messages, list) or not messages:
            raise BadRequest("messages must be a non-empty list")
        parts, self.images, self.texts = [], [], []
        user_text = None
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise BadRequest("each message needs a role")
            text = render_content(m.get("content"), self.images)
            self.texts.append(render_content(m.get("content"), None, False))
            if m["role"] == "user":
                user_text = text
            last = i == len(messages) - 1
            if continue_final_message and last:
                if m["role"] != "assistant":
                    raise BadRequest("continue_final_message needs a final assistant message")
                parts.append(f"<|{m['role']}|>\n{text}")
            else:
                parts.append(f"<|{m['role']}|>\n{text}\n")
        if add_generation_prompt and not continue_final_message:
            parts.append("<|assistant|>\n")
        self.prompt = "".join(parts)
        self.directive_text = user_text if user_text is not None else self.prompt
        self.tokens = tokenize(self.prompt)


# --------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------

class BadRequest(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class Raw:
    """A response that is not a JSON object built by the peer."""

    def __init__(self, status, body=b"", ctype="application/json", headers=None):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers = headers or {}


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def get_int(d, key, default=None, lo=None):
    v = d.get(key, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadRequest(f"{key} must be an integer")
    if lo is not None and v < lo:
        raise BadRequest(f"{key} must be >= {lo}, got {v}")
    return v


def get_bool(d, key, default=False):
    v = d.get(key, default)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise BadRequest(f"{key} must be a boolean")
    return v


def now():
    return int(time.time())


def hexid():
    return uuid.uuid4().hex


def b64_floats(v):
    return base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode("ascii")


def embedding_value(vec, req):
    fmt = req.get("encoding_format", "float")
    if fmt in (None, "float"):
        return vec
    if fmt == "base64":
        return b64_floats(vec)
    raise BadRequest(f"unsupported encoding_format {fmt!r}")


PHRASE_TYPES = {400: "BadRequestError", 401: "AuthenticationError",
                403: "PermissionDeniedError", 404: "NotFoundError",
                408: "RequestTimeoutError", 422: "UnprocessableEntityError",
                429: "RateLimitError", 500: "InternalServerError",
                502: "BadGatewayError", 503: "ServiceUnavailableError",
                504: "GatewayTimeoutError"}


# --------------------------------------------------------------------------
# Server kinds
# --------------------------------------------------------------------------

class Kind:
    name = ""
    server_header = "lm_peer"

    def __init__(self, model, rm=False):
        self.model = model
        self.rm = rm
        self.routes = {}

    def model_of(self, req):
        m = req.get("model") if isinstance(req, dict) else None
        return m if isinstance(m, str) and m else self.model

    # error bodies; subclasses override
    def error(self, status, message, path):
        raise NotImplementedError

    def not_found(self, path):
        return Raw(404, jdump({"detail": "Not Found"}))

    def method_not_allowed(self, path):
        return Raw(405, jdump({"detail": "Method Not Allowed"}))

    def malformed(self, message, path):
        return self.error(400, message, path)

    def health(self, req):
        return Raw(200, b"", "text/plain")

    def models(self, req):
        return {"object": "list", "data": [{
            "id": self.model, "object": "model", "created": now(),
            "owned_by": self.name, "root": self.model, "parent": None,
            "max_model_len": MAX_MODEL_LEN}]}


# ---------------------------------------------------------------- vLLM

class Vllm(Kind):
    name = "vllm"
    server_header = "uvicorn"
    MAX_LOGPROBS = 20

    def __init__(self, model, rm=False):
        super().__init__(model, rm)
        self.routes = {
            ("GET", "/health"): self.health,
            ("GET", "/v1/models"): self.models,
            ("POST", "/v1/completions"): self.completions,
            ("POST", "/v1/chat/completions"): self.chat,
            ("POST", "/tokenize"): self.tokenize,
            ("POST", "/classify"): self.classify,
            ("POST", "/pooling"): self.pooling,
            ("POST", "/v1/embeddings"): self.embeddings,
        }

    def error(self, status, message, path):
        return Raw(status, jdump({"error": {
            "message": message, "type": PHRASE_TYPES.get(status, "Error"),
            "param": None, "code": status}}))

    def _cap(self, req, key):
        v = req.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > self.MAX_LOGPROBS:
            raise BadRequest(f"Requested {key} of {v}, which is greater than "
                             f"max allowed: {self.MAX_LOGPROBS}")

    @staticmethod
    def _usage(p, c):
        return {"prompt_tokens": p, "total_tokens": p + c,
                "completion_tokens": c, "prompt_tokens_details": None}

    @staticmethod
    def _prompt_logprobs(tokens, lps):
        return [None if lp is None else
                {str(tok_id(t)): {"logprob": lp, "rank": 1, "decoded_token": t}}
                for t, lp in zip(tokens, lps)]

    def _max_tokens(self, req):
        mt = req.get("max_completion_tokens")
        if mt is None:
            mt = req.get("max_tokens")
        if mt is not None and (isinstance(mt, bool) or not isinstance(mt, int) or mt < 0):
            raise BadRequest("max_tokens must be a non-negative integer")
        return mt

    def _prompts(self, req):
        p = req.get("prompt")
        if isinstance(p, str):
            return [p]
        if isinstance(p, list) and p:
            if all(isinstance(x, str) for x in p):
                return p
            if all(isinstance(x, int) and not isinstance(x, bool) for x in p):
                return ["".join(detokenize_ids(p))]
            if all(isinstance(x, list) for x in p):
                return ["".join(detokenize_ids(x)) for x in p]
        raise BadRequest("prompt must be a string, a list of strings or token ids")

    def completions(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        prompts = self._prompts(req)
        echo = get_bool(req, "echo")
        k = get_int(req, "logprobs", None, 0)
        plp = get_int(req, "prompt_logprobs", None, 0)
        rti = get_bool(req, "return_token_ids")
        self._cap(req, "logprobs")
        self._cap(req, "prompt_logprobs")
        mt = self._max_tokens(req)
        if mt == 0 and not echo:
            raise BadRequest("max_tokens must be at least 1, got 0.")
        choices, ptot, ctot = [], 0, 0
        for idx, prompt in enumerate(prompts):
            ptoks = tokenize(prompt)
            plps = seq_logprobs(ptoks)
            gen = generate(prompt, mt, self.name)
            ptot += len(ptoks)
            ctot += len(gen.tokens)
            logprobs = None
            if k is not None:
                toks, lps, tops, offs, off = [], [], [], [], 0
                if echo:
                    for t, lp in zip(ptoks, plps):
                        toks.append(t)
                        lps.append(lp)
                        tops.append(None if lp is None else {t: lp})
                        offs.append(off)
                        off += len(t)
                for j, (t, lp) in enumerate(zip(gen.tokens, gen.lps)):
                    top = {tt: ll for tt, ll in gen.top_at(j, k)}
                    top.setdefault(t, lp)
                    toks.append(t)
                    lps.append(lp)
                    tops.append(top)
                    offs.append(off)
                    off += len(t)
                logprobs = {"text_offset": offs, "token_logprobs": lps,
                            "tokens": toks, "top_logprobs": tops}
            choices.append({
                "index": idx,
                "text": (prompt if echo else "") + gen.text,
                "logprobs": logprobs,
                "finish_reason": gen.finish,
                "stop_reason": None,
                "token_ids": gen.ids if rti else None,
                "prompt_logprobs": self._prompt_logprobs(ptoks, plps) if plp is not None else None,
                "prompt_token_ids": [tok_id(t) for t in ptoks] if rti else None,
            })
        return {"id": "cmpl-" + hexid(), "object": "text_completion",
                "created": now(), "model": self.model_of(req),
                "choices": choices, "service_tier": None,
                "system_fingerprint": None, "usage": self._usage(ptot, ctot),
                "kv_transfer_params": None}

    def _chat_of(self, req):
        agp = req.get("add_generation_prompt", True)
        cfm = req.get("continue_final_message", False)
        if agp and cfm:
            raise BadRequest("Cannot set both `continue_final_message` and "
                             "`add_generation_prompt` to True.")
        return Chat(req.get("messages"), bool(agp), bool(cfm))

    def chat(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        want_lp = get_bool(req, "logprobs")
        k = get_int(req, "top_logprobs", None, 0)
        if k is not None and not want_lp:
            raise BadRequest("when using `top_logprobs`, `logprobs` must be set to true.")
        plp = get_int(req, "prompt_logprobs", None, 0)
        rti = get_bool(req, "return_token_ids")
        self._cap(req, "top_logprobs")
        self._cap(req, "prompt_logprobs")
        chat = self._chat_of(req)
        gen = generate(chat.directive_text, self._max_tokens(req), self.name)
        logprobs = None
        if want_lp:
            content = []
            for j, (t, lp) in enumerate(zip(gen.tokens, gen.lps)):
                content.append({
                    "token": t, "logprob": max(lp, -9999.0), "bytes": tok_bytes(t),
                    "top_logprobs": [{"token": tt, "logprob": max(ll, -9999.0),
                                      "bytes": tok_bytes(tt)}
                                     for tt, ll in gen.top_at(j, k or 0)]})
            logprobs = {"content": content}
        ptoks = chat.tokens
        return {
            "id": "chatcmpl-" + hexid(), "object": "chat.completion",
            "created": now(), "model": self.model_of(req),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": gen.text,
                            "refusal": None, "annotations": None, "audio": None,
                            "function_call": None, "tool_calls": [],
                            "reasoning_content": None},
                "logprobs": logprobs, "finish_reason": gen.finish,
                "stop_reason": None,
                "token_ids": gen.ids if rti else None}],
            "service_tier": None, "system_fingerprint": None,
            "usage": self._usage(len(ptoks), len(gen.tokens)),
            "prompt_logprobs": (self._prompt_logprobs(ptoks, seq_logprobs(ptoks))
                                if plp is not None else None),
            "prompt_token_ids": [tok_id(t) for t in ptoks] if rti else None,
            "kv_transfer_params": None}

    def tokenize(self, req):
        if "messages" in req:
            toks = self._chat_of(req).tokens
        elif isinstance(req.get("prompt"), str):
            toks = tokenize(req["prompt"])
        else:
            raise BadRequest("tokenize needs prompt (string) or messages")
        return {"count": len(toks), "max_model_len": MAX_MODEL_LEN,
                "tokens": [tok_id(t) for t in toks], "token_strs": None}

    @staticmethod
    def _inputs(req):
        x = req.get("input")
        if isinstance(x, str):
            return [x]
        if isinstance(x, list) and x and all(isinstance(s, str) for s in x):
            return x
        if isinstance(x, list) and x and all(isinstance(s, int) and not isinstance(s, bool) for s in x):
            return ["".join(detokenize_ids(x))]
        if isinstance(x, list) and x and all(isinstance(s, list) for s in x):
            return ["".join(detokenize_ids(s)) for s in x]
        raise BadRequest("input must be a string or a list of strings")

    @staticmethod
    def _activation(req):
        for key in ("use_activation", "activation"):
            if req.get(key) is not None:
                if not isinstance(req[key], bool):
                    raise BadRequest(f"{key} must be a boolean")
                return req[key]
        return True   # vLLM's default for classify: softmax

    @staticmethod
    def _probs(s, act):
        if not act:
            return [0.0, s]
        # softmax of the logits [0, s]
        if s >= 0:
            e = math.exp(-s)
            return [e / (1.0 + e), 1.0 / (1.0 + e)]
        e = math.exp(s)
        return [1.0 / (1.0 + e), e / (1.0 + e)]

    def classify(self, req):
        texts = self._inputs(req)
        act = self._activation(req)
        data, ntok = [], 0
        for i, t in enumerate(texts):
            s = score_of(t)
            ntok += len(tokenize(t))
            data.append({"index": i, "label": "LABEL_1" if s > 0 else "LABEL_0",
                         "probs": self._probs(s, act), "num_classes": 2})
        return {"id": "classify-" + hexid(), "object": "list", "created": now(),
                "model": self.model_of(req), "data": data,
                "usage": self._usage(ntok, 0)}

    def pooling(self, req):
        task = req.get("task", "classify")
        if "messages" in req:
            chat = Chat(req["messages"], bool(req.get("add_generation_prompt", False)))
            items = [(chat.prompt, chat.texts, chat.images)]
        else:
            items = [(t, [t], []) for t in self._inputs(req)]
        act = self._activation(req)
        data, ntok = [], 0
        for i, (text, texts, images) in enumerate(items):
            ntok += len(tokenize(text))
            if task == "classify":
                vec = self._probs(score_of(text), act)
            elif task == "embed":
                vec = embed(texts, images)
            else:
                raise BadRequest(f"task {task!r} is not supported by this test peer "
                                 "(classify, embed)")
            data.append({"index": i, "object": "pooling", "data": vec})
        return {"id": "pool-" + hexid(), "object": "list", "created": now(),
                "model": self.model_of(req), "data": data,
                "usage": self._usage(ntok, 0)}

    def embeddings(self, req):
        if "messages" in req:
            chat = Chat(req["messages"], bool(req.get("add_generation_prompt", False)))
            vecs = [embed(chat.texts, chat.images)]
            ntok = len(chat.tokens)
        else:
            texts = self._inputs(req)
            vecs = [embed([t]) for t in texts]
            ntok = sum(len(tokenize(t)) for t in texts)
        return {"id": "embd-" + hexid(), "object": "list", "created": now(),
                "model": self.model_of(req),
                "data": [{"index": i, "object": "embedding",
                          "embedding": embedding_value(v, req)}
                         for i, v in enumerate(vecs)],
                "usage": self._usage(ntok, 0)}


# ---------------------------------------------------------------- SGLang

class Sglang(Kind):
    name = "sglang"
    server_header = "uvicorn"

    def __init__(self, model, rm=False):
        super().__init__(model, rm)
        self.routes = {
            ("GET", "/health"): self.health,
            ("GET", "/health_generate"): self.health,
            ("GET", "/v1/models"): self.models,
            ("POST", "/generate"): self.generate,
            ("POST", "/v1/chat/completions"): self.chat,
            ("POST", "/classify"): self.classify,
            ("POST", "/v1/embeddings"): self.embeddings,
        }

    def error(self, status, message, path):
        if path.startswith("/v1/"):
            return Raw(status, jdump({"object": "error", "message": message,
                                      "type": PHRASE_TYPES.get(status, "Error"),
                                      "param": None, "code": status}))
        return Raw(status, jdump({"error": {"message": message}}))

    def malformed(self, message, path):
        # FastAPI request validation, rewritten by SGLang's handler
        return Raw(400, jdump({"object": "error", "message": message,
                               "type": "Bad Request", "param": None, "code": 400}))

    @staticmethod
    def _triple(lp, t, with_text):
        return [lp, tok_id(t), t if with_text else None]

    def _texts(self, req):
        """[(text, is_batch)]"""
        text, ids = req.get("text"), req.get("input_ids")
        if isinstance(text, str):
            return [text], False
        if isinstance(text, list) and text and all(isinstance(s, str) for s in text):
            return text, True
        if isinstance(ids, list) and ids:
            if all(isinstance(x, list) for x in ids):
                return ["".join(detokenize_ids(x)) for x in ids], True
            return ["".join(detokenize_ids(ids))], False
        raise BadRequest("Either text, input_ids or input_embeds should be provided.")

    @staticmethod
    def _per(v, i):
        return v[i] if isinstance(v, list) else v

    def generate(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        texts, batch = self._texts(req)
        out = []
        for i, text in enumerate(texts):
            sp = self._per(req.get("sampling_params") or {}, i) or {}
            if not isinstance(sp, dict):
                raise BadRequest("sampling_params must be an object")
            mt = get_int(sp, "max_new_tokens", 128, 0)
            rl = bool(self._per(req.get("return_logprob", False), i))
            start = self._per(req.get("logprob_start_len", -1), i)
            topn = self._per(req.get("top_logprobs_num", 0), i) or 0
            ids_lp = req.get("token_ids_logprob")
            if isinstance(ids_lp, list) and ids_lp and isinstance(ids_lp[0], list):
                ids_lp = ids_lp[i]          # one list per batch item
            rtext = bool(req.get("return_text_in_logprobs", False))
            if not isinstance(start, int) or not isinstance(topn, int):
                raise BadRequest("logprob_start_len and top_logprobs_num must be integers")
            ptoks = tokenize(text)
            gen = generate(text, mt, self.name)
            meta = {"id": hexid(),
                    "finish_reason": ({"type": "length", "length": mt}
                                      if gen.finish == "length"
                                      else {"type": "stop", "matched": EOS_ID}),
                    "prompt_tokens": len(ptoks), "weight_version": "default",
                    "completion_tokens": len(gen.tokens), "cached_tokens": 0,
                    "e2e_latency": 0.001}
            if rl:
                plps = seq_logprobs(ptoks)
                s = len(ptoks) if start < 0 else min(start, len(ptoks))
                rng = range(s, len(ptoks))
                meta["input_token_logprobs"] = [self._triple(plps[p], ptoks[p], rtext) for p in rng]
                meta["output_token_logprobs"] = [self._triple(lp, t, rtext)
                                                 for t, lp in zip(gen.tokens, gen.lps)]
                if topn > 0:
                    meta["input_top_logprobs"] = [
                        None if plps[p] is None else [self._triple(plps[p], ptoks[p], rtext)]
                        for p in rng]
                    meta["output_top_logprobs"] = [
                        [self._triple(ll, tt, rtext) for tt, ll in gen.top_at(j, topn)]
                        for j in range(len(gen.tokens))]
                if ids_lp is not None:
                    if not isinstance(ids_lp, list) or not all(isinstance(x, int) for x in ids_lp):
                        raise BadRequest("token_ids_logprob must be a list of integers")

                    def lp_for(tid, pos_tok, pos_lp, alts):
                        for tt, ll in alts:
                            if tok_id(tt) == tid:
                                return ll
                        if pos_tok is not None and tok_id(pos_tok) == tid:
                            return pos_lp
                        return UNLISTED_LP

                    def text_of(tid):
                        return _id_to_text.get(tid) if rtext else None

                    meta["input_token_ids_logprobs"] = [
                        None if plps[p] is None else
                        [[lp_for(tid, ptoks[p], plps[p], []), tid, text_of(tid)] for tid in ids_lp]
                        for p in rng]
                    meta["output_token_ids_logprobs"] = [
                        [[lp_for(tid, gen.tokens[j], gen.lps[j], gen.top_at(j, 100)), tid,
                          text_of(tid)] for tid in ids_lp]
                        for j in range(len(gen.tokens))]
            out.append({"text": gen.text, "meta_info": meta})
        return out if batch else out[0]

    def chat(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        want_lp = get_bool(req, "logprobs")
        k = get_int(req, "top_logprobs", None, 0)
        cfm = bool(req.get("continue_final_message", False))
        chat = Chat(req.get("messages"), bool(req.get("add_generation_prompt", True)), cfm)
        mt = req.get("max_completion_tokens", req.get("max_tokens"))
        if mt is not None and (isinstance(mt, bool) or not isinstance(mt, int) or mt < 0):
            raise BadRequest("max_tokens must be a non-negative integer")
        gen = generate(chat.directive_text, mt, self.name)
        logprobs = None
        if want_lp:
            logprobs = {"content": [
                {"token": t, "bytes": tok_bytes(t), "logprob": lp,
                 "top_logprobs": [{"token": tt, "bytes": tok_bytes(tt), "logprob": ll}
                                  for tt, ll in gen.top_at(j, k or 0)]}
                for j, (t, lp) in enumerate(zip(gen.tokens, gen.lps))]}
        p, c = len(chat.tokens), len(gen.tokens)
        return {"id": hexid(), "object": "chat.completion", "created": now(),
                "model": self.model_of(req),
                "choices": [{"index": 0,
                             "message": {"role": "assistant", "content": gen.text,
                                         "reasoning_content": None, "tool_calls": None},
                             "logprobs": logprobs, "finish_reason": gen.finish,
                             "matched_stop": EOS_ID if gen.finish == "stop" else None}],
                "usage": {"prompt_tokens": p, "total_tokens": p + c,
                          "completion_tokens": c, "prompt_tokens_details": None,
                          "reasoning_tokens": 0},
                "metadata": {"weight_version": "default"}}

    def classify(self, req):
        texts, batch = self._texts(req)
        out = [{"embedding": [score_of(t)],
                "meta_info": {"id": hexid(), "prompt_tokens": len(tokenize(t)),
                              "weight_version": "default", "e2e_latency": 0.001}}
               for t in texts]
        return out if batch else out[0]

    def embeddings(self, req):
        x = req.get("input")
        items = []   # (texts, images)
        if isinstance(x, str):
            items = [([x], [])]
        elif isinstance(x, dict):
            x = [x]
        if isinstance(x, list) and x:
            if all(isinstance(s, str) for s in x):
                items = [([s], []) for s in x]
            elif all(isinstance(s, int) and not isinstance(s, bool) for s in x):
                items = [(["".join(detokenize_ids(x))], [])]
            elif all(isinstance(s, list) for s in x):
                items = [(["".join(detokenize_ids(s))], []) for s in x]
            elif all(isinstance(s, dict) for s in x):
                for s in x:
                    t, im = s.get("text"), s.get("image")
                    if (t is not None and not isinstance(t, str)) or \
                       (im is not None and not isinstance(im, str)) or (t is None and im is None):
                        raise BadRequest("each multimodal input needs text and/or image strings")
                    items.append(([t] if t else [], [im] if im else []))
        if not items:
            raise BadRequest("input must be a string, a list of strings, token ids, "
                             "or {text, image} objects")
        data, ntok = [], 0
        for i, (texts, images) in enumerate(items):
            ntok += sum(len(tokenize(t)) for t in texts) + len(images)
            vec = [score_of("".join(texts))] if self.rm else embed(texts, images)
            data.append({"embedding": embedding_value(vec, req), "index": i,
                         "object": "embedding"})
        return {"data": data, "model": self.model_of(req), "object": "list",
                "usage": {"prompt_tokens": ntok, "completion_tokens": 0,
                          "total_tokens": ntok, "prompt_tokens_details": None}}


# ---------------------------------------------------------------- llama.cpp

LLAMA_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               404: "not_found_error", 500: "server_error",
               501: "not_supported_error", 503: "unavailable_error"}


class LlamaRuntimeError(BadRequest):
    """A std::runtime_error in llama.cpp's handlers: reported as 500."""

    def __init__(self, message):
        super().__init__(message, 500)


class Llamacpp(Kind):
    name = "llamacpp"
    server_header = "llama.cpp"

    def __init__(self, model, rm=False):
        super().__init__(model, rm)
        self.routes = {
            ("GET", "/health"): self.health,
            ("GET", "/v1/health"): self.health,
            ("GET", "/v1/models"): self.models,
            ("GET", "/models"): self.models,
            ("POST", "/completion"): self.completion,
            ("POST", "/completions"): self.completion,
            ("POST", "/v1/completions"): self.oai_completions,
            ("POST", "/v1/chat/completions"): self.chat,
            ("POST", "/chat/completions"): self.chat,
            ("POST", "/v1/embeddings"): self.embeddings,
        }

    def error(self, status, message, path):
        return Raw(status, jdump({"error": {
            "code": status, "message": message,
            "type": LLAMA_TYPES.get(status, "server_error")}}))

    def not_found(self, path):
        return self.error(404, "File Not Found", path)

    def method_not_allowed(self, path):
        return self.error(404, "File Not Found", path)

    def malformed(self, message, path):
        # json::parse throws a std::exception that is not invalid_argument
        return self.error(500, "[json.exception.parse_error.101] parse error: " + message, path)

    def health(self, req):
        return {"status": "ok"}

    @staticmethod
    def _timings(p, c):
        return {"cache_n": 0, "prompt_n": p, "prompt_ms": 0.1,
                "prompt_per_token_ms": 0.1 / max(p, 1), "prompt_per_second": 10000.0 * p,
                "predicted_n": c, "predicted_ms": 0.1,
                "predicted_per_token_ms": 0.1 / max(c, 1), "predicted_per_second": 10000.0 * c}

    @staticmethod
    def _probs(gen, n_probs, post):
        key, topkey = ("prob", "top_probs") if post else ("logprob", "top_logprobs")

        def val(lp):
            return math.exp(lp) if post else lp

        out = []
        for j, (t, lp) in enumerate(zip(gen.tokens, gen.lps)):
            out.append({"id": tok_id(t), "token": t, "bytes": tok_bytes(t), key: val(lp),
                        topkey: [{"id": tok_id(tt), "token": tt, "bytes": tok_bytes(tt),
                                  key: val(ll)} for tt, ll in gen.top_at(j, n_probs)]})
        return out

    def _prompt_text(self, p):
        if isinstance(p, str):
            return p
        if isinstance(p, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in p):
            return "".join(detokenize_ids(p))
        if isinstance(p, dict) and isinstance(p.get("prompt_string"), str):
            return p["prompt_string"]
        raise LlamaRuntimeError("\"prompt\" must be a string, a list of tokens, "
                                "or a multimodal prompt object")

    def _run(self, text, req, n_predict):
        n_probs = get_int(req, "n_probs", 0, 0)
        gen = generate(text, None if n_predict < 0 else n_predict, self.name)
        return gen, n_probs

    def completion(self, req):
        if "prompt" not in req:
            raise LlamaRuntimeError("\"prompt\" is required")
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        text = self._prompt_text(req["prompt"])
        n_predict = get_int(req, "n_predict", -1)
        gen, n_probs = self._run(text, req, n_predict)
        post = get_bool(req, "post_sampling_probs")
        ptoks = tokenize(text)
        res = {"index": 0, "content": gen.text,
               "tokens": gen.ids if get_bool(req, "return_tokens") else [],
               "id_slot": 0, "stop": True, "model": self.model_of(req),
               "tokens_predicted": len(gen.tokens), "tokens_evaluated": len(ptoks),
               "generation_settings": {"n_predict": n_predict, "n_probs": n_probs,
                                       "temperature": req.get("temperature", 0.8),
                                       "post_sampling_probs": post},
               "prompt": text, "has_new_line": "\n" in gen.text, "truncated": False,
               "stop_type": "limit" if gen.finish == "length" else "eos",
               "stopping_word": "", "tokens_cached": len(ptoks) + len(gen.tokens),
               "timings": self._timings(len(ptoks), len(gen.tokens))}
        if n_probs > 0 and gen.tokens:
            res["completion_probabilities"] = self._probs(gen, n_probs, post)
        return res

    def oai_completions(self, req):
        if "prompt" not in req:
            raise LlamaRuntimeError("\"prompt\" is required")
        if get_int(req, "n", 1) != 1:
            raise LlamaRuntimeError("Only one completion choice is allowed")
        if req.get("echo"):
            raise LlamaRuntimeError("Only no echo is supported")
        for p in ("best_of", "suffix"):
            if p in req:
                raise LlamaRuntimeError("Unsupported param: " + p)
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        text = self._prompt_text(req["prompt"])
        n_predict = req.get("n_predict", req.get("max_tokens"))
        n_predict = -1 if n_predict is None else n_predict
        if not isinstance(n_predict, int):
            raise BadRequest("max_tokens must be an integer")
        n_probs = req.get("n_probs", req.get("logprobs") or 0)
        if not isinstance(n_probs, int) or isinstance(n_probs, bool):
            raise BadRequest("logprobs must be an integer")
        gen = generate(text, None if n_predict < 0 else n_predict, self.name)
        ptoks = tokenize(text)
        lp = {"content": self._probs(gen, n_probs, False)} if n_probs > 0 and gen.tokens else None
        p, c = len(ptoks), len(gen.tokens)
        return {"choices": [{"text": gen.text, "index": 0, "logprobs": lp,
                             "finish_reason": gen.finish}],
                "created": now(), "model": self.model_of(req),
                "system_fingerprint": "b0000-lmpeer", "object": "text_completion",
                "usage": {"completion_tokens": c, "prompt_tokens": p, "total_tokens": p + c},
                "id": "cmpl-" + hexid(), "timings": self._timings(p, c)}

    def chat(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer")
        if req.get("logprobs"):
            n_probs = req.get("top_logprobs", 20)
            if n_probs is None:
                n_probs = 20
        elif req.get("top_logprobs") is not None:
            raise BadRequest("top_logprobs requires logprobs to be set to true")
        else:
            n_probs = 0
        if not isinstance(n_probs, int) or isinstance(n_probs, bool):
            raise BadRequest("top_logprobs must be an integer")
        chat = Chat(req.get("messages"), bool(req.get("add_generation_prompt", True)),
                    bool(req.get("continue_final_message", False)))
        n_predict = req.get("n_predict", req.get("max_completion_tokens", req.get("max_tokens")))
        n_predict = -1 if n_predict is None else n_predict
        if not isinstance(n_predict, int):
            raise BadRequest("max_tokens must be an integer")
        gen = generate(chat.directive_text, None if n_predict < 0 else n_predict, self.name)
        choice = {"finish_reason": gen.finish, "index": 0,
                  "message": {"role": "assistant", "content": gen.text}}
        if n_probs > 0 and gen.tokens:
            choice["logprobs"] = {"content": self._probs(gen, n_probs, False)}
        p, c = len(chat.tokens), len(gen.tokens)
        return {"choices": [choice], "created": now(), "model": self.model_of(req),
                "system_fingerprint": "b0000-lmpeer", "object": "chat.completion",
                "usage": {"completion_tokens": c, "prompt_tokens": p, "total_tokens": p + c},
                "id": "chatcmpl-" + hexid(), "timings": self._timings(p, c)}

    def embeddings(self, req):
        x = req.get("input", req.get("content"))
        if x is None:
            raise BadRequest("\"input\" must be provided")
        if isinstance(x, (str, dict)):
            x = [x]
        if not isinstance(x, list) or not x:
            raise BadRequest("input must be a string, a list, or {content: [parts]}")
        if all(isinstance(s, int) and not isinstance(s, bool) for s in x):
            x = ["".join(detokenize_ids(x))]
        items = []
        for s in x:
            if isinstance(s, str):
                items.append(([s], []))
            elif isinstance(s, list):
                items.append((["".join(detokenize_ids(s))], []))
            elif isinstance(s, dict) and isinstance(s.get("content"), list):
                imgs = []
                items.append(([render_content(s["content"], imgs, False)], imgs))
            elif isinstance(s, dict) and isinstance(s.get("prompt_string"), str):
                items.append(([s["prompt_string"]], []))
            else:
                raise BadRequest("unsupported embedding input")
        data, ntok = [], 0
        for i, (texts, images) in enumerate(items):
            ntok += sum(len(tokenize(t)) for t in texts) + len(images)
            data.append({"embedding": embedding_value(embed(texts, images), req),
                         "index": i, "object": "embedding"})
        return {"model": self.model_of(req), "object": "list",
                "usage": {"prompt_tokens": ntok, "total_tokens": ntok}, "data": data}


# ---------------------------------------------------------------- TGI

TGI_TYPES = {400: "validation", 422: "validation", 424: "generation",
             429: "overloaded", 500: "incomplete_generation", 503: "unhealthy"}


class Tgi(Kind):
    name = "tgi"
    server_header = None   # axum sets no Server header
    MAX_TOP_N = 5

    def __init__(self, model, rm=False):
        super().__init__(model, rm)
        self.routes = {
            ("GET", "/health"): self.health,
            ("GET", "/info"): self.info,
            ("GET", "/v1/models"): self.models,
            ("POST", "/generate"): self.generate,
            ("POST", "/v1/chat/completions"): self.chat,
        }

    def error(self, status, message, path):
        if status == 400:
            status = 422  # TGI reports request validation as 422
        return Raw(status, jdump({"error": message,
                                  "error_type": TGI_TYPES.get(status, "unknown")}))

    def not_found(self, path):
        return Raw(404, b"", "text/plain")

    def method_not_allowed(self, path):
        return Raw(405, b"", "text/plain")

    def malformed(self, message, path):
        return Raw(400, ("Failed to parse the request body as JSON: " + message).encode(),
                   "text/plain; charset=utf-8")

    def info(self, req):
        return {"model_id": self.model, "model_sha": None, "model_pipeline_tag": None,
                "max_concurrent_requests": 128, "max_best_of": 2,
                "max_stop_sequences": 4, "max_input_tokens": MAX_MODEL_LEN - 1,
                "max_total_tokens": MAX_MODEL_LEN, "validation_workers": 2,
                "max_client_batch_size": 4, "router": "text-generation-router",
                "version": "lm_peer"}

    def _validate(self, mt, topn):
        if mt is not None and (isinstance(mt, bool) or not isinstance(mt, int)):
            raise BadRequest("Input validation error: `max_new_tokens` must be an integer", 422)
        if mt is not None and mt <= 0:
            raise BadRequest("Input validation error: `max_new_tokens` must be strictly positive", 422)
        if topn is not None and (isinstance(topn, bool) or not isinstance(topn, int)
                                 or topn < 0 or topn > self.MAX_TOP_N):
            raise BadRequest(f"Input validation error: `top_n_tokens` must be >= 0 and "
                             f"<= {self.MAX_TOP_N}. Given: {topn}", 422)

    @staticmethod
    def _token(t, lp):
        return {"id": tok_id(t), "text": t, "logprob": lp, "special": False}

    def generate(self, req):
        inputs = req.get("inputs")
        if not isinstance(inputs, str):
            raise BadRequest("Failed to deserialize the JSON body into the target type: "
                             "missing field `inputs`", 422)
        prm = req.get("parameters") or {}
        if not isinstance(prm, dict):
            raise BadRequest("parameters must be an object", 422)
        mt = prm.get("max_new_tokens")
        topn = prm.get("top_n_tokens")
        self._validate(mt, topn)
        if req.get("stream"):
            raise BadRequest("Input validation error: use /generate_stream to stream", 422)
        ptoks = tokenize(inputs)
        gen = generate(inputs, mt, self.name)
        res = {"generated_text": gen.text}
        if prm.get("details"):
            seq = [BOS_TEXT] + ptoks
            lps = seq_logprobs(seq)
            prefill = []
            if prm.get("decoder_input_details"):
                prefill = [{"id": BOS_ID if p == 0 else tok_id(t), "text": t, "logprob": lp}
                           for p, (t, lp) in enumerate(zip(seq, lps))]
            details = {"finish_reason": "length" if gen.finish == "length" else "eos_token",
                       "generated_tokens": len(gen.tokens), "seed": None,
                       "prefill": prefill,
                       "tokens": [self._token(t, lp) for t, lp in zip(gen.tokens, gen.lps)]}
            if topn:
                details["top_tokens"] = [[self._token(tt, ll) for tt, ll in gen.top_at(j, topn)]
                                         for j in range(len(gen.tokens))]
            res["details"] = details
        return Raw(200, jdump(res), headers={"x-prompt-tokens": str(len(ptoks) + 1),
                                             "x-generated-tokens": str(len(gen.tokens))})

    def chat(self, req):
        if req.get("stream"):
            raise BadRequest("stream is not supported by this test peer", 422)
        want_lp = bool(req.get("logprobs"))
        k = req.get("top_logprobs")
        mt = req.get("max_tokens", req.get("max_completion_tokens"))
        self._validate(mt, k)
        chat = Chat(req.get("messages"), True, bool(req.get("continue_final_message", False)))
        gen = generate(chat.directive_text, mt, self.name)
        logprobs = None
        if want_lp:
            logprobs = {"content": [
                {"token": t, "logprob": lp,
                 "top_logprobs": [{"token": tt, "logprob": ll}
                                  for tt, ll in gen.top_at(j, k or 0)]}
                for j, (t, lp) in enumerate(zip(gen.tokens, gen.lps))]}
        p, c = len(chat.tokens) + 1, len(gen.tokens)   # + BOS
        return {"object": "chat.completion", "id": "", "created": now(),
                "model": self.model_of(req), "system_fingerprint": "lm_peer-native",
                "choices": [{"index": 0,
                             "message": {"role": "assistant", "content": gen.text},
                             "logprobs": logprobs, "finish_reason": gen.finish}],
                "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}}


KINDS = {"vllm": Vllm, "sglang": Sglang, "llamacpp": Llamacpp, "tgi": Tgi}


# --------------------------------------------------------------------------
# Stats and fault counters
# --------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.by_path = {}
            self.faults = 0
            self.fail_counts = {}

    def count(self, path):
        with self.lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def fault(self):
        with self.lock:
            self.faults += 1

    def fail_first(self, body, n):
        """True when this request (the k-th with this exact body) must fail."""
        key = hashlib.sha256(body).hexdigest()
        with self.lock:
            k = self.fail_counts.get(key, 0) + 1
            self.fail_counts[key] = k
            return k <= n

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_path": dict(self.by_path),
                    "faults": self.faults}


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

GARBAGE = b"<html><body>502 upstream said: this is not JSON {\"oops\": </body></html>\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    kind = None      # set on the class by main()
    stats = None
    verbose = False

    def version_string(self):
        return self.kind.server_header or ""

    def send_response(self, code, message=None):
        # like the base class, but without a Server header when the kind has none
        self.log_request(code)
        self.send_response_only(code, message)
        if self.kind.server_header:
            self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("lm_peer: " + (fmt % args) + "\n")

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_DELETE(self):
        self._serve("DELETE")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:   # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        n = int(n)
        if n < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(n)

    def _write(self, r):
        if not isinstance(r, Raw):
            r = Raw(200, jdump(r))
        self.send_response(r.status)
        if r.body or r.ctype != "text/plain":
            self.send_header("Content-Type", r.ctype)
        for k, v in r.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        if self.command != "HEAD" and r.body:
            self.wfile.write(r.body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _serve(self, method):
        path = urlsplit(self.path).path
        kind, stats = self.kind, self.stats
        try:
            body = self._read_body()
        except (ValueError, ConnectionError):
            self.close_connection = True
            self._write(kind.malformed("unreadable request body", path))
            return
        # peer control endpoints: not counted, no faults
        if path == "/peer/stats" and method == "GET":
            self._write(stats.snapshot())
            return
        if path == "/peer/reset" and method == "POST":
            stats.reset()
            self._write({"ok": True})
            return
        stats.count(path)
        raw = body.decode("utf-8", "replace")
        m = RE_DELAY.search(raw)
        if m:
            time.sleep(int(m.group(1)) / 1000.0)
        if RE_DROP.search(raw):
            stats.fault()
            self._drop()
            return
        m = RE_STATUS.search(raw)
        if m:
            stats.fault()
            code = int(m.group(1))
            self._write(kind.error(code, f"lm_peer: injected status {code}", path))
            return
        m = RE_FAILFIRST.search(raw)
        if m and stats.fail_first(body, int(m.group(1))):
            stats.fault()
            self._write(kind.error(503, "lm_peer: injected failure (fail_first)", path))
            return
        if RE_GARBAGE.search(raw):
            stats.fault()
            self._write(Raw(200, GARBAGE, "application/json"))
            return
        route = kind.routes.get((method, path))
        if route is None:
            if any(p == path for (_, p) in kind.routes):
                self._write(kind.method_not_allowed(path))
            else:
                self._write(kind.not_found(path))
            return
        req = {}
        if method != "GET":
            try:
                req = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                self._write(kind.malformed(str(e), path))
                return
            if not isinstance(req, dict):
                self._write(kind.error(400, "request body must be a JSON object", path))
                return
        try:
            res = route(req)
        except BadRequest as e:
            res = kind.error(e.status, str(e), path)
        except Exception as e:  # a bug in the peer: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            res = kind.error(500, f"lm_peer internal error: {e!r}", path)
        m = RE_PAD.search(raw)
        if m:  # a valid reply made huge by trailing whitespace
            if not isinstance(res, Raw):
                res = Raw(200, jdump(res))
            res = Raw(res.status, res.body + b" " * (int(m.group(1)) * 1024), res.ctype)
        self._write(res)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that goes away mid-request is normal in fault tests
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Deterministic LM test peer "
                                 "(see tests/peer/README.md)")
    ap.add_argument("--kind", required=True, choices=sorted(KINDS))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--model", default="toy",
                    help="served model name (echoed when a request names none)")
    ap.add_argument("--rm", action="store_true",
                    help="sglang: /v1/embeddings returns the reward score [s] "
                         "(an SGLang reward model) instead of 8-d embeddings")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    a = ap.parse_args(argv)

    Handler.kind = KINDS[a.kind](a.model, a.rm)
    Handler.stats = Stats()
    Handler.verbose = a.verbose
    srv = Server((a.host, a.port), Handler)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"READY {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

/*
 * wire.c - JSON request bodies and response parsers for vLLM, SGLang,
 * llama.cpp server and TGI (wire.h; formats in docs/rewards/model.md).
 *
 * Every response field's type is checked and named in errors ("vLLM
 * /v1/completions: choices[0].logprobs.tokens is not an array (got
 * string)"); returned strings are copied into the caller's arena.
 * Not for: HTTP, retries or caching (client.c), nor the arithmetic on
 * what is parsed here (formulas.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "model/wire.h"

/* Responses nest at most a few levels; anything deeper is not a server. */
#define WIRE_MAX_DEPTH 64

/* ------------------------------------------------------------ servers */

const char *rk__srv_name(rk__srv s) {
  switch (s) {
  case RK__SRV_VLLM: return "vllm";
  case RK__SRV_SGLANG: return "sglang";
  case RK__SRV_LLAMACPP: return "llamacpp";
  case RK__SRV_TGI: return "tgi";
  }
  return "unknown";
}

/* How errors name the server: the project's own spelling. */
static const char *srv_label(rk__srv s) {
  switch (s) {
  case RK__SRV_VLLM: return "vLLM";
  case RK__SRV_SGLANG: return "SGLang";
  case RK__SRV_LLAMACPP: return "llama.cpp";
  case RK__SRV_TGI: return "TGI";
  }
  return "server";
}

static int ascii_ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return *a == *b;
}

int rk__srv_parse(const char *name, rk__srv *out) {
  static const struct {
    const char *name;
    rk__srv srv;
  } names[] = {
      {"vllm", RK__SRV_VLLM},          {"sglang", RK__SRV_SGLANG},
      {"llamacpp", RK__SRV_LLAMACPP},  {"llama.cpp", RK__SRV_LLAMACPP},
      {"llama-cpp", RK__SRV_LLAMACPP}, {"tgi", RK__SRV_TGI},
  };
  if (!name) return -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (ascii_ieq(name, names[i].name)) {
      if (out) *out = names[i].srv;
      return 0;
    }
  }
  return -1;
}

/* ------------------------------------------------------ what is served */

/* Reward-model scoring endpoints. NULL or "" means "classify", which both
 * servers that score at all provide. */
typedef enum { EP_CLASSIFY, EP_POOLING, EP_EMBEDDINGS, EP_UNKNOWN } score_ep;

static score_ep score_endpoint(const char *e) {
  if (!e || !*e || strcmp(e, "classify") == 0) return EP_CLASSIFY;
  if (strcmp(e, "pooling") == 0) return EP_POOLING;
  if (strcmp(e, "embeddings") == 0) return EP_EMBEDDINGS;
  return EP_UNKNOWN;
}

/* For RK__NEED_PROMPT_LP the endpoint argument may name the form:
 * "plain" (text, no template) or "chat" (messages); NULL: either. */
typedef enum { LP_ANY, LP_PLAIN, LP_CHAT, LP_UNKNOWN } lp_form;

static lp_form lp_form_of(const char *e) {
  if (!e || !*e) return LP_ANY;
  if (strcmp(e, "plain") == 0) return LP_PLAIN;
  if (strcmp(e, "chat") == 0) return LP_CHAT;
  return LP_UNKNOWN;
}

const char *rk__wire_unsupported(rk__srv s, rk__need need, int images,
                                 const char *endpoint) {
  switch (need) {
  case RK__NEED_TOP:
  case RK__NEED_GEN:
    /* All four speak OpenAI chat with logprobs and image_url parts (a
     * text-only model answers images with an error of its own). */
    return NULL;
  case RK__NEED_PROMPT_LP: {
    lp_form f = lp_form_of(endpoint);
    if (f == LP_UNKNOWN)
      return "unknown prompt-logprob form (expected plain or chat)";
    switch (s) {
    case RK__SRV_LLAMACPP:
      return "llama.cpp server returns no prompt logprobs (its "
             "/v1/completions rejects echo)";
    case RK__SRV_VLLM:
      if (images && f == LP_PLAIN)
        return "vLLM takes images for prompt logprobs only in the chat form "
               "(/v1/chat/completions with continue_final_message)";
      return NULL;
    case RK__SRV_SGLANG:
      if (f == LP_CHAT)
        return "SGLang gives prompt logprobs only for plain text (/generate): "
               "give the template-applied text instead of chat messages";
      return NULL;
    case RK__SRV_TGI:
      if (f == LP_CHAT)
        return "TGI gives prompt logprobs only for plain text (/generate): "
               "give the template-applied text instead of chat messages";
      if (images) return "TGI's /generate takes no images";
      return NULL;
    }
    return "unknown server";
  }
  case RK__NEED_SCORE: {
    score_ep e = score_endpoint(endpoint);
    if (s == RK__SRV_LLAMACPP)
      return "llama.cpp server has no reward-model endpoint (only /rerank, "
             "which ranks documents against a query)";
    if (s == RK__SRV_TGI)
      return "TGI has no reward-model endpoint (that is Text Embeddings "
             "Inference, a separate server)";
    if (e == EP_UNKNOWN)
      return "unknown reward-model endpoint (expected classify, pooling or "
             "embeddings)";
    if (s == RK__SRV_VLLM && e == EP_EMBEDDINGS)
      return "vLLM serves reward models through /classify or /pooling, not "
             "/v1/embeddings";
    if (s == RK__SRV_SGLANG && e == EP_POOLING)
      return "SGLang has no /pooling endpoint (use classify or embeddings)";
    if (images)
      return "reward-model scores are computed from templated text only "
             "(no images)";
    return NULL;
  }
  case RK__NEED_EMBED:
    if (s == RK__SRV_TGI)
      return "TGI has no embedding endpoint (that is Text Embeddings "
             "Inference, a separate server)";
    return NULL;
  }
  return "unknown need";
}

/* ----------------------------------------------------------- builders */

/* ,"model":"..." unless model is NULL or "". */
static void put_model(rk__buf *b, const char *model) {
  if (!model || !*model) return;
  rk__buf_puts(b, ",\"model\":");
  rk__json_put_str(b, model, strlen(model));
}

static void put_image_part(rk__buf *b, rk__str url) {
  rk__buf_puts(b, "{\"type\":\"image_url\",\"image_url\":{\"url\":");
  rk__json_put_str(b, url.p, url.n);
  rk__buf_puts(b, "}}");
}

static void put_text_part(rk__buf *b, rk__str text) {
  rk__buf_puts(b, "{\"type\":\"text\",\"text\":");
  rk__json_put_str(b, text.p, text.n);
  rk__buf_putc(b, '}');
}

/* Image parts first, then the text part (omitted when empty and there is
 * an image), as a content-parts array. */
static void put_parts(rk__buf *b, const rk__str *images, size_t nimages,
                      rk__str text) {
  rk__buf_putc(b, '[');
  for (size_t i = 0; i < nimages; i++) {
    if (i) rk__buf_putc(b, ',');
    put_image_part(b, images[i]);
  }
  if (text.n || !nimages) {
    if (nimages) rk__buf_putc(b, ',');
    put_text_part(b, text);
  }
  rk__buf_putc(b, ']');
}

static int msgs_ok(const rk__msg *m, size_t nm) {
  if (!m || nm == 0) return 0;
  for (size_t i = 0; i < nm; i++)
    if (m[i].nimages && !m[i].images) return 0;
  return 1;
}

/* "messages":[...]: plain string content for text-only messages, content
 * parts (images first) otherwise. A NULL role is sent as "user". */
static void put_msgs(rk__buf *b, const rk__msg *m, size_t nm) {
  rk__buf_puts(b, "\"messages\":[");
  for (size_t i = 0; i < nm; i++) {
    const char *role = m[i].role ? m[i].role : "user";
    if (i) rk__buf_putc(b, ',');
    rk__buf_puts(b, "{\"role\":");
    rk__json_put_str(b, role, strlen(role));
    rk__buf_puts(b, ",\"content\":");
    if (m[i].nimages)
      put_parts(b, m[i].images, m[i].nimages, m[i].text);
    else
      rk__json_put_str(b, m[i].text.p, m[i].text.n);
    rk__buf_putc(b, '}');
  }
  rk__buf_putc(b, ']');
}

/* "key":number */
static void put_num_member(rk__buf *b, const char *key, double v) {
  rk__buf_printf(b, ",\"%s\":", key);
  rk__json_put_num(b, v);
}

/* prefix + span as one JSON string: escaped together, so that a UTF-8
 * sequence cut by the boundary is still written as itself. */
static int put_concat(rk__buf *b, rk__str a, rk__str c) {
  rk__buf tmp;
  rk__buf_init(&tmp, 0);
  if (a.n) rk__buf_put(&tmp, a.p, a.n);
  if (c.n) rk__buf_put(&tmp, c.p, c.n);
  int rc = tmp.oom ? -1 : rk__json_put_str(b, tmp.p, tmp.n);
  rk__buf_release(&tmp);
  if (rc) b->oom = 1;
  return rc;
}

static int done(rk__buf *b, const char **path, const char *p) {
  if (b->oom) return -1;
  if (path) *path = p;
  return 0;
}

int rk__wire_top(rk__srv s, const char *model, const rk__msg *m, size_t nm,
                 int top_k, rk__buf *body, const char **path) {
  if (path) *path = NULL;
  if (!body || !msgs_ok(m, nm) || top_k < 0) return -1;
  if (rk__wire_unsupported(s, RK__NEED_TOP, 0, NULL)) return -1;
  /* Identical for the four servers. Never response_format or guided_*:
   * the grammar mask is applied before logprobs are taken. */
  rk__buf_putc(body, '{');
  put_msgs(body, m, nm);
  put_model(body, model);
  put_num_member(body, "max_tokens", 1);
  put_num_member(body, "temperature", 0);
  rk__buf_puts(body, ",\"logprobs\":true");
  put_num_member(body, "top_logprobs", top_k);
  rk__buf_putc(body, '}');
  return done(body, path, "/v1/chat/completions");
}

int rk__wire_gen(rk__srv s, const char *model, const rk__msg *m, size_t nm,
                 const rk__gen_opts *o, rk__buf *body, const char **path) {
  if (path) *path = NULL;
  if (!body || !o || !msgs_ok(m, nm)) return -1;
  if (rk__wire_unsupported(s, RK__NEED_GEN, 0, NULL)) return -1;
  rk__buf_putc(body, '{');
  put_msgs(body, m, nm);
  put_model(body, model);
  /* max_tokens <= 0: the server's default (up to the context). */
  if (o->max_tokens > 0) put_num_member(body, "max_tokens", (double)o->max_tokens);
  put_num_member(body, "temperature", o->temperature);
  if (o->top_p != 1.0) put_num_member(body, "top_p", o->top_p);
  if (o->seed >= 0) put_num_member(body, "seed", (double)o->seed);
  rk__buf_putc(body, '}');
  return done(body, path, "/v1/chat/completions");
}

int rk__wire_prompt_lp(rk__srv s, const char *model, const rk__lp_query *q,
                       rk__buf *body, const char **path) {
  if (path) *path = NULL;
  if (!body || !q) return -1;
  if ((q->prefix.n && !q->prefix.p) || (q->span.n && !q->span.p)) return -1;
  if (q->nimages && !q->images) return -1;
  if (rk__wire_unsupported(s, RK__NEED_PROMPT_LP, q->nimages > 0,
                           q->chat ? "chat" : "plain"))
    return -1;
  if (q->chat) {
    /* vLLM only (the check above). Images travel in the messages. */
    if (!msgs_ok(q->msgs, q->nmsgs) || q->nimages) return -1;
    rk__buf_putc(body, '{');
    put_msgs(body, q->msgs, q->nmsgs);
    put_model(body, model);
    rk__buf_puts(body, ",\"add_generation_prompt\":false"
                       ",\"continue_final_message\":true");
    put_num_member(body, "max_tokens", 1);
    put_num_member(body, "temperature", 0);
    put_num_member(body, "prompt_logprobs", 0);
    rk__buf_puts(body, ",\"return_token_ids\":true}");
    return done(body, path, "/v1/chat/completions");
  }
  switch (s) {
  case RK__SRV_VLLM:
    /* echo + max_tokens 1: the arrays hold the prompt and one generated
     * token, which the parser drops. */
    rk__buf_puts(body, "{\"prompt\":");
    put_concat(body, q->prefix, q->span);
    put_model(body, model);
    put_num_member(body, "max_tokens", 1);
    rk__buf_puts(body, ",\"echo\":true");
    put_num_member(body, "logprobs", 1);
    put_num_member(body, "temperature", 0);
    rk__buf_putc(body, '}');
    return done(body, path, "/v1/completions");
  case RK__SRV_SGLANG:
    /* /generate has no "model" member: one server, one model. */
    rk__buf_puts(body, "{\"text\":");
    put_concat(body, q->prefix, q->span);
    rk__buf_puts(body, ",\"sampling_params\":{\"max_new_tokens\":0,"
                       "\"temperature\":0},\"return_logprob\":true,"
                       "\"logprob_start_len\":0,"
                       "\"return_text_in_logprobs\":true");
    if (q->nimages == 1) {
      rk__buf_puts(body, ",\"image_data\":");
      rk__json_put_str(body, q->images[0].p, q->images[0].n);
    } else if (q->nimages > 1) {
      rk__buf_puts(body, ",\"image_data\":[");
      for (size_t i = 0; i < q->nimages; i++) {
        if (i) rk__buf_putc(body, ',');
        rk__json_put_str(body, q->images[i].p, q->images[i].n);
      }
      rk__buf_putc(body, ']');
    }
    rk__buf_putc(body, '}');
    return done(body, path, "/generate");
  case RK__SRV_TGI:
    rk__buf_puts(body, "{\"inputs\":");
    put_concat(body, q->prefix, q->span);
    rk__buf_puts(body, ",\"parameters\":{\"max_new_tokens\":1,"
                       "\"do_sample\":false,\"details\":true,"
                       "\"decoder_input_details\":true}}");
    return done(body, path, "/generate");
  case RK__SRV_LLAMACPP:
    break;
  }
  return -1;
}

static void put_str_list(rk__buf *b, const rk__str *t, size_t n) {
  rk__buf_putc(b, '[');
  for (size_t i = 0; i < n; i++) {
    if (i) rk__buf_putc(b, ',');
    rk__json_put_str(b, t[i].p, t[i].n);
  }
  rk__buf_putc(b, ']');
}

int rk__wire_score(rk__srv s, const char *model, const char *endpoint,
                   const rk__str *texts, size_t n, rk__buf *body,
                   const char **path) {
  if (path) *path = NULL;
  if (!body || !texts || n == 0) return -1;
  if (rk__wire_unsupported(s, RK__NEED_SCORE, 0, endpoint)) return -1;
  score_ep e = score_endpoint(endpoint);
  const char *p;
  if (s == RK__SRV_VLLM && e == EP_CLASSIFY) {
    /* Raw logits (use_activation false; "activation" up to 0.11.1), as
     * verl's reward loop reads them. */
    rk__buf_puts(body, "{\"input\":");
    put_str_list(body, texts, n);
    put_model(body, model);
    rk__buf_puts(body, ",\"use_activation\":false}");
    p = "/classify";
  } else if (s == RK__SRV_VLLM && e == EP_POOLING) {
    rk__buf_puts(body, "{\"input\":");
    put_str_list(body, texts, n);
    put_model(body, model);
    rk__buf_puts(body, ",\"task\":\"classify\"}");
    p = "/pooling";
  } else if (s == RK__SRV_SGLANG && e == EP_CLASSIFY) {
    rk__buf_puts(body, "{\"text\":");
    put_str_list(body, texts, n);
    put_model(body, model);
    rk__buf_putc(body, '}');
    p = "/classify";
  } else if (s == RK__SRV_SGLANG && e == EP_EMBEDDINGS) {
    rk__buf_puts(body, "{\"input\":");
    put_str_list(body, texts, n);
    put_model(body, model);
    rk__buf_putc(body, '}');
    p = "/v1/embeddings";
  } else {
    return -1;
  }
  return done(body, path, p);
}

int rk__wire_embed(rk__srv s, const char *model, const rk__embed_in *in,
                   size_t n, rk__buf *body, const char **path) {
  if (path) *path = NULL;
  if (!body || !in || n == 0) return -1;
  size_t nimg = 0;
  for (size_t i = 0; i < n; i++) {
    if ((in[i].text.n && !in[i].text.p) || (in[i].image.n && !in[i].image.p))
      return -1;
    nimg += in[i].image.n > 0;
  }
  if (nimg && n != 1) return -1;
  if (rk__wire_unsupported(s, RK__NEED_EMBED, nimg > 0, NULL)) return -1;
  if (!nimg) {
    rk__buf_puts(body, "{\"input\":[");
    for (size_t i = 0; i < n; i++) {
      if (i) rk__buf_putc(body, ',');
      rk__json_put_str(body, in[i].text.p, in[i].text.n);
    }
    rk__buf_putc(body, ']');
  } else if (s == RK__SRV_VLLM) {
    /* vLLM: the chat schema instead of "input". */
    rk__buf_puts(body, "{\"messages\":[{\"role\":\"user\",\"content\":");
    put_parts(body, &in[0].image, 1, in[0].text);
    rk__buf_puts(body, "}]");
  } else if (s == RK__SRV_SGLANG) {
    rk__buf_puts(body, "{\"input\":[{");
    if (in[0].text.n) {
      rk__buf_puts(body, "\"text\":");
      rk__json_put_str(body, in[0].text.p, in[0].text.n);
      rk__buf_putc(body, ',');
    }
    rk__buf_puts(body, "\"image\":");
    rk__json_put_str(body, in[0].image.p, in[0].image.n);
    rk__buf_puts(body, "}]");
  } else if (s == RK__SRV_LLAMACPP) {
    /* Needs a server started with --mmproj. */
    rk__buf_puts(body, "{\"input\":[{\"content\":");
    put_parts(body, &in[0].image, 1, in[0].text);
    rk__buf_puts(body, "}]");
  } else {
    return -1;
  }
  put_model(body, model);
  rk__buf_puts(body, ",\"encoding_format\":\"float\"}");
  return done(body, path, "/v1/embeddings");
}

/* ------------------------------------------------------ parse helpers */

typedef struct wctx {
  const char *srv, *ep;  /* "vLLM", "/v1/completions" */
  rk__arena *a;
  char *err;
  size_t cap;
} wctx;

static void wctx_init(wctx *c, rk__srv s, const char *ep, rk__arena *a,
                      char *err, size_t cap) {
  c->srv = srv_label(s);
  c->ep = ep;
  c->a = a;
  c->err = err;
  c->cap = cap;
  if (err && cap) err[0] = '\0';
}

static int wfail(wctx *c, const char *fmt, ...) RK__PRINTF(2, 3);
static int wfail(wctx *c, const char *fmt, ...) {
  if (!c->err || !c->cap) return -1;
  int k = snprintf(c->err, c->cap, "%s %s: ", c->srv, c->ep);
  if (k >= 0 && (size_t)k < c->cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + k, c->cap - (size_t)k, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static const char *a_type(rk__jtype t) {
  switch (t) {
  case RK__JNULL: return "null";
  case RK__JFALSE:
  case RK__JTRUE: return "a boolean";
  case RK__JNUM: return "a number";
  case RK__JSTR: return "a string";
  case RK__JARR: return "an array";
  case RK__JOBJ: return "an object";
  }
  return "a value";
}

/* v when it has type t, else NULL after an error naming the field (the
 * path is printf-formatted). */
static const rk__jval *want(wctx *c, const rk__jval *v, rk__jtype t,
                            const char *fmt, ...) RK__PRINTF(4, 5);
static const rk__jval *want(wctx *c, const rk__jval *v, rk__jtype t,
                            const char *fmt, ...) {
  if (v && v->type == t) return v;
  char path[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
  if (!v)
    wfail(c, "%s is missing", path);
  else
    wfail(c, "%s is not %s (got %s)", path, a_type(t),
          rk__json_type_name(v->type));
  return NULL;
}

/* Item i of an array, or NULL. */
static const rk__jval *at(const rk__jval *arr, size_t i) {
  return arr && arr->type == RK__JARR && i < arr->u.arr.n ? &arr->u.arr.items[i]
                                                          : NULL;
}

static const rk__jval *wparse(wctx *c, const char *body, size_t n) {
  if (!body || n == 0) {
    wfail(c, "empty response body");
    return NULL;
  }
  rk__json_limits lim = {WIRE_MAX_DEPTH, n};
  rk__json_error je;
  rk__jval *root = NULL;
  int rc = rk__json_parse(body, n, c->a, &lim, &root, &je);
  if (rc == -2) {
    wfail(c, "out of memory reading the response (%s)", je.msg);
    return NULL;
  }
  if (rc) {
    wfail(c, "response is not JSON (line %zu, column %zu: %s)", je.line,
          je.column, je.msg);
    return NULL;
  }
  return root;
}

static int wdup(wctx *c, rk__str s, rk__str *out) {
  char *p = rk__arena_strdup(c->a, s.p, s.n);
  if (!p) return wfail(c, "out of memory copying a string of %zu bytes", s.n);
  *out = rk__str_make(p, s.n);
  return 0;
}

/* A token count; 0 when absent or not a non-negative number. */
static uint64_t count_of(const rk__jval *v) {
  if (!v || v->type != RK__JNUM || !(v->u.num >= 0) ||
      !(v->u.num < 18446744073709551616.0))
    return 0;
  return (uint64_t)v->u.num;
}

static void usage_openai(const rk__jval *root, rk__usage *u) {
  if (!u) return;
  const rk__jval *us = rk__json_get(root, "usage");
  u->prompt_tokens = count_of(rk__json_get(us, "prompt_tokens"));
  u->completion_tokens = count_of(rk__json_get(us, "completion_tokens"));
}

static void usage_zero(rk__usage *u) {
  if (u) u->prompt_tokens = u->completion_tokens = 0;
}

/* Rows of `arr` (name: its path) in input order: a row with "index" goes
 * there, a row without stays at its position. Exactly n rows, each an
 * object, no index twice. */
static int by_index(wctx *c, const rk__jval *arr, const char *name, size_t n,
                    const rk__jval ***out) {
  if (arr->u.arr.n != n)
    return wfail(c, "%s has %zu items, expected %zu", name, arr->u.arr.n, n);
  const rk__jval **slot = rk__arena_alloc(c->a, (n ? n : 1) * sizeof *slot);
  if (!slot) return wfail(c, "out of memory");
  for (size_t i = 0; i < n; i++) slot[i] = NULL;
  for (size_t i = 0; i < n; i++) {
    const rk__jval *row = want(c, at(arr, i), RK__JOBJ, "%s[%zu]", name, i);
    if (!row) return -1;
    size_t k = i;
    const rk__jval *ix = rk__json_get(row, "index");
    if (ix && ix->type != RK__JNULL) {
      if (!want(c, ix, RK__JNUM, "%s[%zu].index", name, i)) return -1;
      double d = ix->u.num;
      if (!(d >= 0 && d < (double)n) || d != (double)(size_t)d)
        return wfail(c, "%s[%zu].index is %.*s, not one of 0..%zu", name, i,
                     (int)(ix->raw.n > 40 ? 40 : ix->raw.n), ix->raw.p,
                     n ? n - 1 : 0);
      k = (size_t)d;
    }
    if (slot[k]) return wfail(c, "%s: index %zu appears twice", name, k);
    slot[k] = row;
  }
  *out = slot;
  return 0;
}

/* The last element of a non-empty list of numbers. */
static int last_of_vector(wctx *c, const rk__jval *v, double *out,
                          const char *fmt, size_t i) {
  char path[96];
  snprintf(path, sizeof path, fmt, i);
  if (!want(c, v, RK__JARR, "%s", path)) return -1;
  if (v->u.arr.n == 0) return wfail(c, "%s is empty", path);
  for (size_t j = 0; j < v->u.arr.n; j++)
    if (!want(c, at(v, j), RK__JNUM, "%s[%zu]", path, j)) return -1;
  *out = v->u.arr.items[v->u.arr.n - 1].u.num;
  return 0;
}

/* The last number of a nested list, flattened; 1 found, 0 none, -1 a
 * value that is neither a number nor a list. */
static int last_number(const rk__jval *v, double *out) {
  if (v->type == RK__JNUM) {
    *out = v->u.num;
    return 1;
  }
  if (v->type != RK__JARR) return -1;
  for (size_t i = v->u.arr.n; i-- > 0;) {
    int r = last_number(&v->u.arr.items[i], out);
    if (r) return r;
  }
  return 0;
}

/* --------------------------------------------------- parsers: chat */

/* choices[0] of an OpenAI chat response. */
static const rk__jval *choice0(wctx *c, const rk__jval *root) {
  if (!want(c, root, RK__JOBJ, "response")) return NULL;
  const rk__jval *ch = want(c, rk__json_get(root, "choices"), RK__JARR, "choices");
  if (!ch) return NULL;
  return want(c, at(ch, 0), RK__JOBJ, "choices[0]");
}

int rk__wire_parse_top(rk__srv s, const char *body, size_t n, rk__arena *a,
                       rk__toplp **top, size_t *ntop, rk__str *sampled,
                       rk__usage *u, char *err, size_t cap) {
  wctx c;
  wctx_init(&c, s, "/v1/chat/completions", a, err, cap);
  usage_zero(u);
  if (top) *top = NULL;
  if (ntop) *ntop = 0;
  if (sampled) *sampled = rk__str_make(NULL, 0);
  const rk__jval *root = wparse(&c, body, n), *c0, *lp, *content, *pos, *tok,
                 *tlp, *alts;
  if (!root || !(c0 = choice0(&c, root))) return -1;
  if (!(lp = want(&c, rk__json_get(c0, "logprobs"), RK__JOBJ,
                  "choices[0].logprobs")))
    return -1;
  if (!(content = want(&c, rk__json_get(lp, "content"), RK__JARR,
                       "choices[0].logprobs.content")))
    return -1;
  if (!(pos = want(&c, at(content, 0), RK__JOBJ,
                   "choices[0].logprobs.content[0]")))
    return -1;
  if (!(tok = want(&c, rk__json_get(pos, "token"), RK__JSTR,
                   "choices[0].logprobs.content[0].token")) ||
      !(tlp = want(&c, rk__json_get(pos, "logprob"), RK__JNUM,
                   "choices[0].logprobs.content[0].logprob")))
    return -1;
  alts = rk__json_get(pos, "top_logprobs");
  if (alts && alts->type != RK__JNULL &&
      !want(&c, alts, RK__JARR, "choices[0].logprobs.content[0].top_logprobs"))
    return -1;
  size_t k = alts && alts->type == RK__JARR ? alts->u.arr.n : 0;
  /* No list (top_logprobs 0, or a server that gives none): the sampled
   * token alone is the only alternative known. */
  size_t m = k ? k : 1;
  rk__toplp *out = rk__arena_alloc(a, m * sizeof *out);
  if (!out) return wfail(&c, "out of memory");
  if (k == 0) {
    if (wdup(&c, tok->u.str, &out[0].token)) return -1;
    out[0].logprob = tlp->u.num;
  }
  for (size_t i = 0; i < k; i++) {
    const rk__jval *e = want(&c, at(alts, i), RK__JOBJ,
                             "choices[0].logprobs.content[0].top_logprobs[%zu]", i);
    const rk__jval *t, *l;
    if (!e) return -1;
    if (!(t = want(&c, rk__json_get(e, "token"), RK__JSTR,
                   "choices[0].logprobs.content[0].top_logprobs[%zu].token", i)) ||
        !(l = want(&c, rk__json_get(e, "logprob"), RK__JNUM,
                   "choices[0].logprobs.content[0].top_logprobs[%zu].logprob", i)))
      return -1;
    if (wdup(&c, t->u.str, &out[i].token)) return -1;
    out[i].logprob = l->u.num;
  }
  rk__str samp;
  if (wdup(&c, tok->u.str, &samp)) return -1;
  if (top) *top = out;
  if (ntop) *ntop = m;
  if (sampled) *sampled = samp;
  usage_openai(root, u);
  return 0;
}

int rk__wire_parse_gen(rk__srv s, const char *body, size_t n, rk__arena *a,
                       rk__str *text, rk__usage *u, char *err, size_t cap) {
  wctx c;
  wctx_init(&c, s, "/v1/chat/completions", a, err, cap);
  usage_zero(u);
  if (text) *text = rk__str_make(NULL, 0);
  const rk__jval *root = wparse(&c, body, n), *c0, *msg, *content;
  if (!root || !(c0 = choice0(&c, root))) return -1;
  if (!(msg = want(&c, rk__json_get(c0, "message"), RK__JOBJ,
                   "choices[0].message")) ||
      !(content = want(&c, rk__json_get(msg, "content"), RK__JSTR,
                       "choices[0].message.content")))
    return -1;
  rk__str t;
  if (wdup(&c, content->u.str, &t)) return -1;
  if (text) *text = t;
  usage_openai(root, u);
  return 0;
}

/* ------------------------------------------- parsers: prompt logprobs */

/* One prompt position: its decoded text (byte length) and logprob, either
 * of which the server may leave out (null). */
typedef struct wtok {
  size_t len;
  double lp;
  unsigned char has_text, has_lp;
} wtok;

/* The span is the shortest run of final prompt tokens whose texts cover
 * span_n bytes; a token straddling the prefix/span boundary belongs to it.
 * `what` names the per-position array in errors. */
static int align_span(wctx *c, const wtok *t, size_t m, size_t span_n,
                      const char *what, double **lp, size_t *nlp) {
  size_t j = m, acc = 0;
  while (acc < span_n) {
    if (j == 0)
      return wfail(c, "the %zu prompt tokens' texts cover %zu bytes, fewer "
                      "than the span's %zu", m, acc, span_n);
    j--;
    if (!t[j].has_text)
      return wfail(c, "%s[%zu] has no token text to align the span with",
                   what, j);
    acc += t[j].len;
  }
  /* The very first token of a sequence has no logprob (nothing precedes
   * it): when the span starts the text it is left out, and the span is
   * scored from its second token on. Anywhere else a null is an error. */
  if (j == 0 && m > 0 && !t[0].has_lp) j = 1;
  size_t k = m - j;
  double *out = rk__arena_alloc(c->a, (k ? k : 1) * sizeof *out);
  if (!out) return wfail(c, "out of memory");
  for (size_t i = j; i < m; i++) {
    if (!t[i].has_lp)
      return wfail(c, "position %zu has no logprob (%s[%zu] is null) but is "
                      "inside the span", i, what, i);
    out[i - j] = t[i].lp;
  }
  *lp = out;
  *nlp = k;
  return 0;
}

static wtok *wtoks(wctx *c, size_t m) {
  wtok *t = rk__arena_alloc(c->a, (m ? m : 1) * sizeof *t);
  if (!t) wfail(c, "out of memory");
  return t;
}

/* vLLM /v1/completions with echo: tokens and token_logprobs hold the prompt
 * and the one generated token, which is dropped. */
static int lp_vllm_plain(wctx *c, const rk__jval *root, wtok **out, size_t *m,
                         rk__usage *u) {
  const rk__jval *c0 = choice0(c, root), *lp, *toks, *tlp;
  if (!c0) return -1;
  if (!(lp = want(c, rk__json_get(c0, "logprobs"), RK__JOBJ,
                  "choices[0].logprobs")) ||
      !(toks = want(c, rk__json_get(lp, "tokens"), RK__JARR,
                    "choices[0].logprobs.tokens")) ||
      !(tlp = want(c, rk__json_get(lp, "token_logprobs"), RK__JARR,
                   "choices[0].logprobs.token_logprobs")))
    return -1;
  if (toks->u.arr.n != tlp->u.arr.n)
    return wfail(c, "choices[0].logprobs.tokens has %zu entries but "
                    "token_logprobs has %zu", toks->u.arr.n, tlp->u.arr.n);
  if (toks->u.arr.n == 0)
    return wfail(c, "choices[0].logprobs.tokens is empty (expected the prompt "
                    "and one generated token)");
  size_t n = toks->u.arr.n;
  wtok *t = wtoks(c, n);
  if (!t) return -1;
  for (size_t i = 0; i < n; i++) {
    const rk__jval *s = want(c, at(toks, i), RK__JSTR,
                             "choices[0].logprobs.tokens[%zu]", i);
    const rk__jval *l = at(tlp, i);
    if (!s) return -1;
    if (l->type != RK__JNULL &&
        !want(c, l, RK__JNUM, "choices[0].logprobs.token_logprobs[%zu]", i))
      return -1;
    t[i].len = s->u.str.n;
    t[i].has_text = 1;
    t[i].has_lp = l->type == RK__JNUM;
    t[i].lp = t[i].has_lp ? l->u.num : 0;
  }
  usage_openai(root, u);
  *out = t;
  *m = n - 1;
  return 0;
}

/* Digits of a JSON object key equal the integer id. */
static int key_is_id(rk__str key, double id) {
  if (key.n == 0 || key.n > 15) return 0;
  double v = 0;
  for (size_t i = 0; i < key.n; i++) {
    if (key.p[i] < '0' || key.p[i] > '9') return 0;
    v = v * 10 + (key.p[i] - '0');
  }
  return v == id;
}

/* vLLM chat: top-level prompt_logprobs [null, {"<id>": {"logprob", "rank",
 * "decoded_token"}}, ...] covering the prompt only. */
static int lp_vllm_chat(wctx *c, const rk__jval *root, wtok **out, size_t *m,
                        rk__usage *u) {
  const rk__jval *pl, *ids;
  if (!want(c, root, RK__JOBJ, "response")) return -1;
  if (!(pl = want(c, rk__json_get(root, "prompt_logprobs"), RK__JARR,
                  "prompt_logprobs")))
    return -1;
  size_t n = pl->u.arr.n;
  ids = rk__json_get(root, "prompt_token_ids");
  if (ids && ids->type == RK__JNULL) ids = NULL;
  if (ids) {
    if (!want(c, ids, RK__JARR, "prompt_token_ids")) return -1;
    if (ids->u.arr.n != n)
      return wfail(c, "prompt_token_ids has %zu entries but prompt_logprobs "
                      "has %zu", ids->u.arr.n, n);
  }
  wtok *t = wtoks(c, n);
  if (!t) return -1;
  for (size_t i = 0; i < n; i++) {
    const rk__jval *e = at(pl, i), *pick = NULL, *l, *d;
    t[i].len = 0;
    t[i].lp = 0;
    t[i].has_text = t[i].has_lp = 0;
    if (e->type == RK__JNULL) continue;  /* the first position */
    if (!want(c, e, RK__JOBJ, "prompt_logprobs[%zu]", i)) return -1;
    if (e->u.obj.n == 0) return wfail(c, "prompt_logprobs[%zu] is empty", i);
    if (e->u.obj.n == 1) {
      pick = &e->u.obj.items[0].val;
    } else {
      /* k > 0 adds the top tokens: the prompt's own token is the one whose
       * id is prompt_token_ids[i]. */
      const rk__jval *id = ids ? want(c, at(ids, i), RK__JNUM,
                                      "prompt_token_ids[%zu]", i)
                               : NULL;
      if (!ids)
        return wfail(c, "prompt_logprobs[%zu] holds %zu tokens and there are "
                        "no prompt_token_ids to tell which was the prompt's",
                     i, e->u.obj.n);
      if (!id) return -1;
      for (size_t j = 0; j < e->u.obj.n && !pick; j++)
        if (key_is_id(e->u.obj.items[j].key, id->u.num))
          pick = &e->u.obj.items[j].val;
      if (!pick)
        return wfail(c, "prompt_logprobs[%zu] has no entry for token id %.*s",
                     i, (int)(id->raw.n > 24 ? 24 : id->raw.n), id->raw.p);
    }
    if (!want(c, pick, RK__JOBJ, "prompt_logprobs[%zu] entry", i)) return -1;
    l = rk__json_get(pick, "logprob");
    d = rk__json_get(pick, "decoded_token");
    if (l && l->type != RK__JNULL &&
        !want(c, l, RK__JNUM, "prompt_logprobs[%zu] logprob", i))
      return -1;
    if (d && d->type != RK__JNULL &&
        !want(c, d, RK__JSTR, "prompt_logprobs[%zu] decoded_token", i))
      return -1;
    t[i].has_lp = l && l->type == RK__JNUM;
    t[i].lp = t[i].has_lp ? l->u.num : 0;
    t[i].has_text = d && d->type == RK__JSTR;
    t[i].len = t[i].has_text ? d->u.str.n : 0;
  }
  usage_openai(root, u);
  *out = t;
  *m = n;
  return 0;
}

/* SGLang /generate: meta_info.input_token_logprobs [[logprob|null, id,
 * text|null], ...] (max_new_tokens 0: nothing generated). */
static int lp_sglang(wctx *c, const rk__jval *root, wtok **out, size_t *m,
                     rk__usage *u) {
  const rk__jval *mi, *itl;
  if (!want(c, root, RK__JOBJ, "response")) return -1;
  if (!(mi = want(c, rk__json_get(root, "meta_info"), RK__JOBJ, "meta_info")) ||
      !(itl = want(c, rk__json_get(mi, "input_token_logprobs"), RK__JARR,
                   "meta_info.input_token_logprobs")))
    return -1;
  size_t n = itl->u.arr.n;
  wtok *t = wtoks(c, n);
  if (!t) return -1;
  for (size_t i = 0; i < n; i++) {
    const rk__jval *e = want(c, at(itl, i), RK__JARR,
                             "meta_info.input_token_logprobs[%zu]", i);
    if (!e) return -1;
    if (e->u.arr.n < 2)
      return wfail(c, "meta_info.input_token_logprobs[%zu] has %zu items, "
                      "expected [logprob, id, text]", i, e->u.arr.n);
    const rk__jval *l = at(e, 0), *s = at(e, 2);
    if (l->type != RK__JNULL &&
        !want(c, l, RK__JNUM, "meta_info.input_token_logprobs[%zu][0]", i))
      return -1;
    if (s && s->type != RK__JNULL &&
        !want(c, s, RK__JSTR, "meta_info.input_token_logprobs[%zu][2]", i))
      return -1;
    t[i].has_lp = l->type == RK__JNUM;
    t[i].lp = t[i].has_lp ? l->u.num : 0;
    t[i].has_text = s && s->type == RK__JSTR;
    t[i].len = t[i].has_text ? s->u.str.n : 0;
  }
  if (u) {
    u->prompt_tokens = count_of(rk__json_get(mi, "prompt_tokens"));
    u->completion_tokens = count_of(rk__json_get(mi, "completion_tokens"));
  }
  *out = t;
  *m = n;
  return 0;
}

/* TGI /generate: details.prefill [{"id", "text", "logprob"|null}] is the
 * prompt; details.tokens (generated) is not looked at. */
static int lp_tgi(wctx *c, const rk__jval *root, wtok **out, size_t *m,
                  rk__usage *u) {
  const rk__jval *det, *pre;
  if (!want(c, root, RK__JOBJ, "response")) return -1;
  if (!(det = want(c, rk__json_get(root, "details"), RK__JOBJ, "details")) ||
      !(pre = want(c, rk__json_get(det, "prefill"), RK__JARR,
                   "details.prefill")))
    return -1;
  size_t n = pre->u.arr.n;
  wtok *t = wtoks(c, n);
  if (!t) return -1;
  for (size_t i = 0; i < n; i++) {
    const rk__jval *e = want(c, at(pre, i), RK__JOBJ, "details.prefill[%zu]", i);
    if (!e) return -1;
    const rk__jval *l = rk__json_get(e, "logprob"), *s = rk__json_get(e, "text");
    if (l && l->type != RK__JNULL &&
        !want(c, l, RK__JNUM, "details.prefill[%zu].logprob", i))
      return -1;
    if (s && s->type != RK__JNULL &&
        !want(c, s, RK__JSTR, "details.prefill[%zu].text", i))
      return -1;
    t[i].has_lp = l && l->type == RK__JNUM;
    t[i].lp = t[i].has_lp ? l->u.num : 0;
    t[i].has_text = s && s->type == RK__JSTR;
    t[i].len = t[i].has_text ? s->u.str.n : 0;
  }
  if (u) {
    u->prompt_tokens = n;
    u->completion_tokens = count_of(rk__json_get(det, "generated_tokens"));
  }
  *out = t;
  *m = n;
  return 0;
}

int rk__wire_parse_prompt_lp(rk__srv s, const rk__lp_query *q, const char *body,
                             size_t n, rk__arena *a, double **lp, size_t *nlp,
                             rk__usage *u, char *err, size_t cap) {
  wctx c;
  int chat = q && q->chat;
  const char *ep = chat ? "/v1/chat/completions"
                   : s == RK__SRV_VLLM ? "/v1/completions"
                                       : "/generate";
  wctx_init(&c, s, ep, a, err, cap);
  usage_zero(u);
  if (lp) *lp = NULL;
  if (nlp) *nlp = 0;
  if (!q) return wfail(&c, "no query");
  const char *why = rk__wire_unsupported(s, RK__NEED_PROMPT_LP, 0,
                                         chat ? "chat" : "plain");
  if (why) return wfail(&c, "%s", why);
  const rk__jval *root = wparse(&c, body, n);
  if (!root) return -1;
  wtok *t = NULL;
  size_t m = 0;
  int rc;
  const char *what;
  if (s == RK__SRV_VLLM && chat) {
    rc = lp_vllm_chat(&c, root, &t, &m, u);
    what = "prompt_logprobs";
  } else if (s == RK__SRV_VLLM) {
    rc = lp_vllm_plain(&c, root, &t, &m, u);
    what = "choices[0].logprobs.token_logprobs";
  } else if (s == RK__SRV_SGLANG) {
    rc = lp_sglang(&c, root, &t, &m, u);
    what = "meta_info.input_token_logprobs";
  } else {
    rc = lp_tgi(&c, root, &t, &m, u);
    what = "details.prefill";
  }
  if (rc) return -1;
  double *out = NULL;
  size_t k = 0;
  if (align_span(&c, t, m, q->span.n, what, &out, &k)) return -1;
  if (lp) *lp = out;
  if (nlp) *nlp = k;
  return 0;
}

/* --------------------------------------------------- parsers: scores */

int rk__wire_parse_score(rk__srv s, const char *endpoint, const char *body,
                         size_t n, rk__arena *a, double *scores, size_t nscores,
                         char *err, size_t cap) {
  score_ep e = score_endpoint(endpoint);
  const char *ep = e == EP_POOLING      ? "/pooling"
                   : e == EP_EMBEDDINGS ? "/v1/embeddings"
                                        : "/classify";
  wctx c;
  wctx_init(&c, s, ep, a, err, cap);
  const char *why = rk__wire_unsupported(s, RK__NEED_SCORE, 0, endpoint);
  if (why) return wfail(&c, "%s", why);
  if (!scores && nscores) return wfail(&c, "no output array");
  const rk__jval *root = wparse(&c, body, n), *rows;
  const rk__jval **slot;
  if (!root) return -1;
  const char *name;
  if (s == RK__SRV_SGLANG && e == EP_CLASSIFY) {
    /* A bare list [{"embedding": [score], "meta_info"}], in input order. */
    if (!(rows = want(&c, root, RK__JARR, "response"))) return -1;
    name = "response";
  } else {
    if (!want(&c, root, RK__JOBJ, "response") ||
        !(rows = want(&c, rk__json_get(root, "data"), RK__JARR, "data")))
      return -1;
    name = "data";
  }
  if (by_index(&c, rows, name, nscores, &slot)) return -1;
  for (size_t i = 0; i < nscores; i++) {
    const rk__jval *row = slot[i];
    size_t at_i = (size_t)(row - rows->u.arr.items);  /* position, for errors */
    double v = 0;
    if (s == RK__SRV_VLLM && e == EP_CLASSIFY) {
      /* verl reads probs[-1]: the last class's raw logit. */
      if (last_of_vector(&c, rk__json_get(row, "probs"), &v, "data[%zu].probs",
                         at_i))
        return -1;
    } else if (s == RK__SRV_VLLM && e == EP_POOLING) {
      const rk__jval *d = rk__json_get(row, "data");
      if (!d) return wfail(&c, "data[%zu].data is missing", at_i);
      int r = last_number(d, &v);
      if (r < 0)
        return wfail(&c, "data[%zu].data is not a (nested) list of numbers",
                     at_i);
      if (r == 0) return wfail(&c, "data[%zu].data holds no number", at_i);
    } else {
      char fmt[40];
      snprintf(fmt, sizeof fmt, "%s[%%zu].embedding", name);
      if (last_of_vector(&c, rk__json_get(row, "embedding"), &v, fmt, at_i))
        return -1;
    }
    scores[i] = v;
  }
  return 0;
}

int rk__wire_parse_embed(rk__srv s, const char *body, size_t n, rk__arena *a,
                         size_t expect, double **vecs, size_t *dim,
                         rk__usage *u, char *err, size_t cap) {
  wctx c;
  wctx_init(&c, s, "/v1/embeddings", a, err, cap);
  usage_zero(u);
  if (vecs) *vecs = NULL;
  if (dim) *dim = 0;
  const char *why = rk__wire_unsupported(s, RK__NEED_EMBED, 0, NULL);
  if (why) return wfail(&c, "%s", why);
  const rk__jval *root = wparse(&c, body, n), *rows;
  const rk__jval **slot;
  if (!root) return -1;
  if (!want(&c, root, RK__JOBJ, "response") ||
      !(rows = want(&c, rk__json_get(root, "data"), RK__JARR, "data")))
    return -1;
  if (by_index(&c, rows, "data", expect, &slot)) return -1;
  size_t d = 0;
  for (size_t i = 0; i < expect; i++) {
    size_t pi = (size_t)(slot[i] - rows->u.arr.items);
    const rk__jval *v = want(&c, rk__json_get(slot[i], "embedding"), RK__JARR,
                             "data[%zu].embedding", pi);
    if (!v) return -1;
    if (v->u.arr.n == 0) return wfail(&c, "data[%zu].embedding is empty", pi);
    if (i == 0) d = v->u.arr.n;
    if (v->u.arr.n != d)
      return wfail(&c, "data[%zu].embedding has %zu numbers, another row has "
                       "%zu", pi, v->u.arr.n, d);
  }
  if (expect && d > SIZE_MAX / sizeof(double) / expect)
    return wfail(&c, "embeddings too large");
  size_t cells = expect * d;
  double *out = rk__arena_alloc(a, (cells ? cells : 1) * sizeof *out);
  if (!out) return wfail(&c, "out of memory for %zu x %zu numbers", expect, d);
  for (size_t i = 0; i < expect; i++) {
    size_t pi = (size_t)(slot[i] - rows->u.arr.items);
    const rk__jval *v = rk__json_get(slot[i], "embedding");
    for (size_t j = 0; j < d; j++) {
      const rk__jval *x = want(&c, at(v, j), RK__JNUM, "data[%zu].embedding[%zu]",
                               pi, j);
      if (!x) return -1;
      out[i * d + j] = x->u.num;
    }
  }
  if (vecs) *vecs = out;
  if (dim) *dim = d;
  usage_openai(root, u);
  return 0;
}

/* ----------------------------------------------------- error bodies */

typedef struct wout {
  char *p;
  size_t n, cap;  /* cap includes the NUL */
  int full;
} wout;

/* Appends bytes made printable: valid UTF-8 is kept whole (never cut),
 * tabs and line breaks become spaces, other control bytes and invalid
 * bytes '?'. */
static void out_put(wout *o, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s, *e = p + n;
  while (p < e && !o->full) {
    size_t k = 1;
    char ch;
    if (*p >= 0x80) {
      k = rk__utf8_seq(p, e);
      if (k == 0) {
        k = 1;
        ch = '?';
      } else {
        if (o->n + k >= o->cap) {
          o->full = 1;
          break;
        }
        memcpy(o->p + o->n, p, k);
        o->n += k;
        p += k;
        continue;
      }
    } else if (*p == '\t' || *p == '\n' || *p == '\r') {
      ch = ' ';
    } else if (*p < 0x20 || *p == 0x7f) {
      ch = '?';
    } else {
      ch = (char)*p;
    }
    if (o->n + 1 >= o->cap) {
      o->full = 1;
      break;
    }
    o->p[o->n++] = ch;
    p += k;
  }
  o->p[o->n] = '\0';
}

static int str_ok(const rk__jval *v) {
  return v && v->type == RK__JSTR && v->u.str.n > 0;
}

/* FastAPI validation errors: [{"loc": ["body", "model"], "msg": ...}];
 * written "body.model: Field required; ...". */
static int detail_list(wout *o, const rk__jval *d) {
  int any = 0;
  for (size_t i = 0; i < d->u.arr.n; i++) {
    const rk__jval *it = &d->u.arr.items[i], *msg, *loc;
    if (str_ok(it)) {
      if (any) out_put(o, "; ", 2);
      out_put(o, it->u.str.p, it->u.str.n);
      any = 1;
      continue;
    }
    msg = rk__json_get(it, "msg");
    if (!str_ok(msg)) continue;
    if (any) out_put(o, "; ", 2);
    loc = rk__json_get(it, "loc");
    if (loc && loc->type == RK__JARR && loc->u.arr.n) {
      for (size_t j = 0; j < loc->u.arr.n; j++) {
        const rk__jval *x = &loc->u.arr.items[j];
        if (j) out_put(o, ".", 1);
        if (x->type == RK__JSTR)
          out_put(o, x->u.str.p, x->u.str.n);
        else
          out_put(o, x->raw.p, x->raw.n);
      }
      out_put(o, ": ", 2);
    }
    out_put(o, msg->u.str.p, msg->u.str.n);
    any = 1;
  }
  return any;
}

/* Error bodies are small; a larger one is not parsed (its first line is
 * used) so that this function needs no caller arena. */
#define WIRE_ERR_MAX_JSON ((size_t)1 << 20)

void rk__wire_error_message(const char *body, size_t n, char *out, size_t cap) {
  if (!out || cap == 0) return;
  wout o = {out, 0, cap, 0};
  out[0] = '\0';
  if (!body) n = 0;
  int found = 0;
  if (n > 0 && n <= WIRE_ERR_MAX_JSON) {
    rk__arena a;
    rk__arena_init(&a, 64 * n + ((size_t)1 << 16));
    rk__jval *root = NULL;
    rk__json_limits lim = {WIRE_MAX_DEPTH, n};
    if (rk__json_parse(body, n, &a, &lim, &root, NULL) == 0 &&
        root->type == RK__JOBJ) {
      const rk__jval *e = rk__json_get(root, "error");
      const rk__jval *em = rk__json_get(e, "message");
      const rk__jval *m = rk__json_get(root, "message");
      const rk__jval *d = rk__json_get(root, "detail");
      const rk__jval *pick = str_ok(em) ? em : str_ok(e) ? e : str_ok(m) ? m
                             : str_ok(d) ? d : NULL;
      if (pick) {
        out_put(&o, pick->u.str.p, pick->u.str.n);
        found = 1;
      } else if (d && d->type == RK__JARR) {
        found = detail_list(&o, d);
      }
    }
    rk__arena_release(&a);
  }
  if (!found) {
    size_t i = 0, j;
    while (i < n && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' ||
                     body[i] == '\r'))
      i++;
    for (j = i; j < n && body[j] != '\n' && body[j] != '\r'; j++) {}
    if (j > i)
      out_put(&o, body + i, j - i);
    else
      out_put(&o, "empty response body", 19);
  }
  /* No trailing spaces (a message ending in a newline). */
  while (o.n > 0 && out[o.n - 1] == ' ') out[--o.n] = '\0';
}

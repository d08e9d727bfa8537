/*
 * fuzz_model.c - libFuzzer target for everything model rewards read from
 * a server or a judge: every wire.h parser for every server (and both
 * prompt-logprob forms, several span lengths, row counts and endpoints),
 * the error-body reader, and the judge-text parsers of formulas.h
 * (judge score, verdict, choice letter, the judge gate). The input bytes
 * also go through the request builders as message text, prefix, span and
 * image.
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - parsers return 0 or -1; -1 always leaves a message naming the server;
 *   strings they return live in the arena (never inside the input) and are
 *   NUL-terminated; an empty span gives no logprobs and a non-empty one at
 *   least one;
 * - every built body is valid JSON (when the text has no NUL byte, which
 *   our reader refuses as \u0000) and, on valid UTF-8, the prompt reads
 *   back as prefix + span exactly;
 * - error messages are shorter than cap, printable and valid UTF-8.
 *
 *   build-fuzz/fuzz_model fuzz/corpus/model -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "model/formulas.h"
#include "model/wire.h"

#define CHECK(c)                 \
  do {                           \
    if (!(c)) __builtin_trap();  \
  } while (0)

static rk__arena g_arena;
static int g_init;

static const rk__srv g_srv[4] = {RK__SRV_VLLM, RK__SRV_SGLANG,
                                 RK__SRV_LLAMACPP, RK__SRV_TGI};
static const char *const g_label[4] = {"vLLM ", "SGLang ", "llama.cpp ", "TGI "};

static int inside(const char *p, const uint8_t *data, size_t size) {
  return p && (const uint8_t *)p >= data && (const uint8_t *)p < data + size;
}

/* A failed parse left "<Server> <path>: ...". */
static void check_err(int rc, int si, const char *err) {
  CHECK(rc == 0 || rc == -1);
  if (rc == 0) return;
  CHECK(strncmp(err, g_label[si], strlen(g_label[si])) == 0);
  CHECK(strlen(err) > strlen(g_label[si]));
}

static int valid_utf8(const uint8_t *s, size_t n) {
  const uint8_t *e = s + n;
  while (s < e) {
    if (*s < 0x80) {
      s++;
      continue;
    }
    size_t k = rk__utf8_seq(s, e);
    if (!k) return 0;
    s += k;
  }
  return 1;
}

static void check_printable(const char *out, size_t cap) {
  size_t n = strlen(out);
  CHECK(n < cap);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] != 0x7f);
  CHECK(valid_utf8((const uint8_t *)out, n));
}

/* The body is valid JSON (an object); returns it, or NULL when the text
 * held a NUL byte (written \u0000, which our reader refuses). */
static const rk__jval *reparse(const rk__buf *b, int has_nul) {
  rk__jval *v = NULL;
  int rc = rk__json_parse(b->p, b->n, &g_arena, NULL, &v, NULL);
  if (has_nul) return rc == 0 ? v : NULL;
  CHECK(rc == 0);
  CHECK(v->type == RK__JOBJ);
  return v;
}

static void fuzz_parsers(const uint8_t *data, size_t size) {
  const char *p = (const char *)data;
  char err[200];
  for (int si = 0; si < 4; si++) {
    rk__srv s = g_srv[si];
    rk__usage u;

    /* P(yes) alternatives. */
    rk__toplp *top = NULL;
    size_t ntop = 0;
    rk__str samp;
    rk__arena_reset(&g_arena);
    int rc = rk__wire_parse_top(s, p, size, &g_arena, &top, &ntop, &samp, &u,
                                err, sizeof err);
    check_err(rc, si, err);
    if (rc == 0) {
      CHECK(ntop >= 1 && top);
      for (size_t i = 0; i < ntop; i++) {
        CHECK(!inside(top[i].token.p, data, size));
        CHECK(top[i].token.p[top[i].token.n] == '\0');
      }
      CHECK(!inside(samp.p, data, size) && samp.p[samp.n] == '\0');
    }

    /* Generated text. */
    rk__str text;
    rk__arena_reset(&g_arena);
    rc = rk__wire_parse_gen(s, p, size, &g_arena, &text, &u, err, sizeof err);
    check_err(rc, si, err);
    if (rc == 0) CHECK(!inside(text.p, data, size) && text.p[text.n] == '\0');

    /* Prompt logprobs: plain and chat forms, several span lengths. */
    static const size_t spans[] = {0, 1, 5, 64};
    for (int chat = 0; chat < 2; chat++) {
      for (size_t k = 0; k < sizeof spans / sizeof spans[0]; k++) {
        static const char filler[64] = {0};
        rk__msg m = {"assistant", {filler, spans[k]}, NULL, 0};
        rk__lp_query q = {chat, &m, 1, {"", 0}, {filler, spans[k]}, NULL, 0};
        double *lp = NULL;
        size_t nlp = 0;
        rk__arena_reset(&g_arena);
        rc = rk__wire_parse_prompt_lp(s, &q, p, size, &g_arena, &lp, &nlp, &u,
                                      err, sizeof err);
        check_err(rc, si, err);
        if (rc == 0) {
          CHECK((spans[k] == 0) == (nlp == 0));
          volatile double sum = 0;
          for (size_t i = 0; i < nlp; i++) sum += lp[i];
          (void)sum;
        }
      }
    }

    /* Reward-model scores: every endpoint, a few row counts. */
    static const char *const eps[] = {NULL, "classify", "pooling", "embeddings",
                                      "bogus"};
    size_t counts[2] = {1, size % 5};
    for (size_t e = 0; e < sizeof eps / sizeof eps[0]; e++) {
      for (int c = 0; c < 2; c++) {
        double sc[4] = {0, 0, 0, 0};
        rk__arena_reset(&g_arena);
        rc = rk__wire_parse_score(s, eps[e], p, size, &g_arena, sc, counts[c],
                                  err, sizeof err);
        check_err(rc, si, err);
      }
    }

    /* Embeddings. */
    size_t expects[3] = {1, 2, size % 5};
    for (int c = 0; c < 3; c++) {
      double *v = NULL;
      size_t dim = 0;
      rk__arena_reset(&g_arena);
      rc = rk__wire_parse_embed(s, p, size, &g_arena, expects[c], &v, &dim, &u,
                                err, sizeof err);
      check_err(rc, si, err);
      if (rc == 0) {
        CHECK(expects[c] == 0 || dim >= 1);
        volatile double sum = 0;
        for (size_t i = 0; i < expects[c] * dim; i++) sum += v[i];
        (void)sum;
      }
    }
  }

  /* Error bodies, at several caps. */
  static const size_t caps[] = {1, 2, 7, 200};
  for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
    char out[200];
    memset(out, 'x', sizeof out);
    rk__wire_error_message(p, size, out, caps[c]);
    check_printable(out, caps[c]);
  }
}

static void fuzz_builders(const uint8_t *data, size_t size) {
  const char *p = (const char *)data;
  int has_nul = memchr(data, 0, size) != NULL;
  int utf8 = valid_utf8(data, size);
  size_t cut = size ? data[0] % (size + 1) : 0;
  rk__str prefix = {p, cut}, span = {p + cut, size - cut}, whole = {p, size};
  rk__str img = span;
  rk__msg m[2] = {{"user", prefix, &img, 1}, {"assistant", span, NULL, 0}};
  /* The input as a C string too, for the model name. */
  char *z = malloc(size + 1);
  if (!z) return;
  memcpy(z, data, size);
  z[size] = '\0';
  rk__buf b;
  rk__buf_init(&b, 0);
  for (int si = 0; si < 4; si++) {
    rk__srv s = g_srv[si];
    const char *path;
    const rk__jval *r;

    rk__buf_reset(&b);
    rk__arena_reset(&g_arena);
    CHECK(rk__wire_top(s, "m", m, 2, 5, &b, &path) == 0);
    reparse(&b, has_nul);

    rk__gen_opts o = {size ? (long)data[0] : 0, size > 1 ? data[1] / 100.0 : 0,
                      size > 2 ? data[2] / 255.0 : 1, size > 3 ? data[3] - 128 : -1};
    rk__buf_reset(&b);
    rk__arena_reset(&g_arena);
    CHECK(rk__wire_gen(s, z, m, 2, &o, &b, &path) == 0);
    reparse(&b, has_nul);

    for (int chat = 0; chat < 2; chat++) {
      rk__lp_query q = {chat, m, 2, prefix, span, NULL, 0};
      rk__buf_reset(&b);
      rk__arena_reset(&g_arena);
      int rc = rk__wire_prompt_lp(s, "m", &q, &b, &path);
      const char *why = rk__wire_unsupported(s, RK__NEED_PROMPT_LP, 0,
                                             chat ? "chat" : "plain");
      CHECK((rc == 0) == (why == NULL));
      if (rc) {
        CHECK(b.n == 0);
        continue;
      }
      r = reparse(&b, has_nul);
      if (r && utf8 && !chat) {
        const char *key = s == RK__SRV_VLLM ? "prompt"
                          : s == RK__SRV_SGLANG ? "text"
                                                : "inputs";
        const rk__jval *t = rk__json_get(r, key);
        CHECK(t && t->type == RK__JSTR && t->u.str.n == size &&
              (size == 0 || memcmp(t->u.str.p, data, size) == 0));
      }
    }

    rk__str texts[2] = {prefix, span};
    static const char *const eps[] = {"classify", "pooling", "embeddings"};
    for (int e = 0; e < 3; e++) {
      rk__buf_reset(&b);
      rk__arena_reset(&g_arena);
      int rc = rk__wire_score(s, z, eps[e], texts, 2, &b, &path);
      CHECK((rc == 0) == (rk__wire_unsupported(s, RK__NEED_SCORE, 0, eps[e]) == NULL));
      if (rc == 0) reparse(&b, has_nul);
    }

    rk__embed_in in[2] = {{whole, img}, {span, {NULL, 0}}};
    for (int c = 0; c < 2; c++) {
      rk__buf_reset(&b);
      rk__arena_reset(&g_arena);
      /* c == 0: one input, with an image when the span is not empty. */
      int rc = c == 0 ? rk__wire_embed(s, "e", in, 1, &b, &path)
                      : rk__wire_embed(s, "e", &in[1], 1, &b, &path);
      CHECK((rc == 0) == (s != RK__SRV_TGI));
      if (rc == 0) reparse(&b, has_nul);
    }
  }
  rk__buf_release(&b);
  free(z);
}

static void fuzz_judge_text(const uint8_t *data, size_t size) {
  rk__str t = {(const char *)data, size};
  for (int last = 0; last < 2; last++) {
    double score = 0, out_of = 0;
    int rc = rk__parse_judge_score(t, last, &score, &out_of);
    CHECK(rc == 0 || rc == -1);
  }
  int v = rk__parse_verdict(t);
  CHECK(v >= -1 && v <= 1);
  char last = (char)('A' + (size % 9));
  char c = rk__parse_choice_letter(t, last);
  CHECK(c == 0 || (c >= 'A' && c <= last));
  static const char *const extra[] = {"ok", "answer:", NULL};
  char buf[64];
  for (int e = 0; e < 2; e++) {
    memset(buf, 'x', sizeof buf);
    const char *why = rk__judge_gate(t, e ? extra : NULL, buf, sizeof buf);
    if (why) CHECK(why[0] != '\0');
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_init) {
    rk__arena_init(&g_arena, (size_t)256 << 20);
    g_init = 1;
  }
  fuzz_parsers(data, size);
  fuzz_builders(data, size);
  fuzz_judge_text(data, size);
  rk__arena_reset(&g_arena);
  return 0;
}

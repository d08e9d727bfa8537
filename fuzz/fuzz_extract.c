/*
 * fuzz_extract.c - every extraction mode, the normalisers, and the text
 * rewards (exact, contains, mcq, yes_no, numeric) on arbitrary bytes.
 *
 * Input: response bytes, optionally followed by '\x01' and reference
 * bytes. Checks (a failure is __builtin_trap()):
 *  - rk__extract returns a valid status; an answer lies inside the input
 *    (or, for the number modes, in the arena) and is trimmed;
 *  - the normalisers always produce valid UTF-8, never fail on a generous
 *    arena, and never come out shorter than rk__norm_min_len promises;
 *  - each text reward, scored through the public API with a small step
 *    budget, returns a record with a known status.
 *
 *   CC=clang CXX=clang++ cmake -S . -B build-fuzz-text -DRK_FUZZ=ON \
 *     -DCMAKE_BUILD_TYPE=Debug && cmake --build build-fuzz-text --target fuzz_extract
 *   build-fuzz-text/fuzz_extract -max_total_time=120 fuzz/corpus/extract
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/core.h"
#include "json/json.h"
#include "rewardkit.h"
#include "text/extract.h"
#include "text/normalize.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static int valid_utf8(const char *p, size_t n) {
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t u;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)p + i, (utf8proc_ssize_t)(n - i), &u);
    if (k <= 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

static int is_ws(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static void check_normalisers(rk__arena *a, rk__str s) {
  rk__norm kinds[4] = {rk__norm_default(),
                       {RK__NORM_SQUAD, RK__NORM_CASEFOLD},
                       {RK__NORM_NONE, RK__NORM_CASEFOLD},
                       {RK__NORM_DEFAULT, RK__NORM_PUNCT | RK__NORM_ARTICLES}};
  for (int k = 0; k < 4; k++) {
    rk__str out;
    CHECK(rk__normalize(&kinds[k], a, s, &out) == 0);
    /* The length bound exact relies on never exceeds the real length. */
    CHECK(rk__norm_min_len(s, (size_t)-1) <= out.n);
    /* Every kind that changes text replaces invalid UTF-8 by U+FFFD. */
    CHECK(valid_utf8(out.p, out.n));
    if (kinds[k].steps & RK__NORM_SPACE || k == 1)
      CHECK(out.n == 0 || (out.p[0] != ' ' && out.p[out.n - 1] != ' '));
  }
}

static rk_ctx *ctx;
static rk_spec *specs[5];
static const char *const spec_text[5] = {
    "{\"reward\":{\"fn\":\"exact\"}}",
    "{\"reward\":{\"fn\":\"contains\",\"args\":{\"word_boundary\":true}}}",
    ("{\"reward\":{\"fn\":\"mcq\",\"args\":{\"options\":[\"Paris\",\"London\","
     "\"New York\",\"York\"]}}}"),
    "{\"reward\":{\"fn\":\"yes_no\"}}",
    "{\"reward\":{\"fn\":\"numeric\",\"args\":{\"rel_tol\":0.01}}}"};

static void setup(void) {
  if (ctx) return;
  rk_ctx_options co = {1};
  CHECK(rk_ctx_create(&co, &ctx) == RK_OK);
  for (int i = 0; i < 5; i++) {
    char err[256];
    CHECK(rk_spec_compile(spec_text[i], strlen(spec_text[i]), &specs[i], err, sizeof err) == RK_OK);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  const char *p = (const char *)data;
  const char *sep = memchr(p, '\x01', size);
  size_t rn = sep ? (size_t)(sep - p) : size;
  rk__str resp = rk__str_make(p, rn);
  rk__str ref = sep ? rk__str_make(sep + 1, size - rn - 1) : rk__str_make("42", 2);

  rk__arena arena;
  rk__arena_init(&arena, 0);
  rk__buf expl, err;
  rk__buf_init(&expl, 1 << 16);
  rk__buf_init(&err, 1 << 12);
  rk__budget budget;
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &arena;
  c.budget = &budget;
  c.explain = &expl;
  c.error = &err;

  for (int m = 0; m < RK__EX__COUNT + 2; m++) {
    rk__extract_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (m < RK__EX__COUNT) {
      cfg.modes[0] = (rk__ex_mode)m;
      cfg.nmodes = 1;
    } else {
      cfg.modes[0] = RK__EX_AUTO;
      cfg.modes[1] = RK__EX_NONE;
      cfg.nmodes = 2;
    }
    if (m == RK__EX__COUNT + 1) cfg.tail = 7; /* a small window */
    budget.used = 0;
    budget.limit = (size & 1) ? 64 : 1000000;
    rk__buf_reset(&expl);
    rk__str out;
    const char *how = NULL;
    rk_status st = rk__extract(&cfg, &c, resp, &out, &how);
    CHECK(st == RK_STATUS_OK || st == RK_STATUS_UNPARSEABLE || st == RK_STATUS_TIMEOUT);
    if (st == RK_STATUS_OK) {
      CHECK(how != NULL);
      CHECK(out.n <= resp.n);
      int inside = out.p >= resp.p && out.p + out.n <= resp.p + resp.n;
      int copies = m == RK__EX_GSM8K_STRICT || m == RK__EX_GSM8K_FLEX || m == RK__EX_LAST_NUMBER;
      CHECK(inside || copies);
      CHECK(out.n > 0 && !is_ws(out.p[0]) && !is_ws(out.p[out.n - 1]));
      check_normalisers(&arena, out);
    }
    rk__arena_reset(&arena);
  }
  check_normalisers(&arena, resp);
  rk__arena_reset(&arena);

  /* The rewards, through the public API. The record reader rejects the
   * \u0000 escape (as jansson does), so NULs become spaces here. */
  char *tmp = malloc(size + 1);
  CHECK(tmp);
  for (size_t i = 0; i < size; i++) tmp[i] = p[i] ? p[i] : ' ';
  rk__buf rec;
  rk__buf_init(&rec, 0);
  rk__buf_puts(&rec, "{\"response\":");
  rk__json_put_str(&rec, tmp, resp.n);
  rk__buf_puts(&rec, ",\"reference\":");
  rk__json_put_str(&rec, ref.p == p + rn + 1 ? tmp + rn + 1 : ref.p, ref.n);
  free(tmp);
  rk__buf_putc(&rec, '}');
  CHECK(!rec.oom);
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  so.step_budget = (size & 2) ? 200 : 1000000;
  for (int i = 0; i < 5; i++) {
    char *out = NULL;
    size_t on = 0;
    CHECK(rk_score_one(ctx, specs[i], &so, rec.p, rec.n, &out, &on) == RK_OK);
    CHECK(out && on > 0 && memmem(out, on, "\"status\":", 9));
    if (memmem(out, on, "\"status\":\"error\"", 16)) {
      fprintf(stderr, "%.*s\n", (int)on, out);
      __builtin_trap();
    }
    rk_free(out);
  }
  rk__buf_release(&rec);
  rk__buf_release(&expl);
  rk__buf_release(&err);
  rk__arena_release(&arena);
  return 0;
}

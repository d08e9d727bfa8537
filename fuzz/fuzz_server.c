/*
 * fuzz_server.c - the server's request-body path on arbitrary bytes: the
 * array splitter (spans must lie inside the input, counting and filling
 * must agree), each span scored through the library as the server does,
 * the OpenRLHF response cutter, and the OpenRLHF body reader: every
 * record it builds must be a JSON object the library's reader accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"
#include "rewardkit.h"
#include "server/server.h"

static rk_spec *spec;
static rk_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!spec) {
    const char *js = "{\"reward\":{\"sum\":[{\"fn\":\"format\"},{\"fn\":\"exact\"}]}}";
    char err[256];
    if (rk_spec_compile(js, strlen(js), &spec, err, sizeof err) != RK_OK) __builtin_trap();
    rk_ctx_options o = {.threads = 1};
    if (rk_ctx_create(&o, &ctx) != RK_OK) __builtin_trap();
  }
  const char *p = (const char *)data;
  size_t at = 0;
  const char *err = NULL;
  long n = rk_server_split_array(p, size, NULL, NULL, 0, &at, &err);
  if (n < 0) {
    if (!err || at > size) __builtin_trap();
  } else if (n > 0) {
    size_t cap = (size_t)n < 64 ? (size_t)n : 64;
    const char *st[64];
    size_t ln[64];
    if (rk_server_split_array(p, size, st, ln, cap, &at, &err) != n) __builtin_trap();
    for (size_t i = 0; i < cap; i++)
      if (st[i] < p || ln[i] == 0 || st[i] + ln[i] > p + size) __builtin_trap();
    rk_score_options so = {.results_only = 1, .step_budget = 100000};
    rk_batch *b = NULL;
    if (rk_score_batch(ctx, spec, &so, st, ln, cap, &b) != RK_OK) __builtin_trap();
    if (rk_batch_count(b) != cap) __builtin_trap();
    rk_batch_free(b);
  }
  size_t half = size / 2;
  const char *out = NULL;
  size_t on = 0;
  rk_server_cut_response(p, size, p, half, size > 3 ? "ab" : NULL, &out, &on);
  if (out < p || out + on > p + size) __builtin_trap();

  char *text = NULL, msg[256];
  size_t *off = NULL, count = 0;
  int code = rk_server_openrlhf_records(p, size, "ab", 1000, &text, &off, &count, msg,
                                        sizeof msg);
  if (code) {
    if ((code != 400 && code != 413 && code != 500) || !msg[0] || text || off) __builtin_trap();
    return 0;
  }
  rk__arena a;
  rk__arena_init(&a, RK__ARENA_DEFAULT_LIMIT);
  for (size_t i = 0; i < count; i++) {
    rk__jval *v = NULL;
    if (off[i + 1] < off[i] ||
        rk__json_parse(text + off[i], off[i + 1] - off[i], &a, NULL, &v, NULL) != 0 ||
        v->type != RK__JOBJ)
      __builtin_trap();
    rk__arena_reset(&a);
  }
  rk__arena_release(&a);
  free(text);
  free(off);
  return 0;
}

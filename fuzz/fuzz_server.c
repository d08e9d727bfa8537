/*
 * fuzz_server.c - the server's request-body path on arbitrary bytes: the
 * array splitter (spans must lie inside the input, counting and filling
 * must agree), each span scored through the library as the server does,
 * the OpenRLHF response cutter, and the OpenRLHF body reader: every
 * record it builds must be a JSON object the library's reader accepts,
 * and the samples must score (responses handed over apart) one result
 * each.
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

  char msg[256];
  rk_server_samples sm;
  int code = rk_server_openrlhf_records(p, size, "ab", 1000, &sm, msg, sizeof msg);
  if (code) {
    if ((code != 400 && code != 413 && code != 500) || !msg[0] || sm.text || sm.mem)
      __builtin_trap();
    return 0;
  }
  rk__arena a;
  rk__arena_init(&a, RK__ARENA_DEFAULT_LIMIT);
  for (size_t i = 0; i < sm.n; i++) {
    rk__jval *v = NULL;
    if (sm.off[i + 1] < sm.off[i] ||
        rk__json_parse(sm.text + sm.off[i], sm.off[i + 1] - sm.off[i], &a, NULL, &v, NULL) != 0 ||
        v->type != RK__JOBJ)
      __builtin_trap();
    rk__arena_reset(&a);
  }
  rk__arena_release(&a);
  /* Scored as the server scores them: one result per sample. */
  size_t cap = sm.n < 64 ? sm.n : 64;
  const char *st[64];
  size_t ln[64];
  for (size_t i = 0; i < cap; i++) {
    st[i] = sm.text + sm.off[i];
    ln[i] = sm.off[i + 1] - sm.off[i];
  }
  rk_score_options so = {.results_only = 1, .step_budget = 100000};
  rk_batch *b = NULL;
  if (cap && (rk_score_batch_responses(ctx, spec, &so, st, ln, sm.resp, sm.resp_len, cap, &b) !=
                  RK_OK ||
              rk_batch_count(b) != cap))
    __builtin_trap();
  rk_batch_free(b);
  rk_server_samples_free(&sm);
  return 0;
}

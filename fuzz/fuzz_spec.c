/*
 * fuzz_spec.c - the spec compiler on arbitrary bytes: it must return a
 * spec or an error message, never crash or leak; a compiled spec must
 * score a record without crashing.
 */
#include <stdint.h>
#include <string.h>

#include "rewardkit.h"

static rk_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ctx) {
    rk_ctx_options o = {.threads = 1};
    if (rk_ctx_create(&o, &ctx) != RK_OK) __builtin_trap();
  }
  rk_spec *spec = NULL;
  char err[512];
  rk_err rc = rk_spec_compile((const char *)data, size, &spec, err, sizeof err);
  if (rc == RK_OK) {
    if (!spec) __builtin_trap();
    const char *rec =
        "{\"response\":\"<think>x</think><answer>B</answer>\",\"reference\":\"B\","
        "\"task\":\"gsm8k\",\"group\":1,\"x\":0.5}";
    char *out = NULL;
    rk_score_options opts = {.explain = 1, .step_budget = 1000000};
    if (rk_score_one(ctx, spec, &opts, rec, strlen(rec), &out, NULL) != RK_OK) __builtin_trap();
    rk_free(out);
    rk_spec_free(spec);
  } else {
    if (spec || err[0] == '\0') __builtin_trap();
  }
  return 0;
}

/*
 * constant.c - fn `constant`: a fixed value. Useful as a gate's inner node,
 * a baseline in sums, and in tests of the combinators.
 */
#include <stdlib.h>

#include "core/core.h"

static int compile(rk__argctx *ac, void **cfg) {
  double *v = malloc(sizeof *v);
  if (!v) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__arg_num(ac, "value", 1.0, v)) {
    free(v);
    return -1;
  }
  *cfg = v;
  return 0;
}

static rk_status score(const void *cfg, rk__call *c, double *value) {
  *value = *(const double *)cfg;
  rk__explain(c, "constant %g", *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_constant = {
    .name = "constant",
    .summary = "a fixed value (args: value, default 1)",
    .compile = compile,
    .score = score,
    .free = free,
    .no_response = 1,
};

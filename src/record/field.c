/*
 * field.c - fn `field`: a number the record already carries (a reward-model
 * score, a judge probability, a pass rate computed elsewhere), read by a
 * dotted path. Booleans count as 1/0. Missing or non-numeric -> error,
 * never a silent 0, unless a default is given.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "json/json.h"

typedef struct {
  char *path;
  int has_default;
  double def;
} cfg_t;

static void cfg_free(void *p) {
  cfg_t *c = p;
  if (!c) return;
  free(c->path);
  free(c);
}

static int compile(rk__argctx *ac, void **out) {
  cfg_t *c = calloc(1, sizeof *c);
  if (!c) return rk__arg_error(ac, NULL, "out of memory");
  *out = c;
  if (rk__arg_str(ac, "field", NULL, &c->path)) return -1;
  if (!c->path || !c->path[0])
    return rk__arg_error(ac, "field", "required: the record field holding the "
                         "number, e.g. \"meta.rm_score\"");
  c->has_default = rk__arg_raw(ac, "default") != NULL;
  return rk__arg_num(ac, "default", 0.0, &c->def);
}

static rk_status score(const void *cfgp, rk__call *c, double *value) {
  const cfg_t *cfg = cfgp;
  const rk__jval *v = rk__record_field(c->rec, cfg->path);
  if (v && v->type == RK__JNUM) {
    *value = v->u.num;
  } else if (v && (v->type == RK__JTRUE || v->type == RK__JFALSE)) {
    *value = v->type == RK__JTRUE;
  } else if (cfg->has_default) {
    *value = cfg->def;
    rk__explain(c, "field '%s' %s: default %g", cfg->path,
                v ? "is not a number" : "is missing", cfg->def);
    return RK_STATUS_OK;
  } else {
    return rk__fail(c, "field '%s' %s", cfg->path,
                    v ? "is not a number" : "is missing from the record");
  }
  rk__explain(c, "field '%s' = %g", cfg->path, *value);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_field = {
    .name = "field",
    .summary = "a number the record carries (args: field = dotted path, default)",
    .compile = compile,
    .score = score,
    .free = cfg_free,
    .no_response = 1,
};

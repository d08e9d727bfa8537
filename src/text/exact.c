/*
 * exact.c - fn `exact`: normalised exact match of the extracted answer
 * against the reference (a string, a number, or an array of acceptable
 * answers: the best one counts). Reward 1 or 0 (docs/rewards/text.md).
 *
 * Not for: math equivalence ("1/2" vs "0.5": use the math reward) or
 * partial credit (token F1).
 */
#include <stdlib.h>
#include <string.h>

#include "text/extract.h"
#include "text/normalize.h"

typedef struct exact_cfg {
  rk__extract_cfg ex;
  rk__norm norm;
} exact_cfg;

static void exact_free(void *p) {
  exact_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int exact_compile(rk__argctx *ac, void **out) {
  exact_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) || rk__norm_compile(ac, &cfg->norm)) {
    exact_free(cfg);
    return -1;
  }
  /* Default: the auto cascade, then the whole response ("Paris"). */
  if (!given) {
    cfg->ex.modes[1] = RK__EX_NONE;
    cfg->ex.nmodes = 2;
  }
  *out = cfg;
  return 0;
}

static rk_status exact_score(const void *p, rk__call *c, double *value) {
  const exact_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS];
  int had;
  size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had);
  if (!nref) {
    rk__explain(c, had ? "reference is empty or not a string/number" : "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  rk__str ans;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, NULL);
  if (st != RK_STATUS_OK) return st;
  rk__str golds[RK__MAX_REFS];
  size_t longest = 0;
  for (size_t i = 0; i < nref; i++) {
    rk__str r = rk__text_clean(refs[i]);
    if (!rk__spend(c, rk__norm_steps(&cfg->norm, r))) return RK_STATUS_TIMEOUT;
    if (rk__normalize(&cfg->norm, c->arena, r, &golds[i]))
      return rk__fail(c, "exact: out of scratch memory");
    if (golds[i].n > longest) longest = golds[i].n;
  }
  /* A long answer (typically the whole response, when nothing was
   * extracted) that cannot normalise down to any gold's length is
   * rejected without normalising it. */
  if (ans.n > longest + 64 && rk__norm_min_len(ans, longest) > longest) {
    if (!rk__spend(c, 64)) return RK_STATUS_TIMEOUT;
    if (rk__explaining(c)) {
      const char *e1, *e2;
      int k1 = rk__text_clip(ans, 40, &e1), k2 = rk__text_clip(golds[0], 80, &e2);
      rk__explain(c, "pred '%.*s%s' != gold '%.*s%s' (normalised; pred too long to match)", k1,
                  ans.p, e1, k2, golds[0].p, e2);
    }
    return RK_STATUS_OK;
  }
  rk__str pred;
  if (!rk__spend(c, rk__norm_steps(&cfg->norm, ans))) return RK_STATUS_TIMEOUT;
  if (rk__normalize(&cfg->norm, c->arena, ans, &pred))
    return rk__fail(c, "exact: out of scratch memory");
  rk__str first = golds[0];
  for (size_t i = 0; i < nref; i++) {
    rk__str gold = golds[i];
    if (rk__str_eq(pred, gold)) {
      *value = 1;
      if (rk__explaining(c)) {
        const char *e1;
        int k1 = rk__text_clip(pred, 80, &e1);
        rk__explain(c, "pred '%.*s%s' == gold '%.*s%s' (normalised)", k1, pred.p, e1, k1, gold.p,
                    e1);
      }
      return RK_STATUS_OK;
    }
  }
  if (rk__explaining(c)) {
    const char *e1, *e2;
    int k1 = rk__text_clip(pred, 80, &e1), k2 = rk__text_clip(first, 80, &e2);
    if (nref == 1)
      rk__explain(c, "pred '%.*s%s' != gold '%.*s%s' (normalised)", k1, pred.p, e1, k2, first.p,
                  e2);
    else
      rk__explain(c, "pred '%.*s%s' matches none of %zu golds (first '%.*s%s', normalised)", k1,
                  pred.p, e1, nref, k2, first.p, e2);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_exact = {
    .name = "exact",
    .summary =
        "normalised exact match of the extracted answer (args: extract, normalize, "
        "case_sensitive)",
    .compile = exact_compile,
    .score = exact_score,
    .free = exact_free,
};

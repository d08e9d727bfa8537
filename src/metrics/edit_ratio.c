/*
 * edit_ratio.c - fn `edit_ratio`: normalised edit similarity of the
 * extracted answer and the reference, over Unicode code points
 * (docs/rewards/edit.md).
 *
 *   "levenshtein" (default): 1 - lev(a, b) / max(|a|, |b|)
 *   "indel":  1 - (|a| + |b| - 2 LCS(a, b)) / (|a| + |b|)
 *             = python-Levenshtein's Levenshtein.ratio (substitution
 *               costs 2, i.e. InDel distance) and rapidfuzz's
 *               fuzz.ratio / 100.
 * Two empty strings score 1 in both. Several references: the best.
 *
 * Not for: token-level overlap (f1, rouge) or thresholded scores (anls).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/edit_common.h"

typedef struct er_cfg {
  int indel;
  rk__extract_cfg ex;
  rk__edm_norm norm;
} er_cfg;

static void er_free(void *p) {
  er_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int er_compile(rk__argctx *ac, void **out) {
  static const rk__ex_mode def[] = {RK__EX_ANSWER_TAG, RK__EX_NONE};
  static const char *const methods[] = {"levenshtein", "indel", NULL};
  er_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__edm_norm_compile(ac, 0, &cfg->norm) ||
      rk__arg_enum(ac, "method", methods, 0, &cfg->indel)) {
    er_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

double rk__edit_ratio_value(size_t na, size_t nb, long dist_or_lcs, int indel);

/* The similarity from the lengths and the distance (levenshtein) or the
 * LCS length (indel). */
double rk__edit_ratio_value(size_t na, size_t nb, long v, int indel) {
  if (indel) {
    size_t sum = na + nb;
    if (sum == 0) return 1.0;
    return 1.0 - (double)(sum - 2 * (size_t)v) / (double)sum;
  }
  size_t mx = na > nb ? na : nb;
  if (mx == 0) return 1.0;
  return 1.0 - (double)v / (double)mx;
}

static rk_status er_score(const void *p, rk__call *c, double *value) {
  const er_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans, t;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  if ((st = rk__edm_normalize(&cfg->norm, c, ans, &t)) != RK_STATUS_OK) return st;
  uint8_t abuf[RK__EDM_STACK], bbuf[RK__EDM_STACK];
  rk__edm_text a, b;
  if ((st = rk__edm_text_prepare(c, t, abuf, &a)) != RK_STATUS_OK) return st;
  double best = -1;
  long best_v = 0;
  size_t best_n = 0, best_i = 0;
  for (size_t i = 0; i < nref; i++) {
    rk__str r = rk__text_trim(refs[i]);
    if ((st = rk__edm_normalize(&cfg->norm, c, r, &t)) != RK_STATUS_OK) return st;
    if ((st = rk__edm_text_prepare(c, t, bbuf, &b)) != RK_STATUS_OK) return st;
    long v;
    if ((st = rk__edm_text_lev(c, &a, &b, cfg->indel, "code points", &v)) != RK_STATUS_OK)
      return st;
    double s = rk__edit_ratio_value(a.n, b.n, v, cfg->indel);
    if (s > best) best = s, best_v = v, best_n = b.n, best_i = i;
  }
  *value = best;
  if (rk__explaining(c)) {
    char x[32];
    if (cfg->indel)
      rk__explain(c, "indel ratio: LCS %ld of %zu + %zu code points; 2*%ld/%zu = %s",
                  best_v, a.n, best_n, best_v, a.n + best_n, rk__edm_num(x, best));
    else
      rk__explain(c, "Levenshtein %ld over max(%zu, %zu) code points; 1 - %ld/%zu = %s",
                  best_v, a.n, best_n, best_v, a.n > best_n ? a.n : best_n,
                  rk__edm_num(x, best));
    if (nref > 1) rk__explain(c, "best of %zu references (#%zu)", nref, best_i + 1);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_edit_ratio = {
    .name = "edit_ratio",
    .summary = "normalised edit similarity over code points: 1 - lev/max(len) or python-Levenshtein ratio (method: indel)",
    .compile = er_compile,
    .score = er_score,
    .free = er_free,
};

/*
 * relaxed_acc.c - fn `relaxed_acc`: ChartQA relaxed accuracy (Methani et
 * al. 2020; Pix2Struct; code in lmms-eval tasks/chartqa/utils.py, from
 * Qwen-VL evaluate_vqa.py):
 *
 *   to_float(t) = float(t.rstrip('%')) / 100 if t ends with '%', else
 *                 float(t), else None
 *   if to_float(pred) is not None and to_float(target) (non-zero):
 *       correct = |p - t| / |t| <= 0.05
 *   else correct = pred.lower() == target.lower()
 *
 * Reward 1 or 0, best over several targets. Python's float() grammar is
 * reproduced (surrounding whitespace, "1_000", "1e3", ".5", "inf", "nan";
 * not "1,000"). The quirk: a zero target never compares numerically, so
 * "0.0" vs "0" is wrong; "zero_target": "numeric" compares p == 0.
 *
 * Not for: math equivalence (fractions, units): use the math rewards.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/edit_common.h"

typedef struct ra_cfg {
  double tol;
  int zero_numeric;
  rk__extract_cfg ex;
} ra_cfg;

static void ra_free(void *p) {
  ra_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int ra_compile(rk__argctx *ac, void **out) {
  static const rk__ex_mode def[] = {RK__EX_AUTO, RK__EX_NONE};
  static const char *const zeros[] = {"exact_string", "numeric", NULL};
  ra_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__edm_extract_compile(ac, def, 2, &cfg->ex) ||
      rk__arg_num_range(ac, "tolerance", 0.05, 0.0, 1e300, &cfg->tol) ||
      rk__arg_enum(ac, "zero_target", zeros, 0, &cfg->zero_numeric)) {
    ra_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

static int is_d(uint32_t c) { return c >= '0' && c <= '9'; }

/* Python float(s) on code points: 1 and *out, or 0 (ValueError). */
int rk__py_float(const uint32_t *s, size_t n, double *out);
int rk__py_float(const uint32_t *s, size_t n, double *out) {
  size_t lo = 0, hi = n;
  while (lo < hi && rk__cp_isspace(s[lo])) lo++;
  while (hi > lo && rk__cp_isspace(s[hi - 1])) hi--;
  if (lo == hi || hi - lo > 400) return 0;
  char buf[404];
  size_t k = 0, i = lo;
  if (s[i] == '+' || s[i] == '-') buf[k++] = (char)s[i++];
  /* inf / infinity / nan, any case */
  {
    static const char *const words[] = {"infinity", "inf", "nan"};
    for (int w = 0; w < 3; w++) {
      size_t L = strlen(words[w]);
      if (hi - i != L) continue;
      int ok = 1;
      for (size_t q = 0; q < L && ok; q++) {
        uint32_t c = s[i + q];
        if (c >= 'A' && c <= 'Z') c += 32;
        ok = c == (unsigned char)words[w][q];
      }
      if (ok) {
        double v = w == 2 ? NAN : INFINITY;
        *out = (k && buf[0] == '-') ? -v : v;
        return 1;
      }
    }
  }
  /* digits with single underscores between digits */
  size_t nd = 0;
#define DIGITS(count)                                                   \
  do {                                                                  \
    while (i < hi && is_d(s[i])) {                                      \
      buf[k++] = (char)s[i++];                                          \
      count++;                                                          \
      if (i + 1 < hi && s[i] == '_' && is_d(s[i + 1])) i++;             \
    }                                                                   \
  } while (0)
  DIGITS(nd);
  if (i < hi && s[i] == '.') {
    buf[k++] = '.';
    i++;
    if (i < hi && is_d(s[i])) DIGITS(nd);
  }
  if (nd == 0) return 0;
  if (i < hi && (s[i] == 'e' || s[i] == 'E')) {
    buf[k++] = 'e';
    i++;
    if (i < hi && (s[i] == '+' || s[i] == '-')) buf[k++] = (char)s[i++];
    size_t ne = 0;
    DIGITS(ne);
    if (ne == 0) return 0;
  }
#undef DIGITS
  if (i != hi) return 0;
  buf[k] = '\0';
  *out = strtod(buf, NULL);
  return 1;
}

/* to_float of the ChartQA script. */
static int to_float(const uint32_t *s, size_t n, double *out) {
  if (n && s[n - 1] == '%') {
    while (n && s[n - 1] == '%') n--;
    if (!rk__py_float(s, n, out)) return 0;
    *out /= 100.0;
    return 1;
  }
  return rk__py_float(s, n, out);
}

static rk_status ra_score(const void *p, rk__call *c, double *value) {
  const ra_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  rk__seq pr;
  if ((st = rk__edm_decode(c, ans, &pr)) != RK_STATUS_OK) return st;
  double pv = 0;
  int pnum = to_float(pr.v, pr.n, &pv);
  uint32_t *pl = NULL;
  size_t npl = 0;
  char why[160] = "";
  for (size_t i = 0; i < nref && *value == 0; i++) {
    rk__seq t;
    if ((st = rk__edm_decode(c, refs[i], &t)) != RK_STATUS_OK) return st;
    double tv = 0;
    int tnum = to_float(t.v, t.n, &tv);
    char a[32], b[32], d[32];
    if (pnum && tnum && (tv != 0 || (cfg->zero_numeric && !isnan(tv)))) {
      if (tv == 0) {
        *value = pv == 0;
        if (rk__explaining(c))
          snprintf(why, sizeof why, "pred %s vs zero target: %s (zero_target numeric)",
                 rk__edm_num(a, pv), pv == 0 ? "equal" : "not equal");
      } else {
        double rel = fabs(pv - tv) / fabs(tv);
        char e[32];
        *value = rel <= cfg->tol;
        if (rk__explaining(c))
          snprintf(why, sizeof why, "pred %s vs target %s: relative change %s %s %s",
                 rk__edm_num(a, pv), rk__edm_num(b, tv), rk__edm_num(d, rel),
                 rel <= cfg->tol ? "<=" : isnan(rel) ? "(NaN) not <=" : ">",
                 rk__edm_num(e, cfg->tol));
      }
      continue;
    }
    if (!pl) {
      pl = rk__arena_alloc(c->arena, (2 * pr.n + 1) * sizeof *pl);
      if (!pl) return rk__fail(c, "out of scratch memory");
      npl = rk__cp_lower_seq(pr.v, pr.n, pl);
    }
    uint32_t *tl = rk__arena_alloc(c->arena, (2 * t.n + 1) * sizeof *tl);
    if (!tl) return rk__fail(c, "out of scratch memory");
    size_t ntl = rk__cp_lower_seq(t.v, t.n, tl);
    int eq = ntl == npl && (npl == 0 || memcmp(tl, pl, npl * sizeof *pl) == 0);
    *value = eq;
    if (rk__explaining(c))
      snprintf(why, sizeof why, "%s; lower-cased strings %s",
             !pnum ? "pred is not a number"
             : !tnum ? "target is not a number"
                     : "target is zero (falls back to the string compare)",
             eq ? "equal" : "differ");
  }
  if (rk__explaining(c)) {
    rk__explain(c, "%s", why);
    if (nref > 1) rk__explain(c, "%s among %zu targets", *value ? "match" : "no match", nref);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_relaxed_acc = {
    .name = "relaxed_acc",
    .summary = "ChartQA relaxed accuracy: numbers within 5% relative change, else case-insensitive exact match",
    .compile = ra_compile,
    .score = ra_score,
    .free = ra_free,
};

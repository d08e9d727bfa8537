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
 * Speed: ASCII text (nearly every chart answer) is parsed and compared as
 * bytes, and short decimals skip strtod (Clinger's exact case); anything
 * else goes through the code-point path. Both give the same doubles.
 *
 * Not for: math equivalence (fractions, units): use the math rewards.
 */
#include <float.h>
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

/* Exact powers of ten: every one up to 1e22 is a double. */
static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_ascii_space(unsigned char c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

/* rk__py_float for text that is all ASCII (as bytes), with the same
 * result. The plain decimal forms ([sign] digits [. digits] [e [sign]
 * digits]) are read here; while reading, the decimal mantissa (up to 19
 * significant digits) and the power of ten are kept, and when the
 * mantissa is at most 2^53 and the power within 10^-22..10^22 both are
 * exact doubles, so one multiplication or division rounds once, to the
 * correctly rounded value strtod returns (W. Clinger, "How to read
 * floating point numbers accurately", PLDI 1990). Any other form that
 * can still be a number (underscores, inf, nan, long mantissas, large
 * exponents) goes to rk__py_float itself. */
int rk__py_float_ascii(const char *p, size_t n, double *out) {
  const unsigned char *s = (const unsigned char *)p;
  size_t lo = 0, hi = n;
  while (lo < hi && is_ascii_space(s[lo])) lo++;
  while (hi > lo && is_ascii_space(s[hi - 1])) hi--;
  if (lo == hi || hi - lo > 400) return 0;
  size_t i = lo;
  int neg = 0;
  if (s[i] == '+' || s[i] == '-') neg = s[i++] == '-';
  uint64_t mant = 0;
  int sig = 0, exact = 1;
  long e10 = 0;
  size_t nd = 0;
  for (int frac = 0; frac < 2; frac++) {
    if (frac) {
      if (i == hi || s[i] != '.') break;
      i++;
    }
    for (; i < hi && is_d(s[i]); i++, nd++) {
      unsigned d = s[i] - (unsigned)'0';
      if (mant || d) {
        if (sig < 19)
          mant = mant * 10 + d, sig++;
        else
          exact = 0;
      }
      e10 -= frac;
    }
  }
  if (nd == 0) {
    /* No digit: a number only if "inf", "infinity" or "nan" follow. */
    if (i < hi && ((s[i] | 0x20) == 'i' || (s[i] | 0x20) == 'n')) goto general;
    return 0;
  }
  if (i < hi && (s[i] | 0x20) == 'e') {
    i++;
    int eneg = 0;
    if (i < hi && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    size_t ne = 0;
    long ev = 0;
    for (; i < hi && is_d(s[i]); i++, ne++)
      if (ev < 100000) ev = ev * 10 + (s[i] - '0');
    if (ne == 0) return 0;
    e10 += eneg ? -ev : ev;
  }
  if (i != hi) {
    /* Digits may be grouped by single underscores; anything else that
     * follows a number makes it invalid. */
    if (s[i] == '_') goto general;
    return 0;
  }
#if FLT_EVAL_METHOD == 0
  if (exact && mant <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
    double v = (double)mant;
    v = e10 >= 0 ? v * p10[e10] : v / p10[-e10];
    *out = neg ? -v : v;
    return 1;
  }
#endif
general:;
  uint32_t w[400];
  for (size_t q = lo; q < hi; q++) w[q - lo] = s[q];
  return rk__py_float(w, hi - lo, out);
}

/* to_float on ASCII bytes. */
static int to_float_ascii(const char *s, size_t n, double *out) {
  if (n && s[n - 1] == '%') {
    while (n && s[n - 1] == '%') n--;
    if (!rk__py_float_ascii(s, n, out)) return 0;
    *out /= 100.0;
    return 1;
  }
  return rk__py_float_ascii(s, n, out);
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

/* One text: its bytes, and its code points once decoded (ASCII text is
 * never decoded). */
typedef struct ra_text {
  rk__str s;
  int ascii;
  rk__seq cp;
} ra_text;

/* Charges what rk__edm_decode charges, so that budgets and timeouts stay
 * those of decoding every text; decodes non-ASCII text. */
static rk_status ra_prepare(rk__call *c, rk__str s, ra_text *t) {
  t->s = s;
  t->ascii = rk__ascii_span(s.p, s.n) == s.n;
  t->cp.v = NULL;
  t->cp.n = 0;
  if (!t->ascii) return rk__edm_decode(c, s, &t->cp);
  return rk__spend(c, (uint64_t)s.n + 1) ? RK_STATUS_OK : RK_STATUS_TIMEOUT;
}

static int ra_to_float(const ra_text *t, double *out) {
  return t->ascii ? to_float_ascii(t->s.p, t->s.n, out) : to_float(t->cp.v, t->cp.n, out);
}

/* pred.lower() == target.lower(), Python semantics. Two ASCII texts
 * compare bytewise without case; otherwise both are lower-cased as code
 * points (*pl caches the prediction's). 1, 0, or -1 out of memory. */
static int ra_lower_eq(rk__call *c, ra_text *pr, ra_text *t, uint32_t **pl, size_t *npl) {
  if (pr->ascii && t->ascii) {
    if (pr->s.n != t->s.n) return 0;
    for (size_t i = 0; i < t->s.n; i++) {
      unsigned char a = (unsigned char)pr->s.p[i], b = (unsigned char)t->s.p[i];
      if (a != b && ((a | 0x20) != (b | 0x20) || (unsigned char)((a | 0x20) - 'a') > 25))
        return 0;
    }
    return 1;
  }
  for (int side = 0; side < 2; side++) {
    ra_text *x = side ? t : pr;
    if (x->ascii && !x->cp.v && rk__cp_decode_arena(c->arena, x->s, &x->cp)) return -1;
  }
  if (!*pl) {
    *pl = rk__arena_alloc(c->arena, (2 * pr->cp.n + 1) * sizeof **pl);
    if (!*pl) return -1;
    *npl = rk__cp_lower_seq(pr->cp.v, pr->cp.n, *pl);
  }
  uint32_t *tl = rk__arena_alloc(c->arena, (2 * t->cp.n + 1) * sizeof *tl);
  if (!tl) return -1;
  size_t ntl = rk__cp_lower_seq(t->cp.v, t->cp.n, tl);
  return ntl == *npl && (ntl == 0 || memcmp(tl, *pl, ntl * sizeof *tl) == 0);
}

static rk_status ra_score(const void *p, rk__call *c, double *value) {
  const ra_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS], ans;
  size_t nref;
  rk_status st = rk__edm_refs_answer(&cfg->ex, c, refs, &nref, &ans);
  if (st != RK_STATUS_OK) return st;
  ra_text pr, t;
  if ((st = ra_prepare(c, ans, &pr)) != RK_STATUS_OK) return st;
  double pv = 0;
  int pnum = ra_to_float(&pr, &pv);
  uint32_t *pl = NULL;
  size_t npl = 0;
  char why[160] = "";
  for (size_t i = 0; i < nref && *value == 0; i++) {
    if ((st = ra_prepare(c, refs[i], &t)) != RK_STATUS_OK) return st;
    double tv = 0;
    int tnum = ra_to_float(&t, &tv);
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
    int eq = ra_lower_eq(c, &pr, &t, &pl, &npl);
    if (eq < 0) return rk__fail(c, "out of scratch memory");
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

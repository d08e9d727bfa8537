/*
 * numeric.c - fn `numeric`: the number in the extracted answer against the
 * reference number. With no tolerance the parsed decimals are compared
 * exactly ("1,000" == "1000.0", "0.1" != "0.10000001"), never as floats;
 * with abs_tol / rel_tol, as doubles (math.isclose rule). Percent follows
 * the data README rule 8, thousands separators rule 7.
 *
 * Not for: fractions, radicals or expressions (the math reward), or units
 * conversion. A response naming several different numbers scores 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "text/extract.h"
#include "text/normalize.h"

typedef struct num_cfg {
  rk__extract_cfg ex;
  double abs_tol, rel_tol;
} num_cfg;

static void num_free(void *p) {
  num_cfg *cfg = p;
  if (!cfg) return;
  rk__extract_cfg_free(&cfg->ex);
  free(cfg);
}

static int num_compile(rk__argctx *ac, void **out) {
  num_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  int given = rk__arg_raw(ac, "extract") != NULL;
  if (rk__extract_cfg_compile(ac, RK__EX_AUTO, &cfg->ex) ||
      rk__arg_num_range(ac, "abs_tol", 0, 0, INFINITY, &cfg->abs_tol) ||
      rk__arg_num_range(ac, "rel_tol", 0, 0, INFINITY, &cfg->rel_tol)) {
    num_free(cfg);
    return -1;
  }
  if (!given) {
    cfg->ex.modes[1] = RK__EX_NONE;
    cfg->ex.nmodes = 2;
  }
  *out = cfg;
  return 0;
}

/* ------------------------------------------------------------ decimals */

/* value = (neg ? -1 : 1) * D * 10^exp, D the integer spelled by d[0..nd)
 * without leading or trailing zeros (nd = 0: the value is zero). */
typedef struct dec {
  int neg, pct;
  const char *d;
  size_t nd;
  long long exp;
  rk__str src; /* the text it was read from */
} dec;

#define EXP_MAX 100000000LL

static inline int dig(unsigned char c) {
  return c >= '0' && c <= '9';
}
static inline int alpha(unsigned char c) {
  return (c | 32) >= 'a' && (c | 32) <= 'z';
}

/* Length of a thousands separator at p[i] (rule 7: ',', "{,}", "\,",
 * "\ ", a space, a thin or no-break space), else 0. */
static size_t sep_at(const char *p, size_t n, size_t i, int *space) {
  *space = 0;
  if (i >= n) return 0;
  if (p[i] == ',') return 1;
  if (p[i] == ' ') return *space = 1, 1;
  if (n - i >= 3 && memcmp(p + i, "{,}", 3) == 0) return 3;
  if (n - i >= 2 && p[i] == '\\' && (p[i + 1] == ',' || p[i + 1] == ' ')) return *space = 1, 2;
  if (n - i >= 3 &&
      (memcmp(p + i, "\xE2\x80\x89", 3) == 0 || memcmp(p + i, "\xE2\x80\xAF", 3) == 0))
    return *space = 1, 3;
  if (n - i >= 2 && memcmp(p + i, "\xC2\xA0", 2) == 0) return *space = 1, 2;
  return 0;
}

/* Reads an exponent "[+-]digits" or "{[+-]digits}" at p[*i]. */
static int read_exp(const char *p, size_t n, size_t *i, long long *e) {
  size_t j = *i;
  int brace = j < n && p[j] == '{';
  if (brace) j++;
  int neg = 0;
  if (j < n && (p[j] == '+' || p[j] == '-')) neg = p[j++] == '-';
  if (j >= n || !dig((unsigned char)p[j])) return 0;
  long long v = 0;
  while (j < n && dig((unsigned char)p[j])) {
    if (v < EXP_MAX) v = v * 10 + (p[j] - '0');
    j++;
  }
  if (brace) {
    if (j >= n || p[j] != '}') return 0;
    j++;
  }
  *e = neg ? -v : v;
  *i = j;
  return 1;
}

typedef struct scan {
  char *buf; /* digits of every number read, bump-allocated */
  size_t used;
  dec nums[8];
  size_t count;   /* numbers seen (may exceed 8) */
  int nondecimal; /* a fraction, power, root...: not a plain decimal */
  int overflow;   /* an exponent past EXP_MAX */
} scan;

/* Parses the number starting at p[*i] (sign, currency, digits). Returns 1
 * and advances *i, or 0. */
static int read_number(const char *p, size_t n, size_t *i, dec *out, scan *sc) {
  size_t j = *i, start = *i;
  int neg = 0, signs = 0;
  for (int k = 0; k < 3; k++) {
    if (j < n && (p[j] == '-' || p[j] == '+') && !signs) {
      neg = p[j] == '-';
      signs = 1;
      j++;
    } else if (n - j >= 3 && memcmp(p + j, "\xE2\x88\x92", 3) == 0 && !signs) {
      neg = 1, signs = 1;
      j += 3;
    } else if (j < n && p[j] == '$') {
      j++;
    } else if (n - j >= 2 && p[j] == '\\' && p[j + 1] == '$') {
      j += 2;
    }
  }
  if (!(j < n &&
        (dig((unsigned char)p[j]) || (p[j] == '.' && j + 1 < n && dig((unsigned char)p[j + 1])))))
    return 0;
  /* Integer part with thousands groups. */
  size_t g1 = j;
  while (j < n && dig((unsigned char)p[j])) j++;
  size_t first = j - g1;
  /* The digits of a number never outnumber the bytes it spans, so one
   * buffer of the answer's size holds every number of the answer. */
  char *buf = sc->buf + sc->used;
  size_t nb = 0;
  memcpy(buf, p + g1, first);
  nb = first;
  for (;;) {
    int space;
    size_t s = sep_at(p, n, j, &space);
    if (!s || first == 0) break;
    if (space && first > 3) break;
    size_t k = j + s;
    if (n - k < 3 || !dig((unsigned char)p[k]) || !dig((unsigned char)p[k + 1]) ||
        !dig((unsigned char)p[k + 2]) || (k + 3 < n && dig((unsigned char)p[k + 3])))
      break;
    memcpy(buf + nb, p + k, 3);
    nb += 3;
    j = k + 3;
  }
  long long exp = 0;
  if (j + 1 < n && p[j] == '.' && dig((unsigned char)p[j + 1])) {
    j++;
    while (j < n && dig((unsigned char)p[j])) {
      buf[nb++] = p[j++];
      exp--;
    }
  }
  /* Scientific notation: 1.5e-3, 1.5\times 10^{-3}, 1.5 × 10^3. */
  size_t k = j;
  long long e10 = 0;
  if (k < n && (p[k] == 'e' || p[k] == 'E')) {
    size_t m = k + 1;
    if (read_exp(p, n, &m, &e10) && !(m < n && alpha((unsigned char)p[m]))) {
      exp += e10;
      j = m;
    }
  } else {
    size_t m = k;
    while (m < n && p[m] == ' ') m++;
    size_t op = 0;
    if (n - m >= 6 && memcmp(p + m, "\\times", 6) == 0)
      op = 6;
    else if (n - m >= 5 && memcmp(p + m, "\\cdot", 5) == 0)
      op = 5;
    else if (n - m >= 2 && memcmp(p + m, "\xC3\x97", 2) == 0)
      op = 2;
    else if (m < n && p[m] == '*')
      op = 1;
    if (op) {
      m += op;
      while (m < n && p[m] == ' ') m++;
      if (n - m >= 3 && p[m] == '1' && p[m + 1] == '0' && p[m + 2] == '^') {
        m += 3;
        if (read_exp(p, n, &m, &e10)) {
          exp += e10;
          j = m;
        }
      }
    }
  }
  /* 10^k alone is a power of ten; any other power is not a decimal. */
  if (j < n && p[j] == '^') {
    size_t m = j + 1;
    if (nb == 2 && buf[0] == '1' && buf[1] == '0' && exp == 0 && read_exp(p, n, &m, &e10)) {
      nb = 1;
      exp = e10;
      j = m;
    } else {
      sc->nondecimal = 1;
    }
  }
  if (exp > EXP_MAX || exp < -EXP_MAX) sc->overflow = 1;
  /* Percent: "%", "\%", "percent". */
  int pct = 0;
  size_t m = j;
  while (m < n && p[m] == ' ') m++;
  if (m < n && p[m] == '%')
    pct = 1, j = m + 1;
  else if (n - m >= 2 && p[m] == '\\' && p[m + 1] == '%')
    pct = 1, j = m + 2;
  else if (n - m >= 7 && strncmp(p + m, "percent", 7) == 0 &&
           !(m + 7 < n && alpha((unsigned char)p[m + 7])))
    pct = 1, j = m + 7;
  /* Normalise: no leading zeros, no trailing zeros. */
  size_t lz = 0;
  while (lz < nb && buf[lz] == '0') lz++;
  size_t end = nb;
  while (end > lz && buf[end - 1] == '0') end--, exp++;
  out->neg = neg;
  out->pct = pct;
  out->d = buf + lz;
  out->nd = end - lz;
  out->exp = out->nd ? exp : 0;
  if (!out->nd) out->neg = 0;
  out->src = rk__str_make(p + start, j - start);
  sc->used += nb;
  *i = j;
  return 1;
}

static int dec_eq(const dec *a, const dec *b) {
  return a->neg == b->neg && a->nd == b->nd && a->exp == b->exp &&
         (a->nd == 0 || memcmp(a->d, b->d, a->nd) == 0);
}

static double dec_double(const dec *x) {
  if (!x->nd) return 0.0;
  char tmp[96];
  size_t take = x->nd > 40 ? 40 : x->nd;
  long long e = x->exp + (long long)(x->nd - take);
  snprintf(tmp, sizeof tmp, "%s%.*se%lld", x->neg ? "-" : "", (int)take, x->d, e);
  return strtod(tmp, NULL);
}

/* Skips a LaTeX command at p[*i] == '\\'. Unit wrappers without digits
 * (\text{ cm}) are skipped whole; \frac, \sqrt, \pi... make the answer
 * non-decimal. */
static void skip_command(const char *p, size_t n, size_t *i, scan *sc) {
  size_t j = *i + 1, a = j;
  while (j < n && alpha((unsigned char)p[j])) j++;
  size_t len = j - a;
  if (len == 0) {
    *i = j < n ? j + 1 : j; /* "\,", "\ ", "\%"... */
    return;
  }
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(p + a, lit, len) == 0)
  if (IS("frac") || IS("dfrac") || IS("tfrac") || IS("sqrt") || IS("pi") || IS("infty") ||
      IS("log") || IS("ln") || IS("sin") || IS("cos") || IS("tan") || IS("binom") || IS("pm") ||
      IS("mp"))
    sc->nondecimal = 1;
  if ((IS("text") || IS("mathrm") || IS("mbox") || IS("textrm") || IS("operatorname")) && j < n &&
      p[j] == '{') {
    size_t k = j + 1;
    int has_digit = 0;
    while (k < n && p[k] != '}') has_digit |= dig((unsigned char)p[k++]);
    if (!has_digit && k < n) j = k + 1;
  }
#undef IS
  *i = j;
}

/* Collects the numbers of an answer. "x = 5": only what follows the last
 * '=' counts. Superscripts after a unit ("cm^2") are skipped. */
static int scan_numbers(rk__arena *a, rk__str s, scan *sc) {
  memset(sc, 0, sizeof *sc);
  const char *p = s.p;
  size_t n = s.n;
  sc->buf = rk__arena_alloc(a, n + 1);
  if (!sc->buf) return -1;
  const char *eq = n ? memchr(p, '=', n) : NULL;
  if (eq) {
    const char *last = eq;
    while ((eq = memchr(last + 1, '=', n - (size_t)(last + 1 - p)))) last = eq;
    rk__str t = rk__text_trim(rk__str_make(last + 1, n - (size_t)(last + 1 - p)));
    if (t.n) p = t.p, n = t.n;
  }
  size_t i = 0;
  int prev_num = 0;
  while (i < n) {
    unsigned char ch = (unsigned char)p[i];
    if (ch == '\\' && !(i + 1 < n && p[i + 1] == '$')) {
      skip_command(p, n, &i, sc);
      prev_num = 0;
      continue;
    }
    if (ch == '^') {
      /* A superscript on a unit or variable. */
      size_t m = i + 1;
      long long e;
      if (!read_exp(p, n, &m, &e)) m = i + 1;
      if (prev_num) sc->nondecimal = 1;
      i = m;
      continue;
    }
    if (ch == '/' && prev_num) {
      size_t m = i + 1;
      while (m < n && p[m] == ' ') m++;
      if (m < n && dig((unsigned char)p[m])) sc->nondecimal = 1;
    }
    /* A sign or digit glued to a letter ("x2", "a-1") is not a number. */
    int glued = i > 0 && (alpha((unsigned char)p[i - 1]) || dig((unsigned char)p[i - 1]));
    dec d;
    size_t j = i;
    if (!glued && read_number(p, n, &j, &d, sc)) {
      if (sc->count < 8) sc->nums[sc->count] = d;
      sc->count++;
      prev_num = 1;
      i = j;
      continue;
    }
    if (ch != ' ') prev_num = 0;
    i++;
  }
  return 0;
}

/* ---------------------------------------------------------------- score */

typedef struct numcmp {
  double abs_tol, rel_tol;
} numcmp;

static int close_enough(const numcmp *t, const dec *a, const dec *b) {
  if (dec_eq(a, b)) return 1;
  if (t->abs_tol <= 0 && t->rel_tol <= 0) return 0;
  double x = dec_double(a), y = dec_double(b);
  if (!isfinite(x) || !isfinite(y)) return 0;
  double diff = fabs(x - y), m = fmax(fabs(x), fabs(y));
  return diff <= fmax(t->abs_tol, t->rel_tol * m);
}

/* Rule 8: with a percent on one side only, that side may be read as the
 * bare number or as number/100. */
static int match(const numcmp *t, const dec *pred, const dec *gold, const char **how) {
  *how = "";
  if (close_enough(t, pred, gold)) return 1;
  if (pred->pct != gold->pct) {
    dec x = pred->pct ? *pred : *gold;
    if (x.nd) x.exp -= 2;
    const dec *other = pred->pct ? gold : pred;
    if (close_enough(t, &x, other)) {
      *how = pred->pct ? " (pred percent read as /100)" : " (gold percent read as /100)";
      return 1;
    }
  }
  return 0;
}

static int one_value(const scan *sc) {
  size_t m = sc->count < 8 ? sc->count : 8;
  if (sc->count > 8) return 0;
  for (size_t i = 1; i < m; i++)
    if (!dec_eq(&sc->nums[0], &sc->nums[i])) return 0;
  return m > 0;
}

static rk_status num_score(const void *p, rk__call *c, double *value) {
  const num_cfg *cfg = p;
  *value = 0;
  rk__str refs[RK__MAX_REFS];
  int had;
  size_t nref = rk__text_refs(c, refs, RK__MAX_REFS, &had);
  if (!nref) {
    rk__explain(c, had ? "reference is empty or not a string/number" : "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  dec gold[RK__MAX_REFS];
  for (size_t i = 0; i < nref; i++) {
    scan sc;
    rk__str r = rk__text_clean(refs[i]);
    if (!rk__spend(c, r.n + 1)) return RK_STATUS_TIMEOUT;
    if (scan_numbers(c->arena, r, &sc)) return rk__fail(c, "numeric: out of memory");
    if (sc.nondecimal || sc.overflow || !one_value(&sc)) {
      const char *e;
      int k = rk__text_clip(r, 60, &e);
      rk__explain(c, "reference '%.*s%s' is not a single decimal number", k, r.p, e);
      return RK_STATUS_INVALID_REFERENCE;
    }
    gold[i] = sc.nums[0];
  }
  rk__str ans;
  const char *how = NULL;
  rk_status st = rk__extract(&cfg->ex, c, c->rec->response, &ans, &how);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, 2 * ans.n + 1)) return RK_STATUS_TIMEOUT;
  scan sc;
  if (scan_numbers(c->arena, ans, &sc)) return rk__fail(c, "numeric: out of memory");
  const char *e1;
  int k1 = rk__text_clip(ans, 60, &e1);
  if (sc.count == 0 || sc.nondecimal || sc.overflow) {
    rk__explain(c, "no decimal number in '%.*s%s'%s", k1, ans.p, e1,
                sc.nondecimal ? " (fractions, powers, roots: use the math reward)"
                : sc.overflow ? " (exponent too large)"
                              : "");
    return RK_STATUS_UNPARSEABLE;
  }
  if (!one_value(&sc)) {
    if (how && strcmp(how, "none") == 0) {
      rk__explain(c, "no single number in the response (%zu numbers, no answer marker)", sc.count);
      return RK_STATUS_UNPARSEABLE;
    }
    rk__explain(c, "names several numbers in '%.*s%s'", k1, ans.p, e1);
    return RK_STATUS_OK;
  }
  numcmp t = {cfg->abs_tol, cfg->rel_tol};
  const dec *pred = &sc.nums[0];
  for (size_t i = 0; i < nref; i++) {
    const char *note;
    if (match(&t, pred, &gold[i], &note)) {
      *value = 1;
      rk__explain(c, "pred '%.*s' == gold '%.*s'%s%s", (int)(pred->src.n > 60 ? 60 : pred->src.n),
                  pred->src.p, (int)(gold[i].src.n > 60 ? 60 : gold[i].src.n), gold[i].src.p, note,
                  (t.abs_tol > 0 || t.rel_tol > 0) ? " within tolerance" : "");
      return RK_STATUS_OK;
    }
  }
  rk__explain(c, "pred '%.*s' != gold '%.*s'", (int)(pred->src.n > 60 ? 60 : pred->src.n),
              pred->src.p, (int)(gold[0].src.n > 60 ? 60 : gold[0].src.n), gold[0].src.p);
  return RK_STATUS_OK;
}

const rk__fn rk__fn_numeric = {
    .name = "numeric",
    .summary =
        "number match, exact decimals or abs_tol/rel_tol; percent and thousands "
        "separators understood (args: abs_tol, rel_tol, extract)",
    .compile = num_compile,
    .score = num_score,
    .free = num_free,
};

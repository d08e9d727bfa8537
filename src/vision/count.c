/*
 * count.c - `count`: the number of objects the response gives (a number
 * in the answer, or the number of boxes it lists) against the reference
 * count (a number, a numeric string, or a list of boxes), exactly or
 * within a tolerance, or with relative partial credit.
 *
 * Not for: where the objects are (detection.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "vision/boxes.h"

enum { SRC_AUTO, SRC_NUMBER, SRC_BOXES };
enum { SCORE_EXACT, SCORE_RELATIVE };

typedef struct count_cfg {
  rk__boxargs box; /* only extract / max_boxes are used */
  int source, scoring;
  double tol;
} count_cfg;

static void count_free(void *v) {
  count_cfg *cfg = v;
  if (!cfg) return;
  rk__boxargs_free(&cfg->box);
  free(cfg);
}

static int count_compile(rk__argctx *ac, void **out) {
  static const char *const sources[] = {"auto", "number", "boxes", NULL};
  static const char *const scorings[] = {"exact", "relative", NULL};
  count_cfg *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return rk__arg_error(ac, NULL, "out of memory");
  if (rk__arg_enum(ac, "source", sources, SRC_AUTO, &cfg->source) ||
      rk__arg_enum(ac, "scoring", scorings, SCORE_EXACT, &cfg->scoring) ||
      rk__arg_num_range(ac, "tolerance", 0, 0, 1e15, &cfg->tol) ||
      rk__arg_int(ac, "max_boxes", 100000, 1, 1000000, &cfg->box.max_boxes)) {
    count_free(cfg);
    return -1;
  }
  if (rk__arg_raw(ac, "extract")) {
    rk__extract_cfg *ex = calloc(1, sizeof *ex);
    cfg->box.extract = ex;
    cfg->box.extract_given = 1;
    if (!ex || rk__extract_cfg_compile(ac, RK__EX_ANSWER_TAG, ex)) {
      count_free(cfg);
      return -1;
    }
  }
  *out = cfg;
  return 0;
}

/* ------------------------------------------------------ number words */

/* Kinds of number words. A phrase is read forward by the small grammar
 * in phrase_value; W_BIG words are numbers count does not read (it would
 * rather say so than take "two" out of "two million"). */
enum { W_NONE, W_UNIT, W_TEEN, W_TENS, W_HUNDRED, W_THOUSAND, W_A, W_AND, W_BIG, W_FRAC };

typedef struct nword {
  int kind, val;
  size_t at, end; /* bytes of the word in the text */
} nword;

/* The kind of the word p[0..n) (ASCII case-insensitive), its value in
 * *val (units, teens and tens). */
static int word_kind(const char *p, size_t n, int *val) {
  static const struct {
    const char *w;
    int kind, val;
  } tab[] = {
      {"zero", W_UNIT, 0},      {"one", W_UNIT, 1},          {"two", W_UNIT, 2},
      {"three", W_UNIT, 3},     {"four", W_UNIT, 4},         {"five", W_UNIT, 5},
      {"six", W_UNIT, 6},       {"seven", W_UNIT, 7},        {"eight", W_UNIT, 8},
      {"nine", W_UNIT, 9},      {"ten", W_TEEN, 10},         {"eleven", W_TEEN, 11},
      {"twelve", W_TEEN, 12},   {"thirteen", W_TEEN, 13},    {"fourteen", W_TEEN, 14},
      {"fifteen", W_TEEN, 15},  {"sixteen", W_TEEN, 16},     {"seventeen", W_TEEN, 17},
      {"eighteen", W_TEEN, 18}, {"nineteen", W_TEEN, 19},    {"twenty", W_TENS, 20},
      {"thirty", W_TENS, 30},   {"forty", W_TENS, 40},       {"fifty", W_TENS, 50},
      {"sixty", W_TENS, 60},    {"seventy", W_TENS, 70},     {"eighty", W_TENS, 80},
      {"ninety", W_TENS, 90},   {"hundred", W_HUNDRED, 100}, {"thousand", W_THOUSAND, 1000},
      {"a", W_A, 1},            {"and", W_AND, 0},           {"million", W_BIG, 0},
      {"billion", W_BIG, 0},    {"trillion", W_BIG, 0},      {"dozen", W_BIG, 0},
      {"half", W_FRAC, 50},     {"quarter", W_FRAC, 25},
  };
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
    size_t k = strlen(tab[i].w), j = 0;
    if (k != n) continue;
    while (j < k && (p[j] | 32) == tab[i].w[j]) j++;
    if (j == k) {
      *val = tab[i].val;
      return tab[i].kind;
    }
  }
  return W_NONE;
}

/* 0-99 at t[*i]: a unit or teen ("seven", "twelve"), a tens word alone
 * ("thirty") or followed by a unit 1-9 ("twenty one", "twenty-one").
 * Advances *i; -1 when there is none. */
static long parse_99(const nword *t, size_t n, size_t *i) {
  if (*i >= n) return -1;
  const nword *w = &t[*i];
  if (w->kind == W_UNIT || w->kind == W_TEEN) {
    ++*i;
    return w->val;
  }
  if (w->kind != W_TENS) return -1;
  ++*i;
  if (*i < n && t[*i].kind == W_UNIT && t[*i].val > 0) return w->val + t[(*i)++].val;
  return w->val;
}

/* 0-999: "[a | one..nine] hundred [and] [1-99]", or 0-99. */
static long parse_999(const nword *t, size_t n, size_t *i) {
  size_t j = *i;
  if (j + 1 < n && t[j + 1].kind == W_HUNDRED &&
      ((t[j].kind == W_UNIT && t[j].val > 0) || t[j].kind == W_A)) {
    long v = 100L * t[j].val;
    j += 2;
    size_t k = j + (j < n && t[j].kind == W_AND);
    long r = parse_99(t, n, &k);
    if (r > 0) v += r, j = k;
    *i = j;
    return v;
  }
  return parse_99(t, n, i);
}

/* The value of the phrase t[0..n), all of it, or -1: 0-999, or "(1-999 |
 * a) thousand [and] [1-999]" (up to 999,999). */
static long phrase_value(const nword *t, size_t n) {
  size_t i = 0;
  long v;
  if (n >= 2 && t[0].kind == W_A && t[1].kind == W_THOUSAND) {
    v = 1, i = 1;
  } else {
    v = parse_999(t, n, &i);
    if (v < 0) return -1;
  }
  if (i < n && t[i].kind == W_THOUSAND) {
    if (v == 0) return -1;
    v *= 1000, i++;
    size_t k = i + (i < n && t[i].kind == W_AND);
    long r = parse_999(t, n, &k);
    if (r > 0) v += r, i = k;
  }
  return i == n ? v : -1;
}

static int is_alpha(unsigned char ch) { return (ch | 32) >= 'a' && (ch | 32) <= 'z'; }
static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

/* The word before p[..e): its bytes [*b, e') after the spaces and hyphens
 * before e; 0 when there is none. */
static int word_before(const char *p, size_t e, size_t *b, size_t *we) {
  while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '-')) e--;
  size_t i = e;
  while (i > 0 && is_alpha((unsigned char)p[i - 1])) i--;
  *b = i, *we = e;
  return i < e;
}

/* Up to 16 number words that end at the word p[i..e), read backwards
 * across the spaces and hyphens between them ("one hundred and
 * twenty-one"), into t[] in text order. Returns their number. */
static size_t phrase_words(const char *p, size_t i, size_t e, nword *t) {
  nword rev[16];
  size_t n = 0;
  for (;;) {
    nword w;
    w.kind = word_kind(p + i, e - i, &w.val);
    if (w.kind == W_NONE) break;
    w.at = i, w.end = e;
    rev[n++] = w;
    if (n == 16) break;
    size_t b, we;
    /* the previous word, apart from this one by spaces or hyphens (the
     * word at i starts after a non-letter, so one is needed) */
    if (!word_before(p, i, &b, &we)) break;
    i = b, e = we;
  }
  for (size_t k = 0; k < n; k++) t[k] = rev[n - 1 - k];
  return n;
}

static int last_number(rk__str s, int fractions, double *out, size_t *at, size_t *end);

/* "N and a half", "N and one quarter" ending at the fraction word p[i..e)
 * (frac in hundredths), N a number that ends right before "and": 1 with
 * *out = N + the fraction (not a count) and its bytes; 0 otherwise, when
 * the word is prose ("half of them", "a half-eaten one") and the reader
 * goes on to an earlier number. */
static int and_fraction(rk__str s, size_t i, size_t e, int frac, double *out, size_t *at,
                        size_t *end) {
  size_t b, we, b2, we2;
  int v;
  if (!word_before(s.p, i, &b, &we)) return 0;
  int k = word_kind(s.p + b, we - b, &v);
  if (!(k == W_A || (k == W_UNIT && v == 1))) return 0;
  if (!word_before(s.p, b, &b2, &we2) || word_kind(s.p + b2, we2 - b2, &v) != W_AND) return 0;
  size_t n = b2;
  while (n > 0 && (s.p[n - 1] == ' ' || s.p[n - 1] == '\t')) n--;
  /* N must end right there (a digit, or a number word): checked first, so
   * that the reading below stops at once and a long answer full of "and
   * a half" costs linear time. */
  if (n == 0) return 0;
  if (!is_digit((unsigned char)s.p[n - 1])) {
    size_t nb, ne;
    if (!word_before(s.p, n, &nb, &ne) || ne != n) return 0;
    k = word_kind(s.p + nb, ne - nb, &v);
    if (k == W_NONE || k == W_A || k == W_AND || k == W_FRAC || k == W_BIG) return 0;
  }
  double whole;
  size_t wa, wend;
  /* N itself without fractions: one level of this call at most, however
   * many "and a half" a hostile answer repeats. */
  if (last_number(rk__str_make(s.p, n), 0, &whole, &wa, &wend) != 1 || wend != n)
    return 0;
  *out = whole + frac / 100.0;
  *at = wa, *end = e;
  return 1;
}

/* The last number of s: a run of digits (with "," and "." inside it; a
 * "-" before it is a sign unless it follows a digit or a letter, so "3-4"
 * is 4), or a phrase of number words up to 999,999, read whole
 * ("twenty-one" is 21, never 1). Returns 1 with *out, 0 when s holds no
 * number, -1 when the last one is number words count does not read ("two
 * million", "nineteen hundred"); *at, *end give its bytes. */
static int last_number(rk__str s, int fractions, double *out, size_t *at, size_t *end) {
  size_t i = s.n;
  while (i > 0) {
    unsigned char ch = (unsigned char)s.p[i - 1];
    if (is_digit(ch)) {
      size_t e = i;
      while (i > 0 && (is_digit((unsigned char)s.p[i - 1]) || s.p[i - 1] == '.' ||
                       s.p[i - 1] == ','))
        i--;
      /* Room for a sign, 46 characters and the NUL; longer runs of
       * digits are not a count anyone means (cut, still parsed). */
      char tmp[48];
      size_t k = 0;
      if (i > 0 && s.p[i - 1] == '-' &&
          !(i > 1 && (is_alpha((unsigned char)s.p[i - 2]) || is_digit((unsigned char)s.p[i - 2]))))
        tmp[k++] = '-', i--; /* "-3": a number, not a count */
      *at = i, *end = e;
      for (size_t j = i + (k > 0); j < e && k + 1 < sizeof tmp; j++)
        if (s.p[j] != ',') tmp[k++] = s.p[j];
      tmp[k] = '\0';
      char *stop;
      *out = strtod(tmp, &stop);
      return stop != tmp && isfinite(*out);
    }
    if (is_alpha(ch)) {
      size_t e = i;
      while (i > 0 && is_alpha((unsigned char)s.p[i - 1])) i--;
      int v;
      int kind = word_kind(s.p + i, e - i, &v);
      /* "two and a half": not a whole number (scored 0 as such), rather
       * than the count 2 read before it. */
      if (kind == W_FRAC) {
        if (fractions && and_fraction(s, i, e, v, out, at, end)) return 1;
        continue;
      }
      /* "a" and "and" begin or join a phrase but never end one. */
      if (kind == W_NONE || kind == W_A || kind == W_AND) continue;
      nword t[16];
      size_t n = phrase_words(s.p, i, e, t);
      *end = e;
      /* The longest tail that is a number: "twenty one" is 21; in "one
       * two three" (a list) the last, 3. */
      for (size_t k = 0; k < n; k++) {
        long x = phrase_value(t + k, n - k);
        if (x >= 0) {
          *out = (double)x;
          *at = t[k].at;
          return 1;
        }
      }
      *at = t[0].at;
      return -1;
    }
    i--;
  }
  return 0;
}

/* A whole string as number words ("21" aside): "twenty-one", " Three ".
 * 1 with *out, else 0. */
static int words_value(const char *p, size_t n, double *out) {
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n')) n--;
  size_t b = 0;
  while (b < n && (p[b] == ' ' || p[b] == '\t' || p[b] == '\n')) b++;
  if (b == n || !is_alpha((unsigned char)p[n - 1])) return 0;
  size_t i = n;
  while (i > b && is_alpha((unsigned char)p[i - 1])) i--;
  nword t[16];
  size_t k = phrase_words(p, i, n, t);
  if (k == 0 || t[0].at != b) return 0; /* something before the phrase */
  long x = phrase_value(t, k);
  if (x < 0) return 0;
  *out = (double)x;
  return 1;
}

/* 1 when x is a count: a whole number >= 0. */
static int is_count(double x) { return x >= 0 && x == floor(x); }

static rk_status count_score(const void *v, rk__call *c, double *value) {
  const count_cfg *cfg = v;
  *value = 0;
  rk__str region;
  const char *how = NULL;
  rk_status st = rk__boxes_region(&cfg->box, c, &region, &how);
  if (st != RK_STATUS_OK) return st;
  if (!rk__spend(c, region.n + 1)) return RK_STATUS_TIMEOUT;
  /* Reference count. */
  const rk__jval *rv = c->rec->reference;
  double gold = NAN;
  if (rv && rv->type == RK__JNUM) {
    gold = rv->u.num;
  } else if (rv && rv->type == RK__JSTR) {
    char tmp[48];
    if (rv->u.str.n < sizeof tmp) {
      memcpy(tmp, rv->u.str.p, rv->u.str.n);
      tmp[rv->u.str.n] = '\0';
      char *end;
      double x = strtod(tmp, &end);
      while (*end == ' ') end++;
      if (end != tmp && *end == '\0') gold = x;
    }
    if (isnan(gold)) {
      double w;
      if (words_value(rv->u.str.p, rv->u.str.n, &w)) gold = w;
    }
  } else if (rv && rv->type == RK__JARR) {
    rk__boxes rb;
    st = rk__boxes_scan(c, rv->raw.p, rv->raw.n, 0, &rb);
    if (st != RK_STATUS_OK) return st;
    gold = (double)rb.n;
  }
  if (!isfinite(gold)) {
    rk__explain(c, "reference is not a count (a whole number, a numeric string, number words "
                   "such as \"twenty-one\", or a list of boxes)");
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* A count is a whole number: a reference of 2.5 or -1 objects is a
   * broken record, and scoring it would hand out partial credit (2.5
   * against 3 was 0.83 with relative scoring) for a question that has no
   * right answer. */
  if (!is_count(gold)) {
    char b[32];
    rk__fmt_double(b, gold);
    rk__explain(c, "reference %s is not a count: a count is a whole number >= 0", b);
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* Predicted count. */
  double pred = NAN;
  const char *src = NULL;
  char bdesc[200] = "";
  if (cfg->source != SRC_NUMBER) {
    rk__boxes pb;
    st = rk__boxes_scan(c, region.p, region.n, (size_t)cfg->box.max_boxes, &pb);
    if (st != RK_STATUS_OK) return st;
    if (pb.n || cfg->source == SRC_BOXES) {
      pred = (double)pb.n;
      src = "boxes listed";
      rk__boxes_describe(&pb, "listed", bdesc, sizeof bdesc);
    }
  }
  if (isnan(pred) && cfg->source != SRC_BOXES) {
    double x;
    size_t at = 0, end = 0;
    int r = last_number(region, 1, &x, &at, &end);
    if (r > 0) pred = x, src = "last number";
    if (r < 0) {
      /* "two million", "a dozen", "nineteen hundred": a number, but not
       * one this reader knows; an earlier number would be the wrong one. */
      int len = end - at > 60 ? 60 : (int)(end - at);
      rk__explain(c, "count cannot read '%.*s', the last number of the %s: it reads whole "
                     "numbers in digits and number words up to 999,999 (\"twenty-one\", \"one "
                     "hundred and five\")",
                  len, region.p + at, how);
      return RK_STATUS_UNPARSEABLE;
    }
  }
  if (isnan(pred)) {
    rk__explain(c, "no count in the %s", how);
    return RK_STATUS_UNPARSEABLE;
  }
  /* A count is a whole number >= 0. "2.5" or "-3" is an answer, but not
   * a count of anything: it scores 0 whatever the scoring and tolerance
   * (2.5 against 3 would otherwise earn 0.83 relative credit, or full
   * credit with tolerance 0.5, for a count no image has). */
  if (!is_count(pred)) {
    char a[32], b[32];
    rk__fmt_double(a, pred);
    rk__fmt_double(b, gold);
    rk__explain(c, "the %s of the %s, %s, is not a count (a count is a whole number >= 0); "
                   "reference %s; reward 0",
                src, how, a, b);
    return RK_STATUS_OK;
  }
  double d = fabs(pred - gold);
  if (cfg->scoring == SCORE_RELATIVE)
    *value = fmax(0.0, 1.0 - d / fmax(gold, 1.0));
  else
    *value = d <= cfg->tol ? 1.0 : 0.0;
  if (rk__explaining(c)) {
    char a[32], b[32], e[32];
    rk__fmt_double(a, pred);
    rk__fmt_double(b, gold);
    rk__fmt_double(e, *value);
    rk__explain(c, "count %s from the %s of the %s%s%s; reference %s; reward %s", a, src, how,
                bdesc[0] ? ": " : "", bdesc, b, e);
  }
  return RK_STATUS_OK;
}

const rk__fn rk__fn_count = {
    .name = "count",
    .summary = "object count (a number in the answer or the number of boxes) vs the reference count, exact/tolerance/relative",
    .compile = count_compile,
    .score = count_score,
    .free = count_free,
};

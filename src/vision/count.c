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

/* Small number words, as counting answers often spell them. */
static int number_word(const char *p, size_t n, double *out) {
  static const char *const w[] = {"zero", "one", "two", "three", "four", "five", "six",
                                  "seven", "eight", "nine", "ten", "eleven", "twelve",
                                  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                                  "eighteen", "nineteen", "twenty", NULL};
  for (int i = 0; w[i]; i++) {
    size_t k = strlen(w[i]);
    if (k != n) continue;
    size_t j = 0;
    while (j < k && (p[j] | 32) == w[i][j]) j++;
    if (j == k) {
      *out = i;
      return 1;
    }
  }
  return 0;
}

/* The last number in s (digits with an optional fraction, or a number
 * word standing alone); 0 when there is none. */
static int last_number(rk__str s, double *out) {
  size_t i = s.n;
  while (i > 0) {
    unsigned char ch = (unsigned char)s.p[i - 1];
    if (ch >= '0' && ch <= '9') {
      size_t e = i;
      while (i > 0 && ((s.p[i - 1] >= '0' && s.p[i - 1] <= '9') || s.p[i - 1] == '.' ||
                       s.p[i - 1] == ','))
        i--;
      /* Room for a sign, 46 characters and the NUL; longer runs of
       * digits are not a count anyone means (cut, still parsed). */
      char tmp[48];
      size_t k = 0;
      if (i > 0 && s.p[i - 1] == '-') tmp[k++] = '-'; /* "-3": a number, not a count */
      for (size_t j = i; j < e && k + 1 < sizeof tmp; j++)
        if (s.p[j] != ',') tmp[k++] = s.p[j];
      tmp[k] = '\0';
      char *end;
      *out = strtod(tmp, &end);
      return end != tmp && isfinite(*out);
    }
    if ((ch | 32) >= 'a' && (ch | 32) <= 'z') {
      size_t e = i;
      while (i > 0 && ((s.p[i - 1] | 32) >= 'a' && (s.p[i - 1] | 32) <= 'z')) i--;
      if (number_word(s.p + i, e - i, out)) return 1;
      continue;
    }
    i--;
  }
  return 0;
}

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
      if (number_word(rv->u.str.p, rv->u.str.n, &w)) gold = w;
    }
  } else if (rv && rv->type == RK__JARR) {
    rk__boxes rb;
    st = rk__boxes_scan(c, rv->raw.p, rv->raw.n, 0, &rb);
    if (st != RK_STATUS_OK) return st;
    gold = (double)rb.n;
  }
  if (!isfinite(gold) || gold < 0) {
    rk__explain(c, "reference is not a count (a number, a numeric string or a list of boxes)");
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
    if (last_number(region, &x)) pred = x, src = "last number";
  }
  if (isnan(pred)) {
    rk__explain(c, "no count in the %s", how);
    return RK_STATUS_UNPARSEABLE;
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

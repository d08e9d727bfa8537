/*
 * vision_r1.c - how Vision-R1's detection reward reads an answer
 * (jefferyZhan/Griffon Vision-R1/EasyR1/examples/reward_function/
 * visionr1.py), for `detection_hungarian`:
 *   - its format check (dual_format_reward): rk__vr1_format;
 *   - its box reader (extract: a JSON list of {"bbox_2d", "label"}
 *     objects, coordinates through int(), else one fixed regex):
 *     rk__vr1_read_boxes, behind the argument parser: "vision_r1".
 * Python's behaviour is reproduced step by step (str.strip, splitlines,
 * the ```json fence rule, int() of numbers, booleans and strings, the
 * regex's backtracking); what is not is listed in docs/rewards/vision.md.
 *
 * Not for: the box forms every other box reward reads (vision/boxes.c).
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "metrics/levenshtein.h" /* rk__cp_next, rk__cp_isspace */
#include "vision/detection.h"

/* ------------------------------------------------ Python text rules */

/* str.strip(): the span from the first to the end of the last code
 * point that is not Python whitespace (rk__cp_isspace), in one pass. */
static rk__str py_strip(rk__str s) {
  const unsigned char *p = (const unsigned char *)s.p, *e = p + s.n;
  size_t lo = s.n, hi = 0;
  for (size_t i = 0, len; i < s.n; i += len)
    if (!rk__cp_isspace(rk__cp_next(p + i, e, &len))) {
      if (lo == s.n) lo = i;
      hi = i + len;
    }
  return lo < hi ? rk__str_make(s.p + lo, hi - lo) : rk__str_make(s.p, 0);
}

/* Length of the str.splitlines() line break at p[i] ("\r\n" is one), or
 * 0: \n \v \f \r \x1c \x1d \x1e, U+0085, U+2028, U+2029. */
static size_t py_linebreak(const unsigned char *p, size_t i, size_t n) {
  unsigned char c = p[i];
  if (c == '\r') return i + 1 < n && p[i + 1] == '\n' ? 2 : 1;
  if ((c >= 0x0A && c <= 0x0C) || (c >= 0x1C && c <= 0x1E)) return 1;
  if (c == 0xC2 && i + 1 < n && p[i + 1] == 0x85) return 2;
  if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9))
    return 3;
  return 0;
}

/* ---------------------------------------------------------- format */

double rk__vr1_format(rk__call *c, rk__str region, size_t n_gt) {
  char *buf = rk__arena_alloc(c->arena, region.n + 1);
  if (!buf) return 0;
  size_t w = 0;
  for (size_t i = 0; i < region.n;) {
    if (region.n - i >= 8 && memcmp(region.p + i, "```json\n", 8) == 0) {
      i += 8;
      continue;
    }
    if (region.n - i >= 4 && memcmp(region.p + i, "\n```", 4) == 0) {
      i += 4;
      continue;
    }
    buf[w++] = region.p[i++];
  }
  rk__jval *root = NULL;
  rk__json_limits lim = {64, 0, 1}; /* json.loads reads NaN, Infinity */
  double ok = rk__json_parse(buf, w, c->arena, &lim, &root, NULL) == 0 ? 1.0 : 0.0;
  if (ok && root->type == RK__JARR)
    for (size_t i = 0; i < root->u.arr.n; i++) {
      const rk__jval *it = &root->u.arr.items[i];
      if (it->type != RK__JOBJ) continue;
      const rk__jval *bb = rk__json_get(it, "bbox_2d");
      if (!bb || !rk__json_get(it, "label")) continue;
      if (bb->type != RK__JARR || bb->u.arr.n != 4) ok = 0;
    }
  return n_gt > 0 ? ok : 1 - ok;
}

/* ------------------------------------------------------------ boxes */

/* parse_json's text: the answer stripped; when its first line starts
 * with "```json", the other lines joined by "\n" (splitlines then join:
 * every line break becomes "\n"); then the part before the first "```".
 * NULL when the arena is full; *n = 0 for an empty answer (Python's
 * lines[0] raises there: no JSON). */
static const char *json_text(rk__call *c, rk__str s, size_t *n) {
  const unsigned char *p = (const unsigned char *)s.p;
  size_t i = 0, k = 0;
  while (i < s.n && (k = py_linebreak(p, i, s.n)) == 0) i++;
  if (s.n < 7 || memcmp(s.p, "```json", 7) != 0) {
    const char *f = memmem(s.p, s.n, "```", 3);
    *n = f ? (size_t)(f - s.p) : s.n;
    return s.p;
  }
  char *b = rk__arena_alloc(c->arena, s.n + 1);
  if (!b) return NULL;
  size_t w = 0;
  for (i += k; i < s.n;) {
    if ((k = py_linebreak(p, i, s.n)) > 0) {
      /* a break after the last line adds nothing (splitlines keeps no
       * empty last line); any other becomes "\n" */
      if (i + k < s.n) b[w++] = '\n';
      i += k;
    } else {
      b[w++] = s.p[i++];
    }
  }
  const char *f = memmem(b, w, "```", 3);
  *n = f ? (size_t)(f - b) : w;
  return b;
}

/* Python int(x) of a JSON value: 1 and *out, or 0 where Python raises
 * (null, lists, objects, non-finite numbers, strings that are not an
 * integer). A number with a fraction or exponent is a float, truncated
 * toward zero; booleans are 0 and 1; a string is what int() reads:
 * optional whitespace, sign, decimal digits of any script ("１２",
 * "٣٤") with single '_' between them. */
static int py_int(const rk__jval *v, double *out) {
  switch (v->type) {
    case RK__JTRUE: *out = 1; return 1;
    case RK__JFALSE: *out = 0; return 1;
    case RK__JNUM:
      if (!isfinite(v->u.num)) return 0;
      *out = trunc(v->u.num) + 0.0; /* an int has no -0 */
      return 1;
    case RK__JSTR: {
      rk__str t = py_strip(v->u.str);
      const unsigned char *q = (const unsigned char *)t.p, *e = q + t.n;
      int neg = 0, after = 0; /* after: 1 past a digit, 2 past its '_' */
      if (q < e && (*q == '+' || *q == '-')) neg = *q++ == '-';
      double x = 0;
      while (q < e) {
        size_t len;
        uint32_t cp = rk__cp_next(q, e, &len);
        int d = rk__cp_digit(cp);
        q += len;
        if (d >= 0)
          x = x * 10 + d, after = 1;
        else if (cp == '_' && after == 1)
          after = 2;
        else
          return 0;
      }
      if (after != 1) return 0; /* no digit, or a '_' last */
      *out = (neg ? -x : x) + 0.0;
      return isfinite(x);
    }
    default: return 0;
  }
}

static void put_box(rk__box *b, const double v[4], rk__str label, int has_label, size_t at) {
  b->x1 = v[0], b->y1 = v[1], b->x2 = v[2], b->y2 = v[3];
  b->conf = b->area = NAN;
  b->label = label;
  b->has_label = has_label;
  b->crowd = 0;
  b->at = at;
}

/* extract()'s first way: a JSON list; items that are objects with a
 * 4-item list "bbox_2d" whose items all pass int(), kept when x1 < x2 and
 * y1 < y2. The label is the "label" member when it is a string (Python
 * then strips and lowers it; anything else maps to the background
 * class). Returns the number of boxes, -1 when out of memory. */
static long json_boxes(rk__call *c, const char *p, size_t n, rk__boxes *out) {
  rk__jval *root = NULL;
  rk__json_limits lim = {64, 0, 1}; /* json.loads reads NaN, Infinity */
  int rc = rk__json_parse(p, n, c->arena, &lim, &root, NULL);
  if (rc == -2) return -1;
  if (rc != 0 || root->type != RK__JARR) return 0;
  out->b = rk__arena_alloc(c->arena, (root->u.arr.n + 1) * sizeof *out->b);
  if (!out->b) return -1;
  for (size_t i = 0; i < root->u.arr.n; i++) {
    const rk__jval *it = &root->u.arr.items[i], *bb, *lb;
    double v[4];
    if (it->type != RK__JOBJ || !(bb = rk__json_get(it, "bbox_2d")) || bb->type != RK__JARR ||
        bb->u.arr.n != 4)
      continue;
    int ok = 1;
    for (int k = 0; k < 4 && ok; k++) ok = py_int(&bb->u.arr.items[k], &v[k]);
    if (!ok || !(v[0] < v[2] && v[1] < v[3])) continue;
    lb = rk__json_get(it, "label");
    int has = lb && lb->type == RK__JSTR;
    put_box(&out->b[out->n++], v, has ? lb->u.str : rk__str_make(NULL, 0), has,
            (size_t)(bb->raw.p - p));
  }
  return (long)out->n;
}

/* One coordinate of the fallback regex, (\d{1,3}|1000) followed by the
 * literal `next`: 1 to 3 digits (\d: of any script, as in Python's str
 * patterns), or exactly "1000" (with backtracking, 4 or more digits
 * match only as "1000"). The index after it, or 0. */
static size_t rx_coord(const char *p, size_t i, size_t n, const char *next, double *v) {
  const unsigned char *q = (const unsigned char *)p + i, *e = (const unsigned char *)p + n;
  size_t k = 0;
  double x = 0;
  while (q < e) {
    size_t len;
    int d = rk__cp_digit(rk__cp_next(q, e, &len));
    if (d < 0) break;
    x = x * 10 + d, k++, q += len;
  }
  size_t j = (size_t)((const char *)q - p);
  if (k == 0 || (k > 3 && !(j - i == 4 && memcmp(p + i, "1000", 4) == 0))) return 0;
  size_t L = strlen(next);
  if (n - j < L || memcmp(p + j, next, L) != 0) return 0;
  *v = x;
  return j + L;
}

/* extract_bbox_label: every non-overlapping match of
 *   \{"bbox_2d": \[(\d{1,3}|1000), (\d{1,3}|1000), (\d{1,3}|1000),
 *   (\d{1,3}|1000)\], "label": "([^"]+)"\}
 * in s, kept when x1 < x2 and y1 < y2. */
static long regex_boxes(rk__call *c, rk__str s, rk__boxes *out) {
  static const char head[] = "{\"bbox_2d\": [";
  static const char *const seps[4] = {", ", ", ", ", ", "], \"label\": \""};
  size_t cap = 0;
  for (size_t i = 0; i < s.n; i++) cap += s.p[i] == '{';
  out->b = rk__arena_alloc(c->arena, (cap + 1) * sizeof *out->b);
  if (!out->b) return -1;
  for (size_t i = 0; i + sizeof head - 1 <= s.n;) {
    const char *f = memmem(s.p + i, s.n - i, head, sizeof head - 1);
    if (!f) break;
    size_t at = (size_t)(f - s.p), j = at + sizeof head - 1;
    double v[4];
    for (int k = 0; k < 4 && j; k++) j = rx_coord(s.p, j, s.n, seps[k], &v[k]);
    size_t e = j;
    while (j && e < s.n && s.p[e] != '"') e++;
    if (!j || e == j || s.n - e < 2 || s.p[e + 1] != '}') {
      i = at + 1;
      continue;
    }
    if (v[0] < v[2] && v[1] < v[3])
      put_box(&out->b[out->n++], v, rk__str_make(s.p + j, e - j), 1, at);
    i = e + 2;
  }
  return (long)out->n;
}

rk_status rk__vr1_read_boxes(rk__call *c, rk__str text, rk__boxes *out) {
  memset(out, 0, sizeof *out);
  if (!rk__spend(c, 2 * (uint64_t)text.n + 1)) return RK_STATUS_TIMEOUT;
  rk__str s = py_strip(text);
  size_t n = 0;
  const char *j = s.n ? json_text(c, s, &n) : s.p;
  long got = j ? (s.n ? json_boxes(c, j, n, out) : 0) : -1;
  if (got == 0) got = regex_boxes(c, s, out);
  return got < 0 ? rk__fail(c, "out of scratch memory reading the answer's boxes") : RK_STATUS_OK;
}

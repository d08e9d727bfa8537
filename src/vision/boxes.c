/*
 * boxes.c - the box scanner, coordinate conventions, IoU / GIoU and the
 * argument block shared by the box rewards (boxes.h).
 *
 * The scanner is not a JSON parser: it walks any text once, keeps a small
 * stack of open [ and { and recognises boxes wherever they close, so the
 * same code reads strict JSON, Python reprs with single quotes, prose with
 * "[10, 20, 30, 40]" in it, and lists cut off by the token limit (the
 * complete items are kept, the cut-off one is counted as truncated: that
 * is the only repair that is unambiguous). Cost: one step per byte. A
 * reference the record parser has already read as JSON is fed to the same
 * token handlers from its tree (rk__boxes_scan_json): same result, no
 * second pass over its text. Objects, boxes and lists of objects at the
 * top level of a text (most answers and references) are read by a quick
 * path with the same handlers and no stack (quick_scan).
 *
 * Not for: matching and scoring (iou.c, detection.c, hungarian.c, coco_map.c).
 */
#define _DEFAULT_SOURCE /* strict C17 mode: POSIX and BSD names */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "text/extract.h"
#include "text/normalize.h"
#include "vision/boxes.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ scanner */

enum { K_NONE, K_BOX, K_LABEL, K_CONF, K_AREA, K_CROWD, K_OTHER };
enum { S_KEY, S_COLON, S_VALUE, S_AFTER };

#define MAX_DEPTH 64

typedef struct frame {
  char kind;       /* '{' or '[' */
  /* array */
  int nnum, nother, npairs;
  int as_value;    /* opened where the enclosing object expects a value */
  size_t start;    /* offset of the opening bracket */
  size_t box_at;   /* object: offset of its box array; array: of the pending box */
  double v[4], pv[4];
  /* array: a leading string is kept in label / has_label; a box right
   * after it waits here (pend) until the array closes, when it becomes a
   * labelled box if nothing else came ([label, box], Vision-R1) */
  int pend;
  double pbox[4];
  /* object */
  int key, state, has_box, box_keyed, box_bad;
  double box[4];
  double conf, area;
  rk__str label;
  int has_label, crowd;
} frame;

typedef struct scan {
  rk__call *c;
  rk__boxes *out;
  size_t cap, max;
  size_t lim;    /* text loop: bytes readable from p (>= n, for wide loads) */
  int oom;
  int unordered; /* a box was emitted after later ones (abandoned object) */
  int depth;     /* index of the top frame, -1 when none is open */
  int skipped;   /* [ { opened past MAX_DEPTH, to balance their closers */
  size_t list_at; /* offset of the list the text opens with, or SIZE_MAX */
  frame st[MAX_DEPTH];
} scan;

static int is_ws(unsigned char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }
static int is_word(unsigned char ch) {
  return ch == '_' || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
}
static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }
/* The index of the first non-whitespace byte in p[i..n), or n. */
static inline size_t skip_ws(const char *p, size_t i, size_t n) {
  while (i < n && (unsigned char)p[i] <= ' ' && is_ws((unsigned char)p[i])) i++;
  return i;
}

/* Index of the first ch in p[j..n), or n. Keys and labels are short: one
 * 16-byte compare (SSE2, in the x86-64 baseline), or one over the last 16
 * bytes of the text, or a plain loop over the first bytes beats the
 * memchr call, and has no data-dependent loop exit to mispredict. */
static inline size_t find_byte(const char *p, size_t j, size_t n, char ch) {
#ifdef __SSE2__
  if (n - j >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(ch)));
    if (m) return j + (size_t)__builtin_ctz(m);
    j += 16;
  }
  if (j < n && n - j < 16 && n >= 16) {
    /* The rest lies in the last 16 bytes of the text: one load, the
     * bytes before j masked off. */
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(ch))) &
                 (0xFFFFu << (16 - (n - j)));
    return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
  }
#endif
  size_t e = j + 16 < n ? j + 16 : n;
  for (; j < e; j++)
    if (p[j] == ch) return j;
  if (j >= n) return n;
  const char *q = memchr(p + j, ch, n - j);
  return q ? (size_t)(q - p) : n;
}

/* Index of the last ch in p[0..n), or (size_t)-1. 32 bytes a step from
 * the end (SSE2, in the x86-64 baseline). */
static size_t last_byte(const char *p, size_t n, char ch) {
#ifdef __SSE2__
  __m128i c = _mm_set1_epi8(ch);
  while (n >= 32) {
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 32));
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, c)) |
                 (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, c)) << 16;
    if (m) return n - 32 + (size_t)(31 - __builtin_clz(m));
    n -= 32;
  }
  if (n >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c));
    if (m) return n - 16 + (size_t)(31 - __builtin_clz(m));
    n -= 16;
  }
#endif
  while (n)
    if (p[--n] == ch) return n;
  return (size_t)-1;
}

/* Index of the first ch in p[j..n), or n: the first 64 bytes by SSE2
 * (an answer is short), the rest by memchr (a long text). */
static size_t first_byte(const char *p, size_t j, size_t n, char ch) {
#ifdef __SSE2__
  __m128i c = _mm_set1_epi8(ch);
  for (int k = 0; k < 4 && n - j >= 16; k++, j += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c));
    if (m) return j + (size_t)__builtin_ctz(m);
  }
  if (j < n && n - j < 16 && n >= 16) {
    /* The last 16 bytes, those before j masked off. */
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) & (0xFFFFu << (16 - (n - j)));
    return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
  }
#endif
  if (j >= n) return n;
  const char *q = memchr(p + j, ch, n - j);
  return q ? (size_t)(q - p) : n;
}

/* ASCII case-insensitive equality with a lowercase word of length n. */
static inline int key_eq_n(rk__str k, const char *z, size_t n) {
  if (k.n != n) return 0;
  if (memcmp(k.p, z, n) == 0) return 1; /* the usual spelling, compared inline */
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)k.p[i];
    if (ch >= 'A' && ch <= 'Z') ch |= 32;
    if (ch != (unsigned char)z[i]) return 0;
  }
  return 1;
}
static int key_eq(rk__str k, const char *z) { return key_eq_n(k, z, strlen(z)); }

/* Key classes (case-insensitive): bbox_2d bbox box box_2d bbox2d position
 * bounding_box coordinates are boxes; label class category category_name
 * name labels; confidence score conf confidences; area; iscrowd. Chosen
 * by length first: no two keys of a length share a spelling. */
static int classify_key(rk__str k) {
  switch (k.n) {
    case 3: return key_eq_n(k, "box", 3) ? K_BOX : K_OTHER;
    case 4:
      return key_eq_n(k, "bbox", 4)   ? K_BOX
             : key_eq_n(k, "name", 4) ? K_LABEL
             : key_eq_n(k, "conf", 4) ? K_CONF
             : key_eq_n(k, "area", 4) ? K_AREA
                                      : K_OTHER;
    case 5:
      return key_eq_n(k, "label", 5) || key_eq_n(k, "class", 5) ? K_LABEL
             : key_eq_n(k, "score", 5)                          ? K_CONF
                                                                : K_OTHER;
    case 6: return key_eq_n(k, "box_2d", 6) || key_eq_n(k, "bbox2d", 6) ? K_BOX : K_OTHER;
    case 7:
      return key_eq_n(k, "bbox_2d", 7)   ? K_BOX
             : key_eq_n(k, "iscrowd", 7) ? K_CROWD
                                         : K_OTHER;
    case 8:
      return key_eq_n(k, "position", 8)   ? K_BOX
             : key_eq_n(k, "category", 8) ? K_LABEL
                                          : K_OTHER;
    case 10: return key_eq_n(k, "confidence", 10) ? K_CONF : K_OTHER;
    case 11: return key_eq_n(k, "coordinates", 11) ? K_BOX : K_OTHER;
    case 12: return key_eq_n(k, "bounding_box", 12) ? K_BOX : K_OTHER;
    case 13: return key_eq_n(k, "category_name", 13) ? K_LABEL : K_OTHER;
    default: return K_OTHER;
  }
}

/* Empties a list. Field by field: a memset of the struct becomes `rep
 * stos` at -O2, whose start-up costs more than the rest of scanning a
 * one-box answer. */
static inline void boxes_clear(rk__boxes *o) {
  o->b = NULL;
  o->n = 0;
  for (int k = 0; k < RK__DROP__COUNT; k++) o->dropped[k] = 0;
  o->ndropped = 0;
  o->none_word = 0;
  o->items = 0;
}

static void drop(scan *s, rk__drop why) {
  s->out->dropped[why]++;
  s->out->ndropped++;
}

/* A label as its text: a double-quoted label with a backslash in it is
 * JSON-unescaped ("caf\u00e9" is "café", as json.loads gives it to the
 * original rewards); one whose escapes are invalid stays as written. The
 * raw bytes lie between their quotes in the scanned text (or the
 * reference's JSON). */
static rk__str label_text(scan *s, rk__str raw) {
  if (!raw.n || raw.p[-1] != '"' || !memchr(raw.p, '\\', raw.n)) return raw;
  rk__jval *v = NULL;
  rk__json_limits lim = {1, 0, 0};
  if (rk__json_parse(raw.p - 1, raw.n + 2, s->c->arena, &lim, &v, NULL) != 0 ||
      v->type != RK__JSTR)
    return raw;
  return v->u.str;
}

static void emit(scan *s, const double v[4], const frame *obj, size_t at) {
  rk__boxes *o = s->out;
  if (o->n >= s->max) {
    drop(s, RK__DROP_LIMIT);
    return;
  }
  if (o->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    if (nc > s->max) nc = s->max;
    rk__box *nb = rk__arena_alloc(s->c->arena, nc * sizeof *nb);
    if (!nb) {
      s->oom = 1;
      return;
    }
    if (o->n) memcpy(nb, o->b, o->n * sizeof *nb);
    o->b = nb;
    s->cap = nc;
  }
  if (o->n && o->b[o->n - 1].at > at) s->unordered = 1; /* sorted back at the end */
  rk__box *b = &o->b[o->n++];
  b->x1 = v[0], b->y1 = v[1], b->x2 = v[2], b->y2 = v[3];
  b->conf = obj ? obj->conf : NAN;
  b->area = obj ? obj->area : NAN;
  b->label = obj && obj->has_label ? label_text(s, obj->label) : rk__str_make(NULL, 0);
  b->has_label = obj ? obj->has_label : 0;
  b->crowd = obj ? obj->crowd : 0;
  b->at = at;
}

/* Length of a number token at p (JSON number, plus a leading '+' and a
 * leading '.'), 0 if none. */
static size_t number_len(const char *p, size_t n) {
  size_t i = 0;
  if (i < n && (p[i] == '-' || p[i] == '+')) i++;
  size_t d0 = i;
  while (i < n && is_digit((unsigned char)p[i])) i++;
  size_t nd = i - d0;
  if (i < n && p[i] == '.') {
    size_t f = ++i;
    while (i < n && is_digit((unsigned char)p[i])) i++;
    nd += i - f;
    if (i == f && nd == 0) return 0;
  }
  if (nd == 0) return 0;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (p[j] == '-' || p[j] == '+')) j++;
    size_t e0 = j;
    while (j < n && is_digit((unsigned char)p[j])) j++;
    if (j > e0) i = j;
  }
  return i;
}

static double number_val(const char *p, size_t n) {
  /* Fast path (Clinger 1990): at most 15 digits and 22 decimals, no
   * exponent: mantissa and power of ten are exact doubles, so one
   * correctly rounded division gives strtod's result. */
  static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = 0;
  int neg = 0, nd = 0, frac = 0, dot = 0;
  uint64_t m = 0;
  if (n && (p[0] == '-' || p[0] == '+')) neg = p[0] == '-', i++;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)p[i] - '0';
    if (d < 10) {
      if (nd < 19) m = m * 10 + d;
      nd++;
      frac += dot;
    } else if (p[i] == '.' && !dot) {
      dot = 1;
    } else {
      break;
    }
  }
  if (i == n && nd <= 15 && frac <= 22) {
    double v = (double)m / p10[frac];
    return neg ? -v : v;
  }
  char tmp[64];
  if (n >= sizeof tmp) return NAN; /* absurdly long: unusable */
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  return strtod(tmp, NULL);
}

/* Value of the k digits (1 <= k <= 8) at the start of the 8 bytes in x
 * (little-endian load): the digits to the top bytes (zeros below are
 * leading zeros), then fast_float's parse_eight_digits_unrolled. */
static inline uint64_t swar_digits(uint64_t x, unsigned k) {
  x = (x - 0x3030303030303030ull) << (8 * (8 - k));
  x = x * 10 + (x >> 8);
  return (((x & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
          (((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
         32;
}

/* Nonzero bits in the bytes of x (a little-endian load) that are not
 * ASCII digits, exact up to and including the first such byte, and in
 * any byte after it that follows no byte >= 0xFA: a byte is a digit when
 * its high nibble is 3 and adding 6 keeps it 3, and only a byte >= 0xFA
 * carries into the next. */
static inline uint64_t nondigits(uint64_t x) {
  uint64_t hi = x & 0xF0F0F0F0F0F0F0F0ull, hi6 = (x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull;
  return (hi ^ 0x3030303030303030ull) | (hi6 ^ 0x3030303030303030ull);
}

/* The digits at p[i..n): appends their value to *m (m = m * 10^k +
 * value, wrapping past 19 digits) and returns the index after them. Eight
 * bytes at a time where the text allows (SWAR on little-endian: which
 * bytes are digits, then their value by three multiplications, as in
 * fast_float's parse_eight_digits_unrolled), so that the length of a
 * number is no loop exit to mispredict. */
static inline size_t digits(const char *p, size_t i, size_t n, uint64_t *m) {
  static const uint64_t pow10u[9] = {1,      10,      100,      1000,     10000,
                                     100000, 1000000, 10000000, 100000000};
  uint64_t v = *m;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (n - i >= 8) {
    uint64_t x;
    memcpy(&x, p + i, 8);
    uint64_t bad = nondigits(x);
    unsigned k = bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
    if (k == 0) break;
    v = v * pow10u[k] + swar_digits(x, k);
    i += k;
    if (k < 8) {
      *m = v;
      return i;
    }
  }
#endif
  unsigned d;
  while (i < n && (d = (unsigned)(unsigned char)p[i] - '0') < 10) v = v * 10 + d, i++;
  *m = v;
  return i;
}

/* number_len and number_val in one pass: the length of the number token
 * at p (0 if none) and, when it is not 0, *v = number_val(p, length).
 * The token grammar and the Clinger fast path are those two functions';
 * anything off the fast path (an exponent, over 15 digits, over 22
 * decimals) goes to number_val itself. */
static size_t number_scan(const char *p, size_t n, double *v) {
  static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = 0;
  int neg = 0;
  if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i] == '-', i++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n - i >= 8) {
    /* The usual short number (12, 0.53, .5, 7.) ending inside the next 8
     * bytes: its digits and point from one load, as below but without
     * waiting for the integer part's end to read the fraction. */
    uint64_t x;
    memcpy(&x, p + i, 8);
    uint64_t bad = nondigits(x);
    unsigned k1 = bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
    unsigned char c1 = k1 < 8 ? (unsigned char)p[i + k1] : 0;
    if (k1 < 8 && c1 != '.' && c1 != 'e' && c1 != 'E') {
      if (!k1) return 0;
      double y = (double)(int64_t)swar_digits(x, k1);
      *v = neg ? -y : y;
      return i + k1;
    }
    if (c1 == '.' && k1 < 7) {
      uint64_t rest = bad >> (8 * (k1 + 1));
      unsigned k2 = rest ? (unsigned)__builtin_ctzll(rest) >> 3 : 8;
      unsigned end = k1 + 1 + k2;
      if (end < 8 && p[i + end] != 'e' && p[i + end] != 'E') {
        unsigned nd = k1 + k2;
        if (!nd) return 0;
        uint64_t lo = k1 ? x & (~0ull >> (64 - 8 * k1)) : 0;
        uint64_t fr = k2 ? (x >> (8 * (k1 + 1))) & (~0ull >> (64 - 8 * k2)) : 0;
        double y = (double)(int64_t)swar_digits(lo | fr << (8 * k1), nd);
        if (k2) y /= p10[k2];
        *v = neg ? -y : y;
        return i + end;
      }
    }
  }
#endif
  /* m is only used with at most 15 digits: past that it may wrap. */
  uint64_t m = 0;
  size_t d0 = i;
  i = digits(p, i, n, &m);
  size_t nd = i - d0, frac = 0;
  if (i < n && p[i] == '.') {
    size_t f = ++i;
    i = digits(p, i, n, &m);
    frac = i - f;
    nd += frac;
  }
  if (nd == 0) return 0;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (p[j] == '-' || p[j] == '+')) j++;
    size_t e0 = j;
    while (j < n && is_digit((unsigned char)p[j])) j++;
    if (j > e0) {
      *v = number_val(p, j);
      return j;
    }
  }
  if (nd <= 15 && frac <= 22) {
    /* m < 10^15 < 2^63: the signed conversion is exact; m / 1e0 is m. */
    double x = frac ? (double)(int64_t)m / p10[frac] : (double)(int64_t)m;
    *v = neg ? -x : x;
  } else {
    *v = number_val(p, i);
  }
  return i;
}

/* A pending box whose array did not turn out to be a [label, box] pair
 * stands on its own, without the label. */
static void flush_pending(scan *s, frame *a) {
  if (!a->pend) return;
  a->pend = 0;
  emit(s, a->pbox, NULL, a->box_at);
}

/* An array closed: a box for its parent, or a standalone box. */
static void close_array(scan *s, frame *st, int depth) {
  frame *a = &st[depth];
  frame *par = depth > 0 ? &st[depth - 1] : NULL;
  /* The list the text opens with: how many items it holds
   * (rk__boxes.items). A list of numbers only is a box (or no box), and
   * a [label, box] pair is one labelled box: neither is a list of items. */
  if (!par && a->start == s->list_at && a->nother > 0 &&
      !(a->pend && a->nother == 2 && a->nnum == 0))
    s->out->items = (size_t)a->nnum + (size_t)a->nother;
  if (a->pend) {
    /* Exactly a string and a box: [label, box] (Vision-R1's ground truth
     * [["cat", [x1, y1, x2, y2]], ...]). The label borrows the string. */
    if (a->nother == 2 && a->nnum == 0) {
      frame lab;
      memset(&lab, 0, sizeof lab);
      lab.conf = lab.area = NAN;
      lab.label = a->label;
      lab.has_label = 1;
      a->pend = 0;
      emit(s, a->pbox, &lab, a->box_at);
    } else {
      flush_pending(s, a);
    }
  }
  int is_box = 0;
  double v[4];
  if (a->nnum == 4 && a->nother == 0) {
    memcpy(v, a->v, sizeof v);
    is_box = 1;
  } else if (a->nnum == 0 && a->npairs == 2 && a->nother == 2) {
    memcpy(v, a->pv, sizeof v); /* [[x1,y1],[x2,y2]] */
    is_box = 1;
  }
  if (par && par->kind == '[') {
    par->nother++;
    if (a->nnum == 2 && a->nother == 0) {
      if (par->npairs < 2) memcpy(par->pv + 2 * par->npairs, a->v, 2 * sizeof(double));
      par->npairs++;
    }
  }
  if (par && par->kind == '{' && a->as_value) {
    par->state = S_AFTER;
    if (par->key == K_BOX) {
      if (is_box) {
        memcpy(par->box, v, sizeof v);
        par->has_box = par->box_keyed = 1;
        par->box_bad = 0;
        par->box_at = a->start;
      } else if (!par->has_box) {
        par->box_bad = 1;
      }
    } else if (is_box && !par->has_box) {
      memcpy(par->box, v, sizeof v); /* fallback: any 4-number member */
      par->has_box = 1;
      par->box_at = a->start;
    }
    return;
  }
  /* A box right after a leading string: maybe the box of a [label, box]
   * pair, decided when the parent closes (or flushed when anything else
   * follows). */
  if (is_box && par && par->kind == '[' && par->has_label && par->nnum == 0 &&
      par->nother == 2 && !par->pend) {
    memcpy(par->pbox, v, sizeof v);
    par->pend = 1;
    par->box_at = a->start;
    return;
  }
  /* A box directly in a list or in prose. (A lone [x, y] pair is not.) */
  if (is_box) emit(s, v, NULL, a->start);
}

static void close_object(scan *s, frame *st, int depth) {
  frame *o = &st[depth];
  frame *par = depth > 0 ? &st[depth - 1] : NULL;
  if (o->has_box)
    emit(s, o->box, o, o->box_at);
  else if (o->box_bad)
    drop(s, RK__DROP_NOT4);
  if (par) {
    if (par->kind == '[') par->nother++;
    else if (par->state == S_VALUE) par->state = S_AFTER;
  }
}

/* A frame never closed: the one at s->st[j], cut by the end of the text
 * (at_end), or left open by a closer of an outer bracket (an unbalanced
 * brace in prose). Frames are abandoned innermost first.
 * An object: a box under a box key belonged to a JSON object whose other
 * members may be lost: dropped as truncated. A bare 4-number array inside
 * it stands on its own.
 * An array holding only numbers so far, cut by the end of the text inside
 * a list or under a box key, was a box cut off (`[[1,2,3,4],[5,6,7` of a
 * long answer): dropped as truncated, so that the explanation says the
 * answer lost a box. At the top level (prose: "see [1") it is not
 * counted. */
static void abandon(scan *s, int j, int at_end) {
  frame *f = &s->st[j];
  if (f->kind != '{') {
    /* Only the end of the text abandons an array with a pending box (any
     * other byte flushes it first): a [label, box] item cut off, dropped
     * like a cut-off object. */
    if (f->pend) {
      drop(s, RK__DROP_TRUNCATED), f->pend = 0;
      return;
    }
    frame *par = j > 0 ? &s->st[j - 1] : NULL;
    if (!at_end || !par || !f->nnum || f->nother || f->npairs) return;
    if (par->kind == '[') {
      drop(s, RK__DROP_TRUNCATED);
    } else if (f->as_value && par->key == K_BOX) {
      /* Counted once, by the object's own abandonment (next), which
       * drops an object with a keyed or a bad box as truncated; one with
       * only a fallback box emits that box, so the cut one counts here. */
      if (!par->has_box)
        par->box_bad = 1;
      else if (!par->box_keyed)
        drop(s, RK__DROP_TRUNCATED);
    }
    return;
  }
  if (f->has_box && !f->box_keyed) {
    emit(s, f->box, NULL, f->box_at);
    s->unordered = 1;
  }
  else if (f->has_box || f->box_bad)
    drop(s, RK__DROP_TRUNCATED);
}

/* The scanner is a tokenizer (the text loop in rk__boxes_scan, or the
 * walk over a parsed JSON value in rk__boxes_scan_json) feeding the
 * token handlers below, which hold all of its meaning. Both tokenizers
 * give the same tokens for the same JSON text, hence the same boxes. */

static inline frame *scan_top(scan *s) { return s->depth >= 0 ? &s->st[s->depth] : NULL; }

/* Before every token but whitespace; ch is its first byte. Anything but a
 * comma or the closing bracket after the box of a possible [label, box]
 * pair: it is not one. */
static inline void tok_begin(scan *s, unsigned char ch) {
  frame *top = scan_top(s);
  if (top && top->pend && ch != ',' && ch != ']') flush_pending(s, top);
}

/* What a new frame knows of its members: nothing yet (no key, no box, no
 * confidence, area or label). */
static inline void frame_members_reset(frame *f, char kind) {
  f->kind = kind;
  f->box_at = 0;
  f->key = K_NONE;
  f->state = S_KEY;
  f->has_box = f->box_keyed = f->box_bad = 0;
  f->conf = NAN;
  f->area = NAN;
  f->label = rk__str_make(NULL, 0);
  f->has_label = f->crowd = 0;
}

static inline void tok_open(scan *s, char kind, size_t at) {
  if (s->depth + 1 >= MAX_DEPTH) {
    s->skipped++;
    return;
  }
  frame *top = scan_top(s);
  int as_value = top && top->kind == '{' && top->state == S_VALUE;
  /* Field by field rather than memset: the frame is ~240 bytes, and v,
   * pv, pbox and box are only read once written (nnum, npairs, pend and
   * has_box say so). */
  frame *f = &s->st[++s->depth];
  frame_members_reset(f, kind);
  f->nnum = f->nother = f->npairs = 0;
  f->as_value = as_value;
  f->start = at;
  f->pend = 0;
}

static inline void tok_close(scan *s, char ch) {
  char want = ch == '}' ? '{' : '[';
  if (s->skipped) {
    s->skipped--;
    return;
  }
  int k = s->depth;
  while (k >= 0 && s->st[k].kind != want) k--;
  if (k < 0) return;
  /* Frames opened inside and never closed are abandoned. */
  for (int j = s->depth; j > k; j--) abandon(s, j, 0);
  s->depth = k;
  if (want == '[')
    close_array(s, s->st, k);
  else
    close_object(s, s->st, k);
  s->depth--;
}

static inline void tok_comma(frame *top) {
  if (top->kind == '{') top->state = S_KEY, top->key = K_NONE;
}

static inline void tok_colon(frame *top) {
  if (top->kind == '{') top->state = S_VALUE;
}

/* A quoted string, str its raw bytes between the quotes. */
static inline void tok_string(frame *top, rk__str str) {
  if (top->kind == '[') {
    if (top->nother == 0 && top->nnum == 0) { /* maybe [label, box] */
      top->label = str;
      top->has_label = 1;
    }
    top->nother++;
  } else if (top->state == S_KEY || top->state == S_COLON) {
    top->key = classify_key(str);
    top->state = S_COLON;
  } else if (top->state == S_VALUE) {
    if (top->key == K_LABEL) {
      top->label = str;
      top->has_label = 1;
    } else if (top->key == K_CONF || top->key == K_AREA) {
      size_t k = number_len(str.p, str.n);
      if (k && k == str.n) {
        double v = number_val(str.p, k);
        if (top->key == K_CONF) top->conf = v; else top->area = v;
      }
    }
    top->state = S_AFTER;
  }
}

/* A number token tok of value v. */
static inline void tok_number(frame *top, double v, rk__str tok) {
  if (top->kind == '[') {
    if (top->nnum < 4) top->v[top->nnum] = v;
    top->nnum++;
  } else if (top->state == S_VALUE) {
    if (top->key == K_CONF) top->conf = v;
    else if (top->key == K_AREA) top->area = v;
    else if (top->key == K_CROWD) top->crowd = v != 0;
    else if (top->key == K_LABEL) {
      top->label = tok; /* numeric class id */
      top->has_label = 1;
    }
    top->state = S_AFTER;
  }
}

/* The non-finite numbers written as words: NaN, Infinity (and, after a
 * '-', -Infinity) as Python's json writes them, nan, inf (-inf) as Python
 * prints floats; exactly so spelled. In an array they count as numbers,
 * so that [NaN, 0, 10, 10] is a box that conversion drops as not finite
 * (like [1e999, 0, 10, 10]) instead of text, while [nan, bread, milk,
 * eggs] stays text. *v gets NaN or +infinity. */
static int nonfinite_word(rk__str w, double *v) {
  if ((w.n == 3 && (!memcmp(w.p, "NaN", 3) || !memcmp(w.p, "nan", 3)))) {
    *v = NAN;
    return 1;
  }
  if ((w.n == 3 && !memcmp(w.p, "inf", 3)) || (w.n == 8 && !memcmp(w.p, "Infinity", 8))) {
    *v = INFINITY;
    return 1;
  }
  return 0;
}

static inline void tok_word(frame *top, rk__str w) {
  if (top->kind == '[') {
    double v;
    if (nonfinite_word(w, &v))
      tok_number(top, v, w);
    else
      top->nother++;
  } else if (top->state == S_KEY) {
    top->key = classify_key(w); /* unquoted key */
    top->state = S_COLON;
  } else if (top->state == S_VALUE) {
    if (top->key == K_CROWD) top->crowd = key_eq(w, "true");
    top->state = S_AFTER;
  }
}

/* A flat array of n numbers (the first 4 in v, opened at offset at) as
 * the value of obj's current member: its box, or the fallback box, or a
 * bad box. */
static inline void flat_value(frame *obj, size_t n, const double *v, size_t at) {
  obj->state = S_AFTER;
  if (obj->key == K_BOX) {
    if (n == 4) {
      memcpy(obj->box, v, 4 * sizeof(double));
      obj->has_box = obj->box_keyed = 1;
      obj->box_bad = 0;
      obj->box_at = at;
    } else if (!obj->has_box) {
      obj->box_bad = 1;
    }
  } else if (n == 4 && !obj->has_box) {
    memcpy(obj->box, v, 4 * sizeof(double)); /* fallback: any 4-number member */
    obj->has_box = 1;
    obj->box_at = at;
  }
}

/* tok_open, the number tokens and tok_close of an array holding n
 * numbers and nothing else (the first 4 in v), opened at offset at: what
 * close_array does with such an array (not a pending [label, box], no
 * other items, its parent unchanged since it opened), without pushing
 * its frame. Only below MAX_DEPTH (deeper, the array is skipped like any
 * other, token by token). */
static void flat_close(scan *s, size_t n, const double *v, size_t at) {
  frame *par = scan_top(s);
  int as_value = par && par->kind == '{' && par->state == S_VALUE;
  int is_box = n == 4;
  if (par && par->kind == '[') {
    par->nother++;
    if (n == 2) {
      if (par->npairs < 2) memcpy(par->pv + 2 * par->npairs, v, 2 * sizeof(double));
      par->npairs++;
    }
  }
  if (as_value) {
    flat_value(par, n, v, at);
    return;
  }
  if (is_box && par && par->kind == '[' && par->has_label && par->nnum == 0 &&
      par->nother == 2 && !par->pend) {
    memcpy(par->pbox, v, 4 * sizeof(double));
    par->pend = 1;
    par->box_at = at;
    return;
  }
  if (is_box) emit(s, v, NULL, at);
}

/* Frames left open at the end, the out-of-memory report, source order. */
static rk_status scan_finish(scan *s) {
  rk__boxes *out = s->out;
  for (int j = s->depth; j >= 0; j--) abandon(s, j, 1);
  if (s->oom) return rk__fail(s->c, "out of memory while scanning boxes");
  if (s->unordered) { /* back to source order (rare: stable insertion) */
    for (size_t k = 1; k < out->n; k++) {
      rk__box x = out->b[k];
      size_t q = k;
      while (q > 0 && out->b[q - 1].at > x.at) out->b[q] = out->b[q - 1], q--;
      out->b[q] = x;
    }
  }
  return RK_STATUS_OK;
}

static void scan_init(scan *s, rk__call *c, rk__boxes *out, size_t max_boxes) {
  s->c = c;
  s->out = out;
  s->cap = 0;
  s->max = max_boxes ? max_boxes : RK__BOXES_DEFAULT_MAX;
  s->lim = 0;
  s->oom = s->unordered = 0;
  s->depth = -1;
  s->skipped = 0;
  s->list_at = SIZE_MAX;
}

/* Where the list that a text may be opens: its first byte after
 * whitespace, and after the info string "json" that the text of a code
 * block starts with; SIZE_MAX when that byte is not '['. */
static size_t list_start(const char *p, size_t n) {
  size_t i = skip_ws(p, 0, n);
  if (n - i >= 4 && memcmp(p + i, "json", 4) == 0) i = skip_ws(p, i + 4, n);
  return i < n && p[i] == '[' ? i : SIZE_MAX;
}

/* ---------------------------------------------------- the text loop */

static inline int num_start(unsigned char ch) {
  return is_digit(ch) || ch == '-' || ch == '+' || ch == '.';
}

/* Index of the quote closing the string opened at p[i] with quote q, or
 * n when the text ends first. A quote after an odd run of backslashes is
 * escaped. */
static inline size_t string_end(const char *p, size_t i, size_t n, char q) {
  size_t j = i + 1;
  for (;;) {
    size_t e = find_byte(p, j, n, q);
    if (e == n) return n;
    size_t bs = 0;
    while (e - bs > i + 1 && p[e - bs - 1] == '\\') bs++;
    if (bs % 2 == 0) return e;
    j = e + 1;
  }
}

/* flat_array's common case without its byte-by-byte walk: after the '['
 * at p[i], plain integers of at most 8 digits, commas and whitespace, and
 * the ']' within 31 bytes. Found with SSE2 byte masks, so the numbers
 * are read independently of one another instead of each waiting for the
 * previous one's end. The tokens are maximal digit runs (number_scan
 * stops at a comma, whitespace or ']') and their values, as integers
 * below 2^53, those number_scan gives. Returns the index after the ']'
 * with the first 4 values in v and their count in *cnt, or 0 when the
 * array is anything else. Up to 4 numbers of up to 4 digits are
 * converted together (SSE2 pmaddwd), longer ones one at a time (SWAR).
 * p[0..lim) must be readable (lim >= n). */
static size_t flat_ints(const char *p, size_t i, size_t n, size_t lim, double v[4], int *cnt) {
#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* 32 bytes of masks and 8-byte loads at any run: 40 bytes after the
   * '[' must be readable. Bytes from n on (readable when lim says so)
   * are masked off: they count as neither digits, separators nor ']'. */
  if (lim - i < 41) return 0;
  const char *q = p + i + 1;
  uint32_t valid = n - i - 1 >= 32 ? ~0u : (1u << (n - i - 1)) - 1;
  uint32_t dig = 0, sep = 0, close = 0;
  for (int h = 0; h < 2; h++) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * h));
    __m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0'));
    __m128i isd = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i w = _mm_sub_epi8(c, _mm_set1_epi8('\t')); /* \t..\r */
    __m128i iss = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(w, _mm_set1_epi8(4)), w),
                               _mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8(' ')),
                                            _mm_cmpeq_epi8(c, _mm_set1_epi8(','))));
    dig |= (uint32_t)_mm_movemask_epi8(isd) << (16 * h);
    sep |= (uint32_t)_mm_movemask_epi8(iss) << (16 * h);
    close |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8(']'))) << (16 * h);
  }
  dig &= valid, sep &= valid, close &= valid;
  if (!close) return 0;
  unsigned e = (unsigned)__builtin_ctz(close);
  uint32_t before = (1u << e) - 1; /* e <= 31 */
  if (((dig | sep) & before) != before) return 0;
  dig &= before;
  uint32_t starts = dig & ~(dig << 1), ends = dig & ~(dig >> 1);
  /* Numbers of at most 4 digits (pixel coordinates), the usual case:
   * each run as the 4 bytes ending at its last digit, the bytes before
   * its first digit set to '0', all four converted at once below. The
   * load needs the 3 bytes before the last digit inside the text. */
  const uint64_t zeros = 0x3030303030303030ull;
  uint64_t wlo = zeros, whi = zeros; /* the 4 words, a queue entered at the top */
  int k = 0, small = 1;
  for (uint32_t st = starts, en = ends; st; st &= st - 1, en &= en - 1, k++) {
    unsigned b = (unsigned)__builtin_ctz(st), l = (unsigned)__builtin_ctz(en);
    unsigned len = l - b + 1;
    if (len > 8) return 0;
    if (k < 4) {
      if (len <= 4 && i + 1 + l >= 3) {
        uint32_t x, keep = ~0u << (8 * (4 - len));
        memcpy(&x, q + l - 3, 4);
        x = (x & keep) | (0x30303030u & ~keep);
        wlo = (wlo >> 32) | (whi << 32);
        whi = (whi >> 32) | (uint64_t)x << 32;
      } else {
        small = 0;
      }
    }
  }
  *cnt = k;
  if (small) {
    for (int r = k; r < 4; r++) wlo = (wlo >> 32) | (whi << 32), whi = (whi >> 32) | (zeros << 32);
    /* Digits to 16 bits, then pmaddwd with 1000, 100, 10, 1: two partial
     * sums per number, added; exact integers below 10^4. (The words go
     * to the vector through registers: a 16-byte load of 4-byte stores
     * would wait for them to reach the cache.) */
    __m128i x = _mm_sub_epi8(_mm_set_epi64x((long long)whi, (long long)wlo), _mm_set1_epi8('0'));
    __m128i z = _mm_setzero_si128(), wt = _mm_setr_epi16(1000, 100, 10, 1, 1000, 100, 10, 1);
    __m128i lo = _mm_madd_epi16(_mm_unpacklo_epi8(x, z), wt); /* numbers 0, 1 */
    __m128i hi = _mm_madd_epi16(_mm_unpackhi_epi8(x, z), wt); /* numbers 2, 3 */
    lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, _MM_SHUFFLE(2, 3, 0, 1)));
    hi = _mm_add_epi32(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128i all = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(lo), _mm_castsi128_ps(hi),
                                                  _MM_SHUFFLE(2, 0, 2, 0)));
    _mm_storeu_pd(v, _mm_cvtepi32_pd(all));
    _mm_storeu_pd(v + 2, _mm_cvtepi32_pd(_mm_shuffle_epi32(all, _MM_SHUFFLE(3, 2, 3, 2))));
    return i + 1 + e + 1;
  }
  k = 0;
  for (uint32_t st = starts; st && k < 4; st &= st - 1, k++) {
    unsigned b = (unsigned)__builtin_ctz(st);
    unsigned len = (unsigned)__builtin_ctz(~(dig >> b));
    uint64_t x;
    memcpy(&x, q + b, 8);
    v[k] = (double)(int64_t)swar_digits(x, len);
  }
  return i + 1 + e + 1;
#else
  (void)p, (void)i, (void)n, (void)lim, (void)v, (void)cnt;
  return 0;
#endif
}

/* The array opened at p[i] when it holds nothing but numbers, commas and
 * whitespace: the index after its ']', with the count of numbers in *cnt
 * and the first 4 in v; 0 when it holds anything else. lim as flat_ints. */
static size_t flat_nums(const char *p, size_t i, size_t n, size_t lim, double v[4], int *cnt) {
  *cnt = 0;
  size_t j = flat_ints(p, i, n, lim, v, cnt);
  if (j) return j; /* the usual [12, 34, 56, 78] */
  int c = 0;
  j = i + 1;
  for (;;) {
    while (j < n && is_ws((unsigned char)p[j])) j++;
    if (j >= n) return 0;
    unsigned char ch = (unsigned char)p[j];
    if (ch == ',') {
      j++;
      continue;
    }
    if (ch == ']') break;
    double x = 0;
    size_t k = num_start(ch) ? number_scan(p + j, n - j, &x) : 0;
    if (!k) return 0;
    if (c < 4) v[c] = x;
    c++;
    j += k;
  }
  *cnt = c;
  return j + 1;
}

/* The array opened at p[i] (its tok_begin done) when it holds nothing but
 * numbers, commas and whitespace, as most arrays here are boxes: read in
 * one go, as its tokens would only count and keep the numbers. Returns
 * the index after its ']', or 0 when it holds anything else (the loop
 * then reads it token by token). */
static size_t flat_array(scan *s, const char *p, size_t i, size_t n) {
  if (s->depth + 1 >= MAX_DEPTH) return 0;
  double nv[4];
  int cnt = 0;
  size_t j = flat_nums(p, i, n, s->lim, nv, &cnt);
  if (j) flat_close(s, (size_t)cnt, nv, i);
  return j;
}

/* Inside an object, after its '{' or a ',': "key": value members read
 * straight through while the values are strings, numbers or flat arrays
 * (the usual {"bbox_2d": [...], "label": "cat"}), giving the handlers the
 * tokens the main loop would, with less dispatch. The object stays the
 * top frame throughout (flat arrays push none), and tok_begin has nothing
 * to do on it (only arrays have a pending box). Returns where the main
 * loop goes on: the first byte not read (the '}', or anything else). */
static size_t members(scan *s, const char *p, size_t i, size_t n, char *prev) {
  frame *top = scan_top(s);
  for (;;) {
    while (i < n && is_ws((unsigned char)p[i])) i++;
    if (i >= n || p[i] != '"' || s->oom) return i;
    size_t j = string_end(p, i, n, '"');
    if (j >= n) return i;
    tok_string(top, rk__str_make(p + i + 1, j - i - 1));
    *prev = '"';
    i = j + 1;
    while (i < n && is_ws((unsigned char)p[i])) i++;
    if (i >= n || p[i] != ':') return i;
    tok_colon(top);
    *prev = ':';
    i++;
    while (i < n && is_ws((unsigned char)p[i])) i++;
    if (i >= n) return i;
    unsigned char ch = (unsigned char)p[i];
    if (ch == '"') {
      j = string_end(p, i, n, '"');
      if (j >= n) return i;
      tok_string(top, rk__str_make(p + i + 1, j - i - 1));
      *prev = '"';
      i = j + 1;
    } else if (num_start(ch)) {
      double v = 0;
      size_t k = number_scan(p + i, n - i, &v);
      if (!k) return i;
      tok_number(top, v, rk__str_make(p + i, k));
      *prev = '0';
      i += k;
    } else if (ch == '[') {
      j = flat_array(s, p, i, n);
      if (!j) return i;
      *prev = ']';
      i = j;
    } else {
      return i;
    }
    while (i < n && is_ws((unsigned char)p[i])) i++;
    if (i >= n || p[i] != ',') return i;
    tok_comma(top);
    *prev = ',';
    i++;
  }
}

/* ---------------------------------------------------- the quick path */

/* Most texts handed to the scanner are one JSON object, one box array or
 * one list of objects, maybe after a word or two: an answer region such
 * as {"bbox_2d": [12, 34, 56, 78], "label": "cup"}, a ```json block of
 * detections, a reference string.
 * quick_scan reads such a text from its start with the same token
 * handlers but no dispatch loop: an object in one go on a frame of its
 * own, emitted or dropped where its '}' would close it; prose around
 * them is skipped as the text loop skips it. At the first byte of any
 * other shape it stops and hands over to the text loop, in the state the
 * loop would have reached there (the boxes emitted so far, an open list
 * frame). Nothing is read twice but the object it stopped in, or the
 * bracket that opened neither a box nor a list of objects, which the
 * loop reads again from its '{' or '[': the work stays linear. */

/* The object at p[i] == '{' when every member is "key": a string, a
 * number or a flat array of numbers. Sets up *f as tok_open does, feeds
 * it the tokens members() would, and returns the index after its '}',
 * or 0 for any other shape. */
static size_t quick_object(const char *p, size_t i, size_t n, size_t lim, frame *f) {
  frame_members_reset(f, '{');
  i++;
  i = skip_ws(p, i, n);
  if (i < n && p[i] == '}') return i + 1;
  for (;;) {
    if (i >= n || p[i] != '"') return 0;
    size_t j = string_end(p, i, n, '"');
    if (j >= n) return 0;
    tok_string(f, rk__str_make(p + i + 1, j - i - 1));
    i = j + 1;
    i = skip_ws(p, i, n);
    if (i >= n || p[i] != ':') return 0;
    tok_colon(f);
    i++;
    i = skip_ws(p, i, n);
    if (i >= n) return 0;
    unsigned char ch = (unsigned char)p[i];
    if (ch == '"') {
      j = string_end(p, i, n, '"');
      if (j >= n) return 0;
      tok_string(f, rk__str_make(p + i + 1, j - i - 1));
      i = j + 1;
    } else if (ch == '[') {
      double v[4];
      int cnt;
      j = flat_nums(p, i, n, lim, v, &cnt);
      if (!j) return 0;
      flat_value(f, (size_t)cnt, v, i);
      i = j;
    } else {
      double v = 0;
      size_t k = num_start(ch) ? number_scan(p + i, n - i, &v) : 0;
      if (!k) return 0;
      tok_number(f, v, rk__str_make(p + i, k));
      i += k;
    }
    i = skip_ws(p, i, n);
    if (i >= n) return 0;
    if (p[i] == '}') return i + 1;
    if (p[i] != ',') return 0;
    tok_comma(f);
    i++;
    i = skip_ws(p, i, n);
  }
}

/* What tok_close of an object read by quick_object does (close_object
 * on a frame not on the stack): its box or its bad box, and one more
 * item for the list it is in (par, or NULL at the top). */
static void quick_close(scan *s, const frame *o, frame *par) {
  if (o->has_box)
    emit(s, o->box, o, o->box_at);
  else if (o->box_bad)
    drop(s, RK__DROP_NOT4);
  if (par) par->nother++;
}

/* Reads p[0..n) from its start while it holds, at the top level, prose,
 * objects, flat arrays and lists of objects. Returns where the text loop
 * goes on (n when all was read) and sets *prev as the loop would have it
 * there. */
static size_t quick_scan(scan *s, const char *p, size_t n, char *prev) {
  size_t i = 0;
  while (i < n && !s->oom) {
    unsigned char ch = (unsigned char)p[i];
    frame f;
    if (ch == '{') {
      size_t j = quick_object(p, i, n, s->lim, &f);
      if (!j) return i;
      quick_close(s, &f, NULL);
      *prev = '}';
      i = j;
      continue;
    }
    if (ch != '[') {
      /* The text loop with no frame open: a closer closes nothing, a
       * word or number is skipped whole, anything else byte by byte. */
      if (ch == '}' || ch == ']') {
        *prev = (char)ch;
        i++;
      } else if (is_word(ch) || is_digit(ch)) {
        while (i < n && (is_word((unsigned char)p[i]) || is_digit((unsigned char)p[i]))) i++;
      } else {
        i++;
      }
      continue;
    }
    double v[4];
    int cnt;
    size_t j = flat_nums(p, i, n, s->lim, v, &cnt);
    if (j) { /* flat_array's flat_close at the top: a box or nothing */
      if (cnt == 4) emit(s, v, NULL, i);
      *prev = ']';
      i = j;
      continue;
    }
    /* A list of objects: its frame as tok_open makes it, then each
     * object closed into it. The loop goes on at anything else,
     * including the list's ']'. */
    size_t i0 = i;
    i = skip_ws(p, i + 1, n);
    if (i >= n || p[i] != '{') return i0;
    tok_open(s, '[', i0);
    *prev = '[';
    frame *list = scan_top(s);
    for (;;) {
      j = quick_object(p, i, n, s->lim, &f);
      if (!j) return i;
      quick_close(s, &f, list);
      *prev = '}';
      i = skip_ws(p, j, n);
      if (i >= n || p[i] != ',' || s->oom) return i;
      *prev = ','; /* tok_comma: nothing to do in a list */
      i = skip_ws(p, i + 1, n);
      if (i >= n || p[i] != '{') return i;
    }
  }
  return i;
}

rk_status rk__boxes_scan_in(rk__call *c, const char *p, size_t n, size_t lim,
                            size_t max_boxes, rk__boxes *out) {
  boxes_clear(out);
  if (!rk__spend(c, (uint64_t)n + 1)) return RK_STATUS_TIMEOUT;
  scan s;
  scan_init(&s, c, out, max_boxes);
  s.lim = lim;
  s.list_at = list_start(p, n);
  char prev = 0;  /* last structural byte, for single-quote strings */
  size_t i = quick_scan(&s, p, n, &prev);
  while (i < n && !s.oom) {
    unsigned char ch = (unsigned char)p[i];
    if (is_ws(ch)) {
      i++;
      continue;
    }
    tok_begin(&s, ch);
    if (ch == '[') {
      size_t j = flat_array(&s, p, i, n);
      if (j) {
        prev = ']';
        i = j;
        continue;
      }
    }
    if (ch == '{' || ch == '[') {
      tok_open(&s, (char)ch, i);
      prev = (char)ch;
      i++;
      if (ch == '{' && s.depth >= 0 && s.st[s.depth].kind == '{') i = members(&s, p, i, n, &prev);
      continue;
    }
    if (ch == '}' || ch == ']') {
      tok_close(&s, (char)ch);
      prev = (char)ch;
      i++;
      continue;
    }
    frame *top = scan_top(&s);
    if (!top) {
      /* Prose: only brackets matter. Skip a word or number whole so that
       * "x1" is not read as 1. */
      if (is_word(ch) || is_digit(ch)) {
        while (i < n && (is_word((unsigned char)p[i]) || is_digit((unsigned char)p[i]))) i++;
      } else {
        i++;
      }
      continue;
    }
    if (ch == ',') {
      tok_comma(top);
      prev = ',';
      i++;
      if (top->kind == '{') i = members(&s, p, i, n, &prev);
      continue;
    }
    if (ch == ':') {
      tok_colon(top);
      prev = ':';
      i++;
      continue;
    }
    if (ch == '"' || (ch == '\'' && (prev == '{' || prev == '[' || prev == ',' || prev == ':'))) {
      size_t j = string_end(p, i, n, (char)ch);
      if (j >= n) break; /* unterminated: the text ends inside a string */
      tok_string(top, rk__str_make(p + i + 1, j - i - 1));
      i = j + 1;
      prev = '"';
      continue;
    }
    double v = 0;
    size_t k = num_start(ch) ? number_scan(p + i, n - i, &v) : 0;
    if (k) {
      tok_number(top, v, rk__str_make(p + i, k));
      i += k;
      prev = '0';
      continue;
    }
    if (is_word(ch)) {
      size_t j = i;
      while (j < n && (is_word((unsigned char)p[j]) || is_digit((unsigned char)p[j]))) j++;
      tok_word(top, rk__str_make(p + i, j - i));
      i = j;
      prev = 'a';
      continue;
    }
    if (ch == '-' && top->kind == '[') {
      /* -Infinity or -inf in an array: a number, as in tok_word. */
      size_t j = i + 1;
      while (j < n && (is_word((unsigned char)p[j]) || is_digit((unsigned char)p[j]))) j++;
      double inf;
      if (nonfinite_word(rk__str_make(p + i + 1, j - i - 1), &inf) && inf > 0) {
        tok_number(top, -inf, rk__str_make(p + i, j - i));
        i = j;
        prev = '0';
        continue;
      }
    }
    /* Any other byte inside a container. */
    if (top->kind == '[') top->nother++;
    prev = (char)ch;
    i++;
  }
  return scan_finish(&s);
}

rk_status rk__boxes_scan(rk__call *c, const char *p, size_t n, size_t max_boxes,
                         rk__boxes *out) {
  return rk__boxes_scan_in(c, p, n, n, max_boxes, out);
}

/* The tokens of a parsed value, as the text loop reads them from v->raw
 * (base: the start of the outermost raw text, for the offsets). In valid
 * JSON the text loop sees exactly these: strings (raw bytes between the
 * quotes), numbers (the same token grammar), words (true, false, null),
 * brackets, commas and colons; whitespace is skipped. */
static inline void walk_scalar(scan *s, const rk__jval *v) {
  tok_begin(s, (unsigned char)v->raw.p[0]);
  frame *top = scan_top(s);
  if (v->type == RK__JNUM)
    /* The parser's u.num and number_val are both the correctly rounded
     * double of the text, except that number_val gives up (NaN) on
     * tokens of 64 bytes or more. */
    tok_number(top, v->raw.n < 64 ? v->u.num : NAN, v->raw);
  else if (v->type == RK__JSTR)
    tok_string(top, rk__str_make(v->raw.p + 1, v->raw.n - 2));
  else /* true, false, null */
    tok_word(top, v->raw);
}

/* A container and what is inside; -1 past `limit` levels (the caller
 * falls back to the text). */
static int walk(scan *s, const rk__jval *v, const char *base, int limit) {
  if (limit == 0) return -1;
  int arr = v->type == RK__JARR;
  if (arr) { /* only numbers: what flat_array does with the text */
    size_t k = 0, n = v->u.arr.n;
    while (k < n && v->u.arr.items[k].type == RK__JNUM) k++;
    if (k == n) {
      tok_begin(s, '[');
      if (s->depth + 1 < MAX_DEPTH) {
        double nv[4];
        for (k = 0; k < n && k < 4; k++) {
          const rk__jval *x = &v->u.arr.items[k];
          nv[k] = x->raw.n < 64 ? x->u.num : NAN; /* see walk_scalar */
        }
        flat_close(s, n, nv, (size_t)(v->raw.p - base));
        return 0;
      }
    }
  }
  tok_begin(s, arr ? '[' : '{');
  tok_open(s, arr ? '[' : '{', (size_t)(v->raw.p - base));
  /* This container's frame (the walk stops short of MAX_DEPTH); nested
   * walks close theirs before returning. */
  frame *top = scan_top(s);
  size_t n = arr ? v->u.arr.n : v->u.obj.n;
  /* tok_begin does nothing for a comma, nor on an object (only arrays
   * have a pending box): the key and colon go straight in. */
  for (size_t k = 0; k < n && !s->oom; k++) {
    if (k) tok_comma(top);
    const rk__jval *x;
    if (arr) {
      x = &v->u.arr.items[k];
    } else {
      const rk__jmember *m = &v->u.obj.items[k];
      tok_string(top, rk__str_make(m->raw_key.p + 1, m->raw_key.n - 2));
      tok_colon(top);
      x = &m->val;
    }
    if (x->type == RK__JARR || x->type == RK__JOBJ) {
      if (walk(s, x, base, limit - 1)) return -1;
    } else {
      walk_scalar(s, x);
    }
  }
  tok_begin(s, arr ? ']' : '}');
  tok_close(s, arr ? ']' : '}');
  return 0;
}

rk_status rk__boxes_scan_json(rk__call *c, const rk__jval *v, size_t max_boxes,
                              rk__boxes *out) {
  if (v->type != RK__JARR && v->type != RK__JOBJ)
    return rk__boxes_scan(c, v->raw.p, v->raw.n, max_boxes, out);
  boxes_clear(out);
  uint64_t cost = (uint64_t)v->raw.n + 1; /* what the text loop charges */
  if (!rk__spend(c, cost)) return RK_STATUS_TIMEOUT;
  scan s;
  scan_init(&s, c, out, max_boxes);
  if (v->type == RK__JARR && v->u.arr.n == 4) {
    /* One box, [x1, y1, x2, y2]: walk's flat array at the top, directly. */
    const rk__jval *it = v->u.arr.items;
    if (it[0].type == RK__JNUM && it[1].type == RK__JNUM && it[2].type == RK__JNUM &&
        it[3].type == RK__JNUM) {
      double nv[4];
      for (int k = 0; k < 4; k++) nv[k] = it[k].raw.n < 64 ? it[k].u.num : NAN; /* as walk_scalar */
      emit(&s, nv, NULL, 0);
      return s.oom ? scan_finish(&s) : RK_STATUS_OK; /* nothing open, one box */
    }
  }
  if (v->type == RK__JARR && v->u.arr.n > 16) { /* a list of n objects: n boxes, as a rule */
    size_t cap = v->u.arr.n < s.max ? v->u.arr.n : s.max;
    out->b = rk__arena_alloc(c->arena, cap * sizeof *out->b);
    if (out->b) s.cap = cap;
  }
  /* The text loop skips brackets past MAX_DEPTH; the walk stops short of
   * that and lets the text decide (the charge is then the text's). */
  if (walk(&s, v, v->raw.p, MAX_DEPTH - 1)) {
    c->budget->used -= cost;
    return rk__boxes_scan(c, v->raw.p, v->raw.n, max_boxes, out);
  }
  return scan_finish(&s);
}

/* -------------------------------------------------------- conventions */

/* Why an xyxy box is dropped, or RK__DROP__COUNT when it is kept.
 * |coordinate| <= 1e15 keeps every area, union and enclosing box finite
 * (no inf/inf = NaN downstream); no image is that large. */
static inline rk__drop box_drop_why(double x1, double y1, double x2, double y2) {
  if (!(fabs(x1) <= 1e15) || !(fabs(y1) <= 1e15) || !(fabs(x2) <= 1e15) || !(fabs(y2) <= 1e15))
    return RK__DROP_NONFINITE;
  if (x2 < x1) return RK__DROP_X;
  if (y2 < y1) return RK__DROP_Y;
  return RK__DROP__COUNT;
}

/* rk__boxes_convert of xyxy boxes by factors 1: nothing to convert (x * 1
 * is x for every double, the area too), only the checks. */
static inline void boxes_check(rk__boxes *bs) {
  size_t w = 0;
  for (size_t i = 0; i < bs->n; i++) {
    const rk__box *b = &bs->b[i];
    rk__drop why = box_drop_why(b->x1, b->y1, b->x2, b->y2);
    if (why != RK__DROP__COUNT) {
      bs->dropped[why]++;
      bs->ndropped++;
      continue;
    }
    if (w != i) bs->b[w] = *b;
    w++;
  }
  bs->n = w;
}

void rk__boxes_convert(rk__boxes *bs, rk__box_layout layout, double sx, double sy) {
  if (layout == RK__BOX_XYXY && sx == 1 && sy == 1) {
    boxes_check(bs);
    return;
  }
  size_t w = 0;
  for (size_t i = 0; i < bs->n; i++) {
    rk__box b = bs->b[i];
    double a = b.x1, bb = b.y1, cc = b.x2, d = b.y2;
    switch (layout) {
      case RK__BOX_XYWH: /* x, y, w, h */
        b.x1 = a, b.y1 = bb, b.x2 = a + cc, b.y2 = bb + d;
        break;
      case RK__BOX_CXCYWH: /* cx, cy, w, h */
        b.x1 = a - cc / 2, b.y1 = bb - d / 2, b.x2 = a + cc / 2, b.y2 = bb + d / 2;
        break;
      default:
        break;
    }
    b.x1 *= sx, b.x2 *= sx, b.y1 *= sy, b.y2 *= sy;
    rk__drop why = box_drop_why(b.x1, b.y1, b.x2, b.y2);
    if (why != RK__DROP__COUNT) {
      bs->dropped[why]++;
      bs->ndropped++;
      continue;
    }
    if (!isnan(b.area)) b.area *= sx * sy;
    bs->b[w++] = b;
  }
  bs->n = w;
}

void rk__boxes_describe(const rk__boxes *bs, const char *what, char *buf, size_t cap) {
  static const char *const names[RK__DROP__COUNT] = {
      "not 4 numbers", "not finite or |x| > 1e15", "x2 < x1", "y2 < y1", "truncated", "over the box limit",
      "zero width or height"};
  int o = snprintf(buf, cap, "%zu %s box%s", bs->n, what, bs->n == 1 ? "" : "es");
  if (bs->ndropped && o > 0 && (size_t)o < cap) {
    o += snprintf(buf + o, cap - (size_t)o, " (%zu invalid dropped:", bs->ndropped);
    int first = 1;
    for (int k = 0; k < RK__DROP__COUNT && o > 0 && (size_t)o < cap; k++) {
      if (!bs->dropped[k]) continue;
      o += snprintf(buf + o, cap - (size_t)o, "%s %zu %s", first ? "" : ",", bs->dropped[k],
                    names[k]);
      first = 0;
    }
    if (o > 0 && (size_t)o < cap) snprintf(buf + o, cap - (size_t)o, ")");
  }
}

/* ---------------------------------------------------------------- IoU */

double rk__box_iou_vlmr1(const rk__box *a, const rk__box *b) {
  /* VLM-R1 qwen_module.py iou(): inclusive-pixel intersection
   * (min(x2 - 1) - max(x1) + 1, only when max(x1) < min(x2 - 1)), plain
   * areas in the union; a 1x1 box against itself therefore scores 0. */
  double ix1 = fmax(a->x1, b->x1), iy1 = fmax(a->y1, b->y1);
  double ix2 = fmin(a->x2 - 1, b->x2 - 1), iy2 = fmin(a->y2 - 1, b->y2 - 1);
  double inter = ix1 < ix2 && iy1 < iy2 ? (ix2 - ix1 + 1) * (iy2 - iy1 + 1) : 0.0;
  double u = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
  return u != 0 ? inter / u : 0.0;
}

void rk__rescale_axis(double *a1, double *a2, double *b1, double *b2) {
  double lo = fmin(*a1, *b1), hi = fmax(*a2, *b2);
  double ext = hi - lo;
  int e;
  if (isinf(ext)) /* coordinates near DBL_MAX: halve first, cannot overflow */
    e = ilogb(hi * 0.5 - lo * 0.5) + 1;
  else if (ext > 0)
    e = ilogb(ext);
  else
    return; /* all four equal: every side on this axis is 0 */
  *a1 = ldexp(*a1, -e), *a2 = ldexp(*a2, -e);
  *b1 = ldexp(*b1, -e), *b2 = ldexp(*b2, -e);
}

static double iou_rescaled(const rk__box *pa, const rk__box *pb, int giou) {
  /* IoU and GIoU are ratios of areas, and scaling x by sx and y by sy
   * multiplies every area (I, both boxes, U, C) by sx * sy: the ratios do
   * not change. With each axis' enclosing extent brought to [1, 2) no
   * product can overflow, and none underflows unless the result is itself
   * below about 2^-340: when the boxes overlap, the longer of their two
   * sides on an axis is at least half its extent, and IoU >= t then needs
   * I >= t^3 / 4 (IoU <= the ratio of the areas, each way). Then the
   * plain formula below (rk__box_iou's and rk__box_giou's) gives the
   * ratio; identical boxes score exactly 1. */
  rk__box a = *pa, b = *pb;
  rk__rescale_axis(&a.x1, &a.x2, &b.x1, &b.x2);
  rk__rescale_axis(&a.y1, &a.y2, &b.y1, &b.y2);
  return giou ? rk__box_giou(&a, &b) : rk__box_iou(&a, &b);
}

/* 1 when w * h = p underflowed: p below DBL_MIN although w and h are
 * both > 0 (a tiny box, not a zero-area one). */
static inline int area_uflow(double w, double h, double p) { return w > 0 && h > 0 && p < DBL_MIN; }

/* 1 when every product of the plain IoU / GIoU formula is exact enough:
 * the overlap, both areas and the enclosing box are 0 only with a side
 * <= 0, never below DBL_MIN otherwise, and the union and the enclosing
 * area are finite. Boxes of ordinary sizes always pass. */
static int box_products_ok(const rk__box *a, const rk__box *b) {
  double iw = rk__mn(a->x2, b->x2) - rk__mx(a->x1, b->x1);
  double ih = rk__mn(a->y2, b->y2) - rk__mx(a->y1, b->y1);
  double cw = rk__mx(a->x2, b->x2) - rk__mn(a->x1, b->x1);
  double ch = rk__mx(a->y2, b->y2) - rk__mn(a->y1, b->y1);
  double aw = a->x2 - a->x1, ah = a->y2 - a->y1, bw = b->x2 - b->x1, bh = b->y2 - b->y1;
  return !area_uflow(iw, ih, iw * ih) && !area_uflow(aw, ah, aw * ah) &&
         !area_uflow(bw, bh, bw * bh) && !area_uflow(cw, ch, cw * ch) && cw * ch <= DBL_MAX &&
         aw * ah + bw * bh <= DBL_MAX;
}

double rk__box_iou_safe(const rk__box *a, const rk__box *b) {
  /* rk__box_iou's operations (so the same bits), checked on the values
   * they give rather than computed twice (a grounding reward is ~100 ns):
   * with an overlap every side is > 0, so a product below DBL_MIN has
   * underflowed and a sum above DBL_MAX overflowed, and only then is the
   * ratio taken on rescaled coordinates. Without an overlap IoU is 0 at
   * any size. */
  double iw = rk__mn(a->x2, b->x2) - rk__mx(a->x1, b->x1);
  double ih = rk__mn(a->y2, b->y2) - rk__mx(a->y1, b->y1);
  if (!(iw > 0) || !(ih > 0)) return 0.0;
  double inter = iw * ih;
  double s = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1);
  double aa = (a->x2 - a->x1) * (a->y2 - a->y1), ba = (b->x2 - b->x1) * (b->y2 - b->y1);
  if (!(inter >= DBL_MIN) || !(aa >= DBL_MIN) || !(ba >= DBL_MIN) || !(s <= DBL_MAX))
    return iou_rescaled(a, b, 0);
  double u = s - inter;
  return u > 0 ? inter / u : 0.0;
}

double rk__box_giou_safe(const rk__box *a, const rk__box *b) {
  return box_products_ok(a, b) ? rk__box_giou(a, b) : iou_rescaled(a, b, 1);
}

/* ------------------------------------------------------ reward args */

static const char *const layout_names[] = {"xyxy", "xywh", "cxcywh", NULL};
static const char *const coord_names[] = {"pixel", "unit", "1000", "grid", NULL};

/* A convention by name; the number 1000 is taken for "1000" (what
 * `--arg coords=1000` on the command line gives). */
static int coord_arg(rk__argctx *ac, const char *key, int *out) {
  const rk__jval *v = rk__arg_raw(ac, key);
  if (v && v->type == RK__JNUM && v->u.num == 1000) {
    *out = RK__COORD_1000;
    return 0;
  }
  return rk__arg_enum(ac, key, coord_names, 0, out);
}

int rk__coordargs_compile(rk__argctx *ac, rk__coordargs *a) {
  memset(a, 0, sizeof *a);
  int co = 0, rco = 0;
  if (coord_arg(ac, "coords", &co) || coord_arg(ac, "ref_coords", &rco) ||
      rk__arg_num_range(ac, "width", 0, 0, 1e9, &a->width) ||
      rk__arg_num_range(ac, "height", 0, 0, 1e9, &a->height) ||
      rk__arg_num_range(ac, "input_width", 0, 0, 1e9, &a->input_width) ||
      rk__arg_num_range(ac, "input_height", 0, 0, 1e9, &a->input_height) ||
      rk__arg_str(ac, "width_field", "width", &a->width_field) ||
      rk__arg_str(ac, "height_field", "height", &a->height_field) ||
      rk__arg_str(ac, "input_width_field", "input_width", &a->input_width_field) ||
      rk__arg_str(ac, "input_height_field", "input_height", &a->input_height_field))
    return -1;
  a->coords = (rk__coord)co;
  a->ref_coords = (rk__coord)rco;
  return 0;
}

void rk__coordargs_free(rk__coordargs *a) {
  if (!a) return;
  free(a->width_field);
  free(a->height_field);
  free(a->input_width_field);
  free(a->input_height_field);
  memset(a, 0, sizeof *a);
}

int rk__boxargs_compile(rk__argctx *ac, rk__boxargs *a, long max_boxes_def) {
  int dd = a->drop_degenerate; /* the caller's default */
  memset(a, 0, sizeof *a);
  a->drop_degenerate = dd;
  int lay = 0, rlay = 0;
  if (rk__arg_enum(ac, "format", layout_names, 0, &lay) ||
      rk__arg_enum(ac, "ref_format", layout_names, 0, &rlay) ||
      rk__coordargs_compile(ac, &a->co) ||
      rk__arg_int(ac, "max_boxes", max_boxes_def, 1, 1000000, &a->max_boxes) ||
      rk__arg_bool(ac, "drop_degenerate", a->drop_degenerate, &a->drop_degenerate))
    return -1;
  a->layout = (rk__box_layout)lay;
  a->ref_layout = (rk__box_layout)rlay;
  if (rk__arg_raw(ac, "extract")) {
    rk__extract_cfg *ex = calloc(1, sizeof *ex);
    if (!ex) return rk__arg_error(ac, "extract", "out of memory");
    a->extract = ex;
    a->extract_given = 1;
    if (rk__extract_cfg_compile(ac, RK__EX_ANSWER_TAG, ex)) return -1;
  }
  return 0;
}

void rk__boxargs_free(rk__boxargs *a) {
  if (!a) return;
  rk__coordargs_free(&a->co);
  if (a->extract) {
    rk__extract_cfg_free(a->extract);
    free(a->extract);
  }
  memset(a, 0, sizeof *a);
}

double rk__coord_size(rk__call *c, double fixed, const char *field) {
  if (fixed > 0) return fixed;
  if (!field || !*field || !c->rec) return 0;
  const rk__jval *v = rk__record_field(c->rec, field);
  if (v && v->type == RK__JNUM && v->u.num > 0 && isfinite(v->u.num)) return v->u.num;
  return 0;
}

/* A missing size goes to the explanation as well as the error message,
 * so that --explain shows why there is no reward. */
static rk_status size_missing(rk__call *c, const char *msg) {
  rk__explain(c, "%s", msg);
  return rk__fail(c, "%s", msg);
}

/* Scale factors to pixels for one convention; ERROR with a message if the
 * size it needs is missing. VLM-R1 REC (grid): x * W_img / W_input. */
static rk_status scale_for(const rk__coordargs *a, rk__call *c, rk__coord co, double W,
                           double H, double *sx, double *sy) {
  char msg[600]; /* field names are user strings: snprintf truncates */
  switch (co) {
    case RK__COORD_PIXEL:
      *sx = *sy = 1;
      return RK_STATUS_OK;
    case RK__COORD_UNIT:
      *sx = W, *sy = H;
      break;
    case RK__COORD_1000:
      *sx = W / 1000, *sy = H / 1000;
      break;
    case RK__COORD_GRID: {
      double iw = rk__coord_size(c, a->input_width, a->input_width_field);
      double ih = rk__coord_size(c, a->input_height, a->input_height_field);
      if (!(iw > 0) || !(ih > 0)) {
        snprintf(msg, sizeof msg, "coords \"grid\" needs the model input size: record field "
                                  "'%s'/'%s' or args input_width/input_height",
                 a->input_width_field, a->input_height_field);
        return size_missing(c, msg);
      }
      *sx = W / iw, *sy = H / ih;
      break;
    }
  }
  if (!(W > 0) || !(H > 0)) {
    snprintf(msg, sizeof msg, "coords \"%s\" needs the image size: record field '%s'/'%s' or "
                              "args width/height",
             coord_names[co], a->width_field, a->height_field);
    return size_missing(c, msg);
  }
  return RK_STATUS_OK;
}

rk_status rk__coordargs_scale(const rk__coordargs *a, rk__call *c, rk__coordscale *out) {
  out->sx = out->sy = out->rx = out->ry = 1;
  out->W = rk__coord_size(c, a->width, a->width_field);
  out->H = rk__coord_size(c, a->height, a->height_field);
  out->unit = a->coords;
  if (a->coords == a->ref_coords && !(out->W > 0 && out->H > 0)) return RK_STATUS_OK;
  rk_status st = scale_for(a, c, a->coords, out->W, out->H, &out->sx, &out->sy);
  if (st == RK_STATUS_OK) st = scale_for(a, c, a->ref_coords, out->W, out->H, &out->rx, &out->ry);
  out->unit = RK__COORD_PIXEL;
  return st;
}

void rk__coordscale_describe(const rk__coordargs *a, const rk__coordscale *s, char *buf,
                             size_t cap) {
  if (!cap) return;
  buf[0] = '\0';
  if (a->coords == RK__COORD_PIXEL && a->ref_coords == RK__COORD_PIXEL) return;
  char sides[64], w[32], h[32];
  if (a->coords == a->ref_coords)
    snprintf(sides, sizeof sides, "%s coordinates on both sides", coord_names[a->coords]);
  else
    snprintf(sides, sizeof sides, "prediction in %s, reference in %s coordinates",
             coord_names[a->coords], coord_names[a->ref_coords]);
  if (s->unit != RK__COORD_PIXEL) {
    snprintf(buf, cap, "%s, compared in that unit (no image size)", sides);
    return;
  }
  rk__fmt_double(w, s->W);
  rk__fmt_double(h, s->H);
  snprintf(buf, cap, "%s, compared in pixels of a %sx%s image", sides, w, h);
}

rk_status rk__boxes_region(const rk__boxargs *a, rk__call *c, rk__str *region,
                           const char **how) {
  const rk__record *r = c->rec;
  if (!r->has_response) return rk__fail(c, "record has no response text");
  rk__str t = r->response;
  if (a->extract_given) {
    rk_status st = rk__extract(a->extract, c, t, region, how);
    return st;
  }
  /* Default: the last <answer> up to its </answer>, or to the end when the
   * response was cut off inside it; else the whole response. */
  *how = "whole response";
  /* From the end back to the last "<answer>", over the '<' bytes only:
   * the answer is usually short and at the end, after a long reasoning
   * text that is then never read. On the way back, the "</answer>" seen
   * last is the first one after the opening tag. */
  const char *o = NULL, *cl = NULL, *e = t.p + t.n;
  for (size_t hi = t.n; hi;) {
    size_t f = last_byte(t.p, hi, '<');
    if (f == (size_t)-1) break;
    size_t left = t.n - f;
    if (left >= 8 && memcmp(t.p + f + 1, "answer>", 7) == 0) {
      o = t.p + f;
      break;
    }
    if (left >= 9 && memcmp(t.p + f + 1, "/answer>", 8) == 0) cl = t.p + f;
    hi = f;
  }
  if (!o) cl = NULL;
  if (!rk__spend(c, t.n / 8 + 1)) return RK_STATUS_TIMEOUT;
  if (o) {
    const char *s = o + 8;
    *region = rk__str_make(s, (size_t)((cl ? cl : e) - s));
    *how = cl ? "answer tag" : "unclosed answer tag";
  } else {
    *region = t;
  }
  return RK_STATUS_OK;
}

/* The last ``` block of s (to the end when its closing fence is missing),
 * or s itself when there is no fence. */
static rk__str last_fence(rk__str s, int *found) {
  const char *fences[2] = {NULL, NULL};
  size_t count = 0;
  const char *q = s.p, *e = s.p + s.n;
  while ((size_t)(e - q) >= 3) { /* memmem(q, e - q, "```", 3) */
    size_t at = first_byte(q, 0, (size_t)(e - q) - 2, '`');
    if (at == (size_t)(e - q) - 2) break;
    const char *f = q + at;
    if (f[1] != '`' || f[2] != '`') {
      q = f + 1;
      continue;
    }
    fences[0] = fences[1];
    fences[1] = f;
    count++;
    q = f + 3;
  }
  *found = count > 0;
  if (!count) return s;
  if (count % 2 == 0) return rk__str_make(fences[0] + 3, (size_t)(fences[1] - fences[0] - 3));
  return rk__str_make(fences[1] + 3, (size_t)(e - fences[1] - 3));
}

/* A complete ```json block of s as VLM-R1's regex r"```json(.*?)```"
 * finds it: the first (re.search; "```json" in any case, as the answer is
 * lower-cased first) or the last of the non-overlapping matches
 * (re.findall(...)[-1]). 0 when there is none. */
static int vlmr1_json_block(rk__str s, int first, rk__str *out) {
  int got = 0;
  for (size_t i = 0; i + 7 <= s.n;) {
    const char *q = s.p + i;
    int open = q[0] == '`' && q[1] == '`' && q[2] == '`' &&
               (first ? (q[3] | 0x20) == 'j' && (q[4] | 0x20) == 's' && (q[5] | 0x20) == 'o' &&
                            (q[6] | 0x20) == 'n'
                      : memcmp(q + 3, "json", 4) == 0);
    if (!open) {
      i++;
      continue;
    }
    size_t j = i + 7;
    while (j + 3 <= s.n && !(s.p[j] == '`' && s.p[j + 1] == '`' && s.p[j + 2] == '`')) j++;
    if (j + 3 > s.n) break; /* no closing fence: no match from here on */
    *out = rk__str_make(s.p + i + 7, j - i - 7);
    got = 1;
    if (first) break;
    i = j + 3;
  }
  return got;
}

/* The first ```json block of s closed by a later ``` (VLM-R1's
 * detection_score: re.search(r"```json(.*?)```") on the lower-cased
 * answer), or, when there is none, last_fence(s). */
static rk__str first_json_fence(rk__str s, int *found) {
  rk__str b;
  if (vlmr1_json_block(s, 1, &b)) {
    *found = 1;
    return b;
  }
  return last_fence(s, found);
}

/* How many bytes from s.p on may be loaded: to the end of the response
 * when s lies in it (the default region, a fence block, most extract
 * modes), else s itself (an extract mode's cleaned copy). */
static size_t readable(const rk__call *c, rk__str s) {
  const rk__str t = c->rec->response;
  if ((uintptr_t)s.p >= (uintptr_t)t.p && (uintptr_t)s.p + s.n <= (uintptr_t)t.p + t.n)
    return (size_t)((uintptr_t)t.p + t.n - (uintptr_t)s.p);
  return s.n;
}

/* Where boxes found in a fence block came from, given the region's name. */
static const char *fenced_how(const char *how) {
  return strcmp(how, "whole response") == 0 ? "code block" : "code block in answer";
}

static int one_plain_box(const rk__boxargs *a, rk__call *c, rk__str text, rk__boxes *pred,
                         rk__boxes *ref, rk__box store[2], rk_status *st);
static size_t first_bracket(const char *p, size_t i, size_t n);

/* Whether a reference in which the scanner found no box (and dropped
 * none) says "no objects" on purpose: an empty JSON list, or a string
 * whose only brackets are one empty list ("[]", "```json\n[]\n```"), or
 * the string "None".
 * Anything else with no box in it (null, a number, true, "garbage",
 * "[1, 2]", a list of strings) is a broken dataset row, not an image
 * without objects: scoring it as empty ground truth would hand 1 to
 * every empty answer. */
static int ref_is_empty_list(const rk__jval *rv) {
  if (rv->type == RK__JARR) return rv->u.arr.n == 0;
  if (rv->type != RK__JSTR) return 0;
  const char *p = rv->u.str.p;
  size_t n = rv->u.str.n, i = first_bracket(p, 0, n);
  /* VLM-R1's datasets write an image without objects as the solution
   * "None" (its reward lower-cases and strips a final '.'). */
  rk__str t = rk__text_trim(rv->u.str);
  if (t.n && t.p[t.n - 1] == '.') t.n--;
  if (t.n == 4 && (t.p[0] | 32) == 'n' && (t.p[1] | 32) == 'o' && (t.p[2] | 32) == 'n' &&
      (t.p[3] | 32) == 'e')
    return 1;
  if (i >= n || p[i] != '[') return 0;
  i = skip_ws(p, i + 1, n);
  return i < n && p[i] == ']' && first_bracket(p, i + 1, n) == n;
}

/* Explains why a reference with no box is refused, quoting the start of
 * it so that the broken row can be found in the dataset. */
static void explain_no_ref_box(rk__call *c, const rk__jval *rv) {
  static const char hint[] = "an image with no objects is written []";
  const char *kind = NULL;
  switch (rv->type) {
    case RK__JNULL: kind = "null"; break;
    case RK__JFALSE: kind = "false"; break;
    case RK__JTRUE: kind = "true"; break;
    default: break;
  }
  if (kind) {
    rk__explain(c, "reference is %s, not a list of boxes; %s", kind, hint);
    return;
  }
  /* At most 48 bytes of the text (rk__text_clip), control bytes (the
   * newlines of a code fence) shown as spaces. */
  rk__str t = rv->type == RK__JSTR ? rv->u.str : rv->raw;
  const char *ell;
  int k = rk__text_clip(t, 48, &ell);
  char q[64];
  for (int i = 0; i < k; i++) q[i] = (unsigned char)t.p[i] < ' ' ? ' ' : t.p[i];
  snprintf(q + k, sizeof q - (size_t)k, "%s", ell);
  switch (rv->type) {
    case RK__JNUM:
      rk__explain(c, "reference is the number %s, not a list of boxes; %s", q, hint);
      break;
    case RK__JSTR:
      rk__explain(c, "reference is a string with no box in it (\"%s\"); %s", q, hint);
      break;
    case RK__JARR:
      rk__explain(c, "reference is a list of %zu item%s with no box in it (%s); %s",
                  rv->u.arr.n, rv->u.arr.n == 1 ? "" : "s", q, hint);
      break;
    default:
      rk__explain(c, "reference is an object with no box in it (%s); %s", q, hint);
      break;
  }
}

rk_status rk__boxes_load(const rk__boxargs *a, rk__call *c, rk__boxes *pred,
                         rk__boxes *ref, const char **region_how, rk__box store[2]) {
  rk__str region;
  const char *how = NULL;
  boxes_clear(pred);
  boxes_clear(ref);
  rk_status st = rk__boxes_region(a, c, &region, &how);
  if (st != RK_STATUS_OK) return st;
  int fenced = 0;
  rk__str blk = region;
  if (a->own_reader) {
    *region_how = how;
    goto reference;
  }
  if (a->strict_json) {
    /* VLM-R1 parses the block with json.loads and has no prediction when
     * there is no block or it does not parse; a block that parses is
     * read by the scanner, which then finds the boxes json.loads gives. */
    int found = vlmr1_json_block(region, a->strict_json == RK__STRICT_FIRST, &blk);
    int ok = 0;
    if (found) {
      if (!rk__spend(c, (uint64_t)blk.n + 1)) return RK_STATUS_TIMEOUT;
      rk__arena_mark m = rk__arena_here(c->arena);
      rk__json_limits lim = {0, 0, a->strict_json == RK__STRICT_LAST};
      rk__jval *v = NULL;
      int rc = rk__json_parse(blk.p, blk.n, c->arena, &lim, &v, NULL);
      rk__arena_rewind(c->arena, m);
      if (rc == -2) return rk__fail(c, "out of scratch memory");
      ok = rc == 0;
    }
    if (!ok) {
      *region_how = found ? "a ```json block json.loads cannot read (strict_json: no prediction)"
                          : "no complete ```json block (strict_json: no prediction)";
      goto reference;
    }
    fenced = 1;
  } else {
    blk = a->first_json_fence ? first_json_fence(region, &fenced) : last_fence(region, &fenced);
  }
  if (store && one_plain_box(a, c, fenced ? blk : region, pred, ref, store, &st)) {
    *region_how = fenced ? fenced_how(how) : how;
    return st;
  }
  size_t maxb = (size_t)a->max_boxes + 1; /* one past: callers detect "too many" */
  if (fenced) {
    st = rk__boxes_scan_in(c, blk.p, blk.n, readable(c, blk), maxb, pred);
    if (st != RK_STATUS_OK) return st;
    if (pred->n || pred->ndropped || a->strict_json)
      how = fenced_how(how);
    else
      fenced = 0;
  }
  if (!fenced) {
    /* A block without boxes may still be a list of items ([{"label":
     * "cat"}]): its count survives the scan of the whole region. */
    size_t items = pred->items;
    st = rk__boxes_scan_in(c, region.p, region.n, readable(c, region), maxb, pred);
    if (st != RK_STATUS_OK) return st;
    if (items > pred->items) pred->items = items;
  }
  *region_how = how;

reference:;
  const rk__jval *rv = c->rec->reference;
  if (!rv) {
    rk__explain(c, "record has no reference");
    return RK_STATUS_INVALID_REFERENCE;
  }
  /* A string is scanned as text; anything else from its parsed tree,
   * which gives what scanning its raw text would. */
  if (rv->type == RK__JSTR)
    st = rk__boxes_scan(c, rv->u.str.p, rv->u.str.n, RK__BOXES_DEFAULT_MAX, ref);
  else
    st = rk__boxes_scan_json(c, rv, RK__BOXES_DEFAULT_MAX, ref);
  if (st != RK_STATUS_OK) return st;

  /* Pixels on both sides: every factor is 1 whether or not the record
   * gives an image size (rk__coordargs_scale), so it is not looked up. */
  double sx = 1, sy = 1, rx = 1, ry = 1;
  if (a->co.coords != RK__COORD_PIXEL || a->co.ref_coords != RK__COORD_PIXEL) {
    rk__coordscale sc;
    st = rk__coordargs_scale(&a->co, c, &sc);
    if (st != RK_STATUS_OK) return st;
    sx = sc.sx, sy = sc.sy, rx = sc.rx, ry = sc.ry;
  }
  if (a->layout == RK__BOX_XYXY && sx == 1 && sy == 1)
    boxes_check(pred);
  else
    rk__boxes_convert(pred, a->layout, sx, sy);
  if (a->ref_layout == RK__BOX_XYXY && rx == 1 && ry == 1)
    boxes_check(ref);
  else
    rk__boxes_convert(ref, a->ref_layout, rx, ry);
  if (a->drop_degenerate) {
    size_t w = 0;
    for (size_t i = 0; i < pred->n; i++) {
      const rk__box *b = &pred->b[i];
      if (b->x2 > b->x1 && b->y2 > b->y1) {
        pred->b[w++] = *b;
      } else {
        pred->dropped[RK__DROP_EMPTY]++;
        pred->ndropped++;
      }
    }
    pred->n = w;
  }
  if (ref->ndropped) {
    char d[200];
    rk__boxes_describe(ref, "reference", d, sizeof d);
    rk__explain(c, "invalid reference: %s", d);
    return RK_STATUS_INVALID_REFERENCE;
  }
  if (ref->n == 0 && !ref_is_empty_list(rv)) {
    explain_no_ref_box(c, rv);
    return RK_STATUS_INVALID_REFERENCE;
  }
  return RK_STATUS_OK;
}

/* ------------------------------------------------ one plain box, direct */

/* The single-box rewards' usual answer - {"bbox_2d": [12, 34, 56, 78],
 * "label": "cup"}, [12, 34, 56, 78] or a list of one such object, maybe
 * with words around it - read without the scanner's frames and box
 * lists (109 -> 92 ns for a grounding reward of such an answer). Only a
 * text whose meaning to the scanner is plain is taken; anything else
 * goes the general way, which the fuzz target and a unit test compare
 * with this one. */

/* p[i] == '[': exactly four numbers, read by flat_nums as the scanner
 * reads a flat array (lim as there); the index after ']', or 0. */
static size_t plain_array4(const char *p, size_t i, size_t n, size_t lim, double v[4]) {
  int cnt = 0;
  size_t j = flat_nums(p, i, n, lim, v, &cnt);
  return cnt == 4 ? j : 0;
}

/* The index of the closing quote of the plain string opened at p[i] (no
 * backslash in it), or n. */
static size_t plain_string_end(const char *p, size_t i, size_t n) {
  size_t j = find_byte(p, i + 1, n, '"');
  return j < n && find_byte(p, i + 1, j, '\\') < j ? n : j;
}

/* p[i] == '{': members "key": plain string, "key": number, and exactly
 * one "box key": [four numbers] (keys as classify_key reads them,
 * numbers as the scanner does). The index after its '}' and the box in
 * v, the offset of its '[' in *at (the box's offset to the scanner), or
 * 0. */
static size_t plain_object(const char *p, size_t i, size_t n, size_t lim, double v[4],
                           size_t *at) {
  int have = 0;
  i = skip_ws(p, i + 1, n);
  for (;;) {
    if (i >= n || p[i] != '"') return 0;
    size_t j = plain_string_end(p, i, n);
    if (j >= n) return 0;
    rk__str key = rk__str_make(p + i + 1, j - i - 1);
    i = skip_ws(p, j + 1, n);
    if (i >= n || p[i] != ':') return 0;
    i = skip_ws(p, i + 1, n);
    if (i >= n) return 0;
    if (p[i] == '"') {
      if ((j = plain_string_end(p, i, n)) >= n) return 0;
      i = j + 1;
    } else if (p[i] == '[') {
      *at = i;
      if (have || classify_key(key) != K_BOX || !(i = plain_array4(p, i, n, lim, v))) return 0;
      have = 1;
    } else {
      double x;
      size_t k = num_start((unsigned char)p[i]) ? number_scan(p + i, n - i, &x) : 0;
      if (!k) return 0;
      i += k;
    }
    i = skip_ws(p, i, n);
    if (i >= n) return 0;
    if (p[i] == '}') return have ? i + 1 : 0;
    if (p[i] != ',') return 0;
    i = skip_ws(p, i + 1, n);
  }
}

/* Index of the first bracket in p[i..n), or n. */
static size_t first_bracket(const char *p, size_t i, size_t n) {
  for (; i < n; i++) {
    char ch = p[i];
    if (ch == '[' || ch == ']' || ch == '{' || ch == '}') return i;
  }
  return n;
}

/* Text p[0..n) holding one plain box: a plain object, four numbers in
 * brackets, or a list of one plain object, with any text around it but no
 * other bracket (the scanner skips such text outside brackets); p[0..lim)
 * is readable. The box's offset (that of its numbers' '['), or SIZE_MAX. */
static size_t plain_box(const char *p, size_t n, size_t lim, double v[4]) {
  size_t i = first_bracket(p, 0, n), at = i, j;
  if (i >= n) return SIZE_MAX;
  int list = 0;
  if (p[i] == '[') {
    j = skip_ws(p, i + 1, n);
    if (j < n && p[j] == '{') {
      list = 1, i = j;
    } else {
      j = plain_array4(p, i, n, lim, v);
      return j && first_bracket(p, j, n) == n ? at : SIZE_MAX;
    }
  }
  if (p[i] != '{' || !(j = plain_object(p, i, n, lim, v, &at))) return SIZE_MAX;
  if (list) {
    j = skip_ws(p, j, n);
    if (j >= n || p[j] != ']') return SIZE_MAX;
    j++;
  }
  return first_bracket(p, j, n) == n ? at : SIZE_MAX;
}

static void one_box(rk__boxes *bs, rk__box *b, const double v[4], size_t at) {
  b->x1 = v[0], b->y1 = v[1], b->x2 = v[2], b->y2 = v[3];
  b->conf = b->area = NAN;
  b->label = rk__str_make(NULL, 0);
  b->has_label = b->crowd = 0;
  b->at = at;
  bs->b = b;
  bs->n = 1;
}

static int box_kept(const double v[4]) {
  return box_drop_why(v[0], v[1], v[2], v[3]) == RK__DROP__COUNT;
}

/* rk__boxes_load's path for a text (the region or its fence block, the
 * region already charged) holding one plain box, against a reference
 * [x1, y1, x2, y2], default region, pixels and xyxy on both sides: one
 * box each in store, and 1 with *st what the general path would return
 * (OK, or TIMEOUT after charging what it charges, in its order: the text
 * scanned, the reference); 0, nothing charged, for anything else. */
static int one_plain_box(const rk__boxargs *a, rk__call *c, rk__str text, rk__boxes *pred,
                         rk__boxes *ref, rk__box store[2], rk_status *st) {
  const rk__jval *rv = c->rec->reference;
  if (a->extract_given || a->layout != RK__BOX_XYXY || a->ref_layout != RK__BOX_XYXY ||
      a->co.coords != RK__COORD_PIXEL || a->co.ref_coords != RK__COORD_PIXEL || !rv ||
      rv->type != RK__JARR || rv->u.arr.n != 4)
    return 0;
  double rb[4], pb[4];
  for (int k = 0; k < 4; k++) {
    const rk__jval *x = &rv->u.arr.items[k];
    if (x->type != RK__JNUM || x->raw.n >= 64) return 0;
    rb[k] = x->u.num;
  }
  if (!box_kept(rb)) return 0;
  size_t at = plain_box(text.p, text.n, readable(c, text), pb);
  if (at == SIZE_MAX || !box_kept(pb) || (a->drop_degenerate && !(pb[2] > pb[0] && pb[3] > pb[1])))
    return 0;
  *st = RK_STATUS_TIMEOUT;
  if (!rk__spend(c, (uint64_t)text.n + 1) || !rk__spend(c, (uint64_t)rv->raw.n + 1)) return 1;
  one_box(pred, &store[0], pb, at);
  one_box(ref, &store[1], rb, 0);
  *st = RK_STATUS_OK;
  return 1;
}

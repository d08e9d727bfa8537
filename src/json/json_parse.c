/*
 * json_parse.c - the strict JSON reader of the record hot path.
 *
 * One pass, no recursion, no per-value malloc: values are collected in a
 * scratch stack (on the C stack, spilling to the heap for wide or deep
 * documents) and copied into exact-size arena arrays when their container
 * closes. String bodies are scanned a block at a time and validated as
 * UTF-8 in bulk. Acceptance matches jansson's defaults (docs/json.md lists
 * the differences); this file is not a general-purpose JSON library: no
 * writer (json_write.c), no streaming, no editing.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

typedef unsigned char uchar;

#define JP_DEFAULT_DEPTH 512

/* String bodies are scanned a block at a time for the bytes that stop a
 * plain run: '"', '\\' and controls. SSE2 (16 bytes, part of the x86-64
 * baseline) where available, else 8-byte SWAR words on little-endian
 * machines, else one byte at a time. Non-ASCII bytes do not stop the scan:
 * a string that has any is validated afterwards in one pass (SSSE3 when the
 * CPU has it, checked at run time). On x86-64 CPUs with AVX2 (also checked
 * at run time), strings with escapes are decoded and validated 64 bytes at
 * a time instead, with no branch per escape (jp_unesc_avx2).
 * RK_JSON_NO_SIMD (SWAR + scalar UTF-8) and RK_JSON_NO_SWAR (bytes only)
 * force the portable paths; the unit tests are run against them too. */
#if defined(__SSE2__) && !defined(RK_JSON_NO_SIMD) && !defined(RK_JSON_NO_SWAR)
#include <emmintrin.h>
#define JP_BLOCK 16
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    !defined(RK_JSON_NO_SWAR)
#define JP_BLOCK 8
#else
#define JP_BLOCK 0
#endif

#if JP_BLOCK == 16 && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h> /* SSSE3 and AVX2, used under target attributes */
#define JP_SSSE3 1
#else
#define JP_SSSE3 0
#endif

/* ------------------------------------------------------------ tables */

/* 1 for bytes that end a run of plain string bytes: '"', '\\' and the
 * controls (< 0x20), which must be escaped. */
static const uchar jp_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 '\\' */
};

/* Exact powers of ten (10^22 is the largest exactly representable). */
static const double jp_pow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Unescaped byte for "\\x", or 0 for 'u' and invalid escapes. */
static const uchar jp_unesc[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t'};

#if JP_BLOCK == 16
typedef __m128i jp_block;
static inline jp_block jp_load(const uchar *s) {
  return _mm_loadu_si128((const __m128i *)(const void *)s);
}
static inline void jp_store(uchar *o, jp_block v) {
  _mm_storeu_si128((__m128i *)(void *)o, v);
}
/* Bit i set when byte i is '"', '\\' or < 0x20 (unsigned: min(x, 0x1f)
 * == x). */
static inline uint32_t jp_special_mask(jp_block v) {
  __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  __m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  __m128i c = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
  return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
/* Nonzero when some byte is >= 0x80. */
static inline uint32_t jp_high(jp_block v) {
  return (uint32_t)_mm_movemask_epi8(v);
}
static inline size_t jp_first(uint32_t m) { return (size_t)__builtin_ctz(m); }
#elif JP_BLOCK == 8
#define JP_ONES 0x0101010101010101ULL
#define JP_HIGHS 0x8080808080808080ULL
typedef uint64_t jp_block;
static inline jp_block jp_load(const uchar *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}
static inline void jp_store(uchar *o, jp_block w) { memcpy(o, &w, 8); }
/* High bit set in every byte of w that is '"', '\\' or < 0x20. The
 * zero-byte tricks can flag false positives, but only in bytes above a
 * true hit (a borrow starts only at a hit), so the lowest flagged byte is
 * always exact - and the lowest one is all we use. */
static inline uint64_t jp_special_mask(uint64_t w) {
  uint64_t q = w ^ (JP_ONES * '"');
  uint64_t b = w ^ (JP_ONES * '\\');
  uint64_t zq = (q - JP_ONES) & ~q;
  uint64_t zb = (b - JP_ONES) & ~b;
  uint64_t lt = (w - JP_ONES * 0x20) & ~w;
  return (zq | zb | lt) & JP_HIGHS;
}
static inline uint64_t jp_high(uint64_t w) { return w & JP_HIGHS; }
static inline size_t jp_first(uint64_t m) {
  return (size_t)__builtin_ctzll(m) >> 3;
}
#endif

/* ------------------------------------------------------------ parser */

typedef struct jp_frame {
  size_t owner;        /* slot that receives the container when it closes */
  const uchar *start;  /* its opening bracket */
  int obj;
} jp_frame;

typedef struct jp {
  const uchar *b, *e;  /* the whole input */
  rk__arena *a;
  rk__json_error *err;
  rk__jmember *slot;   /* pending values; a container's items follow it */
  size_t nslot, capslot;
  jp_frame *fr;        /* open containers */
  size_t nfr, capfr;
  int slot_heap, fr_heap;
  int py;              /* rk__json_limits.py_constants */
} jp;

/* Line and column (1-based) of `at`. Columns count characters (UTF-8 lead
 * bytes), which is what editors show. Only used on error paths. */
static void jp_linecol(const jp *st, const uchar *at, size_t *line,
                       size_t *col) {
  size_t ln = 1;
  const uchar *ls = st->b;
  for (const uchar *q = st->b; q < at; q++)
    if (*q == '\n') {
      ln++;
      ls = q + 1;
    }
  size_t c = 1;
  for (const uchar *q = ls; q < at; q++)
    if ((*q & 0xC0) != 0x80) c++;
  *line = ln;
  *col = c;
}

static int jp_fail(jp *st, const uchar *at, const char *fmt, ...)
    RK__PRINTF(3, 4);

static int jp_fail(jp *st, const uchar *at, const char *fmt, ...) {
  rk__json_error *err = st->err;
  if (!err) return -1;
  err->offset = (size_t)(at - st->b);
  jp_linecol(st, at, &err->line, &err->column);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return -1;
}

/* Describes the byte at s for an error message: 'x', newline, byte 0xff,
 * end of input. */
static const char *jp_desc(const jp *st, const uchar *s, char buf[24]) {
  if (s >= st->e) return "end of input";
  uchar c = *s;
  switch (c) {
  case '\n': return "newline";
  case '\r': return "carriage return";
  case '\t': return "tab";
  case ' ': return "space";
  default: break;
  }
  if (c > 0x20 && c < 0x7F)
    snprintf(buf, 24, "'%c'", (char)c);
  else
    snprintf(buf, 24, "byte 0x%02x", (unsigned)c);
  return buf;
}

static inline const uchar *jp_ws(const uchar *s, const uchar *e) {
  while (s < e && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) s++;
  return s;
}

/* Grows the slot stack, spilling to the heap. Scratch memory counts against
 * what is left of the arena, so the arena limit bounds a parse as a whole. */
static int jp_grow_slots(jp *st) {
  size_t cap = st->capslot * 2;
  size_t left = st->a->limit > st->a->used ? st->a->limit - st->a->used : 0;
  if (cap > left / sizeof(rk__jmember)) return -2;
  rk__jmember *p;
  if (st->slot_heap) {
    p = realloc(st->slot, cap * sizeof *p);
  } else {
    p = malloc(cap * sizeof *p);
    if (p) memcpy(p, st->slot, st->nslot * sizeof *p);
  }
  if (!p) return -2;
  st->slot = p;
  st->capslot = cap;
  st->slot_heap = 1;
  return 0;
}

static int jp_grow_frames(jp *st) {
  size_t cap = st->capfr * 2;
  size_t left = st->a->limit > st->a->used ? st->a->limit - st->a->used : 0;
  if (cap > left / sizeof(jp_frame)) return -2;
  jp_frame *p;
  if (st->fr_heap) {
    p = realloc(st->fr, cap * sizeof *p);
  } else {
    p = malloc(cap * sizeof *p);
    if (p) memcpy(p, st->fr, st->nfr * sizeof *p);
  }
  if (!p) return -2;
  st->fr = p;
  st->capfr = cap;
  st->fr_heap = 1;
  return 0;
}

/* ----------------------------------------------------------- strings */

/* First byte of [s, e) that starts an invalid UTF-8 sequence, or NULL.
 * The portable validator, and the one that locates errors. */
static const uchar *jp_utf8_find_bad(const uchar *s, const uchar *e) {
  while (s < e) {
    if (*s < 0x80) {
#if JP_BLOCK == 8
      while (e - s >= 8 && !jp_high(jp_load(s))) s += 8;
#endif
      while (s < e && *s < 0x80) s++;
      continue;
    }
    size_t k = rk__utf8_seq(s, e);
    if (!k) return s;
    s += k;
  }
  return NULL;
}

#if JP_SSSE3
/* Whole-buffer UTF-8 validation, 16 bytes at a time, after the lookup
 * method of Keiser and Lemire ("Validating UTF-8 in less than one
 * instruction per byte", Software: Practice and Experience 51(5), 2021).
 * Every adjacent byte pair (b1, b2) is classified by three 16-entry
 * tables indexed by b1's high nibble, b1's low nibble and b2's high
 * nibble; ANDing the three gives one bit per error class. The third and
 * fourth bytes of 3- and 4-byte sequences are checked separately: they
 * must be continuation bytes exactly where a lead two or three bytes back
 * says so. The byte before s and the last byte must be ASCII (the caller
 * passes the string body plus its closing quote). Returns 1 when valid. */
#define JP_TS 0x01   /* lead byte not followed by a continuation */
#define JP_TL 0x02   /* continuation after ASCII */
#define JP_OL3 0x04  /* E0 80-9F */
#define JP_TLG 0x08  /* F4 90-BF, F5-FF 90-BF */
#define JP_SUR 0x10  /* ED A0-BF */
#define JP_OL2 0x20  /* C0-C1 + continuation */
#define JP_OL4 0x40  /* F0 80-8F, F5-FF 80-8F */
#define JP_TC 0x80   /* two continuations in a row */
#define JP_CARRY (JP_TS | JP_TL | JP_TC)

/* Error bits of block v after block prev: nonzero bytes where a sequence
 * is invalid, except one cut off by the end of v (see jp_u8_cut). */
__attribute__((target("ssse3"))) static inline __m128i jp_u8_check(
    __m128i v, __m128i prev) {
  const __m128i t1 = _mm_setr_epi8(
      JP_TL, JP_TL, JP_TL, JP_TL, JP_TL, JP_TL, JP_TL, JP_TL, (char)JP_TC,
      (char)JP_TC, (char)JP_TC, (char)JP_TC, JP_TS | JP_OL2, JP_TS,
      JP_TS | JP_OL3 | JP_SUR, JP_TS | JP_TLG | JP_OL4);
  const __m128i t2 = _mm_setr_epi8(
      (char)(JP_CARRY | JP_OL3 | JP_OL2 | JP_OL4), (char)(JP_CARRY | JP_OL2),
      (char)JP_CARRY, (char)JP_CARRY, (char)(JP_CARRY | JP_TLG),
      (char)(JP_CARRY | JP_TLG | JP_OL4), (char)(JP_CARRY | JP_TLG | JP_OL4),
      (char)(JP_CARRY | JP_TLG | JP_OL4), (char)(JP_CARRY | JP_TLG | JP_OL4),
      (char)(JP_CARRY | JP_TLG | JP_OL4), (char)(JP_CARRY | JP_TLG | JP_OL4),
      (char)(JP_CARRY | JP_TLG | JP_OL4), (char)(JP_CARRY | JP_TLG | JP_OL4),
      (char)(JP_CARRY | JP_TLG | JP_OL4 | JP_SUR),
      (char)(JP_CARRY | JP_TLG | JP_OL4), (char)(JP_CARRY | JP_TLG | JP_OL4));
  const __m128i t3 = _mm_setr_epi8(
      JP_TS, JP_TS, JP_TS, JP_TS, JP_TS, JP_TS, JP_TS, JP_TS,
      (char)(JP_TL | JP_OL2 | JP_TC | JP_OL3 | JP_OL4),
      (char)(JP_TL | JP_OL2 | JP_TC | JP_OL3 | JP_TLG),
      (char)(JP_TL | JP_OL2 | JP_TC | JP_SUR | JP_TLG),
      (char)(JP_TL | JP_OL2 | JP_TC | JP_SUR | JP_TLG), JP_TS, JP_TS, JP_TS,
      JP_TS);
  const __m128i nib = _mm_set1_epi8(0x0F);
  __m128i p1 = _mm_alignr_epi8(v, prev, 15);
  __m128i c1 = _mm_shuffle_epi8(t1, _mm_and_si128(_mm_srli_epi16(p1, 4), nib));
  __m128i c2 = _mm_shuffle_epi8(t2, _mm_and_si128(p1, nib));
  __m128i c3 = _mm_shuffle_epi8(t3, _mm_and_si128(_mm_srli_epi16(v, 4), nib));
  __m128i sc = _mm_and_si128(_mm_and_si128(c1, c2), c3);
  /* p2 >= 0xE0 or p3 >= 0xF0: this byte must be a continuation, which the
   * pair tables report as JP_TC. */
  __m128i p2 = _mm_alignr_epi8(v, prev, 14);
  __m128i p3 = _mm_alignr_epi8(v, prev, 13);
  __m128i third = _mm_subs_epu8(p2, _mm_set1_epi8((char)(0xE0 - 0x80)));
  __m128i fourth = _mm_subs_epu8(p3, _mm_set1_epi8((char)(0xF0 - 0x80)));
  __m128i must = _mm_and_si128(_mm_or_si128(third, fourth),
                               _mm_set1_epi8((char)0x80));
  return _mm_xor_si128(must, sc);
}

/* Nonzero bytes where a sequence is cut by the end of v: a lead in the
 * last byte, a 3/4-byte lead in the one before, a 4-byte lead in the one
 * before that (subtracting saturates to zero elsewhere). */
__attribute__((target("ssse3"))) static inline __m128i jp_u8_cut(__m128i v) {
  return _mm_subs_epu8(v, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        -1, -1, -1, -1, (char)0xEF,
                                        (char)0xDF, (char)0xBF));
}

__attribute__((target("ssse3"))) static int jp_utf8_valid_ssse3(
    const uchar *s, size_t n) {
  __m128i prev = _mm_setzero_si128(), err = _mm_setzero_si128();
  __m128i incomplete = _mm_setzero_si128();
  uchar last[16];
  size_t i = 0;
  while (i < n) {
    /* ASCII is skipped 64 bytes at a time: deciding per 16-byte block
     * mispredicts constantly on text that mixes scripts. Then only a
     * sequence cut off before the skipped bytes can be wrong. */
    if (n - i >= 64) {
      const __m128i *w = (const __m128i *)(const void *)(s + i);
      __m128i any = _mm_or_si128(
          _mm_or_si128(_mm_loadu_si128(w), _mm_loadu_si128(w + 1)),
          _mm_or_si128(_mm_loadu_si128(w + 2), _mm_loadu_si128(w + 3)));
      if (!_mm_movemask_epi8(any)) {
        err = _mm_or_si128(err, incomplete);
        incomplete = _mm_setzero_si128();
        prev = _mm_loadu_si128(w + 3);
        i += 64;
        continue;
      }
    }
    size_t stop = n - i >= 64 ? i + 64 : n;
    for (; i < stop; i += 16) {
      __m128i v;
      if (stop - i >= 16) {
        v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
      } else {
        memset(last, 0, sizeof last);
        memcpy(last, s + i, stop - i);
        v = _mm_loadu_si128((const __m128i *)(const void *)last);
      }
      err = _mm_or_si128(err, jp_u8_check(v, prev));
      incomplete = jp_u8_cut(v);
      prev = v;
    }
  }
  err = _mm_or_si128(err, incomplete);
  return _mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) == 0xFFFF;
}
#endif

/* Explains why the sequence at s is not UTF-8, pointing at the bad byte. */
static int jp_fail_utf8(jp *st, const uchar *s, const uchar *e) {
  uchar c = s[0];
  if (c >= 0x80 && c < 0xC0)
    return jp_fail(st, s,
                   "invalid UTF-8 byte 0x%02x in string (continuation byte "
                   "without a lead byte)",
                   c);
  if (c == 0xC0 || c == 0xC1)
    return jp_fail(st, s,
                   "invalid UTF-8 byte 0x%02x in string (overlong encoding)", c);
  if (c >= 0xF5)
    return jp_fail(st, s, "invalid UTF-8 byte 0x%02x in string", c);
  size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (need >= 3 && s + 1 < e) {
    uchar d = s[1];
    if (c == 0xE0 && d >= 0x80 && d < 0xA0)
      return jp_fail(st, s, "invalid UTF-8 in string: overlong encoding "
                            "0x%02x 0x%02x", c, d);
    if (c == 0xED && d >= 0xA0 && d <= 0xBF)
      return jp_fail(st, s, "invalid UTF-8 in string: encoded surrogate "
                            "0x%02x 0x%02x (surrogates are not characters)",
                     c, d);
    if (c == 0xF0 && d >= 0x80 && d < 0x90)
      return jp_fail(st, s, "invalid UTF-8 in string: overlong encoding "
                            "0x%02x 0x%02x", c, d);
    if (c == 0xF4 && d >= 0x90 && d <= 0xBF)
      return jp_fail(st, s, "invalid UTF-8 in string: code point above "
                            "U+10FFFF (0x%02x 0x%02x)", c, d);
  }
  for (size_t i = 1; i < need; i++) {
    if (s + i >= e || (s[i] & 0xC0) != 0x80) {
      char buf[24];
      return jp_fail(st, s + i,
                     "invalid UTF-8 in string: truncated sequence (lead "
                     "byte 0x%02x, then %s)",
                     c, jp_desc(st, s + i, buf));
    }
  }
  return jp_fail(st, s, "invalid UTF-8 byte 0x%02x in string", c);
}

/* Validates the body [body, q) of a string that has non-ASCII bytes. */
static int jp_check_utf8(jp *st, const uchar *body, const uchar *q) {
#if JP_SSSE3
  if (__builtin_cpu_supports("ssse3")) {
    if (jp_utf8_valid_ssse3(body, (size_t)(q - body) + 1)) return 0;
    const uchar *bad = jp_utf8_find_bad(body, q);
    /* Both validators must agree; if they ever do not, reject (so that the
     * differential fuzzer sees it) rather than guess. */
    if (!bad) return jp_fail(st, body, "invalid UTF-8 in string");
    return jp_fail_utf8(st, bad, q);
  }
#endif
  const uchar *bad = jp_utf8_find_bad(body, q);
  return bad ? jp_fail_utf8(st, bad, q) : 0;
}

static int jp_fail_ctrl(jp *st, const uchar *s) {
  static const char *const shortf[32] = {
      [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"};
  if (shortf[*s])
    return jp_fail(st, s,
                   "unescaped control character 0x%02x in string (write it "
                   "as %s)",
                   *s, shortf[*s]);
  return jp_fail(st, s,
                 "unescaped control character 0x%02x in string (write it as "
                 "\\u%04x)",
                 *s, *s);
}

static inline int jp_hex4(const uchar *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    uchar c = s[i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = (c | 0x20) - 'a' + 10;
    else
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Decodes the escape at s (s[0] == '\\'), input bounded by q, writing
 * UTF-8 to *po. Returns the input bytes consumed, or 0 after jp_fail. */
static size_t jp_escape(jp *st, const uchar *s, const uchar *q, uchar **po) {
  uchar *o = *po;
  if (q - s < 2) {
    jp_fail(st, s, "unterminated escape in string");
    return 0;
  }
  if (jp_unesc[s[1]]) {
    *o++ = jp_unesc[s[1]];
    *po = o;
    return 2;
  }
  if (s[1] != 'u') {
    if (s[1] > 0x20 && s[1] < 0x7F)
      jp_fail(st, s, "invalid escape '\\%c' in string", s[1]);
    else
      jp_fail(st, s, "invalid escape in string: '\\' followed by byte 0x%02x",
              s[1]);
    return 0;
  }
  int cp = q - s >= 6 ? jp_hex4(s + 2) : -1;
  if (cp < 0) {
    jp_fail(st, s, "invalid \\u escape in string: expected 4 hex digits");
    return 0;
  }
  size_t used = 6;
  if (cp == 0) {
    jp_fail(st, s, "\\u0000 (NUL) is not allowed in strings");
    return 0;
  }
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    jp_fail(st, s, "lone low surrogate \\u%04X in string", (unsigned)cp);
    return 0;
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    int lo = q - s >= 12 && s[6] == '\\' && s[7] == 'u' ? jp_hex4(s + 8) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF) {
      jp_fail(st, s,
              "lone high surrogate \\u%04X in string (must be followed by a "
              "low surrogate \\uDC00-\\uDFFF)",
              (unsigned)cp);
      return 0;
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    used = 12;
  }
  *po = rk__utf8_put(o, cp);
  return used;
}

static int jp_fail_unterminated(jp *st, const uchar *open) {
  size_t line, col;
  jp_linecol(st, open, &line, &col);
  return jp_fail(st, st->e,
                 "unexpected end of input in string (opened at line %zu, "
                 "column %zu)",
                 line, col);
}

/* Closing quote of the string whose body starts at `body`, searching from
 * s: the first '"' preceded by an even number of backslashes. NULL when
 * there is none. Valid escapes never contain '"' or '\\' beyond their
 * first two bytes, so this is where the escaping pass must stop too. */
static const uchar *jp_find_close(const uchar *body, const uchar *s,
                                  const uchar *e) {
  for (;;) {
    const uchar *q = memchr(s, '"', (size_t)(e - s));
    if (!q) return NULL;
    const uchar *b = q;
    while (b > body && b[-1] == '\\') b--;
    if (((q - b) & 1) == 0) return q;
    s = q + 1;
  }
}

/* Decodes [s, q) of a string with escapes into o, o0 being the start of
 * its output block, and finishes the string: UTF-8 check if it has
 * non-ASCII bytes (`hi`: seen before s), *out, *ps. Block stores rely on
 * o - o0 <= s - body; the scan is bounded by the closing quote q, which
 * also keeps every read in bounds (s[1] is readable whenever s < q). */
static int jp_unesc_tail(jp *st, const uchar **ps, const uchar *body,
                         const uchar *s, const uchar *q, uchar *o0, uchar *o,
                         int hi, rk__str *out) {
  unsigned high = 0;
  for (;;) {
#if JP_BLOCK
    while (q - s >= JP_BLOCK) {
      jp_block v = jp_load(s);
      jp_store(o, v);
      high |= jp_high(v) != 0;
      if (jp_special_mask(v)) {
        size_t k = jp_first(jp_special_mask(v));
        s += k;
        o += k;
        goto special;
      }
      s += JP_BLOCK;
      o += JP_BLOCK;
    }
#endif
    while (s < q && !jp_special[*s]) {
      high |= *s >> 7;
      *o++ = *s++;
    }
#if JP_BLOCK
  special:
#endif
    if (s >= q) break; /* *q == '"' */
    if (*s == '\\') {
      uchar r = jp_unesc[s[1]];
      if (r && s + 1 < q) {
        *o++ = r;
        s += 2;
        continue;
      }
      size_t k = jp_escape(st, s, q, &o);
      if (!k) return -1;
      s += k;
      continue;
    }
    if (*s == '"') break; /* cannot happen: q is the first unescaped quote */
    return jp_fail_ctrl(st, s);
  }
  if ((hi || high) && jp_check_utf8(st, body, q)) return -1;
  out->p = (const char *)o0;
  out->n = (size_t)(o - o0);
  *ps = q + 1;
  return 0;
}

/* Slow half of jp_str, portable, once the closing quote q is known: the
 * string has an escape at s. The output cannot be longer than the source,
 * so one arena block of the source length is enough. */
static int jp_str_esc_q(jp *st, const uchar **ps, const uchar *body,
                        const uchar *s, const uchar *q, int hi,
                        rk__str *out) {
  uchar *o0 = rk__arena_alloc(st->a, (size_t)(q - body));
  if (!o0) return -2;
  memcpy(o0, body, (size_t)(s - body));
  return jp_unesc_tail(st, ps, body, s, q, o0, o0 + (s - body), hi, out);
}

/* Slow half of jp_str, portable. This is also the reference the AVX2 path
 * falls back to on anything unusual. */
static int jp_str_esc_ref(jp *st, const uchar **ps, const uchar *body,
                          const uchar *s, int hi, rk__str *out) {
  const uchar *q = jp_find_close(body, s, st->e);
  if (!q) return jp_fail_unterminated(st, body - 1);
  return jp_str_esc_q(st, ps, body, s, q, hi, out);
}

#if JP_SSSE3
/* jp_escape for a valid \u escape (or surrogate pair) at s, input bounded
 * by e, without reporting: the input bytes consumed, or 0 for anything
 * else. Bounded by e instead of the closing quote, it accepts exactly the
 * escapes jp_escape accepts (a quote cannot appear inside a valid one). */
static size_t jp_uesc(const uchar *s, const uchar *e, uchar **po) {
  int cp = e - s >= 6 && s[1] == 'u' ? jp_hex4(s + 2) : -1;
  if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return 0;
  size_t used = 6;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    int lo = e - s >= 12 && s[6] == '\\' && s[7] == 'u' ? jp_hex4(s + 8) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF) return 0;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    used = 12;
  }
  *po = rk__utf8_put(*po, cp);
  return used;
}

/* pshufb controls that drop the bytes flagged in an 8-bit mask: entry m
 * holds the indices of m's zero bits in ascending order, then 0x80s. */
static const uint64_t jp_pack8[256] = {
    0x0706050403020100, 0x8007060504030201, 0x8007060504030200,
    0x8080070605040302, 0x8007060504030100, 0x8080070605040301,
    0x8080070605040300, 0x8080800706050403, 0x8007060504020100,
    0x8080070605040201, 0x8080070605040200, 0x8080800706050402,
    0x8080070605040100, 0x8080800706050401, 0x8080800706050400,
    0x8080808007060504, 0x8007060503020100, 0x8080070605030201,
    0x8080070605030200, 0x8080800706050302, 0x8080070605030100,
    0x8080800706050301, 0x8080800706050300, 0x8080808007060503,
    0x8080070605020100, 0x8080800706050201, 0x8080800706050200,
    0x8080808007060502, 0x8080800706050100, 0x8080808007060501,
    0x8080808007060500, 0x8080808080070605, 0x8007060403020100,
    0x8080070604030201, 0x8080070604030200, 0x8080800706040302,
    0x8080070604030100, 0x8080800706040301, 0x8080800706040300,
    0x8080808007060403, 0x8080070604020100, 0x8080800706040201,
    0x8080800706040200, 0x8080808007060402, 0x8080800706040100,
    0x8080808007060401, 0x8080808007060400, 0x8080808080070604,
    0x8080070603020100, 0x8080800706030201, 0x8080800706030200,
    0x8080808007060302, 0x8080800706030100, 0x8080808007060301,
    0x8080808007060300, 0x8080808080070603, 0x8080800706020100,
    0x8080808007060201, 0x8080808007060200, 0x8080808080070602,
    0x8080808007060100, 0x8080808080070601, 0x8080808080070600,
    0x8080808080800706, 0x8007050403020100, 0x8080070504030201,
    0x8080070504030200, 0x8080800705040302, 0x8080070504030100,
    0x8080800705040301, 0x8080800705040300, 0x8080808007050403,
    0x8080070504020100, 0x8080800705040201, 0x8080800705040200,
    0x8080808007050402, 0x8080800705040100, 0x8080808007050401,
    0x8080808007050400, 0x8080808080070504, 0x8080070503020100,
    0x8080800705030201, 0x8080800705030200, 0x8080808007050302,
    0x8080800705030100, 0x8080808007050301, 0x8080808007050300,
    0x8080808080070503, 0x8080800705020100, 0x8080808007050201,
    0x8080808007050200, 0x8080808080070502, 0x8080808007050100,
    0x8080808080070501, 0x8080808080070500, 0x8080808080800705,
    0x8080070403020100, 0x8080800704030201, 0x8080800704030200,
    0x8080808007040302, 0x8080800704030100, 0x8080808007040301,
    0x8080808007040300, 0x8080808080070403, 0x8080800704020100,
    0x8080808007040201, 0x8080808007040200, 0x8080808080070402,
    0x8080808007040100, 0x8080808080070401, 0x8080808080070400,
    0x8080808080800704, 0x8080800703020100, 0x8080808007030201,
    0x8080808007030200, 0x8080808080070302, 0x8080808007030100,
    0x8080808080070301, 0x8080808080070300, 0x8080808080800703,
    0x8080808007020100, 0x8080808080070201, 0x8080808080070200,
    0x8080808080800702, 0x8080808080070100, 0x8080808080800701,
    0x8080808080800700, 0x8080808080808007, 0x8006050403020100,
    0x8080060504030201, 0x8080060504030200, 0x8080800605040302,
    0x8080060504030100, 0x8080800605040301, 0x8080800605040300,
    0x8080808006050403, 0x8080060504020100, 0x8080800605040201,
    0x8080800605040200, 0x8080808006050402, 0x8080800605040100,
    0x8080808006050401, 0x8080808006050400, 0x8080808080060504,
    0x8080060503020100, 0x8080800605030201, 0x8080800605030200,
    0x8080808006050302, 0x8080800605030100, 0x8080808006050301,
    0x8080808006050300, 0x8080808080060503, 0x8080800605020100,
    0x8080808006050201, 0x8080808006050200, 0x8080808080060502,
    0x8080808006050100, 0x8080808080060501, 0x8080808080060500,
    0x8080808080800605, 0x8080060403020100, 0x8080800604030201,
    0x8080800604030200, 0x8080808006040302, 0x8080800604030100,
    0x8080808006040301, 0x8080808006040300, 0x8080808080060403,
    0x8080800604020100, 0x8080808006040201, 0x8080808006040200,
    0x8080808080060402, 0x8080808006040100, 0x8080808080060401,
    0x8080808080060400, 0x8080808080800604, 0x8080800603020100,
    0x8080808006030201, 0x8080808006030200, 0x8080808080060302,
    0x8080808006030100, 0x8080808080060301, 0x8080808080060300,
    0x8080808080800603, 0x8080808006020100, 0x8080808080060201,
    0x8080808080060200, 0x8080808080800602, 0x8080808080060100,
    0x8080808080800601, 0x8080808080800600, 0x8080808080808006,
    0x8080050403020100, 0x8080800504030201, 0x8080800504030200,
    0x8080808005040302, 0x8080800504030100, 0x8080808005040301,
    0x8080808005040300, 0x8080808080050403, 0x8080800504020100,
    0x8080808005040201, 0x8080808005040200, 0x8080808080050402,
    0x8080808005040100, 0x8080808080050401, 0x8080808080050400,
    0x8080808080800504, 0x8080800503020100, 0x8080808005030201,
    0x8080808005030200, 0x8080808080050302, 0x8080808005030100,
    0x8080808080050301, 0x8080808080050300, 0x8080808080800503,
    0x8080808005020100, 0x8080808080050201, 0x8080808080050200,
    0x8080808080800502, 0x8080808080050100, 0x8080808080800501,
    0x8080808080800500, 0x8080808080808005, 0x8080800403020100,
    0x8080808004030201, 0x8080808004030200, 0x8080808080040302,
    0x8080808004030100, 0x8080808080040301, 0x8080808080040300,
    0x8080808080800403, 0x8080808004020100, 0x8080808080040201,
    0x8080808080040200, 0x8080808080800402, 0x8080808080040100,
    0x8080808080800401, 0x8080808080800400, 0x8080808080808004,
    0x8080808003020100, 0x8080808080030201, 0x8080808080030200,
    0x8080808080800302, 0x8080808080030100, 0x8080808080800301,
    0x8080808080800300, 0x8080808080808003, 0x8080808080020100,
    0x8080808080800201, 0x8080808080800200, 0x8080808080808002,
    0x8080808080800100, 0x8080808080808001, 0x8080808080808000,
    0x8080808080808080,
};

/* UTF-8 validation state between calls of the kernel: the block before,
 * errors so far, a sequence cut off at the end of the block before. */
typedef struct jp_u8 {
  __m128i prev, err, cut;
} jp_u8;

#define JP_EVEN 0x5555555555555555ULL
#define JP_BYTES 0x0101010101010101ULL

/* The backslashes of bs (bit i: byte i) that start an escape: the first
 * of each run and every other one after it. carry is 1 when byte 0 is
 * escaped by the block before. Adding the first bit of a run clears the
 * run, which tells runs that start at even positions from the others. */
static inline uint64_t jp_esc_starts(uint64_t bs, uint64_t carry) {
  uint64_t b = bs & ~carry;
  uint64_t first = b & ~(b << 1);
  uint64_t even_runs = b & ~(b + (first & JP_EVEN));
  return (even_runs & JP_EVEN) | (b & ~even_runs & ~JP_EVEN);
}

/* The number of set bits of each byte of x, in that byte. */
static inline uint64_t jp_bytecounts(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ULL;
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  return (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
}

/* Decodes string bytes from *ps to *po, 64 at a time while lim - *ps >= 64
 * and olim - *po >= 64, with no branch per escape. In each chunk the
 * backslashes that start an escape are the first of each run and every
 * other one after it (the parity carries across chunks); each escaped
 * byte is replaced by its value and the starting backslashes are packed
 * out, 8 bytes per shuffle. \u escapes stop the chunk and are decoded one
 * at a time. The input is validated as UTF-8 on the way (into *u).
 * Returns 1 when stopped at a byte that needs care: an unescaped '"', a
 * control byte, the backslash of an invalid escape (or of a \u escape
 * with under 4 bytes of room left); 0 when input or room ran out. Either
 * way *ps is not inside an escape. */
__attribute__((target("avx2"))) static int jp_unesc_avx2(
    const uchar **ps, const uchar *lim, uchar **po, const uchar *olim,
    jp_u8 *u) {
  const __m256i quote = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\');
  const __m256i c1f = _mm256_set1_epi8(0x1F), nib = _mm256_set1_epi8(0x0F);
  /* The eight escape letters get distinct indices (c + off[c >> 4]) & 15;
   * at a letter's index, chr holds the letter and dif the letter minus
   * its value. */
  const __m256i off = _mm256_broadcastsi128_si256(
      _mm_setr_epi8(0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0));
  const __m256i chr = _mm256_broadcastsi128_si256(_mm_setr_epi8(
      'n', 0, '"', 0, 'b', 'r', 0, 't', 'f', 0, 0, 0, '\\', 0, 0, '/'));
  const __m256i dif = _mm256_broadcastsi128_si256(
      _mm_setr_epi8('n' - '\n', 0, 0, 0, 'b' - '\b', 'r' - '\r', 0,
                    't' - '\t', 'f' - '\f', 0, 0, 0, 0, 0, 0, 0));
  /* Bit i of a 32-bit mask to byte i (spread, then test). */
  const __m256i spread = _mm256_setr_epi8(
      0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
      3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_broadcastsi128_si256(_mm_setr_epi8(
      1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  const __m256i hi8 = _mm256_broadcastsi128_si256(
      _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8));
  const __m256i iota = _mm256_setr_epi8(
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
      20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
  const uchar *s = *ps;
  uchar *o = *po;
  uint64_t carry = 0; /* 1 when s[0] is escaped by the chunk before */
  __m128i prev = u->prev, err = u->err, cut = u->cut;
  int stop = 0;
  while (lim - s >= 64 && olim - o >= 64) {
    __m256i v[2], d[2];
    uint64_t bs = 0, qc = 0, ok = 0;
#pragma GCC unroll 2
    for (int j = 0; j < 2; j++) {
      v[j] = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32 * j));
      __m256i c = _mm256_or_si256(
          _mm256_cmpeq_epi8(v[j], quote),
          _mm256_cmpeq_epi8(_mm256_min_epu8(v[j], c1f), v[j]));
      bs |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                _mm256_cmpeq_epi8(v[j], bsl))
            << 32 * j;
      qc |= (uint64_t)(uint32_t)_mm256_movemask_epi8(c) << 32 * j;
    }
    int high = _mm256_movemask_epi8(_mm256_or_si256(v[0], v[1]));
    if (!(bs | qc | carry | (uint64_t)high)) {
      /* Plain ASCII: a copy (sparse escapes leave many such chunks). */
      _mm256_storeu_si256((__m256i *)(void *)o, v[0]);
      _mm256_storeu_si256((__m256i *)(void *)(o + 32), v[1]);
      err = _mm_or_si128(err, cut);
      prev = cut = _mm_setzero_si128();
      s += 64;
      o += 64;
      continue;
    }
#pragma GCC unroll 2
    for (int j = 0; j < 2; j++) {
      __m256i hn = _mm256_and_si256(_mm256_srli_epi16(v[j], 4), nib);
      __m256i idx = _mm256_and_si256(
          _mm256_add_epi8(v[j], _mm256_shuffle_epi8(off, hn)), nib);
      __m256i k = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(chr, idx), v[j]);
      d[j] = _mm256_shuffle_epi8(dif, idx);
      ok |= (uint64_t)(uint32_t)_mm256_movemask_epi8(k) << 32 * j;
    }
    uint64_t start = jp_esc_starts(bs, carry);
    uint64_t esc = start << 1 | carry;
    uint64_t bad = esc & ~ok;
    uint64_t care = (qc & ~esc) | bad >> 1;
    int n = 64;
    if (care | (bad & 1)) {
      /* Stop at the first such byte (-1: the backslash that ended the
       * chunk before) and zero the bytes from it on. */
      stop = 1;
      n = bad & 1 ? -1 : __builtin_ctzll(care);
#pragma GCC unroll 2
      for (int j = 0; j < 2; j++)
        v[j] = _mm256_and_si256(
            v[j],
            _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(n - 32 * j)), iota));
    }
    if (_mm256_movemask_epi8(_mm256_or_si256(v[0], v[1]))) {
      __m128i h[4] = {
          _mm256_castsi256_si128(v[0]), _mm256_extracti128_si256(v[0], 1),
          _mm256_castsi256_si128(v[1]), _mm256_extracti128_si256(v[1], 1)};
      err = _mm_or_si128(err, _mm_or_si128(jp_u8_check(h[0], prev),
                                           jp_u8_check(h[1], h[0])));
      err = _mm_or_si128(err, _mm_or_si128(jp_u8_check(h[2], h[1]),
                                           jp_u8_check(h[3], h[2])));
      cut = jp_u8_cut(h[3]);
      prev = h[3];
    } else {
      /* All ASCII: only a sequence cut off before it can be wrong. */
      err = _mm_or_si128(err, cut);
      prev = cut = _mm_setzero_si128();
    }
    if (stop) {
      /* The stop byte is ASCII: UTF-8 starts afresh after it. */
      err = _mm_or_si128(err, cut);
      prev = cut = _mm_setzero_si128();
    }
    /* Group k of 8 bytes goes to 8k minus the backslashes dropped before
     * it. */
    uint64_t cum = jp_bytecounts(start) * JP_BYTES, before = cum << 8;
    if (n > 0) {
#pragma GCC unroll 2
      for (int j = 0; j < 2; j++) {
        __m256i m = _mm256_set1_epi32((int)(uint32_t)(esc >> 32 * j));
        m = _mm256_and_si256(_mm256_shuffle_epi8(m, spread), bit);
        m = _mm256_cmpeq_epi8(m, bit);
        __m256i w = _mm256_sub_epi8(v[j], _mm256_and_si256(d[j], m));
        uint64_t sj = start >> 32 * j, bj = before >> 32 * j;
        __m256i ctl = _mm256_setr_epi64x((long long)jp_pack8[sj & 0xFF],
                                         (long long)jp_pack8[sj >> 8 & 0xFF],
                                         (long long)jp_pack8[sj >> 16 & 0xFF],
                                         (long long)jp_pack8[sj >> 24 & 0xFF]);
        w = _mm256_shuffle_epi8(w, _mm256_add_epi8(ctl, hi8));
        __m128i lo = _mm256_castsi256_si128(w);
        __m128i hi = _mm256_extracti128_si256(w, 1);
        uchar *g = o + 32 * j;
        _mm_storel_epi64((__m128i *)(void *)(g - (bj & 0xFF)), lo);
        _mm_storeh_pi((__m64 *)(void *)(g + 8 - (bj >> 8 & 0xFF)),
                      _mm_castsi128_ps(lo));
        _mm_storel_epi64((__m128i *)(void *)(g + 16 - (bj >> 16 & 0xFF)), hi);
        _mm_storeh_pi((__m64 *)(void *)(g + 24 - (bj >> 24 & 0xFF)),
                      _mm_castsi128_ps(hi));
      }
    }
    if (stop) {
      if (n > 0) {
        uint64_t dropped = start & ((1ULL << n) - 1);
        o += n - (int)((jp_bytecounts(dropped) * JP_BYTES) >> 56);
      }
      s += n;
      /* \u escapes are decoded here, one by one, and the scan goes on. */
      size_t k;
      while (lim - s >= 6 && *s == '\\' && olim - o >= 4 &&
             (k = jp_uesc(s, lim, &o))) {
        s += k;
        stop = 0;
      }
      if (stop) break;
      carry = 0;
      continue;
    }
    o += 64 - (cum >> 56);
    s += 64;
    carry = start >> 63;
  }
  if (!stop) s -= carry; /* back to the backslash, which has no output yet */
  u->prev = prev;
  u->err = err;
  u->cut = cut;
  *ps = s;
  *po = o;
  return stop;
}

/* jp_find_close from s (not inside an escape), 64 bytes at a time. */
__attribute__((target("avx2"))) static const uchar *jp_find_close_avx2(
    const uchar *body, const uchar *s, const uchar *e) {
  const __m256i quote = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\');
  uint64_t carry = 0;
  while (e - s >= 64) {
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)s);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32));
    uint64_t bs = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, bsl)) |
                  (uint64_t)(uint32_t)_mm256_movemask_epi8(
                      _mm256_cmpeq_epi8(v1, bsl))
                      << 32;
    uint64_t qt =
        (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, quote)) |
        (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, quote))
            << 32;
    uint64_t start = jp_esc_starts(bs, carry);
    qt &= ~(start << 1 | carry);
    if (qt) return s + __builtin_ctzll(qt);
    carry = start >> 63;
    s += 64;
  }
  /* jp_find_close counts the backslashes before each quote itself. */
  return jp_find_close(body, s, e);
}

#ifndef JP_STACK_OUT
#define JP_STACK_OUT 8192 /* a test build sets it small */
#endif

/* 1 when the string may be invalid UTF-8: the kernel found an error or a
 * cut-off sequence, or the bytes before the first escape s0 (non-ASCII if
 * hi) are invalid. */
__attribute__((target("ssse3"))) static int jp_u8_dirty(const jp_u8 *u,
                                                        const uchar *body,
                                                        const uchar *s0,
                                                        int hi) {
  __m128i any = _mm_or_si128(u->err, u->cut);
  if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128())) != 0xFFFF)
    return 1;
  return hi && !jp_utf8_valid_ssse3(body, (size_t)(s0 - body) + 1);
}

/* Slow half of jp_str with the AVX2 kernel: the string has an escape at
 * s0. The output goes to a stack buffer while the closing quote is not
 * known, then to an exact-size arena block: no pass looks for the quote
 * first. A string whose output outgrows the buffer looks for its quote
 * after all and goes on in the arena. Anything unusual (an error, the end
 * of the input) goes to the portable code, which reports it exactly as
 * before. */
static int jp_str_esc_fast(jp *st, const uchar **ps, const uchar *body,
                           const uchar *s0, int hi, rk__str *out) {
  uchar buf[JP_STACK_OUT + 4]; /* + a \u escape decoded after a stop */
  const uchar *s = s0, *e = st->e, *q = NULL;
  uchar *o = buf, *o0 = NULL; /* o0: the arena block, once q is known */
  const uchar *olim = buf + JP_STACK_OUT;
  size_t pre = (size_t)(s0 - body);
  jp_u8 u = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
  for (;;) {
    if (!jp_unesc_avx2(&s, e, &o, olim, &u)) {
      if (!o0 && olim - o < 64) {
        /* Out of room (s is neither inside an escape nor past q). */
        q = jp_find_close_avx2(body, s, e);
        if (!q) return jp_fail_unterminated(st, body - 1);
        o0 = rk__arena_alloc(st->a, (size_t)(q - body));
        if (!o0) return -2;
        memcpy(o0, body, pre);
        memcpy(o0 + pre, buf, (size_t)(o - buf));
        o = o0 + pre + (o - buf);
        olim = o0 + (q - body);
        continue;
      }
      /* Under 64 bytes of input (or of the string, in the arena) left:
       * decode from a zero-padded copy, where a zero stops the kernel at
       * the end of the input. */
      uchar in[64] = {0}, dec[64];
      const uchar *t = in;
      uchar *d = dec;
      memcpy(in, s, e - s < 64 ? (size_t)(e - s) : 64);
      int stopped = jp_unesc_avx2(&t, in + 64, &d, dec + 64, &u);
      memcpy(o, dec, (size_t)(d - dec));
      o += d - dec;
      s += t - in;
      if (s >= e) return jp_str_esc_ref(st, ps, body, s0, hi, out);
      if (!stopped) continue;
    }
    if (*s == '"') break;
    size_t k = *s == '\\' ? jp_uesc(s, e, &o) : 0;
    if (k) {
      s += k;
      continue;
    }
    /* An error: the portable code reports it (from the start, or from s
     * once in the arena). */
    if (!o0) return jp_str_esc_ref(st, ps, body, s0, hi, out);
    return jp_unesc_tail(st, ps, body, s, q, o0, o,
                         jp_u8_dirty(&u, body, s0, hi), out);
  }
  if (!o0) {
    size_t n = (size_t)(o - buf);
    o0 = rk__arena_alloc(st->a, (size_t)(s - body));
    if (!o0) return -2;
    memcpy(o0, body, pre);
    memcpy(o0 + pre, buf, n);
    o = o0 + pre + n;
  }
  if (jp_u8_dirty(&u, body, s0, hi) && jp_check_utf8(st, body, s)) return -1;
  out->p = (const char *)o0;
  out->n = (size_t)(o - o0);
  *ps = s + 1;
  return 0;
}
#endif

/* A string that ends within this many bytes of its first escape is done
 * faster by the portable loop than by the kernel. A test build sets 0. */
#ifndef JP_SHORT
#define JP_SHORT 64
#endif

/* Slow half of jp_str: the string has an escape at s; `hi` says whether
 * non-ASCII bytes were seen before s. */
static int jp_str_esc(jp *st, const uchar **ps, const uchar *body,
                      const uchar *s, int hi, rk__str *out) {
#if JP_SSSE3
  if (__builtin_cpu_supports("avx2")) {
    const uchar *e = st->e, *soon = e - s > JP_SHORT ? s + JP_SHORT : e;
    const uchar *q = jp_find_close(body, s, soon);
    if (q) return jp_str_esc_q(st, ps, body, s, q, hi, out);
    if (soon < e) return jp_str_esc_fast(st, ps, body, s, hi, out);
  }
#endif
  return jp_str_esc_ref(st, ps, body, s, hi, out);
}

/* String at *ps (the opening quote). Without escapes the result points
 * into the input. On success *ps is just past the closing quote. */
static int jp_str(jp *st, const uchar **ps, rk__str *out) {
  const uchar *body = *ps + 1, *s = body, *e = st->e;
  unsigned high = 0;
#if JP_BLOCK
  while (e - s >= JP_BLOCK) {
    jp_block v = jp_load(s);
    high |= jp_high(v) != 0;
    if (jp_special_mask(v)) {
      s += jp_first(jp_special_mask(v));
      goto special;
    }
    s += JP_BLOCK;
  }
#endif
  while (s < e && !jp_special[*s]) {
    high |= *s >> 7;
    s++;
  }
  if (s == e) return jp_fail_unterminated(st, body - 1);
#if JP_BLOCK
special:
#endif
  if (*s == '"') {
    if (high && jp_check_utf8(st, body, s)) return -1;
    out->p = (const char *)body;
    out->n = (size_t)(s - body);
    *ps = s + 1;
    return 0;
  }
  if (*s == '\\') return jp_str_esc(st, ps, body, s, (int)high, out);
  return jp_fail_ctrl(st, s);
}

/* ----------------------------------------------------------- numbers */

static inline int jp_digit(const uchar *s, const uchar *e) {
  return s < e && *s >= '0' && *s <= '9';
}

/* Correctly rounded value of a validated number via strtod (C locale
 * assumed: see docs/json.md). */
static int jp_num_slow(jp *st, const uchar *start, size_t len, double *out) {
  char small[128];
  char *buf = small;
  if (len >= sizeof small) {
    buf = rk__arena_alloc(st->a, len + 1);
    if (!buf) return -2;
  }
  memcpy(buf, start, len);
  buf[len] = '\0';
  char *end;
  errno = 0;
  double d = strtod(buf, &end);
  if (end != buf + len)
    return jp_fail(st, start,
                   "number could not be converted (strtod stopped early; is "
                   "LC_NUMERIC not \"C\"?)");
  if (isinf(d))
    return jp_fail(st, start, "number %.*s%s is too large for a double",
                   (int)(len > 40 ? 40 : len), (const char *)start,
                   len > 40 ? "..." : "");
  *out = d;
  return 0;
}

/* Number at *ps, validated against the RFC 8259 grammar. Decimal inputs
 * with at most 19 significant digits whose value is an exact double times
 * an exact power of ten (10^0..10^22) are converted with one correctly
 * rounded multiplication or division (Clinger's fast path, "How to read
 * floating point numbers accurately", PLDI 1990); the rest go to strtod. */
static int jp_num(jp *st, const uchar **ps, double *out) {
  const uchar *start = *ps, *s = start, *e = st->e;
  int neg = 0;
  if (*s == '-') {
    neg = 1;
    s++;
    if (!jp_digit(s, e)) {
      if (e - s >= 8 && memcmp(s, "Infinity", 8) == 0)
        return jp_fail(st, start, "-Infinity is not a JSON number");
      char buf[24];
      return jp_fail(st, s, "expected a digit after '-', got %s",
                     jp_desc(st, s, buf));
    }
  }
  uint64_t m = 0;
  int nd = 0, dropped = 0;
  int64_t e10 = 0;
  if (*s == '0') {
    s++;
    if (jp_digit(s, e))
      return jp_fail(st, start, "leading zeros are not allowed in numbers");
  } else {
    do {
      if (nd < 19) {
        m = m * 10 + (uint64_t)(*s - '0');
        nd++;
      } else {
        dropped = 1;
        e10++;
      }
      s++;
    } while (jp_digit(s, e));
  }
  if (s < e && *s == '.') {
    s++;
    if (!jp_digit(s, e))
      return jp_fail(st, s,
                     "expected a digit after '.' in number (write 1.0, not 1.)");
    do {
      if (m == 0 && *s == '0') {
        e10--;
      } else if (nd < 19) {
        m = m * 10 + (uint64_t)(*s - '0');
        nd++;
        e10--;
      } else {
        dropped = 1;
      }
      s++;
    } while (jp_digit(s, e));
  }
  if (s < e && (*s | 0x20) == 'e') {
    s++;
    int eneg = 0;
    if (s < e && (*s == '+' || *s == '-')) {
      eneg = *s == '-';
      s++;
    }
    if (!jp_digit(s, e))
      return jp_fail(st, s, "expected a digit in the exponent of a number");
    int64_t x = 0;
    do {
      if (x < 100000000) x = x * 10 + (*s - '0');
      s++;
    } while (jp_digit(s, e));
    e10 += eneg ? -x : x;
  }
  *ps = s;
  double d = 0.0;
  if (!dropped && m == 0) {
    d = 0.0;
  } else if (!dropped && e10 == 0) {
    d = (double)m; /* one correctly rounded conversion */
#if FLT_EVAL_METHOD == 0
  } else if (!dropped && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
    d = e10 < 0 ? (double)m / jp_pow10[-e10] : (double)m * jp_pow10[e10];
#endif
  } else {
    int rc = jp_num_slow(st, start, (size_t)(s - start), &d);
    if (rc) return rc;
    *out = d; /* strtod has the sign already */
    return 0;
  }
  *out = neg ? -d : d;
  return 0;
}

/* ------------------------------------------------------------- values */

static int jp_fail_value(jp *st, const uchar *s) {
  const uchar *e = st->e;
  char buf[24];
  switch (*s) {
  case 'N':
    if (e - s >= 3 && memcmp(s, "NaN", 3) == 0)
      return jp_fail(st, s, "NaN is not a JSON number");
    break;
  case 'I':
    if (e - s >= 8 && memcmp(s, "Infinity", 8) == 0)
      return jp_fail(st, s, "Infinity is not a JSON number");
    break;
  case '/':
    return jp_fail(st, s, "comments are not allowed in JSON");
  case '\'':
    return jp_fail(st, s, "single-quoted strings are not allowed in JSON");
  case '+':
    return jp_fail(st, s, "'+' is not allowed before a number");
  case '.':
    return jp_fail(st, s, "a number must start with a digit (write 0.5, not .5)");
  default:
    break;
  }
  return jp_fail(st, s, "unexpected %s, expected a value", jp_desc(st, s, buf));
}

static int jp_literal(jp *st, const uchar **ps, const char *word, size_t n) {
  const uchar *s = *ps;
  if ((size_t)(st->e - s) < n || memcmp(s, word, n) != 0) {
    size_t k = 1;
    while (k < n && s + k < st->e && s[k] == (uchar)word[k]) k++;
    char buf[24];
    return jp_fail(st, s + k, "invalid literal: expected '%s', got %s at its "
                              "byte %zu", word, jp_desc(st, s + k, buf), k + 1);
  }
  *ps = s + n;
  return 0;
}

static int jp_push_slot(jp *st, size_t *idx) {
  if (st->nslot == st->capslot) {
    int rc = jp_grow_slots(st);
    if (rc) return rc;
  }
  rk__jmember *m = &st->slot[st->nslot];
  m->key.p = m->raw_key.p = NULL;
  m->key.n = m->raw_key.n = 0;
  *idx = st->nslot++;
  return 0;
}

/* The parse loop. States: `value` reads a value into slot `cur`; `after`
 * decides what follows a complete value; `key` reads an object key into a
 * new slot; `close` folds the items of the innermost container. */
static int jp_run(jp *st, size_t max_depth, rk__jval **out) {
  const uchar *s = st->b, *e = st->e;
  char buf[24];
  size_t cur = 0, idx;
  int rc;
  st->nslot = 1;
  st->slot[0].key.p = st->slot[0].raw_key.p = NULL;
  st->slot[0].key.n = st->slot[0].raw_key.n = 0;

value:
  s = jp_ws(s, e);
  if (s == e) {
    if (st->nfr == 0) return jp_fail(st, s, "empty input: expected a JSON value");
    return jp_fail(st, s, "unexpected end of input, expected a value");
  }
  {
    rk__jval *v = &st->slot[cur].val;
    const uchar *v0 = s;
    switch (*s) {
    case '"':
      rc = jp_str(st, &s, &v->u.str);
      if (rc) return rc;
      v->type = RK__JSTR;
      break;
    case 'N': case 'I':
      if (!st->py) return jp_fail_value(st, s);
      if ((rc = jp_literal(st, &s, *s == 'N' ? "NaN" : "Infinity", *s == 'N' ? 3 : 8)))
        return rc;
      v->type = RK__JNUM;
      v->u.num = *v0 == 'N' ? NAN : INFINITY;
      break;
    case '-':
      if (st->py && e - s >= 9 && memcmp(s + 1, "Infinity", 8) == 0) {
        s += 9;
        v->type = RK__JNUM;
        v->u.num = -INFINITY;
        break;
      }
      /* fall through */
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      rc = jp_num(st, &s, &v->u.num);
      if (rc) return rc;
      v->type = RK__JNUM;
      break;
    case 't':
      if ((rc = jp_literal(st, &s, "true", 4))) return rc;
      v->type = RK__JTRUE;
      break;
    case 'f':
      if ((rc = jp_literal(st, &s, "false", 5))) return rc;
      v->type = RK__JFALSE;
      break;
    case 'n':
      if ((rc = jp_literal(st, &s, "null", 4))) return rc;
      v->type = RK__JNULL;
      break;
    case '[':
    case '{': {
      if (st->nfr >= max_depth)
        return jp_fail(st, s, "nesting deeper than %zu", max_depth);
      if (st->nfr == st->capfr && (rc = jp_grow_frames(st))) return rc;
      jp_frame *f = &st->fr[st->nfr++];
      f->owner = cur;
      f->start = s;
      f->obj = *s == '{';
      s = jp_ws(s + 1, e);
      if (f->obj) {
        if (s < e && *s == '}') {
          s++;
          goto close;
        }
        goto key;
      }
      if (s < e && *s == ']') {
        s++;
        goto close;
      }
      if ((rc = jp_push_slot(st, &idx))) return rc;
      cur = idx;
      goto value;
    }
    default:
      return jp_fail_value(st, s);
    }
    v->raw.p = (const char *)v0;
    v->raw.n = (size_t)(s - v0);
  }

after:
  if (st->nfr == 0) {
    s = jp_ws(s, e);
    if (s != e)
      return jp_fail(st, s, "unexpected %s after value", jp_desc(st, s, buf));
    rk__jval *root = rk__arena_alloc(st->a, sizeof *root);
    if (!root) return -2;
    *root = st->slot[0].val;
    *out = root;
    return 0;
  }
  {
    jp_frame *f = &st->fr[st->nfr - 1];
    s = jp_ws(s, e);
    if (s == e) {
      size_t line, col;
      jp_linecol(st, f->start, &line, &col);
      return jp_fail(st, s,
                     "unexpected end of input: %s opened at line %zu, column "
                     "%zu is not closed",
                     f->obj ? "object" : "array", line, col);
    }
    if (*s == ',') {
      s = jp_ws(s + 1, e);
      if (f->obj) {
        if (s < e && *s == '}') return jp_fail(st, s, "trailing comma before '}'");
        goto key;
      }
      if (s < e && *s == ']') return jp_fail(st, s, "trailing comma before ']'");
      if ((rc = jp_push_slot(st, &idx))) return rc;
      cur = idx;
      goto value;
    }
    if (*s == (f->obj ? '}' : ']')) {
      s++;
      goto close;
    }
    if (f->obj)
      return jp_fail(st, s, "expected ',' or '}' after object member, got %s",
                     jp_desc(st, s, buf));
    return jp_fail(st, s, "expected ',' or ']' after array item, got %s",
                   jp_desc(st, s, buf));
  }

key:
  /* s is past whitespace, after '{' or ','. */
  if (s == e || *s != '"')
    return jp_fail(st, s, "expected a string key in object, got %s",
                   jp_desc(st, s, buf));
  {
    if ((rc = jp_push_slot(st, &idx))) return rc;
    rk__jmember *m = &st->slot[idx];
    const uchar *k0 = s;
    if ((rc = jp_str(st, &s, &m->key))) return rc;
    m->raw_key.p = (const char *)k0;
    m->raw_key.n = (size_t)(s - k0);
    s = jp_ws(s, e);
    if (s == e || *s != ':')
      return jp_fail(st, s, "expected ':' after object key, got %s",
                     jp_desc(st, s, buf));
    s++;
    cur = idx;
    goto value;
  }

close:
  /* s is just past the closing bracket. */
  {
    jp_frame *f = &st->fr[st->nfr - 1];
    size_t base = f->owner + 1, k = st->nslot - base;
    rk__jval *v = &st->slot[f->owner].val;
    if (f->obj) {
      rk__jmember *items = NULL;
      if (k) {
        items = rk__arena_alloc(st->a, k * sizeof *items);
        if (!items) return -2;
        memcpy(items, &st->slot[base], k * sizeof *items);
      }
      v->type = RK__JOBJ;
      v->u.obj.items = items;
      v->u.obj.n = k;
    } else {
      rk__jval *items = NULL;
      if (k) {
        items = rk__arena_alloc(st->a, k * sizeof *items);
        if (!items) return -2;
        for (size_t i = 0; i < k; i++) items[i] = st->slot[base + i].val;
      }
      v->type = RK__JARR;
      v->u.arr.items = items;
      v->u.arr.n = k;
    }
    v->raw.p = (const char *)f->start;
    v->raw.n = (size_t)(s - f->start);
    st->nslot = base;
    st->nfr--;
    goto after;
  }
}

int rk__json_parse(const char *p, size_t n, rk__arena *a,
                   const rk__json_limits *lim, rk__jval **out,
                   rk__json_error *err) {
  rk__jmember slots[48];
  jp_frame frames[32];
  jp st;
  size_t max_depth = lim && lim->max_depth ? lim->max_depth : JP_DEFAULT_DEPTH;
  if (out) *out = NULL;
  if (err) {
    err->offset = 0;
    err->line = err->column = 0;
    err->msg[0] = '\0';
  }
  if (!p) p = "";
  st.b = (const uchar *)p;
  st.e = st.b + n;
  st.a = a;
  st.err = err;
  st.slot = slots;
  st.nslot = 0;
  st.capslot = sizeof slots / sizeof slots[0];
  st.fr = frames;
  st.nfr = 0;
  st.capfr = sizeof frames / sizeof frames[0];
  st.slot_heap = st.fr_heap = 0;
  st.py = lim && lim->py_constants;
  if (lim && lim->max_bytes && n > lim->max_bytes)
    return jp_fail(&st, st.b + lim->max_bytes,
                   "input is %zu bytes, more than the limit of %zu", n,
                   lim->max_bytes);
  rk__jval *root = NULL;
  int rc = jp_run(&st, max_depth, &root);
  if (st.slot_heap) free(st.slot);
  if (st.fr_heap) free(st.fr);
  if (rc == -2 && err) {
    err->offset = 0;
    err->line = err->column = 0;
    snprintf(err->msg, sizeof err->msg, "out of memory (arena limit %zu bytes)",
             a->limit);
  }
  if (rc == 0 && out) *out = root;
  return rc;
}

/* ------------------------------------------------------------ lookups */

const rk__jval *rk__json_getn(const rk__jval *obj, const char *key,
                              size_t klen) {
  if (!obj || obj->type != RK__JOBJ) return NULL;
  for (size_t i = obj->u.obj.n; i-- > 0;) {
    const rk__jmember *m = &obj->u.obj.items[i];
    if (m->key.n == klen && (klen == 0 || memcmp(m->key.p, key, klen) == 0))
      return &m->val;
  }
  return NULL;
}

const rk__jval *rk__json_path(const rk__jval *v, const char *path) {
  const char *p = path;
  while (v && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (v->type == RK__JOBJ) {
      v = rk__json_getn(v, p, n);
    } else if (v->type == RK__JARR) {
      size_t idx = 0;
      if (n == 0 || n > 9) return NULL;
      for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return NULL;
        idx = idx * 10 + (size_t)(p[i] - '0');
      }
      v = idx < v->u.arr.n ? &v->u.arr.items[idx] : NULL;
    } else {
      return NULL;
    }
    p += n;
    if (*p == '.') p++;
  }
  return v;
}

const rk__jval *rk__json_get(const rk__jval *obj, const char *key) {
  return rk__json_getn(obj, key, strlen(key));
}

const char *rk__json_type_name(rk__jtype t) {
  switch (t) {
  case RK__JNULL: return "null";
  case RK__JFALSE:
  case RK__JTRUE: return "boolean";
  case RK__JNUM: return "number";
  case RK__JSTR: return "string";
  case RK__JARR: return "array";
  case RK__JOBJ: return "object";
  }
  return "unknown";
}

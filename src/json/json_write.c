/*
 * json_write.c - JSON output helpers: escaped strings, shortest round-trip
 * numbers, compact re-serialisation of parsed values, and the two small
 * helpers of core.h built on them (rk__fmt_double, rk__ref_strings).
 *
 * Output is always valid JSON and valid UTF-8, whatever bytes come in.
 * Not a pretty-printer, and not locale-aware: printf and strtod are used
 * for doubles, so LC_NUMERIC must be "C" (the library never changes it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

typedef unsigned char uchar;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    !defined(RK_JSON_NO_SWAR)
#define JW_SWAR 1
#define JW_ONES 0x0101010101010101ULL
#define JW_HIGHS 0x8080808080808080ULL
/* Bytes that are '"', '\\', < 0x20 or >= 0x80; exact for the lowest one
 * (see jp_swar_special in json_parse.c). */
static inline uint64_t jw_swar_special(uint64_t w) {
  uint64_t q = w ^ (JW_ONES * '"');
  uint64_t b = w ^ (JW_ONES * '\\');
  uint64_t zq = (q - JW_ONES) & ~q;
  uint64_t zb = (b - JW_ONES) & ~b;
  uint64_t lt = (w - JW_ONES * 0x20) & ~w;
  return (zq | zb | lt | w) & JW_HIGHS;
}
#else
#define JW_SWAR 0
#endif


/* Bytes covered by one U+FFFD for the invalid sequence at s: its "maximal
 * subpart" (the longest prefix that could start a valid sequence), at
 * least one byte. This is the practice the Unicode standard recommends
 * (chapter 3, "U+FFFD Substitution of Maximal Subparts"), and what
 * browsers and Python's "replace" handler do. */
static size_t jw_bad_len(const uchar *s, const uchar *e) {
  uchar c = s[0];
  size_t need;
  uchar lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c < 0xE0) {
    need = 2;
  } else if (c >= 0xE0 && c < 0xF0) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c < 0xF5) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  size_t i = 1;
  if (s + 1 < e && s[1] >= lo && s[1] <= hi) {
    i = 2;
    while (i < need && s + i < e && (s[i] & 0xC0) == 0x80) i++;
  }
  return i;
}

int rk__json_put_str(rk__buf *b, const char *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (!p) {
    p = "";
    n = 0;
  }
  const uchar *s = (const uchar *)p, *e = s + n, *run = s;
  rk__buf_putc(b, '"');
  for (;;) {
#if JW_SWAR
    while (e - s >= 8) {
      uint64_t w;
      memcpy(&w, s, 8);
      uint64_t m = jw_swar_special(w);
      if (m) {
        s += (size_t)__builtin_ctzll(m) >> 3;
        goto special;
      }
      s += 8;
    }
#endif
    while (s < e && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') s++;
    if (s == e) break;
#if JW_SWAR
  special:;
#endif
    uchar c = *s;
    if (c >= 0x80) {
      size_t k = rk__utf8_seq(s, e);
      if (k) {
        s += k; /* valid: stays part of the run */
        continue;
      }
      rk__buf_put(b, run, (size_t)(s - run));
      rk__buf_put(b, "\xEF\xBF\xBD", 3);
      s += jw_bad_len(s, e);
      run = s;
      continue;
    }
    rk__buf_put(b, run, (size_t)(s - run));
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t k = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      k = 6;
      break;
    }
    rk__buf_put(b, esc, k);
    s++;
    run = s;
  }
  rk__buf_put(b, run, (size_t)(s - run));
  rk__buf_putc(b, '"');
  return b->oom ? -1 : 0;
}

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 jw_u128;

/* 10^k as a 128-bit integer, k <= 38. */
static jw_u128 jw_pow10(int k) {
  static const uint64_t p[20] = {1u,
                                 10u,
                                 100u,
                                 1000u,
                                 10000u,
                                 100000u,
                                 1000000u,
                                 10000000u,
                                 100000000u,
                                 1000000000u,
                                 10000000000u,
                                 100000000000u,
                                 1000000000000u,
                                 10000000000000u,
                                 100000000000000u,
                                 1000000000000000u,
                                 10000000000000000u,
                                 100000000000000000u,
                                 1000000000000000000u,
                                 10000000000000000000u};
  return k < 20 ? (jw_u128)p[k] : (jw_u128)p[19] * p[k - 19];
}

/* What the printf/strtod loop of rk__fmt_double prints for v with
 * 1e-4 <= |v| < 1e9, computed with exact integer arithmetic instead (that
 * loop costs about a microsecond: up to three printf and two strtod calls;
 * rewards such as IoU, F1 and advantages are rarely short decimals).
 * |v| = M * 2^E with M < 2^53 and -66 <= E <= -22 in this range. For p =
 * 15, 16, 17 significant digits, D = M * 10^s / 2^-E rounded half to even
 * (s = p - 1 - d, d the decimal exponent, 6 <= s <= 21) is what a
 * correctly rounding printf prints (glibc's does); D * 10^-s reads back as
 * v exactly when it lies inside v's rounding interval, which is checked
 * with the interval's bounds scaled by 2 * 10^s * 2^-E (or 4x for a power
 * of two, whose lower neighbour is twice as close). Every product stays
 * below 2^126. The text is %g's fixed notation: -4 <= d < p. */
static size_t fmt_exact(char *buf, double v) {
  double av = fabs(v);
  uint64_t bits;
  memcpy(&bits, &av, sizeof bits); /* a normal double in this range */
  uint64_t m = (bits & (((uint64_t)1 << 52) - 1)) | (uint64_t)1 << 52;
  int sh = 1075 - (int)(bits >> 52); /* av = m / 2^sh, 2^52 <= m < 2^53 */
  int d = 0; /* 10^d <= av < 10^(d+1) */
  static const double p10[] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4,
                               1e5,  1e6,  1e7,  1e8,  1e9};
  for (d = -4; d < 8 && av >= p10[d + 5]; d++) {
  }
  uint64_t digits = 0;
  int p = 15;
  for (; p <= 17; p++) {
    int sc = p - 1 - d;
    jw_u128 ten = jw_pow10(sc);
    jw_u128 num = (jw_u128)m * ten;
    jw_u128 q = num >> sh, rem = num - (q << sh), half = (jw_u128)1 << (sh - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    /* Inside v's rounding interval? Compare 2*q*2^sh with (2m +- 1)*10^sc
     * (4x and 4m - 1 below for a power of two). Ties read back to the
     * neighbour with the even significand: v's when m is even. */
    int pow2 = m == ((uint64_t)1 << 52);
    jw_u128 x = (jw_u128)q << (sh + (pow2 ? 2 : 1));
    jw_u128 lo = pow2 ? ((jw_u128)4 * m - 1) * ten : ((jw_u128)2 * m - 1) * ten;
    jw_u128 hi = pow2 ? ((jw_u128)4 * m + 2) * ten : ((jw_u128)2 * m + 1) * ten;
    int even = (m & 1) == 0;
    int in = (x > lo || (even && x == lo)) && (x < hi || (even && x == hi));
    digits = (uint64_t)q;
    if (in || p == 17) break;
  }
  /* Rounding up to 10^p moves the decimal exponent. */
  int dd = d;
  if (digits >= (uint64_t)jw_pow10(p)) {
    digits /= 10;
    dd++;
  }
  /* The p <= 17 digits as two independent halves of 8 and up to 9,
   * two at a time (a division by 10 per digit is one long dependent
   * chain). */
  static const char two[] = "00010203040506070809101112131415161718192021222324"
                            "25262728293031323334353637383940414243444546474849"
                            "50515253545556575859606162636465666768697071727374"
                            "75767778798081828384858687888990919293949596979899";
  char dig[20];
  uint64_t hi = digits / 100000000u;
  uint32_t lo = (uint32_t)(digits % 100000000u), h9 = (uint32_t)hi; /* hi < 10^9 */
  char *q = dig + p;
  for (int i = 0; i < 4; i++) {
    uint32_t r = lo % 100u, t = h9 % 100u;
    lo /= 100u, h9 /= 100u;
    q[-2 * i - 1] = two[2 * r + 1], q[-2 * i - 2] = two[2 * r];
    if (p - 8 - 2 * i - 1 >= 0) dig[p - 8 - 2 * i - 1] = two[2 * t + 1];
    if (p - 8 - 2 * i - 2 >= 0) dig[p - 8 - 2 * i - 2] = two[2 * t];
  }
  if (p - 17 >= 0) dig[0] = (char)('0' + h9); /* p == 17: the 9th digit of hi */
  /* The point after digit dd + 1 (dd < 0: "0." and zeros first),
   * trailing fractional zeros dropped, then the point if nothing follows. */
  size_t n = 0;
  if (v < 0) buf[n++] = '-';
  int intlen = dd >= 0 ? dd + 1 : 0;
  int last = p - 1; /* last digit kept: trailing zeros of the fraction go */
  while (last >= intlen && dig[last] == '0') last--;
  if (dd >= 0) {
    for (int i = 0; i < intlen; i++) buf[n++] = dig[i];
    if (last >= intlen) {
      buf[n++] = '.';
      for (int i = intlen; i <= last; i++) buf[n++] = dig[i];
    }
  } else {
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = 0; i < -dd - 1; i++) buf[n++] = '0';
    for (int i = 0; i <= last; i++) buf[n++] = dig[i];
  }
  buf[n] = '\0';
  return n;
}
#endif

size_t rk__fmt_u64(char *buf, uint64_t v) {
  char tmp[24];
  size_t k = 0, n = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k) buf[n++] = tmp[--k];
  buf[n] = '\0';
  return n;
}

size_t rk__fmt_double(char *buf, double v) {
  if (isnan(v) || isinf(v)) {
    memcpy(buf, "null", 5);
    return 4;
  }
  /* Integers below 2^53 are exact: print all their digits, no exponent,
   * no ".0" (so 1e15 is "1000000000000000", -0.0 is "-0"). */
  if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
    int64_t i = (int64_t)v;
    size_t n = 0;
    if (signbit(v)) buf[n++] = '-';
    return n + rk__fmt_u64(buf + n, i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i);
  }
  /* Fast path for short decimals (rewards like 0.9, -0.25, 0.125): the
   * smallest k <= KMAX with v == m / 10^k and m < 10^15. Both m and 10^k
   * are exact doubles, so the division is correctly rounded and equals
   * what strtod reads back from the text. Within [1e-4, 1e9) and with at
   * most 15 significant digits this is also exactly what %.15g prints.
   * Longer decimals (IoU, F1, advantages: nearly all other rewards) go
   * straight to fmt_exact, which prints the same text for these too: a
   * division per k tried cost more than fmt_exact itself. */
  double av = fabs(v);
  if (av >= 1e-4 && av < 1e9) {
    static const double p10[] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15};
#if defined(__SIZEOF_INT128__)
    enum { KMAX = 3 };
#else
    enum { KMAX = 15 };
#endif
    for (int k = 1; k <= KMAX; k++) {
      double m = nearbyint(av * p10[k]);
      if (m >= 1e15) break;
      if (m / p10[k] != av) continue;
      uint64_t u = (uint64_t)m;
      char tmp[24];
      size_t t = 0, n = 0;
      for (int d = 0; d < k; d++) {
        tmp[t++] = (char)('0' + u % 10);
        u /= 10;
      }
      tmp[t++] = '.';
      do {
        tmp[t++] = (char)('0' + u % 10);
        u /= 10;
      } while (u);
      if (v < 0) buf[n++] = '-';
      while (t) buf[n++] = tmp[--t];
      buf[n] = '\0';
      return n;
    }
  }
#if defined(__SIZEOF_INT128__)
  if (av >= 1e-4 && av < 1e9) return fmt_exact(buf, v);
#endif
  /* Fewest of 15, 16, 17 significant digits that read back exactly; 17
   * always does (IEEE 754 binary64). */
  int k = 0;
  for (int prec = 15; prec <= 17; prec++) {
    k = snprintf(buf, 32, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v) break;
  }
  return (size_t)k;
}

int rk__json_put_num(rk__buf *b, double v) {
  char tmp[32];
  size_t n = rk__fmt_double(tmp, v);
  return rk__buf_put(b, tmp, n);
}

/* A scalar, or the opening bracket of a container. */
static void jw_open(rk__buf *b, const rk__jval *v) {
  switch (v->type) {
  case RK__JNULL: rk__buf_put(b, "null", 4); break;
  case RK__JFALSE: rk__buf_put(b, "false", 5); break;
  case RK__JTRUE: rk__buf_put(b, "true", 4); break;
  case RK__JNUM:
    /* The source text keeps integers beyond 2^53 exact; it never holds
     * whitespace. Values built by hand (no raw) are formatted. */
    if (v->raw.n)
      rk__buf_put(b, v->raw.p, v->raw.n);
    else
      rk__json_put_num(b, v->u.num);
    break;
  case RK__JSTR: rk__json_put_str(b, v->u.str.p, v->u.str.n); break;
  case RK__JARR: rk__buf_putc(b, '['); break;
  case RK__JOBJ: rk__buf_putc(b, '{'); break;
  }
}

typedef struct jw_frame {
  const rk__jval *v;
  size_t i; /* next item */
} jw_frame;

/* Iterative, so that a deep tree cannot overflow the C stack. */
int rk__json_put_val(rk__buf *b, const rk__jval *v) {
  jw_frame inl[32], *stk = inl;
  size_t n = 0, cap = sizeof inl / sizeof inl[0];
  int rc = 0;
  jw_open(b, v);
  if (v->type == RK__JARR || v->type == RK__JOBJ) stk[n++] = (jw_frame){v, 0};
  while (n && !b->oom) {
    jw_frame *f = &stk[n - 1];
    const rk__jval *c = f->v, *child;
    int obj = c->type == RK__JOBJ;
    size_t count = obj ? c->u.obj.n : c->u.arr.n;
    if (f->i == count) {
      rk__buf_putc(b, obj ? '}' : ']');
      n--;
      continue;
    }
    if (f->i) rk__buf_putc(b, ',');
    if (obj) {
      const rk__jmember *m = &c->u.obj.items[f->i];
      rk__json_put_str(b, m->key.p, m->key.n);
      rk__buf_putc(b, ':');
      child = &m->val;
    } else {
      child = &c->u.arr.items[f->i];
    }
    f->i++;
    jw_open(b, child);
    if (child->type == RK__JARR || child->type == RK__JOBJ) {
      if (n == cap) {
        jw_frame *p = malloc(2 * cap * sizeof *p);
        if (!p) {
          rc = -1;
          break;
        }
        memcpy(p, stk, n * sizeof *p);
        if (stk != inl) free(stk);
        stk = p;
        cap *= 2;
      }
      stk[n++] = (jw_frame){child, 0};
    }
  }
  if (stk != inl) free(stk);
  return rc || b->oom ? -1 : 0;
}

/* One reference item: a string, a number's source text, or an object's
 * string "answer" member. */
static int ref_item(const rk__jval *v, rk__str *out) {
  if (v->type == RK__JSTR) {
    *out = v->u.str;
    return 1;
  }
  if (v->type == RK__JNUM) {
    *out = v->raw;
    return 1;
  }
  if (v->type == RK__JOBJ) {
    const rk__jval *a = rk__json_get(v, "answer");
    if (a && a->type == RK__JSTR) {
      *out = a->u.str;
      return 1;
    }
  }
  return 0;
}

size_t rk__ref_strings(const rk__jval *ref, rk__str *out, size_t max) {
  if (!ref || max < 1) return 0;
  if (ref->type != RK__JARR) return (size_t)ref_item(ref, &out[0]);
  size_t k = 0;
  for (size_t i = 0; i < ref->u.arr.n && k < max; i++)
    k += (size_t)ref_item(&ref->u.arr.items[i], &out[k]);
  return k;
}

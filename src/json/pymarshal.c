/*
 * pymarshal.c - records handed over as Python marshal data, rewritten as
 * the JSON text that Python's json module gives for the same object.
 *
 * Why: the Python binding turns dicts into bytes for the library. JSON
 * escaping in Python costs about a microsecond per 300 characters, while
 * marshal.dumps copies strings as they are; so the binding sends
 * marshal.dumps(record, 4) and the library's threads do the escaping here.
 *
 * The output is byte for byte json.dumps(obj, separators=(",", ":"))
 * (ensure_ascii, allow_nan: the defaults): \uXXXX escapes in lower case
 * for everything outside printable ASCII, surrogate pairs above U+FFFF,
 * floats as repr() gives them, NaN and Infinity as json writes them (the
 * JSON reader then refuses them exactly as it refuses them from a file).
 * Tests compare the two over random objects (python/tests).
 *
 * Accepted (marshal format version 4): dict, list, tuple, str, int (up to
 * 4300 digits, Python's own limit for int to text), float, True, False,
 * None, and back-references (marshal writes an object met twice once and
 * refers to it after). Refused with a message: what JSON cannot hold
 * (bytes, set, complex, code, Ellipsis, ...), dict keys json refuses,
 * structures that contain themselves, nesting deeper than 512, and
 * truncated or malformed data. Work is bounded by the output's maximum
 * size: every value read writes at least one byte.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "rewardkit.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define FLAG_REF 0x80
#define MAX_DEPTH 512
#define MAX_DECIMAL 4300     /* sys.int_info.default_max_str_digits */
/* 15-bit digits of an int that can still have at most 4300 decimal ones:
 * 2^(15 * 953) has 4304 (the exact count is checked after conversion). */
#define MAX_LONG_DIGITS 954
/* Converting an int to decimal is quadratic in its size (which is why
 * Python limits it): 15-bit digits converted per record, references
 * included, at most this many (a few milliseconds at worst). */
#define MAX_LONG_WORK 4096
#define INLINE_REFS 64

typedef struct pym {
  const unsigned char *base, *e;
  rk__buf *o;
  size_t *refs;          /* offset of each flagged object, in order */
  unsigned char *busy;   /* 1 while that object is being written */
  size_t nref, cap;
  size_t inl_refs[INLINE_REFS];
  unsigned char inl_busy[INLINE_REFS];
  int replay;            /* > 0: re-reading a referenced object */
  int take;              /* keep the top-level "response" str apart */
  rk__str *resp;
  int *have_resp;
  rk__str field;         /* top-level key being read, for messages */
  size_t long_work;      /* 15-bit int digits converted so far */
  char *msg;
  size_t msgcap;
} pym;

enum { AS_VALUE, AS_KEY };

static int refuse(pym *m, const char *fmt, ...) RK__PRINTF(2, 3);
static int refuse(pym *m, const char *fmt, ...) {
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (m->msgcap) {
    if (m->field.p) {
      /* The key as printable ASCII ('?' for anything else): the message
       * must be valid text whatever the key holds. */
      char key[41];
      size_t k = m->field.n > 40 ? 40 : m->field.n;
      for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)m->field.p[i];
        key[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
      }
      key[k] = '\0';
      snprintf(m->msg, m->msgcap, "field \"%s\": %s", key, what);
    } else
      snprintf(m->msg, m->msgcap, "%s", what);
  }
  return -1;
}

static int32_t rd_i32(const unsigned char *p) {
  uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return (int32_t)u;
}

static int truncated(pym *m) { return refuse(m, "the marshal data is truncated"); }

/* Registers the flagged object starting at p (pre-order, as marshal
 * numbers them). Returns its index, or -1 when out of memory. */
static long add_ref(pym *m, const unsigned char *p) {
  if (m->nref == m->cap) {
    size_t cap = m->cap * 2;
    size_t *r = malloc(cap * sizeof *r);
    unsigned char *b = malloc(cap);
    if (!r || !b) {
      free(r);
      free(b);
      return -1;
    }
    memcpy(r, m->refs, m->nref * sizeof *r);
    memcpy(b, m->busy, m->nref);
    if (m->refs != m->inl_refs) {
      free(m->refs);
      free(m->busy);
    }
    m->refs = r;
    m->busy = b;
    m->cap = cap;
  }
  m->refs[m->nref] = (size_t)(p - m->base);
  m->busy[m->nref] = 0;
  return (long)m->nref++;
}

/* ------------------------------------------------------------- strings */

/* Bytes written as they are inside a JSON string by Python's ensure_ascii
 * encoder: printable ASCII except '"' and '\\' (DEL is escaped). */
static int plain(unsigned char c) { return c >= 0x20 && c <= 0x7E && c != '"' && c != '\\'; }

/* 0 when one of the 8 bytes of v may not be plain (a test without
 * false negatives: hasless / haszero bit tricks). */
static int plain8(uint64_t v) {
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
  uint64_t bad = ((v - ones * 0x20) & ~v)  /* a byte below 0x20 */
                 | ((q - ones) & ~q)       /* '"' */
                 | ((b - ones) & ~b)       /* '\\' */
                 | v | (v + ones);         /* 0x7F and above */
  return (bad & high) == 0;
}

/* Writers at w, in room reserved beforehand; they return the end. */
static unsigned char *w_u4(unsigned char *w, unsigned cp) {
  static const char hex[] = "0123456789abcdef";
  w[0] = '\\', w[1] = 'u', w[2] = (unsigned char)hex[cp >> 12 & 15];
  w[3] = (unsigned char)hex[cp >> 8 & 15], w[4] = (unsigned char)hex[cp >> 4 & 15];
  w[5] = (unsigned char)hex[cp & 15];
  return w + 6;
}

/* A code point that is not plain, as json escapes it (ensure_ascii). */
static unsigned char *w_escaped(unsigned char *w, uint32_t c) {
  char e = c == '"' ? '"' : c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\r' ? 'r'
         : c == '\t' ? 't' : c == '\b' ? 'b' : c == '\f' ? 'f' : 0;
  if (e) {
    w[0] = '\\', w[1] = (unsigned char)e;
    return w + 2;
  }
  if (c < 0x10000) return w_u4(w, c); /* lone surrogates too, as json writes them */
  c -= 0x10000;
  return w_u4(w_u4(w, 0xD800 | c >> 10), 0xDC00 | (c & 0x3FF));
}

/* Strings are written a segment at a time, in room reserved for the worst
 * case of the segment (12 bytes a code unit, 6 a UTF-8 byte), so that the
 * writers need no checks; SEG bounds what one reservation asks for. */
#define SEG 4096

/* The code point of the UTF-8 sequence at s (lead byte >= 0x80), as
 * marshal writes it: encoded surrogates (ED A0..BF) are allowed, since
 * Python encodes with surrogatepass. Returns its length, 0 if invalid. */
static size_t utf8_cp(const unsigned char *s, const unsigned char *e, unsigned *cp) {
  unsigned c = s[0];
  size_t avail = (size_t)(e - s);
  if (c >= 0xC2 && c < 0xE0) {
    if (avail < 2 || (s[1] & 0xC0) != 0x80) return 0;
    *cp = (c & 0x1F) << 6 | (s[1] & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c < 0xF0) {
    if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;
    *cp = (c & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    return 3;
  }
  if (c >= 0xF0 && c < 0xF5) {
    if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
      return 0;
    if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F)) return 0;
    *cp = (c & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 | (unsigned)(s[2] & 0x3F) << 6 |
          (s[3] & 0x3F);
    return 4;
  }
  return 0;
}

void rk__json_put_pyunits(rk__buf *o, const char *p, size_t n, unsigned kind) {
  const unsigned char *s = (const unsigned char *)p;
  rk__buf_putc(o, '"');
  for (size_t i = 0; i < n;) {
    size_t end = n - i > SEG ? i + SEG : n;
    if (rk__buf_reserve(o, 12 * (end - i) + 1)) return; /* o->oom is set */
    unsigned char *w = (unsigned char *)o->p + o->n;
    while (i < end) {
      uint32_t c = rk__py_unit(s, i++, kind);
      if (c < 0x80 && plain((unsigned char)c))
        *w++ = (unsigned char)c;
      else
        w = w_escaped(w, c);
    }
    o->n = (size_t)((char *)w - o->p);
  }
  rk__buf_putc(o, '"');
}

size_t rk__json_put_pystr(rk__buf *o, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str, *e = s + n;
  rk__buf_putc(o, '"');
  while (s < e) {
    const unsigned char *seg = e - s > SEG ? s + SEG : e;
    /* 6 a byte, and 12 for a sequence that starts in the segment and
     * ends after it */
    if (rk__buf_reserve(o, 6 * (size_t)(seg - s) + 12)) return n; /* o->oom is set */
    unsigned char *w = (unsigned char *)o->p + o->n;
    while (s < seg) {
      const unsigned char *run = s;
#ifdef __SSE2__
      for (; seg - s >= 16; s += 16) { /* signed: bytes >= 0x80 are below 0x20 */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F))),
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
        unsigned mask = (unsigned)_mm_movemask_epi8(bad);
        if (mask) {
          s += __builtin_ctz(mask);
          break;
        }
      }
#endif
      for (uint64_t v; seg - s >= 8 && (memcpy(&v, s, 8), plain8(v));) s += 8;
      while (s < seg && plain(*s)) s++;
      memcpy(w, run, (size_t)(s - run));
      w += s - run;
      if (s == seg) break;
      if (*s < 0x80) {
        w = w_escaped(w, *s++);
        continue;
      }
      unsigned cp;
      size_t k = utf8_cp(s, e, &cp); /* may end past the segment: room for 12 is there */
      if (!k) {
        o->n = (size_t)((char *)w - o->p);
        o->p[o->n] = '\0';
        return (size_t)(s - (const unsigned char *)str);
      }
      w = w_escaped(w, cp);
      s += k;
    }
    o->n = (size_t)((char *)w - o->p);
  }
  rk__buf_putc(o, '"');
  return n;
}

static int put_str(pym *m, const unsigned char *s, size_t n) {
  size_t bad = rk__json_put_pystr(m->o, (const char *)s, n);
  if (bad < n) return refuse(m, "a string is not valid UTF-8 (byte 0x%02X)", s[bad]);
  return 0;
}

/* Whether a type code (flag cleared) is one of marshal's str forms. */
static int is_str(unsigned t) {
  return t == 'u' || t == 't' || t == 'a' || t == 'A' || t == 'z' || t == 'Z';
}

/* The text of the str at q, registered when it was read (so its header
 * and length were checked then). */
static rk__str str_text(const unsigned char *q) {
  unsigned t = *q & ~FLAG_REF;
  size_t h = t == 'z' || t == 'Z' ? 2 : 5;
  return rk__str_make((const char *)q + h, h == 2 ? q[1] : (size_t)rd_i32(q + 1));
}

/* If the object at *pp is a str, or a reference to one: its bytes in *s,
 * *pp past it, the str registered if flagged; returns 1. Otherwise 0 and
 * nothing read. -1 when refused (truncated, out of memory). */
static int take_str(pym *m, const unsigned char **pp, rk__str *s) {
  const unsigned char *p = *pp;
  if (p >= m->e) return truncated(m);
  unsigned code = *p, t = code & ~FLAG_REF;
  size_t n, hdr;
  int ascii;
  switch (t) {
    case 'u':
    case 't':
    case 'a':
    case 'A':
      if (m->e - p < 5) return truncated(m);
      if (rd_i32(p + 1) < 0) return refuse(m, "a string has a negative length");
      n = (size_t)rd_i32(p + 1);
      hdr = 5;
      ascii = t == 'a' || t == 'A';
      break;
    case 'z':
    case 'Z':
      if (m->e - p < 2) return truncated(m);
      n = p[1];
      hdr = 2;
      ascii = 1;
      break;
    case 'r': {
      if (code & FLAG_REF) return refuse(m, "malformed marshal data (a flagged reference)");
      if (m->e - p < 5) return truncated(m);
      int32_t i = rd_i32(p + 1);
      if (i < 0 || (size_t)i >= m->nref) return refuse(m, "malformed marshal data (reference %ld)", (long)i);
      const unsigned char *q = m->base + m->refs[i];
      if (!is_str(*q & ~FLAG_REF)) return 0;
      *s = str_text(q);
      *pp = p + 5;
      return 1;
    }
    default:
      return 0;
  }
  if ((size_t)(m->e - p) - hdr < n) return truncated(m);
  const unsigned char *d = p + hdr;
  if (ascii && rk__ascii_span((const char *)d, n) != n)
    return refuse(m, "malformed marshal data (non-ASCII in an ASCII string)");
  if ((code & FLAG_REF) && !m->replay && add_ref(m, p) < 0)
    return refuse(m, "out of memory");
  *s = rk__str_make((const char *)d, n);
  *pp = d + n;
  return 1;
}

/* --------------------------------------------------------------- numbers */

/* repr(v) for a finite float; json writes NaN, Infinity, -Infinity. */
size_t rk__py_float_repr(char *buf, double v) {
  if (isnan(v)) return (size_t)sprintf(buf, "NaN");
  if (isinf(v)) return (size_t)sprintf(buf, v < 0 ? "-Infinity" : "Infinity");
  if (v == 0) return (size_t)sprintf(buf, signbit(v) ? "-0.0" : "0.0");
  /* repr's digits: the fewest that read back as v, and of those the
   * nearest to v. For each precision p the nearest p digits are what
   * printf rounds to; when they miss, a neighbour can still hit at a
   * power of two, whose rounding interval is wider above than below
   * (only near 16-17 digits, where the interval is as wide as a digit). */
  double av = fabs(v);
  char t[48];
  uint64_t mant = 0;
  int e10 = 0; /* av reads back from mant * 10^e10 */
  for (int p = 1; p <= 17; p++) {
    snprintf(t, sizeof t, "%.*e", p - 1, av);
    mant = 0;
    const char *s = t;
    for (; *s != 'e'; s++) /* digits; the point is whatever LC_NUMERIC says */
      if (*s >= '0' && *s <= '9') mant = mant * 10 + (uint64_t)(*s - '0');
    e10 = atoi(s + 1) - (p - 1);
    if (strtod(t, NULL) == av) break;
    if (p >= 15) {
      int hit = 0;
      for (int d = -1; d <= 1 && !hit; d += 2) {
        snprintf(t, sizeof t, "%llue%d", (unsigned long long)(mant + (uint64_t)(int64_t)d), e10);
        if (strtod(t, NULL) == av) {
          mant += (uint64_t)(int64_t)d;
          hit = 1;
        }
      }
      if (hit) break;
    }
  }
  char dig[24];
  size_t nd = (size_t)sprintf(dig, "%llu", (unsigned long long)mant);
  while (nd > 1 && dig[nd - 1] == '0') {
    nd--;
    e10++;
  }
  int decpt = (int)nd + e10; /* digits before the point */
  int exp = decpt - 1;
  size_t n = 0;
  if (v < 0) buf[n++] = '-';
  if (decpt <= -4 || decpt > 16) {
    buf[n++] = dig[0];
    if (nd > 1) {
      buf[n++] = '.';
      memcpy(buf + n, dig + 1, nd - 1);
      n += nd - 1;
    }
    n += (size_t)sprintf(buf + n, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  } else if (decpt <= 0) {
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = 0; i < -decpt; i++) buf[n++] = '0';
    memcpy(buf + n, dig, nd);
    n += nd;
  } else if ((size_t)decpt >= nd) {
    memcpy(buf + n, dig, nd);
    n += nd;
    for (size_t i = nd; i < (size_t)decpt; i++) buf[n++] = '0';
    buf[n++] = '.';
    buf[n++] = '0';
  } else {
    memcpy(buf + n, dig, (size_t)decpt);
    n += (size_t)decpt;
    buf[n++] = '.';
    memcpy(buf + n, dig + decpt, nd - (size_t)decpt);
    n += nd - (size_t)decpt;
  }
  buf[n] = '\0';
  return n;
}

/* A marshal long (|nd| 15-bit digits, least significant first) in
 * decimal, quoted when it is a dict key. */
static int put_long(pym *m, const unsigned char *d, size_t nd, int neg, int quote) {
  uint16_t w[MAX_LONG_DIGITS];
  for (size_t i = 0; i < nd; i++) {
    w[i] = (uint16_t)(d[2 * i] | d[2 * i + 1] << 8);
    if (w[i] >= 1u << 15) return refuse(m, "malformed marshal data (digit out of range in an int)");
  }
  /* Repeated division by 10^4: groups of four decimal digits, least
   * significant first. */
  char dec[MAX_LONG_DIGITS * 5 + 8];
  size_t k = 0, top = nd;
  while (top && !w[top - 1]) top--;
  while (top) {
    uint32_t rem = 0;
    for (size_t i = top; i-- > 0;) {
      uint32_t cur = rem << 15 | w[i];
      w[i] = (uint16_t)(cur / 10000);
      rem = cur % 10000;
    }
    while (top && !w[top - 1]) top--;
    for (int j = 0; j < 4; j++) {
      dec[k++] = (char)('0' + rem % 10);
      rem /= 10;
    }
  }
  while (k > 1 && dec[k - 1] == '0') k--;
  if (!k) dec[k++] = '0';
  if (k > MAX_DECIMAL)
    return refuse(m, "an int has more than %d digits (Python's own limit for int to text)",
                  MAX_DECIMAL);
  rk__buf *o = m->o;
  if (quote) rk__buf_putc(o, '"');
  if (neg && !(k == 1 && dec[0] == '0')) rk__buf_putc(o, '-');
  while (k) rk__buf_putc(o, dec[--k]);
  if (quote) rk__buf_putc(o, '"');
  return 0;
}

/* ---------------------------------------------------------------- values */

static const char *python_type(unsigned t) {
  switch (t) {
    case 's': return "bytes object";
    case '<': return "set";
    case '>': return "frozenset";
    case 'y':
    case 'x': return "complex number";
    case 'c': return "code object";
    case '.': return "Ellipsis";
    case 'S': return "StopIteration";
    case ':': return "slice";
    default: return NULL;
  }
}

static int value(pym *m, const unsigned char **pp, int depth, int as);

/* Whether a str holds surrogates (ED A0..BF: Python's surrogatepass).
 * Such a response stays in the JSON text, where json wrote it as \uD8xx
 * escapes: the reader joins a pair and refuses a lone one, exactly as for
 * the record's JSON text, where the bytes apart would just be invalid. */
static int has_surrogate(rk__str s) {
  const char *p = s.p, *e = s.p + s.n;
  while ((p = memchr(p, 0xED, (size_t)(e - p))) != NULL) {
    if (e - p >= 2 && (unsigned char)p[1] >= 0xA0) return 1;
    p++;
  }
  return 0;
}

/* Reads a dict's members up to its TYPE_NULL. */
static int dict_members(pym *m, const unsigned char **pp, int depth) {
  rk__buf *o = m->o;
  const unsigned char *p = *pp;
  int first = 1, top = depth == 0;
  rk__buf_putc(o, '{');
  for (;;) {
    if (p >= m->e) return truncated(m);
    if (*p == '0') {
      p++;
      break;
    }
    rk__str k;
    const unsigned char *kp = p;
    int r = take_str(m, &p, &k);
    if (r < 0) return -1;
    if (top) m->field = r ? k : rk__str_make(NULL, 0);
    rk__str s = {0};
    int v = 0;
    if (r && top && m->take && k.n == 8 && memcmp(k.p, "response", 8) == 0) {
      if ((v = take_str(m, &p, &s)) < 0) return -1;
      if (v && !has_surrogate(s)) {
        *m->resp = s;
        *m->have_resp = 1;
        continue;
      }
    }
    if (!first) rk__buf_putc(o, ',');
    first = 0;
    if (r) {
      if (put_str(m, (const unsigned char *)k.p, k.n)) return -1;
    } else {
      p = kp;
      if (value(m, &p, depth + 1, AS_KEY)) return -1;
    }
    rk__buf_putc(o, ':');
    if (v ? put_str(m, (const unsigned char *)s.p, s.n) : value(m, &p, depth + 1, AS_VALUE))
      return -1;
  }
  if (top) m->field = rk__str_make(NULL, 0);
  rk__buf_putc(o, '}');
  *pp = p;
  return 0;
}

static int value(pym *m, const unsigned char **pp, int depth, int as) {
  const unsigned char *p = *pp;
  rk__buf *o = m->o;
  if (o->oom) return -2;
  if (depth > MAX_DEPTH) return refuse(m, "the record is nested more than %d deep", MAX_DEPTH);
  if (p >= m->e) return truncated(m);
  unsigned code = *p, t = code & ~FLAG_REF;
  long idx = -1;
  /* Flagged objects are numbered as they start (a str by take_str). */
  if ((code & FLAG_REF) && !m->replay && t != 'r' && !is_str(t) && (idx = add_ref(m, p)) < 0)
    return refuse(m, "out of memory");
  char num[64];
  switch (t) {
    case 'N':
    case 'T':
    case 'F': {
      const char *w = t == 'N' ? "null" : t == 'T' ? "true" : "false";
      if (as == AS_KEY) rk__buf_putc(o, '"');
      rk__buf_puts(o, w);
      if (as == AS_KEY) rk__buf_putc(o, '"');
      *pp = p + 1;
      return 0;
    }
    case 'i': {
      if (m->e - p < 5) return truncated(m);
      long long v = rd_i32(p + 1);
      rk__buf_printf(o, as == AS_KEY ? "\"%lld\"" : "%lld", v);
      *pp = p + 5;
      return 0;
    }
    case 'l': {
      if (m->e - p < 5) return truncated(m);
      int32_t n = rd_i32(p + 1);
      size_t nd = n < 0 ? (size_t)(-(int64_t)n) : (size_t)n;
      if (nd > MAX_LONG_DIGITS)
        return refuse(m, "an int has more than %d digits (Python's own limit for int to text)",
                      MAX_DECIMAL);
      if ((m->long_work += nd) > MAX_LONG_WORK)
        return refuse(m, "the record's ints are too large in all (over %d decimal digits to "
                      "convert)", MAX_LONG_WORK * 9 / 2);
      if ((size_t)(m->e - p - 5) < 2 * nd) return truncated(m);
      if (put_long(m, p + 5, nd, n < 0, as == AS_KEY)) return -1;
      *pp = p + 5 + 2 * nd;
      return 0;
    }
    case 'g': {
      if (m->e - p < 9) return truncated(m);
      uint64_t u = 0;
      for (int i = 8; i >= 1; i--) u = u << 8 | p[i];
      double v;
      memcpy(&v, &u, sizeof v);
      size_t k = rk__py_float_repr(num, v);
      if (as == AS_KEY) rk__buf_putc(o, '"');
      rk__buf_put(o, num, k);
      if (as == AS_KEY) rk__buf_putc(o, '"');
      *pp = p + 9;
      return 0;
    }
    case 'u':
    case 't':
    case 'a':
    case 'A':
    case 'z':
    case 'Z': {
      rk__str s;
      if (take_str(m, &p, &s) < 0) return -1;
      if (put_str(m, (const unsigned char *)s.p, s.n)) return -1;
      *pp = p;
      return 0;
    }
    case 'r': {
      if (code & FLAG_REF) return refuse(m, "malformed marshal data (a flagged reference)");
      if (m->e - p < 5) return truncated(m);
      int32_t i = rd_i32(p + 1);
      if (i < 0 || (size_t)i >= m->nref)
        return refuse(m, "malformed marshal data (reference %ld)", (long)i);
      if (m->busy[i]) return refuse(m, "the record contains itself (a recursive structure)");
      const unsigned char *q = m->base + m->refs[i];
      m->busy[i] = 1;
      m->replay++;
      int rc = value(m, &q, depth + 1, as);
      m->replay--;
      m->busy[i] = 0;
      if (rc) return rc;
      *pp = p + 5;
      return 0;
    }
    case '[':
    case '(':
    case ')': {
      size_t n, hdr = t == ')' ? 2 : 5;
      if ((size_t)(m->e - p) < hdr) return truncated(m);
      if (as == AS_KEY) return refuse(m, "a dict key is a %s: JSON keys are strings", t == '[' ? "list" : "tuple");
      if (t == ')') {
        n = p[1];
      } else {
        int32_t c = rd_i32(p + 1);
        if (c < 0) return refuse(m, "malformed marshal data (negative size)");
        n = (size_t)c;
      }
      p += hdr;
      if (idx >= 0) m->busy[idx] = 1;
      rk__buf_putc(o, '[');
      for (size_t i = 0; i < n; i++) {
        if (i) rk__buf_putc(o, ',');
        int rc = value(m, &p, depth + 1, AS_VALUE);
        if (rc) return rc;
      }
      rk__buf_putc(o, ']');
      if (idx >= 0) m->busy[idx] = 0;
      *pp = p;
      return 0;
    }
    case '{': {
      if (as == AS_KEY) return refuse(m, "a dict key is a dict: JSON keys are strings");
      p++;
      if (idx >= 0) m->busy[idx] = 1;
      if (dict_members(m, &p, depth)) return o->oom ? -2 : -1;
      if (idx >= 0) m->busy[idx] = 0;
      *pp = p;
      return 0;
    }
    default: {
      const char *name = python_type(t);
      if (name) {
        if (as == AS_KEY)
          return refuse(m, "a dict key is a Python %s: JSON keys are str, int, float, bool or None", name);
        return refuse(m, "a Python %s has no JSON form (give dicts, lists, str, int, float, "
                      "bool or None)", name);
      }
      return refuse(m, "malformed marshal data (type code 0x%02X)", code);
    }
  }
}

int rk__pym_json(const char *p, size_t n, rk__buf *out, int take_response, rk__str *resp,
                 int *have_resp, char *msg, size_t msgcap) {
  pym m = {.base = (const unsigned char *)p, .e = (const unsigned char *)p + n, .o = out,
           .cap = INLINE_REFS, .take = take_response, .resp = resp, .have_resp = have_resp,
           .msg = msg, .msgcap = msgcap};
  rk__str dummy;
  int dummy_have;
  if (!resp) m.resp = &dummy;
  if (!have_resp) m.have_resp = &dummy_have;
  *m.have_resp = 0;
  m.refs = m.inl_refs;
  m.busy = m.inl_busy;
  if (msgcap) msg[0] = '\0';
  const unsigned char *q = m.base;
  int rc = value(&m, &q, 0, AS_VALUE);
  if (rc == 0 && q != m.e) rc = refuse(&m, "malformed marshal data (%zu bytes after the object)",
                                       (size_t)(m.e - q));
  if (out->oom) {
    rc = -2;
    if (msgcap) snprintf(msg, msgcap, "the record is too large as JSON (or out of memory)");
  }
  if (m.refs != m.inl_refs) {
    free(m.refs);
    free(m.busy);
  }
  return rc;
}

rk_err rk_pymarshal_to_json(const char *data, size_t len, char **out, size_t *outlen, char *err,
                            size_t errcap) {
  if (out) *out = NULL;
  if (outlen) *outlen = 0;
  if (errcap) err[0] = '\0';
  if ((!data && len) || !out) return RK_EINVAL;
  rk__buf b;
  rk__buf_init(&b, 0);
  int rc = rk__pym_json(data ? data : "", len, &b, 0, NULL, NULL, err, errcap);
  if (rc) {
    rk__buf_release(&b);
    return rc == -2 ? RK_ENOMEM : RK_EINVAL;
  }
  size_t n;
  *out = rk__buf_take(&b, &n);
  if (!*out) return RK_ENOMEM;
  if (outlen) *outlen = n;
  return RK_OK;
}

/* ------------------------------------------------------------- writing */

unsigned char *rk__pym_str(unsigned char *w, long *ref, long *nref, const char *s, size_t n) {
  if (*ref >= 0) {
    uint32_t r = (uint32_t)*ref;
    w[0] = 'r';
    w[1] = (unsigned char)r, w[2] = (unsigned char)(r >> 8);
    w[3] = (unsigned char)(r >> 16), w[4] = (unsigned char)(r >> 24);
    return w + 5;
  }
  *ref = (*nref)++;
  /* Interned: keys then are the very objects of the caller's literals. */
  if (n < 256 && rk__ascii_span(s, n) == n) {
    *w++ = 'Z' | FLAG_REF;
    *w++ = (unsigned char)n;
  } else {
    w[0] = 't' | FLAG_REF;
    w[1] = (unsigned char)n, w[2] = (unsigned char)(n >> 8);
    w[3] = (unsigned char)(n >> 16), w[4] = (unsigned char)(n >> 24);
    w += 5;
  }
  memcpy(w, s, n);
  return w + n;
}

unsigned char *rk__pym_num(unsigned char *w, double v) {
  if (isnan(v)) {
    *w = 'N';
    return w + 1;
  }
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  *w++ = 'g';
  for (int i = 0; i < 8; i++) w[i] = (unsigned char)(u >> (8 * i));
  return w + 8;
}

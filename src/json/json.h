/*
 * json.h - rewardkit's own strict JSON reader and the JSON writing helpers.
 *
 * Why not jansson for records: the record pipeline must run at hundreds of
 * MB/s (docs/benchmarks.md); jansson parses at ~75 MB/s. This reader builds
 * a read-only tree in an arena, points into the input where it can (strings
 * without escapes, raw text of every value), and is fuzzed differentially
 * against jansson (fuzz/fuzz_json.c). Strictness matches jansson's defaults
 * (RFC 8259; no NUL escapes; invalid UTF-8, lone surrogates, trailing
 * garbage rejected) except where docs/json.md lists a difference.
 *
 * Ownership: the tree and every string in it live in the arena given to
 * rk__json_parse and borrow the input bytes; keep both alive while using it.
 */
#ifndef RK_JSON_H
#define RK_JSON_H

#include <string.h>

#include "core/core.h"

typedef enum rk__jtype {
  RK__JNULL,
  RK__JFALSE,
  RK__JTRUE,
  RK__JNUM,
  RK__JSTR,
  RK__JARR,
  RK__JOBJ
} rk__jtype;

typedef struct rk__jmember rk__jmember;

struct rk__jval {
  rk__jtype type;
  rk__str raw;            /* exact source bytes of this value */
  union {
    double num;           /* RK__JNUM: nearest double (raw keeps the text) */
    rk__str str;          /* RK__JSTR: unescaped UTF-8 (may contain NUL? no: rejected) */
    struct {
      rk__jval *items;
      size_t n;
    } arr;                /* RK__JARR */
    struct {
      rk__jmember *items; /* in source order; duplicates kept */
      size_t n;
    } obj;                /* RK__JOBJ */
  } u;
};

struct rk__jmember {
  rk__str key;            /* unescaped */
  rk__str raw_key;        /* source bytes including quotes */
  rk__jval val;
};

typedef struct rk__json_limits {
  size_t max_depth;       /* 0 = 512 */
  size_t max_bytes;       /* 0 = no limit beyond size_t */
  int py_constants;       /* also NaN, Infinity, -Infinity as numbers, as
                             Python's json.loads reads them */
} rk__json_limits;

typedef struct rk__json_error {
  size_t offset;          /* byte offset of the problem */
  size_t line, column;    /* 1-based */
  char msg[120];          /* e.g. "invalid escape '\\q' in string" */
} rk__json_error;

/* Parses exactly one JSON value filling p[0..n) (whitespace around it
 * allowed). Returns 0 and *out, or -1 with *err filled (err may be NULL).
 * -2 means the arena ran out of memory. lim may be NULL. */
int rk__json_parse(const char *p, size_t n, rk__arena *a,
                   const rk__json_limits *lim, rk__jval **out,
                   rk__json_error *err);

/* Length (2-4) of the valid UTF-8 sequence starting at s (a byte >= 0x80)
 * within [s, e), or 0: no overlongs, no encoded surrogates, nothing above
 * U+10FFFF, nothing truncated (RFC 3629; Unicode table 3-7). Shared by the
 * reader, which rejects what fails it, and the writer, which replaces it. */
static inline size_t rk__utf8_seq(const unsigned char *s, const unsigned char *e) {
  unsigned char c = s[0];
  size_t avail = (size_t)(e - s);
  if (c < 0xC2) return 0;
  if (c < 0xE0) return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3) return 0;
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4
                                                                                     : 0;
  }
  return 0;
}

/* The value at a dotted path ("meta.size", "items.0.name": object keys,
 * array indexes), or NULL when a step is missing. */
const rk__jval *rk__json_path(const rk__jval *v, const char *path);

/* Last member with this key (last wins, like jansson), or NULL. */
const rk__jval *rk__json_get(const rk__jval *obj, const char *key);
const rk__jval *rk__json_getn(const rk__jval *obj, const char *key, size_t klen);
/* "null", "boolean", "number", "string", "array", "object". */
const char *rk__json_type_name(rk__jtype t);

/* Writers: append to b. Strings are escaped (", \\, control characters as
 * \uXXXX or the short forms); invalid UTF-8 sequences are written as
 * U+FFFD so that the output is always valid JSON. */
int rk__json_put_str(rk__buf *b, const char *s, size_t n);
/* Shortest round-trip number; NaN and infinities as null. */
int rk__json_put_num(rk__buf *b, double v);
/* A value re-serialised compactly (raw text is copied as is). */
int rk__json_put_val(rk__buf *b, const rk__jval *v);

/* Python marshal data (version 4) of an object, as the JSON text json.dumps
 * gives for it (pymarshal.c), appended to out. With take_response, a str
 * member "response" of the top-level dict is left out of the text and
 * returned in *resp (bytes of the input, UTF-8 as Python encoded it,
 * unchecked), *have_resp = 1. Returns 0; -1 when refused (msg says why);
 * -2 when out grew past its maximum or out of memory. */
int rk__pym_json(const char *p, size_t n, rk__buf *out, int take_response, rk__str *resp,
                 int *have_resp, char *msg, size_t msgcap);
/* A string's UTF-8 bytes (encoded surrogates allowed, as Python's
 * surrogatepass writes them) as Python's json.dumps writes the str with
 * ensure_ascii: quoted, \uXXXX escapes in lower case. Returns n, or the
 * offset of the first byte that is not UTF-8 (the output is then cut). */
size_t rk__json_put_pystr(rk__buf *o, const char *s, size_t n);
/* The same for a str's n code units of `kind` bytes each (1: Latin-1,
 * 2: UCS-2, 4: UCS-4), as CPython keeps them; surrogates are written as
 * json writes them (each code point \uXXXX, a pair stays a pair). */
void rk__json_put_pyunits(rk__buf *o, const char *p, size_t n, unsigned kind);
/* Code point cp (not a surrogate) as UTF-8 at o; returns the end. At
 * most 4 bytes, whatever cp: past U+10FFFF they are not UTF-8, which a
 * later check refuses. */
static inline unsigned char *rk__utf8_put(unsigned char *o, uint32_t cp) {
  if (cp < 0x80) {
    *o++ = (unsigned char)cp;
  } else if (cp < 0x800) {
    *o++ = (unsigned char)(0xC0 | cp >> 6);
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (unsigned char)(0xE0 | cp >> 12);
    *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (unsigned char)(0xF0 | cp >> 18);
    *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (unsigned char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* Code unit i of a Python str's units of `kind` bytes (1, 2 or 4). */
static inline uint32_t rk__py_unit(const void *units, size_t i, unsigned kind) {
  const unsigned char *p = (const unsigned char *)units;
  if (kind == 1) return p[i];
  if (kind == 2) {
    uint16_t u;
    memcpy(&u, p + 2 * i, 2);
    return u;
  }
  uint32_t u;
  memcpy(&u, p + 4 * i, 4);
  return u;
}
/* repr(v) of a Python float (NaN and infinities as json writes them:
 * NaN, Infinity, -Infinity) into buf (room for 32); returns its length. */
size_t rk__py_float_repr(char *buf, double v);
/* Writing marshal data (format 4) for Python's marshal.loads, at w (room
 * for n + 5 and 9 bytes); both return the end. A str, interned, written
 * once and referred to after (*ref: its reference number, -1 before it is
 * written; *nref counts the numbers given); a float, NaN as None. */
unsigned char *rk__pym_str(unsigned char *w, long *ref, long *nref, const char *s, size_t n);
unsigned char *rk__pym_num(unsigned char *w, double v);
#endif /* RK_JSON_H */
